//! The snapshot chains of a root: every snapshotter's own records (metadata.db), joined to the
//! namespaced records of meta.db that name them, with the directory each one has on disk.
//!
//! ```text
//! meta.db                 v1/<ns>/snapshots/<snapshotter>/<key>/{name = <backend key>, parent = <key>}
//! <snapshotter>/metadata.db  v1/snapshots/<backend key>/{id, kind, parent = <backend key>, size, inodes}
//!                         backend key = "<ns>/<n>/<key>" (n: meta.db's sequence, not the id)
//! on disk                 <root>/io.containerd.snapshotter.v1.<snapshotter>/snapshots/<id>/fs  (overlayfs)
//!                         <root>/io.containerd.snapshotter.v1.<snapshotter>/snapshots/<id>     (native:
//!                         a full copy of the tree, none for a view of a parent; never stacked)
//! ```
//!
//! A chain follows the backend's parent links (what the snapshotter mounts), each step checked
//! against the snapshots already met, so a parent loop in a damaged file ends the chain.

use crate::bolt::{MetaChoice, ReadMode, Tx};
use crate::containerd::records::{self, Damage};
use crate::containerd::root::Root;
use foldhash::{HashMap, HashSet};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directory prefix of a snapshotter's state under the root.
pub const SNAPSHOTTER_PREFIX: &str = "io.containerd.snapshotter.v1.";

/// A name meta.db gives a backend snapshot in one namespace.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name {
    pub namespace: String,
    pub key: String,
}

/// One snapshot as its snapshotter records it, with its meta.db names.
#[derive(Clone, Debug, Serialize)]
pub struct Snap {
    pub snapshotter: String,
    /// The key in the snapshotter's metadata.db (`<ns>/<n>/<key>`).
    #[serde(rename = "backendKey")]
    pub backend_key: String,
    /// The number of its directory under `snapshots/`.
    pub id: Option<u64>,
    pub kind: String,
    #[serde(rename = "backendParent")]
    pub backend_parent: Option<String>,
    /// Disk usage recorded at commit (committed snapshots only).
    pub size: Option<i64>,
    pub inodes: Option<i64>,
    #[serde(rename = "createdAt")]
    pub created_at: Option<String>,
    /// The meta.db records that name it (usually one; none for an orphan of the snapshotter).
    pub names: Vec<Name>,
    /// The snapshotter's labels of it (`containerd.io/snapshot/uidmapping`, ...).
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
}

impl Snap {
    /// The key to show: the meta.db key of its first name, else the backend key.
    pub fn key(&self) -> &str {
        self.names.first().map_or(self.backend_key.as_str(), |n| n.key.as_str())
    }
}

/// A meta.db snapshot record that names no backend snapshot the index holds: its
/// snapshotter's metadata.db has no record under its backend name (or was not read, or met
/// damage: [`Index::snapshotters`], [`Index::incomplete`] tell which), or the record names
/// none. `snapshots` lists it (KIND `no-backend-record`); the layer commands say why they
/// cannot read it.
#[derive(Clone, Debug)]
pub struct Unbacked {
    pub namespace: String,
    pub snapshotter: String,
    pub key: String,
    /// The backend key meta.db names (`name`), if the record has one.
    pub backend_name: Option<String>,
}

/// Every snapshot of every snapshotter in a root.
pub struct Index {
    pub root_dir: PathBuf,
    pub snaps: Vec<Snap>,
    by_backend: HashMap<(String, String), usize>,
    by_name: HashMap<(String, String, String), usize>,
    /// Snapshots by directory number: one each, unless the file is damaged (a shared id,
    /// reported when loaded).
    by_id: HashMap<(String, u64), Vec<usize>>,
    /// Snapshotters whose metadata.db was read.
    pub snapshotters: Vec<String>,
    /// Those of them whose records met damage: a key missing there proves no absence.
    pub incomplete: Vec<String>,
    /// meta.db's records that name no snapshot here.
    pub unbacked: Vec<Unbacked>,
    /// Those records by (namespace, snapshotter, key): looked up once per container by
    /// `ps --size`, where a metadata.db not read leaves every record here.
    unbacked_by: HashMap<(String, String, String), usize>,
    /// The snapshots no meta.db record names, by the (namespace, key) of their backend key.
    unnamed_by_key: HashMap<(String, String), Vec<usize>>,
    /// meta.db's snapshot records met damage: a key missing there proves no absence.
    pub meta_incomplete: bool,
}

