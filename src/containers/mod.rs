//! Containers from every place a node keeps them, merged into one view (`coldctr ps`,
//! `coldctr container inspect`, and the container part of `coldctr timeline`).
//!
//! ```text
//! <docker-root>/containers/<id>/config.v2.json + hostconfig.json   Docker (docker.rs;
//!     graph_driver.rs for a node without the containerd image store)
//! meta.db v1/<ns>/containers/<id>                                   containerd records
//!     ns k8s.io, label io.cri-containerd.kind                       CRI sandboxes and containers
//!     + <root>/io.containerd.grpc.v1.cri/containers/<id>/status     (cri.rs)
//! <root>/io.containerd.runtime.v2.task/<ns>/<id>/                   a task's bundle: it existed
//!                                                                   when the node stopped
//! ```
//!
//! One entry per container: a Docker container whose task was running also has a containerd
//! record (namespace `moby`, same ID; the namespace dockerd's `--containerd-namespace` named
//! when it was set); it is attached to the Docker entry, not listed twice.

pub mod ancestry;
pub mod cri;
pub mod docker;
pub mod docker_inspect;
pub mod files;
mod gomethods;
pub mod gotypes;
pub mod graph_driver;
pub mod graph_images;
pub mod json_stream;
pub mod local_log;
pub mod log_window;
pub mod logs;
pub mod moby;
pub mod ports;
pub mod record_inspect;
pub mod size;
pub mod timeline;

use crate::bolt::MetaChoice;
use crate::containerd::gotime::parse_rfc3339;
use crate::containerd::records::{self, Container};
use crate::containerd::root::Root;
use crate::image::platform::Platform;
use crate::inspect::gojson::J;
use crate::inspect::{Inspector, Options};
use docker::{DockerContainer, DockerRoot};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Docker,
    Containerd,
    Cri,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Docker => "docker",
            Source::Containerd => "containerd",
            Source::Cri => "cri",
        }
    }
}

/// One container, whatever keeps it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub source: Source,
    /// The containerd namespace of its record (`moby` for Docker's).
    pub namespace: Option<String>,
    pub id: String,
    pub name: String,
    /// The image as `docker ps` shows it: the name as given while it still names the
    /// container's image, else the image ID.
    pub image: String,
    /// The image as given at create (`Config.Image`, or the record's `image`).
    pub image_ref: String,
    pub image_id: String,
    pub command: String,
    /// RFC 3339 with nanoseconds, as recorded.
    pub created: String,
    /// `created`, `running`, `exited`, `paused`, `restarting`, `dead` or `unknown`.
    pub state: String,
    /// STATUS, with recorded times instead of ages.
    pub status: String,
    pub exit_code: Option<i64>,
    pub oom_killed: Option<bool>,
    pub pid: Option<i64>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub restart_policy: Option<String>,
    pub restart_count: Option<i64>,
    pub labels: BTreeMap<String, String>,
    /// Mount names (volume name, else source), in destination order.
    pub mounts: Vec<String>,
    pub local_volumes: usize,
    pub networks: Vec<String>,
    /// docker ps's PORTS (`0.0.0.0:8080->80/tcp, 443/tcp`): Docker containers only.
    pub ports: String,
    pub platform: Option<J>,
    /// A task bundle dir is on disk: containerd had a task for it when the node stopped.
    pub task_bundle: bool,
    pub docker: Option<DockerContainer>,
    pub record: Option<Container>,
    pub cri: Option<cri::CriInfo>,
}

