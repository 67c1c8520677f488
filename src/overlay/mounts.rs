//! The mount a snapshot gets from containerd's overlay snapshotter (`ctr snapshots mounts`),
//! and a read-only variant for evidence.
//!
//! containerd (`plugins/snapshots/overlay`, `mounts`), with parents listed nearest first:
//!
//! ```text
//! no parent                 bind <own fs>                   rw,rbind (ro,rbind for a view)
//! active                    overlay  workdir=<own work>,upperdir=<own fs>,lowerdir=<parents>,index=off
//! view, one parent          bind <parent fs>                ro,rbind
//! view, several parents     overlay  lowerdir=<parents>,index=off
//! committed                 none: containerd refuses ("not active or view")
//! ```
//!
//! The native snapshotter (`snapshots/native`, `mounts`) never stacks: every active or
//! committed snapshot, and one without a parent, has a full copy of its tree in its own
//! directory; a view of a parent has no directory and shows the parent's:
//!
//! ```text
//! active, or no parent      bind <own dir>                  rbind,rw (rbind,ro for a view)
//! view of a parent          bind <first parent's dir>       rbind,ro
//! ```
//!
//! `ctr` prints each as `mount -t <type> <source> <target> -o <options joined by ,>`.
//!
//! Options that come from the daemon rather than the disk (`NewSnapshotter`, `mounts`):
//!
//! ```text
//! uidmap=<label> gidmap=<label>  first, on every mount (bind too), when the snapshot has the
//!                                labels containerd.io/snapshot/{uid,gid}mapping (user-namespaced
//!                                pods) and the kernel does idmapped overlay mounts (5.19+:
//!                                plugin capability remap-ids, containerd 2.x)
//! <mount_options...>             the plugin config's mount_options, after lowerdir (overlay only)
//! userxattr                      when containerd runs in a user namespace (rootless) on a kernel
//!                                5.11+ and not on tmpfs, unless mount_options has it
//! index=off                      always (the kernel has /sys/module/overlay/parameters/index),
//!                                unless mount_options has a bare `index`
//! ```
//!
//! The labels are on disk (the snapshotter's metadata.db); whether the daemon ran rootless, its
//! `mount_options`, and its kernel are not: [`Options`] says what to assume.
//! The read-only variant stacks every layer of the snapshot's tree ([`Index::tree_of`]: the
//! chain, the snapshot's own first, without an overlay view's own directory), as lowerdirs
//! of a read-only overlay, with no upper or work directory: nothing can write. A native
//! snapshot's is a read-only bind of its one directory.

use super::snapshots::{Index, Snap};
use std::path::Path;

/// A containerd release, as far as what coldctr prints differs between them. Where the
/// overlay snapshotter puts its own options (`index=off`, `userxattr`, `mount_options`) in a
/// mount line (`snapshots/overlay` `mounts`):
///
/// ```text
/// 1.6, 1.7.0-1.7.3   index=off,userxattr,workdir=..,upperdir=..,lowerdir=..
/// 1.7.4 to 1.7.x     <mount_options>,userxattr,index=off,workdir=..,upperdir=..,lowerdir=..
/// 2.0 and later      uidmap=..,gidmap=..,workdir=..,upperdir=..,lowerdir=..,<mount_options>,userxattr,index=off
/// ```
///
/// and what `ctr containers info` prints of a record ([`Release::ctr_sandbox`]): 1.6 no
/// `SandboxID`, `"Extensions": null` without extensions; 1.7.0 and later `SandboxID`, `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Release {
    /// 1.6 and before.
    Six,
    /// 1.7.0 to 1.7.3.
    Early,
    /// 1.7.4 and later 1.7 releases.
    Late1,
    /// 2.0 and later.
    #[default]
    Two,
}

