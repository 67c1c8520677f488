//! Docker's own container store, under its data root. A dockerd on the containerd image store
//! keeps its containers here, not in meta.db (containerd only has a record for a container
//! whose task was running or paused):
//!
//! ```text
//! <docker-root>/containers/<64-hex id>/
//!     config.v2.json    moby's container.Container: State{Running,Paused,Restarting,OOMKilled,
//!                       Dead,Pid,ExitCode,Error,StartedAt,FinishedAt,Health}, ID, Created, Path,
//!                       Args, Config (the API's container config), Image (the image ID),
//!                       ImageManifest, NetworkSettings, LogPath, Name, Driver, OS,
//!                       ImagePlatform, RestartCount, MountPoints{dest: {Source,Destination,RW,
//!                       Name,Driver,Type,Relabel,Propagation,Spec}}, MountLabel, ...
//!     hostconfig.json   the API's HostConfig, as given at create (restart policy, binds, tmpfs)
//!     <id>-json.log     the json-file log (local-logs/container.log for the `local` driver)
//!     hostname, hosts, resolv.conf, mounts/, checkpoints/
//! ```
//!
//! dockerd writes both JSON files whole (write to a temp file, then rename), so on a seized
//! disk they are the state of the last change. Both are read as ordered JSON ([`J`]), decoded
//! as dockerd's Go decoder decodes them into moby's structs ([`super::moby`]: keys in any
//! case, repeats, maps' keys as they are), kept so for `container inspect`, and queried for
//! the listing.

use super::files::{self, FileProblem};
use crate::image::goshape::{self, Mistyped, Shape};
use crate::inspect::gojson::{self, J};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the Docker data root is, and how it was found.
#[derive(Clone, Debug)]
pub enum DockerRoot {
    /// `--docker-root` (or `COLDCTR_DOCKER_ROOT`).
    Given(PathBuf),
    /// Found beside (or around) the containerd root.
    Found(PathBuf),
    /// Where one would be beside the containerd root is a symlink (`var/lib/docker ->
    /// /data/docker`): not followed, since it would lead out of the disk being read to the
    /// reader's own host. Damage, named by every command alike ([`DockerRoot::refusal`]).
    Link(PathBuf),
    /// Where one would be beside the containerd root is a directory that cannot be looked
    /// into (a node's `/var/lib/docker` is mode 0710 root, read here by another user): whether
    /// it holds Docker's store is not known. Unreadable (exit 4), never absent
    /// ([`DockerRoot::unreadable`]); the error as the system gave it.
    Denied(PathBuf, String),
    /// None of the usual places holds one.
    Absent,
}

impl DockerRoot {
    /// The root to read (not a [`DockerRoot::Link`]).
    pub fn path(&self) -> Option<&Path> {
        match self {
            DockerRoot::Given(p) | DockerRoot::Found(p) => Some(p),
            DockerRoot::Link(_) | DockerRoot::Denied(..) | DockerRoot::Absent => None,
        }
    }

    /// What is said of a root that cannot be looked into, in the words of every reader of the
    /// store ([`unreadable_root`]).
    pub fn unreadable(&self) -> Option<String> {
        match self {
            DockerRoot::Denied(p, why) => Some(unreadable_root(p, why)),
            _ => None,
        }
    }

    /// What is said of a root that is a symlink, not followed: the same words as `diff`
    /// ([`crate::overlay::target::docker_containers`]).
    pub fn refusal(&self) -> Option<String> {
        match self {
            DockerRoot::Link(p) => Some(format!(
                "{}: a symlink, not followed (name the Docker root with --docker-root)",
                crate::text::escape(p.as_os_str().as_encoded_bytes())
            )),
            _ => None,
        }
    }
}

/// `<dir>: cannot be read: <why>; ...`, said of a Docker data root that cannot be looked
/// into: by `ps`, `timeline`, `container inspect` and the layer commands alike, so that no
/// reader takes it for a node without Docker.
pub fn unreadable_root(dir: &Path, why: &str) -> String {
    format!(
        "{}: cannot be read: {why}; the Docker containers there are not read",
        crate::text::escape(dir.as_os_str().as_encoded_bytes())
    )
}

/// `<dir>: no containers directory in the Docker data root`, said of a data root the user
/// named (`--docker-root`, `COLDCTR_DOCKER_ROOT`) that has no `containers/`: by `ps` and the
/// layer commands alike, unreadable (exit 4), since what was named to be read is not there.
/// One found beside the containerd root without it is no Docker store, and is not said.
pub fn no_containers_dir(dir: &Path) -> String {
    format!(
        "{}: no containers directory in the Docker data root",
        crate::text::escape(dir.as_os_str().as_encoded_bytes())
    )
}

/// What is said of a name several Docker containers carry (each one's `config.v2.json`
/// `Name`), by `container inspect` and the layer commands alike: dockerd registers a name
/// once, so its restore would load only one of them, whichever it met first. Damage, and no
/// lookup by that name picks one. `ids` are directory names (64 hex).
pub fn name_shared(name: &str, ids: &[&str]) -> String {
    format!(
        "container name {} is held by {} Docker containers ({}): dockerd would load only one of them, whichever it read first; name the container by ID",
        crate::text::escape(name.as_bytes()),
        ids.len(),
        ids.join(", ")
    )
}

