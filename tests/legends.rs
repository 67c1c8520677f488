//! `gc` and `du` tables: a short legend by default, every definition with `--explain`; the JSON
//! output carries every definition either way and does not change.

mod bolt_support;

use bolt_support::{coldctr, repo};

fn run(command: &str, extra: &[&str]) -> Vec<u8> {
    // docker-28.5: an intact root (containerd-1.6 records a missing blob: du exits 3 there).
    let root = repo().join("fixtures/docker-28.5").display().to_string();
    let mut args = vec!["--root", &root, command, "--at", "2026-11-27T18:00:00Z"];
    args.extend(extra);
    let run = coldctr(&args);
    assert_eq!(run.code, Some(0), "{command} {extra:?}: {}", run.stderr);
    run.stdout
}

#[test]
fn legends_are_short_unless_explained() {
    for command in ["gc", "du"] {
        let json = run(command, &["--format", "json"]);
        assert_eq!(json, run(command, &["--format", "json", "--explain"]), "{command}");
        let doc: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        let definitions = doc["definitions"].as_object().expect("definitions");
        assert!(definitions.len() >= 10, "{command}");

        let short = String::from_utf8(run(command, &[])).expect("UTF-8");
        let (_, legend) = short.split_once("\nLegend").expect("a legend");
        assert!(legend.contains(&format!("`coldctr {command} --explain`")), "{legend}");
        assert!(legend.lines().count() <= 7, "{command}: {legend}");
        let long = String::from_utf8(run(command, &["--explain"])).expect("UTF-8");
        let (body, explained) = long.split_once("\nLegend").expect("a legend");
        assert!(
            short.starts_with(body),
            "{command}: --explain changes more than the legend"
        );
        for (k, v) in definitions {
            let line = format!("  {k}: {}", v.as_str().expect("text"));
            assert!(explained.lines().any(|l| l == line), "{command} --explain lacks {k}");
            assert!(
                !legend.contains(v.as_str().unwrap_or_default()),
                "{command}: {k} in the short legend"
            );
        }
    }
}
