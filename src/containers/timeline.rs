//! `coldctr timeline`: every time the node recorded, one event each, sorted.
//!
//! ```text
//! meta.db v1/<ns>/images/<name>/{createdat,updatedat}          image created / updated
//!                /content/blob/<digest>/{createdat,updatedat}   content created / updated
//!                /content/ingests/<ref>/expireat                 ingest expires
//!                /leases/<id>/createdat, labels/containerd.io/gc.expire   lease created / expires
//!                /containers/<id>/{createdat,updatedat}          container record created / updated
//!                /snapshots/<sn>/<key>/{createdat,updatedat}     snapshot created / updated
//! <docker-root>/containers/<id>/config.v2.json  Created, State.StartedAt, State.FinishedAt
//! <root>/io.containerd.grpc.v1.cri/containers/<id>/status  CreatedAt, StartedAt, FinishedAt
//! ```
//!
//! An `updated` equal to its `created` is not repeated. Each event carries the fields
//! Timesketch imports (`message`, `datetime` in ISO 8601, `timestamp_desc`) and ours (`source`
//! file, `artifact`, `namespace`, `id`).

use super::{Entry, Inventory, Source};
use crate::bolt::Tx;
use crate::containerd::gotime::{GoTime, parse_rfc3339};
use crate::containerd::records::{self, Damage};
use crate::containerd::root::Root;
use serde::Serialize;

/// One recorded time.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// Human text: what happened to what.
    pub message: String,
    /// ISO 8601 in UTC with nanoseconds (`2026-11-29T18:52:00.898188999Z`).
    pub datetime: String,
    /// What the time is (`Container Started`, `Image Created`...).
    pub timestamp_desc: String,
    /// The file the time was read from.
    pub source: String,
    /// The kind of record: image, content, ingest, lease, snapshot, containerd container,
    /// docker container, cri container, cri sandbox.
    pub artifact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The record: image name, digest, lease, snapshot key or container ID.
    pub id: String,
    /// A container's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Nanoseconds since the Unix epoch, for sorting.
    #[serde(skip)]
    pub nanos: i128,
}

/// The events of meta.db other than containers (those come with the entries).
#[derive(Debug, Default)]
pub struct ContainerdTimes {
    pub events: Vec<Event>,
    /// The times that could not be placed (see [`Builder::push`]).
    pub unplaced: Vec<Unplaced>,
    /// meta.db's times that are Go's zero time (see [`Builder::push`]).
    pub zero_times: usize,
}

/// A recorded time that has no event, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unplaced {
    pub why: String,
    /// The file is damaged (or hostile): no writer of the schema leaves such a time.
    pub damage: bool,
}

