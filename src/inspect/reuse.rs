//! Bodies shared by the references of one `inspect` that name the same target.
//!
//! An inspect body depends on the resolved record's target alone: RepoTags, RepoDigests and
//! LastTagTime come from every record with that target, Size and Config from the target's
//! graph. A CRI namespace names each image three times (`repo:tag`, `repo@sha256:…`,
//! `sha256:<id>`), and those names sort far apart, so a small cache of recent bodies misses
//! them. Instead the references are resolved first and counted per target; a body is kept
//! only while references still to come name its target, and dropped at the last one.
//!
//! ```text
//!  references   a:v1   b:v1   a@sha256:…   sha256:<id of a>
//!  targets      Ta     Tb     Ta           Ta                  left: Ta 3, Tb 1
//!  bodies       walk   walk   kept (Ta 1)  kept, dropped (Ta 0)
//! ```
//!
//! Only bodies are kept, never errors (an error names the reference). What dockerd would
//! have logged while making a body is kept with it and logged again for each reference, as
//! each reference's own walk would have.

use crate::containerd::records::StoredTarget;
use foldhash::HashMap;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// A shaped body (or the shaped error a template gave it), as written when no earlier
/// reference changed how it is shaped. The docker CLI's template inspector changes for good
/// once one reference falls back to its raw body (`missingkey=error` from then on), so a
/// template's outcome can depend on the references before it: `after_fallback` is the outcome
/// once that has happened, where it differs, and `falls_back` says that this one does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shaped {
    pub now: Result<String, String>,
    pub after_fallback: Option<Result<String, String>>,
    pub falls_back: bool,
}

impl Shaped {
    /// A body shaped the same whatever came before it.
    pub fn fixed(now: Result<String, String>) -> Self {
        Shaped {
            now,
            after_fallback: None,
            falls_back: false,
        }
    }

    /// The outcome in reference order, given whether an earlier reference fell back; notes
    /// whether this one does.
    pub fn in_order(self, fell_back: &mut bool) -> Result<String, String> {
        let out = match (*fell_back, self.after_fallback) {
            (true, Some(after)) => after,
            _ => self.now,
        };
        *fell_back |= self.falls_back;
        out
    }
}

/// Bytes of shaped bodies kept at once, at least (5,000 references of the 10,000-image store
/// name 2,500 targets twice, 2,500 apart: their bodies, ~2.6 KB each, would take 6.5 MB; with
/// this budget the whole inspect peaks at ~31 MB of anonymous memory), and at most when
/// memory is tight. When a body does not fit, the kept bodies needed furthest ahead make
/// room for it, if it is needed sooner (Belady's rule: the references are all known before
/// the first walk).
pub const KEPT_BYTES: usize = 6 << 20;

/// Bytes kept per image record of the namespace, when memory is not tight: the names of a
/// target lie as far apart as the namespace is large, so a fixed budget would keep ever
/// fewer of the bodies asked for again (20,000 records: inspect of every name took 4.9x the
/// time of 5,000, against 4.0x without reuse). Half a body per record (a target has two
/// names or more) keeps the time linear in the store.
pub const KEPT_PER_RECORD: usize = 1_200;

/// The budget's ceiling, whatever the store.
pub const KEPT_MAX: usize = 64 << 20;

/// The budget for a namespace of `records` image records (see [`KEPT_PER_RECORD`]); the
/// floor, [`KEPT_BYTES`], when memory is `tight`.
pub fn budget(records: usize, tight: bool) -> usize {
    if tight {
        return KEPT_BYTES;
    }
    records.saturating_mul(KEPT_PER_RECORD).clamp(KEPT_BYTES, KEPT_MAX)
}

/// The targets of the references, numbered in the order first named (a slot per distinct
/// target; equal descriptors, annotations included, share one), and what is kept per slot.
#[derive(Default)]
pub struct Reuse {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Per slot, the positions of the references naming it, in reference order.
    uses: Vec<Vec<usize>>,
    /// Per slot, how many of them have been answered.
    answered: Vec<usize>,
    kept: HashMap<usize, (Shaped, Arc<[String]>)>,
    /// The kept slots by the position of their next reference.
    by_next_use: BTreeSet<(usize, usize)>,
    bytes: usize,
    /// Bytes of bodies kept at most ([`budget`]).
    budget: usize,
}