/// Everything gathered, with what went wrong on the way.
pub struct Inventory {
    pub entries: Vec<Entry>,
    pub docker_root: DockerRoot,
    /// Damage met (each message names its file or record).
    pub damaged: Vec<String>,
    /// Files or dirs that could not be read at all.
    pub unreadable: Vec<String>,
    /// The Docker store (its data root, or `containers/` in it) could not be read at all:
    /// which containers it holds is not known, so a lookup that finds nothing says so.
    pub docker_unlisted: Option<PathBuf>,
    /// Said once: why a source was not read (no containerd root, no Docker root).
    pub notes: Vec<String>,
    /// The containerd root (meta.db) could not be read at all (permissions, an I/O error):
    /// exit 4, where a root that is damaged or not there is 3.
    pub containerd_unreadable: bool,
    /// The containerd root's meta.db was read and is no bbolt tree (both meta pages bad,
    /// a root page that does not read): damage, exit 3.
    pub containerd_damaged: bool,
    /// The node's own path of its Docker data root (`/var/lib/docker`), as the containers'
    /// saved paths name it.
    pub docker_node_root: String,
    /// Image and content records and lease of the containerd root, for the timeline.
    pub containerd: Option<timeline::ContainerdTimes>,
    /// The containerd root read, kept for what is read of it later (container sizes).
    pub root: Option<Root>,
    /// The containerd namespace dockerd used (`moby` unless it was started with
    /// `--containerd-namespace` and a record shows which): its images and snapshots.
    pub dockerd_namespace: String,
}

/// Where to read from.
pub struct Sources<'a> {
    pub containerd_root: &'a Path,
    pub docker_root: Option<&'a Path>,
    pub read_mode: crate::bolt::ReadMode,
    pub meta_choice: MetaChoice,
    pub host: Platform,
    /// Also gather the other records the timeline needs.
    pub with_timeline: bool,
    /// Read containerd's records from the salvage view of meta.db (`--salvage`).
    pub salvage: Option<crate::recover::view::Options>,
}

/// RFC 3339 to the second, in UTC (`2026-11-29T18:52:00Z`); as given when it does not parse.
pub use crate::containerd::gotime::utc_seconds as short_time;

/// Go's zero time, or no time at all (dockerd reads a missing `Created` as the zero time).
pub(crate) fn is_zero_time(t: &str) -> bool {
    t.is_empty() || t.starts_with("0001-01-01T00:00:00")
}

