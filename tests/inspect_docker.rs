//! Every `docker image inspect` case captured from a live dockerd 28.5.2 must come out of
//! `coldctr inspect` byte for byte, with the same exit code and the daemon's message on
//! stderr (on the intact fixture, stderr whole as docker printed it): on the intact fixture (`expected/docker-28.5`) and on the damaged copy after a
//! real restart of the daemon (`expected/docker-28.5-damaged/observed-after-restart`).
//!
//! The exit code is docker's, except where dockerd logged a warning for the image (a blob it
//! could not read; `dockerd-warnings.txt`): dockerd only logs that damage, coldctr exits 3
//! for it as every command does for damage met (also where the reference then fails: 3 is
//! worse than 1).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn run_cases(expected: &str, root: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/expected")
        .join(expected);
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json")).expect("index.json parses");
    let cases = index["inspect"].as_array().expect("inspect cases");
    // The images dockerd logged a warning for, as `image="<record name>"`.
    let warned: Vec<String> = std::fs::read_to_string(dir.join("dockerd-warnings.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(" image=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(String::from)
        .collect();
    assert!(
        cases.len() >= 200,
        "expected the full capture, found {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let argv: Vec<&str> = case["argv"]
            .as_array()
            .expect("argv")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(&argv[..3], ["docker", "image", "inspect"]);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(root))
            // The daemon that printed these ran on linux/amd64.
            .args(["--host-platform", "linux/amd64", "inspect"])
            .args(&argv[3..])
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT");
        if let Some(env) = case["env"].as_object() {
            for (k, v) in env {
                cmd.env(k, v.as_str().unwrap_or_default());
            }
        }
        let out = cmd.output().expect("run coldctr");
        let want_stdout = std::fs::read(dir.join(case["expected_stdout_file"].as_str().expect("stdout file")))
            .expect("expected stdout");
        let mut want_code = case["expected_exit_code"].as_i64().expect("exit code");
        if want_code <= 1
            && case["image_record"]
                .as_str()
                .is_some_and(|r| warned.iter().any(|w| w == r))
        {
            want_code = 3;
        }
        let whole_err = case["expected_stderr"].as_str().unwrap_or_default();
        let want_err = whole_err.trim().trim_start_matches("Error response from daemon: ");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        // On the intact store stderr is docker's whole, the CLI's own refusals too (sweep
        // 29.11: `coldctr: "--platform" requires API version 1.49...`).
        if root == expected && stderr.trim() != whole_err.trim() {
            problems.push(format!("stderr {stderr:?}, want {whole_err:?}"));
        }
        if out.stdout != want_stdout {
            problems.push(format!(
                "stdout differs:\n--- got\n{}\n--- want\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&want_stdout)
            ));
        }
        if i64::from(out.status.code().unwrap_or(-1)) != want_code {
            problems.push(format!("exit code {:?}, want {want_code}", out.status.code()));
        }
        if !want_err.is_empty() && !stderr.contains(want_err) {
            problems.push(format!("stderr {stderr:?} lacks {want_err:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{:?} {:?}: {}", &argv[3..], case["env"], problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn docker_28_5_every_captured_case() {
    run_cases("docker-28.5", "docker-28.5");
}

/// The plain one-reference cases of a capture that docker answered with a body: each
/// reference and what docker printed between the brackets.
fn plain_cases(expected: &str) -> (Vec<String>, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/expected")
        .join(expected);
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json")).expect("index.json parses");
    let mut refs = Vec::new();
    let mut bodies = Vec::new();
    for case in index["inspect"].as_array().expect("inspect cases") {
        let argv: Vec<&str> = case["argv"]
            .as_array()
            .expect("argv")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let plain =
            argv.len() == 4 && !argv[3].starts_with('-') && case["env"].as_object().is_none_or(|e| e.is_empty());
        if !plain || case["expected_exit_code"].as_i64() != Some(0) {
            continue;
        }
        let stdout = std::fs::read_to_string(dir.join(case["expected_stdout_file"].as_str().expect("stdout file")))
            .expect("expected stdout");
        // "[\n    {...}\n]\n": the body is what lies between the brackets.
        let Some(body) = stdout.strip_prefix("[\n").and_then(|b| b.strip_suffix("\n]\n")) else {
            continue;
        };
        refs.push(argv[3].to_string());
        bodies.push(body.to_string());
    }
    (refs, bodies)
}

fn inspect_many(root: &str, refs: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(root))
        .args(["--host-platform", "linux/amd64", "inspect"])
        .args(refs)
        .env_remove("DOCKER_API_VERSION")
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr")
}

/// Every plain one-reference case of the capture again, all in one invocation: many
/// references take the path that decodes every record once into an index (a few take the
/// path that scans targets alone), and must print what docker prints for each, joined.
#[test]
fn docker_28_5_every_plain_case_in_one_invocation() {
    let (refs, bodies) = plain_cases("docker-28.5");
    assert!(refs.len() >= 20, "only {} plain cases", refs.len());
    let out = inspect_many("docker-28.5", &refs);
    let want = format!("[\n{}\n]\n", bodies.join(",\n"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{} references", refs.len());
}

/// The same cases, then all of them again in reverse order: every target is named several
/// times, near and far apart, so bodies are shared between references (the references
/// resolved first, one walk per target); each must still be what docker printed for it.
#[test]
fn docker_28_5_plain_cases_named_again_far_apart() {
    let (mut refs, mut bodies) = plain_cases("docker-28.5");
    let distinct: std::collections::HashSet<&String> = bodies.iter().collect();
    assert!(distinct.len() < bodies.len(), "some cases share a target");
    refs.extend(refs.clone().into_iter().rev());
    bodies.extend(bodies.clone().into_iter().rev());
    let out = inspect_many("docker-28.5", &refs);
    let want = format!("[\n{}\n]\n", bodies.join(",\n"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{} references", refs.len());
}

/// On the damaged root, what dockerd would log (a manifest whose availability check fails,
/// ...) is said for every reference that meets it, shared body or not: the warnings of one
/// invocation of many references are those of each reference inspected alone.
#[test]
fn docker_28_5_damaged_warnings_for_each_reference_of_many() {
    let (refs, _) = plain_cases("docker-28.5-damaged/observed-after-restart");
    assert!(
        refs.len() > 3,
        "{} references take the path that shares bodies",
        refs.len()
    );
    let mut refs: Vec<String> = refs.clone().into_iter().chain(refs.into_iter().rev()).collect();
    refs.sort();
    let warnings = |out: &std::process::Output| -> Vec<String> {
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("Error response from daemon"))
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let together = warnings(&inspect_many("docker-28.5-damaged", &refs));
    let mut alone: Vec<String> = Vec::new();
    let mut said_once = std::collections::HashSet::new();
    for r in &refs {
        for line in warnings(&inspect_many("docker-28.5-damaged", std::slice::from_ref(r))) {
            // Damage in meta.db is said once per invocation; dockerd's log lines per reference.
            if line.contains("meta.db") {
                if said_once.insert(line.clone()) {
                    alone.push(line);
                }
            } else {
                alone.push(line);
            }
        }
    }
    alone.sort();
    assert!(!together.is_empty(), "the damaged root has something to say");
    assert_eq!(together, alone);
}

#[test]
fn docker_28_5_damaged_after_restart_every_captured_case() {
    run_cases("docker-28.5-damaged/observed-after-restart", "docker-28.5-damaged");
}

/// The README's set-up command: `inspect lab/special:1.0 dlist:1` prints one array holding
/// what dockerd printed for each reference alone (the CLI indents the joined bodies as one
/// JSON array: the single outputs without their brackets, joined by a comma).
#[test]
fn the_readme_command_prints_both_captured_bodies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/expected/docker-28.5/inspect");
    let body = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).expect("captured stdout");
        text.strip_prefix("[\n")
            .and_then(|t| t.strip_suffix("\n]\n"))
            .expect("one array")
            .to_string()
    };
    let want = format!(
        "[\n{},\n{}\n]\n",
        body("lab_special_1.0__api-default.stdout"),
        body("dlist_1__api-default.stdout")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5"))
        .args([
            "--host-platform",
            "linux/amd64",
            "inspect",
            "lab/special:1.0",
            "dlist:1",
        ])
        .env_remove("DOCKER_API_VERSION")
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}