/// What keeping a body costs besides its text: its entries in `kept` and `by_next_use`, the
/// notes' shared slice, the allocations' headers (so that tiny bodies, `--format '{{.Id}}'`,
/// are not kept by the hundred thousand for a budget meant for megabytes).
const ENTRY_BYTES: usize = 128;

fn weight(body: &Shaped) -> usize {
    let text = |r: &Result<String, String>| match r {
        Ok(s) | Err(s) => s.len(),
    };
    let after = body.after_fallback.as_ref().map_or(0, text);
    text(&body.now).saturating_add(after).saturating_add(ENTRY_BYTES)
}

impl Reuse {
    /// Expects the references' slots (from [`Numbering`]), in reference order, and keeps
    /// `budget` bytes of bodies at most.
    pub fn expecting(slots: impl IntoIterator<Item = Option<usize>>, budget: usize) -> Reuse {
        let mut inner = Inner {
            budget,
            ..Inner::default()
        };
        for (position, slot) in slots.into_iter().enumerate() {
            let Some(slot) = slot else { continue };
            if inner.uses.len() <= slot {
                inner.uses.resize_with(slot + 1, Vec::new);
                inner.answered.resize(slot + 1, 0);
            }
            if let Some(u) = inner.uses.get_mut(slot) {
                u.push(position);
            }
        }
        Reuse {
            inner: Mutex::new(inner),
        }
    }

    /// The body kept for `slot`, counted as one reference answered.
    pub fn take(&self, slot: usize) -> Option<(Shaped, Arc<[String]>)> {
        let mut inner = self.inner.lock().ok()?;
        let hit = inner.kept.get(&slot).cloned()?;
        inner.answer(slot);
        Some(hit)
    }

    /// A body just made for `slot`, counted as one reference answered; kept when more
    /// references to come name its target and it fits (see [`budget`]).
    pub fn offer(&self, slot: usize, body: &Shaped, notes: &[String]) {
        let Ok(mut inner) = self.inner.lock() else { return };
        inner.answer(slot);
        let Some(next) = inner.next_use(slot) else { return };
        if inner.kept.contains_key(&slot) {
            // Made twice at once (two workers): one is kept.
            return;
        }
        let w = weight(body);
        if !inner.room_for(w, next) {
            return;
        }
        while inner.bytes.saturating_add(w) > inner.budget {
            // The kept body needed last goes (room_for saw that it is needed after this one).
            let Some((_, other)) = inner.by_next_use.pop_last() else {
                return;
            };
            inner.drop_body(other);
        }
        inner.bytes += w;
        inner.kept.insert(slot, (body.clone(), notes.into()));
        inner.by_next_use.insert((next, slot));
    }
}

impl Inner {
    /// Counts one reference to `slot` answered; a kept body moves on to its next use, or
    /// goes with its last.
    fn answer(&mut self, slot: usize) {
        let before = self.next_use(slot);
        if let Some(n) = self.answered.get_mut(slot) {
            *n += 1;
        }
        if !self.kept.contains_key(&slot) {
            return;
        }
        if let Some(before) = before {
            self.by_next_use.remove(&(before, slot));
        }
        match self.next_use(slot) {
            Some(next) => {
                self.by_next_use.insert((next, slot));
            }
            None => self.drop_body(slot),
        }
    }

    /// Whether a body of `w` bytes, next needed at `next`, can be kept: it fits beside the
    /// kept bodies, or dropping those needed after `next` makes room. Nothing is dropped
    /// unless the body will then be kept.
    fn room_for(&self, w: usize, next: usize) -> bool {
        if w > self.budget {
            return false;
        }
        let mut bytes = self.bytes;
        let mut later = self.by_next_use.iter().rev();
        while bytes.saturating_add(w) > self.budget {
            match later.next() {
                Some(&(use_at, other)) if use_at > next => {
                    let freed = self.kept.get(&other).map_or(0, |(b, _)| weight(b));
                    bytes = bytes.saturating_sub(freed);
                }
                _ => return false,
            }
        }
        true
    }

