//! The merged view of a stack of overlay layers, resolved in user space (no mount).
//!
//! ```text
//! layer 0   upper  snapshots/79/fs     (nearest; the container's rw layer)
//! layer 1   lower  snapshots/78/fs     (the -init layer)
//! ...
//! layer n   lower  snapshots/6/fs      (the base)
//! ```
//!
//! For a name in a merged directory the nearest layer that has it decides, as overlayfs does
//! (`Documentation/filesystems/overlayfs.rst`, `fs/overlayfs/namei.c`):
//!
//! * a whiteout hides the name and every layer below: a character device 0/0, or (kernel 6.7+,
//!   "xwhiteout") a zero-size regular file with the xattr `overlay.whiteout`. The kernel's
//!   readdir applies xwhiteouts only in a directory marked `overlay.opaque` = `x` (6.8+;
//!   6.7.0 spelled the marker `overlay.whiteouts`) of a lower layer that is not the lowest;
//!   its lookup applies them anywhere, so elsewhere the mount lists a name it cannot open.
//!   We hide them everywhere, as the lookup does, and note the ones the readdir would list;
//! * a non-directory is the entry, and hides every layer below (a metacopy file,
//!   `overlay.metacopy`, keeps its data in the next lower file of that path, or of its
//!   `overlay.redirect`: absolute, or relative when it was renamed in its directory; a lower
//!   metacopy file's redirect rewrites the path again for the layers below it);
//! * a directory merges with the directories of that path in the layers below it, down to the
//!   first layer where the path is not a directory, or to a directory marked opaque
//!   (`overlay.opaque` = `y`); the root is never looked up, so it merges every layer's root,
//!   opaque or not (`fs/overlayfs/super.c` `ovl_get_root`: "Root is always merge");
//! * a directory with `overlay.redirect` (a directory renamed with `redirect_dir=on`) is
//!   merged, in the layers below the one carrying it, with its origin: an absolute redirect
//!   (`/a/b`) is a path from every lower layer's root, a relative one (`b`) a name in the same
//!   parent directory. Redirects met further down compose (a redirect of a lower layer's
//!   directory, or of any directory on the absolute path, rewrites the path for the layers
//!   below that one); the lowest layer's are never read. A redirect that is not a clean path
//!   (`..`, `.`, empty components, a NUL, a `/` in a relative one) is reported and not
//!   followed (the kernel fails the lookup with EINVAL; we show what is above it).
//!
//! The attribute names are `trusted.overlay.*`, or `user.overlay.*` for a `userxattr` mount
//! (rootless containerd): [`Xattrs`]. Only the mount's own namespace counts, as in the kernel.
//! A `userxattr` mount never follows redirects nor metacopy files (the kernel forces
//! `redirect_dir=nofollow` and `metacopy=off` and refuses such lookups): they are reported
//! and not followed ([`Mode`]).
//!
//! Every look is `lstat` on a path built from names read from a layer's own directories or
//! from a checked redirect, each parent known to be a real directory in that layer: nothing is
//! followed, so a symlink in a layer never leads out of it, and neither does a redirect.
//! Symlinks of the merged tree are resolved by [`Stack::resolve`], inside the merged tree.

use super::beneath::LayerRoots;
use super::xattr;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How many symlinks a path resolution follows before it gives up (Linux's MAXSYMLINKS).
pub const MAX_SYMLINKS: usize = 40;

/// The most redirects one lookup follows (a chain across layers, or one per path component);
/// beyond it the lookup stops and says so. Layers are at most a few hundred (the kernel's
/// OVL_MAX_STACK is 500), and each rewrite is a step down at least one component or layer.
const MAX_REDIRECTS: usize = 1024;

/// The longest path the system looks up, with its NUL (Linux's `PATH_MAX`): layer files
/// are looked at by path, so one whose path is this long or longer is not reached.
const PATH_MAX: usize = 4096;

/// The most distinct problems a stack keeps (each names a file; more are counted).
const MAX_PROBLEMS: usize = 10_000;

/// Which xattr namespace the mount reads its own attributes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Xattrs {
    /// `trusted.overlay.*`: a mount by real root (the default).
    #[default]
    Trusted,
    /// `user.overlay.*`: a mount with `userxattr` (in a user namespace: rootless containerd).
    User,
}

impl Xattrs {
    /// The prefix of the mount's own attributes.
    pub fn prefix(self) -> &'static str {
        match self {
            Xattrs::Trusted => "trusted.overlay.",
            Xattrs::User => "user.overlay.",
        }
    }

    /// The full name of attribute `suffix` (`opaque`, `redirect`, ...).
    pub fn name(self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix())
    }

    /// The attribute the other mode would read: only to tell the user it is there.
    fn other(self, suffix: &str) -> String {
        match self {
            Xattrs::Trusted => format!("user.overlay.{suffix}"),
            Xattrs::User => format!("trusted.overlay.{suffix}"),
        }
    }
}

/// How a mount reads its layers: the attribute namespace and whether redirects and metacopy
/// files are followed (a `Xattrs` alone gives the kernel's defaults for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub xattrs: Xattrs,
    pub follow_redirects: bool,
    pub metacopy: bool,
}

impl From<Xattrs> for Mode {
    fn from(xattrs: Xattrs) -> Mode {
        let trusted = xattrs == Xattrs::Trusted;
        Mode {
            xattrs,
            follow_redirects: trusted,
            metacopy: trusted,
        }
    }
}

impl Default for Mode {
    fn default() -> Mode {
        Xattrs::Trusted.into()
    }
}

/// A directory of one layer merged into a merged directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dir {
    pub layer: usize,
    /// Its path relative to the layer's root (the merged path, or a redirect's origin).
    pub rel: PathBuf,
}

/// One entry of a merged directory.
#[derive(Clone, Debug)]
pub struct Node {
    /// The layer whose entry it is (the nearest that has the name).
    pub layer: usize,
    pub meta: Metadata,
    /// The entry's own file, in `layer`.
    pub file: PathBuf,
    /// For a directory: every layer's directory merged into it, nearest first.
    pub dirs: Vec<Dir>,
    /// For a metacopy file: the lower file that holds its data.
    pub data: Option<PathBuf>,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        self.meta.is_dir()
    }

    /// The file whose bytes the entry has: its data file (metacopy), else its own.
    pub fn data_file(&self) -> &Path {
        self.data.as_deref().unwrap_or(&self.file)
    }
}