/// Reads every source. A containerd root that cannot be opened leaves the Docker containers
/// (IMAGE then the image ID where the name given at create may no longer name it: the image
/// records that would tell cannot be looked up), and the other way round.
pub fn gather(src: &Sources<'_>) -> Inventory {
    let docker_root = docker::locate(src.containerd_root, src.docker_root);
    let mut inv = Inventory {
        entries: Vec::new(),
        docker_root: docker_root.clone(),
        damaged: Vec::new(),
        unreadable: Vec::new(),
        docker_unlisted: None,
        notes: Vec::new(),
        containerd_unreadable: false,
        containerd_damaged: false,
        docker_node_root: "/var/lib/docker".into(),
        containerd: None,
        root: None,
        dockerd_namespace: "moby".into(),
    };
    // One budget for every container file kept parsed, Docker's and the CRI's alike: the
    // memory they take together is what is bounded.
    let mut memory = files::MemoryBudget::new(files::CONTAINERS_MEMORY);
    let docker_containers = read_docker(&docker_root, &mut memory, &mut inv);
    let opened = match src.salvage {
        None => Root::open(src.containerd_root, src.read_mode),
        Some(opts) => crate::recover::view::open_root(src.containerd_root, src.read_mode, opts).map(|(root, _)| {
            if let Some(report) = &root.salvage {
                let lines = report.lines();
                if report.damaged() {
                    inv.damaged.extend(lines);
                } else {
                    inv.notes.extend(lines);
                }
            }
            root
        }),
    };
    let root = match opened {
        Ok(r) => Some(r),
        Err(e) => {
            // As every other command: a root that could not be read at all is exit 4.
            inv.containerd_unreadable = matches!(
                &e,
                crate::containerd::root::RootError::Denied { .. }
                    | crate::containerd::root::RootError::Bolt(crate::bolt::BoltError::Io { .. })
            );
            inv.containerd_damaged = matches!(&e, crate::containerd::root::RootError::Bolt(b) if b.is_damage());
            let hint = match &e {
                crate::containerd::root::RootError::Bolt(b) => b.hint().map(|h| format!("; {h}")),
                _ => None,
            };
            inv.notes.push(format!(
                "containerd root not read: {}{}",
                crate::text::escape(e.to_string().as_bytes()),
                hint.unwrap_or_default()
            ));
            None
        }
    };
    let mut resolved = images_from_repositories(&docker_root, &docker_containers, &mut inv);
    let mut records_by_ns: Vec<Container> = Vec::new();
    let mut dockerd_ns = String::from("moby");
    if let Some(root) = &root {
        records_by_ns = read_records(root, src, &docker_root, &mut inv);
        let ids: foldhash::HashSet<&str> = docker_containers.iter().map(|c| c.id.as_str()).collect();
        let records = records_by_ns.iter().map(|r| (r.namespace.as_str(), r.id.as_str()));
        dockerd_ns = dockerd_namespace(records, &ids).to_string();
        images_from_containerd(root, src, &dockerd_ns, &docker_containers, &mut resolved);
    }
    unverified_images(&docker_containers, &mut resolved, &mut inv);
    let root_dir: PathBuf = root.as_ref().map_or_else(
        || crate::containerd::root::root_of(src.containerd_root),
        |r| r.dir.clone(),
    );
    let bundle = |ns: &str, id: &str| -> bool {
        safe_component(ns)
            && safe_component(id)
            && std::fs::symlink_metadata(root_dir.join("io.containerd.runtime.v2.task").join(ns).join(id))
                .is_ok_and(|m| m.is_dir())
    };
    // dockerd's records (namespace moby) by ID, to attach each to its Docker container.
    let mut moby: foldhash::HashMap<String, Container> = foldhash::HashMap::default();
    let mut others = Vec::new();
    for r in records_by_ns {
        if r.namespace == "moby" && !moby.contains_key(&r.id) {
            moby.insert(r.id.clone(), r);
        } else {
            others.push(r);
        }
    }
    // A dockerd started with `--containerd-namespace` keeps its tasks' records in that
    // namespace instead: a record elsewhere with a Docker container's own ID (64 hex digits,
    // random: no other container's), the only one with it, is that container's.
    let mut elsewhere: foldhash::HashMap<String, Option<usize>> = foldhash::HashMap::default();
    for (i, r) in others.iter().enumerate() {
        if crate::image::reference::is_hex64(&r.id) && r.namespace != UNPLACED_NAMESPACE {
            elsewhere
                .entry(r.id.clone())
                .and_modify(|one| *one = None)
                .or_insert(Some(i));
        }
    }
    let mut others: Vec<Option<Container>> = others.into_iter().map(Some).collect();
    for (i, c) in docker_containers.into_iter().enumerate() {
        let record = moby.remove(&c.id).or_else(|| {
            let at = elsewhere.get(&c.id).copied().flatten()?;
            others.get_mut(at)?.take()
        });
        let image = resolved
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or_else(|| c.image_ref().to_string());
        let mut e = docker_entry(c, image);
        e.namespace = Some(record.as_ref().map_or(&dockerd_ns, |r| &r.namespace).clone());
        e.task_bundle = bundle(e.namespace.as_deref().unwrap_or("moby"), &e.id);
        e.record = record;
        inv.entries.push(e);
    }
    let mut rest: Vec<Container> = moby.into_values().collect();
    rest.extend(others.into_iter().flatten());
    for r in rest {
        let mut damage = Vec::new();
        let e = record_entry(&root_dir, r, &mut memory, &mut damage, &bundle);
        inv.damaged.extend(damage);
        inv.entries.push(e);
    }
    inv.root = root;
    inv.dockerd_namespace = dockerd_ns;
    // `docker ps` order: newest first.
    inv.entries.sort_by(|a, b| {
        let t = |e: &Entry| parse_rfc3339(&e.created).map(|g| g.unix_nanos());
        t(b).cmp(&t(a)).then_with(|| a.id.cmp(&b.id))
    });
    inv
}

