//! What a command line names: a snapshot key, a container (containerd record, or Docker's
//! `containers/<id>` on the containerd image store, whose rw snapshot key is the container ID
//! in namespace `moby`), by full ID, unique ID prefix or Docker name.
//!
//! ```text
//! <docker root>/containers/<64 hex id>/config.v2.json   {"ID": ..., "Name": "/<name>", "Driver": "overlayfs", ...}
//! meta.db v1/<ns>/containers/<id>/{snapshotter, snapshotKey}
//! ```

use super::snapshots::{Index, Unbacked};
use crate::bolt::Tx;
use crate::containerd::records::{self, Damage};
use crate::containers::docker::StoreProblems;
use crate::inspect::gojson::{self, J};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The largest config.v2.json read (a real one is a few KiB).
const MAX_CONFIG: u64 = 16 << 20;
/// The config.v2.json bytes read in all: 100,000 directories of 16 MiB configs would keep
/// a name lookup reading for hours. Past it, containers are listed without their names.
const CONFIGS_BUDGET: u64 = 256 << 20;

/// What a name lookup needs of config.v2.json.
pub struct NameAndDriver {
    pub name: Option<String>,
    pub driver: Option<String>,
}

impl NameAndDriver {
    /// Read as dockerd reads the file (keys without regard to case, a repeated key: the last
    /// one; see [`crate::containers::docker::decode_config`]), so that every command names
    /// a container alike.
    pub fn read(text: &[u8]) -> Result<NameAndDriver, String> {
        let j = gojson::parse_for(text, &crate::containers::moby::CONTAINER).map_err(|e| e.to_string())?;
        if !matches!(j, J::Obj(_)) {
            return Err("not a JSON object".into());
        }
        let decoded = crate::containers::docker::decode_config(Path::new("config.v2.json"), "", &j);
        NameAndDriver::of(&decoded.config)
    }

    /// The fields of a decoded config.v2.json; `Err` when one is not a string.
    pub fn of(j: &J) -> Result<NameAndDriver, String> {
        let field = |key: &str| match j.get(key) {
            None | Some(J::Null) => Ok(None),
            Some(J::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key} is not a string")),
        };
        Ok(NameAndDriver {
            name: field("Name")?,
            driver: field("Driver")?,
        })
    }
}

/// A container known to the node.
#[derive(Clone, Debug)]
pub struct ContainerRef {
    pub id: String,
    /// Docker's name without the leading `/` (Docker containers only).
    pub name: Option<String>,
    pub namespace: String,
    pub snapshotter: String,
    pub snapshot_key: String,
    /// Where it was found: `docker` or `containerd`.
    pub source: &'static str,
}

/// The Docker data root beside a containerd root (`<disk>/var/lib/containerd` →
/// `<disk>/var/lib/docker`), when `given` is not set.
/// Found as `ps` finds it ([`crate::containers::docker::locate`], which also knows the
/// `/var/lib/docker/containerd/daemon` layout); without one, where it would be.
pub fn docker_root(containerd_root: &Path, given: Option<&Path>) -> PathBuf {
    use crate::containers::docker::{DockerRoot, locate};
    match locate(containerd_root, given) {
        // A link the user named is theirs to follow; one found beside the root is not
        // (see `docker_containers`).
        DockerRoot::Given(p) => std::fs::canonicalize(&p).unwrap_or(p),
        // A link found beside the root is named, not followed, by `docker_containers`; one
        // that cannot be looked into is named there as unreadable.
        DockerRoot::Found(p) | DockerRoot::Link(p) | DockerRoot::Denied(p, _) => p,
        DockerRoot::Absent => containerd_root
            .parent()
            .map_or_else(|| PathBuf::from("/var/lib/docker"), |p| p.join("docker")),
    }
}

