//! `coldctr bolt info` and `bolt pages` on every fixture DB against the real bbolt:
//!
//! - `fixtures/expected/bbolt-1.3.6/*.pages.txt` and `*.page-0-1.txt`: what the bbolt 1.3.6
//!   command-line tool printed (`bbolt pages FILE`, `bbolt page FILE 0 1`), made as
//!   `fixtures/expected/bbolt-1.3.6/README.md` says. `bolt pages` must print the same bytes.
//! - `fixtures/expected/meta-pages.txt`: both meta pages of every fixture DB decoded field by
//!   field, with each checksum's verdict and which meta is current. It names no tool; every value
//!   in it agrees with bbolt's `page` output above (checked here too), and it adds what that
//!   output lacks: the magic, the page flags, the sequence, the file size and the current meta.

mod bolt_support;

use bolt_support::{all_dbs, coldctr, repo};
use serde_json::Value;
use std::collections::BTreeMap;

/// One DB's block of meta-pages.txt.
struct MetaPages {
    /// `fixtures/...`, as written there.
    path: String,
    file_size: u64,
    page_size: u64,
    pages: u64,
    /// `meta0`, `meta1`: their `key=value` fields, plus `checksum_ok`.
    metas: Vec<BTreeMap<String, String>>,
    current: u64,
}

fn parse_meta_pages() -> Vec<MetaPages> {
    let path = repo().join("fixtures/expected/meta-pages.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<MetaPages> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("  current meta: meta") {
            let block = out.last_mut().expect("a DB line first");
            block.current = rest[..1].parse().expect("meta slot");
            assert!(rest.ends_with("(highest valid txid)"), "{line}");
        } else if let Some(rest) = line.strip_prefix("  meta") {
            let block = out.last_mut().expect("a DB line first");
            let mut fields = BTreeMap::new();
            for word in rest.split_whitespace() {
                if let Some((k, v)) = word.split_once('=') {
                    fields.insert(k.to_string(), v.to_string());
                }
            }
            let ok = rest.trim_end().ends_with("(ok)");
            fields.insert("checksum_ok".into(), ok.to_string());
            block.metas.push(fields);
        } else if let Some((file, rest)) = line.split_once("  (file size ") {
            // "(file size 1048576, page size 4096, 256 pages)"
            let nums: Vec<u64> = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().expect("number"))
                .collect();
            assert_eq!(nums.len(), 3, "{line}");
            out.push(MetaPages {
                path: file.to_string(),
                file_size: nums[0],
                page_size: nums[1],
                pages: nums[2],
                metas: Vec::new(),
                current: u64::MAX,
            });
        } else {
            panic!("meta-pages.txt: unexpected line {line:?}");
        }
    }
    out
}

/// `0x...` or decimal, as meta-pages.txt writes numbers.
fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap_or_else(|e| panic!("{s}: {e}")),
        None => s.parse().unwrap_or_else(|e| panic!("{s}: {e}")),
    }
}

fn info_json(path: &str) -> Value {
    let run = coldctr(&["bolt", "info", "--format", "json", path]);
    assert_eq!(run.code, Some(0), "bolt info {path}: {}", run.stderr);
    serde_json::from_slice(&run.stdout).expect("bolt info JSON")
}