/// Snapshotter names: those meta.db names plus those with a state directory in the root.
fn snapshotter_names(root: &Root, meta: &[records::Snapshot]) -> Vec<String> {
    let mut names: std::collections::BTreeSet<String> = meta.iter().map(|s| s.snapshotter.clone()).collect();
    if let Ok(entries) = crate::noatime::read_dir(&root.dir) {
        for e in entries.flatten() {
            let n = e.file_name();
            // A symlink too: not followed, but named when its metadata.db is looked for.
            if let Some(name) = n.to_str().and_then(|s| s.strip_prefix(SNAPSHOTTER_PREFIX))
                && e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink())
            {
                names.insert(name.to_string());
            }
        }
    }
    names.into_iter().collect()
}

impl Index {
    /// Reads meta.db's snapshot records (every namespace) and each snapshotter's metadata.db.
    pub fn load(root: &Root, tx: &Tx<'_>, mode: ReadMode, damage: &mut Damage) -> Index {
        let mut meta = Vec::new();
        let before = damage.len();
        for (ns, b) in records::namespace_buckets(tx, damage) {
            meta.extend(records::snapshots_in(&ns, &b, damage));
        }
        let meta_incomplete = damage.len() > before;
        let mut index = Index {
            root_dir: root.dir.clone(),
            snaps: Vec::new(),
            by_backend: HashMap::default(),
            by_name: HashMap::default(),
            by_id: HashMap::default(),
            snapshotters: Vec::new(),
            incomplete: Vec::new(),
            unbacked: Vec::new(),
            unbacked_by: HashMap::default(),
            unnamed_by_key: HashMap::default(),
            meta_incomplete,
        };
        for sn in snapshotter_names(root, &meta) {
            let Some(db) = root.snapshotter_db(&sn, mode) else {
                continue;
            };
            let db = match db {
                Ok(db) => db,
                Err(e) => {
                    damage.push(e);
                    continue;
                }
            };
            let tx = match db.view(MetaChoice::Current) {
                Ok(tx) => tx,
                Err(e) => {
                    damage.push(e);
                    continue;
                }
            };
            index.snapshotters.push(sn.clone());
            let before = damage.len();
            let backend = records::checked_backend_snapshots(&tx, &sn, damage);
            if damage.len() > before {
                index.incomplete.push(sn.clone());
            }
            for b in backend {
                let i = index.snaps.len();
                index.by_backend.insert((sn.clone(), b.key.clone()), i);
                if let Some(id) = b.id {
                    index.by_id.entry((sn.clone(), id)).or_default().push(i);
                }
                index.snaps.push(Snap {
                    snapshotter: sn.clone(),
                    backend_key: b.key,
                    id: b.id,
                    kind: b.kind,
                    backend_parent: b.parent.filter(|p| !p.is_empty()),
                    size: b.size,
                    inodes: b.inodes,
                    created_at: b.created_at,
                    names: Vec::new(),
                    labels: b.labels,
                });
            }
        }
        for m in meta {
            let found = m
                .backend_name
                .as_ref()
                .and_then(|backend| index.by_backend.get(&(m.snapshotter.clone(), backend.clone())))
                .copied();
            let Some(i) = found else {
                index.unbacked_by.insert(
                    (m.namespace.clone(), m.snapshotter.clone(), m.key.clone()),
                    index.unbacked.len(),
                );
                index.unbacked.push(Unbacked {
                    namespace: m.namespace,
                    snapshotter: m.snapshotter,
                    key: m.key,
                    backend_name: m.backend_name,
                });
                continue;
            };
            if let Some(s) = index.snaps.get_mut(i) {
                s.names.push(Name {
                    namespace: m.namespace.clone(),
                    key: m.key.clone(),
                });
            }
            index.by_name.insert((m.namespace, m.snapshotter, m.key), i);
        }
        for s in &mut index.snaps {
            s.names.sort();
        }
        index.index_unnamed();
        index
    }

