//! `container inspect` of a containerd record (a container with no Docker container over it):
//! the object `ctr containers info` prints, plus the CRI's view for a Kubernetes one.
//!
//! ```text
//! {"ID","Labels","Image","Runtime":{"Name","Options":{"type_url","value"(base64)}},
//!  "SnapshotKey","Snapshotter","CreatedAt","UpdatedAt","Extensions":{name:{"type_url","value"}},
//!  "SandboxID"(1.7 and later),"Spec":{...the OCI spec...}
//!  [,"CRI":{"Kind","PodName","PodNamespace","PodUID","ContainerName","Metadata","Status"}]}
//! ```
//!
//! ctr prints the Any values as Go's `encoding/json` writes an `anypb.Any` (base64 bytes,
//! empty members left out) and the spec decoded; the spec's JSON is kept in its stored order,
//! which is the order of the Go struct that wrote it.
//!
//! A record without labels prints `"Labels": null` under every release: each client passes
//! the gRPC message's map on (`containerFromProto`, `Labels: containerpb.Labels`), which
//! protobuf leaves nil when it has no entries.
//!
//! The release of ctr decides two members ([`Release::ctr_sandbox`]). containerd 1.6's
//! `containers.Container` has no `SandboxID` (1.7.0 added it), and 1.6's client hands on the
//! gRPC message's extensions map (`containerFromProto`, `Extensions: containerpb.Extensions`),
//! nil when the record has none: `"Extensions": null`. 1.7.0's and 2.x's client builds the
//! map (`make(map[string]typeurl.Any)`) and copies the entries in: `{}` when there are none.

use super::cri::CriInfo;
use crate::containerd::records::{AnyValue, Container};
use crate::inspect::gojson::{self, J};
use crate::overlay::mounts::Release;