/// Docker's containers: IDs from the directory names, names from config.v2.json. Every file
/// skipped or damaged is said in `problems` as `ps` says it (a directory whose name is not an
/// ID, a container directory or config.v2.json that is a symlink, a FIFO, missing, not JSON,
/// with an `ID` not its directory's or fields dockerd would not load): a name that does not
/// resolve may be the one in a file that was not read, and must not read as "no such
/// container". A container whose config was not read is still found by its ID. `given` is
/// the data root as the user named it (`--docker-root`), `None` for one found beside the
/// containerd root.
pub fn docker_containers(docker_root: &Path, given: Option<&Path>, problems: &mut StoreProblems) -> Vec<ContainerRef> {
    // `var/lib/docker -> /data/docker` on a seized disk leads to the examiner's own host.
    if std::fs::symlink_metadata(docker_root).is_ok_and(|m| m.file_type().is_symlink()) {
        problems.damaged.push(format!(
            "{}: a symlink, not followed (name the Docker root with --docker-root)",
            crate::text::escape(docker_root.as_os_str().as_encoded_bytes())
        ));
        return Vec::new();
    }
    let dir = docker_root.join("containers");
    let m = match std::fs::symlink_metadata(&dir) {
        Ok(m) => m,
        // No Docker store beside this root. One the user named without it is said, as `ps`
        // says it: a lookup there answered "no such container" with nothing said (sweep 32).
        Err(e) if crate::containers::docker::not_there(&e) => {
            if let Some(given) = given {
                problems
                    .unreadable
                    .push(crate::containers::docker::no_containers_dir(given));
            }
            return Vec::new();
        }
        // The data root refuses a search (a node's is 0710 root): its containers are not
        // known, which is no answer of "no such container".
        Err(e) => {
            problems
                .unreadable
                .push(crate::containers::docker::unreadable_root(docker_root, &e.to_string()));
            problems.unlisted = Some(docker_root.to_path_buf());
            return Vec::new();
        }
    };
    if !m.is_dir() {
        // As `ps` says it ([`crate::containers::docker::read_store`]).
        let what = if m.file_type().is_symlink() {
            "a symlink, not followed"
        } else {
            "not a directory"
        };
        problems.damaged.push(format!(
            "{}: {what}",
            crate::text::escape(dir.as_os_str().as_encoded_bytes())
        ));
        return Vec::new();
    }
    let mut out = Vec::new();
    let entries = match crate::noatime::read_dir_no_follow(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            let said = format!("{}: cannot be listed: {e}", dir.display());
            if crate::damage::refused_by_system(&e) {
                problems.unreadable.push(said);
            } else {
                problems.damaged.push(said);
            }
            problems.unlisted = Some(dir.clone());
            return out;
        }
    };
    let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
    let mut names = Vec::new();
    for e in entries {
        match e {
            Ok(e) => names.push(e.file_name()),
            Err(err) => problems.unreadable.push(format!("{}: {err}", shown(&dir))),
        }
    }
    // In name order, as `ps` reads them.
    names.sort();
    let mut budget = CONFIGS_BUDGET;
    // Each config.v2.json read, by (device, inode): a hard link is not read again, but in the
    // one directory its `ID` names when that is not where it was read (the ID kept here), as
    // `ps` reads it ([`crate::containers::docker::read_store`]).
    let mut read: foldhash::HashMap<(u64, u64), Option<String>> = foldhash::HashMap::default();
    for file_name in names {
        let path = dir.join(&file_name);
        let Some(id) = crate::containers::docker::container_dir(&path, &file_name, problems) else {
            continue;
        };
        let config = path.join("config.v2.json");
        let mut name = None;
        let mut driver = None;
        let meta = std::fs::symlink_metadata(&config).ok().filter(|m| m.is_file());
        let key = meta.as_ref().map(|m| (m.dev(), m.ino()));
        let owner = key.and_then(|k| read.get(&k));
        match meta {
            Some(_) if owner.is_some_and(|owner| owner.as_deref() != Some(id.as_str())) => {
                problems.damaged.push(format!(
                    "{}: a hard link to a config already read; not read again",
                    shown(&config)
                ));
            }
            Some(m) if m.len().min(MAX_CONFIG) > budget => {
                problems.damaged.push(format!(
                    "{}: not read, {} MiB of config.v2.json were read already",
                    shown(&config),
                    CONFIGS_BUDGET >> 20
                ));
            }
            // Read (or, when it is not a regular file, looked at) as `ps` reads it: what is
            // wrong is said in the same words.
            _ => {
                budget -= meta.map_or(0, |m| m.len().min(MAX_CONFIG));
                // Read here: never again (a second read, in the directory its ID names,
                // leaves no ID to read it a third time).
                if let Some(k) = key {
                    read.insert(k, None);
                }
                match crate::containers::files::read_small(&config, MAX_CONFIG) {
                    // Permissions: unreadable (exit 4), as ps says of the same file.
                    Err(p) if p.unreadable => problems.unreadable.push(p.message),
                    Err(p) => problems.damaged.push(p.message),
                    Ok(text) => match crate::containers::files::check_parsed_size(&config, &text)
                        .map_err(|p| p.message)
                        .and_then(|()| {
                            // As ps parses it: nesting Go reads, in keys dockerd skips, is read.
                            gojson::parse_for(&text, &crate::containers::moby::CONTAINER)
                                .map_err(|e| format!("{}: not JSON: {e}", shown(&config)))
                        }) {
                        Ok(raw @ J::Obj(_)) => {
                            let decoded = crate::containers::docker::decode_config(&config, &id, &raw);
                            problems.damaged.extend(decoded.wrong);
                            if let Some(k) = key.filter(|_| decoded.misplaced) {
                                read.insert(k, decoded.config.get("ID").and_then(J::as_str).map(str::to_string));
                            }
                            // A Name or Driver that is not a string was just said.
                            if let Ok(v) = NameAndDriver::of(&decoded.config) {
                                // Another container's file (said just above) names that
                                // container, not this directory: found by its ID alone.
                                name = v
                                    .name
                                    .filter(|_| !decoded.misplaced)
                                    .map(|n| n.strip_prefix('/').unwrap_or(&n).to_string());
                                driver = v.driver;
                            }
                        }
                        Ok(_) => problems.damaged.push(format!("{}: not a JSON object", shown(&config))),
                        Err(said) => problems.damaged.push(said),
                    },
                }
            }
        }
        out.push(ContainerRef {
            snapshot_key: id.clone(),
            id,
            name,
            namespace: "moby".into(),
            snapshotter: driver.filter(|d| !d.is_empty()).unwrap_or_else(|| "overlayfs".into()),
            source: "docker",
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// containerd's container records, every namespace, and whether they carry 1.7's `sandboxid`
/// key ([`records::sandbox_keys`]: `None` without a record).
pub fn containerd_containers(tx: &Tx<'_>, damage: &mut Damage) -> (Vec<ContainerRef>, Option<bool>) {
    let mut out = Vec::new();
    let mut sandbox_keys: Option<bool> = None;
    for (ns, b) in records::namespace_buckets(tx, damage) {
        let found = records::containers_in(&ns, &b, damage);
        if let Some(has) = records::sandbox_keys(&found) {
            sandbox_keys = Some(has || sandbox_keys == Some(true));
        }
        for c in found {
            out.push(ContainerRef {
                id: c.id,
                name: None,
                namespace: ns.clone(),
                snapshotter: c.snapshotter,
                snapshot_key: c.snapshot_key,
                source: "containerd",
            });
        }
    }
    (out, sandbox_keys)
}

/// Every container: Docker's, then containerd's records that Docker does not have; and
/// whether containerd's records (all of them) carry 1.7's `sandboxid` key. `given`: the
/// Docker root as the user named it ([`docker_containers`]).
pub fn all_containers(
    tx: &Tx<'_>,
    docker: &Path,
    given: Option<&Path>,
    damage: &mut Damage,
    problems: &mut StoreProblems,
) -> (Vec<ContainerRef>, Option<bool>) {
    let mut all = docker_containers(docker, given, problems);
    let (records, sandbox_keys) = containerd_containers(tx, damage);
    // Docker's snapshots are in dockerd's namespace: `moby`, or the one its
    // `--containerd-namespace` named, as `ps` finds it.
    let ids: foldhash::HashSet<&str> = all.iter().map(|d| d.id.as_str()).collect();
    let ns = crate::containers::dockerd_namespace(records.iter().map(|r| (r.namespace.as_str(), r.id.as_str())), &ids)
        .to_string();
    for d in &mut all {
        d.namespace.clone_from(&ns);
    }
    // Docker's containers by (namespace, ID), looked up, not searched: 40,000 containerd
    // records searched one by one took 8 s. containerd's own keys are unique in a namespace.
    let docker_ids: foldhash::HashSet<(String, String)> =
        all.iter().map(|d| (d.namespace.clone(), d.id.clone())).collect();
    for c in records {
        if !docker_ids.contains(&(c.namespace.clone(), c.id.clone())) {
            all.push(c);
        }
    }
    (all, sandbox_keys)
}

/// What a target resolved to.
pub struct Resolved {
    pub snap: usize,
    pub container: Option<ContainerRef>,
}

/// What a target names: a snapshot (a container's, or one named itself), or a Docker
/// container on dockerd's overlay2 graph driver, whose layers are the driver's directories
/// ([`crate::overlay::overlay2`]), no snapshot.
pub enum Target {
    Snapshot(Resolved),
    Overlay2(ContainerRef),
}

/// Whether Docker container `c` keeps its layers on dockerd's overlay2 graph driver (its
/// config's `Driver`; on the containerd image store that is the snapshotter, `overlayfs`,
/// and no snapshotter is called `overlay2`).
pub fn on_overlay2(c: &ContainerRef) -> bool {
    c.source == "docker" && c.snapshotter == "overlay2"
}

/// A container on the overlay2 graph driver asked for as a snapshot (`snapshots tree`,
/// `which`, sizes): it has none. Not found (exit 1), said so, not as a snapshotter's
/// metadata.db not read.
pub fn no_snapshot(c: &ContainerRef) -> Unresolved {
    Unresolved::no(format!(
        "container {}: on dockerd's overlay2 graph driver, so its layers are the driver's directories (overlay2/ in the Docker data root), not a snapshot (diff, fs and mounts read them)",
        crate::text::one_line(&c.id)
    ))
}

/// Why a target did not resolve: not found (exit 1), or found in records that are damaged
/// (exit 3: a meta.db record whose backend snapshot is gone is no answer of "no such key").
#[derive(Debug)]
pub struct Unresolved {
    pub message: String,
    pub damaged: bool,
}

impl Unresolved {
    fn no(message: String) -> Unresolved {
        Unresolved {
            message,
            damaged: false,
        }
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Resolves `target`: a container by full ID or Docker name, else an exact snapshot key (in
/// `namespace` when given; a meta.db record whose backend snapshot is gone is said as the
/// damage it is), else a snapshotter's own key (`<ns>/<n>/<key>`, what `snapshots tree` and
/// `gc` print for a snapshot no meta.db record names), else a container by unique ID prefix.
pub fn resolve(
    index: &Index,
    containers: &[ContainerRef],
    namespace: Option<&str>,
    target: &str,
) -> Result<Resolved, Unresolved> {
    match resolve_target(index, containers, namespace, target)? {
        Target::Snapshot(r) => Ok(r),
        Target::Overlay2(c) => Err(no_snapshot(&c)),
    }
}

/// [`resolve`], a container on the overlay2 graph driver answered as itself
/// ([`Target::Overlay2`]), for the commands that read its layers.
pub fn resolve_target(
    index: &Index,
    containers: &[ContainerRef],
    namespace: Option<&str>,
    target: &str,
) -> Result<Target, Unresolved> {
    let shown = crate::text::escape(target.as_bytes());
    if target.is_empty() {
        return Err(Unresolved::no("an empty target".into()));
    }
    let keyed = index.named(namespace, target);
    let mut unbacked = index.unbacked_named(namespace, target);
    // A record of a snapshotter whose metadata.db is not under the root (a proxy snapshotter:
    // stargz, nydus, gcfs) is no rival of a snapshot that reads: an image unpacked by both
    // records the same chain IDs in each, and no -n tells them apart.
    if !keyed.is_empty() {
        unbacked.retain(|u| index.snapshotters.contains(&u.snapshotter));
    }
    let in_namespace = |c: &&ContainerRef| namespace.is_none_or(|n| n == c.namespace);
    // A full ID first, then a name, as dockerd looks a container up.
    if let Some(c) = containers.iter().filter(in_namespace).find(|c| c.id == target) {
        return container_target(index, c);
    }
    let named: Vec<&ContainerRef> = containers
        .iter()
        .filter(in_namespace)
        .filter(|c| c.name.as_deref() == Some(target))
        .collect();
    match named.as_slice() {
        [] => {}
        [one] => return container_target(index, one),
        // Only Docker's containers have names here: two with one name is damage, and
        // answering with either would be a guess.
        many => {
            let ids: Vec<&str> = many.iter().map(|c| c.id.as_str()).collect();
            return Err(Unresolved {
                message: crate::containers::docker::name_shared(target, &ids),
                damaged: true,
            });
        }
    }
    match (keyed.as_slice(), unbacked.as_slice()) {
        ([one], []) => {
            return Ok(Target::Snapshot(Resolved {
                snap: *one,
                container: None,
            }));
        }
        ([], [one]) => {
            return Err(unbacked_snapshot(index, one, &format!("snapshot {}", key_where(one))));
        }
        ([], []) => {}
        (many, gone) => {
            let mut where_: Vec<String> = many
                .iter()
                .filter_map(|&i| index.get(i))
                .flat_map(|s| {
                    s.names
                        .iter()
                        .filter(|n| n.key == target && namespace.is_none_or(|ns| ns == n.namespace))
                        .map(move |n| format!("{}/{}", n.namespace, s.snapshotter))
                })
                .collect();
            where_.extend(
                gone.iter()
                    .map(|u| format!("{}/{} (no backend record)", u.namespace, u.snapshotter)),
            );
            return Err(Unresolved::no(format!(
                "snapshot key {shown} is in several places ({}): choose one with -n",
                where_.join(", ")
            )));
        }
    }
    match index.by_backend_key(namespace, target).as_slice() {
        [one] => {
            return Ok(Target::Snapshot(Resolved {
                snap: *one,
                container: None,
            }));
        }
        [] => {}
        many => {
            let snapshotters: Vec<&str> = many
                .iter()
                .filter_map(|&i| index.get(i))
                .map(|s| s.snapshotter.as_str())
                .collect();
            return Err(Unresolved::no(format!(
                "backend key {shown} is in several snapshotters' metadata.db ({}): name the snapshot by its meta.db key, or by a container",
                snapshotters.join(", ")
            )));
        }
    }
    let prefixed: Vec<&ContainerRef> = containers
        .iter()
        .filter(|c| c.id.starts_with(target) && namespace.is_none_or(|n| n == c.namespace))
        .collect();
    match prefixed.as_slice() {
        [one] => container_target(index, one),
        [] => Err(not_named(
            index,
            namespace,
            target,
            format!(
                "no snapshot key, container ID, name or ID prefix {shown} (nor a snapshotter's backend key, nor an image)"
            ),
        )),
        _ => Err(Unresolved::no(format!(
            "container ID prefix {shown} is ambiguous ({} containers)",
            prefixed.len()
        ))),
    }
}

/// A key meta.db does not name, `said` so: with the snapshots no meta.db record names whose
/// backend key is that key's (`<ns>/<n>/<key>`: what its record named before it was removed,
/// or before meta.db lost it), to be named by that backend key; and, when meta.db's snapshot
/// records met damage, as not among those that read (the record may be in what did not).
pub fn not_named(index: &Index, namespace: Option<&str>, key: &str, said: String) -> Unresolved {
    let unnamed: Vec<String> = index
        .unnamed_keyed(namespace, key)
        .iter()
        .filter_map(|&i| index.get(i))
        .map(|s| {
            format!(
                "{} ({})",
                crate::text::one_line(&s.backend_key),
                crate::text::one_line(&s.snapshotter)
            )
        })
        .collect();
    let mut message = said;
    if index.meta_incomplete {
        message.push_str(" among meta.db's snapshot records that read (meta.db is damaged, said above)");
    }
    if !unnamed.is_empty() {
        message.push_str(&format!(
            "; the snapshotter still has {}, which no meta.db record names: give that backend key to read it",
            unnamed.join(", ")
        ));
    }
    // Not damage of its own: meta.db's damage was met loading the records, and counts in the
    // exit code already; an image of that name is still looked for.
    Unresolved::no(message)
}

/// `<ns>/<key> (<snapshotter>)`, as the messages name a meta.db record. Key names come
/// escaped once (`key_name`), so `one_line` only.
pub fn key_where(u: &Unbacked) -> String {
    format!(
        "{}/{} ({})",
        crate::text::one_line(&u.namespace),
        crate::text::one_line(&u.key),
        crate::text::one_line(&u.snapshotter),
    )
}

/// Why meta.db's record `u` names no snapshot the index holds, after `what` (`snapshot
/// <ns>/<key> (<sn>)`, or `container <id>: its snapshot ...`): its snapshotter's metadata.db
/// was not read (missing, damaged, behind a symlink: said as damage where it is), or met
/// damage (the record may be in what did not read), or was read whole and has no record of
/// it, or the record names no backend snapshot. All but the first are damage: containerd
/// itself answers "not found" for such a key (`ctr snapshots mounts`), but the record is there.
pub fn unbacked_snapshot(index: &Index, u: &Unbacked, what: &str) -> Unresolved {
    let sn = crate::text::one_line(&u.snapshotter);
    // A name no snapshotter's directory has (`x/../../outside`): only a damaged or hostile
    // meta.db records one, and its metadata.db is never opened (sweep 42, L5).
    if !crate::containerd::root::opens_snapshotter(&u.snapshotter) {
        return Unresolved {
            message: format!(
                "{what} cannot be looked up: {}",
                crate::containerd::root::no_snapshotter_db(&u.snapshotter)
            ),
            damaged: true,
        };
    }
    if !index.snapshotters.contains(&u.snapshotter) {
        return Unresolved::no(format!(
            "{what} cannot be looked up: the {sn} snapshotter's metadata.db was not read"
        ));
    }
    let message = if index.incomplete.contains(&u.snapshotter) {
        format!("{what} cannot be looked up: the {sn} snapshotter's metadata.db is damaged (said above)")
    } else {
        match &u.backend_name {
            Some(b) => format!(
                "{what}: meta.db records it as backend snapshot {}, but the {sn} snapshotter's metadata.db has no record of it (lost with the metadata.db, or removed from it alone)",
                crate::text::one_line(b)
            ),
            None => format!("{what}: meta.db's record names no backend snapshot (no `name`)"),
        }
    };
    Unresolved { message, damaged: true }
}

/// What container `c` names: its layers on the overlay2 graph driver, else its snapshot
/// ([`container_snapshot`]).
fn container_target(index: &Index, c: &ContainerRef) -> Result<Target, Unresolved> {
    if on_overlay2(c) {
        return Ok(Target::Overlay2(c.clone()));
    }
    container_snapshot(index, c).map(Target::Snapshot)
}

/// The snapshot of container `c`, or why it has none (its record names none, its
/// snapshotter's metadata.db was not read, its meta.db record has no backend record, it is
/// not recorded: damage, as the container itself was found). Its names are shown as the listings show them: key names come escaped once
/// (`key_name`), so `one_line` only.
pub fn container_snapshot(index: &Index, c: &ContainerRef) -> Result<Resolved, Unresolved> {
    if on_overlay2(c) {
        return Err(no_snapshot(c));
    }
    match index.by_name(&c.namespace, &c.snapshotter, &c.snapshot_key) {
        Some(snap) => Ok(Resolved {
            snap,
            container: Some(c.clone()),
        }),
        // dockerd's record in containerd names no snapshot: its own store does.
        None if c.snapshot_key.is_empty() => Err(Unresolved::no(format!(
            "container {}: its containerd record in namespace {} names no snapshot (dockerd's \
             containers are found through the Docker data root's containers/<id>)",
            crate::text::one_line(&c.id),
            crate::text::one_line(&c.namespace),
        ))),
        None => {
            let what = format!(
                "container {}: its snapshot {}/{} ({})",
                crate::text::one_line(&c.id),
                crate::text::one_line(&c.namespace),
                crate::text::one_line(&c.snapshot_key),
                crate::text::one_line(&c.snapshotter),
            );
            let recorded = index.unbacked(&c.namespace, &c.snapshotter, &c.snapshot_key);
            let unread = !index.snapshotters.contains(&c.snapshotter) || index.incomplete.contains(&c.snapshotter);
            match recorded {
                Some(u) => Err(unbacked_snapshot(index, u, &what)),
                // Its snapshotter's records were not read, or met damage: not "not recorded".
                None if unread => Err(unbacked_snapshot(
                    index,
                    &Unbacked {
                        namespace: c.namespace.clone(),
                        snapshotter: c.snapshotter.clone(),
                        key: c.snapshot_key.clone(),
                        backend_name: None,
                    },
                    &what,
                )),
                // The container was found: what is gone is its layer's record, which is the
                // store's damage (dockerd's own diff fails on it), not "no such container".
                None => Err(Unresolved {
                    damaged: true,
                    ..not_named(
                        index,
                        Some(&c.namespace),
                        &c.snapshot_key,
                        format!("{what} is not recorded"),
                    )
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Unbacked, resolve};
    use crate::overlay::snapshots::{Index, Name, Snap};

    fn snap(snapshotter: &str, backend_key: &str, id: u64, names: &[(&str, &str)]) -> Snap {
        Snap {
            snapshotter: snapshotter.into(),
            backend_key: backend_key.into(),
            id: Some(id),
            kind: "Active".into(),
            backend_parent: None,
            size: None,
            inodes: None,
            created_at: None,
            names: names
                .iter()
                .map(|(ns, key)| Name {
                    namespace: ns.to_string(),
                    key: key.to_string(),
                })
                .collect(),
            labels: Default::default(),
        }
    }

    fn message(r: Result<super::Resolved, super::Unresolved>) -> (String, bool) {
        match r {
            Ok(r) => panic!("resolved to {}", r.snap),
            Err(e) => (e.message, e.damaged),
        }
    }

    /// A meta.db key first, then a backend key (narrowed by -n to its namespace); a backend
    /// key two snapshotters hold, or a key named both with and without a backend record, is
    /// ambiguous, never one of them chosen silently.
    #[test]
    fn backend_keys_resolve_after_meta_db_keys() {
        let mut index = Index::from_snaps_named(
            "/r".into(),
            vec![
                snap("overlayfs", "a/1/k", 1, &[("a", "k")]),
                snap("overlayfs", "a/2/gone", 2, &[]),
                snap("overlayfs", "b/1/twice", 3, &[]),
                snap("native", "b/1/twice", 1, &[]),
                // A meta.db key that looks like a backend key wins over the backend key.
                snap("overlayfs", "c/9/x", 4, &[("c", "a/2/gone")]),
            ],
        );
        index.snapshotters.push("native".into());
        let found = |index: &Index, ns: Option<&str>, t: &str| resolve(index, &[], ns, t).map(|r| r.snap).ok();
        assert_eq!(found(&index, None, "k"), Some(0));
        assert_eq!(found(&index, None, "a/1/k"), Some(0));
        assert_eq!(found(&index, None, "a/2/gone"), Some(4));
        assert_eq!(found(&index, Some("a"), "a/2/gone"), Some(1));
        assert_eq!(found(&index, Some("b"), "a/2/gone"), None);
        let (said, damaged) = message(resolve(&index, &[], None, "b/1/twice"));
        assert!(
            said.contains("several snapshotters' metadata.db (overlayfs, native)"),
            "{said}"
        );
        assert!(!damaged);

        index.unbacked.push(Unbacked {
            namespace: "z".into(),
            snapshotter: "overlayfs".into(),
            key: "k".into(),
            backend_name: Some("z/3/k".into()),
        });
        let (said, damaged) = message(resolve(&index, &[], None, "k"));
        assert!(
            said.contains("(a/overlayfs, z/overlayfs (no backend record)): choose one with -n"),
            "{said}"
        );
        assert!(!damaged);
        assert_eq!(found(&index, Some("a"), "k"), Some(0));
        let (said, damaged) = message(resolve(&index, &[], Some("z"), "k"));
        assert!(said.contains("meta.db records it as backend snapshot z/3/k"), "{said}");
        assert!(damaged);
    }

    /// A record whose snapshotter's name is no directory name (`x/../../outside`) is damage
    /// said as such, not "not read" as if its metadata.db had been looked for (sweep 42, L5).
    #[test]
    fn a_snapshotter_name_holding_a_path_is_damage() {
        let mut index = Index::from_snaps_named("/r".into(), Vec::new());
        index.unbacked.push(Unbacked {
            namespace: "n".into(),
            snapshotter: "x/../../outside".into(),
            key: "k".into(),
            backend_name: Some("n/1/k".into()),
        });
        let (said, damaged) = message(resolve(&index, &[], Some("n"), "k"));
        assert!(said.contains("is no directory name coldctr opens"), "{said}");
        assert!(damaged);
        // A name coldctr opens whose metadata.db is simply not there is still no damage.
        index.unbacked.push(Unbacked {
            namespace: "m".into(),
            snapshotter: "native".into(),
            key: "k".into(),
            backend_name: None,
        });
        let (said, damaged) = message(resolve(&index, &[], Some("m"), "k"));
        assert!(
            said.contains("the native snapshotter's metadata.db was not read"),
            "{said}"
        );
        assert!(!damaged);
    }
}