/// True for an error that says a path is not there (a component missing, or a file where a
/// directory would be), as opposed to one that cannot be looked at (permissions, I/O).
pub fn not_there(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// What a place where a Docker data root may be holds.
enum Probe {
    /// A real directory with a `containers` entry in it. That entry may be anything: a
    /// `containers` that is a symlink or a file is the store's damage, which [`read_store`]
    /// names, not a reason to say there is no store.
    Root,
    /// Nothing there, or no `containers` in it.
    Nothing,
    /// It, or its `containers` entry, cannot be looked at (permissions, I/O): the error.
    Denied(String),
}

fn probe(dir: &Path) -> Probe {
    // Only "not there" means not there: EACCES on `dir/containers` is `dir` refusing a
    // search, and says nothing about whether the store is in it.
    let look = |p: &Path| match std::fs::symlink_metadata(p) {
        Ok(m) => Ok(Some(m)),
        Err(e) if not_there(&e) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    match look(dir) {
        Ok(Some(m)) if m.is_dir() => {}
        Ok(_) => return Probe::Nothing,
        Err(why) => return Probe::Denied(why),
    }
    match look(&dir.join("containers")) {
        Ok(Some(_)) => Probe::Root,
        Ok(None) => Probe::Nothing,
        Err(why) => Probe::Denied(why),
    }
}

/// True when `dir` is a symlink (a Docker root moved elsewhere and linked back).
fn is_link(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink())
}

/// The Docker data root for the containerd root `containerd_root`: `given` when set, else
/// `<mount>/var/lib/docker` beside `<mount>/var/lib/containerd`, else the root that holds
/// containerd inside it (`/var/lib/docker/containerd/daemon`, dockerd's managed containerd).
/// A `--root` that is a Docker data root itself (it has `containers/`), or a disk's mount
/// point (`<mount>/var/lib/docker`), is that. A directory named `docker` beside any other
/// directory is no guess: beside a copy it can be another node's store (sweep 34.1).
pub fn locate(containerd_root: &Path, given: Option<&Path>) -> DockerRoot {
    if let Some(g) = given {
        return DockerRoot::Given(g.to_path_buf());
    }
    let root = crate::containerd::root::root_of(containerd_root);
    // Itself a data root only when it is one: the root given through a symlink is no
    // symlinked Docker root to name.
    if matches!(probe(&root), Probe::Root) {
        return DockerRoot::Found(root);
    }
    let mut candidates = vec![root.join("var/lib/docker")];
    if root.file_name().is_some_and(|n| n == "containerd")
        && let Some(parent) = root.parent()
    {
        candidates.push(parent.join("docker"));
    }
    if root.ends_with("containerd/daemon")
        && let Some(docker) = root.parent().and_then(Path::parent)
    {
        // A relative `containerd/daemon` has the working directory above it, whose name
        // is the empty path: no Docker root was found there, and `ps` listed none.
        candidates.push(if docker.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            docker.to_path_buf()
        });
    }
    let probed: Vec<(PathBuf, Probe)> = candidates.into_iter().map(|c| (c.clone(), probe(&c))).collect();
    if let Some((found, _)) = probed.iter().find(|(_, p)| matches!(p, Probe::Root)) {
        return DockerRoot::Found(found.clone());
    }
    if let Some((link, _)) = probed.iter().find(|(c, _)| is_link(c)) {
        return DockerRoot::Link(link.clone());
    }
    probed
        .into_iter()
        .find_map(|(c, p)| match p {
            Probe::Denied(why) => Some(DockerRoot::Denied(c, why)),
            _ => None,
        })
        .unwrap_or(DockerRoot::Absent)
}

/// One container of the store, as read from its directory.
#[derive(Clone, Debug)]
pub struct DockerContainer {
    /// The directory name (64 hex), which is the container's ID.
    pub id: String,
    pub dir: PathBuf,
    /// `config.v2.json`, members in file order.
    pub config: J,
    /// `hostconfig.json`, when it could be read.
    pub hostconfig: Option<J>,
    /// `GraphDriver.Data` from a graph driver's layer store (overlay2), when there is one.
    pub graph_data: Option<J>,
    /// Its `config.v2.json` records another `ID` (a copy of another container's file): see
    /// [`DecodedConfig::misplaced`].
    pub misplaced: bool,
}

/// What reading the store met besides the containers.
#[derive(Debug, Default)]
pub struct StoreProblems {
    /// Damage: files that are not what dockerd writes (named in each message).
    pub damaged: Vec<String>,
    /// Files that could not be read at all (permissions, I/O).
    pub unreadable: Vec<String>,
    /// The store itself (`containers/`, or the data root above it) could not be read: which
    /// containers it holds is not known, so a name or ID not found may still be one of them.
    pub unlisted: Option<PathBuf>,
}

impl StoreProblems {
    pub(super) fn file(&mut self, p: FileProblem) {
        if p.unreadable {
            self.unreadable.push(p.message);
        } else {
            self.damaged.push(p.message);
        }
    }
}