impl Release {
    /// `1.6`, `1.6.20`, `1.7`, `1.7.3`, `2`, `2.1.9` (a leading `v` allowed); `1.7` alone is
    /// taken for a late 1.7, the releases nodes run. None for what names no release: a 1
    /// without its minor, a 1.8 or later, a 3 or later (`16` for 1.6 is a typo, not 2.x:
    /// sweep 29.3).
    pub fn parse(v: &str) -> Option<Release> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let mut parts = v.splitn(3, '.');
        let num = |p: Option<&str>| -> Option<Option<u64>> {
            match p {
                None => Some(None),
                // "1.7.4+unknown", "1.6.20~ds1": the digits before the suffix.
                Some(t) => {
                    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().ok().map(Some)
                }
            }
        };
        let major = num(parts.next())??;
        let minor = num(parts.next())?;
        let patch = num(parts.next())?;
        Some(match (major, minor, patch) {
            (1, Some(m), _) if m < 7 => Release::Six,
            (1, Some(7), Some(p)) if p < 4 => Release::Early,
            (1, Some(7), _) => Release::Late1,
            (2, _, _) => Release::Two,
            _ => return None,
        })
    }

    /// The release a meta.db's schema version (`v1/version`) says: 3 is containerd 1.x (a
    /// late 1.7 assumed: the same line as 1.6 unless `userxattr` or mount options are set),
    /// 4 and later 2.x; unknown: 2.x.
    pub fn of_schema(version: Option<i64>) -> Release {
        match version {
            Some(v) if v <= 3 => Release::Late1,
            _ => Release::Two,
        }
    }

    /// The release a store says: its schema version ([`Release::of_schema`]), and for schema
    /// 3 whether its container records carry a `sandboxid` key (`sandbox_keys`; `None`
    /// without any container record). containerd writes that key into every container record
    /// it writes from 1.7.0 on, empty or not (`metadata/containers.go` `writeContainer`), and
    /// 1.6 never: schema 3 with records none of which has it is 1.6.
    pub fn of_store(schema: Option<i64>, sandbox_keys: Option<bool>) -> Release {
        match (Release::of_schema(schema), sandbox_keys) {
            (Release::Late1, Some(false)) => Release::Six,
            (r, _) => r,
        }
    }

    /// The overlay snapshotter writes its own options first, `index=off,userxattr`, as 1.6
    /// did (1.6 and 1.7.0 to 1.7.3).
    pub fn options_first_as_six(self) -> bool {
        matches!(self, Release::Six | Release::Early)
    }

    /// ctr's `containers info` prints 1.7's shape: a `SandboxID` member, and `{}` for a
    /// record without extensions (its client makes the map, `containerFromProto`); 1.6's
    /// has no `SandboxID` and passes on the message's map, nil (`null`) when empty.
    pub fn ctr_sandbox(self) -> bool {
        self != Release::Six
    }
}

/// What the snapshotter's configuration adds to its mounts (not on disk).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The daemon ran in a user namespace (rootless): `userxattr`.
    pub userxattr: bool,
    /// The plugin's `mount_options`.
    pub mount_options: Vec<String>,
    /// Print `uidmap=`/`gidmap=` for remapped snapshots (containerd 2.x on kernel 5.19+).
    pub remap_ids: bool,
    /// Whose line: where the options go, and whether ids are remapped at all (2.x only).
    pub release: Release,
}

impl Options {
    /// The snapshotter's own options, in the order `release` writes them.
    fn plugin_options(&self) -> Vec<String> {
        if !self.release.options_first_as_six() {
            return self.overlay_tail();
        }
        // 1.6's `mounts`: index=off (when the kernel has the parameter), then userxattr.
        let mut out = Vec::new();
        if !self.mount_options.iter().any(|o| o == "index") {
            out.push("index=off".to_string());
        }
        if self.userxattr || self.mount_options.iter().any(|o| o == "userxattr") {
            out.push("userxattr".into());
        }
        out.extend(self.mount_options.iter().filter(|o| *o != "userxattr").cloned());
        out
    }

    /// The options containerd appends to overlay mounts after `lowerdir=`.
    fn overlay_tail(&self) -> Vec<String> {
        let mut out = self.mount_options.clone();
        if self.userxattr && !out.iter().any(|o| o == "userxattr") {
            out.push("userxattr".into());
        }
        // containerd checks for a bare `index` (hasOption without a value), so an `index=on`
        // in mount_options still gets index=off after it.
        if !out.iter().any(|o| o == "index") {
            out.push("index=off".into());
        }
        out
    }

    /// `uidmap=`/`gidmap=` of a remapped snapshot. The labels come from meta.db and the line
    /// is meant to be pasted into a shell: a value that is not `<id>:<id>:<count>` triples
    /// joined by commas (as the CRI and nerdctl write it) refuses the line instead of being
    /// printed.
    fn idmap(&self, snap: &Snap) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        if self.remap_ids && self.release == Release::Two {
            for (label, option) in [
                ("containerd.io/snapshot/uidmapping", "uidmap"),
                ("containerd.io/snapshot/gidmapping", "gidmap"),
            ] {
                let Some(v) = snap.labels.get(label) else {
                    continue;
                };
                if !is_id_mapping(v) {
                    return Err(format!(
                        "label {label} is {:?}, not <id>:<id>:<count>[,...]; no mount line printed",
                        crate::text::escape(v.as_bytes())
                    ));
                }
                out.push(format!("{option}={v}"));
            }
        }
        Ok(out)
    }
}