/// The Docker store's containers, with the node's data root and, for overlay2, the layer dirs.
fn read_docker(
    docker_root: &DockerRoot,
    memory: &mut files::MemoryBudget,
    inv: &mut Inventory,
) -> Vec<DockerContainer> {
    if let Some(refused) = docker_root.refusal() {
        inv.damaged.push(refused);
    }
    if let (Some(denied), DockerRoot::Denied(p, _)) = (docker_root.unreadable(), docker_root) {
        inv.unreadable.push(denied);
        inv.docker_unlisted = Some(p.clone());
    }
    let Some(p) = docker_root.path() else {
        return Vec::new();
    };
    // Only one that is not there is "no containers directory": one that cannot be looked at
    // is said by read_store, as unreadable.
    if matches!(docker_root, DockerRoot::Given(_))
        && std::fs::symlink_metadata(p.join("containers")).is_err_and(|e| docker::not_there(&e))
    {
        inv.unreadable.push(docker::no_containers_dir(p));
    }
    let mut problems = docker::StoreProblems::default();
    let mut containers = docker::read_store(p, memory, &mut problems);
    inv.docker_node_root = docker_inspect::node_data_root(&containers.iter().collect::<Vec<_>>());
    for c in &mut containers {
        if c.config.get("Driver").and_then(J::as_str) == Some("overlay2") {
            let dead = c.state().dead;
            c.graph_data = graph_driver::overlay2_data(p, &inv.docker_node_root, &c.id, dead, &mut problems);
        }
    }
    inv.damaged.extend(problems.damaged);
    inv.unreadable.extend(problems.unreadable);
    inv.docker_unlisted = inv.docker_unlisted.take().or(problems.unlisted);
    containers
}

/// IMAGE of each container on a graph driver node, from Docker's own reference store (`None`
/// where the driver has none: the containerd image store names it instead).
fn images_from_repositories(
    docker_root: &DockerRoot,
    containers: &[DockerContainer],
    inv: &mut Inventory,
) -> Vec<Option<String>> {
    let mut resolved = vec![None; containers.len()];
    let Some(dr) = docker_root.path() else {
        return resolved;
    };
    let mut problems = docker::StoreProblems::default();
    let mut stores: BTreeMap<String, Option<graph_driver::Repositories>> = BTreeMap::new();
    for (c, slot) in containers.iter().zip(resolved.iter_mut()) {
        let driver = c
            .config
            .get("Driver")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_string();
        let store = stores
            .entry(driver.clone())
            .or_insert_with(|| graph_driver::Repositories::read(dr, &driver, &mut problems));
        if let Some(store) = store.as_ref() {
            *slot = Some(graph_driver::shown_image(c.image_ref(), c.image_id(), store));
        }
    }
    inv.damaged.extend(problems.damaged);
    inv.unreadable.extend(problems.unreadable);
    resolved
}

/// Every namespace's container records (and, for the timeline, the other records' times).
fn read_records(root: &Root, src: &Sources<'_>, docker_root: &DockerRoot, inv: &mut Inventory) -> Vec<Container> {
    let tx = match root.view(src.meta_choice) {
        Ok(tx) => tx,
        Err(e) => {
            inv.damaged.push(e.to_string());
            return Vec::new();
        }
    };
    for e in crate::bolt::check::view_damage(&tx) {
        inv.damaged.push(e.to_string());
    }
    // As every other command says it (and exits 3 for it): the records are a transaction
    // behind the file's last commit.
    if let Some(note) = root
        .meta
        .fell_back_note()
        .filter(|_| src.meta_choice == MetaChoice::Current)
    {
        inv.damaged.push(note);
    }
    let mut out = Vec::new();
    let mut damage = records::Damage::new();
    for (ns, b) in records::namespace_buckets(&tx, &mut damage) {
        if ns == "moby" && matches!(docker_root, DockerRoot::Absent) {
            inv.notes.push(
                "namespace moby (dockerd's) is in meta.db but no Docker data root was found beside the containerd root: Docker's containers are not listed; name it with --docker-root"
                    .into(),
            );
        }
        out.extend(records::containers_in(&ns, &b, &mut damage));
    }
    if src.with_timeline {
        inv.containerd = Some(timeline::ContainerdTimes::read(root, &tx, &mut damage));
    }
    inv.damaged.extend(damage.into_iter().map(|n| n.message));
    out
}

