//! What the fuzz targets run, as plain functions.
//!
//! `fuzz_targets/*.rs` call these, and `tests/bolt_fuzz_regressions.rs` in the main crate
//! includes this very file (`#[path]`) to replay every input kept under `fixtures/fuzz/`, so a
//! regression file goes through exactly the code path that once crashed or hung.
//!
//! Only the public API of `coldctr` is used; nothing here panics on its own but the
//! assertions of what coldctr must always answer (a failed one is a bug the fuzzer found).

use coldctr::bolt::{Bucket, Db, Entry, MetaChoice, ReadMode, Tx, check, pages, walk};
use coldctr::containerd::encoding::{any, uvarint, varint};
use coldctr::containerd::gotime::GoTime;
use coldctr::containerd::schema::{describe_key, describe_value};
use coldctr::source::tar::{
    Compression, HEAD, Kept, index_at, index_at_keeping, index_reader, open_member, read_member,
};
use coldctr::text;
use std::io::Read;

/// Bucket names containerd uses, so lookups reach real code paths on seed inputs.
const NAMES: [&[u8]; 8] = [
    b"v1",
    b"default",
    b"moby",
    b"images",
    b"content",
    b"snapshots",
    b"leases",
    b"version",
];

/// Opens `data` as a bbolt file and, through each meta page that validates, runs a full walk,
/// the `check` audit, the page table, the freelist, and lookups of keys met on the way; then
/// does it all again with both meta checksums recomputed.
pub fn bolt_walk(data: &[u8]) {
    walk_file(data.to_vec());
    // A mutated meta field almost never keeps a valid checksum, so the fuzzer would hardly
    // ever see a meta with an odd page size, root, freelist or high-water mark: reseal them.
    if let Some(resealed) = reseal_metas(data) {
        walk_file(resealed);
    }
}