fn is_id(name: &[u8]) -> bool {
    name.len() == 64 && name.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The container ID of entry `name` (at `path`) of `containers/`, or `None`, said in
/// `problems` in the words every reader of the store uses, when it is no container directory:
/// a name that is not a 64-hex ID, a symlink (not followed), not a directory.
pub fn container_dir(path: &Path, name: &std::ffi::OsStr, problems: &mut StoreProblems) -> Option<String> {
    let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
    if !is_id(name.as_encoded_bytes()) {
        problems.damaged.push(format!(
            "{}: not a container directory (its name is not a 64-hex ID)",
            shown(path)
        ));
        return None;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => name.to_str().map(str::to_string),
        Ok(m) => {
            let what = if m.file_type().is_symlink() {
                "a symlink, not followed"
            } else {
                "not a directory"
            };
            problems.damaged.push(format!("{}: {what}", shown(path)));
            None
        }
        Err(e) => {
            problems.unreadable.push(format!("{}: {e}", shown(path)));
            None
        }
    }
}

/// At most this many container directories are read (a store of millions of entries is not
/// a node's; the rest are reported, not read).
const MAX_CONTAINERS: usize = 100_000;
/// The bytes of config.v2.json and hostconfig.json read in all (each at most
/// [`files::MAX_JSON`]); a real container's are a few KiB. Past it, the rest are reported.
const CONTAINER_FILES_BUDGET: u64 = 512 << 20;
/// Every container under `<docker_root>/containers`, in ID order. A directory that is not a
/// container or whose `config.v2.json` does not read is reported and skipped; the others are
/// still returned. Their parsed files are kept: `memory` is charged with them (a container
/// whose files do not fit what is left is reported and skipped).
pub fn read_store(
    docker_root: &Path,
    memory: &mut files::MemoryBudget,
    problems: &mut StoreProblems,
) -> Vec<DockerContainer> {
    let dir = docker_root.join("containers");
    let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) if m.file_type().is_symlink() => {
            problems
                .damaged
                .push(format!("{}: a symlink, not followed", shown(&dir)));
            return Vec::new();
        }
        Ok(_) => {
            problems.damaged.push(format!("{}: not a directory", shown(&dir)));
            return Vec::new();
        }
        Err(e) if not_there(&e) => return Vec::new(),
        Err(e) => {
            // `docker_root` refuses a search (a node's is 0710 root): it is the one not read.
            problems.unreadable.push(unreadable_root(docker_root, &e.to_string()));
            problems.unlisted = Some(docker_root.to_path_buf());
            return Vec::new();
        }
    }
    let entries = match crate::noatime::read_dir_no_follow(&dir) {
        Ok(e) => e,
        Err(e) => {
            problems.unreadable.push(format!("{}: {e}", shown(&dir)));
            problems.unlisted = Some(dir.clone());
            return Vec::new();
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => {
                if names.len() >= MAX_CONTAINERS {
                    problems.damaged.push(format!(
                        "{}: more than {MAX_CONTAINERS} entries; the rest not read",
                        shown(&dir)
                    ));
                    break;
                }
                names.push(e.file_name());
            }
            Err(e) => problems.unreadable.push(format!("{}: {e}", shown(&dir))),
        }
    }
    names.sort();
    let mut out = Vec::new();
    // Each config.v2.json and hostconfig.json read, by (device, inode).
    let mut read: foldhash::HashMap<(u64, u64), PathBuf> = foldhash::HashMap::default();
    // Each config.v2.json read in a directory its `ID` does not name, with that ID: linked
    // into the directory it does name, it is read there too (once: one directory has that
    // name), as that is the container the file is. Else a link of it into a directory that
    // sorts first would hide that container behind one dockerd does not load.
    let mut misplaced: foldhash::HashMap<(u64, u64), String> = foldhash::HashMap::default();
    let mut budget = CONTAINER_FILES_BUDGET;
    for name in names {
        let path = dir.join(&name);
        let Some(id) = container_dir(&path, &name, problems) else {
            continue;
        };
        // One file read once: hard links of one 16 MiB config.v2.json into every container
        // directory would each be parsed and kept (a few MB on disk, gigabytes in memory).
        let config = path.join("config.v2.json");
        let config_key = std::fs::symlink_metadata(&config)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| (m.dev(), m.ino()));
        if let Some(key) = config_key
            && let Some(first) = read.get(&key)
        {
            if misplaced.get(&key) == Some(&id) {
                misplaced.remove(&key);
            } else {
                problems.damaged.push(format!(
                    "{}: the same file as {} (a hard link); not read again",
                    shown(&config),
                    shown(first)
                ));
                continue;
            }
        } else if let Some(key) = config_key {
            read.insert(key, config.clone());
        }
        // hostconfig.json too is read once, whether linked to another's hostconfig.json or
        // to a config.v2.json.
        let hostconfig = path.join("hostconfig.json");
        let hostconfig_meta = std::fs::symlink_metadata(&hostconfig).ok().filter(|m| m.is_file());
        // Missing or not a file: read, so that read_json reports it.
        let read_hostconfig = match &hostconfig_meta {
            None => true,
            Some(m) => match read.entry((m.dev(), m.ino())) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(hostconfig.clone());
                    true
                }
                std::collections::hash_map::Entry::Occupied(first) => {
                    problems.damaged.push(format!(
                        "{}: the same file as {} (a hard link); not read again",
                        shown(&hostconfig),
                        shown(first.get())
                    ));
                    false
                }
            },
        };
        // Both files are kept, parsed, for every container: their bytes are bounded in all.
        let sizes = std::fs::symlink_metadata(&config).map_or(0, |m| m.len().min(files::MAX_JSON))
            + hostconfig_meta
                .filter(|_| read_hostconfig)
                .map_or(0, |m| m.len().min(files::MAX_JSON));
        if sizes > budget {
            problems.damaged.push(format!(
                "{}: not read, {} MiB of container files were read already",
                shown(&path),
                CONTAINER_FILES_BUDGET >> 20
            ));
            continue;
        }
        budget -= sizes;
        let Some((c, taken)) = read_container(&path, &id, read_hostconfig, problems) else {
            continue;
        };
        if let Some(key) = config_key
            && c.misplaced
            && let Some(owner) = c.config.get("ID").and_then(J::as_str)
        {
            misplaced.insert(key, owner.to_string());
        }
        // Both files are kept, decoded, for every container: the memory they take is bounded
        // in all (by the trees as parsed, which hold all that the decoded ones do).
        if let Err(why) = memory.take(taken) {
            problems.damaged.push(format!(
                "{}: not read, its config.v2.json and hostconfig.json {why}",
                shown(&path)
            ));
            continue;
        }
        out.push(c);
    }
    out
}

/// A JSON file of a container directory, or the problem (reported) when it does not read.
fn read_json(path: &Path, shape: &'static Shape, problems: &mut StoreProblems) -> Option<J> {
    match files::read_small(path, files::MAX_JSON) {
        Ok(bytes) => json_object(path, &bytes, shape, problems),
        Err(p) => {
            problems.file(p);
            None
        }
    }
}

/// The bytes of the JSON file `path` as an object, or the problem (reported). A text that
/// could take more than [`files::MAX_PARSED`] of memory as a tree is refused, not parsed.
fn json_object(path: &Path, bytes: &[u8], shape: &'static Shape, problems: &mut StoreProblems) -> Option<J> {
    match files::check_parsed_size(path, bytes) {
        Ok(()) => parsed_object(path, bytes, shape, problems),
        Err(p) => {
            problems.file(p);
            None
        }
    }
}

/// The bytes of the JSON file `path`, parsed (members as the file has them, repeats too), as
/// an object, or the problem (reported). What dockerd makes of it is [`decode_config`]'s and
/// [`decode_hostconfig`]'s.
fn parsed_object(path: &Path, bytes: &[u8], shape: &'static Shape, problems: &mut StoreProblems) -> Option<J> {
    match gojson::parse_for(bytes, shape) {
        Ok(j @ J::Obj(_)) => Some(j),
        Ok(_) => {
            problems.damaged.push(format!(
                "{}: not a JSON object",
                crate::text::escape(path.as_os_str().as_encoded_bytes())
            ));
            None
        }
        Err(e) => {
            problems.damaged.push(format!(
                "{}: not JSON: {e}",
                crate::text::escape(path.as_os_str().as_encoded_bytes())
            ));
            None
        }
    }
}

/// One container directory (its `hostconfig.json` only when `hostconfig`), with the memory
/// its two files took as parsed trees; `None` (reported) when its `config.v2.json` does not
/// read.
pub fn read_container(
    path: &Path,
    id: &str,
    hostconfig: bool,
    problems: &mut StoreProblems,
) -> Option<(DockerContainer, u64)> {
    let config = read_json(&path.join("config.v2.json"), &super::moby::CONTAINER, problems)?;
    Some(container_of(path, id, config, problems, |problems| {
        hostconfig.then(|| read_json(&path.join("hostconfig.json"), &super::moby::HOST_CONFIG, problems))?
    }))
}

/// The container of directory `path` from the bytes of its `config.v2.json` and (when it
/// could be read) `hostconfig.json`: what [`read_container`] does once the files are read.
/// `None` (reported) when `config.v2.json` is not a JSON object. The fuzz target's way in.
pub fn container_from_bytes(
    path: &Path,
    id: &str,
    config: &[u8],
    hostconfig: Option<&[u8]>,
    problems: &mut StoreProblems,
) -> Option<DockerContainer> {
    let config = json_object(&path.join("config.v2.json"), config, &super::moby::CONTAINER, problems)?;
    let (c, _) = container_of(path, id, config, problems, |problems| {
        json_object(
            &path.join("hostconfig.json"),
            hostconfig?,
            &super::moby::HOST_CONFIG,
            problems,
        )
    });
    Some(c)
}