    /// Fills [`Index::unnamed_by_key`] from the snapshots no meta.db record names.
    fn index_unnamed(&mut self) {
        for (i, s) in self.snaps.iter().enumerate() {
            if !s.names.is_empty() {
                continue;
            }
            // `<ns>/<n>/<key>`: containerd's backend key (metadata/snapshot.go `createKey`).
            let mut parts = s.backend_key.splitn(3, '/');
            if let (Some(ns), Some(n), Some(key)) = (parts.next(), parts.next(), parts.next())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
            {
                self.unnamed_by_key
                    .entry((ns.to_string(), key.to_string()))
                    .or_default()
                    .push(i);
            }
        }
    }

    /// The snapshots no meta.db record names whose backend key is `<namespace>/<n>/<key>`
    /// (any namespace when none is given): what a meta.db record of `key` would have named,
    /// for a user who names it by a key meta.db no longer has.
    pub fn unnamed_keyed(&self, namespace: Option<&str>, key: &str) -> Vec<usize> {
        let mut out: Vec<usize> = match namespace {
            Some(ns) => self
                .unnamed_by_key
                .get(&(ns.to_string(), key.to_string()))
                .cloned()
                .unwrap_or_default(),
            None => self
                .unnamed_by_key
                .iter()
                .filter(|((_, k), _)| k == key)
                .flat_map(|(_, v)| v.iter().copied())
                .collect(),
        };
        out.sort_unstable();
        out
    }

    pub fn get(&self, i: usize) -> Option<&Snap> {
        self.snaps.get(i)
    }

    /// The snapshot meta.db names `key` in `namespace` for `snapshotter`.
    pub fn by_name(&self, namespace: &str, snapshotter: &str, key: &str) -> Option<usize> {
        self.by_name
            .get(&(namespace.to_string(), snapshotter.to_string(), key.to_string()))
            .copied()
    }

