//! Kubernetes CRI containers and sandboxes (containerd's CRI plugin, namespace `k8s.io`).
//!
//! ```text
//! meta.db  v1/k8s.io/containers/<id>/labels/io.cri-containerd.kind = sandbox | container
//!                                          /io.kubernetes.pod.{name,namespace,uid}
//!                                          /io.kubernetes.container.name   (containers)
//!                                   /extensions/io.cri-containerd.container.metadata   Any
//!                                              /io.cri-containerd.sandbox.metadata     Any
//!                   Any value (JSON): {"Version":"v1","Metadata":{"ID","Name","SandboxID",
//!                                      "Config":{...CRI config...},"ImageRef","LogPath",...}}
//! <root>/io.containerd.grpc.v1.cri/containers/<id>/status  (JSON, times in Unix nanoseconds)
//!     {"Version":"v1","Pid","CreatedAt","StartedAt","FinishedAt","ExitCode","Reason",
//!      "Message","Unknown",...}
//! ```
//!
//! The status file is what the CRI plugin reloads on restart: with it, a container's
//! created/started/finished times and exit code survive even though containerd itself keeps
//! no task state on disk. Sandboxes have no status file.

use super::files;
use crate::containerd::records::Container;
use crate::inspect::gojson::{self, GoInt, J};
use std::path::Path;

pub const KIND_LABEL: &str = "io.cri-containerd.kind";
pub const CONTAINER_METADATA: &str = "io.cri-containerd.container.metadata";
pub const SANDBOX_METADATA: &str = "io.cri-containerd.sandbox.metadata";

/// The CRI plugin's directories that may hold `containers/<id>/status` (containerd 1.x and
/// 2.x name the plugin's root differently).
const CRI_DIRS: [&str; 2] = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"];

/// What the CRI knows of a containerd container record.
#[derive(Clone, Debug, Default)]
pub struct CriInfo {
    /// `sandbox` or `container` (the kind label).
    pub kind: String,
    pub pod_name: String,
    pub pod_namespace: String,
    pub pod_uid: String,
    /// The container's name in its pod (empty for a sandbox).
    pub container_name: String,
    /// The CRI metadata extension, decoded (`{"Version","Metadata"}`).
    pub metadata: Option<J>,
    /// The status file, decoded.
    pub status: Option<J>,
    /// Where it was read from.
    pub status_file: Option<std::path::PathBuf>,
    /// A status file that is there but was not read (not JSON, too large, not a regular
    /// file...: named in the damage): the state is unknown, not "no status file".
    pub status_unread: bool,
}

/// True when the record was made by the CRI plugin.
pub fn is_cri(c: &Container) -> bool {
    c.labels.contains_key(KIND_LABEL)
        || c.extension_values
            .iter()
            .any(|(k, _)| k == CONTAINER_METADATA || k == SANDBOX_METADATA)
}

/// The CRI view of `c`; problems (a metadata extension or status file that does not decode)
/// go to `damage`, naming the record or file. The status file's tree is kept: `memory` is
/// charged with it, and a status file that does not fit what is left is named and left out
/// (each is at most [`files::MAX_PARSED`] of memory, but a node may have any number).
pub fn info(root: &Path, c: &Container, memory: &mut files::MemoryBudget, damage: &mut Vec<String>) -> CriInfo {
    let mut info = info_from_record(c, damage);
    if info.kind != "sandbox" && is_safe_id(&c.id) {
        for dir in CRI_DIRS {
            let container_dir = root.join(dir).join("containers").join(&c.id);
            // Every directory on the way must be a real one: a symlink would lead out of the root.
            let real_dirs = [root.join(dir), root.join(dir).join("containers"), container_dir.clone()]
                .iter()
                .all(|d| std::fs::symlink_metadata(d).is_ok_and(|m| m.is_dir()));
            if !real_dirs {
                if std::fs::symlink_metadata(&container_dir).is_ok_and(|m| m.file_type().is_symlink()) {
                    damage.push(format!("{}: a symlink, not followed", container_dir.display()));
                    break;
                }
                continue;
            }
            let path = container_dir.join("status");
            match files::read_small(&path, files::MAX_JSON)
                .and_then(|bytes| files::check_parsed_size(&path, &bytes).map(|()| bytes))
            {
                Ok(bytes) => {
                    status_within(&mut info, &path, &bytes, memory, damage);
                    break;
                }
                Err(p) if p.missing => {}
                Err(p) => {
                    damage.push(p.message);
                    info.status_unread = true;
                    break;
                }
            }
        }
    }
    info
}