/// FNV-1a 64, the meta checksum.
fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `data` with the checksums of meta pages 0 (offset 0) and 1 (offset pageSize of meta 0,
/// 4096 when that is implausible) recomputed in the byte order of meta 0's magic; `None`
/// when nothing changes.
fn reseal_metas(data: &[u8]) -> Option<Vec<u8>> {
    let magic = data.get(16..20)?;
    let big = match magic {
        [0xed, 0xda, 0x0c, 0xed] => false,
        [0xed, 0x0c, 0xda, 0xed] => true,
        _ => return None,
    };
    let word = |b: &[u8]| -> Option<u32> {
        let a: [u8; 4] = b.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let ps = word(data.get(24..28)?)?;
    let ps = if (512..=1 << 24).contains(&ps) && ps.is_power_of_two() {
        ps as usize
    } else {
        4096
    };
    let mut out = data.to_vec();
    for base in [0, ps] {
        let Some(body) = out.get(base + 16..base + 72) else {
            continue;
        };
        let sum = fnv1a64(body);
        let bytes = if big { sum.to_be_bytes() } else { sum.to_le_bytes() };
        if let Some(slot) = out.get_mut(base + 72..base + 80) {
            slot.copy_from_slice(&bytes);
        }
    }
    (out != data).then_some(out)
}

fn walk_file(data: Vec<u8>) {
    read_page_by_page_agrees(&data);
    let Ok(db) = Db::from_bytes("fuzz.db", data) else {
        return;
    };
    let _ = (db.fell_back(), db.current_slot(), db.file_size(), db.pages_read());
    for choice in [MetaChoice::Current, MetaChoice::Slot(0), MetaChoice::Slot(1)] {
        let Ok(tx) = db.view(choice) else {
            continue;
        };
        let (_keys, damage) = walk::count(&tx.root());
        for e in &damage {
            let _ = e.to_string();
        }
        for f in check::check(&tx) {
            let _ = f.to_string();
        }
        let _ = pages::list(&tx);
        let _ = tx.freelist();
        lookups(&tx);
    }
}

/// Read from a file page by page (`pread`, as lookups read meta.db: a page's first bytes when
/// its elements lie in them), the current tree walks to the same keys and the same damage as
/// from memory.
fn read_page_by_page_agrees(data: &[u8]) {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("coldctr-fuzz-{}-{n}.db", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let summary = |db: Db| {
        db.view(MetaChoice::Current).map(|tx| {
            let (keys, damage) = walk::count(&tx.root());
            let damage: Vec<String> = damage.iter().map(|e| e.to_string()).collect();
            (keys, damage)
        })
    };
    let lazily = Db::open(&path, ReadMode::Pread).map(summary);
    let in_memory = Db::from_bytes(&path, data.to_vec()).map(summary);
    let _ = std::fs::remove_file(&path);
    match (lazily, in_memory) {
        (Ok(Ok(a)), Ok(Ok(b))) => assert_eq!(a, b, "page by page and in memory disagree"),
        (a, b) => assert_eq!(
            (a.is_ok(), a.is_ok_and(|v| v.is_ok())),
            (b.is_ok(), b.is_ok_and(|v| v.is_ok())),
            "page by page and in memory disagree on opening"
        ),
    }
}

/// Lookups along one path each: fixed containerd names, then the first keys a cursor meets
/// (and the keys of the first buckets among them), looked up again by name.
fn lookups(tx: &Tx<'_>) {
    for name in NAMES {
        let _ = tx.bucket_at(&[name]);
        let _ = tx.root().get(name);
    }
    let _ = tx.bucket_at(&[b"v1".as_slice(), b"moby", b"images"]);
    let _ = tx.bucket_at(&[b"v1".as_slice(), b"snapshots"]);
    let _ = tx.root().get(b"");
    let _ = tx.root().get(&[0xff; 64]);
    lookup_under(&tx.root(), 0);
}

fn lookup_under(bucket: &Bucket<'_>, level: usize) {
    seekable_walk_agrees(bucket);
    let _ = bucket.estimated_keys();
    for item in bucket.cursor().take(8) {
        let Ok(item) = item else {
            continue;
        };
        let _ = bucket.get(item.key);
        let _ = bucket.entry(item.key);
        if item.is_bucket
            && level < 3
            && let Ok(Some(child)) = bucket.bucket(item.key)
        {
            let _ = (child.is_inline(), child.root_page(), child.sequence);
            lookup_under(&child, level + 1);
        }
    }
}

/// containerd's value decoders and the text escaper on arbitrary bytes.
///
/// The input is also split at 0xff bytes into bucket names, a key and a value, so that the
/// schema's choice by key name and place is driven too.
pub fn values(data: &[u8]) {
    if let Ok(t) = GoTime::decode(data) {
        let _ = t.rfc3339_nano();
    }
    // Any instant and offset, not only the ones `decode` accepts.
    if let (Some(a), Some(b), Some(c)) = (data.get(0..8), data.get(8..12), data.get(12..16)) {
        let t = GoTime {
            unix: i64::from_le_bytes(a.try_into().unwrap_or_default()),
            nanos: u32::from_le_bytes(b.try_into().unwrap_or_default()),
            offset: i32::from_le_bytes(c.try_into().unwrap_or_default()),
        };
        let _ = t.rfc3339_nano();
    }
    let _ = uvarint(data);
    let _ = varint(data);
    let _ = any(data);
    let _ = text::escape(data);
    let _ = text::is_plain(data);
    let mut parts: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    let value = parts.pop().unwrap_or_default();
    let key = parts.pop().unwrap_or_default();
    let _ = describe_value(&parts, key, value);
    let _ = describe_key(&parts, key);
}

/// An image inspect body as dockerd returned it (labels, healthcheck, nulls, odd characters).
const INSPECT_BODY: &str = include_str!(
    "../../fixtures/expected/docker-28.5/raw/sha256-ba6ca0d4f91b586fdab0a8eaf14a8ca6e40ecbea2a305cd1c3df4ca1837b323f__v1.51.json"
);

/// Parses `data` as a `--format` template and, when it parses, executes it as
/// `coldctr inspect` does: on the typed `InspectResponse`, and on the raw body with
/// `missingkey=error`; and on the raw body as a listing would. Output goes nowhere.
/// A `container inspect` body with a member for each kind of method and named type.
const CONTAINER_BODY: &str = r#"{"Id":"c1","Name":"/web","State":{"Status":"exited","ExitCode":3},
"HostConfig":{"NetworkMode":"container:db","IpcMode":"shareable","PidMode":"host","UTSMode":"",
"UsernsMode":"host","CgroupnsMode":"private","Cgroup":"container:x","Isolation":"HyperV",
"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2},"ConsoleSize":[24,80],
"CapAdd":["NET_ADMIN"],"PortBindings":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"53/udp":null},
"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024},null],"BlkioWeightDevice":[{"Path":"/dev/sda","Weight":300}]},
"Config":{"Cmd":["sh","-c","x\u00e9"],"ExposedPorts":{"80/tcp":{},"abc":{}},"Labels":{"k":"\udbff\udfff"}},
"NetworkSettings":{"Ports":{"80/tcp":null,"/tcp":[]},"Networks":{"bridge":{"IPAMConfig":{"IPv4Address":"10.0.0.2"}},"host":{}}},
"ImageManifestDescriptor":{"digest":"sha256:abc","size":1}}"#;

pub fn template(data: &[u8]) {
    use coldctr::template::{MissingKey, Numbers, Template, Value};
    let text = String::from_utf8_lossy(data);
    let Ok(t) = Template::parse(&text) else { return };
    if let Some(typed) = coldctr::inspect::gotypes::inspect_response_str(INSPECT_BODY) {
        let _ = t.execute_value(&typed, MissingKey::Default, &mut std::io::sink());
    }
    // And on a container's body, whose types have methods (`.HostConfig.NetworkMode.IsHost`,
    // `$port.Int`, a `*Ulimit`'s `String`) and named composites (`nat.PortMap`, `[2]uint`).
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(CONTAINER_BODY) {
        let typed = coldctr::containers::gotypes::inspect_response(&body);
        let _ = t.execute_value(&typed, MissingKey::Default, &mut std::io::sink());
    }
    for numbers in [Numbers::JsonNumber, Numbers::Float64] {
        if let Some(raw) = Value::from_json_str(INSPECT_BODY, numbers) {
            let _ = t.execute_value(&raw, MissingKey::Error, &mut std::io::sink());
            let _ = t.execute_value(&raw, MissingKey::Default, &mut std::io::sink());
        }
    }
}

/// The parsers of what users type and of names read from disk, on arbitrary text: image
/// references, platforms, digests, `--filter` values and their globs; and the record-name
/// escape, whose round trip must hold for any bytes (two names never merge).
pub fn names(data: &[u8]) {
    use coldctr::cli::listings::filter::{Filters, glob_match};
    use coldctr::containerd::records::{key_bytes, key_name};
    let shown = key_name(data);
    assert_eq!(key_bytes(&shown).as_ref(), data, "key_name does not round-trip");
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let first = fields.next().unwrap_or_default();
    let second = fields.next().unwrap_or_default();
    let _ = coldctr::image::reference::parse_any(first);
    let _ = coldctr::image::reference::parse_normalized_named(first);
    let _ = coldctr::image::platform::parse(first);
    let _ = coldctr::image::platform::parse_host(first);
    let _ = coldctr::digest::Digest::parse(first);
    let _ = glob_match(first, second);
    let specs: Vec<String> = text.split('\n').map(String::from).collect();
    let kind = Some(coldctr::cli::listings::filter::Kind::Images);
    if let Ok(f) = Filters::parse(&specs, &["reference", "dangling", "label", "before", "since"], kind) {
        let row = serde_json::json!({"name": second, "labels": {"k": first}, "size": 1});
        let _ = f.ctr_matches(&row);
    }
    // /proc/locks: the holders of one inode, never our own pid, at most one a line.
    let held = coldctr::bolt::holders::parse(&text, 0xfd, 1, 1_319_176, 66);
    assert!(held.len() <= text.lines().count());
    assert!(held.iter().all(|h| h.pid != Some(66) && h.pid != Some(0)));
    // /proc/self/mountinfo: any line reads or is passed over; paths found are absolute.
    let mounts = coldctr::export::mounts::Table::parse(data);
    let path = std::path::Path::new("/a/b");
    if let Some(p) = mounts.on_file_system(path, libc::makedev(8, 1)) {
        assert!(p.is_absolute());
    }
    let _ = mounts.overlay_writes_to(path, libc::makedev(0, 52));
    hazards_hold(data);
}

/// containerd filters and Go regexps on arbitrary text: the first line is a pattern, the rest
/// filters (one a line) of each listing. Parsing, translating and matching never panic and
/// stay bounded; a filter that parses matches a row without panicking; a pattern that Go's
/// syntax takes compiles to one the crate takes, or is refused by the size limits alone.
pub fn filters(data: &[u8]) {
    use coldctr::cli::listings::filter::{Filters, Kind};
    use coldctr::cli::listings::goregex;
    let text = String::from_utf8_lossy(data);
    let (pattern, rest) = text.split_once('\n').unwrap_or((&text, ""));
    if let Some(rust) = goregex::translate(pattern)
        && let Some(re) = goregex::compile(pattern)
    {
        assert!(!rust.is_empty() || pattern.is_empty() || re.is_match(""));
        let _ = re.is_match(rest);
    }
    let specs: Vec<String> = rest.split('\n').map(String::from).collect();
    let row = serde_json::json!({
        "name": pattern, "id": pattern, "key": pattern, "digest": pattern, "image": pattern,
        "runtime": rest, "parent": null, "kind": "Active",
        "labels": {"a": pattern, "a.b": rest, "": "empty"},
        "target": {"digest": pattern, "mediaType": rest, "annotations": {"k": pattern}},
    });
    for kind in [
        Kind::Images,
        Kind::Content,
        Kind::Containers,
        Kind::Leases,
        Kind::Snapshots,
        Kind::Namespaces,
    ] {
        match Filters::parse(&specs, &["label", "label!"], Some(kind)) {
            Ok(f) => {
                let _ = f.ctr_matches(&row);
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
}

/// The text commands' stdout writer on any bytes, written whole and cut at every point: the
/// same output either way; JSON it is given stays JSON of the same value, with no hazard raw.
fn hazards_hold(data: &[u8]) {
    use std::io::Write;
    let through = |cuts: &[usize]| {
        let mut out = Vec::new();
        let mut h = coldctr::text::Hazards::new(&mut out);
        let mut from = 0;
        for &at in cuts.iter().chain(std::iter::once(&data.len())) {
            h.write_all(data.get(from..at).unwrap_or_default()).unwrap();
            from = at;
        }
        h.flush().unwrap();
        drop(h);
        out
    };
    let whole = through(&[]);
    for cut in 1..data.len().min(64) {
        assert_eq!(through(&[cut]), whole, "cut at {cut}");
    }
    let json = serde_json::to_vec(&String::from_utf8_lossy(data)).unwrap();
    let mut out = Vec::new();
    let mut h = coldctr::text::Hazards::new(&mut out);
    h.write_all(&json).unwrap();
    h.flush().unwrap();
    drop(h);
    let back: String = serde_json::from_slice(&out).expect("still JSON");
    assert_eq!(back, String::from_utf8_lossy(data), "the same value");
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text
            .chars()
            .any(|c| c == '\u{7f}' || c == '\u{202e}' || c == '\u{200b}'),
        "raw hazard"
    );
}

/// Carves `data` as a meta.db: through the metas when one validates (both as given and with
/// the checksums resealed), and raw with each plausible page size and both byte orders, and
/// with the ones its pages show; every record serialized as `recover --format json` prints it.
pub fn carve(data: &[u8]) {
    use coldctr::bytes::Endian;
    use coldctr::recover::{recover, recover_raw};
    let mut files = vec![data.to_vec()];
    files.extend(reseal_metas(data));
    for file in files {
        if let Ok(db) = Db::from_bytes("fuzz.db", file) {
            let r = recover(&db);
            let _ = serde_json::to_string(&r);
        }
    }
    for page_size in [512u32, 4096, 65536] {
        for endian in [Endian::Little, Endian::Big] {
            let r = recover_raw(data, page_size, endian);
            let _ = serde_json::to_string(&r);
        }
    }
    // What `recover` does with no valid meta: the layout its pages show, then the carve.
    let (page_size, endian) = coldctr::recover::guess_layout(data, &coldctr::bolt::DataExtents::whole());
    assert!(page_size.is_power_of_two() && (512..=1 << 20).contains(&page_size));
    let _ = serde_json::to_string(&recover_raw(data, page_size, endian));
}

/// Builds the salvage view of `data` (as `--salvage` does) through each meta that validates
/// (as given and resealed) with every option, and raw with each plausible page size and both
/// byte orders: the view built from the carved nodes must always be a bbolt file that opens
/// and that `check` finds clean, and whose records the readers walk.
pub fn salvage_view(data: &[u8]) {
    use coldctr::bytes::Endian;
    use coldctr::recover::view::{Options, salvage_db, salvage_raw};
    let all = [
        Options::default(),
        Options {
            include_deleted: true,
            ..Options::default()
        },
        Options {
            previous: true,
            ..Options::default()
        },
        Options {
            deleted_images_only: true,
            ..Options::default()
        },
    ];
    let mut files = vec![data.to_vec()];
    files.extend(reseal_metas(data));
    for file in files {
        if let Ok(db) = Db::from_bytes("fuzz.db", file) {
            for opts in all {
                check_view(salvage_db(&db, opts));
            }
        }
    }
    for page_size in [512u32, 4096] {
        for endian in [Endian::Little, Endian::Big] {
            let opts = Options {
                include_deleted: true,
                ..Options::default()
            };
            check_view(salvage_raw("fuzz.db", data, page_size, endian, opts));
        }
    }
}

fn check_view(s: coldctr::recover::view::Salvage) {
    let _ = s.report.lines();
    let _ = serde_json::to_string(&s.report);
    let bytes = coldctr::bolt::build::build(&s.tree);
    let db = match Db::from_bytes("view.db", bytes) {
        Ok(db) => db,
        Err(e) => panic!("the built view does not open: {e}"),
    };
    let tx = match db.view(MetaChoice::Current) {
        Ok(tx) => tx,
        Err(e) => panic!("the built view has no current tree: {e}"),
    };
    let findings = check::usage(&tx).findings;
    assert!(findings.is_empty(), "the built view is not clean: {}", findings[0]);
    let mut damage = coldctr::containerd::records::Damage::new();
    let _ = coldctr::meta_diff::records_of(&tx, &mut damage);
}

/// `data` with the checksum of every block that has a ustar magic recomputed, `None` when
/// nothing changes: a mutated header almost never keeps a valid checksum, so without this
/// the fuzzer would hardly get past the first header it touches.
fn reseal(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(512) {
        if block.get(257..262) != Some(b"ustar".as_slice()) {
            continue;
        }
        block.get_mut(148..156)?.fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block
            .get_mut(148..156)?
            .copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }
    (out != data).then_some(out)
}

/// The archive_index target: indexed streamed and in place (which must agree), every member
/// read and resolved; then the same with every ustar checksum recomputed.
pub fn archive_index(data: &[u8]) {
    archive_index_one(data);
    if let Some(resealed) = reseal(data) {
        archive_index_one(&resealed);
    }
}

fn archive_index_one(data: &[u8]) {
    // In memory there is no I/O error: damage must come back as problems, never as Err.
    let streamed = index_reader(data).expect("index_reader on bytes");
    let placed = index_at(data).expect("index_at on bytes");
    assert_eq!(streamed.members, placed.members);
    assert_eq!(streamed.problems, placed.problems);
    assert_eq!(streamed.compression, placed.compression);
    let mut last_end = 0;
    for m in &placed.members {
        // Every member's data follows its own header, after the previous member's data.
        assert!(m.offset >= m.header_offset + 512 && m.header_offset >= last_end);
        assert_eq!(m.offset % 512, 0);
        last_end = m.offset + m.size;
        if placed.compression == Compression::None {
            assert!(last_end <= data.len() as u64);
        }
        if let Ok(mut r) = open_member(data, &placed, m) {
            let _ = std::io::copy(&mut r.by_ref().take(1 << 20), &mut std::io::sink());
        }
        if let Ok(whole) = read_member(data, &placed, m, 1 << 20) {
            assert_eq!(whole.len() as u64, m.size);
        }
        let _ = placed.resolve(&m.name, 16);
        let _ = placed.get(&m.name);
    }
    for (_, name, problem) in &placed.problems {
        let _ = (name.len(), problem.to_string());
    }
    // What a compressed archive's pass keeps is what reading the member gives, and the index
    // is the same whether data is kept or not.
    let (kept_index, kept) = index_at_keeping(data, Kept::new(1 << 10, 1 << 14)).expect("index_at_keeping on bytes");
    assert_eq!(kept_index.members, placed.members);
    assert_eq!(kept_index.problems, placed.problems);
    assert!(kept.bytes <= 1 << 14);
    for m in &placed.members {
        if let Some(bytes) = kept.data.get(&m.header_offset) {
            assert_eq!(Some(&bytes[..]), read_member(data, &placed, m, 1 << 10).ok().as_deref());
        }
        if let Some(head) = kept.heads.get(&m.header_offset) {
            assert!(head.len() <= HEAD && head.len() as u64 <= m.size);
        }
    }
}

/// Builds a stack of up to four overlay layers in a fresh temp dir from `data` (directories,
/// files, symlinks with arbitrary targets, whiteouts when root can make them, opaque markers,
/// FIFOs, hard links, directory redirects and metacopy files with arbitrary redirect values,
/// xwhiteouts in `opaque=x` directories; names from a small alphabet so layers collide; the
/// first byte also picks trusted.* or user.* attributes), then runs `diff`, the tar export
/// and path resolution over it. Checks: nothing panics or blocks, the tar is whole
/// blocks, and a resolved entry is always a file inside one of the layers.
pub fn overlay(data: &[u8]) {
    use coldctr::overlay::{
        diff, export,
        merge::{Stack, Xattrs},
    };
    use std::os::unix::ffi::OsStrExt;
    let base = TempDir::new("overlay");
    let Some((&count, mut ops)) = data.split_first() else {
        return;
    };
    let mode = if count & 4 == 0 { Xattrs::Trusted } else { Xattrs::User };
    let layers: Vec<std::path::PathBuf> = (0..usize::from(count % 4) + 1)
        .map(|i| base.join(format!("l{i}")))
        .collect();
    for l in &layers {
        if std::fs::create_dir_all(l).is_err() {
            return;
        }
    }
    const NAMES: [&[u8]; 6] = [b"a", b"b", b"..", b"n\xff\n", b"d", b".wh.a"];
    // op: layer, kind, depth-and-names byte, then a length-prefixed payload.
    while let [layer, kind, shape, len, rest @ ..] = ops {
        let n = usize::from(*len % 16).min(rest.len());
        let (payload, tail) = rest.split_at(n);
        ops = tail;
        let Some(root) = layers.get(usize::from(*layer) % layers.len()) else {
            break;
        };
        let mut rel = std::path::PathBuf::new();
        for i in 0..=usize::from(shape % 3) {
            let pick = NAMES[usize::from((shape >> (2 + i * 2)) % 6)];
            if pick == b".." {
                continue;
            }
            rel.push(std::ffi::OsStr::from_bytes(pick));
        }
        let path = root.join(&rel);
        // Never build through a symlink an earlier op made: it could point anywhere.
        let mut prefix = root.clone();
        let mut through_link = false;
        for c in rel.components() {
            prefix.push(c);
            if std::fs::symlink_metadata(&prefix).is_ok_and(|m| !m.is_dir()) && prefix != path {
                through_link = true;
            }
        }
        if through_link {
            continue;
        }
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap_or_default();
        // Writing must not block on a FIFO an earlier op made at the same path.
        let write = |p: &std::path::Path, data: &[u8]| {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
                .open(p)
            {
                let _ = f.write_all(data);
            }
        };
        // Sets attribute `suffix` in both namespaces (trusted.* only takes as root).
        let set = |p: &std::ffi::CStr, suffix: &str, v: &[u8]| {
            for x in [Xattrs::Trusted, Xattrs::User] {
                let n = std::ffi::CString::new(x.name(suffix)).unwrap_or_default();
                // SAFETY: NUL-terminated strings; the value is valid for its length.
                unsafe { libc::lsetxattr(p.as_ptr(), n.as_ptr(), v.as_ptr().cast(), v.len(), 0) };
            }
        };
        match kind % 11 {
            0 => drop(std::fs::create_dir_all(&path)),
            1 => write(&path, payload),
            2 => drop(std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(payload), &path)),
            3 => {
                // SAFETY: a NUL-terminated path; fails harmlessly when not root.
                unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o600, 0) };
            }
            4 => {
                let _ = std::fs::create_dir_all(&path);
                for name in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
                    // SAFETY: NUL-terminated strings, a 1-byte value.
                    unsafe { libc::lsetxattr(c_path.as_ptr(), name.as_ptr(), b"y".as_ptr().cast(), 1, 0) };
                }
            }
            5 => {
                // SAFETY: a NUL-terminated path.
                unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) };
            }
            6 => drop(std::fs::hard_link(root.join("a"), &path)),
            8 => {
                let _ = std::fs::create_dir_all(&path);
                set(&c_path, "redirect", payload);
            }
            9 => {
                write(&path, b"");
                set(&c_path, "metacopy", b"");
                if !payload.is_empty() {
                    set(&c_path, "redirect", payload);
                }
            }
            10 => {
                write(&path, b"");
                set(&c_path, "whiteout", b"");
                if let Some(parent) = path.parent() {
                    let c_parent = std::ffi::CString::new(parent.as_os_str().as_bytes()).unwrap_or_default();
                    set(&c_parent, "opaque", b"x");
                }
            }
            _ => write(&path, b""),
        }
    }
    let mut problems = Vec::new();
    let (upper, lowers) = layers
        .split_first()
        .map(|(u, l)| (u.clone(), l.to_vec()))
        .unwrap_or_default();
    let _ = diff::changes(&upper, &lowers, mode, true, &mut problems);
    let stack = Stack::with(layers.clone(), mode, count & 8 == 0);
    let mut tar = Vec::new();
    if export::export(&stack, &mut tar, &mut problems).is_ok() {
        assert_eq!(tar.len() % 512, 0, "the tar is not whole blocks");
    }
    for path in [&b"/a/b"[..], b"a", b"/d/../a", b"b/a/d", b"/n\xff\n/a"] {
        for follow in [false, true] {
            if let Ok((rel, node)) = stack.resolve(path, follow) {
                assert!(
                    !rel.components()
                        .any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::RootDir))
                );
                for file in [stack.path_of(&node, &rel), node.data_file().to_path_buf()]
                    .into_iter()
                    .chain(node.dirs.iter().map(|d| stack.layer(d.layer).join(&d.rel)))
                {
                    assert!(
                        layers.iter().any(|l| file.starts_with(l))
                            && !file.components().any(|c| matches!(c, std::path::Component::ParentDir)),
                        "{} left the layers",
                        file.display()
                    );
                }
            }
        }
    }
    // Work dirs of a real snapshot are mode 000; nothing here is, so dropping `base` removes
    // it all.
}

