//! Shared helpers of the bbolt integration tests: fixture paths, golden files, a library-level
//! dump in the golden's shape, running the CLI with a time limit, mutating copies of fixtures,
//! a tiny deterministic PRNG, and a little-endian to big-endian converter for bbolt files.
//!
//! Every test crate that uses this module uses only part of it.
#![allow(dead_code)]

use coldctr::bolt::{BoltError, Db, Item, MetaChoice, walk};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The four containerd roots under `fixtures/`.
pub const FIXTURES: [&str; 4] = ["containerd-1.6", "containerd-1.7", "docker-28.5", "docker-28.5-damaged"];

/// (golden suffix, path of the DB inside a containerd root).
pub const DBS: [(&str, &str); 2] = [
    ("meta", "io.containerd.metadata.v1.bolt/meta.db"),
    ("overlayfs", "io.containerd.snapshotter.v1.overlayfs/metadata.db"),
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<fixture>/<db path>` for `db` = "meta" or "overlayfs".
pub fn db_path(fixture: &str, db: &str) -> PathBuf {
    let rel = DBS
        .iter()
        .find(|(name, _)| *name == db)
        .map(|(_, rel)| *rel)
        .expect("db is meta or overlayfs");
    repo().join("fixtures").join(fixture).join(rel)
}

/// Every fixture DB as ("<fixture>.<db>", path); the name is also its golden's name.
pub fn all_dbs() -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    for f in FIXTURES {
        for (db, _) in DBS {
            v.push((format!("{f}.{db}"), db_path(f, db)));
        }
    }
    v
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of `fixtures/golden/<name>.jsonl`, canonicalised and sorted.
pub fn golden(name: &str) -> Vec<String> {
    let path = repo().join("fixtures/golden").join(format!("{name}.jsonl"));
    let text = String::from_utf8(read(&path)).expect("golden is UTF-8");
    canon_lines(&text)
}

/// Parses JSON Lines and returns each object re-serialised (keys sorted), sorted: a set
/// comparison that ignores line order and the encoder's escaping choices.
pub fn canon_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let value: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            canon(&value)
        })
        .collect();
    v.sort();
    v
}

/// A JSON value with object keys sorted, as a string.
pub fn canon(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).expect("serialisable")
}

/// A bucket or key name as the golden writes it.
pub fn name_json(b: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(b) {
        Ok(s) => serde_json::Value::String(s.to_owned()),
        Err(_) => serde_json::json!({ "hex": hex::encode(b) }),
    }
}

/// What a full library walk of one view sees: the golden's records (canonical, sorted) and
/// the damage met.
pub struct LibDump {
    pub records: Vec<String>,
    pub damage: Vec<BoltError>,
}

/// Walks everything through `choice` with `bolt::walk::walk` and records it in the golden's
/// shape.
pub fn lib_dump(db: &Db, choice: MetaChoice) -> Result<LibDump, BoltError> {
    struct Rec(Vec<String>, Vec<BoltError>);
    impl<'a> walk::Visitor<'a> for Rec {
        fn item(&mut self, names: &[&'a [u8]], item: &Item<'a>) -> std::io::Result<()> {
            let bucket: Vec<serde_json::Value> = names.iter().map(|n| name_json(n)).collect();
            let value = if item.is_bucket {
                serde_json::Value::Null
            } else {
                serde_json::Value::String(hex::encode(item.value))
            };
            let v = serde_json::json!({ "bucket": bucket, "key": name_json(item.key), "value": value });
            self.0.push(canon(&v));
            Ok(())
        }
        fn damage(&mut self, error: BoltError) {
            self.1.push(error);
        }
    }
    let tx = db.view(choice)?;
    let mut rec = Rec(Vec::new(), Vec::new());
    walk::walk(&tx.root(), &mut Vec::new(), &mut rec).expect("collecting cannot fail");
    rec.0.sort();
    Ok(LibDump {
        records: rec.0,
        damage: rec.1,
    })
}

/// One golden record decoded: bucket path (raw bytes), key, value (None for a bucket).
pub struct GoldenRecord {
    pub bucket: Vec<Vec<u8>>,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

fn name_bytes(v: &serde_json::Value) -> Vec<u8> {
    match v {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        serde_json::Value::Object(m) => hex::decode(m["hex"].as_str().expect("hex name")).expect("hex"),
        other => panic!("unexpected name {other}"),
    }
}

/// The golden `name`, decoded, in file order.
pub fn golden_records(name: &str) -> Vec<GoldenRecord> {
    let path = repo().join("fixtures/golden").join(format!("{name}.jsonl"));
    let text = String::from_utf8(read(&path)).expect("golden is UTF-8");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("golden line is JSON");
            GoldenRecord {
                bucket: v["bucket"]
                    .as_array()
                    .expect("bucket array")
                    .iter()
                    .map(name_bytes)
                    .collect(),
                key: name_bytes(&v["key"]),
                value: v["value"].as_str().map(|h| hex::decode(h).expect("hex value")),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the binary.

/// Output of one CLI run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `coldctr <args>`; fails the test if it runs longer than two minutes (a hang) or dies
/// from a signal (a panic aborts with code 101, which the callers' code checks catch).
pub fn coldctr<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn coldctr");
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let shown: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
            panic!("coldctr {} did not finish in 120 s", shown.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_t.join().expect("stdout reader");
    let stderr = err_t.join().expect("stderr reader");
    let run = Run {
        code: status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(
        run.code.is_some(),
        "coldctr killed by a signal: {:?}\nstderr: {}",
        status,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "coldctr panicked: {}", run.stderr);
    run
}

// ---------------------------------------------------------------------------------------------
// Mutating copies.

/// A writable copy of `src` in a fresh temp dir.
pub fn temp_copy(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = src.file_name().expect("file name");
    let dst = dir.path().join(name);
    write_file(&dst, &read(src));
    (dir, dst)
}

/// Writes `data` to `path` (creating it 0644).
pub fn write_file(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Writes `data` to a new file in a fresh temp dir.
pub fn temp_file(name: &str, data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    write_file(&path, data);
    (dir, path)
}

pub fn le_u16(d: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(d[off..off + 2].try_into().expect("2 bytes"))
}
pub fn le_u32(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(d[off..off + 4].try_into().expect("4 bytes"))
}
pub fn le_u64(d: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(d[off..off + 8].try_into().expect("8 bytes"))
}
pub fn put_le_u16(d: &mut [u8], off: usize, v: u16) {
    d[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
pub fn put_le_u32(d: &mut [u8], off: usize, v: u32) {
    d[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
pub fn put_le_u64(d: &mut [u8], off: usize, v: u64) {
    d[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Page size, high-water mark and current meta slot of a little-endian file, read directly
/// (not through the engine) from whichever meta has the higher txid.
pub struct Layout {
    pub page_size: usize,
    pub hwm: u64,
    pub current: usize,
}

pub fn layout(d: &[u8]) -> Layout {
    let ps = le_u32(d, 24) as usize;
    let txid = |slot: usize| le_u64(d, slot * ps + 64);
    let current = if txid(1) > txid(0) { 1 } else { 0 };
    Layout {
        page_size: ps,
        hwm: le_u64(d, current * ps + 56),
        current,
    }
}

/// The mutation documented in tools/bbolt-dump/regen.sh: XOR 0xff into the first byte of the
/// checksum of meta page `slot` (page offset 72).
pub fn break_meta_checksum(d: &mut [u8], slot: usize) {
    let ps = le_u32(d, 24) as usize;
    d[slot * ps + 72] ^= 0xff;
}

/// FNV-1a 64, independent of the engine's.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Rewrites the checksum of meta page `slot` of a little-endian file after editing it.
pub fn reseal_meta_le(d: &mut [u8], slot: usize, ps: usize) {
    let base = slot * ps;
    let sum = fnv1a64(&d[base + 16..base + 72]);
    put_le_u64(d, base + 72, sum);
}

/// Marsaglia's xorshift64: deterministic, no dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Little-endian to big-endian.

/// Converts a little-endian bbolt file to the file a big-endian machine would have written:
/// both metas (checksums recomputed over the swapped bytes), and every page reachable from
/// either meta: page headers, branch and leaf elements, freelist ids, and nested bucket
/// headers inside leaf values, inline bucket pages recursively. Free pages are left as they
/// are (no reader looks inside them). Reads only from `le`, writes only into the copy, so a
/// page reached twice is converted to the same bytes.
pub fn to_big_endian(le: &[u8]) -> Vec<u8> {
    let mut be = le.to_vec();
    let ps = le_u32(le, 24) as usize;
    let mut done = HashSet::new();
    for slot in 0..2 {
        let base = slot * ps;
        swap_page_header(le, &mut be, base);
        // magic, version, pageSize, flags
        for off in [16, 20, 24, 28] {
            swap32(le, &mut be, base + off);
        }
        // root, sequence, freelist, pgid, txid
        for off in [32, 40, 48, 56, 64] {
            swap64(le, &mut be, base + off);
        }
        let sum = fnv1a64(&be[base + 16..base + 72]);
        be[base + 72..base + 80].copy_from_slice(&sum.to_be_bytes());
        let root = le_u64(le, base + 32);
        let freelist = le_u64(le, base + 48);
        convert_tree(le, &mut be, ps, root, &mut done, 0);
        if freelist != u64::MAX && done.insert(freelist) {
            let off = freelist as usize * ps;
            let count = le_u16(le, off + 10);
            swap_page_header(le, &mut be, off);
            let (start, n) = if count == 0xFFFF {
                swap64(le, &mut be, off + 16);
                (off + 24, le_u64(le, off + 16) as usize)
            } else {
                (off + 16, usize::from(count))
            };
            for i in 0..n {
                swap64(le, &mut be, start + 8 * i);
            }
        }
    }
    be
}

fn swap16(le: &[u8], be: &mut [u8], off: usize) {
    be[off..off + 2].copy_from_slice(&le_u16(le, off).to_be_bytes());
}
fn swap32(le: &[u8], be: &mut [u8], off: usize) {
    be[off..off + 4].copy_from_slice(&le_u32(le, off).to_be_bytes());
}
fn swap64(le: &[u8], be: &mut [u8], off: usize) {
    be[off..off + 8].copy_from_slice(&le_u64(le, off).to_be_bytes());
}

fn swap_page_header(le: &[u8], be: &mut [u8], off: usize) {
    swap64(le, be, off);
    swap16(le, be, off + 8);
    swap16(le, be, off + 10);
    swap32(le, be, off + 12);
}

/// Converts page `id` and everything below it.
fn convert_tree(le: &[u8], be: &mut [u8], ps: usize, id: u64, done: &mut HashSet<u64>, depth: usize) {
    assert!(depth < 64, "fixture tree too deep");
    if !done.insert(id) {
        return;
    }
    let off = id as usize * ps;
    convert_node(le, be, ps, off, done, depth);
}

/// Converts the branch or leaf node whose header is at file offset `off` (a real page or an
/// inline bucket page inside a leaf value).
fn convert_node(le: &[u8], be: &mut [u8], ps: usize, off: usize, done: &mut HashSet<u64>, depth: usize) {
    let flags = le_u16(le, off + 8);
    let count = usize::from(le_u16(le, off + 10));
    swap_page_header(le, be, off);
    for i in 0..count {
        let e = off + 16 + 16 * i;
        match flags {
            0x01 => {
                let child = le_u64(le, e + 8);
                swap32(le, be, e);
                swap32(le, be, e + 4);
                swap64(le, be, e + 8);
                convert_tree(le, be, ps, child, done, depth + 1);
            }
            0x02 => {
                let eflags = le_u32(le, e);
                let pos = le_u32(le, e + 4) as usize;
                let ksize = le_u32(le, e + 8) as usize;
                let vsize = le_u32(le, e + 12) as usize;
                for f in [0, 4, 8, 12] {
                    swap32(le, be, e + f);
                }
                if eflags & 0x01 != 0 {
                    let v = e + pos + ksize;
                    assert!(vsize >= 16, "bucket header too short");
                    let root = le_u64(le, v);
                    swap64(le, be, v);
                    swap64(le, be, v + 8);
                    if root == 0 {
                        convert_node(le, be, ps, v + 16, done, depth + 1);
                    } else {
                        convert_tree(le, be, ps, root, done, depth + 1);
                    }
                }
            }
            other => panic!("page at offset {off}: unexpected flags {other:#x}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-made files.

/// A little-endian 4096-byte-page file as bbolt `init` lays it out, with `root_leaf` (the
/// bytes after the 16-byte page header: elements and data) as the root bucket's leaf page 3
/// holding `count` elements: meta 0 (txid 0), meta 1 (txid 1), an empty freelist at page 2.
pub fn tiny_db(count: u16, root_leaf: &[u8]) -> Vec<u8> {
    const PS: usize = 4096;
    assert!(root_leaf.len() <= PS - 16, "root leaf too large");
    let mut d = vec![0u8; 4 * PS];
    for slot in 0..2 {
        let b = slot * PS;
        put_le_u64(&mut d, b, slot as u64);
        put_le_u16(&mut d, b + 8, 0x04);
        put_le_u32(&mut d, b + 16, 0xED0C_DAED);
        put_le_u32(&mut d, b + 20, 2);
        put_le_u32(&mut d, b + 24, PS as u32);
        put_le_u64(&mut d, b + 32, 3);
        put_le_u64(&mut d, b + 48, 2);
        put_le_u64(&mut d, b + 56, 4);
        put_le_u64(&mut d, b + 64, slot as u64);
        reseal_meta_le(&mut d, slot, PS);
    }
    put_le_u64(&mut d, 2 * PS, 2);
    put_le_u16(&mut d, 2 * PS + 8, 0x10);
    put_le_u64(&mut d, 3 * PS, 3);
    put_le_u16(&mut d, 3 * PS + 8, 0x02);
    put_le_u16(&mut d, 3 * PS + 10, count);
    d[3 * PS + 16..3 * PS + 16 + root_leaf.len()].copy_from_slice(root_leaf);
    d
}

/// A nested-bucket value (16-byte header with root 0, then an inline leaf page) whose `fanout`
/// elements are all buckets sharing one value: the next level down, `levels` deep. Each
/// level costs 32 + 16 * fanout bytes. A walk that does not remember inline pages it has
/// already entered does fanout^levels work on it.
pub fn shared_inline_buckets(levels: usize, fanout: usize) -> Vec<u8> {
    let mut v = vec![0u8; 32];
    put_le_u16(&mut v, 16 + 8, 0x02); // the innermost: an empty inline leaf
    for _ in 0..levels {
        let inner = v;
        let elems = 16 * fanout;
        let mut out = vec![0u8; 32 + elems];
        put_le_u16(&mut out, 16 + 8, 0x02);
        put_le_u16(&mut out, 16 + 10, fanout as u16);
        for i in 0..fanout {
            let e = 32 + 16 * i; // element offset in `out`
            put_le_u32(&mut out, e, 0x01); // bucket
            put_le_u32(&mut out, e + 4, (32 + elems - e) as u32); // pos: to the shared value
            put_le_u32(&mut out, e + 8, 0); // empty key
            put_le_u32(&mut out, e + 12, inner.len() as u32);
        }
        out.extend_from_slice(&inner);
        v = out;
    }
    v
}

/// The elements and data of a leaf with one element: key `key`, `value`, `flags`.
pub fn one_element_leaf(flags: u32, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut l = vec![0u8; 16];
    put_le_u32(&mut l, 0, flags);
    put_le_u32(&mut l, 4, 16);
    put_le_u32(&mut l, 8, key.len() as u32);
    put_le_u32(&mut l, 12, value.len() as u32);
    l.extend_from_slice(key);
    l.extend_from_slice(value);
    l
}