/// The container from its parsed `config.v2.json` and then its `hostconfig.json`, read by
/// `hostconfig`, each decoded as dockerd decodes it (what is wrong with them reported), with
/// the memory the two parsed trees took. That, not the decoded values' (which drop the keys
/// no field takes), is what the store's memory budget is charged: what a store may take is
/// bounded by its files as they are.
fn container_of(
    path: &Path,
    id: &str,
    raw: J,
    problems: &mut StoreProblems,
    hostconfig: impl FnOnce(&mut StoreProblems) -> Option<J>,
) -> (DockerContainer, u64) {
    let DecodedConfig {
        config,
        wrong,
        misplaced,
    } = decode_config(&path.join("config.v2.json"), id, &raw);
    let mut taken = raw.footprint();
    drop(raw);
    problems.damaged.extend(wrong);
    let hostconfig = hostconfig(problems).map(|raw| {
        taken = taken.saturating_add(raw.footprint());
        decode_hostconfig(&path.join("hostconfig.json"), &raw, problems)
    });
    let c = DockerContainer {
        id: id.to_string(),
        dir: path.to_path_buf(),
        config,
        hostconfig,
        graph_data: None,
        misplaced,
    };
    (c, taken)
}

/// Container `id`'s `config.v2.json` at `file`, parsed (`raw`), as dockerd's Go decoder
/// leaves moby's `container.Container` ([`super::moby::CONTAINER`]): each field once, under
/// its own name, whatever the case of its key and however often it was given. With it, what
/// is wrong with the file, each said with the file: an `ID` other than its directory's name,
/// values dockerd refuses for their field's type (it then does not load the container; the
/// field is left as Go leaves it, unset, so that a default shown in its place, a 0 exit code
/// or no start time, is not taken for what the file says). A time or a command Go refuses
/// stops its decoder there: the fields after it are unset too, as Go leaves them. One
/// reading, and one wording, for `ps` and for the layer commands, which read the file to
/// resolve names.
pub fn decode_config(file: &Path, id: &str, raw: &J) -> DecodedConfig {
    let (config, refused) = goshape::unmarshal_all(raw, &super::moby::CONTAINER, "container.Container");
    let shown = || crate::text::escape(file.as_os_str().as_encoded_bytes());
    let mut out = Vec::new();
    let recorded = config.get("ID").and_then(J::as_str);
    // An ID the decoder stopped before is not the file's to compare.
    let unread = recorded.is_none() && refused.iter().any(|r| r.ends);
    let recorded = recorded.unwrap_or_default();
    let misplaced = recorded != id && !unread;
    if misplaced {
        out.push(format!(
            "{}: ID {:?} is not its directory's name",
            shown(),
            crate::text::escape(recorded.as_bytes())
        ));
    }
    out.extend(refusals(file, &refused));
    DecodedConfig {
        config,
        wrong: out,
        misplaced,
    }
}

/// A `config.v2.json` as dockerd's decoder leaves it ([`decode_config`]).
pub struct DecodedConfig {
    pub config: J,
    /// What is wrong with the file, each said with it.
    pub wrong: Vec<String>,
    /// Its `ID` is not its directory's name: dockerd does not load it ("Container ... is
    /// stored at ..."), so its `Name` names no container. A copy of another container's file
    /// would otherwise lend that container's name to this directory, and a lookup by the name
    /// answer with the wrong container's layer. Still found by its directory's ID.
    pub misplaced: bool,
}

/// `hostconfig.json` at `file`, parsed (`raw`), as dockerd's Go decoder leaves the API's
/// `container.HostConfig` ([`super::moby::HOST_CONFIG`]); values it refuses (dockerd then does
/// not load the container) are said in `problems`.
fn decode_hostconfig(file: &Path, raw: &J, problems: &mut StoreProblems) -> J {
    let (hostconfig, refused) = goshape::unmarshal_all(raw, &super::moby::HOST_CONFIG, "container.HostConfig");
    problems.damaged.extend(refusals(file, &refused));
    hostconfig
}

/// Each value Go's decoder refused in `file`, said with its field and value: "State.Pid is
/// 1.5, not an integer"; the one that stopped it says so.
fn refusals(file: &Path, refused: &[Mistyped]) -> Vec<String> {
    let shown = crate::text::escape(file.as_os_str().as_encoded_bytes());
    refused
        .iter()
        .map(|r| {
            let rest = match r.ends {
                true => "dockerd does not load such a file, and reads nothing after it",
                false => "dockerd does not load such a file",
            };
            format!("{shown}: {} is {}, not {}; {rest}", r.field, r.shown, r.wanted)
        })
        .collect()
}

impl DockerContainer {
    fn str_at(&self, path: &[&str]) -> &str {
        self.config.at(path).and_then(J::as_str).unwrap_or_default()
    }

    /// The name without docker's leading `/`.
    pub fn name(&self) -> &str {
        let n = self.str_at(&["Name"]);
        n.strip_prefix('/').unwrap_or(n)
    }

    /// `Created`, as written (RFC 3339 with nanoseconds).
    pub fn created(&self) -> &str {
        self.str_at(&["Created"])
    }

    /// The image as the user typed it (`Config.Image`).
    pub fn image_ref(&self) -> &str {
        self.str_at(&["Config", "Image"])
    }

    /// The image ID (for a multi-platform image, the index digest).
    pub fn image_id(&self) -> &str {
        self.str_at(&["Image"])
    }

    pub fn path(&self) -> &str {
        self.str_at(&["Path"])
    }

    pub fn args(&self) -> Vec<&str> {
        self.config
            .get("Args")
            .map(|a| a.items().iter().filter_map(J::as_str).collect())
            .unwrap_or_default()
    }

    pub fn state(&self) -> State {
        let s = |k: &str| self.config.at(&["State", k]);
        let flag = |k: &str| s(k).and_then(J::as_bool).unwrap_or(false);
        let time = |k: &str| s(k).and_then(J::as_str).unwrap_or(ZERO_TIME).to_string();
        State {
            running: flag("Running"),
            paused: flag("Paused"),
            restarting: flag("Restarting"),
            oom_killed: flag("OOMKilled"),
            dead: flag("Dead"),
            removal_in_progress: flag("RemovalInProgress"),
            pid: s("Pid").and_then(J::as_int).unwrap_or(0),
            exit_code: s("ExitCode").and_then(J::as_int).unwrap_or(0),
            error: s("Error").and_then(J::as_str).unwrap_or_default().to_string(),
            started_at: time("StartedAt"),
            finished_at: time("FinishedAt"),
            health: s("Health").filter(|h| **h != J::Null).cloned(),
        }
    }

    pub fn restart_count(&self) -> i64 {
        self.config.get("RestartCount").and_then(J::as_int).unwrap_or(0)
    }