/// `data` as a layer tar: every member read (metadata bounded), its data read through, and the
/// cleaned name never holding a `..` component or a leading `/`.
pub fn layer_tar(data: &[u8]) {
    use coldctr::overlay::layertar::{Reader, clean};
    use std::io::Read;
    let mut r = Reader::new(data);
    let mut members = 0usize;
    while let Ok(Some(e)) = r.next_entry() {
        members += 1;
        assert!(members <= data.len() / 512 + 1, "more members than blocks");
        if let Some(c) = clean(&e.name) {
            assert!(!c.starts_with(b"/") && !c.split(|&b| b == b'/').any(|p| p == b".." || p.is_empty()));
        }
        let mut sink = Vec::new();
        let _ = r.data().take(1 << 20).read_to_end(&mut sink);
    }
    blob_tree(data);
}

/// The merge `fs ls`/`fs cat --from-blobs` look paths up in, over `data` as one layer and as
/// two (the same tar over itself), then the lookups of each member's name, the entries of
/// what they reach and a file's data read again.
fn blob_tree(data: &[u8]) {
    use coldctr::overlay::blobs::{BlobTree, Layer};
    use coldctr::overlay::layertar::Reader;
    let mut names = Vec::new();
    let mut r = Reader::new(data);
    while let Ok(Some(e)) = r.next_entry() {
        if names.len() == 32 {
            break;
        }
        names.push(e.name);
    }
    names.push(b"/".to_vec());
    for n in 1..=2usize {
        let layers: Vec<Layer> = (0..n)
            .map(|i| Layer {
                digest: format!("sha256:{i:064x}"),
                media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            })
            .collect();
        let bytes = data.to_vec();
        let open = move |_: &Layer| -> Result<_, String> {
            Ok(Reader::new(
                Box::new(std::io::Cursor::new(bytes.clone())) as Box<dyn std::io::Read>
            ))
        };
        let Ok(tree) = BlobTree::with(Box::new(open), layers, &mut Vec::new()) else {
            continue;
        };
        for name in &names {
            for follow in [false, true] {
                let Ok(at) = tree.lookup(name, follow) else { continue };
                let paths = if tree.is_dir(&at) {
                    let mut c = tree.children(&at);
                    c.truncate(64);
                    c
                } else {
                    vec![at.clone()]
                };
                if let Ok(entries) = tree.entries(&paths, true) {
                    assert_eq!(entries.len(), paths.len());
                }
                let _ = tree.copy_data(&at, &mut std::io::sink());
            }
        }
    }
}