/// `<id>:<id>:<count>`, one or more joined by `,`, each number in decimal digits.
fn is_id_mapping(v: &str) -> bool {
    v.split(',').all(|triple| {
        let parts: Vec<&str> = triple.split(':').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The line `ctr snapshots mounts <target> <key>` prints for chain `chain` (the snapshot, then
/// its parents), with the node's root as `root`; `Err` when containerd would refuse.
pub fn ctr_line(index: &Index, chain: &[usize], root: &Path, target: &str, opts: &Options) -> Result<String, String> {
    let Some((&own, parents)) = chain.split_first() else {
        return Err("no snapshot".into());
    };
    let snap = index.get(own).ok_or("no snapshot")?;
    let fs = |i: usize| {
        index
            .fs_dir_under(i, root)
            .map(|p| p.display().to_string())
            .ok_or_else(|| "a snapshot without an id".to_string())
    };
    let kind = snap.kind.as_str();
    if kind != "Active" && kind != "View" {
        return Err(format!(
            "snapshot {} ({}) is {kind}: containerd mounts only active snapshots and views",
            crate::text::one_line(snap.key()),
            crate::text::one_line(&snap.snapshotter)
        ));
    }
    if snap.snapshotter == "native" {
        // No idmap options: containerd's native snapshotter has no remapping.
        let [one] = index.tree_of(chain) else {
            return Err(format!(
                "snapshot {} (native) is a view whose parent is not in its chain: the directory it binds is not known",
                crate::text::one_line(snap.key())
            ));
        };
        let ro = if kind == "View" { "ro" } else { "rw" };
        return Ok(format!("mount -t bind {} {target} -o rbind,{ro}", fs(*one)?));
    }
    let mut options = opts.idmap(snap)?;
    if parents.is_empty() {
        options.push(if kind == "View" { "ro" } else { "rw" }.into());
        options.push("rbind".into());
        return Ok(format!("mount -t bind {} {target} -o {}", fs(own)?, options.join(",")));
    }
    if let (false, [one]) = (kind == "Active", parents) {
        // A view of one parent: a read-only bind of it, without the snapshotter's options.
        options.push("ro".into());
        options.push("rbind".into());
        return Ok(format!("mount -t bind {} {target} -o {}", fs(*one)?, options.join(",")));
    }
    let lower: Result<Vec<String>, String> = parents.iter().map(|&p| fs(p)).collect();
    let lower = lower?.join(":");
    // A 1.x release writes its own options first, 2.x after lowerdir (see [`Release`]).
    let first = opts.release != Release::Two;
    if first {
        options.extend(opts.plugin_options());
    }
    if kind == "Active" {
        let work = index
            .work_dir_under(own, root)
            .map(|p| p.display().to_string())
            .ok_or("a snapshot without an id")?;
        options.push(format!("workdir={work}"));
        options.push(format!("upperdir={}", fs(own)?));
    }
    options.push(format!("lowerdir={lower}"));
    if !first {
        options.extend(opts.overlay_tail());
    }
    Ok(format!("mount -t overlay overlay {target} -o {}", options.join(",")))
}

/// What in `path` a printed mount line cannot carry as it is, said as a message says it
/// (quoted, escaped once with [`crate::text::escape`]: print it as it is): a `,` ends a mount
/// option and a `:` a lowerdir; white space and the shell's own characters split or change
/// the command; a byte that is not UTF-8 prints as U+FFFD, naming another directory. `ctr
/// snapshots mounts` prints them as they are, and its line then mounts other directories, or
/// fails.
pub fn uncarried(path: &Path) -> Option<String> {
    let Some(text) = path.to_str() else {
        return Some("a byte that is not UTF-8".into());
    };
    text.chars()
        .find(|&c| c.is_whitespace() || c.is_control() || ",:'\"\\`$;&|<>()*?[]{}~#!".contains(c))
        .map(|c| match c {
            '\'' => "'\\''".to_string(),
            c => format!("'{}'", crate::text::escape(c.encode_utf8(&mut [0; 4]).as_bytes())),
        })
}

/// Every layer of the chain as a lowerdir of a read-only overlay (one layer: a read-only bind).
pub fn read_only_line(
    index: &Index,
    chain: &[usize],
    root: &Path,
    target: &str,
    opts: &Options,
) -> Result<String, String> {
    let dirs: Option<Vec<String>> = index
        .tree_of(chain)
        .iter()
        .map(|&i| index.fs_dir_under(i, root).map(|p| p.display().to_string()))
        .collect();
    let dirs = dirs.ok_or("a snapshot without an id")?;
    match dirs.as_slice() {
        [] => Err("no snapshot, or a view whose parent is not in its chain".into()),
        [one] => Ok(format!("mount -t bind {one} {target} -o ro,rbind")),
        _ => Ok(format!(
            "mount -t overlay overlay {target} -o ro,lowerdir={}{},index=off",
            dirs.join(":"),
            if opts.userxattr { ",userxattr" } else { "" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::snapshots::Snap;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn snap(key: &str, id: u64, kind: &str, parent: Option<&str>, labels: &[(&str, &str)]) -> Snap {
        Snap {
            snapshotter: "overlayfs".into(),
            backend_key: key.into(),
            id: Some(id),
            kind: kind.into(),
            backend_parent: parent.map(str::to_string),
            size: None,
            inodes: None,
            created_at: None,
            names: Vec::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn paths_a_mount_line_cannot_carry_are_named_by_their_character() {
        use std::os::unix::ffi::OsStrExt;
        for (path, said) in [
            (&b"/evidence/case:1/var/lib/containerd"[..], Some("':'")),
            (b"/evidence/a,b", Some("','")),
            (b"/evidence/sp ace", Some("' '")),
            (b"/evidence/tab\there", Some("'\\t'")),
            (b"/evidence/$(reboot)", Some("'$'")),
            (b"/evidence/it's", Some("'\\''")),
            (b"/evidence/back\\slash", Some("'\\\\'")),
            (b"/evidence/esc\x1b]0;x", Some("'\\x1b'")),
            (b"/evidence/bad\xe9root", Some("a byte that is not UTF-8")),
            ("/evidence/plain-2026_12.03+x@y=z%/ünï".as_bytes(), None),
        ] {
            let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
            assert_eq!(uncarried(p).as_deref(), said, "{}", p.display());
        }
    }

    /// containerd 2.x's `mounts()` for a remapped snapshot (labels set by the CRI for a pod
    /// with a user namespace): uidmap/gidmap first, on bind mounts too.
    #[test]
    fn a_mapping_label_that_is_no_mapping_refuses_the_line() {
        let index = Index::from_snaps(
            PathBuf::from("/r"),
            vec![snap(
                "k",
                1,
                "Active",
                None,
                &[("containerd.io/snapshot/uidmapping", "0:1:2; rm -rf /")],
            )],
        );
        let opts = Options {
            remap_ids: true,
            ..Options::default()
        };
        let e = ctr_line(&index, &[0], Path::new("/r"), "/mnt", &opts).unwrap_err();
        assert!(
            e.contains("containerd.io/snapshot/uidmapping") && e.contains("no mount line"),
            "{e}"
        );
        let opts = Options {
            remap_ids: false,
            ..Options::default()
        };
        assert!(
            ctr_line(&index, &[0], Path::new("/r"), "/mnt", &opts).is_ok(),
            "not used, not checked"
        );
        // nerdctl writes several ranges joined by commas.
        assert!(is_id_mapping("0:1000:1,1:100000:65535") && is_id_mapping("0:65536:65536"));
        assert!(!is_id_mapping("0:1:2,") && !is_id_mapping("0:1") && !is_id_mapping("0:1:2 ") && !is_id_mapping(""));
    }

    #[test]
    fn remapped_snapshots_get_idmap_options_first() {
        let ids = [
            ("containerd.io/snapshot/uidmapping", "0:65536:65536"),
            ("containerd.io/snapshot/gidmapping", "0:65536:65536"),
        ];
        let index = Index::from_snaps(
            PathBuf::from("/r"),
            vec![
                snap("base", 1, "Committed", None, &[]),
                snap("mid", 2, "Committed", Some("base"), &[]),
                snap("top", 3, "Active", Some("mid"), &ids),
                snap("alone", 4, "Active", None, &ids),
                snap("view", 5, "View", Some("base"), &ids[..1]),
            ],
        );
        let d = "/r/io.containerd.snapshotter.v1.overlayfs/snapshots";
        let line = |i: usize, o: &Options| ctr_line(&index, &index.chain(i).0, Path::new("/r"), "/mnt", o).unwrap();
        let on = Options {
            remap_ids: true,
            ..Options::default()
        };
        assert_eq!(
            line(2, &on),
            format!(
                "mount -t overlay overlay /mnt -o uidmap=0:65536:65536,gidmap=0:65536:65536,workdir={d}/3/work,upperdir={d}/3/fs,lowerdir={d}/2/fs:{d}/1/fs,index=off"
            )
        );
        assert_eq!(
            line(3, &on),
            format!("mount -t bind {d}/4/fs /mnt -o uidmap=0:65536:65536,gidmap=0:65536:65536,rw,rbind")
        );
        assert_eq!(
            line(4, &on),
            format!("mount -t bind {d}/1/fs /mnt -o uidmap=0:65536:65536,ro,rbind")
        );
        // Without remap-ids (containerd 1.x, kernels before 5.19) the labels only chowned.
        assert_eq!(
            line(2, &Options::default()),
            format!(
                "mount -t overlay overlay /mnt -o workdir={d}/3/work,upperdir={d}/3/fs,lowerdir={d}/2/fs:{d}/1/fs,index=off"
            )
        );
        // Configured mount_options go after lowerdir; a bare `index` keeps index=off out.
        let cfg = Options {
            userxattr: true,
            mount_options: vec!["index".into(), "userxattr".into()],
            remap_ids: false,
            release: Release::Two,
        };
        assert!(line(2, &cfg).ends_with(&format!("lowerdir={d}/2/fs:{d}/1/fs,index,userxattr")));
    }

    /// Each release's order, as its `snapshots/overlay` `mounts` writes it (1.6.20 and 1.7.0:
    /// index=off then userxattr first; 1.7.4 to 1.7.28: `o.options`, built as mount_options,
    /// userxattr, index=off, first; 2.0: after lowerdir), and 1.x never remaps ids.
    #[test]
    fn each_release_puts_the_options_where_it_does() {
        let index = Index::from_snaps(
            std::path::PathBuf::from("/r"),
            vec![
                snap("base", 1, "Committed", None, &[]),
                snap(
                    "top",
                    2,
                    "Active",
                    Some("base"),
                    &[("containerd.io/snapshot/uidmapping", "0:100:10")],
                ),
            ],
        );
        let d = "/r/io.containerd.snapshotter.v1.overlayfs/snapshots";
        let rest = format!("workdir={d}/2/work,upperdir={d}/2/fs,lowerdir={d}/1/fs");
        let line = |release, userxattr| {
            let opts = Options {
                userxattr,
                mount_options: Vec::new(),
                remap_ids: true,
                release,
            };
            ctr_line(&index, &[1, 0], Path::new("/r"), "/mnt", &opts).unwrap()
        };
        let o = |s: &str| format!("mount -t overlay overlay /mnt -o {s}");
        assert_eq!(line(Release::Six, false), o(&format!("index=off,{rest}")));
        assert_eq!(line(Release::Six, true), o(&format!("index=off,userxattr,{rest}")));
        assert_eq!(line(Release::Early, false), o(&format!("index=off,{rest}")));
        assert_eq!(line(Release::Early, true), o(&format!("index=off,userxattr,{rest}")));
        assert_eq!(line(Release::Late1, true), o(&format!("userxattr,index=off,{rest}")));
        assert_eq!(
            line(Release::Two, true),
            o(&format!("uidmap=0:100:10,{rest},userxattr,index=off"))
        );
        for (v, r) in [
            ("1.6.20~ds1", Release::Six),
            ("1.5", Release::Six),
            ("v1.7.0", Release::Early),
            ("v1.7.3", Release::Early),
            ("1.7.4", Release::Late1),
            ("1.7", Release::Late1),
            ("2.1.9+unknown", Release::Two),
            ("2", Release::Two),
        ] {
            assert_eq!(Release::parse(v), Some(r), "{v}");
        }
        for none in ["x", "0.9", "1", "1.8", "16", "17", "3.0", "9.9", "v", ""] {
            assert_eq!(Release::parse(none), None, "{none}");
        }
        assert_eq!(Release::of_schema(Some(3)), Release::Late1);
        assert_eq!(Release::of_schema(Some(4)), Release::Two);
        assert_eq!(Release::of_store(Some(3), Some(false)), Release::Six);
        assert_eq!(Release::of_store(Some(3), Some(true)), Release::Late1);
        assert_eq!(Release::of_store(Some(3), None), Release::Late1);
        assert_eq!(Release::of_store(Some(4), Some(false)), Release::Two);
        // ctr containers info: 1.6 apart from 1.7.0 and later.
        assert!(!Release::Six.ctr_sandbox());
        for r in [Release::Early, Release::Late1, Release::Two] {
            assert!(r.ctr_sandbox(), "{r:?}");
        }
    }
}