struct Builder<'a> {
    source: &'a str,
    out: &'a mut Vec<Event>,
    /// What could not be placed, one line each: said, never dropped in silence.
    unplaced: &'a mut Vec<Unplaced>,
    /// Where Go's zero times are counted, for a source where none should be (meta.db's
    /// records); `None` where they mean "not yet" (Docker's and the CRI's `FinishedAt`).
    zero: Option<&'a mut usize>,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        time: Option<&str>,
        desc: &str,
        artifact: &str,
        namespace: Option<&str>,
        id: &str,
        name: Option<&str>,
    ) {
        let Some(t) = time else { return };
        let Some(g) = parse_rfc3339(t) else {
            // A year past 9999 or an offset Go's parser refuses (only a hostile or damaged
            // file holds one: containerd writes UTC): the event has no place in the order.
            let ns = namespace.map(|n| format!(" in namespace {n}")).unwrap_or_default();
            self.unplaced.push(Unplaced {
                why: format!(
                    "{}: {artifact} {id}{ns}: {desc} time \"{}\" is not one Go's RFC 3339 parser reads; left out of the timeline",
                    self.source,
                    // Escaped as every message escapes data (not Rust's `{:?}`, another style).
                    crate::text::escape(t.as_bytes())
                ),
                damage: true,
            });
            return;
        };
        if g.unix == -62_135_596_800 && g.nanos == 0 {
            // Go's zero time (`IsZero`, 0001-01-01T00:00:00Z exactly): never happened. A time
            // before it is a time, placed first. Counted where it is odd (a meta.db record
            // that says it was never created), so that its absence is said (sweep 42, M4).
            if let Some(zero) = self.zero.as_deref_mut() {
                *zero += 1;
            }
            return;
        }
        // Written with an offset, a time of year 9999 or 0 can fall in year 10000 or -1 once
        // in UTC: no RFC 3339 text then, so no place in the order either.
        if !g.in_text_range() {
            let ns = namespace.map(|n| format!(" in namespace {n}")).unwrap_or_default();
            self.unplaced.push(Unplaced {
                why: format!(
                    "{}: {artifact} {id}{ns}: {desc} time \"{}\" falls outside the years 0 to 9999 in UTC; left out of the timeline",
                    self.source,
                    crate::text::escape(t.as_bytes())
                ),
                damage: true,
            });
            return;
        }
        let utc = GoTime { offset: 0, ..g };
        let subject = match name {
            Some(n) if !n.is_empty() && n != id => format!("{artifact} {n} ({id})"),
            _ => format!("{artifact} {id}"),
        };
        let ns = namespace.map(|n| format!(" in namespace {n}")).unwrap_or_default();
        self.out.push(Event {
            message: format!("{desc}: {subject}{ns}"),
            datetime: utc.rfc3339_nano(),
            timestamp_desc: desc.to_string(),
            source: self.source.to_string(),
            artifact: artifact.to_string(),
            namespace: namespace.map(str::to_string),
            id: id.to_string(),
            name: name.filter(|n| !n.is_empty()).map(str::to_string),
            nanos: g.unix_nanos(),
        });
    }

    /// A lease's `containerd.io/gc.expire` label. containerd's collector reads it with Go's
    /// `time.Parse(time.RFC3339)` and ignores one that does not parse (the lease never
    /// expires), and `ctr leases create` writes any text there: no event then, and that is
    /// said, but it is no damage (sweep 42, M2).
    fn expiry(&mut self, label: Option<&str>, ns: &str, id: &str) {
        if let Some(t) = label
            && parse_rfc3339(t).is_none()
        {
            self.unplaced.push(Unplaced {
                why: format!(
                    "{}: lease {id} in namespace {ns}: its containerd.io/gc.expire label \"{}\" is no RFC 3339 time, which containerd's collector ignores (the lease never expires): no Lease Expires event",
                    self.source,
                    crate::text::escape(t.as_bytes())
                ),
                damage: false,
            });
            return;
        }
        self.push(label, "Lease Expires", "lease", Some(ns), id, None);
    }

    /// created, then updated when it differs.
    fn pair(&mut self, created: Option<&str>, updated: Option<&str>, what: &str, artifact: &str, ns: &str, id: &str) {
        self.push(created, &format!("{what} Created"), artifact, Some(ns), id, None);
        if updated != created {
            self.push(updated, &format!("{what} Updated"), artifact, Some(ns), id, None);
        }
    }
}

