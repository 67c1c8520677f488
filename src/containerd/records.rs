//! containerd's metadata records, read from `meta.db` and the snapshotters' `metadata.db`.
//!
//! ```text
//! v1/<namespace>/labels/<k> = <v>
//!               /images/<name>/{createdat,updatedat,target/{digest,mediatype,size},labels/,annotations/}
//!               /content/blob/<digest>/{createdat,updatedat,size,labels/}
//!               /content/ingests/<ref>/{ref,expireat,expected}
//!               /leases/<id>/{createdat,labels/,content/,ingests/,snapshots/<sn>/,images/}
//!               /containers/<id>/{createdat,updatedat,image,snapshotter,snapshotKey,sandboxid,
//!                                 spec,runtime/{name,options},extensions/,labels/}
//!               /snapshots/<snapshotter>/<key>/{name,parent,createdat,updatedat,children/,labels/}
//! snapshotter metadata.db: v1/snapshots/<backend key>/{id,kind,parent,createdat,updatedat,
//!                                                     labels/,size,inodes}
//! ```
//!
//! Key names are containerd's constants (`core/metadata/buckets.go`,
//! `core/snapshots/storage/bolt.go`). Every reader here keeps going after damage: a record
//! that cannot be read is reported in [`Damage`] and the others are still returned.

use super::encoding::{any, uvarint_exact, varint, varint_exact};
use super::gotime::GoTime;
use super::schema::snapshot_kind;
use crate::bolt::page::LeafElement;
use crate::bolt::{BoltError, Bucket, Entry, Item, Tx};
use foldhash::HashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Problems met while reading records; the records that could be read are still returned.
pub use crate::damage::Damage;

/// Text from the DB. containerd writes Go strings, which are UTF-8 in practice; anything else
/// is kept with replacement characters (and reported by `bolt dump` in hex).
pub fn string(b: &[u8]) -> String {
    // `from_utf8` checks eight bytes at a time where `from_utf8_lossy` walks chunk by chunk;
    // nearly every value is valid (a tenth of a `content` listing went to the lossy walk).
    match std::str::from_utf8(b) {
        Ok(s) => crate::short_copy::string(s),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A record's name (a bucket or label key: namespace, image name, digest, ID) as text, without
/// ever merging two names: a UTF-8 name with no backslash is itself; any other name is written
/// with its backslashes doubled and each byte that is not UTF-8 as `\xNN`. The two forms
/// cannot meet (only the second holds a backslash), and [`key_bytes`] gives the bytes back to
/// look the record up again. Values keep [`string`]'s lossy reading.
pub fn key_name(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if memchr::memchr(b'\\', b).is_none() => crate::short_copy::string(s),
        _ => {
            let mut out = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if c == '\\' {
                        out.push_str("\\\\");
                    } else {
                        out.push(c);
                    }
                }
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            out
        }
    }
}

/// The bytes of a record named `n` ([`key_name`]'s inverse; a name as a user types it, with no
/// backslash, is its own bytes).
pub fn key_bytes(n: &str) -> std::borrow::Cow<'_, [u8]> {
    if !n.contains('\\') {
        return std::borrow::Cow::Borrowed(n.as_bytes());
    }
    let mut out = Vec::with_capacity(n.len());
    let mut rest = n.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        if first != b'\\' {
            out.push(first);
            continue;
        }
        match rest {
            [b'\\', tail @ ..] => {
                out.push(b'\\');
                rest = tail;
            }
            [b'x', hi, lo, tail @ ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                let hex = [*hi, *lo];
                match std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => out.push(byte),
                    None => out.extend_from_slice(&hex),
                }
                rest = tail;
            }
            // The escapes a table adds to a name's control characters (`text::one_line`), so
            // that a printed name selects its record again; `key_name` itself never writes
            // them (its only escapes are `\\` and `\xNN`), so no name is read two ways.
            [c @ (b'n' | b't' | b'r'), tail @ ..] => {
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    _ => b'\r',
                });
                rest = tail;
            }
            [b'u', b'{', tail @ ..] => match unicode_escape(tail) {
                Some((c, tail)) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    rest = tail;
                }
                None => out.push(b'\\'),
            },
            // Not a form `name` writes: taken literally.
            _ => out.push(b'\\'),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The record name, as [`key_name`] writes it, that a name given on the command line (`-n`, a
/// container ID or name, a snapshot key) selects: the one resolver every command compares a
/// given name through, so that each escaped form coldctr prints (`\xNN`, `\\`, and a table's
/// `\x1b`, `\t`, `\u{202e}`) selects the record it was printed from wherever a name is taken
/// (sweep 42: `containers -n` took them, `container inspect -n` did not). A name with no
/// backslash is itself.
pub fn selected_name(given: &str) -> std::borrow::Cow<'_, str> {
    if !given.contains('\\') {
        return std::borrow::Cow::Borrowed(given);
    }
    std::borrow::Cow::Owned(key_name(&key_bytes(given)))
}

/// A name given on the command line as a message says it: the record name it selects
/// ([`selected_name`]) with its control characters escaped once, as a table prints it (the
/// given form escaped again doubled its backslashes: `ctr-esc\\x1b`).
pub fn given_shown(given: &str) -> String {
    crate::text::named(&selected_name(given))
}

/// `NNNN}rest` (after a `\u{`): the character and what follows the `}`.
fn unicode_escape(b: &[u8]) -> Option<(char, &[u8])> {
    let end = b.iter().take(7).position(|&c| c == b'}')?;
    let hex = std::str::from_utf8(b.get(..end)?).ok()?;
    if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((c, b.get(end + 1..)?))
}

/// A containerd time value, printed as Go's RFC 3339 with nanoseconds.
pub fn time(b: &Bucket<'_>, key: &[u8]) -> Result<Option<String>, BoltError> {
    Ok(b.get(key)?
        .and_then(|v| GoTime::decode(v).ok())
        .map(|t| t.record_text()))
}

fn text<'a>(b: &impl Fields<'a>, key: &[u8]) -> Result<Option<String>, BoltError> {
    Ok(b.get(key)?.map(string))
}

/// A value that names another record (a snapshot's parent or backend name, a container's
/// snapshot key): read as record keys are ([`key_name`]), so that it meets the key it names
/// whatever bytes both hold (containerd compares the bytes; a lossy reading of one side and an
/// escaped one of the other never met for a backslash or a byte that is not UTF-8).
fn name_in<'a>(b: &impl Fields<'a>, key: &[u8], damage: &mut Damage) -> Option<String> {
    noted(b.get(key), damage).map(key_name)
}

/// The value of a lookup, with a read error recorded as damage instead of returned.
fn noted<T>(r: Result<Option<T>, BoltError>, damage: &mut Damage) -> Option<T> {
    r.unwrap_or_else(|e| {
        damage.push(e);
        None
    })
}

/// A string value; a read error is recorded as damage.
fn text_in<'a>(b: &impl Fields<'a>, key: &[u8], damage: &mut Damage) -> Option<String> {
    noted(text(b, key), damage)
}

/// Where a record's values and nested buckets are read from: its bucket, searched from its
/// root for each key, or a [`Record`] that found the keys it was made for in one pass.
pub trait Fields<'a> {
    /// What [`Bucket::get`] gives for `key`.
    fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError>;
    /// What [`Bucket::bucket`] gives for `key`.
    fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'a>>, BoltError>;
}

impl<'a> Fields<'a> for Bucket<'a> {
    fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError> {
        Bucket::get(self, key)
    }
    fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'a>>, BoltError> {
        Bucket::bucket(self, key)
    }
}

/// A record's bucket with the `N` keys it is read for found in one pass over its one small
/// leaf ([`Bucket::small_leaf`]); any other key, and every key of a record whose bucket is
/// not such a leaf, is searched for as before. Read through [`Fields`], both give the same
/// values and the same damage in the same order.
pub struct Record<'b, 'a, const N: usize> {
    bucket: &'b Bucket<'a>,
    keys: [&'static [u8]; N],
    found: Option<[Option<LeafElement<'a>>; N]>,
}

impl<'b, 'a, const N: usize> Record<'b, 'a, N> {
    /// `keys` must be the ones the record's readers ask for (a key not among them is still
    /// found, by a search).
    pub fn new(bucket: &'b Bucket<'a>, keys: [&'static [u8]; N]) -> Self {
        Record {
            bucket,
            keys,
            found: bucket.small_leaf(keys),
        }
    }

    /// What the one pass found for `key`; `None` when it did not look.
    fn found(&self, key: &[u8]) -> Option<Option<LeafElement<'a>>> {
        let at = self.keys.iter().position(|k| *k == key)?;
        self.found.as_ref()?.get(at).copied()
    }
}

impl<'a, const N: usize> Fields<'a> for Record<'_, 'a, N> {
    fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError> {
        match self.found(key) {
            Some(e) => Ok(e.filter(|e| !e.is_bucket()).map(|e| e.value)),
            None => self.bucket.get(key),
        }
    }
    fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'a>>, BoltError> {
        match self.found(key) {
            Some(Some(e)) if e.is_bucket() => match self.bucket.entry_of(e)? {
                Entry::Bucket(b) => Ok(Some(b)),
                Entry::Value(_) => Ok(None),
            },
            Some(_) => Ok(None),
            None => self.bucket.bucket(key),
        }
    }
}

/// A time value; a read error or a value that is not a Go binary time is recorded as damage
/// (`what` names the record).
fn time_in<'a>(b: &impl Fields<'a>, key: &[u8], what: &dyn std::fmt::Display, damage: &mut Damage) -> Option<String> {
    let v = noted(b.get(key), damage)?;
    match GoTime::decode(v) {
        Ok(t) => {
            let text = t.record_text();
            if !t.in_text_range() {
                // Kept as read (evidence), and said: ctr cannot print such a record
                // (`Time.MarshalJSON: year outside of range [0,9999]`).
                damage.push(format!(
                    "{what}: {}: {text} is outside the years 0 to 9999 (UTC), which ctr cannot print",
                    string(key)
                ));
            }
            Some(text)
        }
        Err(e) => {
            damage.push(format!("{what}: {}: {e}", string(key)));
            None
        }
    }
}

