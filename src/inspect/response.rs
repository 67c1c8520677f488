//! The inspect response as dockerd 28.5 serializes it.
//!
//! Key order: `Id, RepoTags, RepoDigests, Parent, Comment, Created?, DockerVersion, Author,
//! Architecture, Variant?, Os, OsVersion?, Size, VirtualSize (API < 1.44), GraphDriver,
//! RootFS, Metadata, Descriptor (API >= 1.48), Config`. `Config` went through a generic map in
//! the daemon, so its keys are sorted, it always carries the API version's legacy keys, and
//! numbers are plain integers.

use super::gojson::J;
use super::summary::Best;
use super::{ApiVersion, Inspector};
use crate::containerd::gotime::{GoTime, parse_rfc3339};
use crate::containerd::records::Image;
use crate::image::document::{ContainerConfig, Descriptor};
use crate::image::reference;
use std::collections::BTreeMap;

const PARENT_LABEL: &str = "org.mobyproject.image.parent";
const DANGLING_PREFIX: &str = "moby-dangling@";

pub(super) fn build(ins: &Inspector<'_>, image: &Image, size: i64, best: Option<&Best>) -> J {
    let api = ins.options.api;
    let tagged = ins.with_target(&image.target.digest, ins.repo_tags_scan());
    let (repo_tags, repo_digests) = repo_tags_and_digests(&tagged);
    // dockerd starts from the Unix epoch (`time.Unix(0, 0)`) and keeps a later `UpdatedAt`
    // only: a record without `updatedat` (a layout's), or one dated before 1970, prints
    // 1970-01-01T00:00:00Z (the daemon's zone; containerd's nodes run in UTC).
    let last_tag = tagged.iter().filter_map(|i| i.updated.as_ref()).fold(
        GoTime {
            unix: 0,
            nanos: 0,
            offset: 0,
        },
        |acc, t| {
            if (t.unix, t.nanos) > (acc.unix, acc.nanos) {
                *t
            } else {
                acc
            }
        },
    );
    let parent = tagged
        .iter()
        .find_map(|i| i.labels.get(PARENT_LABEL))
        .cloned()
        .unwrap_or_default();
    let config = best.map(|b| &b.config);
    let text = |v: Option<&String>| J::str(v.cloned().unwrap_or_default());

    let mut o: Vec<(String, J)> = Vec::new();
    let mut put = |k: &str, v: J| o.push((k.to_string(), v));
    let platform_requested = ins.options.platform.is_some();
    let id_target = match (platform_requested, best) {
        (true, Some(b)) => b.target.clone(),
        _ => super::descriptor_of(image),
    };
    put("Id", J::str(id_target.digest.clone()));
    put("RepoTags", J::Arr(repo_tags.into_iter().map(J::Str).collect()));
    put("RepoDigests", J::Arr(repo_digests.into_iter().map(J::Str).collect()));
    put("Parent", J::str(parent));
    let comment = config
        .and_then(|c| c.history.as_ref())
        .and_then(|h| h.last())
        .and_then(|h| h.comment.clone());
    put("Comment", J::str(comment.unwrap_or_default()));
    let created = config
        .and_then(|c| c.created.as_deref())
        .and_then(parse_rfc3339)
        .map(|t| t.rfc3339_nano());
    match created {
        Some(c) => put("Created", J::str(c)),
        None if api < ApiVersion(44) => put("Created", J::str("0001-01-01T00:00:00Z")),
        None => {}
    }
    put("DockerVersion", J::str(""));
    put("Author", text(config.and_then(|c| c.author.as_ref())));
    put("Architecture", text(config.and_then(|c| c.architecture.as_ref())));
    if let Some(v) = config.and_then(|c| c.variant.as_ref()).filter(|v| !v.is_empty()) {
        put("Variant", J::str(v.clone()));
    }
    put("Os", text(config.and_then(|c| c.os.as_ref())));
    if let Some(v) = config.and_then(|c| c.os_version.as_ref()).filter(|v| !v.is_empty()) {
        put("OsVersion", J::str(v.clone()));
    }
    put("Size", J::Int(size));
    if api < ApiVersion(44) {
        put("VirtualSize", J::Int(size));
    }
    put(
        "GraphDriver",
        J::Obj(vec![
            ("Data".into(), J::Null),
            ("Name".into(), J::str(ins.options.snapshotter.clone())),
        ]),
    );
    let mut rootfs = Vec::new();
    if let Some(r) = config.and_then(|c| c.rootfs.as_ref()) {
        if let Some(t) = r.kind.as_ref().filter(|t| !t.is_empty()) {
            rootfs.push(("Type".to_string(), J::str(t.clone())));
        }
        if let Some(ids) = r.diff_ids.as_ref().filter(|d| !d.is_empty()) {
            rootfs.push(("Layers".to_string(), J::strings(Some(ids))));
        }
    }
    put("RootFS", J::Obj(rootfs));
    put(
        "Metadata",
        J::Obj(vec![("LastTagTime".into(), J::str(last_tag.rfc3339_nano()))]),
    );
    if api >= ApiVersion(48) {
        put("Descriptor", descriptor_json(&id_target));
    }
    put("Config", config_json(config.and_then(|c| c.config.as_ref()), api));
    J::Obj(o)
}