/// The CRI view of `c` from the record alone (labels and metadata extensions), without its
/// status file; an extension that does not decode goes to `damage`.
pub fn info_from_record(c: &Container, damage: &mut Vec<String>) -> CriInfo {
    let label = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
    let mut info = CriInfo {
        kind: label(KIND_LABEL),
        pod_name: label("io.kubernetes.pod.name"),
        pod_namespace: label("io.kubernetes.pod.namespace"),
        pod_uid: label("io.kubernetes.pod.uid"),
        container_name: label("io.kubernetes.container.name"),
        ..CriInfo::default()
    };
    for (name, any) in &c.extension_values {
        if name != CONTAINER_METADATA && name != SANDBOX_METADATA {
            continue;
        }
        match gojson::parse_as_go(&any.value) {
            Ok(j) => {
                if info.kind.is_empty() {
                    info.kind = if name == SANDBOX_METADATA {
                        "sandbox"
                    } else {
                        "container"
                    }
                    .into();
                }
                // The pod's identity is also in the CRI config; labels may have been edited.
                let meta = |path: &[&str]| {
                    j.at(&[&["Metadata", "Config", "metadata"], path].concat())
                        .and_then(J::as_str)
                        .map(str::to_string)
                };
                if info.container_name.is_empty()
                    && name == CONTAINER_METADATA
                    && let Some(n) = meta(&["name"])
                {
                    info.container_name = n;
                }
                if name == SANDBOX_METADATA {
                    if info.pod_name.is_empty()
                        && let Some(n) = meta(&["name"])
                    {
                        info.pod_name = n;
                    }
                    if info.pod_namespace.is_empty()
                        && let Some(n) = meta(&["namespace"])
                    {
                        info.pod_namespace = n;
                    }
                    if info.pod_uid.is_empty()
                        && let Some(n) = meta(&["uid"])
                    {
                        info.pod_uid = n;
                    }
                }
                info.metadata = Some(j);
            }
            Err(e) => damage.push(format!(
                "namespace {}: container {:?}: extension {name}: not JSON: {e}",
                c.namespace, c.id
            )),
        }
    }
    info
}

/// Sets `info`'s status from the bytes of the status file `path`; bytes that are not a JSON
/// object go to `damage`, naming the file.
pub fn status_from_bytes(info: &mut CriInfo, path: &Path, bytes: &[u8], damage: &mut Vec<String>) {
    status_within(info, path, bytes, &mut files::MemoryBudget::new(u64::MAX), damage);
}

/// [`status_from_bytes`], the parsed file charged to `memory`: one that does not fit what is
/// left is named in `damage` and not kept (nor checked further).
fn status_within(
    info: &mut CriInfo,
    path: &Path,
    bytes: &[u8],
    memory: &mut files::MemoryBudget,
    damage: &mut Vec<String>,
) {
    let shown = || crate::text::escape(path.as_os_str().as_encoded_bytes());
    match gojson::parse(bytes).map(|j| status_field_names(j).folded()) {
        Ok(j @ J::Obj(_)) => {
            if let Err(why) = memory.take(j.footprint()) {
                damage.push(format!("{}: not read, it {why}", shown()));
                info.status_unread = true;
                return;
            }
            for wrong in mistyped(&j) {
                damage.push(format!("{}: {wrong}; containerd does not load such a file", shown()));
            }
            info.status = Some(j);
            info.status_file = Some(path.to_path_buf());
        }
        Ok(_) => {
            damage.push(format!("{}: not a JSON object", shown()));
            info.status_unread = true;
        }
        Err(e) => {
            damage.push(format!("{}: not JSON: {e}", shown()));
            info.status_unread = true;
        }
    }
}

/// The Go type of a field of containerd's CRI `Status` (`internal/cri/store/container/
/// status.go`, which decodes the file into a typed struct).
#[derive(Clone, Copy)]
enum GoType {
    Str,
    Int(GoInt),
    /// A pointer to a struct (`Resources`).
    Object,
}