    /// Every snapshot named `key` in some namespace (or the one given), any snapshotter.
    pub fn named(&self, namespace: Option<&str>, key: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .by_name
            .iter()
            .filter(|((ns, _, k), _)| k == key && namespace.is_none_or(|n| n == ns))
            .map(|(_, &i)| i)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// meta.db's records named `key` (in `namespace` when given) that name no snapshot here.
    pub fn unbacked_named(&self, namespace: Option<&str>, key: &str) -> Vec<&Unbacked> {
        self.unbacked
            .iter()
            .filter(|u| u.key == key && namespace.is_none_or(|n| n == u.namespace))
            .collect()
    }

    /// meta.db's record of `key` in `namespace` for `snapshotter`, when it names no snapshot
    /// here.
    pub fn unbacked(&self, namespace: &str, snapshotter: &str, key: &str) -> Option<&Unbacked> {
        let at = self
            .unbacked_by
            .get(&(namespace.to_string(), snapshotter.to_string(), key.to_string()))?;
        self.unbacked.get(*at)
    }

    /// The snapshots whose key in their snapshotter's metadata.db is `backend_key`
    /// (`<ns>/<n>/<key>`, as `snapshots tree` and `gc` print a snapshot no meta.db record
    /// names), one per snapshotter that has it; with `namespace`, only a key of that
    /// namespace (its first element).
    pub fn by_backend_key(&self, namespace: Option<&str>, backend_key: &str) -> Vec<usize> {
        if namespace.is_some_and(|n| backend_key.split('/').next() != Some(n)) {
            return Vec::new();
        }
        let mut out: Vec<usize> = self
            .snapshotters
            .iter()
            .filter_map(|sn| self.by_backend.get(&(sn.clone(), backend_key.to_string())).copied())
            .collect();
        out.sort_unstable();
        out
    }

    /// The snapshots whose directory number is `id`: one, or none; several only in a damaged
    /// metadata.db, where the directory is at most one of theirs and nothing says which.
    pub fn by_id(&self, snapshotter: &str, id: u64) -> &[usize] {
        self.by_id
            .get(&(snapshotter.to_string(), id))
            .map_or(&[], Vec::as_slice)
    }

    /// The parent of snapshot `i` (the backend's link).
    pub fn parent(&self, i: usize) -> Option<usize> {
        let s = self.snaps.get(i)?;
        let p = s.backend_parent.as_ref()?;
        self.by_backend.get(&(s.snapshotter.clone(), p.clone())).copied()
    }

    /// `i` and its parents down to the base. `Err` carries the chain so far and why it stops
    /// early: a parent the snapshotter has no record of, or a loop.
    pub fn chain(&self, i: usize) -> (Vec<usize>, Option<String>) {
        let mut out = vec![i];
        let mut seen: HashSet<usize> = std::iter::once(i).collect();
        let mut at = i;
        loop {
            let Some(s) = self.snaps.get(at) else {
                return (out, None);
            };
            let Some(p) = &s.backend_parent else {
                return (out, None);
            };
            let Some(next) = self.parent(at) else {
                return (
                    out,
                    Some(format!(
                        "{}: parent {} has no record in the snapshotter's metadata.db",
                        crate::text::one_line(&s.backend_key),
                        crate::text::one_line(p)
                    )),
                );
            };
            if !seen.insert(next) {
                return (
                    out,
                    Some(format!(
                        "{}: parent chain loops back to {}",
                        crate::text::one_line(&s.backend_key),
                        crate::text::one_line(p)
                    )),
                );
            }
            out.push(next);
            at = next;
        }
    }

    /// The state directory of a snapshotter.
    pub fn snapshotter_dir(&self, snapshotter: &str) -> PathBuf {
        self.root_dir.join(format!("{SNAPSHOTTER_PREFIX}{snapshotter}"))
    }

    /// The directory holding snapshot `i`'s files: `snapshots/<id>/fs` for overlayfs (and the
    /// snapshotters laid out like it), `snapshots/<id>` for native.
    pub fn fs_dir(&self, i: usize) -> Option<PathBuf> {
        self.fs_dir_under(i, &self.root_dir)
    }

    /// [`Index::fs_dir`] with another root in front (the path on the node, for mount lines).
    pub fn fs_dir_under(&self, i: usize, root: &Path) -> Option<PathBuf> {
        let s = self.snaps.get(i)?;
        let id = s.id?;
        let dir = root
            .join(format!("{SNAPSHOTTER_PREFIX}{}", s.snapshotter))
            .join("snapshots")
            .join(id.to_string());
        Some(if s.snapshotter == "native" { dir } else { dir.join("fs") })
    }

    /// True when snapshot `i` is the native snapshotter's: one full copy per directory,
    /// bind-mounted, never stacked.
    pub fn is_native(&self, i: usize) -> bool {
        self.snaps.get(i).is_some_and(|s| s.snapshotter == "native")
    }

    /// Whether the snapshotter made a directory for snapshot `i`. The native snapshotter
    /// (`createSnapshot`) makes one only for an active snapshot or one without a parent: a
    /// view of a parent is a read-only bind of the parent's directory. Every other
    /// snapshotter laid out in directories makes one for each snapshot.
    pub fn has_dir(&self, i: usize) -> bool {
        self.snaps
            .get(i)
            .is_some_and(|s| !(s.snapshotter == "native" && s.kind == "View" && s.backend_parent.is_some()))
    }

    /// The snapshots whose directories make the tree snapshot `chain[0]` shows when mounted,
    /// nearest first, from its chain (the snapshot, then its parents):
    ///
    /// ```text
    /// native                    its own directory; a view of a parent: the parent's
    ///                           (containerd's native mounts(): a bind, never a stack)
    /// overlay view, parents     the parents only: containerd never mounts the view's own fs
    ///                           (a read-only bind of the one parent, or lowerdir=<parents>)
    /// every other snapshot      the whole chain (committed ones as their children see them)
    /// ```
    ///
    /// Empty when the chain has not the parent the tree is (a chain cut short).
    pub fn tree_of<'c>(&self, chain: &'c [usize]) -> &'c [usize] {
        let Some(&own) = chain.first() else {
            return chain;
        };
        let Some(s) = self.snaps.get(own) else {
            return chain;
        };
        if s.snapshotter == "native" {
            let at = usize::from(!self.has_dir(own));
            return chain.get(at..=at).unwrap_or_default();
        }
        if s.kind == "View" && s.backend_parent.is_some() {
            return chain.get(1..).unwrap_or_default();
        }
        chain
    }

    /// The first directory between the root and `path` that is a symlink or not a
    /// directory ([`crate::paths::detour`]): a layer is read only through real directories,
    /// so that no link on the way (`snapshots/<id>`, `snapshots`) leads out of the root.
    pub fn detour_to(&self, path: &Path) -> Option<(PathBuf, &'static str)> {
        crate::paths::detour(&self.root_dir, path)
    }

    /// The work directory overlayfs pairs with an active snapshot's upper directory.
    pub fn work_dir_under(&self, i: usize, root: &Path) -> Option<PathBuf> {
        let s = self.snaps.get(i)?;
        Some(
            root.join(format!("{SNAPSHOTTER_PREFIX}{}", s.snapshotter))
                .join("snapshots")
                .join(s.id?.to_string())
                .join("work"),
        )
    }

    /// Children of each snapshot (backend links), for the tree.
    pub fn children(&self) -> BTreeMap<usize, Vec<usize>> {
        let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..self.snaps.len() {
            if let Some(p) = self.parent(i) {
                out.entry(p).or_default().push(i);
            }
        }
        out
    }
}

