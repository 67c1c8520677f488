//! `coldctr inspect` agrees field by field with the reference implementation built on
//! containerd 1.6's own packages (`expected/containerd-1.6/inspect.json`), for every image
//! record of every namespace of a ctr-made root (moby, k8s.io with CRI-style names, default).
//! The reference's Config is the older container-config shape, so Config is compared on the
//! members it sets.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

#[test]
fn every_record_agrees_with_the_containerd_reference() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(base.join("expected/containerd-1.6/inspect.json")).expect("inspect.json"),
    )
    .expect("parses");
    let mut checked = 0;
    let mut diffs = Vec::new();
    for ns in expected.as_array().expect("namespaces") {
        let namespace = ns["namespace"].as_str().expect("namespace");
        for want in ns["images"].as_array().expect("images") {
            let name = want["name"].as_str().expect("name");
            // CRI's `sha256:<config>` records and dangling records are reached by image ID.
            let reference = if name.starts_with("sha256:") || name.starts_with("moby-dangling@") {
                want["Id"].as_str().expect("Id")
            } else {
                name
            };
            let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
                .arg("--root")
                .arg(base.join("containerd-1.6"))
                .args(["-n", namespace, "inspect", reference])
                .env_remove("DOCKER_API_VERSION")
                .output()
                .expect("run");
            assert!(
                out.status.success(),
                "{namespace} {reference}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got: Value = serde_json::from_slice(&out.stdout).expect("json");
            let got = &got[0];
            for (k, v) in want.as_object().expect("object") {
                if k.starts_with('_') || k == "name" {
                    continue;
                }
                if k == "Config" {
                    for (ck, cv) in v.as_object().into_iter().flatten() {
                        let g = got["Config"].get(ck);
                        if !(empty(Some(cv)) && empty(g)) && g != Some(cv) {
                            diffs.push(format!("{namespace} {name} Config.{ck}: {g:?} != {cv}"));
                        }
                    }
                } else if got.get(k) != Some(v) {
                    diffs.push(format!("{namespace} {name} {k}: {:?} != {v}", got.get(k)));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} records checked");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