/// A zig-zag varint value (sizes); a read error or a bad varint is recorded as damage.
fn varint_in<'a>(b: &impl Fields<'a>, key: &[u8], what: &dyn std::fmt::Display, damage: &mut Damage) -> Option<i64> {
    let v = noted(b.get(key), damage)?;
    let n = varint_exact(v);
    if n.is_none() {
        damage.push(format!("{what}: {}: not a varint ({} bytes)", string(key), v.len()));
    }
    n
}

/// The nested bucket `name`; a read error is recorded as damage.
fn bucket_in<'a>(b: &impl Fields<'a>, name: &[u8], damage: &mut Damage) -> Option<Bucket<'a>> {
    noted(b.bucket(name), damage)
}

/// A `labels`-style bucket: key -> value, both strings, in key order.
pub fn labels<'a>(b: &impl Fields<'a>, name: &[u8], damage: &mut Damage) -> BTreeMap<String, String> {
    let bucket = match b.bucket(name) {
        Ok(Some(l)) => l,
        Ok(None) => return BTreeMap::new(),
        Err(e) => {
            damage.push(e);
            return BTreeMap::new();
        }
    };
    let mut pairs = Vec::new();
    for item in bucket.cursor() {
        match item {
            Ok(i) if !i.is_bucket => pairs.push((key_name(i.key), string(i.value))),
            Ok(_) => {}
            Err(e) => damage.push(e),
        }
    }
    map_of(pairs)
}

/// A map of `pairs` as inserting them in order makes it (a key met twice keeps its last
/// value), for pairs that come in the map's order, as a bucket's keys do.
///
/// Built at once (a stable sort, which finds them sorted, then a bulk build that keeps the
/// last of equal keys), not inserted one by one: inserting in order compares each key with
/// every key before it in the node (label keys share long prefixes,
/// `containerd.io/gc.ref.content.`; with musl's byte-wise `memcmp` that was a tenth of
/// `content`), and inserting last key first shifts the node's keys at each insert (musl's
/// backward `memmove` is slower still).
fn map_of(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    BTreeMap::from_iter(pairs)
}

/// The keys of a bucket (values ignored), in order.
fn keys(b: &Bucket<'_>, name: &[u8], damage: &mut Damage) -> Vec<String> {
    let mut out = Vec::new();
    match b.bucket(name) {
        Ok(Some(bucket)) => {
            for item in bucket.cursor() {
                match item {
                    Ok(i) => out.push(key_name(i.key)),
                    Err(e) => damage.push(e),
                }
            }
        }
        Ok(None) => {}
        Err(e) => damage.push(e),
    }
    out
}

/// Every nested bucket of `b` with its name; plain values where buckets belong are reported.
pub fn sub_buckets<'a>(b: &Bucket<'a>, what: &str, damage: &mut Damage) -> Vec<(String, Bucket<'a>)> {
    let mut out = Vec::new();
    nested_buckets(b, what, Opening::ReadingAhead, |found| match found {
        Ok((i, child)) => out.push((key_name(i.key), child)),
        Err(note) => damage.push(note),
    });
    out
}

/// Each nested bucket of `b` with its name, in one pass: `each` reads a record while the
/// cursor is on its page, so a walk of 47,000 records reads their pages once (with a small
/// page cache, a listing first and the records after read them twice). Damage comes out in
/// the order [`sub_buckets`] and a loop over its result give: the walk's, then the records'.
pub fn each_sub_bucket<'a>(
    b: &Bucket<'a>,
    what: &str,
    damage: &mut Damage,
    mut each: impl FnMut(String, Bucket<'a>, &mut Damage),
) {
    let mut records = Damage::new();
    nested_buckets(b, what, Opening::ReadingAhead, |found| match found {
        Ok((i, child)) => each(key_name(i.key), child, &mut records),
        Err(note) => damage.push(note),
    });
    damage.extend(records);
}

/// How [`nested_buckets`] opens each bucket.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// As a walk in key order wants them: when memory is tight, the roots of the leaf's other
    /// nested buckets are read ahead at the first (`bolt/frugal.rs`).
    ReadingAhead,
    /// Without that: for a caller that reads them in file order (`file_order`).
    Quietly,
}

/// Each nested bucket of `b` in key order, with the cursor's item (its key and the page it
/// lies on) and the bucket opened, or the damage met on the way: a cursor's named `what`, a
/// bucket that does not open as it is. Other keys are passed over.
pub fn nested_buckets<'a>(
    b: &Bucket<'a>,
    what: &str,
    opening: Opening,
    mut each: impl FnMut(Result<(Item<'a>, Bucket<'a>), crate::damage::Note>),
) {
    for item in b.cursor() {
        each(match item {
            Ok(i) if i.is_bucket => {
                let opened = match opening {
                    Opening::ReadingAhead => b.open_item(&i),
                    Opening::Quietly => b.open_item_quietly(&i),
                };
                opened.map(|child| (i, child)).map_err(crate::damage::Note::from)
            }
            Ok(_) => continue,
            Err(e) => Err(crate::damage::Note::from(e).within(what)),
        });
    }
}

/// [`nested_buckets`] (reading ahead) of the items whose key `wanted` keeps: the others are
/// never opened.
fn nested_buckets_where<'a>(
    b: &Bucket<'a>,
    what: &str,
    wanted: impl Fn(&[u8]) -> bool,
    mut each: impl FnMut(Result<(Item<'a>, Bucket<'a>), crate::damage::Note>),
) {
    for item in b.cursor() {
        each(match item {
            Ok(i) if i.is_bucket && wanted(i.key) => b
                .open_item(&i)
                .map(|child| (i, child))
                .map_err(crate::damage::Note::from),
            Ok(_) => continue,
            Err(e) => Err(crate::damage::Note::from(e).within(what)),
        });
    }
}

/// The `v1/<namespace>` buckets, in name order.
pub fn namespace_buckets<'a>(tx: &Tx<'a>, damage: &mut Damage) -> Vec<(String, Bucket<'a>)> {
    match tx.bucket_at(&[b"v1"]) {
        Ok(Some(v1)) => sub_buckets(&v1, "v1", damage),
        Ok(None) => {
            if let Some(e) = no_containerd_tree(tx) {
                damage.push(e);
            }
            Vec::new()
        }
        Err(e) => {
            damage.push(e);
            Vec::new()
        }
    }
}

/// Why the tree `tx` reads is no containerd meta.db's, when its root holds keys but no `v1`:
/// containerd makes `v1` when it first opens the file, so such a root is another page's (a
/// meta page whose root names it, its checksum still good: sweep 30.5 read it as an empty
/// store, exit 0) or the file is not containerd's. An empty root is a file containerd never
/// opened: nothing to say. Only asked when `v1` is not there.
pub fn no_containerd_tree(tx: &Tx<'_>) -> Option<BoltError> {
    let Some(Ok(first)) = tx.root().cursor().next() else {
        return None;
    };
    Some(tx.db().corrupt(
        tx.meta().root,
        tx.meta().root.saturating_mul(u64::from(tx.db().page_size())),
        format!(
            "the root bucket has no v1 bucket but holds {}: not a containerd meta.db's tree (a meta page whose root names another page, or a bbolt file that is not containerd's)",
            crate::text::one_line(&key_name(first.key))
        ),
    ))
}

/// A namespace and its labels.
#[derive(Clone, Debug, Serialize)]
pub struct Namespace {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

pub fn namespaces(tx: &Tx<'_>, damage: &mut Damage) -> Vec<Namespace> {
    namespace_buckets(tx, damage)
        .into_iter()
        .map(|(name, b)| Namespace {
            labels: labels(&b, b"labels", damage),
            name,
        })
        .collect()
}

/// An OCI descriptor as containerd stores an image target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct StoredTarget {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image record.
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    pub namespace: String,
    pub name: String,
    pub target: StoredTarget,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `updatedat` as a time, for comparisons (inspect's LastTagTime).
    #[serde(skip)]
    pub updated: Option<GoTime>,
}

/// An image record's `target`, decoded once for every command: a value that cannot be read
/// is damage and left empty, the record itself is kept (containerd's collector still sees it).
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub media_type: String,
    /// `None` when the record has no (readable, non-empty) target digest.
    pub digest: Option<String>,
    pub size: i64,
}

pub fn image_target<'a>(b: &impl Fields<'a>, what: &dyn std::fmt::Display, damage: &mut Damage) -> Target {
    let mut t = Target::default();
    if let Some(target) = bucket_in(b, b"target", damage) {
        let target = Record::new(&target, [b"digest", b"mediatype", b"size"]);
        t.media_type = text_in(&target, b"mediatype", damage).unwrap_or_default();
        t.digest = text_in(&target, b"digest", damage).filter(|d| !d.is_empty());
        t.size = varint_in(&target, b"size", &format_args!("{what}: target"), damage).unwrap_or(0);
    }
    match &t.digest {
        None => damage.push(format!("{what} has no target digest")),
        // containerd validates a target's digest before it writes the record: one that does
        // not parse was damaged since (sweep 30.8: printed as the image's ID, exit 0).
        Some(d) if !crate::digest::Digest::is_valid_text(d) => {
            damage.push(format!("{what}: its target digest {d} is not a digest"));
        }
        Some(_) => {}
    }
    t
}