/// Standard base64 with padding, as Go's `encoding/json` writes `[]byte`.
pub(crate) fn base64(b: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                let idx = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(*ALPHABET.get(idx as usize).unwrap_or(&b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn any(a: &AnyValue) -> J {
    let mut m = Vec::new();
    if !a.type_url.is_empty() {
        m.push(("type_url".to_string(), J::str(a.type_url.clone())));
    }
    if !a.value.is_empty() {
        m.push(("value".to_string(), J::str(base64(&a.value))));
    }
    J::Obj(m)
}

/// What is wrong with the record's spec, when it does not decode: ctr cannot print such a
/// record (`typeurl.UnmarshalAny`); it is shown as its Any, and this is said with it.
pub fn spec_problem(r: &Container) -> Option<String> {
    let spec = r.spec.as_deref()?;
    let e = decoded_spec(r, spec)?.err()?;
    Some(undecodable(r, spec, &e))
}

/// The type URL containerd registers the OCI runtime spec under: the one type ctr decodes a
/// container's spec as.
const SPEC_TYPE: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/// The spec as ctr 1.6 and later print it (`containers info`), or why it cannot: `None` when
/// its Any holds no bytes (ctr then prints no spec). ctr decodes it only under the spec's own
/// type URL (any other it refuses, `type with url ... not found`: sweep 42, H1, where a `{}`
/// under another type was shown as the container's spec), into the Go struct: JSON `null`
/// leaves the struct empty, printed `{"ociVersion": ""}`, and anything but an object fails.
fn decoded_spec(r: &Container, spec: &[u8]) -> Option<Result<J, String>> {
    if spec.is_empty() {
        return None;
    }
    let url = r.spec_type.as_deref().unwrap_or_default();
    if url != SPEC_TYPE {
        return Some(Err(format!(
            "its type is \"{}\", not the OCI runtime spec's",
            crate::text::escape(url.as_bytes())
        )));
    }
    Some(match gojson::parse_as_go(spec) {
        Ok(J::Null) => Ok(J::Obj(vec![("ociVersion".into(), J::str(String::new()))])),
        Ok(object @ J::Obj(_)) => Ok(object),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(e.to_string()),
    })
}

fn undecodable(r: &Container, spec: &[u8], e: &dyn std::fmt::Display) -> String {
    format!(
        "namespace {}: container {}: its spec ({} bytes) does not decode ({e}): no command, and shown as its Any (ctr cannot print the record)",
        crate::text::escape(r.namespace.as_bytes()),
        crate::text::escape(r.id.as_bytes()),
        spec.len()
    )
}

/// The record as `release`'s ctr prints it, and [`spec_problem`]'s answer from the same
/// decoding of its spec.
pub fn inspect_with_problem(r: &Container, cri: Option<&CriInfo>, release: Release) -> (J, Option<String>) {
    let mut problem = None;
    let object = inspect_as(r, cri, release, &mut problem);
    (object, problem)
}

/// The record as `release`'s ctr prints it (see the module's notes), with `cri` after it.
pub fn inspect(r: &Container, cri: Option<&CriInfo>, release: Release) -> J {
    inspect_as(r, cri, release, &mut None)
}

fn inspect_as(r: &Container, cri: Option<&CriInfo>, release: Release, problem: &mut Option<String>) -> J {
    let mut out: Vec<(String, J)> = vec![
        ("ID".into(), J::str(r.id.clone())),
        // Every release's client hands on the message's labels map: nil, `null`, when empty.
        (
            "Labels".into(),
            if r.labels.is_empty() {
                J::Null
            } else {
                J::string_map(&r.labels)
            },
        ),
        ("Image".into(), J::str(r.image.clone())),
        (
            "Runtime".into(),
            J::Obj(vec![
                ("Name".into(), J::str(r.runtime.clone())),
                ("Options".into(), r.runtime_options.as_ref().map_or(J::Null, any)),
            ]),
        ),
        ("SnapshotKey".into(), J::str(r.snapshot_key.clone())),
        ("Snapshotter".into(), J::str(r.snapshotter.clone())),
        (
            "CreatedAt".into(),
            J::str(r.created_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into())),
        ),
        (
            "UpdatedAt".into(),
            J::str(r.updated_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into())),
        ),
        (
            "Extensions".into(),
            if r.extension_values.is_empty() && !release.ctr_sandbox() {
                J::Null
            } else {
                J::Obj(r.extension_values.iter().map(|(k, a)| (k.clone(), any(a))).collect())
            },
        ),
    ];
    if release.ctr_sandbox() {
        out.push(("SandboxID".into(), J::str(r.sandbox_id.clone().unwrap_or_default())));
    }
    // A spec that does not decode is still shown, as ctr cannot: as its Any.
    if let Some((spec, decoded)) = r.spec.as_ref().and_then(|s| Some((s, decoded_spec(r, s)?))) {
        out.push((
            "Spec".into(),
            decoded.unwrap_or_else(|e| {
                *problem = Some(undecodable(r, spec, &e));
                any(&AnyValue {
                    type_url: r.spec_type.clone().unwrap_or_default(),
                    value: spec.clone(),
                })
            }),
        ));
    }
    if let Some(c) = cri {
        out.push((
            "CRI".into(),
            J::Obj(vec![
                ("Kind".into(), J::str(c.kind.clone())),
                ("PodName".into(), J::str(c.pod_name.clone())),
                ("PodNamespace".into(), J::str(c.pod_namespace.clone())),
                ("PodUID".into(), J::str(c.pod_uid.clone())),
                ("ContainerName".into(), J::str(c.container_name.clone())),
                ("State".into(), J::str(c.state())),
                ("Metadata".into(), c.metadata.clone().unwrap_or(J::Null)),
                ("Status".into(), c.status.clone().unwrap_or(J::Null)),
            ]),
        ));
    }
    J::Obj(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extensions: Vec<(String, AnyValue)>) -> Container {
        Container {
            namespace: "default".into(),
            id: "c".into(),
            image: String::new(),
            runtime: "io.containerd.runc.v2".into(),
            snapshotter: String::new(),
            snapshot_key: String::new(),
            sandbox_id: None,
            spec_type: Some(SPEC_TYPE.into()),
            extensions: extensions.iter().map(|(k, _)| k.clone()).collect(),
            created_at: None,
            updated_at: None,
            labels: Default::default(),
            spec: Some(br#"{"ociVersion":"1.0.2-dev"}"#.to_vec()),
            runtime_options: None,
            extension_values: extensions,
        }
    }

    /// ctr 1.6: no SandboxID, a record without extensions `null`; 1.7.0 and later: `""`, `{}`.
    #[test]
    fn each_release_prints_its_ctrs_shape() {
        let member = |j: &J, k: &str| j.get(k).map(|v| v.to_compact(false));
        let keys = |j: &J| match j {
            J::Obj(m) => m.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let plain = record(Vec::new());
        for r in [Release::Six, Release::Two] {
            assert_eq!(
                member(&inspect(&plain, None, r), "Labels").as_deref(),
                Some("null"),
                "{r:?}"
            );
        }
        let six = inspect(&plain, None, Release::Six);
        assert_eq!(member(&six, "Extensions").as_deref(), Some("null"));
        assert_eq!(member(&six, "SandboxID"), None);
        assert!(keys(&six).ends_with(&["Extensions".to_string(), "Spec".to_string()]));
        for r in [Release::Early, Release::Late1, Release::Two] {
            let j = inspect(&plain, None, r);
            assert_eq!(member(&j, "Extensions").as_deref(), Some("{}"), "{r:?}");
            assert_eq!(member(&j, "SandboxID").as_deref(), Some(r#""""#), "{r:?}");
            let tail = ["Extensions", "SandboxID", "Spec"].map(String::from);
            assert!(keys(&j).ends_with(&tail), "{r:?}");
        }
        // With extensions every release prints them.
        let ext = record(vec![(
            "x".into(),
            AnyValue {
                type_url: "t".into(),
                value: b"v".to_vec(),
            },
        )]);
        for r in [Release::Six, Release::Two] {
            assert_eq!(
                member(&inspect(&ext, None, r), "Extensions").as_deref(),
                Some(r#"{"x":{"type_url":"t","value":"dg=="}}"#),
                "{r:?}"
            );
        }
    }

    /// One decoding of the spec gives both the object and the problem `spec_problem` says.
    #[test]
    fn a_spec_that_does_not_decode_is_said_once_decoded() {
        let good = record(Vec::new());
        assert_eq!(inspect_with_problem(&good, None, Release::Six).1, None);
        let mut bad = record(Vec::new());
        bad.spec = Some(br#"{"ociVersion":"#.to_vec());
        let (object, problem) = inspect_with_problem(&bad, None, Release::Six);
        assert!(problem.is_some());
        assert_eq!(problem, spec_problem(&bad));
        assert_eq!(
            object.get("Spec").map(|v| v.to_compact(false)).as_deref(),
            Some(format!(r#"{{"type_url":"{SPEC_TYPE}","value":"eyJvY2lWZXJzaW9uIjo="}}"#).as_str())
        );
    }

    /// A spec is decoded as ctr decodes it (sweep 42, H1 and L1): only under the runtime spec's
    /// type URL, `null` the empty struct, an empty Any no spec at all.
    #[test]
    fn a_spec_is_decoded_only_as_the_runtime_spec_ctr_decodes() {
        let spec_of = |r: &Container| {
            let (object, problem) = inspect_with_problem(r, None, Release::Six);
            (object.get("Spec").map(|v| v.to_compact(false)), problem)
        };
        let mut other = record(Vec::new());
        other.spec_type = Some("evil\x1b[2J/url".into());
        other.spec = Some(b"{}".to_vec());
        let (spec, problem) = spec_of(&other);
        assert_eq!(
            spec.as_deref(),
            Some(r#"{"type_url":"evil\u001b[2J/url","value":"e30="}"#)
        );
        let problem = problem.unwrap();
        assert!(
            problem.contains(r#"its type is "evil\x1b[2J/url", not the OCI runtime spec's"#),
            "{problem}"
        );
        let mut null = record(Vec::new());
        null.spec = Some(b"null".to_vec());
        assert_eq!(spec_of(&null), (Some(r#"{"ociVersion":""}"#.into()), None));
        let mut array = record(Vec::new());
        array.spec = Some(b"[]".to_vec());
        let (_, problem) = spec_of(&array);
        assert!(problem.is_some_and(|p| p.contains("not a JSON object")));
        let mut empty = record(Vec::new());
        empty.spec = Some(Vec::new());
        empty.spec_type = Some(String::new());
        assert_eq!(spec_of(&empty), (None, None));
        assert_eq!(spec_problem(&empty), None);
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"\xff\xfe\xfd\xfc"), "//79/A==");
    }
}