#[cfg(test)]
impl Index {
    /// An index of `snaps` alone (overlayfs, no meta.db names), for tests.
    pub(crate) fn from_snaps(root_dir: PathBuf, snaps: Vec<Snap>) -> Index {
        let mut index = Index {
            root_dir,
            snaps: Vec::new(),
            by_backend: HashMap::default(),
            by_name: HashMap::default(),
            by_id: HashMap::default(),
            snapshotters: vec!["overlayfs".into()],
            incomplete: Vec::new(),
            unbacked: Vec::new(),
            unbacked_by: HashMap::default(),
            unnamed_by_key: HashMap::default(),
            meta_incomplete: false,
        };
        for (i, s) in snaps.into_iter().enumerate() {
            index
                .by_backend
                .insert((s.snapshotter.clone(), s.backend_key.clone()), i);
            if let Some(id) = s.id {
                index.by_id.entry((s.snapshotter.clone(), id)).or_default().push(i);
            }
            index.snaps.push(s);
        }
        index.index_unnamed();
        index
    }

    /// [`Index::from_snaps`], each snapshot also found by its meta.db names.
    pub(crate) fn from_snaps_named(root_dir: PathBuf, snaps: Vec<Snap>) -> Index {
        let mut index = Index::from_snaps(root_dir, snaps);
        for (i, s) in index.snaps.iter().enumerate() {
            for n in &s.names {
                index
                    .by_name
                    .insert((n.namespace.clone(), s.snapshotter.clone(), n.key.clone()), i);
            }
        }
        index
    }
}