    /// The position of the next reference to `slot` not yet answered.
    fn next_use(&self, slot: usize) -> Option<usize> {
        let done = *self.answered.get(slot)?;
        self.uses.get(slot)?.get(done).copied()
    }

    fn drop_body(&mut self, slot: usize) {
        if let Some((body, _)) = self.kept.remove(&slot) {
            self.bytes = self.bytes.saturating_sub(weight(&body));
        }
    }
}

/// Numbers each distinct target in the order first met (equal descriptors, annotations
/// included, share a slot).
#[derive(Default)]
pub struct Numbering {
    seen: HashMap<StoredTarget, usize>,
}

impl Numbering {
    /// `target`'s slot, and whether this is the first time it is met.
    pub fn slot(&mut self, target: &StoredTarget) -> (usize, bool) {
        if let Some(&slot) = self.seen.get(target) {
            return (slot, false);
        }
        let slot = self.seen.len();
        self.seen.insert(target.clone(), slot);
        (slot, true)
    }
}

#[cfg(test)]
mod tests {
    use super::{ENTRY_BYTES, KEPT_BYTES, KEPT_MAX, Numbering, Reuse, Shaped, budget};
    use crate::containerd::records::StoredTarget;
    use std::collections::BTreeMap;

    fn target(digest: &str) -> StoredTarget {
        StoredTarget {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: digest.into(),
            size: 10,
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn a_body_is_kept_until_its_last_reference() {
        // Slots: a = 0, b = 1; references a, b, a, a.
        let reuse = Reuse::expecting([Some(0), Some(1), Some(0), Some(0)], KEPT_BYTES);
        assert!(reuse.take(0).is_none());
        reuse.offer(0, &Shaped::fixed(Ok("body a".into())), &["note".into()]);
        // b has no other reference: nothing is kept for it.
        reuse.offer(1, &Shaped::fixed(Ok("body b".into())), &[]);
        assert!(reuse.take(1).is_none());
        let (body, notes) = reuse.take(0).expect("kept for the second reference");
        assert_eq!(body, Shaped::fixed(Ok("body a".to_string())));
        assert_eq!(&notes[..], &["note".to_string()]);
        assert!(reuse.take(0).is_some(), "kept for the third");
        assert!(reuse.take(0).is_none(), "dropped after the last");
        assert_eq!(reuse.inner.lock().map(|i| i.bytes).ok(), Some(0));
    }

    #[test]
    fn targets_differing_only_in_annotations_get_their_own_slots() {
        let a = target("sha256:aa");
        let mut a2 = a.clone();
        a2.annotations.insert("k".into(), "v".into());
        let b = target("sha256:bb");
        let mut numbering = Numbering::default();
        let got: Vec<_> = [&a, &a2, &a, &b, &a2].into_iter().map(|t| numbering.slot(t)).collect();
        assert_eq!(got, vec![(0, true), (1, true), (0, false), (2, true), (1, false)]);
    }

    #[test]
    fn bodies_past_the_budget_are_not_kept() {
        let reuse = Reuse::expecting([Some(0), Some(0)], KEPT_BYTES);
        reuse.offer(0, &Shaped::fixed(Ok("x".repeat(KEPT_BYTES + 1))), &[]);
        assert!(reuse.take(0).is_none());
    }

    /// A full budget keeps the bodies needed soonest: a body needed sooner than a kept one
    /// takes its room, one needed later does not.
    #[test]
    fn the_body_needed_furthest_ahead_makes_room() {
        let half = "x".repeat(KEPT_BYTES / 2 - ENTRY_BYTES);
        // Positions: 0 a, 1 b, 2 c, 3 d, 4 c, 5 b, 6 a, 7 d.
        let slots = [0, 1, 2, 3, 2, 1, 0, 3].map(Some);
        let reuse = Reuse::expecting(slots, KEPT_BYTES);
        reuse.offer(0, &Shaped::fixed(Ok(half.clone())), &[]); // a, needed at 6
        reuse.offer(1, &Shaped::fixed(Ok(half.clone())), &[]); // b, needed at 5: the budget is full
        reuse.offer(2, &Shaped::fixed(Ok(half.clone())), &[]); // c, needed at 4: a (6) makes room
        reuse.offer(3, &Shaped::fixed(Ok(half.clone())), &[]); // d, needed at 7: kept ones are sooner
        assert!(reuse.take(2).is_some(), "c");
        assert!(reuse.take(1).is_some(), "b");
        assert!(reuse.take(0).is_none(), "a made room");
        assert!(reuse.take(3).is_none(), "d was not kept");
    }

    /// A body that dropping the later ones would still not make room for drops nothing.
    #[test]
    fn nothing_is_dropped_for_a_body_that_would_not_fit() {
        let third = "x".repeat(KEPT_BYTES / 3 - ENTRY_BYTES);
        // Positions: 0 a, 1 b, 2 c, 3 d, 4 b, 5 c, 6 d, 7 a.
        let slots = [0, 1, 2, 3, 1, 2, 3, 0].map(Some);
        let reuse = Reuse::expecting(slots, KEPT_BYTES);
        reuse.offer(0, &Shaped::fixed(Ok(third.clone())), &[]); // a, needed at 7
        reuse.offer(1, &Shaped::fixed(Ok(third.clone())), &[]); // b, needed at 4
        reuse.offer(2, &Shaped::fixed(Ok(third.clone())), &[]); // c, needed at 5: the budget is full
        // d, needed at 6: only a is needed later, and dropping it would not make room.
        reuse.offer(3, &Shaped::fixed(Ok("x".repeat(KEPT_BYTES / 2))), &[]);
        assert!(reuse.take(1).is_some(), "b");
        assert!(reuse.take(2).is_some(), "c");
        assert!(reuse.take(3).is_none(), "d was not kept");
        assert!(reuse.take(0).is_some(), "a was not dropped for nothing");
        // A body bigger than the whole budget drops nothing either.
        let reuse = Reuse::expecting([Some(0), Some(1), Some(1), Some(0)], KEPT_BYTES);
        reuse.offer(0, &Shaped::fixed(Ok(third)), &[]); // a, needed at 3
        reuse.offer(1, &Shaped::fixed(Ok("x".repeat(KEPT_BYTES + 1))), &[]); // b, needed at 2, sooner
        assert!(reuse.take(1).is_none(), "b was not kept");
        assert!(reuse.take(0).is_some(), "a stays");
    }

    #[test]
    fn the_budget_grows_with_the_namespace_unless_memory_is_tight() {
        assert_eq!(budget(10, false), KEPT_BYTES);
        assert_eq!(budget(5_000, false), KEPT_BYTES);
        assert_eq!(budget(20_000, false), 24_000_000);
        assert_eq!(budget(20_000, true), KEPT_BYTES);
        assert_eq!(budget(usize::MAX, false), KEPT_MAX);
    }

    /// Each kept body costs its entries too: a budget of three one-byte bodies keeps three.
    #[test]
    fn tiny_bodies_count_their_entries() {
        // Positions: 0 a, 1 b, 2 c, 3 d, 4 a, 5 b, 6 c, 7 d.
        let slots = [0, 1, 2, 3, 0, 1, 2, 3].map(Some);
        let reuse = Reuse::expecting(slots, 3 * (ENTRY_BYTES + 1));
        for slot in 0..4 {
            reuse.offer(slot, &Shaped::fixed(Ok("x".into())), &[]);
        }
        assert!(reuse.take(0).is_some());
        assert!(reuse.take(1).is_some());
        assert!(reuse.take(2).is_some());
        assert!(reuse.take(3).is_none(), "the fourth did not fit");
    }
}