impl ContainerdTimes {
    pub fn read(root: &Root, tx: &Tx<'_>, damage: &mut Damage) -> ContainerdTimes {
        let (mut events, mut unplaced, mut zero_times) = (Vec::new(), Vec::new(), 0);
        let source = root.meta.path().display().to_string();
        let mut b = Builder {
            source: &source,
            out: &mut events,
            unplaced: &mut unplaced,
            zero: Some(&mut zero_times),
        };
        for (ns, bucket) in records::namespace_buckets(tx, damage) {
            for i in records::images_in(&ns, &bucket, damage) {
                b.pair(
                    i.created_at.as_deref(),
                    i.updated_at.as_deref(),
                    "Image",
                    "image",
                    &ns,
                    &i.name,
                );
            }
            for c in records::content_in(&ns, &bucket, damage) {
                b.pair(
                    c.created_at.as_deref(),
                    c.updated_at.as_deref(),
                    "Content",
                    "content",
                    &ns,
                    &c.digest,
                );
            }
            for i in records::ingests_in(&ns, &bucket, damage) {
                b.push(
                    i.expire_at.as_deref(),
                    "Ingest Expires",
                    "ingest",
                    Some(&ns),
                    &i.reference,
                    None,
                );
            }
            for l in records::leases_in(&ns, &bucket, damage) {
                b.push(
                    l.created_at.as_deref(),
                    "Lease Created",
                    "lease",
                    Some(&ns),
                    &l.id,
                    None,
                );
                b.expiry(l.labels.get("containerd.io/gc.expire").map(String::as_str), &ns, &l.id);
            }
            for s in records::snapshots_in(&ns, &bucket, damage) {
                let id = format!("{}/{}", s.snapshotter, s.key);
                b.pair(
                    s.created_at.as_deref(),
                    s.updated_at.as_deref(),
                    "Snapshot",
                    "snapshot",
                    &ns,
                    &id,
                );
            }
        }
        ContainerdTimes {
            events,
            unplaced,
            zero_times,
        }
    }
}

fn entry_events(e: &Entry, meta_db: &str, out: &mut Vec<Event>, unplaced: &mut Vec<Unplaced>, zero: &mut usize) {
    let ns = e.namespace.as_deref();
    if let Some(d) = &e.docker {
        let file = d.dir.join("config.v2.json").display().to_string();
        let mut b = Builder {
            source: &file,
            out,
            unplaced,
            zero: None,
        };
        let name = Some(e.name.as_str());
        b.push(
            // A config.v2.json without `Created` is dockerd's zero time: never happened.
            Some(e.created.as_str()).filter(|t| !super::is_zero_time(t)),
            "Container Created",
            "docker container",
            ns,
            &e.id,
            name,
        );
        b.push(
            e.started_at.as_deref(),
            "Container Started",
            "docker container",
            ns,
            &e.id,
            name,
        );
        b.push(
            e.finished_at.as_deref(),
            "Container Finished",
            "docker container",
            ns,
            &e.id,
            name,
        );
    }
    if let Some(r) = &e.record {
        let artifact = match (e.source, e.cri.as_ref()) {
            (Source::Cri, Some(c)) if c.kind == "sandbox" => "cri sandbox",
            (Source::Cri, _) => "cri container",
            _ => "containerd container",
        };
        let mut b = Builder {
            source: meta_db,
            out,
            unplaced,
            zero: Some(zero),
        };
        let name = Some(e.name.as_str());
        b.push(
            r.created_at.as_deref(),
            "Container Record Created",
            artifact,
            ns,
            &e.id,
            name,
        );
        if r.updated_at != r.created_at {
            b.push(
                r.updated_at.as_deref(),
                "Container Record Updated",
                artifact,
                ns,
                &e.id,
                name,
            );
        }
    }
    if let Some(c) = &e.cri
        && c.status.is_some()
    {
        let [created, started, finished] = c.times();
        let file = c
            .status_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut b = Builder {
            source: &file,
            out,
            unplaced,
            zero: None,
        };
        let name = Some(e.name.as_str());
        b.push(
            created.as_deref(),
            "Container Created",
            "cri container",
            ns,
            &e.id,
            name,
        );
        b.push(
            started.as_deref(),
            "Container Started",
            "cri container",
            ns,
            &e.id,
            name,
        );
        b.push(
            finished.as_deref(),
            "Container Finished",
            "cri container",
            ns,
            &e.id,
            name,
        );
    }
}

