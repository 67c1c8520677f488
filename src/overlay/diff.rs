//! What `docker diff` reports for a container, from its upper directory and its lowers, without
//! mounting anything.
//!
//! dockerd (containerd image store) mounts the container's snapshot and a view of its parent,
//! walks both trees whole and compares them (moby `pkg/archive` `ChangesDirs` → `addChanges`):
//!
//! * a name only in the new tree is `A`; below an added directory everything is `A`;
//! * a name only in the old tree is `D`, once (a deleted directory is one `D`);
//! * a name in both is `C` when mode (type and permission bits), uid, gid or rdev differ, or,
//!   for a non-directory, size or mtime (seconds, and nanoseconds when both have them), or the
//!   `security.capability` attribute; a directory is compared with the old one's children
//!   only when it is a directory in both;
//! * a directory that is neither added nor changed but has a change below it is `C`.
//!
//! Everything the two trees share comes from the lowers unchanged, so only the names the upper
//! directory has need a look (plus, for a directory that is opaque in the upper, every old
//! name it hides). The walk is iterative: one frame per directory level of the upper dir.
//!
//! A native snapshot is one plain directory, a full copy of its parent's made at prepare, in
//! which a deletion really deletes: nothing is shared, so [`changes_plain`] compares the two
//! directories whole, every name of either side, by the same rules (moby's driver for such
//! snapshotters is the naive one, `ChangesDirs` over the two trees).

#[cfg(test)]
use super::merge::Xattrs;
use super::merge::{Listing, Mode, Node, Stack, is_whiteout};
use super::xattr;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One change, as docker's `Change`: kind and absolute path in the container.
#[derive(Clone, Debug)]
pub struct Change {
    /// `A`, `C` or `D`.
    pub kind: char,
    /// `/`-rooted path, exact bytes.
    pub path: Box<[u8]>,
    /// The entry's lstat: the new one for `A`/`C`, the deleted one for `D`.
    pub meta: Option<Lstat>,
    /// The file holding the entry (in the upper dir for `A`/`C`, in a lower for `D`).
    pub file: Box<Path>,
    /// A metacopy file's lower data file, which holds its bytes (`None`: `file` holds them).
    data: Option<Box<Path>>,
}

impl Change {
    /// The file holding the entry's bytes: `file`, or a metacopy file's lower data file.
    pub fn data(&self) -> &Path {
        self.data.as_deref().unwrap_or(&self.file)
    }
}

/// What a change keeps of an entry's lstat: what is printed of it, and what tells the file
/// apart when it is opened later (device and inode). A tree of 200,000 changes holds 56 bytes
/// of each, not the platform's whole `stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lstat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub rdev: u64,
    /// File type and permission bits, as `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime_nsec: u32,
}

impl From<&Metadata> for Lstat {
    fn from(m: &Metadata) -> Lstat {
        Lstat {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            rdev: m.rdev(),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            // Nanoseconds are below 10^9; a file system that says otherwise gets 0.
            mtime_nsec: u32::try_from(m.mtime_nsec()).unwrap_or(0),
        }
    }
}

impl Lstat {
    fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_file(&self) -> bool {
        self.kind() == libc::S_IFREG
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }

    pub fn is_symlink(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }

    pub fn is_device(&self) -> bool {
        matches!(self.kind(), libc::S_IFCHR | libc::S_IFBLK)
    }
}

/// True when a directory of the new tree merges exactly the old one's layer directories
/// below the upper: then only the upper's names can differ. Not so below an opaque or
/// redirected directory (or a redirected ancestor), which are compared name by name.
fn same_lowers(new: &Node, old: &Node) -> bool {
    let below = new.dirs.iter().filter(|d| d.layer > 0);
    below.clone().count() == old.dirs.len()
        && below
            .zip(&old.dirs)
            .all(|(n, o)| n.layer == o.layer + 1 && n.rel == o.rel)
}

