//! The merged view of a stack of overlay layers, resolved in user space (no mount).
//!
//! ```text
//! layer 0   upper  snapshots/79/fs     (nearest; the container's rw layer)
//! layer 1   lower  snapshots/78/fs     (the -init layer)
//! ...
//! layer n   lower  snapshots/6/fs      (the base)
//! ```
//!
//! For a name in a merged directory the nearest layer that has it decides, as overlayfs does:
//!
//! * a character device 0/0 is a whiteout: the name is gone, and hides every layer below;
//! * a non-directory is the entry, and hides every layer below;
//! * a directory merges with the directories of the same name below it, down to the first
//!   layer where the name is not a directory, or to a directory marked opaque
//!   (`trusted.overlay.opaque` = `y`, or `user.overlay.opaque` for a `userxattr` mount).
//!
//! Every look is `lstat` on a path built from names read from the layer's own directories, each
//! one of its parents known to be a real directory in that layer: nothing is followed, so a
//! symlink in a layer never leads out of it. Symlinks of the merged tree are resolved by
//! [`Stack::resolve`], inside the merged tree.

use super::xattr;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How many symlinks a path resolution follows before it gives up (Linux's MAXSYMLINKS).
pub const MAX_SYMLINKS: usize = 40;

/// A stack of layer directories, nearest first.
pub struct Stack {
    pub layers: Vec<PathBuf>,
}

/// One entry of a merged directory.
#[derive(Clone, Debug)]
pub struct Node {
    /// The layer whose entry it is (the nearest that has the name).
    pub layer: usize,
    pub meta: Metadata,
    /// For a directory: every layer whose directory of this name is merged, nearest first.
    pub dirs: Vec<usize>,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        self.meta.is_dir()
    }
}

/// What the nearest layers say about a name while merging.
// Slots live only while one directory is merged; boxing would cost an allocation per name.
#[allow(clippy::large_enum_variant)]
enum Slot {
    /// Whited out: gone, and nothing below counts.
    Gone,
    /// An entry; `open` while layers below may still add to a directory.
    Entry(Node, bool),
}

/// A whiteout: a character device with device number 0/0.
pub fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// True when the directory `p` hides the layers below it.
pub fn is_opaque(p: &Path) -> bool {
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|n| xattr::get(p, n).is_some_and(|v| v == b"y"))
}

/// `rel` joined to a layer root; `rel` is relative (empty for the root).
pub fn join(layer: &Path, rel: &Path) -> PathBuf {
    if rel.as_os_str().is_empty() {
        layer.to_path_buf()
    } else {
        layer.join(rel)
    }
}

impl Stack {
    pub fn new(layers: Vec<PathBuf>) -> Stack {
        Stack { layers }
    }

    /// The layer directory `l` (empty path if out of range, which no caller passes).
    pub fn layer(&self, l: usize) -> &Path {
        self.layers.get(l).map_or(Path::new(""), |p| p.as_path())
    }