/// Every event of the inventory, oldest first (ties in a fixed order), and the times that
/// could not be placed.
pub fn events(inv: &Inventory, meta_db: &str) -> (Vec<Event>, Vec<Unplaced>) {
    let mut out: Vec<Event> = inv.containerd.as_ref().map(|c| c.events.clone()).unwrap_or_default();
    let mut unplaced: Vec<Unplaced> = inv.containerd.as_ref().map(|c| c.unplaced.clone()).unwrap_or_default();
    let mut zero = inv.containerd.as_ref().map_or(0, |c| c.zero_times);
    for e in &inv.entries {
        entry_events(e, meta_db, &mut out, &mut unplaced, &mut zero);
    }
    // Said once, not a line a record: containerd writes no zero time, but neither does it
    // read one as damage (listings print it as it is).
    if zero > 0 {
        unplaced.push(Unplaced {
            why: format!(
                "{meta_db}: {zero} record time(s) are Go's zero time (0001-01-01T00:00:00Z: none recorded); left out of the timeline (`images`, `leases`, `containers`... list them)"
            ),
            damage: false,
        });
    }
    out.sort_by(|a, b| {
        a.nanos
            .cmp(&b.nanos)
            .then_with(|| a.artifact.cmp(&b.artifact))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.timestamp_desc.cmp(&b.timestamp_desc))
    });
    (out, unplaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder<'a>(
        out: &'a mut Vec<Event>,
        unplaced: &'a mut Vec<Unplaced>,
        zero: Option<&'a mut usize>,
    ) -> Builder<'a> {
        Builder {
            source: "meta.db",
            out,
            unplaced,
            zero,
        }
    }

    /// Go's zero time is no event; where none should be (meta.db's records) it is counted, so
    /// that its absence is said (sweep 42, M4); where it means "not yet" it is not.
    #[test]
    fn zero_times_are_counted_where_they_are_odd() {
        let (mut out, mut unplaced, mut zero) = (Vec::new(), Vec::new(), 0);
        let zero_time = Some("0001-01-01T00:00:00Z");
        builder(&mut out, &mut unplaced, Some(&mut zero)).push(
            zero_time,
            "Image Created",
            "image",
            Some("ns"),
            "i",
            None,
        );
        builder(&mut out, &mut unplaced, None).push(
            zero_time,
            "Container Finished",
            "docker container",
            None,
            "c",
            None,
        );
        assert_eq!((out.len(), unplaced.len(), zero), (0, 0, 1));
        // A time before the zero time is a time.
        builder(&mut out, &mut unplaced, Some(&mut zero)).push(
            Some("0000-12-31T23:59:59Z"),
            "Image Created",
            "image",
            Some("ns"),
            "i",
            None,
        );
        assert_eq!((out.len(), zero), (1, 1));
    }

    /// An expiry containerd's collector ignores is said, not damage; one it reads is an event.
    #[test]
    fn an_unparsable_expiry_is_said_and_no_damage() {
        let (mut out, mut unplaced) = (Vec::new(), Vec::new());
        let mut b = builder(&mut out, &mut unplaced, None);
        b.expiry(Some("not\x1ba time"), "default", "l1");
        b.expiry(Some("2026-12-05T10:00:00+01:00"), "default", "l2");
        b.expiry(None, "default", "l3");
        assert_eq!(out.len(), 1);
        assert_eq!(
            out.first().map(|e| (e.id.as_str(), e.datetime.as_str())),
            Some(("l2", "2026-12-05T09:00:00Z"))
        );
        assert_eq!(unplaced.len(), 1);
        let u = unplaced.first().unwrap();
        assert!(!u.damage);
        assert!(
            u.why
                .contains(r#"lease l1 in namespace default: its containerd.io/gc.expire label "not\x1ba time""#),
            "{}",
            u.why
        );
        // A created time Go cannot read is damage.
        builder(&mut out, &mut unplaced, None).push(
            Some("yesterday"),
            "Lease Created",
            "lease",
            Some("default"),
            "l4",
            None,
        );
        assert!(unplaced.last().is_some_and(|u| u.damage));
    }
}