/// The containerd namespace dockerd used: `moby` (its default) when any record is there, else
/// the namespace holding the most records with a Docker container's ID (`--containerd-
/// namespace`; found only while a container ran, as only a running one has a record), else
/// `moby`. `records`: each containerd record's namespace and ID. The salvage view's namespace
/// for records it could not place is never dockerd's.
pub fn dockerd_namespace<'r>(
    records: impl Iterator<Item = (&'r str, &'r str)> + Clone,
    docker_ids: &foldhash::HashSet<&str>,
) -> &'r str {
    if docker_ids.is_empty() || records.clone().any(|(ns, _)| ns == "moby") {
        return "moby";
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (ns, _) in records.filter(|(ns, id)| docker_ids.contains(id) && *ns != UNPLACED_NAMESPACE) {
        *counts.entry(ns).or_default() += 1;
    }
    // The most records; on a tie, the first name (a stable answer).
    let mut best: Option<(&str, usize)> = None;
    for (ns, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((ns, n));
        }
    }
    best.map_or("moby", |(ns, _)| ns)
}

/// The namespace the salvage view gives records it could not place.
const UNPLACED_NAMESPACE: &str = crate::recover::view::UNKNOWN_NAMESPACE;

/// What `docker ps` shows as IMAGE on the containerd image store: the name as typed while it
/// still resolves (in dockerd's namespace, `ns`) to the container's image, else the ID (a
/// re-tagged or removed image). Fills the slots the reference store left empty.
fn images_from_containerd(
    root: &Root,
    src: &Sources<'_>,
    ns: &str,
    containers: &[DockerContainer],
    resolved: &mut [Option<String>],
) {
    if containers.is_empty() {
        return;
    }
    let Ok(tx) = root.view(src.meta_choice) else {
        return;
    };
    let inspector = Inspector::new(root, tx, ns, Options::for_host(src.host.clone()));
    for (c, slot) in containers.iter().zip(resolved.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        let (given, id) = (c.image_ref(), c.image_id());
        let shown = if given == id || given.is_empty() {
            id.to_string()
        } else {
            match inspector.resolve(given) {
                Ok(img) if img.target.digest == id => given.to_string(),
                _ => id.to_string(),
            }
        };
        *slot = Some(shown);
    }
}

/// IMAGE of the containers neither Docker's reference store nor the image records (not
/// read) resolved: the name given at create is shown by dockerd only while it still names
/// the container's image, which is then not known, so the image ID (always the container's
/// image) is shown, and a note says so once. `ImageRef` keeps the name.
fn unverified_images(containers: &[DockerContainer], resolved: &mut [Option<String>], inv: &mut Inventory) {
    let mut unknown = 0;
    for (c, slot) in containers.iter().zip(resolved.iter_mut()) {
        let (given, id) = (c.image_ref(), c.image_id());
        if slot.is_none() && !id.is_empty() && !given.is_empty() && given != id {
            *slot = Some(id.to_string());
            unknown += 1;
        }
    }
    if unknown > 0 {
        inv.notes.push(format!(
            "IMAGE of {unknown} Docker container(s) is the image ID: without the image records, whether the name given at create still names the image is not known (ImageRef keeps that name)"
        ));
    }
}

/// A name usable as one path component.
fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0')
}

/// The entry (the `ps` row) of a Docker container, its IMAGE already resolved to `image`.
pub fn docker_entry(c: DockerContainer, image: String) -> Entry {
    let state = c.state();
    let mounts: Vec<(String, String)> = c
        .mount_points()
        .iter()
        .map(|(_, m)| {
            let get = |k: &str| m.get(k).and_then(J::as_str).unwrap_or_default().to_string();
            let name = get("Name");
            (if name.is_empty() { get("Source") } else { name }, get("Driver"))
        })
        .collect();
    Entry {
        source: Source::Docker,
        namespace: Some("moby".into()),
        id: c.id.clone(),
        name: c.name().to_string(),
        image,
        image_ref: c.image_ref().to_string(),
        image_id: c.image_id().to_string(),
        command: docker::command(c.path(), &c.args()),
        created: c.created().to_string(),
        state: state.status_word().into(),
        status: state.status_line(),
        exit_code: Some(state.exit_code),
        oom_killed: Some(state.oom_killed),
        pid: Some(state.pid),
        started_at: Some(state.started_at.clone()).filter(|t| !is_zero_time(t)),
        finished_at: Some(state.finished_at.clone()).filter(|t| !is_zero_time(t)),
        restart_policy: Some(c.restart_policy()),
        restart_count: Some(c.restart_count()),
        labels: c.labels(),
        local_volumes: mounts.iter().filter(|(_, d)| d == "local").count(),
        mounts: mounts.into_iter().map(|(n, _)| n).collect(),
        networks: c.networks().into_iter().map(str::to_string).collect(),
        ports: ports::displayable(c.config.at(&["NetworkSettings", "Ports"])),
        platform: c.config.get("ImagePlatform").cloned(),
        task_bundle: false,
        docker: Some(c),
        record: None,
        cri: None,
    }
}