/// An image record reduced to what the hot paths need (gc, verify): its name, its target, and
/// only the labels whose key starts with `label_prefix` (none when empty).
pub struct ImageTarget {
    pub name: String,
    pub target: Target,
    pub labels: Vec<(String, String)>,
}

/// The image records of one namespace as [`ImageTarget`], in name order; the same records,
/// targets and damage as [`images_in`].
pub fn image_targets_in(namespace: &str, ns: &Bucket<'_>, label_prefix: &str, damage: &mut Damage) -> Vec<ImageTarget> {
    let Some(images) = bucket_in(ns, b"images", damage) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    each_sub_bucket(&images, "images", damage, |name, b, damage| {
        out.push(image_target_record(namespace, name, &b, label_prefix, damage));
    });
    out
}

/// The `images` bucket of a namespace, if it has one.
pub fn images_bucket<'a>(ns: &Bucket<'a>, damage: &mut Damage) -> Option<Bucket<'a>> {
    bucket_in(ns, b"images", damage)
}

/// One image record of [`image_targets_in`], from its bucket.
pub fn image_target_record(
    namespace: &str,
    name: String,
    b: &Bucket<'_>,
    label_prefix: &str,
    damage: &mut Damage,
) -> ImageTarget {
    ImageTarget {
        target: image_target(b, &format_args!("namespace {namespace}: image \"{name}\""), damage),
        labels: if label_prefix.is_empty() {
            Vec::new()
        } else {
            labels_with_prefix(b, label_prefix, damage)
        },
        name,
    }
}

/// An image record decoded from its bucket (a [`RecordStep::Record`]); damage inside it is
/// pushed to `damage`, and a record that cannot be read at all is an error.
pub fn image_from(namespace: &str, name: String, b: &Bucket<'_>, damage: &mut Damage) -> Result<Image, BoltError> {
    let what = format!("namespace {namespace}: image \"{name}\"");
    let r = Record::new(b, [b"annotations", b"createdat", b"labels", b"target", b"updatedat"]);
    let target = image_target(&r, &what, damage);
    Ok(Image {
        namespace: namespace.to_string(),
        target: StoredTarget {
            media_type: target.media_type,
            digest: target.digest.unwrap_or_default(),
            size: target.size,
            annotations: labels(&r, b"annotations", damage),
        },
        created_at: time_in(&r, b"createdat", &what, damage),
        updated_at: time_in(&r, b"updatedat", &what, damage),
        updated: r.get(b"updatedat")?.and_then(|v| GoTime::decode(v).ok()),
        labels: labels(&r, b"labels", damage),
        name,
    })
}

/// The image records of one namespace, in name order.
pub fn images_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Image> {
    images_in_on(None, namespace, ns, damage)
}

/// [`images_in`], with the records decoded on `pool`: the same records, and the same damage
/// in the same order (the walk's, then each record's).
pub fn images_in_on(
    pool: Option<&rayon::ThreadPool>,
    namespace: &str,
    ns: &Bucket<'_>,
    damage: &mut Damage,
) -> Vec<Image> {
    let mut records = Vec::new();
    image_steps(ns, |step| match step {
        RecordStep::Damage(note) => damage.push(note),
        record => records.push(record),
    });
    decoded_on(pool, records, damage, |key, b, d| {
        image_from(namespace, key_name(key), b, d).map_err(|e| d.push(e)).ok()
    })
}

/// [`images_in_on`], of the records whose name `wanted` keeps, tested on the key before the
/// record is opened: a listing for one name costs that record, not the namespace's (20,000
/// records decoded to print one name: sweep 31.1). The cursor's damage is said as the whole
/// walk says it; a record whose name is not wanted is never opened, so damage in it (or in its
/// bucket's header, or a root it shares with a wanted one) is not looked for.
pub fn images_where_on(
    pool: Option<&rayon::ThreadPool>,
    namespace: &str,
    ns: &Bucket<'_>,
    wanted: impl Fn(&str) -> bool,
    damage: &mut Damage,
) -> Vec<Image> {
    let mut records = Vec::new();
    match ns.bucket(b"images") {
        Ok(Some(images)) => {
            for item in images.cursor() {
                match item {
                    Ok(i) if i.is_bucket && wanted(&key_name(i.key)) => match images.open_item(&i) {
                        Ok(b) => records.push(RecordStep::Record(i.key, b)),
                        Err(e) => damage.push(e),
                    },
                    Ok(_) => {}
                    Err(e) => damage.push(crate::damage::Note::from(e).within("images")),
                }
            }
        }
        Ok(None) => {}
        Err(e) => damage.push(e),
    }
    decoded_on(pool, records, damage, |key, b, d| {
        image_from(namespace, key_name(key), b, d).map_err(|e| d.push(e)).ok()
    })
}

/// Decodes `steps` with `decode` (given each record's key as stored), on `pool` when there
/// is one: the results in step order, and each step's damage (a [`RecordStep::Damage`], or
/// what `decode` met) pushed in step order.
///
/// The steps are walked whole before any is decoded, and that stays so: pages are claimed by
/// the first bucket to reach them (`Tx::claim_page`), so decoding while walking let a crafted
/// record that points into the walked bucket's own pages end the rest of the walk, or not,
/// depending on which thread came first.
pub fn decoded_on<'a, T: Send>(
    pool: Option<&rayon::ThreadPool>,
    steps: Vec<RecordStep<'a>>,
    damage: &mut Damage,
    decode: impl Fn(&'a [u8], &Bucket<'a>, &mut Damage) -> Option<T> + Sync,
) -> Vec<T> {
    // Pages read as asked for (a point lookup's scan) from a cold file: the roots of the next
    // window of records are asked for while this one is decoded (`Tx::prefetch_if_cold`); a
    // window bounds what is read ahead inside a memory limit. A warm file, or a map, is
    // decoded at once.
    let sample: Vec<&RecordStep<'a>> = crate::bolt::spread(&steps).collect();
    let tx = first_tx(sample.iter().copied());
    let roots: Vec<u64> = sample.iter().filter_map(|step| root_of(step)).collect();
    let window = tx.filter(|tx| tx.is_cold(&roots)).map(|_| PREFETCH_WINDOW);
    decoded_in_windows(pool, steps, damage, decode, window)
}

/// The view the first record of `steps` is read through (`None` when all are damage).
fn first_tx<'s, 'a: 's>(steps: impl IntoIterator<Item = &'s RecordStep<'a>>) -> Option<crate::bolt::Tx<'a>> {
    steps.into_iter().find_map(|step| match step {
        RecordStep::Record(_, b) => Some(b.tx()),
        RecordStep::Damage(_) => None,
    })
}

/// The root page of a record step's bucket (`None` for damage or an inline bucket).
fn root_of(step: &RecordStep<'_>) -> Option<u64> {
    match step {
        RecordStep::Record(_, b) if !b.is_inline() => Some(b.root_page()),
        _ => None,
    }
}

/// [`decoded_on`], decoded `window` records at a time when there is one (each window's
/// successor asked for meanwhile), else all at once.
fn decoded_in_windows<'a, T: Send>(
    pool: Option<&rayon::ThreadPool>,
    steps: Vec<RecordStep<'a>>,
    damage: &mut Damage,
    decode: impl Fn(&'a [u8], &Bucket<'a>, &mut Damage) -> Option<T> + Sync,
    window: Option<usize>,
) -> Vec<T> {
    use rayon::prelude::*;
    // Only the steps with a result or damage are kept: a scan for one target holds two
    // records of 5,000, not 5,000 empty slots.
    let one = |step: RecordStep<'a>| {
        let (d, found) = step.decode_key(&decode);
        (!d.is_empty() || found.is_some()).then_some((d, found))
    };
    let decode_all = |steps: Vec<RecordStep<'a>>| -> Vec<(Damage, Option<T>)> {
        match pool {
            Some(p) => p.install(|| steps.into_par_iter().filter_map(one).collect()),
            None => steps.into_iter().filter_map(one).collect(),
        }
    };
    let (Some(tx), Some(window)) = (first_tx(&steps), window) else {
        let done = decode_all(steps);
        return collect_decoded(done, damage);
    };
    let roots = |window: &[RecordStep<'a>]| window.iter().filter_map(root_of).collect::<Vec<u64>>();
    let mut steps = steps.into_iter();
    let mut next_window = || steps.by_ref().take(window.max(1)).collect::<Vec<_>>();
    let mut next = next_window();
    tx.prefetch_if_cold(roots(&next));
    let mut done = Vec::new();
    while !next.is_empty() {
        let window = std::mem::replace(&mut next, next_window());
        tx.prefetch_if_cold(roots(&next));
        done.extend(decode_all(window));
    }
    collect_decoded(done, damage)
}

/// Records a scan asks for ahead of its workers on a cold file: 8 MiB of 4 KiB pages.
const PREFETCH_WINDOW: usize = 2048;

/// [`decoded_on`]'s results in step order, their damage pushed in step order.
fn collect_decoded<T>(done: Vec<(Damage, Option<T>)>, damage: &mut Damage) -> Vec<T> {
    let mut out = Vec::with_capacity(done.len());
    for (d, found) in done {
        damage.extend(d);
        out.extend(found);
    }
    out
}

/// The image records of one namespace whose target digest is `digest`, in name order: the
/// same records [`images_in`] would list with that target, found by reading only each
/// record's `target/digest` and decoding just the matches (containerd's
/// `List("target.digest==...")`, which dockerd runs for every inspect, without building the
/// other 4,999 records). Damage met on the way to a record's target is recorded; damage in a
/// record that does not match is not looked for.
pub fn images_with_target(namespace: &str, ns: &Bucket<'_>, digest: &str, damage: &mut Damage) -> Vec<Image> {
    images_with_target_on(None, namespace, ns, digest, Scan::Keep, damage)
}

