//! `coldctr du`: where a containerd root's disk goes.

use crate::containerd::blobs::FileKind;
use crate::gc::state::{BlobEntry, BlobTree};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Disk usage as containerd measures it (continuity `fs.DiskUsage`): `st_blocks * 512` over
/// the unique inodes of a tree, the root included; symlinks are counted, never followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub inodes: u64,
}

/// The usage of the tree at `path` (a file, a symlink or a directory).
pub fn disk_usage(path: &Path) -> std::io::Result<Usage> {
    let mut seen = HashSet::new();
    let mut usage = Usage::default();
    let mut stack = vec![path.to_path_buf()];
    let mut first = true;
    while let Some(p) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if first => return Err(e),
            // Gone while walking: nothing to count.
            Err(_) => continue,
        };
        first = false;
        if seen.insert((meta.dev(), meta.ino())) {
            usage.bytes = usage.bytes.saturating_add(meta.blocks().saturating_mul(512));
            usage.inodes += 1;
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            for e in entries.flatten() {
                stack.push(e.path());
            }
        }
    }
    Ok(usage)
}

/// A file directly under `blobs/<algorithm>/` whose name is a digest.
#[derive(Clone, Debug)]
pub struct DiskBlob {
    pub digest: String,
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    pub allocated: u64,
    pub inode: (u64, u64),
}

/// Every entry of `blobs/<sha256|sha384|sha512>/` named by a valid digest, in name order.
pub fn blob_files(tree: &BlobTree) -> Vec<DiskBlob> {
    let BlobTree::Entries(top) = tree else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for alg in top {
        if alg.kind != FileKind::Directory || !matches!(alg.name.as_str(), "sha256" | "sha384" | "sha512") {
            continue;
        }
        for e in alg.children.as_deref().unwrap_or(&[]) {
            let digest = format!("{}:{}", alg.name, e.name);
            if crate::digest::Digest::parse(&digest).is_ok() {
                out.push(disk_blob(digest, e));
            }
        }
    }
    out
}

fn disk_blob(digest: String, e: &BlobEntry) -> DiskBlob {
    DiskBlob {
        digest,
        path: e.path.clone(),
        kind: e.kind.clone(),
        size: if e.kind == FileKind::Regular { e.size } else { 0 },
        allocated: e.allocated,
        inode: e.inode,
    }
}