/// The names of a merged directory as its layer directories list them, before any is looked
/// at: each name once per directory (an index into the directory's `dirs`) that holds it,
/// sorted by name, then directory. A walk looks its entries up one at a time
/// ([`Stack::entry`]), so a directory of 200,000 names holds the names and 16 bytes each,
/// not an entry's `Node` (its path, its lstat) each.
#[derive(Default)]
pub struct Listing {
    /// Every name listed, one after another.
    names: Vec<u8>,
    hits: Vec<Hit>,
    /// How many of the directory's `dirs` were listed (the first ones); the rest are asked.
    listed: usize,
}

/// One name in one directory: where the name is in [`Listing::names`], and the directory.
#[derive(Clone, Copy)]
struct Hit {
    start: usize,
    len: u32,
    /// The index in the merged directory's `dirs`; [`Hit::NONE`] for a name another listing
    /// brought ([`Listing::add_names`]).
    dir: u32,
}

impl Hit {
    const NONE: u32 = u32::MAX;
}

impl Listing {
    fn push(&mut self, name: &[u8], dir: u32) {
        // Names are at most NAME_MAX (255) bytes; a longer one is not a name readdir gives.
        let Ok(len) = u32::try_from(name.len()) else { return };
        self.hits.push(Hit {
            start: self.names.len(),
            len,
            dir,
        });
        self.names.extend_from_slice(name);
    }

    fn name(&self, h: &Hit) -> &[u8] {
        self.names.get(h.start..h.start + h.len as usize).unwrap_or_default()
    }

    fn sort(&mut self) {
        let names = &self.names;
        let name = |h: &Hit| names.get(h.start..h.start + h.len as usize).unwrap_or_default();
        self.hits
            .sort_unstable_by(|a, b| name(a).cmp(name(b)).then(a.dir.cmp(&b.dir)));
    }

    /// The name whose hits start at `at`, and where the next name's start.
    pub fn name_at(&self, at: usize) -> Option<(&[u8], usize)> {
        let name = self.name(self.hits.get(at)?);
        let rest = self.hits.get(at..).unwrap_or_default();
        let n = rest.iter().take_while(|h| self.name(h) == name).count();
        Some((name, at + n))
    }

    /// Where the hits of `name` start, if it was listed.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.find_in(self.hits.len(), name)
    }

    /// Where the hits of `name` start among the first `sorted` hits.
    fn find_in(&self, sorted: usize, name: &[u8]) -> Option<usize> {
        let hits = self.hits.get(..sorted).unwrap_or_default();
        let at = hits.partition_point(|h| self.name(h) < name);
        hits.get(at).filter(|h| self.name(h) == name).map(|_| at)
    }

    /// Adds the names of `other` that this listing lacks, with no directory of their own (a
    /// lookup of one finds nothing in the listed directories).
    pub fn add_names(&mut self, other: &Listing) {
        let sorted = self.hits.len();
        let mut at = 0;
        while let Some((name, next)) = other.name_at(at) {
            if self.find_in(sorted, name).is_none() {
                self.push(name, Hit::NONE);
            }
            at = next;
        }
        self.sort();
    }
}

/// A whiteout: a character device with device number 0/0.
/// Why a stack of `layers` layers whose attributes are `xattrs` cannot be read whole by this
/// process, if it cannot: the `trusted.*` attributes that say what an upper layer hides are
/// hidden from it ([`super::xattr::trusted_readable`]). One layer hides nothing.
pub fn trusted_hidden(xattrs: Xattrs, layers: usize) -> Option<&'static str> {
    (xattrs == Xattrs::Trusted && layers > 1 && !super::xattr::trusted_readable())
        .then_some(super::xattr::TRUSTED_UNREADABLE)
}

pub fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// `rel` joined to a layer root; `rel` is relative (empty for the root).
pub fn join(layer: &Path, rel: &Path) -> PathBuf {
    if rel.as_os_str().is_empty() {
        layer.to_path_buf()
    } else {
        layer.join(rel)
    }
}

/// What the lookup of a path wants in the layers below: a name in the parent's directories,
/// or an absolute path from each layer's root (a checked redirect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    Name(Vec<u8>),
    Abs(Vec<Vec<u8>>),
}

impl Want {
    /// What the layers below are looked up at once redirect `to` is met on this path, as the
    /// kernel's `ovl_check_redirect` rewrites it: an absolute redirect replaces the whole
    /// path, a relative one only its last component (a name in the same directory, which
    /// on an absolute path keeps the directories before it).
    fn redirected(&self, to: Want) -> Want {
        match (self, to) {
            (_, Want::Abs(a)) => Want::Abs(a),
            (Want::Name(_), Want::Name(n)) => Want::Name(n),
            (Want::Abs(comps), Want::Name(n)) => {
                let mut v = comps.clone();
                v.pop();
                v.push(n);
                Want::Abs(v)
            }
        }
    }
}

/// A redirect's value checked the way the kernel checks it, plus `..`/`.` (which the kernel's
/// lookup refuses): `Err` says what is wrong.
pub fn parse_redirect(v: &[u8]) -> Result<Want, String> {
    if v.is_empty() {
        return Err("empty".into());
    }
    if v.contains(&0) {
        return Err("contains a NUL".into());
    }
    if let Some(rest) = v.strip_prefix(b"/") {
        let comps: Vec<Vec<u8>> = rest.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
        if comps.iter().any(|c| c.is_empty()) {
            return Err("an empty path component".into());
        }
        if comps.iter().any(|c| c == b".." || c == b".") {
            return Err("a `.` or `..` component".into());
        }
        Ok(Want::Abs(comps))
    } else {
        if v.contains(&b'/') {
            return Err("a relative redirect with a `/`".into());
        }
        if v == b".." || v == b"." {
            return Err("`.` or `..`".into());
        }
        Ok(Want::Name(v.to_vec()))
    }
}

/// A stack of layer directories, nearest first.
pub struct Stack {
    pub layers: Vec<PathBuf>,
    /// The attribute namespace of the mount.
    pub xattrs: Xattrs,
    /// Layer 0 is an upper directory (xwhiteouts are not read there).
    pub upper: bool,
    /// The mount follows redirects (`redirect_dir` on or follow, the kernel's default; never
    /// with `userxattr`, which forces `nofollow`). When not, a redirect makes the kernel
    /// refuse the lookup (EPERM): reported, and the entry shown without what is below.
    pub follow_redirects: bool,
    /// The mount follows metacopy files (`metacopy=on`; never with `userxattr`). When not,
    /// the kernel refuses them (EPERM): reported, and their own (empty) data shown.
    pub metacopy: bool,
    /// One plain directory, bind-mounted (the native snapshotter): nothing in it means
    /// anything to overlayfs. A 0/0 character device is a device, `*.overlay.*` attributes
    /// are attributes like any other; no whiteout, opaque directory, redirect or metacopy.
    pub plain: bool,
    /// The layers whose root is merged into the merged root (every layer: see
    /// [`Stack::root_layers`]).
    roots: OnceCell<Vec<usize>>,
    /// Opens the layers' files and lists their directories below each layer's root, with no
    /// link followed: what a walk reads is in the layer even while it changes.
    pub files: LayerRoots,
    problems: RefCell<BTreeSet<String>>,
    /// Files and directories the kernel refused to us (permissions): not damage, exit 4.
    unreadable: RefCell<BTreeSet<String>>,
    notes: RefCell<BTreeSet<String>>,
    dropped: RefCell<u64>,
}