/// The input cut at each `\0\0` (as `fuzz_targets/layout_docs.rs` cuts its input, and
/// [`layout_inspect`]).
fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(2).position(|w| w == [0, 0]) {
        out.push(rest.get(..at).unwrap_or_default());
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    out.push(rest);
    out
}

/// `j` written compact (with and without Go's HTML escaping) and indented as
/// `container inspect` prints it: each must be JSON that reads back.
fn printed_json_reads(j: &coldctr::inspect::gojson::J) {
    use coldctr::inspect::gojson::indent;
    for html in [true, false] {
        let compact = j.to_compact(html);
        assert!(
            serde_json::from_str::<serde_json::Value>(&compact).is_ok(),
            "written JSON does not read: {compact}"
        );
        let indented = indent(&compact, "    ");
        assert!(
            serde_json::from_str::<serde_json::Value>(&indented).is_ok(),
            "indented JSON does not read: {indented}"
        );
    }
}

/// A Docker container's directory from the input cut at `\0\0`: `config.v2.json`,
/// `hostconfig.json` (absent when the input has no cut) and the graph driver's
/// `repositories.json`. Read as `ps` and `container inspect` read them (the store reader's
/// own code from the bytes on), then the inspect object and the `ps` row built and printed.
pub fn docker_container(data: &[u8]) {
    use coldctr::cli::containers::{RowSize, ps_json};
    use coldctr::containers::docker::{StoreProblems, container_from_bytes};
    use coldctr::containers::{docker_entry, docker_inspect, find, graph_driver};
    use std::path::Path;
    const ID: &str = "0ad0ef1f3f7f4a5f7e8ad4d2d5cbb2e06d25a3c6a0c0bbd9f7a6a14bf6e0a1c4";
    let parts = pieces(data);
    let config = parts.first().copied().unwrap_or_default();
    let root = Path::new("/var/lib/docker");
    // The directory's name, as the store reader would have it: the recorded ID when that is
    // one, so the seeds' own IDs reach the path-deriving code.
    let recorded = serde_json::from_slice::<serde_json::Value>(config)
        .ok()
        .and_then(|v| v.get("ID").and_then(|i| i.as_str()).map(str::to_string))
        .filter(|i| i.len() == 64 && i.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    let id = recorded.as_deref().unwrap_or(ID);
    // The container's json-file log (the fourth piece): each line that is not empty is an
    // entry or named damage, and every entry's time lays out as `logs --timestamps` prints it;
    // read as the JSON stream dockerd decodes, the values found follow one another, each
    // within its bound, and the walk ends.
    if let Some(log) = parts.get(3) {
        use coldctr::containers::json_stream::{Next, Values};
        use coldctr::containers::logs::{go_time, parse_line, parse_value};
        for line in log.split_inclusive(|&b| b == b'\n') {
            let empty = line.strip_suffix(b"\n").unwrap_or(line).is_empty();
            match parse_line(line) {
                Ok(Some(e)) => assert_eq!(
                    go_time(&e.time).as_deref(),
                    Some(e.time.as_str()),
                    "a time laid out twice differs"
                ),
                Ok(None) => assert!(empty, "a line neither read nor said"),
                Err(_) => assert!(!empty, "an empty line said to be damage"),
            }
        }
        // Lines decoded whole read as every value walked first, through a buffer that
        // holds several lines and one that cuts them.
        for capacity in [64, 4096] {
            let read = |by_line: bool| {
                let (entries, out) = coldctr::containers::logs::read_json_bytes(log, capacity, by_line);
                (entries, out.damaged, out.more_damaged, out.neither)
            };
            assert_eq!(read(true), read(false), "two ways of reading a json-file log differ");
        }
        let mut values = Values::new(std::io::BufReader::with_capacity(7, *log), 0);
        let (mut buf, mut last) = (Vec::new(), None);
        loop {
            let before = values.offset();
            match values.next(&mut buf, 64).expect("a slice reads") {
                Next::Value { at, .. } => {
                    assert!(!buf.is_empty() && buf.len() <= 64, "a value of {} bytes", buf.len());
                    assert!(at >= before && last.is_none_or(|l| at > l), "values out of order");
                    assert_eq!(
                        values.offset(),
                        at + buf.len() as u64,
                        "a value's bytes are not its span"
                    );
                    last = Some(at);
                    let _ = parse_value(&buf);
                }
                Next::TooLong { at, .. } => {
                    assert!(buf.is_empty() && values.offset() > at + 64, "a long value held");
                    last = Some(at);
                }
                Next::Broken { at, bad, .. } => {
                    assert!(bad >= at && bad <= log.len() as u64, "broken past the input");
                    // logs reads on from the next line: that always gets further, or ends.
                    let from = values.offset();
                    values.skip_line().expect("a slice reads");
                    assert!(
                        values.offset() > from || values.offset() == log.len() as u64,
                        "skip_line stood still"
                    );
                }
                Next::End => {
                    assert_eq!(values.offset(), log.len() as u64, "the end before the input's");
                    break;
                }
            }
        }
    }
    let mut problems = StoreProblems::default();
    let Some(c) = container_from_bytes(
        &root.join("containers").join(id),
        id,
        config,
        parts.get(1).copied(),
        &mut problems,
    ) else {
        return;
    };
    // The snapshot commands' name lookup reads the same file to the same name.
    if let Ok(lookup) = coldctr::overlay::target::NameAndDriver::read(config) {
        let n = lookup.name.unwrap_or_default();
        assert_eq!(n.strip_prefix('/').unwrap_or(&n), c.name(), "two readers, two names");
    }
    let data_root = docker_inspect::node_data_root(&[&c]);
    printed_json_reads(&docker_inspect::inspect(&c, &data_root, None));
    let repositories = parts.get(2).and_then(|b| {
        graph_driver::Repositories::from_bytes(&root.join("image/overlay2/repositories.json"), b, &mut problems)
    });
    let image = match &repositories {
        Some(r) => graph_driver::shown_image(c.image_ref(), c.image_id(), r),
        None => c.image_ref().to_string(),
    };
    let name = c.name().to_string();
    let entries = [docker_entry(c, image)];
    for e in &entries {
        printed_json_reads(&ps_json(e, true, RowSize::NotAsked));
        printed_json_reads(&ps_json(e, false, RowSize::Unmeasured));
    }
    let _ = find(&entries, &name);
    let _ = find(&entries, id.get(..12).unwrap_or(id));
}

/// A CRI container from the input cut at `\0\0`: its status file, its record's
/// `io.cri-containerd.container.metadata` extension and `io.cri-containerd.sandbox.metadata`
/// extension (each a serialized protobuf Any, read by the record reader's own `any_in`; bytes
/// that are no Any are taken as the Any's value, so the fuzzer also reaches the JSON inside),
/// and the spec Any. The CRI view, the `container inspect --containerd` object and the `ps`
/// row are built and printed.
pub fn cri_status(data: &[u8]) {
    use coldctr::cli::containers::{RowSize, ps_json};
    use coldctr::containerd::records::{AnyValue, Container, Damage, any_in};
    use coldctr::containers::{cri, record_entry_of, record_inspect};
    use std::path::Path;
    let parts = pieces(data);
    let status = parts.first().copied().unwrap_or_default();
    let mut damage = Damage::new();
    let mut extension = |bytes: &[u8]| {
        any_in(bytes, &"extension", &mut damage).unwrap_or_else(|| AnyValue {
            type_url: String::new(),
            value: bytes.to_vec(),
        })
    };
    let mut extension_values = Vec::new();
    if let Some(b) = parts.get(1) {
        extension_values.push((cri::CONTAINER_METADATA.to_string(), extension(b)));
    }
    if let Some(b) = parts.get(2) {
        extension_values.push((cri::SANDBOX_METADATA.to_string(), extension(b)));
    }
    let spec = parts
        .get(3)
        .and_then(|b| coldctr::containerd::encoding::any(b).map(|a| a.value.to_vec()));
    let record = Container {
        namespace: "k8s.io".into(),
        id: "5a1d1c5e0f6b8c1e4c3a3e5f0b7d2a9c8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b".into(),
        image: "registry.k8s.io/pause:3.10".into(),
        runtime: "io.containerd.runc.v2".into(),
        snapshotter: "overlayfs".into(),
        snapshot_key: String::new(),
        sandbox_id: None,
        spec_type: None,
        extensions: extension_values.iter().map(|(k, _)| k.clone()).collect(),
        created_at: None,
        updated_at: None,
        labels: Default::default(),
        spec,
        runtime_options: None,
        extension_values,
    };
    let _ = cri::is_cri(&record);
    let mut problems = Vec::new();
    let mut info = cri::info_from_record(&record, &mut problems);
    let path = Path::new("/var/lib/containerd/io.containerd.grpc.v1.cri/containers")
        .join(&record.id)
        .join("status");
    cri::status_from_bytes(&mut info, &path, status, &mut problems);
    let _ = (info.state(), info.exit_code(), info.times(), info.display_name());
    // Both of ctr's shapes: 1.6's (no SandboxID, `null` for no extensions) and 1.7's on.
    for release in [
        coldctr::overlay::mounts::Release::Six,
        coldctr::overlay::mounts::Release::Two,
    ] {
        printed_json_reads(&record_inspect::inspect(&record, Some(&info), release));
    }
    for task_bundle in [false, true] {
        let mut sandbox = info.clone();
        if task_bundle {
            sandbox.kind = "sandbox".into();
        }
        let e = record_entry_of(record.clone(), Some(sandbox), task_bundle);
        printed_json_reads(&ps_json(&e, true, RowSize::NotAsked));
        printed_json_reads(&ps_json(&e, false, RowSize::Unmeasured));
    }
}

/// The order-keeping JSON reader: when `data` reads, what it reads written back (compact,
/// with and without HTML escaping, and indented) must read back to the very same value.
pub fn gojson(data: &[u8]) {
    use coldctr::inspect::gojson::{indent, indent_at, parse};
    // What a strict parse refused is read again as Go reads it: those bytes are always UTF-8.
    if let Some(fixed) = coldctr::gostring::as_go_reads(data) {
        assert!(
            std::str::from_utf8(&fixed).is_ok(),
            "rewritten as Go reads it: {fixed:?}"
        );
    }
    let Ok(first) = parse(data) else { return };
    for html in [true, false] {
        let compact = first.to_compact(html);
        let again = parse(compact.as_bytes());
        assert!(
            again.as_ref().is_ok_and(|a| *a == first),
            "compact round trip (html {html}): {first:?} wrote {compact:?}, read back {again:?}"
        );
        let indented = indent(&compact, "  ");
        let again = parse(indented.as_bytes());
        assert!(
            again.as_ref().is_ok_and(|a| *a == first),
            "indented round trip (html {html}): {first:?} wrote {indented:?}, read back {again:?}"
        );
        // inspect writes bodies indented in one pass: the same text as indenting the compact.
        for level in [0, 1] {
            let mut direct = String::new();
            first.write_indented(&mut direct, html, "    ", level);
            assert_eq!(
                direct,
                indent_at(&compact, "    ", level),
                "written indented (html {html}, level {level}): {first:?}"
            );
        }
    }
    // Folding repeated keys as Go does leaves no repeat, and a folded value folds to itself.
    let folded = first.folded();
    assert_eq!(folded.clone().folded(), folded, "folding twice");
    fn no_repeats(j: &coldctr::inspect::gojson::J) -> bool {
        use coldctr::inspect::gojson::J;
        match j {
            J::Arr(items) => items.iter().all(no_repeats),
            J::Obj(members) => {
                let keys: std::collections::HashSet<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
                keys.len() == members.len() && members.iter().all(|(_, v)| no_repeats(v))
            }
            _ => true,
        }
    }
    assert!(no_repeats(&folded), "a repeat left: {folded:?}");
    // Any JSON as an image's Config: the CLI decode check ends, and what it says is Go's form.
    let body = coldctr::inspect::gojson::J::Obj(vec![("Config".into(), folded)]);
    if let Some(e) = coldctr::inspect::gotypes::cli_decode_error(&body) {
        assert!(
            e.starts_with("json: cannot unmarshal ") && e.contains(" into Go struct field "),
            "{e}"
        );
    }
}

/// When `walk_seekable` vouches for a bucket's tree, a lookup of each key it met finds that
/// same element: the same value, or a bucket with the same root and sequence.
fn seekable_walk_agrees(bucket: &Bucket<'_>) {
    let mut met = Vec::new();
    if !bucket.walk_seekable(&mut |item| met.push(item)) {
        return;
    }
    // A key the walk did not meet is one a lookup does not find either.
    let keys: std::collections::HashSet<&[u8]> = met.iter().map(|i| i.key).collect();
    for item in met.iter().take(16) {
        let mut longer = item.key.to_vec();
        longer.push(0);
        let shorter = item.key.get(..item.key.len().saturating_sub(1)).unwrap_or_default();
        for k in [longer.as_slice(), shorter] {
            if !keys.contains(k) {
                assert!(
                    matches!(bucket.entry(k), Ok(None)),
                    "a lookup finds a key the vouched walk did not meet"
                );
            }
        }
    }
    for item in met.iter().take(64) {
        let found = bucket.entry(item.key);
        if item.is_bucket {
            let walked = bucket
                .open_item(item)
                .map(|b| (b.root_page(), b.sequence, b.is_inline()));
            let sought = match found {
                Ok(Some(Entry::Bucket(b))) => Ok((b.root_page(), b.sequence, b.is_inline())),
                Ok(_) => panic!("a walked bucket key is not a bucket to a lookup"),
                Err(e) => Err(e),
            };
            assert_eq!(walked.is_ok(), sought.is_ok(), "walked and sought buckets disagree");
            if let (Ok(w), Ok(s)) = (walked, sought) {
                assert_eq!(w, s, "walked and sought buckets disagree");
            }
        } else {
            match found {
                Ok(Some(Entry::Value(v))) => assert_eq!(v, item.value, "walked and sought values disagree"),
                _ => panic!("a walked key is not found by a lookup"),
            }
        }
    }
}

/// Arbitrary bytes as an OCI layout on disk, inspected as `coldctr --root <layout> inspect`
/// does: the input is cut at `\0\0` into `oci-layout`, `index.json` and blobs (each stored
/// under its own sha256, as the `layout_docs` target cuts it). Every image record the import
/// makes is inspected by name and by its target digest, for the host platform and for an
/// explicit `--platform`, and its docker Size asked for. Nothing may panic; every body that
/// inspect makes must be JSON that reads, and its indented text must read to the same value
/// as its compact text. Returns how many bodies were made (the replay test wants some).
pub fn layout_inspect(data: &[u8]) -> usize {
    let dir = TempDir::new("layout");
    let blobs = dir.join("blobs").join("sha256");
    if std::fs::create_dir_all(&blobs).is_err() {
        return 0;
    }
    let mut written = true;
    for (i, piece) in pieces(data).iter().enumerate() {
        let path = match i {
            0 => dir.join("oci-layout"),
            1 => dir.join("index.json"),
            _ => blobs.join(coldctr::digest::Digest::sha256_of(piece).hex()),
        };
        written &= std::fs::write(path, piece).is_ok();
    }
    match written.then(|| coldctr::source::open_layout(&dir)) {
        Some(Ok(root)) => inspect_root(&root),
        _ => 0,
    }
}

/// Arbitrary bytes as an image archive file (`docker save` output, an OCI archive, gzip'd or
/// zstd'd), detected and opened as `--root <file>` opens it, then inspected as
/// [`layout_inspect`] inspects a layout: docker-archive's `manifest.json` and `repositories`,
/// the import of what they name, and the inspect bodies. Returns how many bodies were made.
pub fn archive_inspect(data: &[u8]) -> usize {
    let dir = TempDir::new("archive");
    if std::fs::create_dir_all(&dir).is_err() {
        return 0;
    }
    let file = dir.join("image.tar");
    if std::fs::write(&file, data).is_err() {
        return 0;
    }
    match coldctr::source::detect(&file) {
        Ok(kind) if kind != coldctr::source::Kind::Containerd => match coldctr::source::open(&file, kind) {
            Ok(root) => inspect_root(&root),
            Err(_) => 0,
        },
        _ => 0,
    }
}

/// Arbitrary bytes as a containerd root's meta.db, loaded as `gc` and `du` load it, then
/// collected and reported. Each namespace's content and image records are also read in the
/// order of their pages in the file, as a load inside a memory limit reads them
/// (`containerd/file_order.rs`): where no read met damage, they must be exactly the records
/// a walk in key order reads. Returns how many records the load kept, and in how many
/// namespaces the two reads were compared.
pub fn gc_store(data: &[u8]) -> (usize, usize) {
    use coldctr::containerd::file_order::{self, Pending};
    use coldctr::containerd::records;
    /// A content record as both reads give it: digest, size, gc labels.
    type ContentRow = (String, i64, Vec<(String, String)>);
    let dir = TempDir::new("gc");
    let meta = dir.join("io.containerd.metadata.v1.bolt");
    if std::fs::create_dir_all(&meta).is_err()
        || std::fs::write(meta.join("meta.db"), data).is_err()
        || std::fs::create_dir_all(dir.join("io.containerd.content.v1.content/blobs/sha256")).is_err()
    {
        return (0, 0);
    }
    let Ok(root) = coldctr::containerd::root::Root::open(&dir, ReadMode::Mmap) else {
        return (0, 0);
    };
    let Ok(store) = coldctr::gc::Store::load(&root, MetaChoice::Current, ReadMode::Mmap) else {
        return (0, 0);
    };
    // Two fresh reads of the file, so that neither sees the pages the load or the other
    // claimed: in file order, as a load inside a memory limit reads, and in key order.
    let db = |what| match Db::open(meta.join("meta.db"), ReadMode::Mmap) {
        Ok(db) => db,
        Err(e) => panic!("the store loaded but meta.db does not open for the {what} read: {e}"),
    };
    let (by_page_db, by_key_db) = (db("file-order"), db("key-order"));
    let (Ok(by_page_tx), Ok(by_key_tx)) = (
        by_page_db.view(MetaChoice::Current),
        by_key_db.view(MetaChoice::Current),
    ) else {
        panic!("the store loaded but its view does not open");
    };
    let mut damage = records::Damage::new();
    let by_page_ns = records::namespace_buckets(&by_page_tx, &mut damage);
    let by_key_ns = records::namespace_buckets(&by_key_tx, &mut damage);
    assert_eq!(by_page_ns.len(), store.namespaces.len(), "namespaces");
    let prefix = coldctr::gc::state::GC_LABEL_PREFIX;
    let loaded = store
        .namespaces
        .iter()
        .map(|ns| ns.content.len() + ns.images.len())
        .sum();
    let mut compared = 0;
    for ((name, b), (_, walked)) in by_page_ns.iter().zip(&by_key_ns) {
        let mut damage = damage.clone();
        let mut listed = [
            records::content_blob_bucket(b, &mut damage).map(|b| Pending::list(&b, "content/blob")),
            records::images_bucket(b, &mut damage).map(|b| Pending::list(&b, "images")),
        ]
        .map(Option::unwrap_or_default);
        for p in &listed {
            damage.extend(p.damage.clone());
        }
        let mut content = Vec::new();
        let mut images = Vec::new();
        let noted = file_order::read(&by_page_tx, &mut listed, |job, index, key, b, d| {
            if job == 0 {
                if let Some(c) = records::content_size_record(name, key, b, prefix, d) {
                    content.push((index, c.digest, c.size, c.labels));
                }
            } else {
                let i = records::image_target_record(name, key, b, prefix, d);
                images.push((index, i.name, i.target.digest, i.target.size, i.labels));
            }
        });
        noted.into_iter().for_each(|d| damage.extend(d));
        content.sort_by_key(|c| c.0);
        images.sort_by_key(|i| i.0);
        let walked_content = records::content_sizes_in(name, walked, prefix, &mut damage);
        let walked_images = records::image_targets_in(name, walked, prefix, &mut damage);
        if !damage.is_empty() {
            continue;
        }
        let by_page: Vec<ContentRow> = content.into_iter().map(|(_, d, s, l)| (d, s, l)).collect();
        let by_key: Vec<ContentRow> = walked_content
            .into_iter()
            .map(|c| (c.digest, c.size, c.labels))
            .collect();
        assert_eq!(
            by_page, by_key,
            "namespace {name}: content read in file order and in key order"
        );
        let by_page: Vec<_> = images.iter().map(|(_, n, t, s, l)| (n, t, *s, l)).collect();
        let by_key: Vec<_> = walked_images
            .iter()
            .map(|i| (&i.name, &i.target.digest, i.target.size, &i.labels))
            .collect();
        assert_eq!(
            by_page, by_key,
            "namespace {name}: images read in file order and in key order"
        );
        compared += 1;
    }
    let model = coldctr::gc::default_model(&store);
    // Each Go's reading of expiry labels in turn, by the input's shape.
    let go = match store.namespaces.len() % 3 {
        0 => coldctr::containerd::gotime::GoParse::Go123,
        1 => coldctr::containerd::gotime::GoParse::Go120,
        _ => coldctr::containerd::gotime::GoParse::Go119,
    };
    let collection = coldctr::gc::collect(&store, model, coldctr::gc::Clock { now: 0, go });
    let report = coldctr::gc::report::GcReport::build(&store, &collection, "fuzz");
    let _ = serde_json::to_string(&report);
    (loaded, compared)
}

/// A temporary directory path of this process's own, not yet made, removed with all it holds
/// when dropped: on every return and when an assertion fails.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static RUN: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "coldctr-fuzz-{what}-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Up to 8 of `root`'s image records, each inspected by name and by target digest, for the
/// host platform (linux/amd64) and with `--platform linux/arm64/v8`, and its docker Size
/// asked for; every body must read as JSON ([`body_reads`]). Returns how many bodies were made.
fn inspect_root(root: &coldctr::containerd::root::Root) -> usize {
    use coldctr::damage::Damage;
    use coldctr::image::platform;
    use coldctr::inspect::{Inspector, Options};
    let mut made = 0;
    let (Ok(host), Ok(other)) = (platform::parse("linux/amd64"), platform::parse("linux/arm64/v8")) else {
        return made;
    };
    let Ok(tx) = root.view(MetaChoice::Current) else {
        return made;
    };
    let mut damage = Damage::new();
    // At most 8 images in all; one inspector per namespace and platform, as the CLI inspects
    // many references with one (its caches carry from one image to the next, and each new
    // inspector starts a pool of threads).
    let mut left = 8;
    for (ns, bucket) in coldctr::containerd::records::namespace_buckets(&tx, &mut damage) {
        let images = coldctr::containerd::records::images_in(&ns, &bucket, &mut damage);
        let images = images.get(..left.min(images.len())).unwrap_or_default();
        left -= images.len();
        if images.is_empty() {
            continue;
        }
        for platform in [None, Some(other.clone())] {
            let Ok(tx) = root.view(MetaChoice::Current) else {
                return made;
            };
            let options = Options {
                platform,
                ..Options::for_host(host.clone())
            };
            let inspector = Inspector::new(root, tx, &ns, options);
            for image in images {
                for reference in [image.name.as_str(), image.target.digest.as_str()] {
                    if let Ok(body) = inspector.inspect(reference) {
                        body_reads(&body);
                        made += 1;
                    }
                }
                let _ = inspector.docker_size(image);
            }
        }
    }
    made
}

/// An inspect body is JSON that reads ([`printed_json_reads`]), and the indented text inspect
/// writes in one pass is, byte for byte, the compact text indented (what the CLI prints).
fn body_reads(body: &coldctr::inspect::gojson::J) {
    printed_json_reads(body);
    let compact = body.to_compact(true);
    let mut indented = String::new();
    body.write_indented(&mut indented, true, "    ", 1);
    assert_eq!(
        indented,
        coldctr::inspect::gojson::indent_at(&compact, "    ", 1),
        "one-pass indented body differs from the compact one indented"
    );
}

/// A graph driver's stores on disk from the input cut at `\0\0`, written into a temp data
/// root: a container's `mount-id`, its rw layer's `lower`, the text of four `l/` links (L0 to
/// L3), then image configs (each under its own hash) and their `parent` files in turns. The
/// layer store (`overlay2::Layers::read`) answers Ok only with lowers that each name a layer
/// dir through a link whose text is `../<layer>/diff`, never the rw layer itself, and its mount
/// lines then name nothing but those dirs; the image store (`graph_images::GraphImages`, as
/// `ps -f ancestor=` reads it) resolves a full ID only to a config that hashes to its name,
/// and the family walk ends on any parent chain.
/// Answers whether the layer store read, and how many images the image store loaded.
pub fn graph_store(data: &[u8]) -> (bool, usize) {
    use coldctr::containers::ancestry::add_family;
    use coldctr::containers::graph_images::GraphImages;
    use coldctr::overlay::overlay2::{Layers, mount_line, read_only_line};
    use std::collections::HashSet;
    use std::path::Path;
    const ID: &str = "0ad0ef1f3f7f4a5f7e8ad4d2d5cbb2e06d25a3c6a0c0bbd9f7a6a14bf6e0a1c4";
    let parts = pieces(data);
    let base = TempDir::new("graph");
    let root = base.join("docker");
    let home = root.join("overlay2");
    let mounts = root.join("image/overlay2/layerdb/mounts").join(ID);
    if std::fs::create_dir_all(&mounts).is_err() || std::fs::create_dir_all(home.join("l")).is_err() {
        return (false, 0);
    }
    let mount_id = parts.first().copied().unwrap_or_default();
    let _ = std::fs::write(mounts.join("mount-id"), mount_id);
    // The rw layer and four lower layers, each with a diff dir; the rw one's `lower` given.
    for name in ["rw", "a", "b", "c", "d"] {
        let _ = std::fs::create_dir_all(home.join(name).join("diff"));
    }
    let text = String::from_utf8_lossy(mount_id).trim().to_string();
    let rw = if !text.is_empty() && !text.contains('/') && text != "." && text != ".." && text.len() < 200 {
        let _ = std::fs::create_dir_all(home.join(&text).join("diff"));
        Some(text)
    } else {
        None
    };
    if let (Some(rw), Some(lower)) = (&rw, parts.get(1)) {
        let _ = std::fs::write(home.join(rw).join("lower"), lower);
    }
    for i in 0..4 {
        if let Some(target) = parts.get(2 + i) {
            use std::os::unix::ffi::OsStrExt;
            if !target.is_empty() && !target.contains(&0) {
                let t = std::ffi::OsStr::from_bytes(target);
                let _ = std::os::unix::fs::symlink(t, home.join("l").join(format!("L{i}")));
            }
        }
    }
    let read = Layers::read(&root, ID);
    let layers_read = read.is_ok();
    if let Ok(layers) = read {
        let lowers = layers.lowers.clone().unwrap_or_default();
        for (link, layer) in &lowers {
            assert_ne!(layer, &layers.mount_id, "a lower that is the rw layer");
            let text = std::fs::read_link(home.join("l").join(link)).expect("a lower's link is there");
            assert_eq!(
                text,
                Path::new("..").join(layer).join("diff"),
                "a lower not through its link"
            );
        }
        for line in [
            mount_line(&layers, &home, "/mnt", false),
            read_only_line(&layers, &home, "/mnt", true),
        ] {
            assert!(!line.contains('\n'), "a mount line of two lines: {line:?}");
        }
    }
    // The image store: configs from piece 6 on, each followed by its parent file's text.
    let content = root.join("image/overlay2/imagedb/content/sha256");
    let meta = root.join("image/overlay2/imagedb/metadata/sha256");
    if std::fs::create_dir_all(&content).is_err() {
        return (layers_read, 0);
    }
    let mut ids = Vec::new();
    for pair in parts.get(6..).unwrap_or_default().chunks(2) {
        let config = pair[0];
        let hex = coldctr::digest::Digest::sha256_of(config).to_string()[7..].to_string();
        let _ = std::fs::write(content.join(&hex), config);
        if let Some(parent) = pair.get(1) {
            let _ = std::fs::create_dir_all(meta.join(&hex));
            let _ = std::fs::write(meta.join(&hex).join("parent"), parent);
        }
        ids.push(format!("sha256:{hex}"));
    }
    let Some(db) = GraphImages::open_driver(&root, "", "overlay2") else {
        return (layers_read, 0);
    };
    let mut loaded = 0;
    for id in &ids {
        if let Ok(image) = db.resolve(id) {
            let found = image.id();
            loaded += 1;
            assert_eq!(&found, id, "a full ID resolved to another image");
            let mut family = HashSet::new();
            let _ = add_family(&mut family, &found, &mut |i| db.children(i));
            assert!(family.contains(&found), "an image is of its own family");
        }
    }
    (layers_read, loaded)
}

/// dockerd's graph-driver image store as `inspect`, `history` and `images` read it
/// (`containers::graph_images`), written to disk from the input cut at `\0\0`: piece 0 is
/// `repositories.json`; pieces 1 to 3 the `size`, `parent` and `cache-id` files given to
/// every layer of every chain; then image configs, each followed by its `parent` and
/// `lastUpdated` files. Every config's chains get a layerdb entry, its cache ID a layer dir.
/// Whatever is there, nothing panics, a full ID found is that image, and `images` lists only
/// restored images. Answers how many images were restored.
pub fn graph_images(data: &[u8]) -> usize {
    use coldctr::containers::graph_images::{GraphImages, chain_id, image_config};
    let parts = pieces(data);
    let base = TempDir::new("graph-images");
    let root = base.join("docker");
    let store = root.join("image/overlay2");
    let content = store.join("imagedb/content/sha256");
    let meta = store.join("imagedb/metadata/sha256");
    let layerdb = store.join("layerdb/sha256");
    if std::fs::create_dir_all(&content).is_err() || std::fs::create_dir_all(&layerdb).is_err() {
        return 0;
    }
    let _ = std::fs::write(
        store.join("repositories.json"),
        parts.first().copied().unwrap_or_default(),
    );
    let piece = |i: usize| parts.get(i).copied().unwrap_or_default();
    let mut ids = Vec::new();
    for chunk in parts.get(4..).unwrap_or_default().chunks(3) {
        let config = chunk[0];
        let hex = coldctr::digest::Digest::sha256_of(config).to_string()[7..].to_string();
        let _ = std::fs::write(content.join(&hex), config);
        let _ = std::fs::create_dir_all(meta.join(&hex));
        if let Some(p) = chunk.get(1) {
            let _ = std::fs::write(meta.join(&hex).join("parent"), p);
        }
        if let Some(t) = chunk.get(2) {
            let _ = std::fs::write(meta.join(&hex).join("lastUpdated"), t);
        }
        if let Ok(doc) = image_config(config) {
            let diffs: Vec<String> = doc
                .at(&["rootfs", "diff_ids"])
                .map(|d| {
                    d.items()
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for n in 1..=diffs.len().min(64) {
                let Some(chain) = chain_id(&diffs[..n]) else { continue };
                let Some(h) = chain
                    .strip_prefix("sha256:")
                    .filter(|h| h.len() == 64 && !h.contains('/'))
                else {
                    continue;
                };
                let dir = layerdb.join(h);
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(dir.join("diff"), &diffs[n - 1]);
                let _ = std::fs::write(dir.join("size"), piece(1));
                let _ = std::fs::write(dir.join("cache-id"), piece(3));
                if n > 1 {
                    let below = chain_id(&diffs[..n - 1]).unwrap_or_default();
                    let _ = std::fs::write(
                        dir.join("parent"),
                        if piece(2).is_empty() {
                            below.as_bytes()
                        } else {
                            piece(2)
                        },
                    );
                }
            }
        }
        ids.push(hex);
    }
    let cache = String::from_utf8_lossy(piece(3)).trim().to_string();
    if !cache.is_empty() && !cache.contains('/') && cache != "." && cache != ".." && cache.len() < 200 {
        let _ = std::fs::create_dir_all(root.join("overlay2").join(&cache).join("diff"));
    }
    let Some(images) = GraphImages::open(&root, "/var/lib/docker", &[]) else {
        return 0;
    };
    for hex in &ids {
        if let Ok(body) = images.inspect(hex) {
            assert_eq!(
                body.get("Id").and_then(|v| v.as_str()),
                Some(format!("sha256:{hex}").as_str())
            );
            let mut text = String::new();
            body.write_indented(&mut text, false, "    ", 1);
        }
        if let Ok(entries) = images.history(hex) {
            assert!(entries.len() <= 1 << 20);
        }
    }
    for r in [
        "lab/x:1",
        "x",
        "sha256:0",
        "0",
        "docker.io/library/x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let _ = images.inspect(r);
        let _ = images.history(r);
    }
    let restored = images.restored().len();
    let opts = coldctr::cli::graph_images::ImagesOptions {
        all: true,
        quiet: false,
        no_trunc: false,
        digests: true,
        dangling: None,
        matches: None,
        labels: &[],
        before: None,
        since: None,
    };
    let rows = coldctr::cli::graph_images::summaries(&images, &opts);
    assert!(rows.len() <= restored);
    let _ = coldctr::cli::graph_images::images_table(&rows, &opts);
    // dockerd's filters: labels from the configs, before/since an image looked up as
    // `GetImage` does; each narrows the list, never widens it.
    let first = images.restored().first().cloned().unwrap_or_default();
    let flags = [
        "label=a".to_string(),
        "label=a=b".into(),
        format!("since={}", first.get(..12).unwrap_or("x")),
        format!("before=sha256:{first}"),
        "dangling=false".into(),
    ];
    if let Ok(f) = coldctr::cli::graph_images::graph_filters(&images, &flags, Some("*")) {
        let opts = coldctr::cli::graph_images::ImagesOptions {
            dangling: f.dangling,
            labels: &f.labels,
            before: f.before,
            since: f.since,
            ..opts
        };
        let narrowed = coldctr::cli::graph_images::summaries(&images, &opts);
        assert!(narrowed.len() <= rows.len(), "a filter widened the list");
    }
    restored
}

/// A `local` log driver file (dual logging's cache has the same format) through the record
/// reader `coldctr logs` uses, then the same bytes as a `--since`/`--until` value. Every record
/// read accounts for its frame (lengths within dockerd's maximum), offsets only grow and stay
/// within the input (or at the record just read, for its footer), the reading ends at the first fatal damage or exactly at the input's end,
/// and every entry's time lays out as `--timestamps` prints it and reads back to the same
/// instant.
pub fn local_log(data: &[u8]) {
    use coldctr::containers::local_log::{MAX_RECORD, Records};
    use coldctr::containers::log_window::{docker_time, fixed_nano, go_duration, instant};
    let end = data.len() as u64;
    let mut records = Records::new(data);
    let mut stopped = false;
    let mut previous = 0u64;
    // Where the frame read by the call before began: a footer unlike its header is said on
    // the call after the frame it closes.
    let mut frame_at = 0u64;
    loop {
        let at = records.offset();
        let record_at = std::mem::replace(&mut frame_at, at);
        assert!(at >= previous && at <= end, "offset {at} after {previous}, input {end}");
        previous = at;
        let Some(r) = records.next() else { break };
        assert!(!stopped, "a record read after a fatal damage");
        match r {
            Ok(rec) => {
                let frame = records.offset() - at;
                assert!(frame >= 8 && frame - 8 <= u64::from(MAX_RECORD), "a frame of {frame}");
                assert!(rec.line.len() as u64 <= frame - 8, "a line longer than its record");
                let t = fixed_nano(rec.time_nano);
                assert_eq!(t.len(), 30, "{t}");
                assert_eq!(instant(&t), Some(i128::from(rec.time_nano)), "{t}");
            }
            Err(d) => {
                assert!(
                    (d.offset >= at || d.offset == record_at) && d.offset <= end,
                    "damage at {} outside {at}..{end} (the frame before at {record_at})",
                    d.offset
                );
                stopped |= d.fatal;
            }
        }
    }
    if !stopped {
        assert_eq!(records.offset(), end, "the reading ended early without saying so");
    }
    // --tail's walk back: within the file, no more records than wanted, and read forward from
    // where it stops, the frames it walked are the frames found (their lengths agree at both
    // ends), each read whole or said, up to the end.
    use coldctr::containers::local_log::{TailWalk, tail_walk};
    let read4 = |at: u64| -> Option<[u8; 4]> {
        let at = usize::try_from(at).ok()?;
        data.get(at..at.checked_add(4)?)?.try_into().ok()
    };
    let want = u64::from(data.first().copied().unwrap_or(1).max(1));
    match tail_walk(read4, end, want) {
        TailWalk::From { start, found } => {
            assert!(
                start <= end && found <= want,
                "walk: from {start} of {end}, {found} of {want}"
            );
            let from = data
                .get(usize::try_from(start).unwrap_or(usize::MAX)..)
                .unwrap_or_default();
            let mut frames = 0u64;
            for r in Records::at(from, start) {
                match r {
                    Err(d) if d.fatal => {
                        // Only a length past dockerd's maximum stops a walked frame.
                        assert!(d.what.contains("past the"), "a walked frame broke: {}", d.what);
                        return;
                    }
                    Err(d) => assert!(!d.what.contains("at its end"), "a walked frame's ends differ"),
                    Ok(_) => {}
                }
                frames += 1;
            }
            assert_eq!(frames, found, "frames read forward from where the walk stopped");
        }
        TailWalk::Broken { offset, .. } => assert!(offset <= end, "broken at {offset} of {end}"),
    }
    if let Ok(s) = std::str::from_utf8(data)
        && s.len() <= 256
    {
        let now = 1_796_463_200_500_000_000;
        let _ = docker_time(s, now, 3600, false);
        let _ = docker_time(s, now, -36_000, true);
        if let Some(d) = go_duration(s) {
            assert!(i128::from(i64::MIN) <= d && d <= i128::from(i64::MAX), "{s}: {d}");
        }
    }
}