/// What a scan of the records' targets does with the pages it reads (when pages are read as
/// asked for; a mapped file is read in place either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// Keep them: more scans of the same records follow (a few references inspected).
    Keep,
    /// Read each for its one look ([`Bucket::with_root_held`]): the only scan (one
    /// reference), whose records are never read again.
    Once,
}

/// [`images_with_target`], the records' targets read on `pool`.
pub fn images_with_target_on(
    pool: Option<&rayon::ThreadPool>,
    namespace: &str,
    ns: &Bucket<'_>,
    digest: &str,
    scan: Scan,
    damage: &mut Damage,
) -> Vec<Image> {
    images_matching_on(
        pool,
        namespace,
        ns,
        scan,
        |_, stored| stored == Some(digest.as_bytes()),
        damage,
    )
}

/// The image records of one namespace that `wanted` picks by their key (as stored) and
/// target digest (`None` without one), in name order, found as [`images_with_target`] finds
/// them: each record read no further than its target digest unless picked (a short ID's
/// records, without decoding every other record).
pub fn images_matching_on(
    pool: Option<&rayon::ThreadPool>,
    namespace: &str,
    ns: &Bucket<'_>,
    scan: Scan,
    wanted: impl Fn(&[u8], Option<&[u8]>) -> bool + Sync,
    damage: &mut Damage,
) -> Vec<Image> {
    let mut steps = Vec::new();
    image_steps(ns, |step| steps.push(step));
    let wanted = &wanted;
    decoded_on(pool, steps, damage, |key, b, d| match scan {
        Scan::Once => b.with_root_held(|b| image_if(namespace, key, b, wanted, d)),
        Scan::Keep => image_if(namespace, key, b, wanted, d),
    })
}

/// The namespace's image records as [`RecordStep`]s, in name order.
pub fn image_steps<'a>(ns: &Bucket<'a>, mut each: impl FnMut(RecordStep<'a>)) {
    match ns.bucket(b"images") {
        Ok(Some(images)) => record_steps(&images, "images", each),
        Ok(None) => {}
        Err(e) => each(RecordStep::Damage(e.into())),
    }
}

/// One step of [`images_with_target`]: the image record whose key is `key` when its target
/// digest is `digest`, read no further than that digest otherwise (its name is made only
/// then).
pub fn image_with_target(
    namespace: &str,
    key: &[u8],
    record: &Bucket<'_>,
    digest: &str,
    damage: &mut Damage,
) -> Option<Image> {
    image_if(
        namespace,
        key,
        record,
        &|_, stored| stored == Some(digest.as_bytes()),
        damage,
    )
}

/// The image record whose key is `key` when `wanted` picks it by its key and target digest,
/// read no further than that digest otherwise.
fn image_if(
    namespace: &str,
    key: &[u8],
    record: &Bucket<'_>,
    wanted: &(impl Fn(&[u8], Option<&[u8]>) -> bool + ?Sized),
    damage: &mut Damage,
) -> Option<Image> {
    let stored = match record
        .bucket(b"target")
        .and_then(|t| t.map_or(Ok(None), |t| t.get(b"digest")))
    {
        Ok(d) => d,
        Err(e) => {
            damage.push(e);
            return None;
        }
    };
    if !wanted(key, stored) {
        return None;
    }
    image_from(namespace, key_name(key), record, damage)
        .map_err(|e| damage.push(e))
        .ok()
}

/// One image record by exact name, reading only the pages on its path.
pub fn image_named(tx: &Tx<'_>, namespace: &str, name: &str, damage: &mut Damage) -> Result<Option<Image>, BoltError> {
    let (ns, key) = (key_bytes(namespace), key_bytes(name));
    let path: [&[u8]; 4] = [b"v1", &ns, b"images", &key];
    match tx.bucket_at(&path)? {
        Some(b) => image_from(namespace, name.to_string(), &b, damage).map(Some),
        None => Ok(None),
    }
}

/// A content record (`ctr content ls`).
#[derive(Clone, Debug, Serialize)]
pub struct Content {
    pub namespace: String,
    pub digest: String,
    pub size: i64,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A content record's `size`, decoded once for every command: the value containerd reads
/// (`binary.Varint` of the bytes, 0 when absent or undecodable), with anything but one exact
/// varint recorded as damage. A leaf that cannot be read at all is an error: the caller drops
/// the whole record, since nothing of it can be trusted.
pub fn content_size<'a>(
    b: &impl Fields<'a>,
    what: &dyn std::fmt::Display,
    damage: &mut Damage,
) -> Result<i64, BoltError> {
    let Some(v) = b.get(b"size")? else {
        return Ok(0);
    };
    if let Some(n) = varint_exact(v) {
        return Ok(n);
    }
    damage.push(format!("{what}: size: not a varint ({} bytes)", v.len()));
    Ok(varint(v).map_or(0, |(n, _)| n))
}

/// A content record reduced to what the hot paths need (gc, du, verify read every record):
/// digest, size, and only the labels whose key starts with `label_prefix` (none when empty).
pub struct ContentSize {
    pub digest: String,
    pub size: i64,
    pub labels: Vec<(String, String)>,
}

/// The content records of one namespace as [`ContentSize`], in digest order; the same records,
/// sizes and damage as [`content_in`].
pub fn content_sizes_in(namespace: &str, ns: &Bucket<'_>, label_prefix: &str, damage: &mut Damage) -> Vec<ContentSize> {
    let mut out = Vec::new();
    content_sizes_each(namespace, ns, label_prefix, damage, |c| out.push(c));
    out
}

/// [`content_sizes_in`] one record at a time, none kept, each read in one pass over the pages.
pub fn content_sizes_each(
    namespace: &str,
    ns: &Bucket<'_>,
    label_prefix: &str,
    damage: &mut Damage,
    mut each: impl FnMut(ContentSize),
) {
    let Some(blobs) = content_blob_bucket(ns, damage) else {
        return;
    };
    each_sub_bucket(&blobs, "content/blob", damage, |digest, b, damage| {
        if let Some(c) = content_size_record(namespace, digest, &b, label_prefix, damage) {
            each(c);
        }
    });
}

/// The `content/blob` bucket of a namespace, if it has one.
pub fn content_blob_bucket<'a>(ns: &Bucket<'a>, damage: &mut Damage) -> Option<Bucket<'a>> {
    noted(ns.bucket_at(&[b"content".as_slice(), b"blob"]), damage)
}

/// One content record of [`content_sizes_each`], from its bucket: `None` (and damage) when
/// its size cannot be read.
pub fn content_size_record(
    namespace: &str,
    digest: String,
    b: &Bucket<'_>,
    label_prefix: &str,
    damage: &mut Damage,
) -> Option<ContentSize> {
    // Formatted only if the size is damaged: this runs for every record.
    let r = Record::new(b, CONTENT_KEYS);
    match content_size(&r, &format_args!("namespace {namespace}: content {digest}"), damage) {
        Ok(size) => Some(ContentSize {
            labels: if label_prefix.is_empty() {
                Vec::new()
            } else {
                labels_with_prefix(&r, label_prefix, damage)
            },
            digest,
            size,
        }),
        Err(e) => {
            damage.push(e);
            None
        }
    }
}

/// The labels of `b` whose key starts with `prefix`, in key order, without building strings
/// for the others (a pulled image's records carry several labels each).
pub fn labels_with_prefix<'a>(b: &impl Fields<'a>, prefix: &str, damage: &mut Damage) -> Vec<(String, String)> {
    let Some(bucket) = bucket_in(b, b"labels", damage) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in bucket.cursor() {
        match item {
            Ok(i) if !i.is_bucket && i.key.starts_with(prefix.as_bytes()) => {
                // The values name records (gc.ref.*) or are plain text (gc.expire), which
                // `key_name` leaves as it is: read as the keys they name are.
                out.push((key_name(i.key), key_name(i.value)));
            }
            Ok(_) => {}
            Err(e) => damage.push(e),
        }
    }
    out
}

/// The keys of a content record (`v1/<ns>/content/blob/<digest>`), in order.
const CONTENT_KEYS: [&[u8]; 4] = [b"createdat", b"labels", b"size", b"updatedat"];

/// A content record decoded from its bucket (a [`RecordStep::Record`]); damage inside it is
/// pushed to `damage`, and a record that cannot be read at all is an error.
pub fn content_from(
    namespace: &str,
    digest: String,
    b: &Bucket<'_>,
    damage: &mut Damage,
) -> Result<Content, BoltError> {
    // Only damage is worded with it: formatted when there is some, not for every record.
    let what = Named(namespace, "content", &digest);
    let r = Record::new(b, CONTENT_KEYS);
    Ok(Content {
        namespace: crate::short_copy::string(namespace),
        size: content_size(&r, &what, damage)?,
        created_at: time_in(&r, b"createdat", &what, damage),
        updated_at: time_in(&r, b"updatedat", &what, damage),
        labels: labels(&r, b"labels", damage),
        digest,
    })
}

/// The content records of one namespace, in digest order.
pub fn content_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Content> {
    content_in_where(namespace, ns, |_| true, damage)
}

/// [`content_in`] of the records whose digest `wanted` keeps ([`content_steps_where`]).
pub fn content_in_where(
    namespace: &str,
    ns: &Bucket<'_>,
    wanted: impl Fn(&str) -> bool,
    damage: &mut Damage,
) -> Vec<Content> {
    let mut out = Vec::new();
    content_steps_where(ns, wanted, |step| match step {
        RecordStep::Record(key, b) => match content_from(namespace, key_name(key), &b, damage) {
            Ok(c) => out.push(c),
            Err(e) => damage.push(e),
        },
        RecordStep::Damage(note) => damage.push(note),
    });
    out
}