impl GoType {
    fn fits(self, v: &J) -> bool {
        match self {
            GoType::Str => v.as_str().is_some(),
            GoType::Int(t) => v.as_go_int(t).is_some(),
            GoType::Object => matches!(v, J::Obj(_)),
        }
    }

    fn wanted(self) -> &'static str {
        match self {
            GoType::Str => "a string",
            GoType::Int(GoInt::Int32) => "an int32",
            GoType::Int(GoInt::Uint32) => "a uint32",
            GoType::Int(GoInt::Int64) => "an int64",
            GoType::Object => "an object",
        }
    }
}

/// The fields of the status file, with the Go type containerd decodes each into.
const STATUS_FIELDS: &[(&str, GoType)] = &[
    ("Version", GoType::Str),
    ("Pid", GoType::Int(GoInt::Uint32)),
    ("CreatedAt", GoType::Int(GoInt::Int64)),
    ("StartedAt", GoType::Int(GoInt::Int64)),
    ("FinishedAt", GoType::Int(GoInt::Int64)),
    ("ExitCode", GoType::Int(GoInt::Int32)),
    ("Reason", GoType::Str),
    ("Message", GoType::Str),
    ("Resources", GoType::Object),
];

/// The status object with every key that names a field of containerd's `Status` as Go's
/// decoder matches names (exactly, else without regard to case:
/// [`crate::image::goshape::go_fold`]) under that field's name, in place: a field named twice
/// is then decoded twice, the last value winning, as Go decodes it.
fn status_field_names(j: J) -> J {
    let J::Obj(members) = j else { return j };
    let canonical = |key: String| -> String {
        if STATUS_FIELDS.iter().any(|(name, _)| *name == key) {
            return key;
        }
        let folded = crate::image::goshape::go_fold(&key);
        match STATUS_FIELDS
            .iter()
            .find(|(name, _)| crate::image::goshape::go_fold(name) == folded)
        {
            Some((name, _)) => (*name).to_string(),
            None => key,
        }
    };
    J::Obj(members.into_iter().map(|(k, v)| (canonical(k), v)).collect())
}

/// The only `Version` containerd loads (its `statusVersion`).
const STATUS_VERSION: &str = "v1";

/// Each field of a status file that containerd's decoder refuses: a value Go's decoder will
/// not put in the field's type (a string for an integer, a number written with a fraction or
/// an exponent even when whole, `1.0`, an integer out of the type's range: [`J::as_go_int`]),
/// or a `Version` other than `v1` (containerd: "unsupported version"). The CRI plugin then
/// loads the container with an unknown state; said, so that a value left out or shown in its
/// place is not taken for what the file says. `null` is Go's "leave it".
pub fn mistyped(status: &J) -> Vec<String> {
    let mut out: Vec<String> = STATUS_FIELDS
        .iter()
        .filter_map(|&(key, t)| {
            let v = status.get(key)?;
            (*v != J::Null && !t.fits(v)).then(|| format!("{key} is {}, not {}", v.shown_in_message(), t.wanted()))
        })
        .collect();
    match status.get("Version") {
        Some(J::Str(v)) if v == STATUS_VERSION => {}
        // Mistyped: said above.
        Some(v) if !matches!(v, J::Null) && !GoType::Str.fits(v) => {}
        Some(v) if !matches!(v, J::Null) => {
            out.push(format!("Version is {}, not {STATUS_VERSION:?}", v.shown_in_message()))
        }
        _ => out.push(format!("no Version (containerd loads only {STATUS_VERSION:?})")),
    }
    out
}

/// The value of an integer field of the status file, when it fits the field's Go type
/// (otherwise it is named by [`mistyped`], and left out here).
fn status_int(status: &J, key: &str) -> Option<i64> {
    let v = status.get(key)?;
    match STATUS_FIELDS.iter().find(|(k, _)| *k == key).map(|&(_, t)| t)? {
        GoType::Int(t) => v.as_go_int(t),
        GoType::Str | GoType::Object => None,
    }
}