impl Stack {
    /// A stack read as `trusted.overlay.*`, layer 0 an upper directory.
    pub fn new(layers: Vec<PathBuf>) -> Stack {
        Stack::with(layers, Xattrs::Trusted, true)
    }

    /// A stack read with the mount's attribute namespace; with `userxattr` redirects and
    /// metacopy are not followed, as the kernel forces.
    pub fn with(layers: Vec<PathBuf>, mode: impl Into<Mode>, upper: bool) -> Stack {
        let mode = mode.into();
        let unreadable = trusted_hidden(mode.xattrs, layers.len())
            .map(|why| BTreeSet::from([why.to_string()]))
            .unwrap_or_default();
        Stack {
            files: LayerRoots::new(&layers),
            layers,
            xattrs: mode.xattrs,
            upper,
            follow_redirects: mode.follow_redirects,
            metacopy: mode.metacopy,
            plain: false,
            roots: OnceCell::new(),
            problems: RefCell::new(BTreeSet::new()),
            unreadable: RefCell::new(unreadable),
            notes: RefCell::new(BTreeSet::new()),
            dropped: RefCell::new(0),
        }
    }

    /// The tree of one plain directory, as a bind mount shows it (a native snapshot's):
    /// see [`Stack::plain`].
    pub fn plain(dir: PathBuf) -> Stack {
        let mut s = Stack::with(vec![dir], Xattrs::Trusted, true);
        s.plain = true;
        s.follow_redirects = false;
        s.metacopy = false;
        s
    }

    /// True when entry `m` of a listing is a whiteout the tree hides (never in a plain one).
    pub fn hides(&self, m: &Metadata) -> bool {
        !self.plain && is_whiteout(m)
    }

    /// The layer directory `l` (empty path if out of range, which no caller passes).
    pub fn layer(&self, l: usize) -> &Path {
        self.layers.get(l).map_or(Path::new(""), |p| p.as_path())
    }

    fn is_last(&self, l: usize) -> bool {
        l + 1 >= self.layers.len()
    }

    /// Records damage met in the tree (bounded: past `MAX_PROBLEMS`, counted).
    pub fn problem(&self, p: String) {
        let mut set = self.problems.borrow_mut();
        if set.len() < MAX_PROBLEMS {
            set.insert(p);
        } else {
            *self.dropped.borrow_mut() += 1;
        }
    }

    /// What a failed look at `path` says: nothing when it is not there, unreadable when the
    /// system refused it (permissions, file descriptors, memory, the device: the entry may
    /// well exist), else a problem.
    fn failed_stat(&self, path: &Path, e: &std::io::Error) {
        match e.kind() {
            // Not there, or a directory on the way is no longer one: listed, then gone (a
            // running container's upper dir changes under the walk; a disk at rest never).
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {}
            _ if crate::damage::refused_by_system(e) => self.refused(format!("{}: {e}", path.display())),
            _ => self.problem(format!("{}: {e}", path.display())),
        }
    }

    /// Records a file or directory the kernel refused to us (bounded as the problems are).
    pub fn refused(&self, p: String) {
        let mut set = self.unreadable.borrow_mut();
        if set.len() < MAX_PROBLEMS {
            set.insert(p);
        } else {
            *self.dropped.borrow_mut() += 1;
        }
    }

    /// The files and directories refused so far (permissions), emptied.
    pub fn take_unreadable(&self) -> Vec<String> {
        std::mem::take(&mut *self.unreadable.borrow_mut()).into_iter().collect()
    }

    fn note(&self, p: String) {
        let mut set = self.notes.borrow_mut();
        if set.len() < 100 {
            set.insert(p);
        }
    }

    /// The problems met by lookups so far (bad redirects, metacopy files without data),
    /// emptied.
    pub fn take_problems(&self) -> Vec<String> {
        let mut out: Vec<String> = std::mem::take(&mut *self.problems.borrow_mut()).into_iter().collect();
        let dropped = std::mem::take(&mut *self.dropped.borrow_mut());
        if dropped > 0 {
            out.push(format!("{dropped} more overlay problems not listed"));
        }
        out
    }