/// The process of a record's OCI spec: args as a command line.
fn spec_command(spec: Option<&[u8]>) -> String {
    let Some(j) = spec.and_then(|s| crate::inspect::gojson::parse_as_go(s).ok()) else {
        return String::new();
    };
    command_of(&j)
}

/// `process.args` of a decoded spec as docker's COMMAND.
fn command_of(j: &J) -> String {
    let args: Vec<&str> = j
        .at(&["process", "args"])
        .map(|a| a.items().iter().filter_map(J::as_str).collect())
        .unwrap_or_default();
    match args.split_first() {
        Some((path, rest)) => docker::command(path, rest),
        None => String::new(),
    }
}

fn record_entry(
    root: &Path,
    r: Container,
    memory: &mut files::MemoryBudget,
    damage: &mut Vec<String>,
    bundle: &dyn Fn(&str, &str) -> bool,
) -> Entry {
    let task_bundle = bundle(&r.namespace, &r.id);
    let cri = cri::is_cri(&r).then(|| cri::info(root, &r, memory, damage));
    // A spec that does not decode (ctr cannot print it; its COMMAND is empty) is said with
    // its record (sweep 23: shown raw, exit 0, nothing said).
    let command = match r.spec.as_deref().map(crate::inspect::gojson::parse_as_go) {
        Some(Ok(j)) => command_of(&j),
        Some(Err(_)) => {
            damage.extend(record_inspect::spec_problem(&r));
            String::new()
        }
        None => String::new(),
    };
    record_entry_with(r, cri, task_bundle, command)
}

/// The entry (the `ps` row) of a containerd record, with its CRI view when it is the CRI's
/// and whether a task bundle of it is on disk.
pub fn record_entry_of(r: Container, cri: Option<cri::CriInfo>, task_bundle: bool) -> Entry {
    let command = spec_command(r.spec.as_deref());
    record_entry_with(r, cri, task_bundle, command)
}

/// [`record_entry_of`] with the COMMAND already taken from the spec.
fn record_entry_with(r: Container, cri: Option<cri::CriInfo>, task_bundle: bool, command: String) -> Entry {
    let (source, name, state, status, exit_code, started, finished) = match &cri {
        Some(info) => {
            let [_, started, finished] = info.times();
            // A sandbox has no status file: its task bundle says it was ready.
            let state = match info.state() {
                "unknown" if info.kind == "sandbox" && task_bundle => "running",
                "unknown" if info.kind == "sandbox" => "notready",
                s => s,
            };
            let status = match state {
                "running" if info.kind == "sandbox" => "Sandbox ready at seizure (task bundle on disk)".into(),
                "running" => format!(
                    "Running since {} (at seizure)",
                    started.as_deref().map(short_time).unwrap_or_default()
                ),
                "exited" => format!(
                    "Exited ({}) at {}",
                    info.exit_code_word(),
                    finished.as_deref().map(short_time).unwrap_or_default()
                ),
                "notready" => "Sandbox not ready (no task bundle)".into(),
                "created" => "Created".into(),
                // A status file with no time containerd reads (all 0, or each mistyped: named).
                _ if info.status.is_some() => "Unknown (no time in the status file)".into(),
                _ if info.status_unread => "Unknown (status file not read)".into(),
                _ => "No status file".into(),
            };
            let exit = if state == "exited" { info.exit_code() } else { None };
            (Source::Cri, info.display_name(), state, status, exit, started, finished)
        }
        None => {
            let name = r.labels.get("nerdctl/name").cloned().unwrap_or_else(|| r.id.clone());
            let (state, status) = if task_bundle {
                ("running", "Task at seizure (bundle on disk)".to_string())
            } else {
                ("unknown", "No task on disk".to_string())
            };
            (Source::Containerd, name, state, status, None, None, None)
        }
    };
    Entry {
        source,
        namespace: Some(r.namespace.clone()),
        name: if name.is_empty() { r.id.clone() } else { name },
        image: r.image.clone(),
        image_ref: r.image.clone(),
        // The CRI keeps the image ID crictl shows (the config digest) in its metadata.
        image_id: cri
            .as_ref()
            .and_then(|c| c.metadata.as_ref())
            .and_then(|m| m.at(&["Metadata", "ImageRef"]))
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_string(),
        command,
        // crictl's CREATED is the status file's; the record's is the fallback.
        created: cri
            .as_ref()
            .and_then(|c| c.times()[0].clone())
            .or_else(|| r.created_at.clone())
            .unwrap_or_default(),
        state: state.into(),
        status,
        exit_code,
        oom_killed: None,
        pid: cri.as_ref().and_then(cri::CriInfo::pid),
        started_at: started,
        finished_at: finished,
        restart_policy: None,
        restart_count: None,
        labels: r.labels.clone(),
        mounts: Vec::new(),
        local_volumes: 0,
        networks: Vec::new(),
        ports: String::new(),
        platform: None,
        task_bundle,
        id: r.id.clone(),
        docker: None,
        record: Some(r),
        cri,
    }
}