/// A record ID usable as one path component (the CRI's IDs are 64 hex; anything else is never
/// joined to a path).
fn is_safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A time of the status file (Unix nanoseconds; 0 is "never").
fn status_time(status: &J, key: &str) -> Option<i64> {
    status_int(status, key).filter(|n| *n != 0)
}

impl CriInfo {
    /// The name crictl would list: the container's name, or the pod's for a sandbox.
    pub fn display_name(&self) -> String {
        if self.kind == "sandbox" {
            self.pod_name.clone()
        } else {
            self.container_name.clone()
        }
    }

    /// crictl's state, by containerd's `Status.State()`: a finish time makes it `exited`, else
    /// a start time `running` (at seizure), else a create time `created`; a sandbox, or a
    /// container without a status file, is `unknown`.
    pub fn state(&self) -> &'static str {
        let Some(s) = &self.status else {
            return "unknown";
        };
        if status_time(s, "FinishedAt").is_some() {
            "exited"
        } else if status_time(s, "StartedAt").is_some() {
            "running"
        } else if status_time(s, "CreatedAt").is_some() {
            "created"
        } else {
            "unknown"
        }
    }

    pub fn exit_code(&self) -> Option<i64> {
        status_int(self.status.as_ref()?, "ExitCode")
    }

    /// The exit code as STATUS says it: `0` when the file has none (Go's zero), `?` when
    /// the one it has does not fit an int32 (named by [`mistyped`]).
    pub fn exit_code_word(&self) -> String {
        match (self.exit_code(), self.status.as_ref().and_then(|s| s.get("ExitCode"))) {
            (Some(c), _) => c.to_string(),
            (None, None | Some(J::Null)) => "0".into(),
            (None, Some(_)) => "?".into(),
        }
    }

    /// The init process's PID, when the file has one that fits a `uint32`.
    pub fn pid(&self) -> Option<i64> {
        status_int(self.status.as_ref()?, "Pid")
    }

    /// created, started and finished as RFC 3339 (absent when 0).
    pub fn times(&self) -> [Option<String>; 3] {
        let Some(s) = &self.status else {
            return [None, None, None];
        };
        ["CreatedAt", "StartedAt", "FinishedAt"].map(|k| status_time(s, k).map(nanos_rfc3339))
    }
}

