//! `coldctr bolt ...` run as a binary against the fixtures and against damaged copies: output
//! equals what the Go bbolt library reads, exit codes say what happened (0 ok, 1 "no" or check
//! findings, 3 damaged input), damage is named on stderr, and no command ever writes to, locks,
//! or waits for the file.

mod bolt_support;

use bolt_support::*;
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::SystemTime;

/// `coldctr bolt dump --format jsonl PATH EXTRA...` (EXTRA: flags, or a bucket path).
fn dump(path: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec!["bolt".as_ref(), "dump".as_ref(), "--format".as_ref(), "jsonl".as_ref()];
    args.push(path.as_os_str());
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    coldctr(&args)
}

fn cmd(sub: &str, path: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec!["bolt".as_ref(), sub.as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    coldctr(&args)
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout_text()))
}

#[test]
fn dump_jsonl_equals_go_bbolt_for_every_fixture() {
    for (name, path) in all_dbs() {
        for extra in [&[][..], &["--no-mmap"][..]] {
            let run = dump(&path, extra);
            assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
            assert_eq!(run.stderr, "", "{name}");
            assert_eq!(canon_lines(&run.stdout_text()), golden(&name), "{name} {extra:?}");
        }
    }
}

#[test]
fn dump_of_a_subtree_is_the_golden_subset() {
    let path = db_path("docker-28.5", "meta");
    let run = dump(&path, &["v1", "moby", "images"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let got = canon_lines(&run.stdout_text());
    let want: Vec<String> = golden("docker-28.5.meta")
        .into_iter()
        .filter(|l| l.contains(r#""bucket":["v1","moby","images""#))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn broken_current_meta_falls_back_warns_and_exits_3() {
    for (fixture, db, slot, golden_name) in [
        (
            "containerd-1.6",
            "meta",
            1,
            "containerd-1.6.meta.meta1-checksum-flipped",
        ),
        (
            "docker-28.5",
            "overlayfs",
            0,
            "docker-28.5.overlayfs.meta0-checksum-flipped",
        ),
    ] {
        let (_dir, path) = temp_copy(&db_path(fixture, db));
        let mut data = read(&path);
        assert_eq!(layout(&data).current, slot);
        break_meta_checksum(&mut data, slot);
        write_file(&path, &data);
        let run = dump(&path, &[]);
        assert_eq!(run.code, Some(3), "{golden_name}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("meta page {slot}")), "{}", run.stderr);
        assert!(run.stderr.contains("checksum"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("reading through meta page {}", 1 - slot)),
            "{}",
            run.stderr
        );
        assert_eq!(canon_lines(&run.stdout_text()), golden(golden_name), "{golden_name}");

        let info = cmd("info", &path, &["--format", "json"]);
        assert_eq!(info.code, Some(3));
        let v = json(&info);
        assert_eq!(v["fellBack"], true);
        assert_eq!(v["current"], 1 - slot);
        assert_eq!(v["metas"][slot]["valid"], false);

        // Asking for the broken meta explicitly is an error naming it.
        let run = dump(&path, &["--meta", &slot.to_string()]);
        assert_eq!(run.code, Some(3));
        assert!(run.stderr.contains(&format!("meta page {slot}")), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn meta_previous_reads_the_older_transaction() {
    let path = db_path("containerd-1.6", "meta");
    let run = dump(&path, &["--meta", "previous"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let prev = canon_lines(&run.stdout_text());
    assert_eq!(prev, golden("containerd-1.6.meta.meta1-checksum-flipped"));
    assert_ne!(prev, golden("containerd-1.6.meta"));
    assert!(!prev.iter().any(|l| l.contains("short-lease")));
    assert!(golden("containerd-1.6.meta").iter().any(|l| l.contains("short-lease")));

    let path = db_path("docker-28.5", "overlayfs");
    let run = dump(&path, &["--meta", "previous"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        canon_lines(&run.stdout_text()),
        golden("docker-28.5.overlayfs.meta0-checksum-flipped")
    );
    // The slots by number: meta 0 is current there, meta 1 the previous transaction.
    let run = dump(&path, &["--meta", "1"]);
    assert_eq!(
        canon_lines(&run.stdout_text()),
        golden("docker-28.5.overlayfs.meta0-checksum-flipped")
    );
    let run = dump(&path, &["--meta", "0"]);
    assert_eq!(canon_lines(&run.stdout_text()), golden("docker-28.5.overlayfs"));
}

/// A root page id whose offset does not fit in 64 bits is said so, not as the saturated
/// number 18446744073709551615 (sweep 19, finding 7).
#[test]
fn an_offset_past_64_bits_is_said_so() {
    let (_dir, path) = temp_copy(&db_path("containerd-1.7", "meta"));
    let mut data = read(&path);
    for slot in 0..2 {
        put_le_u64(&mut data, slot * 4096 + 32, u64::MAX);
        reseal_meta_le(&mut data, slot, 4096);
    }
    write_file(&path, &data);
    let run = cmd("dump", &path, &[]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("page {} (offset past 2^64)", u64::MAX)),
        "{}",
        run.stderr
    );
}

#[test]
fn both_metas_broken_is_a_clear_error() {
    let (_dir, path) = temp_copy(&db_path("containerd-1.7", "meta"));
    let mut data = read(&path);
    break_meta_checksum(&mut data, 0);
    break_meta_checksum(&mut data, 1);
    write_file(&path, &data);
    for sub in ["info", "pages", "dump", "check", "buckets"] {
        let run = cmd(sub, &path, &[]);
        assert_eq!(run.code, Some(3), "{sub}: {}", run.stderr);
        assert!(
            run.stderr.contains("meta page 0") && run.stderr.contains("meta page 1"),
            "{sub}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{sub}");
    }
}

/// Both metas storing checksum 0: bbolt 1.3.6 does not check a zero checksum, and containerd
/// 1.6.20 started and listed every image on such a file, where coldctr said "not a readable
/// bbolt file". Now it is read as bbolt 1.3.6 reads it (the same records as the intact file)
/// and said as damage at the checksum field, naming the releases that refuse it.
#[test]
fn metas_storing_checksum_zero_are_read_as_bbolt_1_3_6_reads_them_and_said() {
    let name = "containerd-1.6.meta";
    let (_dir, path) = temp_copy(&db_path("containerd-1.6", "meta"));
    let mut data = read(&path);
    let ps = layout(&data).page_size;
    let current = layout(&data).current;
    for slot in 0..2 {
        put_le_u64(&mut data, slot * ps + 72, 0);
    }
    write_file(&path, &data);
    let run = dump(&path, &[]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(canon_lines(&run.stdout_text()), golden(name));
    let at = format!("page {current} (offset {})", current * ps + 72);
    assert!(run.stderr.contains(&at), "{}", run.stderr);
    for words in ["stored checksum 0", "bbolt 1.3.6 and older", "bbolt 1.3.7 and later"] {
        assert!(run.stderr.contains(words), "{words}: {}", run.stderr);
    }
    let check = cmd("check", &path, &[]);
    assert!(check.stdout_text().contains(&at), "{}", check.stdout_text());
}

#[test]
fn truncated_files_exit_0_1_or_3() {
    for (fixture, db) in [
        ("containerd-1.6", "meta"),
        ("containerd-1.7", "overlayfs"),
        ("docker-28.5", "meta"),
    ] {
        let data = read(&db_path(fixture, db));
        let l = layout(&data);
        let end = l.hwm as usize * l.page_size;
        let dir = tempfile::tempdir().expect("tempdir");
        for len in [0, 100, 4096, 8192, 3 * 4096 + 7, data.len() / 2, end - 1, end] {
            let path = dir.path().join(format!("{fixture}.{db}.{len}"));
            write_file(&path, &data[..len.min(data.len())]);
            for sub in ["dump", "check", "pages", "info", "buckets"] {
                let run = cmd(sub, &path, &[]);
                let code = run.code.expect("exit code");
                assert!([0, 1, 3].contains(&code), "{sub} at {len}: exit {code}: {}", run.stderr);
                if len < 80 {
                    assert_eq!(code, 3, "{sub} at {len}");
                    assert!(run.stderr.contains("meta page 0"), "{}", run.stderr);
                }
            }
            let run = dump(&path, &[]);
            if len == end {
                assert_eq!(run.code, Some(0), "{}", run.stderr);
                assert_eq!(canon_lines(&run.stdout_text()), golden(&format!("{fixture}.{db}")));
            } else if len == 8192 {
                // Only the metas are left: the root page is gone.
                assert_eq!(run.code, Some(3), "dump of {len} bytes: {}", run.stderr);
                assert!(run.stderr.contains("past the end of the file"), "{}", run.stderr);
            } else if len > 8192 {
                // Damage only when a page the current view uses was cut off.
                assert!([0, 3].contains(&run.code.expect("code")), "dump of {len} bytes");
                if run.code == Some(3) {
                    assert!(run.stderr.contains("past the end of the file"), "{}", run.stderr);
                }
            }
        }
    }
}

#[test]
fn branch_pointing_to_itself_is_reported_by_dump_check_and_get() {
    let (_dir, path) = temp_copy(&db_path("containerd-1.6", "meta"));
    let run = cmd("pages", &path, &["--format", "json"]);
    assert_eq!(run.code, Some(0));
    let rows = json(&run);
    let row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["type"] == "branch" && r["count"].as_u64().unwrap_or(0) >= 2)
        .expect("containerd-1.6 meta.db has a branch page");
    let id = row["id"].as_u64().expect("id");
    let last = row["count"].as_u64().expect("count") as usize - 1;
    let mut data = read(&path);
    let ps = layout(&data).page_size;
    let elem = id as usize * ps + 16 + 16 * last;
    let key = data[elem + le_u32(&data, elem) as usize..][..le_u32(&data, elem + 4) as usize].to_vec();
    put_le_u64(&mut data, elem + 8, id);
    write_file(&path, &data);
    let named = format!("page {id}");

    let run = dump(&path, &[]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains(&named), "{}", run.stderr);
    assert!(canon_lines(&run.stdout_text()).len() < golden("containerd-1.6.meta").len());

    let run = cmd("dump", &path, &[]);
    assert_eq!(run.code, Some(3), "text dump: {}", run.stderr);

    let run = cmd("check", &path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let out = run.stdout_text();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{named}: multiple references"))),
        "{out}"
    );
    assert!(out.trim_end().ends_with("errors found"), "{out}");
    let run = cmd("check", &path, &["--format", "json"]);
    assert_eq!(run.code, Some(1));
    let v = json(&run);
    assert_eq!(v["ok"], false);
    assert!(
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["page"] == id)
    );

    // `bolt get` of the key that leads through the bad element: an error, not a loop.
    let mut through = 0;
    for r in golden_records("containerd-1.6.meta").iter().filter(|r| r.key == key) {
        let mut args = vec!["bolt".to_string(), "get".into(), "--hex".into()];
        args.push(path.to_string_lossy().into_owned());
        args.extend(r.bucket.iter().map(hex::encode));
        args.push(hex::encode(&r.key));
        let run = coldctr(&args);
        let code = run.code.expect("exit code");
        assert!([0, 1, 3].contains(&code), "{}", run.stderr);
        if code == 3 {
            assert!(run.stderr.contains(&named), "{}", run.stderr);
            through += 1;
        }
    }
    assert!(through > 0, "no lookup went through {named}");
}

#[test]
fn exit_codes() {
    let path = db_path("containerd-1.6", "meta");
    let run = cmd("get", &path, &["v1", "version"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text().trim(), "3 (schema version)");
    let run = cmd("get", &path, &["v1", "version", "--format", "hex"]);
    assert_eq!(run.stdout_text().trim(), "06");
    let run = cmd("get", &path, &["v1", "no-such-key"]);
    assert_eq!(run.code, Some(1));
    let run = cmd("keys", &path, &["v1", "no-such-bucket"]);
    assert_eq!(run.code, Some(1));
    let run = cmd("get", &path, &["v1", "default"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("is a bucket"), "{}", run.stderr);
    let run = cmd("check", &path, &[]);
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout_text().trim(), "OK");
    let run = cmd("info", &path, &["--meta", "sideways"]);
    assert_eq!(run.code, Some(2));
    let run = cmd("info", Path::new("/nonexistent/meta.db"), &[]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
}

/// (bytes, mtime) of a file.
fn snapshot(path: &Path) -> (Vec<u8>, SystemTime) {
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).expect("mtime");
    (read(path), mtime)
}

/// Every read-only command, each followed by a check that the file is unchanged.
fn every_command_leaves_the_file_alone(path: &Path, golden_name: &str) {
    let before = snapshot(path);
    // overlayfs metadata.db has no v1/version; look up a key both kinds of DB have.
    let get: &[&str] = if golden_name.contains(".meta") {
        &["get", "v1", "version"]
    } else {
        &["buckets", "v1", "snapshots"]
    };
    let commands: [&[&str]; 12] = [
        &["info"],
        &["info", "--format", "json"],
        &["pages"],
        &["pages", "--format", "json"],
        &["buckets"],
        &["buckets", "v1"],
        &["keys", "v1"],
        get,
        &["dump"],
        &["dump", "--format", "jsonl", "--no-mmap"],
        &["check"],
        &["check", "--meta", "previous"],
    ];
    for c in commands {
        let run = cmd(c[0], path, &c[1..]);
        assert_eq!(run.code, Some(0), "{c:?}: {}", run.stderr);
        assert!(snapshot(path) == before, "{c:?} changed {}", path.display());
    }
    let run = dump(path, &[]);
    assert_eq!(canon_lines(&run.stdout_text()), golden(golden_name));
    assert!(snapshot(path) == before);
}

#[test]
fn fixtures_are_never_modified() {
    for (name, path) in all_dbs() {
        every_command_leaves_the_file_alone(&path, &name);
    }
}

#[test]
fn read_only_file_in_read_only_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("ro");
    std::fs::create_dir(&sub).expect("mkdir");
    let path = sub.join("meta.db");
    write_file(&path, &read(&db_path("containerd-1.7", "meta")));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod file");
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).expect("chmod dir");
    every_command_leaves_the_file_alone(&path, "containerd-1.7.meta");
    let db = coldctr::bolt::Db::open(&path, coldctr::bolt::ReadMode::Mmap).expect("library open");
    assert!(!db.fell_back());
    drop(db);
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
}

#[test]
fn an_exclusive_lock_does_not_block_the_cli() {
    let (_dir, path) = temp_copy(&db_path("containerd-1.6", "meta"));
    let holder = std::fs::File::open(&path).expect("open");
    // SAFETY: flock on a descriptor this test owns; released when `holder` is dropped.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    every_command_leaves_the_file_alone(&path, "containerd-1.6.meta");
    drop(holder);
}

#[test]
fn info_reports_no_freelist_sync() {
    for (fixture, db, want) in [
        ("containerd-1.7", "meta", true),
        ("docker-28.5", "meta", true),
        ("containerd-1.6", "meta", false),
        ("containerd-1.7", "overlayfs", false),
    ] {
        let run = cmd("info", &db_path(fixture, db), &["--format", "json"]);
        assert_eq!(run.code, Some(0));
        let v = json(&run);
        assert_eq!(v["pageSize"], 4096);
        assert_eq!(v["byteOrder"], "little-endian");
        assert_eq!(v["fellBack"], false);
        for m in v["metas"].as_array().expect("metas") {
            assert_eq!(m["valid"], true, "{fixture}.{db}");
            assert_eq!(m["noFreelistSync"], want, "{fixture}.{db}");
            assert_eq!(m["freelist"].is_null(), want, "{fixture}.{db}");
        }
    }
}

#[test]
fn pages_lists_every_id_below_hwm_once() {
    for (name, path) in all_dbs() {
        for meta in ["current", "previous"] {
            let info = json(&cmd("info", &path, &["--format", "json", "--meta", meta]));
            let slot = if meta == "current" {
                info["current"].as_u64().expect("current")
            } else {
                1 - info["current"].as_u64().expect("current")
            };
            let hwm = info["metas"][slot as usize]["hwm"].as_u64().expect("hwm");
            let run = cmd("pages", &path, &["--format", "json", "--meta", meta]);
            assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
            let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
            for r in json(&run).as_array().expect("rows") {
                if r["above_hwm"] == true {
                    continue;
                }
                let id = r["id"].as_u64().expect("id");
                let run_len = if r["type"] == "free" {
                    0
                } else {
                    r["overflow"].as_u64().unwrap_or(0)
                };
                for i in id..=id + run_len {
                    *seen.entry(i).or_default() += 1;
                }
            }
            assert_eq!(
                seen.keys().copied().collect::<Vec<_>>(),
                (0..hwm).collect::<Vec<_>>(),
                "{name} {meta}"
            );
            assert!(seen.values().all(|&n| n == 1), "{name} {meta}");
        }
    }
    let text = cmd("pages", &db_path("containerd-1.6", "meta"), &[]).stdout_text();
    assert!(
        text.lines().any(|l| l.split_whitespace().nth(1) == Some("freelist")),
        "{text}"
    );
}

#[test]
fn big_endian_copy_dumps_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, path) in all_dbs() {
        let be = dir.path().join(format!("{name}.be.db"));
        write_file(&be, &to_big_endian(&read(&path)));
        let run = dump(&be, &[]);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        assert_eq!(canon_lines(&run.stdout_text()), golden(&name), "{name}");
        let v = json(&cmd("info", &be, &["--format", "json"]));
        assert_eq!(v["byteOrder"], "big-endian");
        let run = cmd("check", &be, &[]);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stdout_text());
    }
}

#[test]
fn global_options_are_honoured_or_refused() {
    // containerd-1.6's previous transaction differs from its current one.
    let path = db_path("containerd-1.6", "meta");
    let previous = dump(&path, &["--meta", "previous"]);
    let current = dump(&path, &[]);
    assert_eq!(previous.code, Some(0), "{}", previous.stderr);
    assert_ne!(previous.stdout, current.stdout, "the fixture's two transactions differ");
    // `--previous` before or after the subcommand reads the previous transaction.
    for args in [
        vec!["--previous", "bolt", "dump", "--format", "jsonl"],
        vec!["bolt", "dump", "--previous", "--format", "jsonl"],
    ] {
        let mut args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        args.push(path.as_os_str());
        let run = coldctr(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, previous.stdout, "{args:?}");
    }
    // Contradicting --meta is refused.
    let run = coldctr(&[
        "--previous".as_ref(),
        "bolt".as_ref(),
        "dump".as_ref(),
        "--meta".as_ref(),
        "1".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    // Options bolt would ignore are refused, naming them; COLDCTR_ROOT in the environment is not
    // an option given to bolt.
    // (--docker-root, --source-type and --salvage-deleted were taken silently: sweep 29.4.)
    for (flag, value) in [
        ("--root", Some("/")),
        ("-n", Some("moby")),
        ("--host-platform", Some("linux/arm64")),
        ("--docker-root", Some("/nonexistent")),
        ("--source-type", Some("oci-layout")),
        ("--salvage", None),
        ("--salvage-deleted", None),
    ] {
        let mut args: Vec<&std::ffi::OsStr> = vec![flag.as_ref()];
        args.extend(value.map(std::ffi::OsStr::new));
        args.extend(["bolt".as_ref(), "check".as_ref(), path.as_os_str()]);
        let run = coldctr(&args);
        assert_eq!(run.code, Some(2), "{flag}: {}", run.stderr);
        assert!(
            run.stderr.contains(if flag == "-n" { "--namespace" } else { flag }),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .env("COLDCTR_ROOT", "/nonexistent")
        .env("COLDCTR_DOCKER_ROOT", "/nonexistent")
        .args(["bolt".as_ref(), "check".as_ref(), path.as_os_str()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A path that is no regular file (a device, a directory) is refused by name before anything
/// is read, a mistake of the command line (exit 2): `/dev/zero` read into memory (`--no-mmap`) used to grow until the allocator gave
/// up, and mapped it was "too short for a meta page". Run under a 1 GB address-space limit, so
/// that a regression fails instead of eating the machine.
#[test]
fn a_device_or_directory_is_no_bbolt_file() {
    let fixture = repo().join("fixtures/docker-28.5");
    for (path, what) in [
        ("/dev/zero", "a character device"),
        ("/dev/null", "a character device"),
        ("/tmp", "a directory"),
    ] {
        for (args, shown) in [
            (format!("bolt buckets {path}"), "bolt buckets"),
            (format!("--no-mmap bolt buckets {path}"), "--no-mmap bolt buckets"),
            (
                format!("--no-mmap --root {} meta-diff --against {path}", fixture.display()),
                "meta-diff --no-mmap --against",
            ),
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("ulimit -v 1000000; exec \"$0\" {args}"))
                .arg(env!("CARGO_BIN_EXE_coldctr"))
                .output()
                .expect("run sh");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{shown} {path}: {err}");
            assert!(
                err.contains(&format!("{path}: not a regular file ({what})")),
                "{shown} {path}: {err}"
            );
        }
    }
}

/// A sound file whose buckets nest 5,000 deep (bbolt's own `tx.Check()` says OK): `bolt
/// check` cut its walk at 64 levels and reported the cut as findings (exit 1), and `bolt
/// dump` called the file damaged (exit 3, sweep 42). Both walk with a stack of their own
/// now and read it whole.
#[test]
fn buckets_nested_thousands_deep_are_audited_and_dumped_whole() {
    use coldctr::bolt::build::{Tree, build};
    const DEPTH: usize = 5_000;
    // The test builder recurses per level: built (and dropped) on a thread with room for it.
    let bytes = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let mut t = Tree::new();
            let path: Vec<&[u8]> = std::iter::repeat_n(&b"b"[..], DEPTH).collect();
            t.bucket(&path).put(b"leaf", b"value");
            t.bucket(&path[..10]).put(b"side", b"1");
            let bytes = build(&t);
            std::mem::forget(t);
            bytes
        })
        .unwrap()
        .join()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("deep.db");
    std::fs::write(&db, bytes).unwrap();
    let r = cmd("check", &db, &[]);
    assert_eq!((r.code, r.stdout_text().trim()), (Some(0), "OK"), "{}", r.stderr);
    let r = dump(&db, &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = r.stdout_text();
    let leaf = text
        .lines()
        .find(|l| l.contains(r#""key":"leaf""#))
        .expect("the deepest key");
    let line: serde_json::Value = serde_json::from_str(leaf).unwrap();
    assert_eq!(line["bucket"].as_array().map(Vec::len), Some(DEPTH));
    assert_eq!(line["value"], "76616c7565");
    // The key beside the tenth bucket comes after everything inside it, as bbolt walks.
    let side = text.lines().position(|l| l.contains(r#""key":"side""#)).unwrap();
    assert_eq!(
        side,
        text.lines().count() - 1,
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    // The readers that recurse (records, `bolt keys` on a path) keep their bound of 64, said
    // as coldctr's, not as the file's fault.
    let deep: Vec<&str> = std::iter::once("--hex").chain(std::iter::repeat_n("62", 70)).collect();
    let r = cmd("keys", &db, &deep);
    assert!(r.stderr.contains("coldctr's limit"), "{}", r.stderr);
}

/// `bolt dump --format jsonl` wrote a DEL or a bidi override from a key raw; the text
/// commands' stdout writer now escapes them (`\u007f`: the same JSON value). `bolt get
/// --format bytes` still writes the value's own bytes.
#[test]
fn dump_escapes_hazards_and_get_bytes_stays_raw() {
    use coldctr::bolt::build::{Tree, build};
    let mut t = Tree::new();
    t.bucket(&[b"v1"]).put(b"k", "a\u{7f}b\u{202e}c".as_bytes());
    // Names are written as JSON strings (values as hex): a hazard in a key reached stdout raw.
    t.bucket(&[b"v1", "b\u{7f}\u{202e}".as_bytes()]).put(b"x", b"1");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hazard.db");
    std::fs::write(&db, build(&t)).unwrap();
    let r = dump(&db, &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = r.stdout_text();
    assert!(!text.contains('\u{7f}') && !text.contains('\u{202e}'), "{text}");
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("a JSON line");
    }
    let r = cmd("get", &db, &["--format", "bytes", "v1", "k"]);
    assert_eq!(r.stdout, "a\u{7f}b\u{202e}c".as_bytes(), "{}", r.stderr);
}

/// Sweep 42: `bolt keys` prints a name escaped (`\x1b`, `\t`, `\\`, `\xNN`), and that form
/// was refused back (taken as its own characters) unless given in hex: each printed name
/// now opens its bucket again.
#[test]
fn names_bolt_keys_prints_select_their_buckets_again() {
    use coldctr::bolt::build::{Tree, build};
    let raw: [&[u8]; 5] = [b"e\x1b[31mred", b"t\tx", b"b\\s", b"n\xff", b"x\x00y"];
    let mut t = Tree::new();
    for r in raw {
        t.bucket(&[b"v1", r]).put(b"k", b"v");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("names.db");
    std::fs::write(&db, build(&t)).unwrap();
    let r = cmd("keys", &db, &["v1"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let printed: Vec<String> = r
        .stdout_text()
        .lines()
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    assert_eq!(printed.len(), raw.len(), "{}", r.stdout_text());
    for p in &printed {
        let k = cmd("keys", &db, &["v1", p]);
        assert_eq!((k.code, k.stdout_text().trim()), (Some(0), "k"), "{p}: {}", k.stderr);
        let g = cmd("get", &db, &["v1", p, "k"]);
        assert_eq!(g.code, Some(0), "{p}: {}", g.stderr);
    }
}

/// Audit 22, finding 1: both metas claim 2^30 pages (checksums resealed) of a file stretched
/// to match with no data (4 TiB of holes): `bolt check` kept one finding per page below the
/// high-water mark and ran out of memory. The holes are said as one run; it ends at once.
#[test]
fn a_high_water_mark_over_a_sparse_file_is_one_finding_not_a_billion() {
    let mut data = read(&db_path("containerd-1.7", "meta"));
    let ps = le_u32(&data, 24) as usize;
    let real_pages = (data.len() / ps) as u64;
    for slot in 0..2 {
        put_le_u64(&mut data, slot * ps + 56, 1 << 30);
        reseal_meta_le(&mut data, slot, ps);
    }
    let (_dir, path) = temp_file("meta.db", &data);
    let f = std::fs::OpenOptions::new().write(true).open(&path).expect("open");
    if f.set_len((1u64 << 30) * ps as u64).is_err() {
        eprintln!("skipped: this filesystem holds no 4 TiB sparse file");
        return;
    }
    drop(f);
    let r = coldctr(&["bolt".as_ref(), "check".as_ref(), path.as_os_str()]);
    let out = r.stdout_text();
    assert_eq!(r.code, Some(1), "{out}{}", r.stderr);
    let holes: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("lie in a hole of the file"))
        .collect();
    assert_eq!(holes.len(), 1, "{out}");
    assert!(
        holes[0].contains(&format!("pages {real_pages} to {}", (1u64 << 30) - 1)),
        "{out}"
    );
    assert!(out.lines().count() < 100, "{out}");
}