    /// Things worth knowing that are not damage (attributes of the other namespace), emptied.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.borrow_mut()).into_iter().collect()
    }

    /// The one-byte value of a directory's `opaque` attribute (`y` opaque, `x` xwhiteouts).
    fn opaque_value(&self, p: &Path) -> Option<u8> {
        if self.plain {
            return None;
        }
        let v = xattr::get(p, &self.xattrs.name("opaque"));
        if v.is_none() && xattr::get(p, &self.xattrs.other("opaque")).is_some() {
            // The advice fits the option in force: with --userxattr given, the trusted
            // attribute is ignored because userxattr was asked for.
            let advice = match self.xattrs {
                Xattrs::Trusted => "use --userxattr if the snapshotter mounted with userxattr",
                Xattrs::User => {
                    "ignored because --userxattr was given: leave it out if the snapshotter mounted without userxattr"
                }
            };
            self.note(format!(
                "{}: has {} but the mount reads {}* ({advice})",
                p.display(),
                self.xattrs.other("opaque"),
                self.xattrs.prefix()
            ));
        }
        match v.as_deref() {
            Some([b]) => Some(*b),
            _ => None,
        }
    }

    /// True when directory `p` (of layer `l`) hides the layers below it.
    pub fn is_opaque(&self, p: &Path) -> bool {
        self.opaque_value(p) == Some(b'y')
    }

    /// True when the entries of directory `p` in layer `l` may be xwhiteouts.
    fn xwhiteouts_dir(&self, l: usize, p: &Path) -> bool {
        if (l == 0 && self.upper) || self.is_last(l) {
            return false;
        }
        self.opaque_value(p) == Some(b'x') || xattr::get(p, &self.xattrs.name("whiteouts")).is_some()
    }

    /// True when `meta` at `p` (in layer `l`) is a whiteout. The kernel's lookup takes any zero-size regular file with the `whiteout`
    /// attribute for a whiteout, in any layer; only its readdir needs the directory marked
    /// (in a lower layer, not the lowest). Where it is not, the kernel lists a name that
    /// cannot be opened or stat'ed: we follow the lookup and say so.
    fn whiteout_at(&self, l: usize, p: &Path, meta: &Metadata) -> bool {
        if self.plain {
            return false;
        }
        if is_whiteout(meta) {
            return true;
        }
        if !(meta.is_file() && meta.size() == 0 && xattr::get(p, &self.xattrs.name("whiteout")).is_some()) {
            return false;
        }
        if !p.parent().is_some_and(|d| self.xwhiteouts_dir(l, d)) {
            self.note(format!(
                "{}: an xwhiteout ({}) where the kernel's readdir does not apply it (the upper or lowest layer, or a directory without opaque=x): the mount lists the name but cannot open it; not shown",
                p.display(),
                self.xattrs.name("whiteout")
            ));
        }
        true
    }

    /// The redirect of directory `p` in layer `l`, checked; `None` when it has none, is in
    /// the lowest layer (never read there), or is bad (then reported). Problems are worded
    /// with the value as text and escaped once, where they are printed.
    fn redirect_of(&self, l: usize, p: &Path) -> Result<Option<Want>, ()> {
        if self.is_last(l) || self.plain {
            return Ok(None);
        }
        let Some(v) = xattr::get(p, &self.xattrs.name("redirect")) else {
            return Ok(None);
        };
        if !self.follow_redirects {
            self.problem(format!(
                "{}: {} {} not followed: this mount does not follow redirects (userxattr forces redirect_dir=nofollow; the kernel refuses the lookup)",
                p.display(),
                self.xattrs.name("redirect"),
                String::from_utf8_lossy(&v)
            ));
            return Err(());
        }
        match parse_redirect(&v) {
            Ok(w) => Ok(Some(w)),
            Err(why) => {
                self.problem(format!(
                    "{}: {} {} not followed: {why}",
                    p.display(),
                    self.xattrs.name("redirect"),
                    String::from_utf8_lossy(&v)
                ));
                Err(())
            }
        }
    }

    fn is_metacopy(&self, p: &Path, meta: &Metadata) -> bool {
        !self.plain && meta.is_file() && xattr::get(p, &self.xattrs.name("metacopy")).is_some()
    }

    /// The layers merged into the merged root: all of them. The kernel never looks the root
    /// up: it is always a merge of every layer's root (`ovl_get_root`, "Root is always
    /// merge"), so `opaque=y` on a layer's root hides nothing (containerd's overlay applier
    /// sets it there for a layer tar with a top-level `.wh..wh..opq`). Said as a note.
    fn root_layers(&self) -> &[usize] {
        self.roots.get_or_init(|| {
            let mut out = Vec::new();
            for (l, p) in self.layers.iter().enumerate() {
                match std::fs::symlink_metadata(p) {
                    Ok(m) if m.is_dir() => {
                        out.push(l);
                        if self.is_opaque(p) && !self.is_last(l) {
                            self.note(format!(
                                "{}: {}=y on a layer's root directory, ignored as the kernel ignores it (the overlay root always merges every layer)",
                                p.display(),
                                self.xattrs.name("opaque")
                            ));
                        }
                    }
                    _ => break,
                }
            }
            out
        })
    }

    /// The merged root: every layer whose root is a real directory (a layer root that is a
    /// symlink is refused: `Err` names it).
    pub fn root(&self) -> Result<Node, String> {
        let mut first: Option<(usize, Metadata)> = None;
        for (l, p) in self.layers.iter().enumerate() {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => {
                    if first.is_none() {
                        first = Some((l, m));
                    }
                }
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!("{}: a symlink, not followed", p.display()));
                }
                Ok(_) => return Err(format!("{}: not a directory", p.display())),
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
        let (layer, meta) = first.ok_or_else(|| "no layers".to_string())?;
        let dirs = self
            .root_layers()
            .iter()
            .map(|&l| Dir {
                layer: l,
                rel: PathBuf::new(),
            })
            .collect();
        Ok(Node {
            layer,
            meta,
            file: self.layer(layer).to_path_buf(),
            dirs,
            data: None,
        })
    }

    /// Lists merged directory `dir`: the names in the first `upto` of its layer directories
    /// (every one, for the merged listing), read and not looked at. A directory of a layer
    /// that cannot be read is reported (in `problems`, or as refused) and skipped.
    pub fn list(&self, dir: &Node, upto: usize, problems: &mut Vec<String>) -> Listing {
        let mut listing = Listing::default();
        for (i, d) in dir.dirs.iter().enumerate().take(upto) {
            let Ok(index) = u32::try_from(i) else { break };
            listing.listed = i + 1;
            let path = join(self.layer(d.layer), &d.rel);
            // Listed, then gone (a running container's upper dir changes under the walk):
            // nothing to merge, and no damage; a disk image at rest never does this. Not a
            // directory (the upper's entry replaced it): nothing of it below.
            let mut entries = match self.files.read_dir(&path) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) => {
                    continue;
                }
                Err(e) if crate::damage::refused_by_system(&e) => {
                    self.refused(format!("{}: {e}", path.display()));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            while let Some(e) = entries.next_raw() {
                match e {
                    Ok((_, name)) => listing.push(name.to_bytes(), index),
                    Err(err) if crate::damage::refused_by_system(&err) => {
                        self.refused(format!("{}: {err}", path.display()));
                        break;
                    }
                    Err(err) => {
                        problems.push(format!("{}: {err}", path.display()));
                        break;
                    }
                }
            }
        }
        listing.sort();
        listing
    }

    /// The merged entry of the name whose hits start at `at` in `listing`, a listing of
    /// `dir` ([`Stack::list`]): only the layer directories that listed the name are looked
    /// at (those not listed are asked). `None` when a whiteout hides it, or it is gone.
    pub fn entry(&self, dir: &Node, listing: &Listing, at: usize) -> Option<Node> {
        let (name, end) = listing.name_at(at)?;
        let mut hits = listing
            .hits
            .get(at..end)
            .unwrap_or_default()
            .iter()
            .map(|h| h.dir)
            .peekable();
        self.lookup_with(dir, name, &mut |i| {
            let d = dir.dirs.get(i)?;
            if i < listing.listed {
                // The listing's hits are in order of the directories, as the lookup asks.
                while hits.next_if(|&h| (h as usize) < i).is_some() {}
                hits.next_if(|&h| h as usize == i)?;
            }
            let p = join(self.layer(d.layer), &d.rel).join(OsStr::from_bytes(name));
            std::fs::symlink_metadata(&p)
                .inspect_err(|e| self.failed_stat(&p, e))
                .ok()
        })
    }

    /// The merged entries of directory `dir` (whiteouts applied), in byte order of their
    /// names, all held at once: for small directories and tests; a walk takes them one at a
    /// time ([`Stack::list`], [`Stack::entry`]). Problems lookups met are added to `problems`.
    pub fn children(&self, dir: &Node, problems: &mut Vec<String>) -> BTreeMap<Vec<u8>, Node> {
        let listing = self.list(dir, dir.dirs.len(), problems);
        let mut out = BTreeMap::new();
        let mut at = 0;
        while let Some((name, next)) = listing.name_at(at) {
            if let Some(n) = self.entry(dir, &listing, at) {
                out.insert(name.to_vec(), n);
            }
            at = next;
        }
        problems.extend(self.take_problems());
        out
    }

    /// The merged entry `name` of directory `dir`, without listing it.
    pub fn child(&self, dir: &Node, name: &OsStr) -> Option<Node> {
        let name_b = name.as_bytes();
        self.lookup_with(dir, name_b, &mut |i| {
            let d = dir.dirs.get(i)?;
            let p = join(self.layer(d.layer), &d.rel).join(name);
            std::fs::symlink_metadata(&p)
                .inspect_err(|e| self.failed_stat(&p, e))
                .ok()
        })
    }

    /// The lookup of `name` in merged directory `dir`, as `ovl_lookup` does it. `hit(i)` is
    /// the lstat of `name` in the i-th of `dir.dirs` (asked in order, once each).
    fn lookup_with(&self, dir: &Node, name: &[u8], hit: &mut dyn FnMut(usize) -> Option<Metadata>) -> Option<Node> {
        let mut node: Option<Node> = None;
        let mut want = Want::Name(name.to_vec());
        let mut redirects = 0usize;
        // The directory whose redirect is being followed.
        let mut followed: Option<PathBuf> = None;
        let mut found_below = false;
        // The layer last looked at; the next one is the first below it in the directory set
        // the current `want` walks (the parent's dirs for a name, the root's for a path).
        let mut cur: Option<usize> = None;
        let mut idx = 0usize;
        // Set when an opaque directory was on an absolute path: this layer is the last.
        let mut stop_after = false;
        // The entry is a metacopy file (its data is looked for below).
        let mut metacopy_entry = false;
        loop {
            // The next layer, its path and what is there.
            let (l, rel, meta) = match &want {
                Want::Name(n) if n.as_slice() == name && followed.is_none() => {
                    let Some(d) = dir.dirs.get(idx) else { break };
                    let i = idx;
                    idx += 1;
                    cur = Some(d.layer);
                    let Some(meta) = hit(i) else { continue };
                    (d.layer, d.rel.join(OsStr::from_bytes(name)), meta)
                }
                Want::Name(n) => {
                    let after = cur;
                    let Some(d) = dir.dirs.iter().find(|d| after.is_none_or(|c| d.layer > c)) else {
                        break;
                    };
                    cur = Some(d.layer);
                    let parent = join(self.layer(d.layer), &d.rel);
                    let Ok(meta) = std::fs::symlink_metadata(parent.join(OsStr::from_bytes(n))) else {
                        continue;
                    };
                    (d.layer, d.rel.join(OsStr::from_bytes(n)), meta)
                }
                Want::Abs(_) => {
                    let after = cur;
                    let Some(&l) = self.root_layers().iter().find(|&&l| after.is_none_or(|c| l > c)) else {
                        break;
                    };
                    cur = Some(l);
                    match self.walk_abs(l, &mut want, &mut redirects) {
                        Walk::Missing => continue,
                        Walk::Stop => break,
                        Walk::Found(rel, meta, opaque) => {
                            stop_after = opaque;
                            (l, rel, meta)
                        }
                    }
                }
            };
            let path = join(self.layer(l), &rel);
            // The first entry met at a redirect's path (its origin).
            let origin = followed.is_some() && !found_below;
            if followed.is_some() {
                found_below = true;
            }
            match &mut node {
                None => {
                    if self.whiteout_at(l, &path, &meta) {
                        return None;
                    }
                    let is_dir = meta.is_dir();
                    let metacopy = !is_dir && self.is_metacopy(&path, &meta);
                    metacopy_entry = metacopy;
                    node = Some(Node {
                        layer: l,
                        meta,
                        file: path.clone(),
                        dirs: if is_dir {
                            vec![Dir {
                                layer: l,
                                rel: rel.clone(),
                            }]
                        } else {
                            Vec::new()
                        },
                        data: None,
                    });
                    if metacopy && !self.metacopy {
                        self.problem(format!(
                            "{}: a metacopy file, not followed: this mount does not follow metacopy (userxattr forces metacopy=off; the kernel refuses the lookup)",
                            path.display()
                        ));
                        break;
                    }
                    if metacopy {
                        // The data is in the next lower file of this path, or of the file's
                        // own redirect: an absolute one from the root, a relative one (a file
                        // renamed in its directory) a name in the same directory.
                        if let Ok(Some(w)) = self.redirect_of(l, &path) {
                            want = want.redirected(w);
                            followed = Some(path.clone());
                        }
                        continue;
                    }
                    if !is_dir || self.is_opaque(&path) {
                        break;
                    }
                }
                Some(n) if n.is_dir() => {
                    if !meta.is_dir() || self.whiteout_at(l, &path, &meta) {
                        // A redirect's origin that is not a directory (a symlink, a file, a
                        // whiteout) ends the merge there, as in the kernel; a rename never
                        // leaves one, so it is said.
                        if origin && let Some(from) = &followed {
                            let what = if self.whiteout_at(l, &path, &meta) {
                                "a whiteout"
                            } else {
                                crate::paths::kind_of(&meta.file_type())
                            };
                            self.problem(format!(
                                "{}: {} points to {}, {what}, not a directory: nothing below is merged",
                                from.display(),
                                self.xattrs.name("redirect"),
                                path.display()
                            ));
                        }
                        break;
                    }
                    n.dirs.push(Dir {
                        layer: l,
                        rel: rel.clone(),
                    });
                    if self.is_opaque(&path) {
                        break;
                    }
                }
                Some(n) => {
                    // A metacopy file looking for its data.
                    if self.whiteout_at(l, &path, &meta) || !meta.is_file() {
                        break;
                    }
                    if !self.is_metacopy(&path, &meta) {
                        n.data = Some(path);
                        break;
                    }
                    if stop_after {
                        break;
                    }
                    // A lower layer's metacopy file (metadata changed again above it): its
                    // redirect, if any, says where the layers below keep the data, as the
                    // kernel follows it (a file renamed in one layer, chmod'ed a layer up).
                    match self.redirect_of(l, &path) {
                        Ok(Some(w)) => {
                            redirects += 1;
                            if redirects > MAX_REDIRECTS {
                                self.problem(format!(
                                    "{}: more than {MAX_REDIRECTS} redirects, stopped",
                                    path.display()
                                ));
                                break;
                            }
                            want = want.redirected(w);
                            followed = Some(path.clone());
                        }
                        Ok(None) => {}
                        Err(()) => break,
                    }
                    continue;
                }
            }
            // A directory: its redirect decides where the layers below are read.
            match self.redirect_of(l, &path) {
                Ok(Some(w)) => {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        self.problem(format!(
                            "{}: more than {MAX_REDIRECTS} redirects, stopped",
                            path.display()
                        ));
                        break;
                    }
                    followed = Some(path.clone());
                    found_below = false;
                    if matches!(w, Want::Abs(_)) {
                        stop_after = false;
                    }
                    want = want.redirected(w);
                }
                Ok(None) => {}
                Err(()) => break,
            }
            if stop_after {
                break;
            }
        }
        let mut node = node?;
        if let Some(from) = followed
            && !found_below
            && node.is_dir()
        {
            self.problem(format!(
                "{}: {} points to a path no layer below has",
                from.display(),
                self.xattrs.name("redirect")
            ));
        }
        if self.metacopy && metacopy_entry && node.data.is_none() {
            // Where the data was last looked for: the file's own path, or where its
            // redirects (and those of the metacopy files below it) sent the lookup.
            let at = match &want {
                Want::Abs(comps) => comps.join(&b'/'),
                Want::Name(n) => {
                    let mut p = dir.dirs.first().map(|d| d.rel.clone()).unwrap_or_default();
                    p.push(OsStr::from_bytes(n));
                    p.into_os_string().into_vec()
                }
            };
            self.problem(format!(
                "{}: a metacopy file whose data no lower layer has at /{} (its own, empty or sparse, is shown)",
                node.file.display(),
                String::from_utf8_lossy(&at)
            ));
        }
        node.dirs.dedup();
        Some(node)
    }

    /// Walks `want` (absolute) from layer `l`'s root, one directory at a time, no symlink
    /// followed. Redirects of the directories on the way rewrite `want` for the layers below.
    fn walk_abs(&self, l: usize, want: &mut Want, redirects: &mut usize) -> Walk {
        let Want::Abs(comps) = want.clone() else {
            return Walk::Missing;
        };
        let mut rel = PathBuf::new();
        let mut rewritten: Option<Want> = None;
        // An opaque directory on the way ends the lookup after this layer, unless a directory
        // after it has an absolute redirect (xfstests overlay/057).
        let mut opaque_on_way = false;
        let last = comps.len().saturating_sub(1);
        for (i, c) in comps.iter().enumerate() {
            rel.push(OsStr::from_bytes(c));
            let p = join(self.layer(l), &rel);
            let meta = std::fs::symlink_metadata(&p).inspect_err(|e| self.failed_stat(&p, e));
            let Ok(meta) = meta else {
                if opaque_on_way {
                    return Walk::Stop;
                }
                if let Some(w) = rewritten {
                    *want = w;
                }
                return Walk::Missing;
            };
            if i == last {
                if let Some(w) = rewritten {
                    *want = w;
                }
                return Walk::Found(rel, meta, opaque_on_way);
            }
            if !meta.is_dir() || is_whiteout(&meta) {
                // Something else is on the way: nothing of this path here or below.
                return Walk::Stop;
            }
            if self.is_opaque(&p) {
                opaque_on_way = true;
                continue;
            }
            match self.redirect_of(l, &p) {
                Ok(Some(w)) => {
                    *redirects += 1;
                    if *redirects > MAX_REDIRECTS {
                        return Walk::Stop;
                    }
                    let w_kind = if matches!(w, Want::Abs(_)) {
                        WantKind::Abs
                    } else {
                        WantKind::Name
                    };
                    let rest = comps.get(i + 1..).unwrap_or_default();
                    let mut new: Vec<Vec<u8>> = match w {
                        Want::Abs(a) => a,
                        Want::Name(n) => {
                            let mut v: Vec<Vec<u8>> = comps.get(..i).unwrap_or_default().to_vec();
                            v.push(n);
                            v
                        }
                    };
                    new.extend(rest.iter().cloned());
                    if matches!(w_kind, WantKind::Abs) {
                        opaque_on_way = false;
                    }
                    rewritten = Some(Want::Abs(new));
                }
                Ok(None) => {}
                Err(()) => return Walk::Stop,
            }
        }
        Walk::Missing
    }

    /// The path of a merged entry's own file (kept for callers: `node.file`).
    pub fn path_of(&self, node: &Node, _rel: &Path) -> PathBuf {
        node.file.clone()
    }

    /// Resolves `path` (absolute or relative to the merged root) in the merged tree. Symlinks
    /// are followed inside the merged tree (an absolute target restarts at the merged root,
    /// `..` stops at it), the last one only when `follow_last`. Returns the entry and its path
    /// relative to the merged root; `Err` says why there is none.
    pub fn resolve(&self, path: &[u8], follow_last: bool) -> Result<(PathBuf, Node), Unresolved> {
        let root = self.root().map_err(Unresolved::missing)?;
        // The components still to walk, last first (popped from the end).
        let mut todo: Vec<Vec<u8>> = components(path).into_iter().rev().collect();
        let mut at: Vec<(Vec<u8>, Node)> = Vec::new();
        let mut links = 0usize;
        while let Some(c) = todo.pop() {
            let (rel, dir) = match at.last() {
                Some((_, n)) => (rel_of(&at), n),
                None => (PathBuf::new(), &root),
            };
            // Whatever follows a name, `.`, `..` or a trailing `/` too, needs it to be a
            // directory (`/etc/passwd/` is ENOTDIR in the kernel, as `/etc/passwd/x`).
            if !dir.is_dir() {
                // Named from the merged root, as the user gave it (`/etc`, not `etc`).
                return Err(Unresolved::missing(format!(
                    "/{}: not a directory",
                    crate::text::escape(rel.as_os_str().as_bytes())
                )));
            }
            if c == b"." {
                continue;
            }
            if c == b".." {
                at.pop();
                continue;
            }
            let name = OsString::from_vec(c.clone());
            let Some(node) = self.child(dir, &name) else {
                let shown = crate::text::escape(rel.join(&name).as_os_str().as_bytes());
                // Layers are looked at by path, and the system looks up no path longer than
                // PATH_MAX: such a name was not looked at, which says nothing of whether it
                // is there (the walks stop at that depth too, and say so).
                if let Some(d) = dir
                    .dirs
                    .iter()
                    .find(|d| join(self.layer(d.layer), &d.rel).join(&name).as_os_str().len() >= PATH_MAX)
                {
                    return Err(Unresolved {
                        message: format!(
                            "/{shown}: not looked up: its path in layer {} is longer than the system looks up (PATH_MAX, {PATH_MAX} bytes)",
                            self.layer(d.layer).display()
                        ),
                        too_deep: true,
                    });
                }
                return Err(Unresolved::missing(format!("/{shown}: no such file or directory")));
            };
            let last = todo.is_empty();
            if node.meta.file_type().is_symlink() && (follow_last || !last) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Unresolved::missing(format!(
                        "{}: too many levels of symbolic links",
                        crate::text::escape(path)
                    )));
                }
                let target = std::fs::read_link(&node.file).map_err(|e| {
                    Unresolved::missing(format!(
                        "/{}: {e}",
                        crate::text::escape(rel.join(&name).as_os_str().as_bytes())
                    ))
                })?;
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