/// Unix nanoseconds as Go's RFC 3339 with nanoseconds, in UTC.
pub fn nanos_rfc3339(n: i64) -> String {
    crate::containerd::gotime::GoTime {
        unix: n.div_euclid(1_000_000_000),
        nanos: n.rem_euclid(1_000_000_000) as u32,
        offset: 0,
    }
    .rfc3339_nano()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_status_file() {
        let mut i = CriInfo::default();
        assert_eq!(i.state(), "unknown");
        i.status = Some(
            gojson::parse(br#"{"Version":"v1","Pid":0,"CreatedAt":1700000000000000000,"StartedAt":0,"FinishedAt":0}"#)
                .unwrap(),
        );
        assert_eq!(i.state(), "created");
        i.status = Some(gojson::parse(br#"{"CreatedAt":1,"StartedAt":1700000000123456789,"FinishedAt":0}"#).unwrap());
        assert_eq!(i.state(), "running");
        assert_eq!(i.times()[1].as_deref(), Some("2023-11-14T22:13:20.123456789Z"));
        i.status =
            Some(gojson::parse(br#"{"StartedAt":1,"FinishedAt":2,"ExitCode":137,"Reason":"OOMKilled"}"#).unwrap());
        assert_eq!(i.state(), "exited");
        assert_eq!(i.exit_code(), Some(137));
        // containerd's order: a finish time without a start is still exited.
        i.status = Some(gojson::parse(br#"{"CreatedAt":1,"StartedAt":0,"FinishedAt":2}"#).unwrap());
        assert_eq!(i.state(), "exited");
        i.status = Some(gojson::parse(br#"{"CreatedAt":0,"StartedAt":0,"FinishedAt":0}"#).unwrap());
        assert_eq!(i.state(), "unknown");
    }

    fn cri_record(id: &str) -> Container {
        Container {
            namespace: "k8s.io".into(),
            id: id.into(),
            image: String::new(),
            runtime: String::new(),
            snapshotter: String::new(),
            snapshot_key: String::new(),
            sandbox_id: None,
            spec_type: None,
            extensions: Vec::new(),
            created_at: None,
            updated_at: None,
            labels: [(KIND_LABEL.to_string(), "container".to_string())].into(),
            spec: None,
            runtime_options: None,
            extension_values: Vec::new(),
        }
    }

    /// Status files are kept parsed, each charged to one memory budget: past what is left, a
    /// file is named as damage and left out; one refused takes nothing, so a smaller one after
    /// it is still kept.
    #[test]
    fn status_files_past_the_memory_budget_are_named_and_not_kept() {
        let good =
            r#"{"Version":"v1","Pid":4242,"CreatedAt":1795161602123456789,"StartedAt":0,"FinishedAt":0,"ExitCode":0}"#;
        let big = good.replace(
            r#""ExitCode":0"#,
            &format!(r#""ExitCode":0,"Message":"{}""#, "m".repeat(4096)),
        );
        let (small_cost, big_cost) = (
            gojson::parse_as_go(good.as_bytes()).unwrap().footprint(),
            gojson::parse_as_go(big.as_bytes()).unwrap().footprint(),
        );
        assert!(big_cost > small_cost * 2, "{big_cost} {small_cost}");
        let root = tempfile::tempdir().unwrap();
        let ids = ["a1", "a2", "a3", "a4"];
        let mut paths = Vec::new();
        for (id, text) in ids.iter().zip([good, &big, good, good]) {
            let dir = root.path().join(CRI_DIRS[0]).join("containers").join(id);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("status"), text).unwrap();
            paths.push(dir.join("status"));
        }
        // Room for two small files and half of another.
        let mut memory = files::MemoryBudget::new(small_cost * 5 / 2);
        let mut damage = Vec::new();
        let infos: Vec<CriInfo> = ids
            .iter()
            .map(|id| info(root.path(), &cri_record(id), &mut memory, &mut damage))
            .collect();
        let kept: Vec<bool> = infos.iter().map(|i| i.status.is_some()).collect();
        assert_eq!(kept, [true, false, true, false]);
        // Refused, not absent: its state is unknown, not "no status file".
        let unread: Vec<bool> = infos.iter().map(|i| i.status_unread).collect();
        assert_eq!(unread, [false, true, false, true]);
        let mut not_json = info_from_record(&cri_record("a5"), &mut damage);
        status_from_bytes(&mut not_json, &paths[0], b"{\"Pid\":", &mut Vec::new());
        assert!(not_json.status_unread && not_json.status.is_none());
        assert_eq!(infos[2].status_file.as_deref(), Some(paths[2].as_path()));
        assert_eq!((infos[1].status_file.as_ref(), infos[1].state()), (None, "unknown"));
        let refused = |p: &Path, cost: u64| {
            format!(
                "{}: not read, it would take {} KiB of memory, more than the 1 KiB left of the 0 MiB for all containers' files",
                p.display(),
                cost.div_ceil(1 << 10)
            )
        };
        assert_eq!(damage, [refused(&paths[1], big_cost), refused(&paths[3], small_cost)]);
    }

    /// What containerd's decoder refuses is named with its value, and not used: a string or
    /// float time is no time, an exit code or PID out of its Go type's range is none.
    #[test]
    fn mistyped_status_fields_are_named_and_not_used() {
        let good = r#"{"Version":"v1","Pid":4242,"CreatedAt":1795161602123456789,"StartedAt":1795161603123456789,"FinishedAt":1795161604123456789,"ExitCode":137,"Reason":"","Message":"","Resources":null}"#;
        let path = Path::new("/r/status");
        let read = |text: &str| {
            let mut info = CriInfo::default();
            let mut damage = Vec::new();
            status_from_bytes(&mut info, path, text.as_bytes(), &mut damage);
            (info, damage)
        };
        let (info, damage) = read(good);
        assert_eq!(damage, Vec::<String>::new());
        assert_eq!((info.exit_code(), info.pid()), (Some(137), Some(4242)));
        for (from, to, said) in [
            (
                r#""CreatedAt":1795161602123456789"#,
                r#""CreatedAt":"x""#,
                r#"CreatedAt is "x", not an int64"#,
            ),
            (
                r#""CreatedAt":1795161602123456789"#,
                r#""CreatedAt":1.5"#,
                "CreatedAt is 1.5, not an int64",
            ),
            (
                r#""CreatedAt":1795161602123456789"#,
                r#""CreatedAt":18446744073709551615"#,
                "CreatedAt is 18446744073709551615, not an int64",
            ),
            (
                r#""ExitCode":137"#,
                r#""ExitCode":9223372036854775807"#,
                "ExitCode is 9223372036854775807, not an int32",
            ),
            (
                r#""ExitCode":137"#,
                r#""ExitCode":2147483648"#,
                "ExitCode is 2147483648, not an int32",
            ),
            (r#""Pid":4242"#, r#""Pid":-5"#, "Pid is -5, not a uint32"),
            // Whole, but written as floats: Go's ParseInt/ParseUint refuse the text (checked
            // with Go 1.19.8's json.Unmarshal, see gojson's integer_types_take_what_go_takes).
            (
                r#""Pid":4242"#,
                r#""Pid":4242.0"#,
                "Pid is 4242 (written with a fraction or an exponent), not a uint32",
            ),
            (r#""Pid":4242"#, r#""Pid":-0"#, "Pid is -0, not a uint32"),
            (
                r#""ExitCode":137"#,
                r#""ExitCode":1.37e2"#,
                "ExitCode is 137 (written with a fraction or an exponent), not an int32",
            ),
            (
                r#""CreatedAt":1795161602123456789"#,
                r#""CreatedAt":1.795161602e18"#,
                "CreatedAt is 1795161602000000000 (written with a fraction or an exponent), not an int64",
            ),
            (
                r#""Pid":4242"#,
                r#""Pid":4294967296"#,
                "Pid is 4294967296, not a uint32",
            ),
            (r#""Version":"v1""#, r#""Version":"v2""#, r#"Version is "v2", not "v1""#),
            (r#""Version":"v1""#, r#""Version":1"#, "Version is 1, not a string"),
            (r#""Version":"v1","#, "", r#"no Version (containerd loads only "v1")"#),
            (r#""Reason":"""#, r#""Reason":7"#, "Reason is 7, not a string"),
            (
                r#""Resources":null"#,
                r#""Resources":[]"#,
                "Resources is [], not an object",
            ),
        ] {
            assert!(good.contains(from), "{from}");
            let (info, damage) = read(&good.replace(from, to));
            assert_eq!(
                damage,
                vec![format!("/r/status: {said}; containerd does not load such a file")],
                "{to}"
            );
            assert!(info.status.is_some(), "{to}: still read");
        }
        let (info, _) = read(&good.replace(r#""ExitCode":137"#, r#""ExitCode":9223372036854775807"#));
        assert_eq!(info.exit_code(), None);
        assert_eq!(info.state(), "exited");
        let (info, _) = read(&good.replace(r#""Pid":4242"#, r#""Pid":-5"#));
        assert_eq!(info.pid(), None);
        let (info, _) = read(&good.replace(r#""CreatedAt":1795161602123456789"#, r#""CreatedAt":"x""#));
        assert_eq!(info.times()[0], None);
        assert_eq!(info.times()[1].as_deref(), Some("2026-11-20T08:00:03.123456789Z"));
        let (info, _) = read(&good.replace(r#""ExitCode":137"#, r#""ExitCode":137.0"#));
        assert_eq!((info.exit_code(), info.exit_code_word().as_str()), (None, "?"));
        let (info, _) = read(&good.replace(r#""Pid":4242"#, r#""Pid":4242.0"#));
        assert_eq!(info.pid(), None);
        // `-0` is an int64's 0 to Go (a time of 0: never), not damage.
        let (info, damage) = read(&good.replace(r#""CreatedAt":1795161602123456789"#, r#""CreatedAt":-0"#));
        assert_eq!(damage, Vec::<String>::new());
        assert_eq!(info.times()[0], None);
        // null is Go's "leave it": not damage.
        let (_, damage) = read(&good.replace(r#""Pid":4242"#, r#""Pid":null"#));
        assert_eq!(damage, Vec::<String>::new());
    }
}