/// [`content_in`] one record at a time, none kept: what a listing of 47,000 records that
/// streams its output needs.
pub fn content_each(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage, mut each: impl FnMut(Content)) {
    content_steps(ns, |step| match step {
        RecordStep::Record(key, b) => match content_from(namespace, key_name(key), &b, damage) {
            Ok(c) => each(c),
            Err(e) => damage.push(e),
        },
        RecordStep::Damage(note) => damage.push(note),
    });
}

/// `namespace {0}: {1} {2}`: a record as damage names it.
struct Named<'a>(&'a str, &'a str, &'a str);

impl std::fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "namespace {}: {} {}", self.0, self.1, self.2)
    }
}

/// What a walk over a bucket of records meets, in key order: a record's bucket, not yet
/// decoded, or damage on the way. A caller can decode the records elsewhere (on workers) and
/// still report damage in the order a loop over the walk would.
pub enum RecordStep<'a> {
    /// A record's key (its name, as stored) and bucket. The key is made a name by whoever
    /// decodes the record: on a worker, not on the thread walking the keys.
    Record(&'a [u8], Bucket<'a>),
    Damage(crate::damage::Note),
}

impl<'a> RecordStep<'a> {
    /// The record decoded by `decode`, with the damage this step met on its own: a damage
    /// step's note, or what `decode` pushed (to be merged in step order by the caller).
    pub fn decode<T>(self, decode: impl FnOnce(String, &Bucket<'a>, &mut Damage) -> Option<T>) -> (Damage, Option<T>) {
        self.decode_key(|key, b, d| decode(key_name(key), b, d))
    }

    /// [`RecordStep::decode`], given the record's key as stored rather than its name.
    pub fn decode_key<T>(
        self,
        decode: impl FnOnce(&'a [u8], &Bucket<'a>, &mut Damage) -> Option<T>,
    ) -> (Damage, Option<T>) {
        let mut d = Damage::new();
        let found = match self {
            RecordStep::Record(key, b) => decode(key, &b, &mut d),
            RecordStep::Damage(note) => {
                d.push(note);
                None
            }
        };
        (d, found)
    }
}

/// The records (nested buckets) of `records`, named `what` in damage, as [`RecordStep`]s.
pub fn record_steps<'a>(records: &Bucket<'a>, what: &str, mut each: impl FnMut(RecordStep<'a>)) {
    nested_buckets(records, what, Opening::ReadingAhead, |found| {
        each(match found {
            Ok((i, b)) => RecordStep::Record(i.key, b),
            Err(note) => RecordStep::Damage(note),
        })
    });
}

/// The namespace's content records as [`RecordStep`]s, in digest order.
pub fn content_steps<'a>(ns: &Bucket<'a>, mut each: impl FnMut(RecordStep<'a>)) {
    match ns.bucket_at(&[b"content".as_slice(), b"blob"]) {
        Ok(Some(blobs)) => record_steps(&blobs, "content/blob", each),
        Ok(None) => {}
        Err(e) => each(RecordStep::Damage(e.into())),
    }
}

/// [`content_steps`] of the records whose digest (the record's key) `wanted` keeps, tested
/// before the record is opened: `content -f digest==D` costs one record, not the namespace's
/// (sweep 31.3: 20,000 records decoded for one row). The walk's own damage is said as
/// [`content_steps`] says it; a record not wanted is never opened, so damage in it is not
/// looked for.
pub fn content_steps_where<'a>(ns: &Bucket<'a>, wanted: impl Fn(&str) -> bool, mut each: impl FnMut(RecordStep<'a>)) {
    match ns.bucket_at(&[b"content".as_slice(), b"blob"]) {
        Ok(Some(blobs)) => nested_buckets_where(
            &blobs,
            "content/blob",
            |key| wanted(&key_name(key)),
            |found| {
                each(match found {
                    Ok((i, b)) => RecordStep::Record(i.key, b),
                    Err(note) => RecordStep::Damage(note),
                })
            },
        ),
        Ok(None) => {}
        Err(e) => each(RecordStep::Damage(e.into())),
    }
}

/// The content record for `digest` in `namespace`, reading only the pages on its path.
pub fn content_record(tx: &Tx<'_>, namespace: &str, digest: &str) -> Result<Option<Content>, BoltError> {
    let (ns, digest_key) = (key_bytes(namespace), key_bytes(digest));
    let path: [&[u8]; 5] = [b"v1", &ns, b"content", b"blob", &digest_key];
    match tx.bucket_at(&path)? {
        Some(b) => content_from(namespace, digest.to_string(), &b, &mut Damage::new()).map(Some),
        None => Ok(None),
    }
}

/// The recorded size of content `digest` in `namespace` (`None`: no record), decoding nothing
/// else of the record: what availability checks and blob reads need, without the times and
/// labels [`content_record`] formats. Fails where [`content_record`] fails.
pub fn content_size_of(tx: &Tx<'_>, namespace: &str, digest: &str) -> Result<Option<i64>, BoltError> {
    let ns = key_bytes(namespace);
    let path: [&[u8]; 4] = [b"v1", &ns, b"content", b"blob"];
    match tx.bucket_at(&path)? {
        Some(blobs) => content_size_in(&blobs, namespace, digest),
        None => Ok(None),
    }
}

/// [`content_size_of`] from the namespace's `content/blob` bucket, for callers that look up
/// many digests (the path from the root is walked once, not per digest).
pub fn content_size_in(blobs: &Bucket<'_>, namespace: &str, digest: &str) -> Result<Option<i64>, BoltError> {
    content_size_noting(blobs, namespace, digest, &mut Damage::new())
}

/// [`content_size_in`], with what is wrong in a record that reads (a size that is not a
/// varint: the size given is its prefix's) put in `damage`.
pub fn content_size_noting(
    blobs: &Bucket<'_>,
    namespace: &str,
    digest: &str,
    damage: &mut Damage,
) -> Result<Option<i64>, BoltError> {
    match blobs.bucket(&key_bytes(digest))? {
        Some(b) => content_size(&b, &format_args!("namespace {namespace}: content {digest}"), damage).map(Some),
        None => Ok(None),
    }
}

/// An ingest (an interrupted or running write into the content store).
#[derive(Clone, Debug, Serialize)]
pub struct Ingest {
    pub namespace: String,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Backend ref `<namespace>/<seq>/<ref>`: the ingest directory is sha256 of it.
    pub backend_ref: Option<String>,
    #[serde(rename = "expireAt")]
    pub expire_at: Option<String>,
    pub expected: Option<String>,
}

pub fn ingests_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Ingest> {
    let Some(ingests) = noted(ns.bucket_at(&[b"content".as_slice(), b"ingests"]), damage) else {
        return Vec::new();
    };
    sub_buckets(&ingests, "content/ingests", damage)
        .into_iter()
        .map(|(reference, b)| {
            let what = format!("namespace {namespace}: ingest {reference:?}");
            Ingest {
                namespace: namespace.to_string(),
                backend_ref: text_in(&b, b"ref", damage),
                expire_at: time_in(&b, b"expireat", &what, damage),
                expected: text_in(&b, b"expected", damage),
                reference,
            }
        })
        .collect()
}

/// A lease and what it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Lease {
    pub namespace: String,
    pub id: String,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub content: Vec<String>,
    pub ingests: Vec<String>,
    /// (snapshotter, key)
    pub snapshots: Vec<(String, String)>,
    pub images: Vec<String>,
}

pub fn leases_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Lease> {
    let Some(leases) = bucket_in(ns, b"leases", damage) else {
        return Vec::new();
    };
    sub_buckets(&leases, "leases", damage)
        .into_iter()
        .map(|(id, b)| {
            let what = format!("namespace {namespace}: lease \"{id}\"");
            let mut snapshots = Vec::new();
            if let Some(sn) = bucket_in(&b, b"snapshots", damage) {
                for (snapshotter, keys_bucket) in sub_buckets(&sn, "lease snapshots", damage) {
                    for item in keys_bucket.cursor() {
                        match item {
                            Ok(i) => snapshots.push((snapshotter.clone(), key_name(i.key))),
                            Err(e) => damage.push(e),
                        }
                    }
                }
            }
            Lease {
                namespace: namespace.to_string(),
                created_at: time_in(&b, b"createdat", &what, damage),
                labels: labels(&b, b"labels", damage),
                content: keys(&b, b"content", damage),
                ingests: keys(&b, b"ingests", damage),
                images: keys(&b, b"images", damage),
                snapshots,
                id,
            }
        })
        .collect()
}

/// A container record.
#[derive(Clone, Debug, Serialize)]
pub struct Container {
    pub namespace: String,
    pub id: String,
    pub image: String,
    pub runtime: String,
    pub snapshotter: String,
    #[serde(rename = "snapshotKey")]
    pub snapshot_key: String,
    #[serde(rename = "sandboxId")]
    pub sandbox_id: Option<String>,
    #[serde(rename = "specType")]
    pub spec_type: Option<String>,
    pub extensions: Vec<String>,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The spec Any's value: the OCI runtime spec as JSON (`container inspect` prints it).
    #[serde(skip)]
    pub spec: Option<Vec<u8>>,
    /// `runtime/options` as an Any: type URL and value bytes.
    #[serde(skip)]
    pub runtime_options: Option<AnyValue>,
    /// Each extension as an Any (CRI keeps its metadata here), in key order.
    #[serde(skip)]
    pub extension_values: Vec<(String, AnyValue)>,
}

/// A protobuf Any read from a record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnyValue {
    pub type_url: String,
    pub value: Vec<u8>,
}

/// The Any in `v` (a spec, runtime options or extension value), or damage naming `what`.
pub fn any_in(v: &[u8], what: &dyn std::fmt::Display, damage: &mut Damage) -> Option<AnyValue> {
    let a = any(v).map(|a| AnyValue {
        type_url: a.type_url.to_string(),
        value: a.value.to_vec(),
    });
    if a.is_none() {
        damage.push(format!("{what}: not a protobuf Any ({} bytes)", v.len()));
    }
    a
}