/// `fixtures/expected/bbolt-1.3.6/<name>.<what>.txt`
fn bbolt_output(name: &str, what: &str) -> Vec<u8> {
    let path = repo()
        .join("fixtures/expected/bbolt-1.3.6")
        .join(format!("{name}.{what}.txt"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn bolt_pages_prints_what_bbolt_pages_printed() {
    for (name, path) in all_dbs() {
        let expected = bbolt_output(&name, "pages");
        let run = coldctr(&["bolt".as_ref(), "pages".as_ref(), path.as_os_str()]);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        assert!(
            run.stdout == expected,
            "{name}: bolt pages differs from bbolt pages\n--- ours\n{}\n--- bbolt\n{}",
            run.stdout_text(),
            String::from_utf8_lossy(&expected)
        );
        // Not vacuous: a header, both metas and at least the root's pages.
        assert!(expected.split(|&b| b == b'\n').count() > 5, "{name}");
    }
}

#[test]
fn bolt_info_agrees_with_meta_pages_txt() {
    let blocks = parse_meta_pages();
    // Every fixture DB is in the reference, and nothing else.
    let mut listed: Vec<String> = blocks.iter().map(|b| b.path.clone()).collect();
    let mut ours: Vec<String> = all_dbs()
        .iter()
        .map(|(_, p)| p.strip_prefix(repo()).expect("under the repo").display().to_string())
        .collect();
    listed.sort();
    ours.sort();
    assert_eq!(listed, ours);
    for b in &blocks {
        let path = repo().join(&b.path).display().to_string();
        let info = info_json(&path);
        assert_eq!(info["fileSize"].as_u64(), Some(b.file_size), "{}", b.path);
        assert_eq!(info["pageSize"].as_u64(), Some(b.page_size), "{}", b.path);
        assert_eq!(info["current"].as_u64(), Some(b.current), "{}", b.path);
        assert_eq!(info["fellBack"], false, "{}", b.path);
        assert_eq!(b.metas.len(), 2, "{}", b.path);
        let metas = info["metas"].as_array().expect("metas");
        assert_eq!(metas.len(), 2, "{}", b.path);
        for (slot, (m, r)) in metas.iter().zip(&b.metas).enumerate() {
            let at = format!("{} meta{slot}", b.path);
            assert_eq!(m["slot"].as_u64(), Some(slot as u64), "{at}");
            assert_eq!(m["pageId"].as_u64(), Some(num(&r["page_id"])), "{at}");
            assert_eq!(m["magic"].as_str(), Some(r["magic"].as_str()), "{at}");
            assert_eq!(m["version"].as_u64(), Some(num(&r["version"])), "{at}");
            assert_eq!(m["pageSize"].as_u64(), Some(num(&r["pageSize"])), "{at}");
            assert_eq!(m["flags"].as_u64(), Some(num(&r["flags"])), "{at}");
            assert_eq!(m["root"].as_u64(), Some(num(&r["root"])), "{at}");
            assert_eq!(m["sequence"].as_u64(), Some(num(&r["sequence"])), "{at}");
            assert_eq!(m["hwm"].as_u64(), Some(num(&r["pgid(hwm)"])), "{at}");
            assert_eq!(m["txid"].as_u64(), Some(num(&r["txid"])), "{at}");
            let checksum = r["checksum"].trim_start_matches("0x");
            assert_eq!(m["checksum"].as_str(), Some(checksum), "{at}");
            assert_eq!(m["valid"].as_bool(), Some(r["checksum_ok"] == "true"), "{at}");
            // 0xFFFFFFFFFFFFFFFF: no freelist page (NoFreelistSync).
            let freelist = num(&r["freelist"]);
            if freelist == u64::MAX {
                assert_eq!(m["freelist"], Value::Null, "{at}");
                assert_eq!(m["noFreelistSync"], true, "{at}");
            } else {
                assert_eq!(m["freelist"].as_u64(), Some(freelist), "{at}");
                assert_eq!(m["noFreelistSync"], false, "{at}");
            }
            assert_eq!(m["current"].as_bool(), Some(slot as u64 == b.current), "{at}");
            // page_flags=0x04 is bbolt's meta page flag: `bolt pages` types both as meta.
            assert_eq!(r["page_flags"], "0x04", "{at}");
        }
        // The text form says the same.
        let run = coldctr(&["bolt", "info", &path]);
        assert_eq!(run.code, Some(0), "{}: {}", b.path, run.stderr);
        let text = run.stdout_text();
        let size_line = format!("File size:   {} bytes ({} pages)", b.file_size, b.pages);
        assert!(text.lines().any(|l| l == size_line), "{}: {text}", b.path);
        let current_line = format!("Current:     meta {} (highest valid txid)", b.current);
        assert!(text.lines().any(|l| l == current_line), "{}: {text}", b.path);
    }
}

/// `bbolt page FILE 0 1`: "Name: value" lines per page, pages split by a line of `=`.
fn parse_bbolt_page(text: &str) -> Vec<BTreeMap<String, String>> {
    text.split("===============================================")
        .map(|page| {
            page.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

/// `<pgid=N>` -> N
fn pgid(s: &str) -> u64 {
    s.trim_start_matches("<pgid=")
        .trim_end_matches('>')
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn bolt_info_agrees_with_bbolt_page() {
    let blocks = parse_meta_pages();
    for (name, path) in all_dbs() {
        let pages = parse_bbolt_page(&String::from_utf8(bbolt_output(&name, "page-0-1")).expect("UTF-8"));
        assert_eq!(pages.len(), 2, "{name}");
        let info = info_json(&path.display().to_string());
        let metas = info["metas"].as_array().expect("metas");
        for (slot, (m, p)) in metas.iter().zip(&pages).enumerate() {
            let at = format!("{name} meta {slot}");
            assert_eq!(p["Page Type"], "meta", "{at}");
            assert_eq!(p["Page ID"].parse::<u64>().ok(), m["pageId"].as_u64(), "{at}");
            assert_eq!(p["Version"].parse::<u64>().ok(), m["version"].as_u64(), "{at}");
            assert_eq!(p["Page Size"], format!("{} bytes", m["pageSize"]), "{at}");
            assert_eq!(u64::from_str_radix(&p["Flags"], 16).ok(), m["flags"].as_u64(), "{at}");
            assert_eq!(Some(pgid(&p["Root"])), m["root"].as_u64(), "{at}");
            assert_eq!(Some(pgid(&p["HWM"])), m["hwm"].as_u64(), "{at}");
            let freelist = pgid(&p["Freelist"]);
            assert_eq!(m["noFreelistSync"], freelist == u64::MAX, "{at}");
            assert_eq!(p["Txn ID"].parse::<u64>().ok(), m["txid"].as_u64(), "{at}");
            assert_eq!(Some(p["Checksum"].as_str()), m["checksum"].as_str(), "{at}");
        }
        // And meta-pages.txt names the same meta current as the highest txid among the two.
        let rel = path.strip_prefix(repo()).expect("under the repo").display().to_string();
        let block = blocks.iter().find(|b| b.path == rel).expect("in meta-pages.txt");
        let txids: Vec<u64> = pages.iter().map(|p| p["Txn ID"].parse().expect("txid")).collect();
        let highest = if txids[1] > txids[0] { 1 } else { 0 };
        assert_eq!(block.current, highest, "{name}");
    }
}