/// The differences between the merged tree of `upper` over `lowers` and the merged tree of
/// `lowers`, sorted by path, both read as the mount does (`mode`). With
/// `copied_up`, also the non-directories the upper dir holds that docker's rules do not
/// report (a copy-up whose stat did not change, such as a hard link made to a lower file), as
/// kind `U`. Directories that cannot be read, and bad redirects, are noted in `problems`.
///
/// A directory renamed with `redirect_dir=on` is what docker's walk of the two mounted trees
/// makes of it: its new path `A` (and all below it `A`), its old path `D` (from the whiteout
/// the rename left there). moby's overlay2 driver does the same: it stops using its upper-dir
/// "native" diff when the kernel writes redirects (or metacopy), and compares the mounted
/// trees instead (`doesSupportNativeDiff`, the naive diff driver over `archive.ChangesDirs`).
/// A metacopy file (chmod/chown of a lower file with `metacopy=on`) is `C`: its stat changed.
pub fn changes(
    upper: &Path,
    lowers: &[PathBuf],
    mode: impl Into<Mode>,
    copied_up: bool,
    problems: &mut Vec<String>,
) -> Result<Vec<Change>, String> {
    let mut refused = Vec::new();
    let changes = changes_noted(upper, lowers, mode, copied_up, problems, &mut Vec::new(), &mut refused);
    problems.extend(refused);
    changes
}

