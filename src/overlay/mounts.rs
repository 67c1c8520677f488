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
//! `ctr` prints each as `mount -t <type> <source> <target> -o <options joined by ,>`.
//! The read-only variant stacks every layer of the chain, the snapshot's own first, as
//! lowerdirs of a read-only overlay, with no upper or work directory: nothing can write.

use super::snapshots::Index;
use std::path::Path;

/// The line `ctr snapshots mounts <target> <key>` prints for chain `chain` (the snapshot, then
/// its parents), with the node's root as `root`; `Err` when containerd would refuse.
pub fn ctr_line(index: &Index, chain: &[usize], root: &Path, target: &str) -> Result<String, String> {
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
            "snapshot is {kind}: containerd mounts only active snapshots and views"
        ));
    }
    if parents.is_empty() {
        let flag = if kind == "View" { "ro" } else { "rw" };
        return Ok(format!("mount -t bind {} {target} -o {flag},rbind", fs(own)?));
    }
    let lower: Result<Vec<String>, String> = parents.iter().map(|&p| fs(p)).collect();
    let lower = lower?.join(":");
    if kind == "Active" {
        let work = index
            .work_dir_under(own, root)
            .map(|p| p.display().to_string())
            .ok_or("a snapshot without an id")?;
        return Ok(format!(
            "mount -t overlay overlay {target} -o workdir={work},upperdir={},lowerdir={lower},index=off",
            fs(own)?
        ));
    }
    if let [one] = parents {
        return Ok(format!("mount -t bind {} {target} -o ro,rbind", fs(*one)?));
    }
    Ok(format!(
        "mount -t overlay overlay {target} -o lowerdir={lower},index=off"
    ))
}

/// Every layer of the chain as a lowerdir of a read-only overlay (one layer: a read-only bind).
pub fn read_only_line(index: &Index, chain: &[usize], root: &Path, target: &str) -> Result<String, String> {
    let dirs: Option<Vec<String>> = chain
        .iter()
        .map(|&i| index.fs_dir_under(i, root).map(|p| p.display().to_string()))
        .collect();
    let dirs = dirs.ok_or("a snapshot without an id")?;
    match dirs.as_slice() {
        [] => Err("no snapshot".into()),
        [one] => Ok(format!("mount -t bind {one} {target} -o ro,rbind")),
        _ => Ok(format!(
            "mount -t overlay overlay {target} -o ro,lowerdir={},index=off",
            dirs.join(":")
        )),
    }
}