/// Why [`Stack::resolve`] found no entry.
#[derive(Debug)]
pub struct Unresolved {
    /// What to say, the path named from the merged root (escaped).
    pub message: String,
    /// The path was too long to be looked up (PATH_MAX): the entry may well be there, so it is
    /// damage to say (exit 3), not a missing file.
    pub too_deep: bool,
}

impl Unresolved {
    fn missing(message: String) -> Unresolved {
        Unresolved {
            message,
            too_deep: false,
        }
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What an absolute walk met in one layer.
// Lives for one step of one lookup; boxing would cost an allocation per step.
#[allow(clippy::large_enum_variant)]
enum Walk {
    /// Not there: try the next layer.
    Missing,
    /// A non-directory or whiteout on the way: nothing below either.
    Stop,
    /// The path's last component: its path in the layer, lstat, and whether an opaque
    /// directory was on the way.
    Found(PathBuf, Metadata, bool),
}

/// Which kind a redirect is, kept after its value moved.
enum WantKind {
    Abs,
    Name,
}

/// The components of a path, without empty ones; a trailing `/` is a last `.`, so that, as in
/// the kernel, the name before it must be a directory and a symlink there is followed.
fn components(path: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if path.last() == Some(&b'/') && !out.is_empty() {
        out.push(b".".to_vec());
    }
    out
}

fn rel_of(at: &[(Vec<u8>, Node)]) -> PathBuf {
    let mut p = PathBuf::new();
    for (c, _) in at {
        p.push(OsStr::from_bytes(c));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of names (a small xorshift's picks from a few bytes, so that names repeat
    /// across directories and share prefixes) groups, orders and finds them as a map of each
    /// name to its directories does; `add_names` adds exactly the names it lacked.
    #[test]
    fn listings_group_order_and_find_names_as_a_map_does() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..200 {
            let name = |next: &mut dyn FnMut(u64) -> u64| -> Vec<u8> {
                let len = 1 + next(4) as usize;
                (0..len)
                    .map(|_| [b'a', b'b', b'.', 0xff, b'\n'][next(5) as usize])
                    .collect()
            };
            let mut listing = Listing::default();
            let mut model: BTreeMap<Vec<u8>, BTreeSet<u32>> = BTreeMap::new();
            let dirs = 1 + next(5) as u32;
            for dir in 0..dirs {
                // One directory lists a name once.
                let names: BTreeSet<Vec<u8>> = (0..next(12)).map(|_| name(&mut next)).collect();
                for n in names {
                    listing.push(&n, dir);
                    model.entry(n).or_default().insert(dir);
                }
            }
            listing.sort();
            let mut got: BTreeMap<Vec<u8>, BTreeSet<u32>> = BTreeMap::new();
            let mut order = Vec::new();
            let mut at = 0;
            while let Some((n, end)) = listing.name_at(at) {
                assert_eq!(listing.find(n), Some(at));
                let dirs: Vec<u32> = listing.hits[at..end].iter().map(|h| h.dir).collect();
                assert!(dirs.windows(2).all(|w| w[0] < w[1]), "{dirs:?}");
                assert!(got.insert(n.to_vec(), dirs.into_iter().collect()).is_none());
                order.push(n.to_vec());
                at = end;
            }
            assert_eq!(got, model);
            assert!(order.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(listing.find(b"/"), None);
            // The names of another listing added: each once, those it had keep their hits.
            let mut other = Listing::default();
            let extra: BTreeSet<Vec<u8>> = (0..next(12)).map(|_| name(&mut next)).collect();
            for n in &extra {
                other.push(n, 0);
            }
            other.sort();
            listing.add_names(&other);
            for n in &extra {
                model.entry(n.clone()).or_default();
            }
            let mut merged: BTreeMap<Vec<u8>, BTreeSet<u32>> = BTreeMap::new();
            let mut at = 0;
            while let Some((n, end)) = listing.name_at(at) {
                let dirs = listing.hits[at..end].iter().map(|h| h.dir).filter(|&d| d != Hit::NONE);
                assert!(merged.insert(n.to_vec(), dirs.collect()).is_none());
                at = end;
            }
            assert_eq!(merged, model);
        }
    }

    /// Sweep 41: with --userxattr given, a `trusted.overlay.opaque` directory was noted with
    /// the advice to use --userxattr. Each mode's note advises what fits it.
    #[test]
    fn the_other_namespaces_opaque_note_fits_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let (upper, lower) = (tmp.path().join("upper"), tmp.path().join("lower"));
        std::fs::create_dir_all(upper.join("d")).unwrap();
        std::fs::create_dir_all(lower.join("d")).unwrap();
        let set = |name: &str| {
            let c = std::ffi::CString::new(upper.join("d").into_os_string().into_vec()).unwrap();
            let n = std::ffi::CString::new(name).unwrap();
            // SAFETY: NUL-terminated strings, a 1-byte value.
            unsafe { libc::lsetxattr(c.as_ptr(), n.as_ptr(), b"y".as_ptr().cast(), 1, 0) == 0 }
        };
        for (mode, other, advice) in [
            (Xattrs::Trusted, "user.overlay.opaque", "(use --userxattr if"),
            (
                Xattrs::User,
                "trusted.overlay.opaque",
                "(ignored because --userxattr was given",
            ),
        ] {
            let _ = xattr_remove(&upper.join("d"), "user.overlay.opaque");
            let _ = xattr_remove(&upper.join("d"), "trusted.overlay.opaque");
            if !set(other) {
                eprintln!("{other} cannot be set here (trusted.* needs root): skipped");
                continue;
            }
            let stack = Stack::with(vec![upper.clone(), lower.clone()], mode, true);
            let root = stack.root().unwrap();
            assert!(stack.child(&root, OsStr::new("d")).is_some());
            let notes = stack.take_notes();
            assert!(
                notes.len() == 1 && notes.iter().all(|n| n.contains(other) && n.contains(advice)),
                "{mode:?}: {notes:?}"
            );
        }
    }

    fn xattr_remove(p: &Path, name: &str) -> bool {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        let n = std::ffi::CString::new(name).unwrap();
        // SAFETY: NUL-terminated strings.
        unsafe { libc::lremovexattr(c.as_ptr(), n.as_ptr()) == 0 }
    }

    /// Sweep 41: `/etc/passwd/` resolved to the file; the kernel says ENOTDIR for a trailing
    /// `/` (or `/.`, `/..`) after a non-directory, and follows a symlink there.
    #[test]
    fn a_trailing_slash_needs_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let layer = tmp.path().join("layer");
        std::fs::create_dir_all(layer.join("etc")).unwrap();
        std::fs::write(layer.join("etc/passwd"), b"root\n").unwrap();
        std::os::unix::fs::symlink("etc/passwd", layer.join("flink")).unwrap();
        std::os::unix::fs::symlink("/etc", layer.join("dlink")).unwrap();
        let stack = Stack::new(vec![layer]);
        for (path, said) in [
            ("/etc/passwd/", "/etc/passwd: not a directory"),
            ("/etc/passwd/.", "/etc/passwd: not a directory"),
            ("/etc/passwd/..", "/etc/passwd: not a directory"),
            ("etc/passwd//", "/etc/passwd: not a directory"),
            ("/flink/", "/etc/passwd: not a directory"),
        ] {
            for follow_last in [false, true] {
                let e = stack.resolve(path.as_bytes(), follow_last).unwrap_err();
                assert_eq!((e.message.as_str(), e.too_deep), (said, false), "{path}");
            }
        }
        for (path, rel, dir) in [
            ("/etc/passwd", "etc/passwd", false),
            ("/etc/./passwd", "etc/passwd", false),
            ("/etc/", "etc", true),
            ("/etc/.", "etc", true),
            ("/", "", true),
            ("/dlink/", "etc", true),
            ("/dlink/passwd", "etc/passwd", false),
        ] {
            let (got, n) = stack.resolve(path.as_bytes(), false).unwrap();
            assert_eq!((got, n.is_dir()), (PathBuf::from(rel), dir), "{path}");
        }
    }

    /// Sweep 41: a path that exists but is longer than PATH_MAX in its layer was said to be
    /// missing (exit 1); it was only not looked up, and says so (too deep, exit 3).
    #[test]
    fn a_path_too_long_to_look_up_is_not_called_missing() {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let tmp = tempfile::tempdir().unwrap();
        let layer = tmp.path().join("layer");
        std::fs::create_dir(&layer).unwrap();
        // 20 levels of 250-byte names: past PATH_MAX by path, made one level at a time.
        let name = "d".repeat(250);
        let c = std::ffi::CString::new(name.clone()).unwrap();
        let mut dir = std::fs::File::open(&layer).unwrap();
        for _ in 0..20 {
            // SAFETY: an open directory and a NUL-terminated name; the new descriptor is owned.
            let fd = unsafe {
                assert_eq!(libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755), 0);
                libc::openat(dir.as_raw_fd(), c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY)
            };
            assert!(fd >= 0);
            // SAFETY: a descriptor just returned, owned by nothing else.
            dir = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let stack = Stack::new(vec![layer.clone()]);
        let deep = |n: usize| format!("/{name}").repeat(n);
        assert!(stack.resolve(deep(10).as_bytes(), true).unwrap().1.is_dir());
        let e = stack.resolve(deep(20).as_bytes(), true).unwrap_err();
        assert!(e.too_deep, "{e}");
        assert!(e.message.contains("longer than the system looks up (PATH_MAX"), "{e}");
        // Named down to the first component that could not be looked up.
        let (named, _) = e.message.split_once(": not looked up").unwrap();
        assert!(deep(20).starts_with(named) && named.ends_with(&name), "{e}");
        let in_layer = layer.as_os_str().len() + named.len();
        assert!((PATH_MAX..PATH_MAX + 251).contains(&in_layer), "{e}");
        let e = stack
            .resolve(format!("{}/none", deep(10)).as_bytes(), true)
            .unwrap_err();
        assert!(
            !e.too_deep && e.message.ends_with("/none: no such file or directory"),
            "{e}"
        );
    }

    /// A running container's upper dir changes under the walk: names listed and gone before
    /// they are looked at (and directories listed, then removed before they are read) were
    /// damage (sweep 15: `diff` of a busy container exited 3 in 7 runs of 40). A race, so
    /// run many times while a writer churns; no problem may be reported in any of them.
    #[test]
    fn names_gone_between_listing_and_lookup_are_no_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let upper = tmp.path().join("upper");
        std::fs::create_dir_all(upper.join("churn")).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let mut problems = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let d = upper.join(format!("churn/d{}", n % 64));
                    let _ = std::fs::create_dir_all(&d);
                    let _ = std::fs::write(d.join("f"), b"x");
                    let _ = std::fs::remove_dir_all(upper.join(format!("churn/d{}", (n + 32) % 64)));
                    n += 1;
                }
            });
            let stack = Stack::new(vec![upper.clone()]);
            if let Ok(root) = stack.root() {
                for _ in 0..400 {
                    let top = stack.children(&root, &mut problems);
                    if let Some(churn) = top.get(b"churn".as_slice()) {
                        for d in stack.children(churn, &mut problems).values() {
                            stack.children(d, &mut problems);
                        }
                    }
                }
            }
            // The writer stops before anything is asserted (a panic here would wait for it).
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        assert!(problems.is_empty(), "{problems:?}");
    }
}