/// The values of an extensions bucket, each an Any.
fn extension_values(b: &Bucket<'_>, what: &str, damage: &mut Damage) -> Vec<(String, AnyValue)> {
    let mut out = Vec::new();
    let Some(ext) = bucket_in(b, b"extensions", damage) else {
        return out;
    };
    for item in ext.cursor() {
        match item {
            Ok(i) if !i.is_bucket => {
                let name = key_name(i.key);
                if let Some(a) = any_in(i.value, &format_args!("{what}: extension \"{name}\""), damage) {
                    out.push((name, a));
                }
            }
            Ok(_) => {}
            Err(e) => damage.push(e),
        }
    }
    out
}

/// Whether the container records of `containers` carry containerd's `sandboxid` key (any of
/// them), which 1.7.0 and later write into every container record and 1.6 never; `None`
/// when there is no record ([`crate::overlay::mounts::Release::of_store`]).
pub fn sandbox_keys<'c>(containers: impl IntoIterator<Item = &'c Container>) -> Option<bool> {
    let mut any = None;
    for c in containers {
        if c.sandbox_id.is_some() {
            return Some(true);
        }
        any = Some(false);
    }
    any
}

pub fn containers_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Container> {
    let Some(containers) = bucket_in(ns, b"containers", damage) else {
        return Vec::new();
    };
    sub_buckets(&containers, "containers", damage)
        .into_iter()
        .map(|(id, b)| {
            let what = format!("namespace {namespace}: container \"{id}\"");
            let runtime = bucket_in(&b, b"runtime", damage);
            let spec_value = noted(b.get(b"spec"), damage).and_then(|v| any(v).map(|a| a.value.to_vec()));
            let runtime_options = runtime.as_ref().and_then(|r| {
                noted(r.get(b"options"), damage)
                    .and_then(|v| any_in(v, &format_args!("{what}: runtime options"), damage))
            });
            let extension_values = extension_values(&b, &what, damage);
            Container {
                spec: spec_value,
                runtime_options,
                extension_values,
                namespace: namespace.to_string(),
                image: text_in(&b, b"image", damage).unwrap_or_default(),
                runtime: runtime.and_then(|r| text_in(&r, b"name", damage)).unwrap_or_default(),
                snapshotter: name_in(&b, b"snapshotter", damage).unwrap_or_default(),
                snapshot_key: name_in(&b, b"snapshotKey", damage).unwrap_or_default(),
                sandbox_id: text_in(&b, b"sandboxid", damage),
                spec_type: noted(b.get(b"spec"), damage).and_then(|v| {
                    let a = any(v).map(|a| a.type_url.to_string());
                    if a.is_none() {
                        damage.push(format!("{what}: spec: not a protobuf Any ({} bytes)", v.len()));
                    }
                    a
                }),
                extensions: keys(&b, b"extensions", damage),
                created_at: time_in(&b, b"createdat", &what, damage),
                updated_at: time_in(&b, b"updatedat", &what, damage),
                labels: labels(&b, b"labels", damage),
                id,
            }
        })
        .collect()
}

/// A snapshot as meta.db records it for one namespace.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub namespace: String,
    pub snapshotter: String,
    pub key: String,
    /// The key in the snapshotter's own metadata.db.
    #[serde(rename = "backendName")]
    pub backend_name: Option<String>,
    pub parent: Option<String>,
    pub children: Vec<String>,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
    pub labels: BTreeMap<String, String>,
}

pub fn snapshots_in(namespace: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<Snapshot> {
    let Some(snapshots) = bucket_in(ns, b"snapshots", damage) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (snapshotter, sb) in sub_buckets(&snapshots, "snapshots", damage) {
        for (key, b) in sub_buckets(&sb, "snapshots", damage) {
            let what = format!("namespace {namespace}: snapshot {snapshotter}/\"{key}\"");
            out.push(Snapshot {
                namespace: namespace.to_string(),
                snapshotter: snapshotter.clone(),
                backend_name: name_in(&b, b"name", damage),
                parent: name_in(&b, b"parent", damage),
                children: keys(&b, b"children", damage),
                created_at: time_in(&b, b"createdat", &what, damage),
                updated_at: time_in(&b, b"updatedat", &what, damage),
                labels: labels(&b, b"labels", damage),
                key,
            });
        }
    }
    out
}

/// A snapshot record reduced to what the collector follows: its backend name, its parent
/// (`None` when absent or empty), and only the labels whose key starts with `label_prefix`.
pub struct SnapshotLink {
    pub snapshotter: String,
    pub key: String,
    pub backend_name: Option<String>,
    pub parent: Option<String>,
    pub labels: Vec<(String, String)>,
}

/// The snapshot records of one namespace as [`SnapshotLink`]; the same records as
/// [`snapshots_in`].
pub fn snapshot_links_in(ns: &Bucket<'_>, label_prefix: &str, damage: &mut Damage) -> Vec<SnapshotLink> {
    let Some(snapshots) = bucket_in(ns, b"snapshots", damage) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (snapshotter, sb) in sub_buckets(&snapshots, "snapshots", damage) {
        for (key, b) in sub_buckets(&sb, "snapshots", damage) {
            out.push(SnapshotLink {
                snapshotter: snapshotter.clone(),
                backend_name: name_in(&b, b"name", damage),
                parent: name_in(&b, b"parent", damage).filter(|p| !p.is_empty()),
                labels: labels_with_prefix(&b, label_prefix, damage),
                key,
            });
        }
    }
    out
}

/// A snapshot in a snapshotter's own metadata.db.
#[derive(Clone, Debug, Serialize)]
pub struct BackendSnapshot {
    pub key: String,
    pub id: Option<u64>,
    pub kind: String,
    pub parent: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Disk usage at commit (committed snapshots only).
    pub size: Option<i64>,
    pub inodes: Option<i64>,
}

pub fn backend_snapshots(tx: &Tx<'_>, damage: &mut Damage) -> Vec<BackendSnapshot> {
    let Some(snapshots) = noted(tx.bucket_at(&[b"v1".as_slice(), b"snapshots"]), damage) else {
        return Vec::new();
    };
    sub_buckets(&snapshots, "v1/snapshots", damage)
        .into_iter()
        .map(|(key, b)| backend_snapshot(tx, key, &b, damage))
        .collect()
}

/// The backend snapshot `key` of a snapshotter's metadata.db (`tx`), from its bucket `b`.
pub fn backend_snapshot(tx: &Tx<'_>, key: String, b: &Bucket<'_>, damage: &mut Damage) -> BackendSnapshot {
    let what = format!("{}: snapshot \"{key}\"", tx.db().path().display());
    BackendSnapshot {
        id: noted(b.get(b"id"), damage).and_then(uvarint_exact),
        kind: noted(b.get(b"kind"), damage)
            .and_then(snapshot_kind)
            .unwrap_or("Unknown")
            .to_string(),
        parent: name_in(b, b"parent", damage),
        created_at: time_in(b, b"createdat", &what, damage),
        updated_at: time_in(b, b"updatedat", &what, damage),
        labels: labels(b, b"labels", damage),
        size: varint_in(b, b"size", &what, damage),
        inodes: varint_in(b, b"inodes", &what, damage),
        key,
    }
}

/// The ids that more than one snapshot of one snapshotter's metadata.db has, each with the
/// keys that share it, in key order. containerd takes a snapshot's id from the `v1/snapshots`
/// bucket's sequence (`NextSequence`, core/snapshots/storage/bolt.go) and never reuses one,
/// so a shared id is damage: `snapshots/<id>` is the directory of one of them at most.
pub fn shared_ids(snaps: &[BackendSnapshot]) -> Vec<(u64, Vec<&str>)> {
    let mut by_id: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for s in snaps {
        if let Some(id) = s.id {
            by_id.entry(id).or_default().push(s.key.as_str());
        }
    }
    by_id
        .into_iter()
        .filter(|(_, keys)| keys.len() > 1)
        .map(|(id, mut keys)| {
            keys.sort_unstable();
            (id, keys)
        })
        .collect()
}

/// Each parent loop among `snaps` once: the keys around it, from the least key, in parent
/// order (`a -> b -> a` is `[a, b]`). containerd makes a snapshot only on a committed parent
/// that exists, so a loop is damage: no chain through it reaches a base. A snapshot whose
/// chain runs into a loop without being on it is not listed (its chain is the loop's). Time
/// and memory linear in the records: each is walked once.
pub fn parent_loops(snaps: &[BackendSnapshot]) -> Vec<Vec<&str>> {
    let index: HashMap<&str, usize> = snaps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
    let parent = |i: usize| {
        snaps
            .get(i)
            .and_then(|s| s.parent.as_deref())
            .and_then(|p| index.get(p).copied())
    };
    loops_among(snaps.len(), 0..snaps.len(), parent)
        .into_iter()
        .map(|members| {
            let mut keys: Vec<&str> = members
                .iter()
                .filter_map(|&p| snaps.get(p).map(|s| s.key.as_str()))
                .collect();
            least_first(&mut keys);
            keys
        })
        .collect()
}

/// A loop's keys turned to start at the least (a loop has no first key; this one is stable).
pub fn least_first(keys: &mut [&str]) {
    if let Some(least) = keys.iter().enumerate().min_by_key(|(_, k)| **k).map(|(n, _)| n) {
        keys.rotate_left(least);
    }
}

/// Each loop of `parent` links among nodes `0..n` that a walk from one of `starts` runs into,
/// once: its nodes in parent order, from the one the walk met first. Each node is walked once.
pub fn loops_among(
    n: usize,
    starts: impl IntoIterator<Item = usize>,
    parent: impl Fn(usize) -> Option<usize>,
) -> Vec<Vec<usize>> {
    // 0: not walked; a walk's own number while on its path; done after.
    const DONE: usize = usize::MAX;
    let mut mark = vec![0usize; n];
    let mut loops = Vec::new();
    for start in starts {
        let walk = start.saturating_add(1);
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match mark.get(i).copied() {
                Some(0) => {}
                Some(m) if m == walk => {
                    // Back on this walk's own path: the loop is the path from there.
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    loops.push(path.get(from..).unwrap_or_default().to_vec());
                    break;
                }
                _ => break,
            }
            if let Some(m) = mark.get_mut(i) {
                *m = walk;
            }
            path.push(i);
            at = parent(i);
        }
        for p in path {
            if let Some(m) = mark.get_mut(p) {
                *m = DONE;
            }
        }
    }
    loops
}