    /// The merged root: every layer whose root is a real directory (a layer root that is a
    /// symlink is refused: `Err` names it).
    pub fn root(&self) -> Result<Node, String> {
        let mut dirs = Vec::new();
        let mut first: Option<Metadata> = None;
        for (l, p) in self.layers.iter().enumerate() {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => {
                    dirs.push(l);
                    if first.is_none() {
                        first = Some(m);
                    }
                    if is_opaque(p) {
                        break;
                    }
                }
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!("{}: a symlink, not followed", p.display()));
                }
                Ok(_) => return Err(format!("{}: not a directory", p.display())),
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
        let meta = first.ok_or_else(|| "no layers".to_string())?;
        Ok(Node {
            layer: dirs.first().copied().unwrap_or(0),
            meta,
            dirs,
        })
    }

    /// Folds what layer `l` has under `name` into the slot.
    fn fold(&self, slot: Option<&mut Slot>, l: usize, path: &Path, meta: Metadata) -> Option<Slot> {
        match slot {
            None => {
                if is_whiteout(&meta) {
                    return Some(Slot::Gone);
                }
                let dir = meta.is_dir();
                let open = dir && !is_opaque(path);
                Some(Slot::Entry(
                    Node {
                        layer: l,
                        meta,
                        dirs: if dir { vec![l] } else { Vec::new() },
                    },
                    open,
                ))
            }
            Some(Slot::Entry(node, open)) if *open => {
                if meta.is_dir() {
                    node.dirs.push(l);
                    if is_opaque(path) {
                        *open = false;
                    }
                } else {
                    *open = false;
                }
                None
            }
            Some(_) => None,
        }
    }

    /// The merged entries of directory `rel` whose merged layers are `dirs` (whiteouts
    /// applied), in byte order of their names. Directories of a layer that cannot be read are
    /// reported in `problems` and skipped.
    pub fn children(&self, rel: &Path, dirs: &[usize], problems: &mut Vec<String>) -> BTreeMap<Vec<u8>, Node> {
        let mut slots: BTreeMap<Vec<u8>, Slot> = BTreeMap::new();
        for &l in dirs {
            let dir = join(self.layer(l), rel);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(format!("{}: {e}", dir.display()));
                    continue;
                }
            };
            for e in entries {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        problems.push(format!("{}: {err}", dir.display()));
                        break;
                    }
                };
                let name = e.file_name().into_vec();
                let path = e.path();
                let meta = match std::fs::symlink_metadata(&path) {
                    Ok(m) => m,
                    Err(err) => {
                        problems.push(format!("{}: {err}", path.display()));
                        continue;
                    }
                };
                let slot = slots.get_mut(&name);
                if let Some(new) = self.fold(slot, l, &path, meta) {
                    slots.insert(name, new);
                }
            }
        }
        slots
            .into_iter()
            .filter_map(|(k, s)| match s {
                Slot::Entry(n, _) => Some((k, n)),
                Slot::Gone => None,
            })
            .collect()
    }

    /// The merged entry `name` of directory `rel` (merged from `dirs`), without listing it.
    pub fn child(&self, rel: &Path, dirs: &[usize], name: &OsStr) -> Option<Node> {
        let mut slot: Option<Slot> = None;
        for &l in dirs {
            let path = join(self.layer(l), rel).join(name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            match &mut slot {
                None => slot = self.fold(None, l, &path, meta),
                Some(s) => {
                    self.fold(Some(s), l, &path, meta);
                }
            }
            if matches!(slot, Some(Slot::Gone) | Some(Slot::Entry(_, false))) {
                break;
            }
        }
        match slot {
            Some(Slot::Entry(n, _)) => Some(n),
            _ => None,
        }
    }

    /// The path of a merged entry's own file: its layer plus `rel`.
    pub fn path_of(&self, node: &Node, rel: &Path) -> PathBuf {
        join(self.layer(node.layer), rel)
    }

    /// Resolves `path` (absolute or relative to the merged root) in the merged tree. Symlinks
    /// are followed inside the merged tree (an absolute target restarts at the merged root,
    /// `..` stops at it), the last one only when `follow_last`. Returns the entry and its path
    /// relative to the merged root; `Err` says why there is none.
    pub fn resolve(&self, path: &[u8], follow_last: bool) -> Result<(PathBuf, Node), String> {
        let root = self.root()?;
        // The components still to walk, last first (popped from the end).
        let mut todo: Vec<Vec<u8>> = components(path).into_iter().rev().collect();
        let mut at: Vec<(Vec<u8>, Node)> = Vec::new();
        let mut links = 0usize;
        while let Some(c) = todo.pop() {
            if c == b".." {
                at.pop();
                continue;
            }
            let (rel, dir) = match at.last() {
                Some((_, n)) => (rel_of(&at), n),
                None => (PathBuf::new(), &root),
            };
            if !dir.is_dir() {
                return Err(format!(
                    "{}: not a directory",
                    crate::text::escape(rel.as_os_str().as_bytes())
                ));
            }
            let name = OsString::from_vec(c.clone());
            let Some(node) = self.child(&rel, &dir.dirs, &name) else {
                return Err(format!(
                    "{}: no such file or directory",
                    crate::text::escape(rel.join(&name).as_os_str().as_bytes())
                ));
            };
            let last = todo.is_empty();
            if node.meta.file_type().is_symlink() && (follow_last || !last) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(format!(
                        "{}: too many levels of symbolic links",
                        crate::text::escape(path)
                    ));
                }
                let target = std::fs::read_link(self.path_of(&node, &rel.join(&name)))
                    .map_err(|e| format!("{}: {e}", crate::text::escape(rel.join(&name).as_os_str().as_bytes())))?;
                let target = target.into_os_string().into_vec();
                if target.first() == Some(&b'/') {
                    at.clear();
                }
                todo.extend(components(&target).into_iter().rev());
                continue;
            }
            at.push((c, node));
        }
        match at.last() {
            Some((_, n)) => Ok((rel_of(&at), n.clone())),
            None => Ok((PathBuf::new(), root)),
        }
    }
}

/// The components of a path, without empty ones and `.`.
fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

fn rel_of(at: &[(Vec<u8>, Node)]) -> PathBuf {
    let mut p = PathBuf::new();
    for (c, _) in at {
        p.push(OsStr::from_bytes(c));
    }
    p
}