/// [`changes`], also giving the notes the lookups made (attributes of the other namespace,
/// xwhiteouts the kernel would list): worth saying, not damage; and apart from the problems,
/// in `refused`, the files and directories the kernel refused to us (permissions).
pub fn changes_noted(
    upper: &Path,
    lowers: &[PathBuf],
    mode: impl Into<Mode>,
    copied_up: bool,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<Vec<Change>, String> {
    let list_after = |dirs: usize| OLD_LOOKUP_BUDGET.saturating_mul(dirs).saturating_add(64);
    let mode = mode.into();
    if let Some(why) = super::merge::trusted_hidden(mode.xattrs, lowers.len() + 1) {
        refused.push(why.to_string());
    }
    changes_listing_after(upper, lowers, mode, copied_up, list_after, problems, notes, refused)
}

/// [`changes_noted`], a directory of the old tree listed once its one-by-one lookups have
/// tried more than `list_after(its layer directories)` of them.
// The three lists are what [`changes_noted`] hands back; bundling them for this one private
// step would only rename them.
#[allow(clippy::too_many_arguments)]
fn changes_listing_after(
    upper: &Path,
    lowers: &[PathBuf],
    mode: Mode,
    copied_up: bool,
    list_after: impl Fn(usize) -> usize,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<Vec<Change>, String> {
    let mut all = vec![upper.to_path_buf()];
    all.extend(lowers.iter().cloned());
    let new = Stack::with(all, mode, true);
    let old = Stack::with(lowers.to_vec(), mode, false);
    compare(
        &new,
        (!lowers.is_empty()).then_some(&old),
        copied_up,
        list_after,
        problems,
        notes,
        refused,
    )
}

/// The differences between two plain directories, each the whole tree of a snapshot (the
/// native snapshotter's full copies: a container's directory and its parent's, `None` for
/// a snapshot without a parent), as docker's `ChangesDirs` finds them on two bind mounts:
/// every name of both trees compared, nothing taken as a whiteout or an overlay attribute.
/// The walk is the same as [`changes`]' (iterative, one frame per directory level, no
/// symlink followed, directories read without touching their atime).
pub fn changes_plain(
    new: &Path,
    old: Option<&Path>,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<Vec<Change>, String> {
    let new = Stack::plain(new.to_path_buf());
    let old = old.map(|o| Stack::plain(o.to_path_buf()));
    let list_after = |dirs: usize| OLD_LOOKUP_BUDGET.saturating_mul(dirs).saturating_add(64);
    compare(&new, old.as_ref(), false, list_after, problems, notes, refused)
}

/// The walk of [`changes_listing_after`] and [`changes_plain`]: the tree of `new` against the
/// tree of `old` (none: everything is added).
// The walk's inputs and the three lists it hands back; see `changes_listing_after`.
#[allow(clippy::too_many_arguments)]
fn compare(
    new: &Stack,
    old_stack: Option<&Stack>,
    copied_up: bool,
    list_after: impl Fn(usize) -> usize,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<Vec<Change>, String> {
    let empty = Stack::with(Vec::new(), new.xattrs, false);
    let old = old_stack.unwrap_or(&empty);
    let new_root = new.root()?;
    let old_root = match old_stack {
        Some(o) => Some(o.root()?),
        None => None,
    };
    let mut out = Vec::new();
    let mut unchanged = Vec::new();
    // One frame per directory being compared: its path, the names to look at, how far the
    // walk is, the old directory (None when added), and where its changes start.
    struct Frame {
        rel: PathBuf,
        new: Node,
        old: Option<Node>,
        /// The names to look at: the new directory's listing (its upper alone when only
        /// the upper can differ; with the old directory's names added when both are
        /// listed). Each entry is looked up in its turn.
        names: Listing,
        next: usize,
        start: usize,
        counted: bool,
        /// The old directory's names, once listed (see [`OLD_LOOKUP_BUDGET`]).
        old_listed: Option<Listing>,
        /// The layer directories the one-by-one lookups of old entries may have tried.
        old_tried: usize,
    }
    let frame =
        |rel: PathBuf, node: Node, old_dir: Option<Node>, start: usize, counted: bool, problems: &mut Vec<String>| {
            let names = match &old_dir {
                // Only the upper's names can differ.
                Some(o) if same_lowers(&node, o) => match node.dirs.first() {
                    Some(d) if d.layer == 0 => new.list(&node, 1, problems),
                    _ => Listing::default(),
                },
                // Every name of either side.
                Some(o) => {
                    let mut all = new.list(&node, node.dirs.len(), problems);
                    all.add_names(&old.list(o, o.dirs.len(), problems));
                    all
                }
                None => new.list(&node, node.dirs.len(), problems),
            };
            Frame {
                rel,
                new: node,
                old: old_dir,
                names,
                next: 0,
                start,
                counted,
                old_listed: None,
                old_tried: 0,
            }
        };
    let mut stack = vec![frame(PathBuf::new(), new_root, old_root, 0, true, problems)];
    while let Some(top) = stack.last_mut() {
        let Some((name, next)) = top.names.name_at(top.next) else {
            let Some(done) = stack.pop() else { break };
            if out.len() > done.start && !done.counted {
                out.push(change('C', &done.rel, None, &new.layer(0).join(&done.rel), None));
            }
            continue;
        };
        let name = name.to_vec();
        let at = std::mem::replace(&mut top.next, next);
        let rel = top.rel.join(OsStr::from_bytes(&name));
        let new_node = new.entry(&top.new, &top.names, at);
        let old_node = match &top.old {
            Some(o) if o.is_dir() => {
                // A name is looked up layer by layer until found: a name new to a directory
                // that many lowers hold tries them all. Past the budget the old directory is
                // listed once and the rest taken from the listing, the same lookup fed from
                // it, so that time stays linear in the layers' entries.
                if top.old_listed.is_none() && top.old_tried > list_after(o.dirs.len()) {
                    top.old_listed = Some(old.list(o, o.dirs.len(), problems));
                }
                match &top.old_listed {
                    Some(listed) => listed.find(&name).and_then(|at| old.entry(o, listed, at)),
                    None => {
                        top.old_tried += o.dirs.len();
                        old.child(o, OsStr::from_bytes(&name))
                    }
                }
            }
            _ => None,
        };
        let Some(new_node) = new_node else {
            // A whiteout in the upper (or a name it could not read).
            if let Some(o) = old_node {
                out.push(change('D', &rel, Some(&o.meta), &o.file, None));
            }
            continue;
        };
        let start = out.len();
        let file = new_node.file.as_path();
        let data = new_node.data.as_deref();
        let mut counted = false;
        match &old_node {
            None => {
                out.push(change('A', &rel, Some(&new_node.meta), file, data));
                counted = true;
            }
            Some(o) => {
                if stat_different(&o.meta, &new_node.meta)
                    || xattr::get(file, "security.capability") != xattr::get(&o.file, "security.capability")
                {
                    out.push(change('C', &rel, Some(&new_node.meta), file, data));
                    counted = true;
                } else if copied_up && new_node.layer == 0 && !new_node.is_dir() {
                    // Kept apart: it must not make its directory count as changed.
                    unchanged.push(change('U', &rel, Some(&new_node.meta), file, data));
                }
            }
        }
        if new_node.is_dir() {
            // Below an unchanged name only the upper can differ; skip dirs the upper lacks
            // unless they merge other lower directories than before (a redirected parent).
            let old_dir = old_node.filter(|o| o.is_dir());
            let descend = match &old_dir {
                None => true,
                Some(o) => new_node.layer == 0 || !same_lowers(&new_node, o),
            };
            if descend {
                let f = frame(rel, new_node, old_dir, start, counted, problems);
                stack.push(f);
            }
        }
    }
    problems.extend(new.take_problems());
    problems.extend(old.take_problems());
    refused.extend(new.take_unreadable());
    for r in old.take_unreadable() {
        if !refused.contains(&r) {
            refused.push(r);
        }
    }
    notes.extend(new.take_notes());
    for n in old.take_notes() {
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    out.extend(unchanged);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// How many times over its layer directories a directory of the old tree is tried by looking
/// up the new tree's names one by one before it is listed instead (each name: an `lstat` in
/// each layer directory down to the one that has it). A 1,000-layer chain under an upper of
/// 10,000 new names took 51 s looked up one by one.
const OLD_LOOKUP_BUDGET: usize = 4;

fn change(kind: char, rel: &Path, meta: Option<&Metadata>, file: &Path, data: Option<&Path>) -> Change {
    let rel = rel.as_os_str().as_bytes();
    let mut path = Vec::with_capacity(rel.len() + 1);
    path.push(b'/');
    path.extend_from_slice(rel);
    Change {
        kind,
        path: path.into_boxed_slice(),
        meta: meta.map(Lstat::from),
        file: file.into(),
        data: data.filter(|d| *d != file).map(Into::into),
    }
}

/// moby's `statDifferent`: mode, owner and rdev; size and mtime for non-directories.
pub fn stat_different(old: &Metadata, new: &Metadata) -> bool {
    if old.mode() != new.mode() || old.uid() != new.uid() || old.gid() != new.gid() || old.rdev() != new.rdev() {
        return true;
    }
    if old.is_dir() {
        return false;
    }
    !same_fs_time(old, new) || old.size() != new.size()
}

/// moby's `sameFsTime`: equal, or equal seconds where one side has no nanoseconds.
fn same_fs_time(a: &Metadata, b: &Metadata) -> bool {
    (a.mtime() == b.mtime() && a.mtime_nsec() == b.mtime_nsec())
        || (a.mtime() == b.mtime() && (a.mtime_nsec() == 0 || b.mtime_nsec() == 0))
}

/// True when the entry is an overlay whiteout (kept for callers that list upper dirs).
pub fn whiteout(m: &Metadata) -> bool {
    is_whiteout(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn kinds(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}", c.kind, String::from_utf8_lossy(&c.path)))
            .collect()
    }

    /// A whiteout: a 0/0 character device (root only); false when it cannot be made.
    fn whiteout(p: &Path) -> bool {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) == 0 }
    }

    /// Marks `p` opaque in the namespace it can (trusted as root, else user): that mode.
    fn opaque(p: &Path) -> Option<Xattrs> {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        [Xattrs::Trusted, Xattrs::User].into_iter().find(|x| {
            let n = std::ffi::CString::new(x.name("opaque")).unwrap();
            // SAFETY: NUL-terminated strings, a 1-byte value.
            unsafe { libc::lsetxattr(c.as_ptr(), n.as_ptr(), b"y".as_ptr().cast(), 1, 0) == 0 }
        })
    }

    #[test]
    fn type_changes_opaque_dirs_and_whiteouts() {
        let t = tempfile::tempdir().unwrap();
        let (upper, lower) = (t.path().join("upper"), t.path().join("lower"));
        for d in [
            "lower/file-to-dir",
            "lower/dir-to-file/sub",
            "lower/op/keep",
            "lower/same/x",
            "upper/same",
        ] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        std::fs::remove_dir(lower.join("file-to-dir")).unwrap();
        std::fs::write(lower.join("file-to-dir"), b"f").unwrap();
        std::fs::write(lower.join("op/gone"), b"g").unwrap();
        std::fs::write(lower.join("op/kept-file"), b"k").unwrap();
        // A file whose upper copy keeps the lower's stat: no change.
        std::fs::write(lower.join("same/x/f"), b"same").unwrap();
        let m = std::fs::metadata(lower.join("same")).unwrap();
        std::fs::set_permissions(upper.join("same"), std::fs::Permissions::from_mode(m.mode())).unwrap();
        // Upper: a dir where a file was (its children are A), a file where a dir was (C only).
        std::fs::create_dir_all(upper.join("file-to-dir/new")).unwrap();
        std::fs::write(upper.join("dir-to-file"), b"now a file").unwrap();
        std::fs::write(upper.join("added"), b"a").unwrap();
        // An opaque dir over op/ holding only kept-file (changed).
        std::fs::create_dir(upper.join("op")).unwrap();
        std::fs::write(upper.join("op/kept-file"), b"changed!").unwrap();
        let mode = opaque(&upper.join("op"));
        let opaque_ok = mode.is_some();
        let whiteouts = whiteout(&upper.join("same-wo")) && whiteout(&upper.join("nothing-below"));
        if whiteouts {
            std::fs::remove_file(upper.join("same-wo")).unwrap();
            std::fs::write(lower.join("same-wo"), b"w").unwrap();
            assert!(whiteout(&upper.join("same-wo")));
        }
        let mut problems = Vec::new();
        let changes = changes(
            &upper,
            std::slice::from_ref(&lower),
            mode.unwrap_or_default(),
            false,
            &mut problems,
        )
        .unwrap();
        // Sorted by path, parents first.
        assert!(changes.windows(2).all(|w| w[0].path <= w[1].path));
        let mut got = kinds(&changes);
        got.sort();
        assert!(problems.is_empty(), "{problems:?}");
        let mut want = vec![
            "A /added",
            "C /dir-to-file",
            "C /file-to-dir",
            "A /file-to-dir/new",
            "C /op",
            "C /op/kept-file",
        ];
        if opaque_ok {
            // op/ hides the lower's names it does not have; keep is a dir, gone a file.
            want.extend(["D /op/gone", "D /op/keep"]);
        }
        if whiteouts {
            want.push("D /same-wo");
        }
        want.sort();
        // `same` is the same dir in both (mode equal, dirs' mtimes are not compared).
        assert_eq!(got, want);
    }
    /// An old directory listed once, or looked up name by name, gives the same changes: a
    /// chain of twelve lowers (a whiteout and an opaque directory among them) under an upper
    /// of new, changed and deleted names, compared with the listing taken at once and never.
    #[test]
    fn old_directories_listed_or_looked_up_give_the_same_changes() {
        let t = tempfile::tempdir().unwrap();
        let lowers: Vec<PathBuf> = (0..12).map(|i| t.path().join(format!("l{i}"))).collect();
        let upper = t.path().join("upper");
        for (i, l) in lowers.iter().enumerate() {
            std::fs::create_dir_all(l.join("d/sub")).unwrap();
            std::fs::write(l.join(format!("d/f{i}")), b"lower").unwrap();
            std::fs::write(l.join("d/shared"), format!("{i}")).unwrap();
            std::fs::write(l.join(format!("top{i}")), b"t").unwrap();
        }
        std::fs::write(lowers[9].join("d/sub/hidden"), b"h").unwrap();
        std::fs::write(lowers[7].join("d/wo7"), b"w").unwrap();
        let lower_whiteout = whiteout(&lowers[2].join("d/wo7"));
        let mode = opaque(&lowers[4].join("d/sub"));
        std::fs::write(lowers[4].join("d/sub/kept"), b"k").unwrap();
        std::fs::create_dir_all(upper.join("d/sub")).unwrap();
        for k in 0..100 {
            std::fs::write(upper.join(format!("d/n{k:03}")), b"new").unwrap();
        }
        std::fs::write(upper.join("d/f3"), b"rewritten, longer").unwrap();
        std::fs::write(upper.join("d/sub/new"), b"n").unwrap();
        std::fs::write(upper.join("d/wo7"), b"again").unwrap();
        std::fs::write(upper.join("top3"), b"changed").unwrap();
        let upper_whiteout = whiteout(&upper.join("d/f5"));
        let run = |list_after: fn(usize) -> usize| {
            let (mut problems, mut notes) = (Vec::new(), Vec::new());
            let mode = mode.unwrap_or_default().into();
            let changes = changes_listing_after(
                &upper,
                &lowers,
                mode,
                true,
                list_after,
                &mut problems,
                &mut notes,
                &mut Vec::new(),
            );
            let changes = changes.unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            changes
                .iter()
                .map(|c| (c.kind, c.path.clone(), c.file.clone(), c.data().to_path_buf()))
                .collect::<Vec<_>>()
        };
        let listed = run(|_| 0);
        let looked_up = run(|_| usize::MAX);
        assert_eq!(listed, looked_up);
        let kinds: Vec<String> = listed
            .iter()
            .map(|(k, p, _, _)| format!("{k} {}", String::from_utf8_lossy(p)))
            .collect();
        assert_eq!(kinds.iter().filter(|k| k.starts_with("A /d/n")).count(), 100);
        for want in ["C /d", "C /d/f3", "A /d/sub/new", "C /top3"] {
            assert!(kinds.iter().any(|k| k == want), "{want}: {kinds:?}");
        }
        // Hidden below the opaque directory in the old tree too: not a change.
        assert!(!kinds.iter().any(|k| k.contains("hidden")), "{kinds:?}");
        if lower_whiteout {
            // wo7 is whited out in the old tree: the upper's is new.
            assert!(kinds.iter().any(|k| k == "A /d/wo7"), "{kinds:?}");
        }
        if upper_whiteout {
            assert!(kinds.iter().any(|k| k == "D /d/f5"), "{kinds:?}");
        }
    }
}
