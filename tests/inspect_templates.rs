//! `coldctr inspect --format TEMPLATE` against what the real docker CLI printed for the same
//! template on the same images (`fixtures/expected/docker-28.5/templates/cases.json`, captured by
//! `tools/capture-templates/capture.py`): stdout byte for byte, stderr, exit code.
//!
//! One deliberate difference: a template that does not parse exits 2 here (our usage error);
//! docker exits 64 (sysexits' EX_USAGE) with the same message.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn docker_cli_template_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("fixtures/expected/docker-28.5/templates/cases.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).expect("cases.json")).expect("cases.json parses");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let argv: Vec<&str> = case["argv"]
            .as_array()
            .expect("argv")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(&argv[..3], ["docker", "image", "inspect"], "{name}");
        let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(root.join("fixtures/docker-28.5"))
            // The daemon whose answers these are ran on linux/amd64.
            .args(["--host-platform", "linux/amd64", "inspect"])
            .args(&argv[3..])
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run coldctr");
        let want_code = match case["exit_code"].as_i64().expect("exit_code") {
            64 => 2,
            c => c,
        };
        let mut problems = Vec::new();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout != case["stdout"].as_str().unwrap_or_default() {
            problems.push(format!(
                "stdout {stdout:?}\n   want {:?}",
                case["stdout"].as_str().unwrap_or_default()
            ));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr != case["stderr"].as_str().unwrap_or_default() {
            problems.push(format!(
                "stderr {stderr:?}\n   want {:?}",
                case["stderr"].as_str().unwrap_or_default()
            ));
        }
        if i64::from(out.status.code().unwrap_or(-1)) != want_code {
            problems.push(format!("exit {:?}, want {want_code}", out.status.code()));
        }
        if !problems.is_empty() {
            failures.push(format!("{name} {:?}:\n  {}", &argv[3..], problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `print`, `println`, `html`, `js` and `urlquery` refuse a result past the 64 MiB output budget
/// while they build it, not after: 40 operands of 63 MiB would take 2.5 GB first. Run in a
/// 1 GB address space, each must end in the template error, not in an allocation failure.
#[test]
fn string_builders_stop_at_the_output_budget_while_building() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let y = "%[1]s".repeat(63);
    let operands = " $y".repeat(40);
    for f in ["print", "println", "html", "js", "urlquery"] {
        let template =
            format!(r#"{{{{$x := printf "%1000000d" 1}}}}{{{{$y := printf "{y}" $x}}}}{{{{len ({f}{operands})}}}}"#);
        let out = Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1000000; exec \"$0\" --root \"$1\" --host-platform linux/amd64 inspect -f \"$2\" lab/special:1.0")
            .arg(env!("CARGO_BIN_EXE_coldctr"))
            .arg(root.join("fixtures/docker-28.5"))
            .arg(&template)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run coldctr");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("error calling {f}: result exceeds 64 MiB")),
            "{f}: {:?} {stderr}",
            out.status
        );
        assert_eq!(out.status.code(), Some(1), "{f}: {stderr}");
    }
}

/// The docker CLI keeps one template for all references; the first reference that falls back
/// to its raw body calls `tmpl.Option("missingkey=error")` on it, which holds for every later
/// reference, typed pass included. Expected outputs: docker/cli's `TemplateInspector.Inspect`
/// and `tryRawInspectFallback` re-run in Go 1.19 on these two images' fields (an untagged image,
/// RepoTags `[]`, and `lab/collide:1`), as the docker CLI would run them.
#[test]
fn a_raw_fallback_leaves_missingkey_error_for_the_references_after_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let untagged = "sha256:1e86cdc73f2f45240fba18662e198142b1c19f16edb8c46b5b575d9b0574560b";
    let template = "{{index .RepoTags 0}} {{.Config.Labels.nosuch}}";
    let index_error = "template parsing error: template: :1:2: executing \"\" at <index .RepoTags 0>: error calling index: reflect: slice index out of range\n";
    let key_error = "template parsing error: template: :1:31: executing \"\" at <.Config.Labels.nosuch>: map has no entry for key \"nosuch\"\n";
    for (refs, stdout, stderr) in [
        // The untagged image falls back first: the tagged one then fails on the missing key.
        (
            [untagged, "lab/collide:1"],
            "\n".to_string(),
            format!("{index_error}{key_error}"),
        ),
        // The tagged one first: the default's `<no value>`, then the fallback.
        (
            ["lab/collide:1", untagged],
            "lab/collide:1 <no value>\n".to_string(),
            index_error.to_string(),
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(["--host-platform", "linux/amd64", "inspect", "-f", template])
            .args(refs)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run coldctr");
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{refs:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{refs:?}");
        assert_eq!(out.status.code(), Some(1), "{refs:?}");
    }
}

/// A float precision over 65535, here taken through `*` from a length of the image's data,
/// panicked (exit 101: Rust's `format!` takes at most 65535). Go's `printf` allows up to a
/// million; go1.19's `text/template` printed 70002 bytes for `%.70000f` of 1.0 and 70006 for
/// `%.70000e` of 1.5.
#[test]
fn float_precision_past_65535_prints_as_go() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(root.join("fixtures/docker-28.5"))
            .args(["--host-platform", "linux/amd64"])
            .args(args)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run coldctr")
    };
    let template = r#"{{printf "%.*f" (len (printf "%70000s" .Id)) 1.0 | len}} {{printf "%.70000e" 1.5 | len}}"#;
    let out = run(&["inspect", "-f", template, "lab/special:1.0"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "70002 70006\n");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let template = r#"{{printf "%.65536f" 1.5 | len}}"#;
    let out = run(&["images", "-f", "name==docker.io/lab/special:1.0", "--format", template]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "65538\n");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