    /// `Config.Labels`, sorted (a Go map).
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.config
            .at(&["Config", "Labels"])
            .map(|l| {
                l.members()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `MountPoints`, in destination order (the file's, a Go map written sorted).
    pub fn mount_points(&self) -> &[(String, J)] {
        self.config.get("MountPoints").map(J::members).unwrap_or_default()
    }

    /// The networks the container is attached to, in name order.
    pub fn networks(&self) -> Vec<&str> {
        self.config
            .at(&["NetworkSettings", "Networks"])
            .map(|n| n.members().iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default()
    }

    pub fn restart_policy(&self) -> String {
        let hc = self.hostconfig.as_ref();
        let name = hc
            .and_then(|h| h.at(&["RestartPolicy", "Name"]))
            .and_then(J::as_str)
            .unwrap_or_default();
        let max = hc
            .and_then(|h| h.at(&["RestartPolicy", "MaximumRetryCount"]))
            .and_then(J::as_int)
            .unwrap_or(0);
        match name {
            "" => "no".into(),
            "on-failure" if max > 0 => format!("on-failure:{max}"),
            n => n.to_string(),
        }
    }
}

/// Go's zero `time.Time` as RFC 3339.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A container's state as `config.v2.json` has it.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub oom_killed: bool,
    pub dead: bool,
    /// A `docker rm` the node stopped in the middle of (dockerd checkpoints it).
    pub removal_in_progress: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    pub health: Option<J>,
}

fn is_zero(t: &str) -> bool {
    t.is_empty() || t.starts_with("0001-01-01T00:00:00")
}

impl State {
    /// moby's `StateString`: the word `docker ps` filters on and inspect's `State.Status`.
    pub fn status_word(&self) -> &'static str {
        if self.running {
            if self.paused {
                return "paused";
            }
            if self.restarting {
                return "restarting";
            }
            return "running";
        }
        if self.removal_in_progress {
            return "removing";
        }
        if self.dead {
            return "dead";
        }
        if is_zero(&self.started_at) {
            return "created";
        }
        "exited"
    }

    /// moby's `State.String()` (`docker ps` STATUS), with the ages it prints relative to the
    /// examiner's clock replaced by the recorded times: `Up since T (at seizure)`,
    /// `Exited (137) at T`, `Restarting (3) at T`, `Created`.
    pub fn status_line(&self) -> String {
        let at = |t: &str| super::short_time(t);
        if self.running {
            if self.paused {
                return format!("Up since {} (Paused, at seizure)", at(&self.started_at));
            }
            if self.restarting {
                return format!("Restarting ({}) at {}", self.exit_code, at(&self.finished_at));
            }
            // moby's `Health.String()`: the status, `health: starting` while it starts.
            if let Some(status) = self.health.as_ref().and_then(|h| h.get("Status")).and_then(J::as_str) {
                let health = if status == "starting" {
                    "health: starting".to_string()
                } else {
                    status.to_string()
                };
                return format!("Up since {} ({health}, at seizure)", at(&self.started_at));
            }
            return format!("Up since {} (at seizure)", at(&self.started_at));
        }
        if self.removal_in_progress {
            return "Removal In Progress".into();
        }
        if self.dead {
            return "Dead".into();
        }
        if is_zero(&self.started_at) {
            return "Created".into();
        }
        if is_zero(&self.finished_at) {
            return String::new();
        }
        format!("Exited ({}) at {}", self.exit_code, at(&self.finished_at))
    }
}

/// The API's `Command` of a container (moby's list): the path, then each argument, those with
/// a space in single quotes.
pub fn command(path: &str, args: &[&str]) -> String {
    if args.is_empty() {
        return path.to_string();
    }
    let quoted: Vec<String> = args
        .iter()
        .map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.to_string()
            }
        })
        .collect();
    format!("{path} {}", quoted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_quotes_arguments_with_spaces() {
        assert_eq!(command("sh", &["-c", "echo a; exit 3"]), "sh -c 'echo a; exit 3'");
        assert_eq!(command("/bin/x", &[]), "/bin/x");
    }

    /// An int field takes what Go's `int` takes (Go 1.19.8's json.Unmarshal: `2.0`, `2e0` and
    /// `-0.0` refused, `-0` taken as 0, 2^63 refused); what it refuses is named with its value.
    #[test]
    fn integer_fields_refuse_what_go_refuses() {
        let config = |restarts: &str| {
            let text = format!(r#"{{"ID":"c1","RestartCount":{restarts},"State":{{"Pid":{restarts}}}}}"#);
            decode_config(
                Path::new("/d/config.v2.json"),
                "c1",
                &gojson::parse(text.as_bytes()).unwrap(),
            )
            .wrong
        };
        for taken in ["2", "-0", "-9223372036854775808"] {
            assert_eq!(config(taken), Vec::<String>::new(), "{taken}");
        }
        for (refused, shown) in [
            ("2.0", "2 (written with a fraction or an exponent)"),
            ("2e0", "2 (written with a fraction or an exponent)"),
            // serde_json reads it as it reads `-0`; Go refuses it (go 1.19.8).
            ("-0.0", "-0 (written with a fraction or an exponent)"),
            ("9223372036854775808", "9223372036854775808"),
        ] {
            assert_eq!(
                config(refused),
                [
                    format!(
                        "/d/config.v2.json: RestartCount is {shown}, not an integer; dockerd does not load such a file"
                    ),
                    format!(
                        "/d/config.v2.json: State.Pid is {shown}, not an integer; dockerd does not load such a file"
                    ),
                ],
                "{refused}"
            );
        }
    }

    /// A container directory's files as the store reader reads them: the container, and
    /// the damage said.
    fn read(config: &str, hostconfig: Option<&str>) -> (DockerContainer, Vec<String>) {
        let mut problems = StoreProblems::default();
        let c = container_from_bytes(
            Path::new("/d"),
            "c1",
            config.as_bytes(),
            hostconfig.map(str::as_bytes),
            &mut problems,
        )
        .unwrap();
        assert!(problems.unreadable.is_empty());
        (c, problems.damaged)
    }

    fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
        v.sort();
        v
    }

    // The expectations of the tests below were checked with Go 1.19.8's encoding/json: a
    // program (under /tmp, not kept) with Go structs mirroring moby v28.5.1's
    // container.Container, State, Config, network.Settings and EndpointSettings (the API's
    // embedded), mounts.MountPoint and HostConfig's RestartPolicy, in their field order and
    // with their tags, json.Unmarshal of each document into a Container holding
    // NewBaseContainer's State and MountPoints (a HostConfig for hostconfig.json), then
    // json.Marshal of what it held and the error it returned (Go returns the first refusal
    // only; the others were checked one document each).

    /// A key names a field whatever its case (and 'ſ' is an 's', the Kelvin sign a 'k'), at
    /// any depth.
    #[test]
    fn keys_name_fields_without_regard_to_case() {
        let (c, damaged) = read(
            r#"{"ID":"c1","name":"/x","STATE":{"running":true,"PID":7,"exitcode":3,"Error":"e","startedat":"2024-01-02T03:04:05.5Z"},"config":{"image":"busybox","LABELS":{"a":"1"}},"restartcount":2,"created":"2024-01-01T00:00:00Z"}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        assert_eq!(c.name(), "x");
        assert_eq!(c.created(), "2024-01-01T00:00:00Z");
        assert_eq!(c.image_ref(), "busybox");
        assert_eq!(c.restart_count(), 2);
        assert_eq!(c.labels().into_iter().collect::<Vec<_>>(), [("a".into(), "1".into())]);
        let s = c.state();
        assert!(s.running);
        assert_eq!((s.pid, s.exit_code, s.error.as_str()), (7, 3, "e"));
        assert_eq!(s.started_at, "2024-01-02T03:04:05.5Z");
        assert_eq!(s.finished_at, ZERO_TIME);
        assert_eq!(s.status_word(), "running");

        let (c, damaged) = read(
            r#"{"ID":"c1","\u017ftate":{"Running":true},"NetworkSettings":{"Sandbox\u212aey":"/k"}}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        assert!(c.state().running);
        assert_eq!(c.config.at(&["NetworkSettings", "SandboxKey"]), Some(&J::str("/k")));
    }

    /// A repeated struct key (in any case) decodes into the struct already there: the
    /// later object's fields are added to the earlier's; a repeated string is the last.
    #[test]
    fn a_repeated_struct_key_adds_to_the_struct() {
        let (c, damaged) = read(
            r#"{"ID":"c1","State":{"Running":true,"Pid":7},"State":{"Pid":9},"state":{"ExitCode":1},"Name":"/a","NAME":"/b","Config":{"Image":"a","Labels":{"x":"1"}},"CONFIG":{"Labels":{"y":"2"}}}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        let s = c.state();
        assert!(s.running);
        assert_eq!((s.pid, s.exit_code), (9, 1));
        assert_eq!(c.name(), "b");
        assert_eq!(c.image_ref(), "a");
        assert_eq!(
            c.labels().into_iter().collect::<Vec<_>>(),
            [("x".into(), "1".into()), ("y".into(), "2".into())]
        );
        // Written once each, under moby's names, as dockerd would write the file again.
        assert_eq!(
            c.config.get("State").map(|s| s.to_compact(false)).as_deref(),
            Some(r#"{"Running":true,"Pid":9,"ExitCode":1}"#)
        );
    }

    /// A lower-case key inside State is still State's field (it made State a map, and its
    /// flags unread, when structs were told from maps by the case of their keys); a key no
    /// field takes is dropped.
    #[test]
    fn a_lower_case_key_in_state_is_a_field() {
        let (c, damaged) = read(
            r#"{"ID":"c1","State":{"Running":true,"Pid":5,"status":"exited","dead":true},"State":{"paused":true}}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        let s = c.state();
        assert!(s.running && s.paused && s.dead && !s.restarting);
        assert_eq!(s.pid, 5);
        assert_eq!(s.status_word(), "paused");
        assert_eq!(c.config.at(&["State", "status"]), None);
    }

    /// Maps (Labels, MountPoints, Networks) keep their keys as they are, whatever they look
    /// like; the structs in them take keys in any case; a key repeated within one map is the
    /// last value.
    #[test]
    fn map_keys_stay_as_they_are() {
        let (c, damaged) = read(
            r#"{"ID":"c1","Config":{"Labels":{"image":"x","Image":"y","labels":"z","a":"1","a":"2"}},"MountPoints":{"/data":{"source":"/s","destination":"/data","rw":true,"name":"v","driver":"local","type":"volume","relabel":"z"},"/Data":{"Source":"/t"}},"NetworkSettings":{"networks":{"bridge":{"ipaddress":"172.17.0.2"},"Bridge":{"IPAddress":"10.0.0.2"}}}}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        assert_eq!(
            c.labels().into_iter().collect::<Vec<_>>(),
            [
                ("Image".into(), "y".into()),
                ("a".into(), "2".into()),
                ("image".into(), "x".into()),
                ("labels".into(), "z".into())
            ]
        );
        let mounts = c.mount_points();
        assert_eq!(
            sorted(mounts.iter().map(|(k, _)| k.as_str()).collect()),
            ["/Data", "/data"]
        );
        let data = &mounts.iter().find(|(k, _)| k == "/data").unwrap().1;
        assert_eq!(
            data.to_compact(false),
            r#"{"Source":"/s","Destination":"/data","RW":true,"Name":"v","Driver":"local","Type":"volume","Relabel":"z"}"#
        );
        assert_eq!(sorted(c.networks()), ["Bridge", "bridge"]);
        let ip = |n: &str| c.config.at(&["NetworkSettings", "Networks", n, "IPAddress"]).cloned();
        assert_eq!(ip("bridge"), Some(J::str("172.17.0.2")));
        assert_eq!(ip("Bridge"), Some(J::str("10.0.0.2")));
    }

    /// `null` sets a pointer (State) or a map to nil and leaves a string as it was.
    #[test]
    fn null_is_nil_for_pointers_and_maps_only() {
        let (c, damaged) = read(
            r#"{"ID":"c1","State":{"Running":true,"Pid":3},"State":null,"Name":"/n","Name":null,"Config":{"Labels":{"a":"1"}},"Config":{"Labels":null}}"#,
            None,
        );
        assert_eq!(damaged, Vec::<String>::new());
        let s = c.state();
        assert!(!s.running);
        assert_eq!(s.pid, 0);
        assert_eq!(c.name(), "n");
        assert!(c.labels().is_empty());
    }

    /// Every value Go refuses for its field is said (Go carries on past each, leaving the
    /// field as it was, and returns the first: "json: cannot unmarshal number into Go struct
    /// field Container.Name of type string"); the rest is read as Go reads it.
    #[test]
    fn refused_values_are_each_said_and_the_rest_read() {
        let (c, damaged) = read(
            r#"{"ID":"c1","Name":5,"State":{"Pid":"x","Running":true},"Args":["a",1,"b"],"RestartCount":2.0}"#,
            None,
        );
        let said = |what: &str| format!("/d/config.v2.json: {what}; dockerd does not load such a file");
        assert_eq!(
            damaged,
            [
                said("Name is 5, not a string"),
                said(r#"State.Pid is "x", not an integer"#),
                said(r#"Args is ["a",1,"b"], not a list of strings"#),
                said("RestartCount is 2 (written with a fraction or an exponent), not an integer"),
            ]
        );
        assert_eq!(c.name(), "");
        assert!(c.state().running);
        assert_eq!(c.state().pid, 0);
        assert_eq!(c.args(), ["a", "", "b"]);
        assert_eq!(c.restart_count(), 0);

        // Inside a map's values: Go names the struct fields, not the keys
        // ("Go struct field MountPoint.MountPoints.RW of type bool").
        let (c, damaged) = read(
            r#"{"ID":"c1","MountPoints":{"/d":{"RW":"yes","Source":"/s"}},"NetworkSettings":{"Networks":{"n":{"IPPrefixLen":1.5}}},"Config":{"Labels":{"a":1,"b":"x"}}}"#,
            None,
        );
        assert_eq!(
            damaged,
            [
                said(r#"MountPoints.RW is "yes", not true or false"#),
                said("NetworkSettings.Networks.IPPrefixLen is 1.5, not an integer"),
                said(r#"Config.Labels is {"a":1,"b":"x"}, not an object of strings"#),
            ]
        );
        assert_eq!(
            c.mount_points().first().map(|(k, m)| (k.as_str(), m.to_compact(false))),
            Some(("/d", r#"{"Source":"/s"}"#.to_string()))
        );
        assert_eq!(sorted(c.networks()), ["n"]);
        assert_eq!(
            c.labels().into_iter().collect::<Vec<_>>(),
            [("a".into(), "".into()), ("b".into(), "x".into())]
        );
    }

    /// A time written with a JSON escape is refused, as `time.Time`'s `UnmarshalJSON` refuses
    /// it: it parses the string's raw bytes (Go 1.20 on `parseStrictRFC3339(data)`, read in Go
    /// 1.24's src/time/time.go; Go 1.19's `Parse` of the same bytes), never unescaped, and
    /// its error stops the decoder. coldctr took the unescaped value. Go 1.19.8, decoding
    /// `{"ID":"a","State":{"StartedAt":"2024-01-01T00:00:00\u005a","Pid":7},"Name":"/n"}`
    /// with `json.NewDecoder(r).Decode` (/tmp/fixT-go/moby): `parsing time
    /// "\"2024-01-01T00:00:00\\u005a\"" as ...`, ID "a", StartedAt zero, Pid 0, Name "" (nothing
    /// after it decoded); the same for `\u0032024-...`, `...Z\u0020` and `\/`.
    #[test]
    fn a_time_written_with_an_escape_is_refused() {
        for time in [
            r#"2024-01-01T00:00:00\u005a"#,
            r#"\u0032024-01-01T00:00:00Z"#,
            r#"2024-01-01T00:00:00Z\u0020"#,
            r#"2024-01-01T00:00:00\/Z"#,
        ] {
            let doc = format!(r#"{{"ID":"c1","State":{{"StartedAt":"{time}","Pid":7}},"Name":"/n"}}"#);
            let (c, damaged) = read(&doc, None);
            let written = format!(r#""{time}""#);
            assert_eq!(
                damaged,
                [format!(
                    "/d/config.v2.json: State.StartedAt is {}, not an RFC 3339 time; dockerd does not load such a file, and reads nothing after it",
                    J::Raw(written).shown_in_message()
                )]
            );
            let s = c.state();
            assert_eq!((s.started_at.as_str(), s.pid), ("0001-01-01T00:00:00Z", 0));
            assert_eq!(c.name(), "");
        }
        // Without the escape it is a time; an escape elsewhere is no matter.
        let (c, damaged) = read(
            r#"{"ID":"c1","State":{"StartedAt":"2024-01-01T00:00:00Z","Pid":7},"Name":"/\u006e"}"#,
            None,
        );
        assert!(damaged.is_empty(), "{damaged:?}");
        assert_eq!(
            (c.state().started_at.as_str(), c.state().pid),
            ("2024-01-01T00:00:00Z", 7)
        );
        assert_eq!(c.name(), "n");
    }

    /// dockerd reads config.v2.json and hostconfig.json with `json.NewDecoder(f).Decode`
    /// (moby's `Container.FromDisk` and `readHostConfig`, daemon/container/container.go):
    /// the first JSON value, and nothing after it. coldctr refused the file ("trailing
    /// characters"). Go 1.19.8 on `{"ID":"a","Name":"/n"}` followed by ` trailing garbage
    /// {{{`, `{"ID":"b"}`, `\xff\xfe`, `]` or blank lines: no error, ID "a", Name "/n"
    /// (`json.Unmarshal` would refuse all but the last: "invalid character 't' after
    /// top-level value").
    #[test]
    fn what_follows_the_json_object_is_never_read() {
        let hostconfig = r#"{"RestartPolicy":{"Name":"always"}}"#;
        for tail in [" trailing garbage {{{", r#"{"ID":"b"}"#, "\u{fffd}", "]", "\n\n"] {
            let (c, damaged) = read(
                &format!(r#"{{"ID":"c1","Name":"/n"}}{tail}"#),
                Some(&format!("{hostconfig}{tail}")),
            );
            assert!(damaged.is_empty(), "{tail:?}: {damaged:?}");
            assert_eq!((c.id.as_str(), c.name()), ("c1", "n"));
            assert_eq!(c.restart_policy(), "always");
        }
        // Bytes that are not UTF-8 after it, as the file may hold them.
        let mut problems = StoreProblems::default();
        let mut config = br#"{"ID":"c1","Name":"/n"}"#.to_vec();
        config.extend_from_slice(b"\xff\xfe");
        let c = container_from_bytes(Path::new("/d"), "c1", &config, None, &mut problems).unwrap();
        assert!(problems.damaged.is_empty(), "{:?}", problems.damaged);
        assert_eq!(c.name(), "n");
        // What is wrong inside the object is still wrong.
        let mut problems = StoreProblems::default();
        let bad = br#"{"ID":"c1","Name":"/n" x} {}"#;
        assert!(container_from_bytes(Path::new("/d"), "c1", bad, None, &mut problems).is_none());
        assert!(
            problems
                .damaged
                .iter()
                .any(|d| d.starts_with("/d/config.v2.json: not JSON")),
            "{:?}",
            problems.damaged
        );
        // A layer command names the container from the same file alike.
        let named =
            crate::overlay::target::NameAndDriver::read(b"{\"Name\":\"/n\",\"Driver\":\"overlay2\"} trailing").unwrap();
        assert_eq!(
            (named.name.as_deref(), named.driver.as_deref()),
            (Some("/n"), Some("overlay2"))
        );
    }

    /// hostconfig.json's RestartPolicy as Go's decoder leaves it: keys in any case, repeats
    /// added to the struct, and `MaximumRetryCount` a Go `int`, which refuses `3.0` ("json:
    /// cannot unmarshal number 3.0 into Go struct field RestartPolicy.RestartPolicy.
    /// MaximumRetryCount of type int") and leaves the count as it was.
    #[test]
    fn hostconfig_restart_policy_as_go_decodes_it() {
        const CONFIG: &str = r#"{"ID":"c1"}"#;
        let said = |what: &str| format!("/d/hostconfig.json: {what}; dockerd does not load such a file");
        for (hostconfig, policy, damaged) in [
            (
                r#"{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3.0}}"#,
                "on-failure",
                vec![said(
                    "RestartPolicy.MaximumRetryCount is 3 (written with a fraction or an exponent), not an integer",
                )],
            ),
            (
                r#"{"restartpolicy":{"name":"on-failure","maximumretrycount":5},"RESTARTPOLICY":{"Name":"on-failure"}}"#,
                "on-failure:5",
                vec![],
            ),
            (
                r#"{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":4},"RestartPolicy":{"MaximumRetryCount":"7"}}"#,
                "on-failure:4",
                vec![said(r#"RestartPolicy.MaximumRetryCount is "7", not an integer"#)],
            ),
        ] {
            let (c, said) = read(CONFIG, Some(hostconfig));
            assert_eq!(c.restart_policy(), policy, "{hostconfig}");
            assert_eq!(said, damaged, "{hostconfig}");
        }
    }

    #[test]
    fn status_words_follow_moby() {
        let mut s = State {
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            ..State::default()
        };
        assert_eq!(s.status_word(), "created");
        s.started_at = "2026-11-29T18:52:00.1Z".into();
        s.finished_at = "2026-11-29T18:52:01.9Z".into();
        s.exit_code = 137;
        assert_eq!(s.status_word(), "exited");
        assert_eq!(s.status_line(), "Exited (137) at 2026-11-29T18:52:01Z");
        s.running = true;
        assert_eq!(s.status_word(), "running");
        s.restarting = true;
        assert_eq!(s.status_word(), "restarting");
        s.paused = true;
        assert_eq!(s.status_word(), "paused");
    }

    /// moby's `State.String()` and `StateString()`: a running container's health in its
    /// status (`Up ... (unhealthy)`, `(health: starting)`), and a `docker rm` the node stopped
    /// in the middle of as `removing` / `Removal In Progress`, ahead of Dead.
    #[test]
    fn health_and_an_interrupted_removal_are_in_the_status() {
        let (c, _) = read(
            r#"{"ID":"c1","State":{"Running":true,"StartedAt":"2026-11-29T18:52:01Z","Health":{"Status":"unhealthy","FailingStreak":3,"Log":[]}}}"#,
            None,
        );
        let s = c.state();
        assert_eq!(s.status_word(), "running");
        assert_eq!(s.status_line(), "Up since 2026-11-29T18:52:01Z (unhealthy, at seizure)");
        let (c, _) = read(
            r#"{"ID":"c1","State":{"Running":true,"StartedAt":"2026-11-29T18:52:01Z","Health":{"Status":"starting"}}}"#,
            None,
        );
        assert_eq!(
            c.state().status_line(),
            "Up since 2026-11-29T18:52:01Z (health: starting, at seizure)"
        );
        let (c, _) = read(
            r#"{"ID":"c1","State":{"Running":false,"Dead":true,"RemovalInProgress":true,"StartedAt":"2026-11-29T18:52:01Z"}}"#,
            None,
        );
        let s = c.state();
        assert_eq!(s.status_word(), "removing");
        assert_eq!(s.status_line(), "Removal In Progress");
    }

    #[test]
    fn finds_the_docker_root_beside_or_around_containerd() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("var/lib");
        std::fs::create_dir_all(lib.join("containerd")).unwrap();
        assert!(matches!(locate(&lib.join("containerd"), None), DockerRoot::Absent));
        std::fs::create_dir_all(lib.join("docker/containers")).unwrap();
        assert_eq!(
            locate(&lib.join("containerd"), None).path(),
            Some(lib.join("docker").as_path())
        );
        std::fs::create_dir_all(lib.join("docker/containerd/daemon")).unwrap();
        assert_eq!(
            locate(&lib.join("docker/containerd/daemon"), None).path(),
            Some(lib.join("docker").as_path())
        );
        assert_eq!(
            locate(&lib.join("containerd"), Some(Path::new("/x"))).path(),
            Some(Path::new("/x"))
        );
        // The data root itself given, and a disk's mount point.
        assert_eq!(
            locate(&lib.join("docker"), None).path(),
            Some(lib.join("docker").as_path())
        );
        assert_eq!(locate(dir.path(), None).path(), Some(lib.join("docker").as_path()));
    }

    #[test]
    fn a_docker_dir_beside_a_copy_is_no_guess() {
        // Sweep 34.1: `--root seized` (a copied Docker data root) read `../docker`, another
        // store, as its own.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docker/containers")).unwrap();
        std::fs::create_dir_all(dir.path().join("seized/containers")).unwrap();
        std::fs::create_dir_all(dir.path().join("copy")).unwrap();
        assert_eq!(
            locate(&dir.path().join("seized"), None).path(),
            Some(dir.path().join("seized").as_path())
        );
        assert!(matches!(locate(&dir.path().join("copy"), None), DockerRoot::Absent));
        assert!(matches!(
            locate(&dir.path().join("copy/io.containerd.metadata.v1.bolt/meta.db"), None),
            DockerRoot::Absent
        ));
    }

    #[test]
    fn a_linked_docker_root_or_containers_dir_is_named_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("var/lib");
        std::fs::create_dir_all(lib.join("containerd")).unwrap();
        std::fs::create_dir_all(dir.path().join("moved/containers")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("moved"), lib.join("docker")).unwrap();
        let found = locate(&lib.join("containerd"), None);
        assert!(
            matches!(&found, DockerRoot::Link(p) if *p == lib.join("docker")),
            "{found:?}"
        );
        assert_eq!(found.path(), None);
        assert!(
            found
                .refusal()
                .unwrap()
                .ends_with("/var/lib/docker: a symlink, not followed (name the Docker root with --docker-root)")
        );
        // containers/ linked: the root is found, and read_store names the link.
        std::fs::remove_file(lib.join("docker")).unwrap();
        std::fs::create_dir_all(lib.join("docker")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("moved/containers"), lib.join("docker/containers")).unwrap();
        let found = locate(&lib.join("containerd"), None);
        assert_eq!(found.path(), Some(lib.join("docker").as_path()));
        let mut problems = StoreProblems::default();
        let mut memory = files::MemoryBudget::new(files::CONTAINERS_MEMORY);
        assert!(read_store(found.path().unwrap(), &mut memory, &mut problems).is_empty());
        assert_eq!(problems.damaged.len(), 1, "{:?}", problems.damaged);
        assert!(problems.damaged[0].ends_with("/docker/containers: a symlink, not followed"));
    }
}