/// RepoTags and RepoDigests from every record with the same target, in name order.
fn repo_tags_and_digests(tagged: &[Image]) -> (Vec<String>, Vec<String>) {
    let mut tags: Vec<String> = Vec::new();
    let mut digests: Vec<String> = Vec::new();
    let push = |v: &mut Vec<String>, s: String| {
        if !v.contains(&s) {
            v.push(s);
        }
    };
    for img in tagged {
        // A dangling record names no tag; nor does a layout entry named by its position (@N).
        if img.name == format!("{DANGLING_PREFIX}{}", img.target.digest) || img.name.starts_with('@') {
            continue;
        }
        // `reference.ParseNamed`: only canonical names count as references.
        match reference::parse_normalized_named(&img.name)
            .ok()
            .filter(|n| n.to_string() == img.name)
        {
            None => push(&mut tags, img.name.clone()),
            Some(named) => {
                push(&mut tags, named.familiar());
                if named.digest.is_some() {
                    push(&mut digests, named.familiar());
                } else {
                    let digested = reference::Named {
                        tag: None,
                        digest: Some(img.target.digest.clone()),
                        ..named
                    };
                    push(&mut digests, digested.familiar());
                }
            }
        }
    }
    (tags, digests)
}

/// An `ocispec.Descriptor` in Go's field order, empty fields omitted.
pub(super) fn descriptor_json(d: &Descriptor) -> J {
    let mut o = vec![
        ("mediaType".to_string(), J::str(d.media_type.clone())),
        ("digest".to_string(), J::str(d.digest.clone())),
        ("size".to_string(), J::Int(d.size)),
    ];
    if let Some(urls) = d.urls.as_ref().filter(|u| !u.is_empty()) {
        o.push(("urls".into(), J::strings(Some(urls))));
    }
    if let Some(a) = d.annotations.as_ref().filter(|a| !a.is_empty()) {
        o.push(("annotations".into(), J::string_map(a)));
    }
    if let Some(data) = d.data.as_ref().filter(|d| !d.is_empty()) {
        o.push(("data".into(), J::str(data.clone())));
    }
    if let Some(p) = &d.platform {
        let mut po = vec![
            ("architecture".to_string(), J::str(p.architecture.clone())),
            ("os".to_string(), J::str(p.os.clone())),
        ];
        if !p.os_version.is_empty() {
            po.push(("os.version".into(), J::str(p.os_version.clone())));
        }
        if let Some(f) = p.os_features.as_ref().filter(|f| !f.is_empty()) {
            po.push(("os.features".into(), J::strings(Some(f))));
        }
        if !p.variant.is_empty() {
            po.push(("variant".into(), J::str(p.variant.clone())));
        }
        o.push(("platform".into(), J::Obj(po)));
    }
    if !d.artifact_type.is_empty() {
        o.push(("artifactType".into(), J::str(d.artifact_type.clone())));
    }
    J::Obj(o)
}

fn non_empty(v: &Option<Vec<String>>) -> Option<&Vec<String>> {
    v.as_ref().filter(|v| !v.is_empty())
}