/// What every reader of a snapshotter's records says of a parent loop ([`parent_loops`]).
pub fn parent_loop_message(snapshotter: &str, keys: &[&str]) -> String {
    // A loop of any length is named in one line: its first keys, then how many in all.
    const SHOWN: usize = 20;
    let mut around = keys.iter().take(SHOWN).copied().collect::<Vec<_>>().join(" -> ");
    match keys.first() {
        Some(first) if keys.len() <= SHOWN => {
            around.push_str(" -> ");
            around.push_str(first);
        }
        _ => around.push_str(&format!(" -> ... ({} snapshots in all)", keys.len())),
    }
    format!("snapshotter {snapshotter}: a parent loop ({around}): no chain through it reaches a base snapshot")
}

/// Says each parent loop among `snaps`, records of `snapshotter`'s metadata.db (`tx`), as
/// damage naming the file: for the commands that read the records for what they hold
/// (`snapshots`, `images`, `gc`, `du`); the layer commands say where their chains stop.
pub fn say_parent_loops(tx: &Tx<'_>, snapshotter: &str, snaps: &[BackendSnapshot], damage: &mut Damage) {
    for keys in parent_loops(snaps) {
        damage.push(format!(
            "{}: {}",
            tx.db().path().display(),
            parent_loop_message(snapshotter, &keys)
        ));
    }
}

/// The backend snapshots whose parent key has no record among `snaps`: containerd's storage
/// fails every lookup below such a snapshot ("missing parent bucket"), so a chain through it
/// stops there. Each as `(key, parent)`, in key order.
pub fn missing_parents<'s, I>(snaps: I) -> Vec<(&'s str, &'s str)>
where
    I: IntoIterator<Item = &'s BackendSnapshot>,
    I::IntoIter: Clone,
{
    let snaps = snaps.into_iter();
    let keys: foldhash::HashSet<&str> = snaps.clone().map(|s| s.key.as_str()).collect();
    let mut out: Vec<(&str, &str)> = snaps
        .filter_map(|s| {
            let p = s.parent.as_deref().filter(|p| !p.is_empty())?;
            (!keys.contains(p)).then_some((s.key.as_str(), p))
        })
        .collect();
    out.sort_unstable();
    out
}

/// meta.db's schema version (`v1/version`: 3 written by containerd 1.x, 4 by 2.x); `None` when
/// the file has no `v1` bucket or no readable version.
pub fn schema_version(tx: &Tx<'_>) -> Result<Option<i64>, crate::bolt::BoltError> {
    Ok(tx
        .bucket_at(&[b"v1".as_slice()])?
        .and_then(|v1| v1.get(b"version").ok().flatten())
        .and_then(varint_exact))
}

/// A backend snapshot whose parent has no record, worded once for every command.
pub fn missing_parent_message(key: &str, parent: &str) -> String {
    format!(
        "{}: parent {} has no record in the snapshotter's metadata.db",
        crate::text::one_line(key),
        crate::text::one_line(parent)
    )
}

/// meta.db's snapshot records of one namespace as (snapshotter, key, parent) whose parent no
/// record of the namespace and snapshotter has, as (snapshotter, key, parent): containerd
/// refuses to remove a parent with children, so the chain is broken (sweep 30.7).
pub fn snapshot_parents_without_records<'s>(
    snaps: impl Iterator<Item = (&'s str, &'s str, Option<&'s str>)> + Clone,
) -> Vec<(&'s str, &'s str, &'s str)> {
    let keys: foldhash::HashSet<(&str, &str)> = snaps.clone().map(|(sn, key, _)| (sn, key)).collect();
    snaps
        .filter_map(|(sn, key, parent)| {
            let parent = parent?;
            (!keys.contains(&(sn, parent))).then_some((sn, key, parent))
        })
        .collect()
}

/// What every reader says of a meta.db snapshot record whose parent has no record.
pub fn snapshot_parent_message(namespace: &str, key: &str, snapshotter: &str, parent: &str) -> String {
    use crate::text::named;
    format!(
        "namespace {}: snapshot {} ({}): its parent {} has no record",
        named(namespace),
        named(key),
        named(snapshotter),
        named(parent)
    )
}

/// What every reader says of a meta.db snapshot record whose backend key the snapshotter's
/// metadata.db (read whole) has no record of: containerd answers "snapshot does not exist".
/// One of the two files lost a record, or a commit was torn between them (containerd commits
/// the backend inside meta.db's transaction; a crash after the first leaves meta.db naming the
/// active key the backend renamed).
pub fn backend_key_missing_message(namespace: &str, key: &str, snapshotter: &str, backend_key: &str) -> String {
    format!(
        "namespace {namespace}: snapshot {key} ({snapshotter}): meta.db names backend key {backend_key}, of which the snapshotter's metadata.db has no record (a record lost, or a commit torn between the two files)"
    )
}

/// The backend snapshots of `snapshotter`'s metadata.db (`tx`), with every id two of them
/// share said as damage naming the file: what each command that reads the records for what
/// they are (not `verify`, which makes findings of them) reads.
pub fn checked_backend_snapshots(tx: &Tx<'_>, snapshotter: &str, damage: &mut Damage) -> Vec<BackendSnapshot> {
    let all = backend_snapshots(tx, damage);
    for (id, keys) in shared_ids(&all) {
        damage.push(format!(
            "{}: {}",
            tx.db().path().display(),
            shared_id_message(snapshotter, id, &keys)
        ));
    }
    all
}