/// Why a container argument names no single container.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    NotFound,
    Ambiguous,
    /// A name several Docker containers carry (damage: [`docker::name_shared`]), with their
    /// IDs.
    NameShared(Vec<String>),
}

/// What is said of each name several Docker containers carry ([`docker::name_shared`]), in
/// listing order: `ps` and `timeline` list every one of them, but dockerd would load only one,
/// so the listing says so, as a lookup by that name does. A `config.v2.json` in another
/// container's directory (`misplaced`, said when read) holds no name, as in [`find`].
pub fn names_shared(entries: &[Entry]) -> Vec<String> {
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in entries {
        // No name (a config.v2.json without one: dockerd makes one up at load) is no name
        // two containers share.
        if e.source == Source::Docker && !e.name.is_empty() && !e.docker.as_ref().is_some_and(|d| d.misplaced) {
            holders.entry(e.name.as_str()).or_default().push(e.id.as_str());
        }
    }
    holders
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(name, ids)| docker::name_shared(name, &ids))
        .collect()
}

/// The entry `arg` names, as dockerd looks a container up: a full ID, then a name (with or
/// without the leading `/`), then a unique ID prefix. A CRI container is also found by its
/// `pod/container` name. A name two Docker containers carry names neither: dockerd would
/// load only one, and which one is not on the disk.
pub fn find<'a>(entries: &'a [Entry], arg: &str) -> Result<&'a Entry, Lookup> {
    // The record an escaped form names (`ctr\x1b[31m`), as `-n` is taken.
    let selected = crate::containerd::records::selected_name(arg);
    let arg = selected.as_ref();
    if arg.is_empty() {
        return Err(Lookup::NotFound);
    }
    if let Some(e) = entries.iter().find(|e| e.id == arg) {
        return Ok(e);
    }
    let name = arg.strip_prefix('/').unwrap_or(arg);
    // A config.v2.json whose ID is not its directory's (damage, said when read) names no
    // container: dockerd does not load it, and its name is another container's.
    let named = |e: &&Entry| e.name == name && !e.docker.as_ref().is_some_and(|d| d.misplaced);
    let holders: Vec<&Entry> = entries.iter().filter(named).collect();
    let docker: Vec<&Entry> = holders.iter().copied().filter(|e| e.source == Source::Docker).collect();
    if docker.len() > 1 {
        return Err(Lookup::NameShared(docker.iter().map(|e| e.id.clone()).collect()));
    }
    if let Some(e) = holders.first() {
        return Ok(e);
    }
    if let Some(e) = entries.iter().find(|e| {
        e.cri
            .as_ref()
            .is_some_and(|c| !c.container_name.is_empty() && format!("{}/{}", c.pod_name, c.container_name) == name)
    }) {
        return Ok(e);
    }
    let hits: Vec<&Entry> = entries.iter().filter(|e| e.id.starts_with(arg)).collect();
    match hits.as_slice() {
        [] => Err(Lookup::NotFound),
        [one] => Ok(one),
        _ => Err(Lookup::Ambiguous),
    }
}