/// `DockerOCIImageConfig` members that are set, in struct order (what `{{json .Config}}`
/// prints); [`config_json`] sorts them and adds the legacy keys.
pub fn config_members(c: &ContainerConfig) -> Vec<(String, J)> {
    let mut o: Vec<(String, J)> = Vec::new();
    let set = |m: &Option<BTreeMap<String, crate::image::document::EmptyObject>>| {
        m.as_ref()
            .filter(|m| !m.is_empty())
            .map(|m| J::Obj(m.keys().map(|k| (k.clone(), J::Obj(vec![]))).collect()))
    };
    if let Some(u) = c.user.as_ref().filter(|s| !s.is_empty()) {
        o.push(("User".into(), J::str(u.clone())));
    }
    if let Some(p) = set(&c.exposed_ports) {
        o.push(("ExposedPorts".into(), p));
    }
    if let Some(v) = non_empty(&c.env) {
        o.push(("Env".into(), J::strings(Some(v))));
    }
    if let Some(v) = non_empty(&c.entrypoint) {
        o.push(("Entrypoint".into(), J::strings(Some(v))));
    }
    if let Some(v) = non_empty(&c.cmd) {
        o.push(("Cmd".into(), J::strings(Some(v))));
    }
    if let Some(v) = set(&c.volumes) {
        o.push(("Volumes".into(), v));
    }
    if let Some(w) = c.working_dir.as_ref().filter(|s| !s.is_empty()) {
        o.push(("WorkingDir".into(), J::str(w.clone())));
    }
    if let Some(l) = c.labels.as_ref().filter(|l| !l.is_empty()) {
        let m = l
            .iter()
            .map(|(k, v)| (k.clone(), J::str(v.clone().unwrap_or_default())))
            .collect();
        o.push(("Labels".into(), J::Obj(m)));
    }
    if let Some(s) = c.stop_signal.as_ref().filter(|s| !s.is_empty()) {
        o.push(("StopSignal".into(), J::str(s.clone())));
    }
    if c.args_escaped == Some(true) {
        o.push(("ArgsEscaped".into(), J::Bool(true)));
    }
    if let Some(h) = &c.healthcheck {
        let mut hc = Vec::new();
        if let Some(t) = non_empty(&h.test) {
            hc.push(("Test".to_string(), J::strings(Some(t))));
        }
        for (k, v) in [
            ("Interval", h.interval),
            ("Timeout", h.timeout),
            ("StartPeriod", h.start_period),
            ("StartInterval", h.start_interval),
            ("Retries", h.retries),
        ] {
            if let Some(v) = v.filter(|v| *v != 0) {
                hc.push((k.to_string(), J::Int(v)));
            }
        }
        o.push(("Healthcheck".into(), J::Obj(hc)));
    }
    if let Some(v) = non_empty(&c.on_build) {
        o.push(("OnBuild".into(), J::strings(Some(v))));
    }
    if let Some(v) = non_empty(&c.shell) {
        o.push(("Shell".into(), J::strings(Some(v))));
    }
    o
}

/// The `Config` object as dockerd 28.3+ sends it: set members plus the API's always-present
/// keys, all sorted (recursively, as Go sorts map keys).
fn config_json(c: Option<&ContainerConfig>, api: ApiVersion) -> J {
    let mut m: BTreeMap<String, J> = c.map(config_members).unwrap_or_default().into_iter().collect();
    let mut defaults: Vec<(&str, J)> = vec![
        ("Cmd", J::Null),
        ("Entrypoint", J::Null),
        ("Env", J::Null),
        ("Labels", J::Null),
        ("OnBuild", J::Null),
        ("User", J::str("")),
        ("Volumes", J::Null),
        ("WorkingDir", J::str("")),
    ];
    if api < ApiVersion(50) {
        for k in [
            "AttachStderr",
            "AttachStdin",
            "AttachStdout",
            "OpenStdin",
            "StdinOnce",
            "Tty",
        ] {
            defaults.push((k, J::Bool(false)));
        }
        for k in ["Domainname", "Hostname", "Image"] {
            defaults.push((k, J::str("")));
        }
    }
    for (k, v) in defaults {
        m.entry(k.to_string()).or_insert(v);
    }
    sort_objects(J::Obj(m.into_iter().collect()))
}

/// The config as dockerd 28.3+ sends it: marshalled, read back into a `map[string]any` (keys
/// sorted; every number a `float64`, so an integer past 2^53 comes back rounded: a healthcheck
/// interval of 9007199254740993 ns prints 9007199254740992) and marshalled again.
fn sort_objects(v: J) -> J {
    match v {
        J::Obj(members) => {
            let sorted: BTreeMap<String, J> = members.into_iter().map(|(k, v)| (k, sort_objects(v))).collect();
            J::Obj(sorted.into_iter().collect())
        }
        J::Arr(items) => J::Arr(items.into_iter().map(sort_objects).collect()),
        // Exact below 2^53: printed as it was.
        J::Int(i) if i.unsigned_abs() > 1 << 53 => J::Float(crate::template::gofmt::json_float(i as f64)),
        other => other,
    }
}