/// What [`shared_ids`] found for snapshotter `snapshotter`, worded once for every command.
pub fn shared_id_message(snapshotter: &str, id: u64, keys: &[&str]) -> String {
    format!(
        "snapshotter {snapshotter}: id {id} is the id of {} snapshots ({}); containerd gives each \
         snapshot its own, so snapshots/{id} holds the files of one of them at most",
        keys.len(),
        keys.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{BackendSnapshot, key_bytes, key_name, parent_loop_message, parent_loops, shared_ids};

    /// A committed snapshot record with no parent.
    fn committed(key: &str, id: Option<u64>) -> BackendSnapshot {
        BackendSnapshot {
            key: key.into(),
            id,
            kind: "Committed".into(),
            parent: None,
            created_at: None,
            updated_at: None,
            labels: Default::default(),
            size: None,
            inodes: None,
        }
    }

    /// Labels mapped last key first are the map inserting them in order makes: for keys in
    /// order, out of order (a damaged page) and repeated (the last value kept), past one
    /// B-tree node.
    #[test]
    fn labels_map_as_inserted_in_order() {
        let in_order = |pairs: &[(String, String)]| {
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in pairs {
                m.insert(k.clone(), v.clone());
            }
            m
        };
        let key = |i: usize| format!("containerd.io/gc.ref.content.l.{i:03}");
        let sorted: Vec<(String, String)> = (0..40).map(|i| (key(i), format!("v{i}"))).collect();
        let mut shuffled: Vec<(String, String)> = (0..40).map(|i| (key(i * 17 % 40), format!("w{i}"))).collect();
        shuffled.extend([
            (key(3), "again".into()),
            (key(39), "last".into()),
            (key(3), "third".into()),
        ]);
        for pairs in [sorted, shuffled, Vec::new()] {
            assert_eq!(super::map_of(pairs.clone()), in_order(&pairs));
        }
    }

    /// A content record read through [`super::Record`] (one pass over its leaf) gives what
    /// searching its bucket for each key gives: the same size, times, labels and damage, in
    /// the same order, for the record as written and for every byte of the first 400 of its
    /// page (header, elements, keys, values) set to each of four values, pages read both ways.
    #[test]
    fn a_record_read_in_one_pass_reads_as_searched() {
        use super::{CONTENT_KEYS, Damage, Record, content_size, labels, time_in};
        use crate::bolt::build::{Tree, build};
        use crate::bolt::{Db, MetaChoice, ReadMode};
        let time = |secs: i64| {
            let mut v = vec![1];
            v.extend_from_slice(&secs.to_be_bytes());
            v.extend_from_slice(&7i32.to_be_bytes());
            v.extend_from_slice(&(-1i16).to_be_bytes());
            v
        };
        let mut root = Tree::new();
        let record = root.bucket(&[b"blob", b"sha256:aa"]);
        record.put(b"createdat", &time(63_900_000_000));
        record.put(b"size", &[0x84, 0x01]);
        record.put(b"updatedat", &time(63_900_000_100));
        record.put(b"expected", b"not read");
        let labels_of = record.bucket(&[b"labels"]);
        labels_of.put(b"containerd.io/gc.ref.content.l.0", b"sha256:bb");
        labels_of.put(b"containerd.io/uncompressed", b"sha256:cc");
        let clean = build(&root);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("meta.db");
        // Everything read of the record both ways, as text.
        let read = |b: &crate::bolt::Bucket<'_>, one_pass: bool| {
            let mut d = Damage::new();
            let what = "record";
            let fields = if one_pass {
                let r = Record::new(b, CONTENT_KEYS);
                (
                    content_size(&r, &what, &mut d).map_err(|e| e.to_string()),
                    time_in(&r, b"createdat", &what, &mut d),
                    time_in(&r, b"updatedat", &what, &mut d),
                    labels(&r, b"labels", &mut d),
                )
            } else {
                (
                    content_size(b, &what, &mut d).map_err(|e| e.to_string()),
                    time_in(b, b"createdat", &what, &mut d),
                    time_in(b, b"updatedat", &what, &mut d),
                    labels(b, b"labels", &mut d),
                )
            };
            let notes: Vec<String> = d.iter().map(|n| n.to_string()).collect();
            format!("{fields:?} {notes:?}")
        };
        let page = {
            std::fs::write(&file, &clean).unwrap();
            let db = Db::open(&file, ReadMode::Mmap).unwrap();
            let tx = db.view(MetaChoice::Current).unwrap();
            let b = tx
                .root()
                .bucket_at(&[b"blob".as_slice(), b"sha256:aa"])
                .unwrap()
                .unwrap();
            // As written, the one pass is taken, and finds the record.
            assert!(Record::new(&b, CONTENT_KEYS).found.is_some());
            assert!(
                read(&b, true).starts_with("(Ok(66), Some(\"2025-11-29T08:00:00.000000007Z\")"),
                "{}",
                read(&b, true)
            );
            usize::try_from(b.root_page()).unwrap()
        };
        let (mut taken, mut compared) = (0, 0);
        for at in 0..400 {
            for byte in [0x00, 0x01, 0x7f, 0xff] {
                let mut bytes = clean.clone();
                bytes[page * 4096 + at] = byte;
                std::fs::write(&file, &bytes).unwrap();
                for mode in [ReadMode::Mmap, ReadMode::Pread] {
                    let db = Db::open(&file, mode).unwrap();
                    let tx = db.view(MetaChoice::Current).unwrap();
                    let Ok(Some(b)) = tx.root().bucket_at(&[b"blob".as_slice(), b"sha256:aa"]) else {
                        continue;
                    };
                    taken += usize::from(Record::new(&b, CONTENT_KEYS).found.is_some());
                    compared += 1;
                    assert_eq!(read(&b, true), read(&b, false), "byte {at} set to {byte:#x}, {mode:?}");
                }
            }
        }
        assert!(
            compared > 3000 && taken > 1000,
            "{compared} compared, {taken} read in one pass"
        );
    }

    /// A scan of records whose pages are read as asked for decodes them a window at a time
    /// (so that a cold file's next window is read ahead meanwhile): whatever the window, the
    /// same records in the same order, with the damage in the same order, as all at once, on
    /// the pool and off it.
    #[test]
    fn a_scan_decoded_in_windows_decodes_as_a_whole() {
        use super::{Damage, RecordStep, decoded_in_windows, image_steps};
        use crate::bolt::build::{Tree, build};
        use crate::bolt::{Db, MetaChoice, ReadMode};
        use crate::damage::Note;
        let mut root = Tree::new();
        for i in 0..11 {
            let record = root.bucket(&[b"v1", b"ns", b"images", format!("img{i:02}").as_bytes()]);
            record.put(b"createdat", b"x");
            if i != 4 {
                record
                    .bucket(&[b"target"])
                    .put(b"digest", format!("sha256:{}", i % 3).as_bytes());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("meta.db");
        std::fs::write(&file, build(&root)).unwrap();
        let db = Db::open(&file, ReadMode::Pread).unwrap();
        assert!(db.reads_lazily());
        let tx = db.view(MetaChoice::Current).unwrap();
        let ns = tx.bucket_at(&[b"v1".as_slice(), b"ns"]).unwrap().unwrap();
        // Odd records found, every record without a target said, in key order.
        let decode = |key: &[u8], b: &crate::bolt::Bucket<'_>, d: &mut Damage| {
            let digest = b
                .bucket(b"target")
                .ok()
                .flatten()
                .and_then(|t| t.get(b"digest").ok().flatten());
            if digest.is_none() {
                d.push(Note::from(format!("{} has no target", String::from_utf8_lossy(key))));
            }
            (key.last().is_some_and(|k| k % 2 == 1)).then(|| (key.to_vec(), digest.map(<[u8]>::to_vec)))
        };
        let pool = crate::pipeline::pool(3);
        let scan = |pool: Option<&rayon::ThreadPool>, window: usize| {
            let mut steps: Vec<RecordStep<'_>> = Vec::new();
            image_steps(&ns, |step| steps.push(step));
            let mut damage = Damage::new();
            let found = decoded_in_windows(pool, steps, &mut damage, decode, Some(window));
            let said: Vec<String> = damage.iter().map(|n| n.to_string()).collect();
            (found, said)
        };
        let whole = {
            let mut steps: Vec<RecordStep<'_>> = Vec::new();
            image_steps(&ns, |step| steps.push(step));
            let mut damage = Damage::new();
            let found = decoded_in_windows(None, steps, &mut damage, decode, None);
            (found, damage.iter().map(|n| n.to_string()).collect::<Vec<String>>())
        };
        assert_eq!(whole.0.len(), 5, "{whole:?}");
        assert_eq!(whole.1.len(), 1, "{whole:?}");
        for window in [0, 1, 2, 3, 5, 11, 12] {
            assert_eq!(scan(None, window), whole, "window {window}");
            assert_eq!(scan(pool.as_ref(), window), whole, "window {window}, on the pool");
        }
    }

    /// Each loop once, from its least key; a chain that runs into a loop, a missing parent
    /// and a base are no loops; a snapshot that is its own parent is one.
    #[test]
    fn parent_loops_are_each_said_once() {
        let snap = |key: &str, parent: Option<&str>| BackendSnapshot {
            parent: parent.map(Into::into),
            ..committed(key, None)
        };
        let snaps = [
            snap("base", None),
            snap("on-base", Some("base")),
            snap("c", Some("b")),
            snap("b", Some("d")),
            snap("d", Some("c")),
            snap("into-loop", Some("c")),
            snap("self", Some("self")),
            snap("orphan", Some("gone")),
        ];
        assert_eq!(parent_loops(&snaps), [vec!["b", "d", "c"], vec!["self"]]);
        assert_eq!(parent_loops(&snaps[..2]), Vec::<Vec<&str>>::new());
        assert_eq!(
            parent_loop_message("overlayfs", &["b", "c", "d"]),
            "snapshotter overlayfs: a parent loop (b -> c -> d -> b): no chain through it reaches a base snapshot"
        );
        // A long loop is named in one line.
        let keys: Vec<String> = (0..1000).map(|i| format!("k{i:04}")).collect();
        let long: Vec<BackendSnapshot> = (0..1000).map(|i| snap(&keys[i], Some(&keys[(i + 1) % 1000]))).collect();
        let loops = parent_loops(&long);
        assert_eq!(loops.len(), 1);
        assert_eq!(loops[0].len(), 1000);
        assert_eq!(loops[0][0], "k0000");
        assert!(
            parent_loop_message("x", &loops[0])
                .ends_with("k0019 -> ... (1000 snapshots in all)): no chain through it reaches a base snapshot")
        );
    }

    /// Ids shared by two or three records, each once with its keys sorted; a record without
    /// an id shares nothing.
    #[test]
    fn shared_ids_group_the_keys_of_each_id() {
        let snap = committed;
        let snaps = [
            snap("c", Some(7)),
            snap("a", Some(7)),
            snap("x", Some(1)),
            snap("n1", None),
            snap("n2", None),
            snap("t2", Some(3)),
            snap("t1", Some(3)),
            snap("t0", Some(3)),
        ];
        assert_eq!(shared_ids(&snaps), [(3, vec!["t0", "t1", "t2"]), (7, vec!["a", "c"])]);
        assert!(shared_ids(&snaps[2..5]).is_empty());
    }

    #[test]
    fn names_never_merge_and_come_back() {
        let names: [&[u8]; 8] = [
            b"plain",
            b"a\xff",
            b"a\xfe",
            b"a\\xff",
            b"a\\\\xff",
            b"a\\",
            b"\xe2\x82",
            b"caf\xc3\xa9",
        ];
        let shown: Vec<String> = names.iter().map(|n| key_name(n)).collect();
        for (i, a) in shown.iter().enumerate() {
            assert_eq!(key_bytes(a).as_ref(), names[i], "{a}");
            for b in shown.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        assert_eq!(key_name(b"plain"), "plain");
        assert_eq!(key_name("café".as_bytes()), "café");
        assert_eq!(key_name(b"a\xff"), "a\\xff");
    }

    /// A name as a table prints it (`key_name`, then the control characters escaped) selects
    /// that record again, and never the record named by the escape's text.
    #[test]
    fn names_printed_with_control_characters_come_back() {
        let names: [&[u8]; 10] = [
            b"a\rb",
            b"a\\rb",
            b"a\nb\tc",
            b"a\\nb",
            "a\u{202e}b".as_bytes(),
            b"a\\u{202e}b",
            b"a\x1bb",
            b"a\\x1bb",
            b"a\\u{zz}",
            b"a\\u{110000}",
        ];
        let printed: Vec<String> = names
            .iter()
            .map(|n| crate::text::one_line(&key_name(n)).into_owned())
            .collect();
        for (i, p) in printed.iter().enumerate() {
            assert!(!p.chars().any(char::is_control), "{p:?}");
            assert_eq!(key_bytes(p).as_ref(), names[i], "{p}");
            for q in printed.iter().skip(i + 1) {
                assert_ne!(p, q);
            }
        }
        assert_eq!(printed[0], "a\\rb");
        assert_eq!(printed[4], "a\\u{202e}b");
    }
}
