//! Writing a [`Plan`]: the members of an OCI image layout (plus docker's `manifest.json` and
//! `repositories` for a docker-archive), in name order, as a directory or a ustar stream.
//!
//! Blobs are streamed from the content store, each through a buffer no larger than the blob
//! and at most 1 MiB, and hashed as they are copied: memory does not grow with the image. A
//! blob whose bytes do not hash to its digest, or that changed size, fails the write with the
//! digest and the image named.

use super::tar::{self, Kind};
use super::{Blob, Fault, Plan, Problem};
use crate::containerd::root::Root;
use crate::digest::Digest;
use crate::verify::file::Progress;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};

/// The copy buffer: layers pass through it, whatever their size.
const BUFFER: usize = 1 << 20;

/// What the output looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OciDir,
    OciArchive,
    DockerArchive,
}

/// One member of the output.
#[derive(Clone, Copy, Debug)]
pub enum Member<'a> {
    Dir,
    Bytes(&'a [u8]),
    Blob(&'a Blob),
}

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A blob was found damaged while it was copied.
    #[error("{0}")]
    Blob(Problem),
    #[error("writing the output: {0}")]
    Io(#[from] io::Error),
}

/// A blob that failed while copied.
#[derive(Debug)]
pub struct CopyError {
    pub fault: Fault,
    pub detail: String,
    /// The output, not the blob, failed: the error as the output gave it.
    pub output: Option<io::Error>,
}

/// Lowercase hex of `data`'s hash under `algorithm` (`sha256`, `sha384`, `sha512`).
pub fn hash(algorithm: &str, data: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(ring_algorithm(algorithm));
    ctx.update(data);
    hex::encode(ctx.finish().as_ref())
}

fn ring_algorithm(algorithm: &str) -> &'static ring::digest::Algorithm {
    match algorithm {
        "sha384" => &ring::digest::SHA384,
        "sha512" => &ring::digest::SHA512,
        _ => &ring::digest::SHA256,
    }
}

/// Copies exactly `size` bytes of `file` to `out`, hashing them: an error when the file ends
/// early or the bytes do not hash to `digest`. The last read (all of a blob up to 1 MiB) is
/// written only once the hash is checked, so a damaged blob never goes out whole under its
/// digest's name, even into a stream (`-o -`) that cannot be taken back: a reader finds it cut
/// short. What was written before an error stays written: the caller throws a file away.
pub fn copy_verified(mut file: impl Read, digest: &Digest, size: u64, out: &mut dyn Write) -> Result<(), CopyError> {
    let mut ctx = ring::digest::Context::new(ring_algorithm(digest.algorithm()));
    // No larger than the blob: most are a few hundred bytes, and zeroing a whole BUFFER for
    // each of 23,000 blobs was a third of an export of 5,000 images (musl's memset). At least
    // one byte, so that a read is never asked for nothing (an empty blob reads no bytes).
    let mut buf = vec![0u8; usize::try_from(size).map_or(BUFFER, |s| s.clamp(1, BUFFER))];
    let mut left = size;
    // The bytes of the last read, held in `buf` until the hash is checked.
    let mut held = 0;
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let n = match file.read(chunk) {
            Ok(0) => {
                return Err(CopyError {
                    fault: Fault::Damaged,
                    detail: format!("file ended {left} bytes before its size {size}"),
                    output: None,
                });
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // An archive member (or its compressed stream) that ends before its header's size:
            // the archive was cut short, here while it was read; damage, as when it was cut
            // before the run (sweep 27.8: was "unreadable", exit 4).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(CopyError {
                    fault: Fault::Damaged,
                    detail: format!("file ended {left} bytes before its size {size}: {e}"),
                    output: None,
                });
            }
            Err(e) => {
                return Err(CopyError {
                    fault: Fault::Unreadable,
                    detail: e.to_string(),
                    output: None,
                });
            }
        };
        let got = chunk.get(..n).unwrap_or_default();
        ctx.update(got);
        left -= n as u64;
        if left == 0 {
            held = n;
            break;
        }
        out.write_all(got).map_err(written)?;
    }
    let found = hex::encode(ctx.finish().as_ref());
    if found != digest.hex() {
        return Err(CopyError {
            fault: Fault::Damaged,
            detail: format!("content hashes to {}:{found}", digest.algorithm()),
            output: None,
        });
    }
    out.write_all(buf.get(..held).unwrap_or_default()).map_err(written)?;
    Ok(())
}

fn written(e: io::Error) -> CopyError {
    CopyError {
        fault: Fault::Unreadable,
        detail: format!("writing the output: {e}"),
        output: Some(e),
    }
}

#[derive(Serialize)]
struct Layout {
    #[serde(rename = "imageLayoutVersion")]
    version: &'static str,
}

#[derive(Serialize)]
struct IndexJson<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    manifests: &'a [super::IndexEntry],
}

/// A `manifest.json` entry as docker and containerd write it (`RepoTags` null when none).
#[derive(Serialize)]
struct DockerManifest<'a> {
    #[serde(rename = "Config")]
    config: &'a str,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<&'a [String]>,
    #[serde(rename = "Layers")]
    layers: &'a [String],
    #[serde(rename = "LayerSources", skip_serializing_if = "BTreeMap::is_empty")]
    layer_sources: &'a BTreeMap<String, super::LayerSource>,
}

/// Every member of the output, visited in name order (as the archive lists them). Blob members
/// are the plan's own, named as they are visited: an export of thousands of images holds no
/// second map of them.
pub struct Members<'a> {
    /// By algorithm, then hex: the order of their names `blobs/<alg>/<hex>`.
    blobs: Vec<&'a Blob>,
    /// The small files beside `blobs/`, by name.
    files: BTreeMap<&'static str, Vec<u8>>,
}

impl<'a> Members<'a> {
    /// The members of `plan` written as `format`.
    pub fn of(plan: &'a Plan, format: Format) -> Result<Self, WriteError> {
        let mut blobs: Vec<&Blob> = plan.blobs.values().collect();
        blobs.sort_by(|a, b| (a.digest.algorithm(), a.digest.hex()).cmp(&(b.digest.algorithm(), b.digest.hex())));
        let mut files = BTreeMap::new();
        files.insert("oci-layout", json(&Layout { version: "1.0.0" })?);
        files.insert(
            "index.json",
            json(&IndexJson {
                schema_version: 2,
                media_type: crate::image::document::OCI_INDEX,
                manifests: &plan.index,
            })?,
        );
        if format == Format::DockerArchive {
            let entries: Vec<DockerManifest<'_>> = plan
                .docker
                .iter()
                .map(|e| DockerManifest {
                    config: &e.config,
                    repo_tags: (!e.repo_tags.is_empty()).then_some(e.repo_tags.as_slice()),
                    layers: &e.layers,
                    layer_sources: &e.layer_sources,
                })
                .collect();
            files.insert("manifest.json", json(entries.as_slice())?);
            // The legacy `repositories`: familiar repository -> tag -> image ID (the config's
            // hex, the ID dockerd gives the image). Loaders that read manifest.json ignore it.
            let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for e in &plan.docker {
                let id = e.config.rsplit('/').next().unwrap_or_default().to_string();
                for t in &e.repo_tags {
                    if let Some((repo, tag)) = t.rsplit_once(':')
                        && !tag.contains('/')
                    {
                        repos
                            .entry(repo.to_string())
                            .or_default()
                            .insert(tag.to_string(), id.clone());
                    }
                }
            }
            if !repos.is_empty() {
                files.insert("repositories", json(&repos)?);
            }
        }
        Ok(Members { blobs, files })
    }

    /// The bytes of every blob member: what a progress line counts to.
    pub fn blob_bytes_total(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }

    /// Calls `f` with each member's name and content, in name order. Every small file's name
    /// sorts after `blobs/` (`index.json`, `manifest.json`, `oci-layout`, `repositories`).
    pub fn visit<E>(&self, mut f: impl FnMut(&str, Member<'_>) -> Result<(), E>) -> Result<(), E> {
        if !self.blobs.is_empty() {
            f("blobs/", Member::Dir)?;
        }
        let mut name = String::new();
        let mut algorithm = None;
        for blob in &self.blobs {
            if algorithm != Some(blob.digest.algorithm()) {
                algorithm = Some(blob.digest.algorithm());
                f(&format!("blobs/{}/", blob.digest.algorithm()), Member::Dir)?;
            }
            name.clear();
            name.push_str("blobs/");
            name.push_str(blob.digest.algorithm());
            name.push('/');
            name.push_str(blob.digest.hex());
            f(&name, Member::Blob(blob))?;
        }
        for (name, bytes) in &self.files {
            f(name, Member::Bytes(bytes))?;
        }
        Ok(())
    }
}

/// Compact JSON, fields in their struct order.
fn json<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, WriteError> {
    serde_json::to_vec(v).map_err(|e| WriteError::Io(io::Error::other(e)))
}

/// A writer that counts what passes through it into a progress counter.
struct Counted<'a> {
    inner: &'a mut dyn Write,
    progress: Option<&'a Progress>,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(p) = self.progress {
            p.add(n);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Streams one blob member's bytes into `out`, verified, counting them into `progress`.
fn blob_bytes(root: &Root, blob: &Blob, out: &mut dyn Write, progress: Option<&Progress>) -> Result<(), WriteError> {
    let out = &mut Counted { inner: out, progress };
    let fail = |fault: Fault, detail: String| {
        WriteError::Blob(Problem {
            image: blob.image.to_string(),
            digest: blob.digest.to_string(),
            fault,
            detail,
        })
    };
    let (file, len) = root
        .open_blob(&blob.digest)
        .map_err(|e| fail(Fault::of(&e), e.to_string()))?;
    if len != blob.size {
        return Err(fail(
            Fault::Damaged,
            format!("file is {len} bytes, the descriptor says {}", blob.size),
        ));
    }
    if let Some(why) = file.too_sparse(len) {
        return Err(fail(Fault::Damaged, why));
    }
    copy_verified(file, &blob.digest, blob.size, out).map_err(|e| match e.output {
        Some(output) => WriteError::Io(output),
        None => fail(e.fault, e.detail),
    })
}

/// The members as a ustar archive.
pub fn write_tar(
    root: &Root,
    members: &Members<'_>,
    out: &mut dyn Write,
    progress: Option<&Progress>,
) -> Result<(), WriteError> {
    members.visit(|name, member| {
        match member {
            Member::Dir => out.write_all(&tar::header(name, Kind::Dir, 0)?)?,
            Member::Bytes(b) => {
                out.write_all(&tar::header(name, Kind::File, b.len() as u64)?)?;
                out.write_all(b)?;
                tar::pad(out, b.len() as u64)?;
            }
            Member::Blob(blob) => {
                out.write_all(&tar::header(name, Kind::File, blob.size)?)?;
                blob_bytes(root, blob, out, progress)?;
                tar::pad(out, blob.size)?;
            }
        }
        Ok::<(), WriteError>(())
    })?;
    tar::finish(out)?;
    out.flush()?;
    Ok(())
}

/// The members into `dir`, an empty directory the caller created: directories 0755, files
/// 0644, less the umask, as `cp` and `tar` make them (sweep 28.8: under `umask 077` the archives
/// came out private and the layout world-readable); a directory keeps its owner's rwx, for the
/// entries to be made in it.
pub fn write_dir(
    root: &Root,
    members: &Members<'_>,
    dir: &super::place::Dir,
    progress: Option<&Progress>,
) -> Result<(), WriteError> {
    // Every entry is made relative to `dir`, one component at a time, never through a link;
    // files are made 0644 and directories 0755 before the umask, by the kernel.
    let dir_mode = (0o755 & !super::place::umask()) | 0o700;
    dir.chmod(dir_mode)?;
    members.visit(|name, member| {
        let size = match member {
            Member::Dir => {
                dir.create_dir_below(name)?.chmod(dir_mode)?;
                return Ok(());
            }
            Member::Bytes(b) => b.len() as u64,
            Member::Blob(blob) => blob.size,
        };
        let file = dir.create_file_below(name)?;
        // No larger than the member, as the copy buffer (most blobs are a few hundred bytes).
        let capacity = usize::try_from(size).map_or(BUFFER, |s| s.clamp(1, BUFFER));
        let mut w = io::BufWriter::with_capacity(capacity, file);
        match member {
            Member::Bytes(b) => w.write_all(b)?,
            Member::Blob(blob) => blob_bytes(root, blob, &mut w, progress)?,
            Member::Dir => {}
        }
        w.flush()?;
        Ok::<(), WriteError>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{DockerEntry, IndexEntry};
    use std::sync::Arc;

    fn blob(digest: &str) -> (String, Blob) {
        let d = Digest::parse(digest).unwrap();
        (
            digest.to_string(),
            Blob {
                digest: d,
                size: 3,
                image: Arc::from("img"),
                document: false,
            },
        )
    }

    /// A reader that gives `data`, then fails with `kind`.
    struct FailsAfter {
        data: std::io::Cursor<Vec<u8>>,
        kind: io::ErrorKind,
    }

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.data.read(buf)? {
                0 => Err(self.kind.into()),
                n => Ok(n),
            }
        }
    }

    /// A source cut short while it is read (an archive member whose reader reports the early
    /// end) is damage, as a file found short; any other read error is unreadable (sweep 27.8).
    #[test]
    fn a_source_cut_short_while_read_is_damage() {
        let d = Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
        for (kind, fault) in [
            (io::ErrorKind::UnexpectedEof, Fault::Damaged),
            (io::ErrorKind::PermissionDenied, Fault::Unreadable),
        ] {
            let src = FailsAfter {
                data: std::io::Cursor::new(vec![7u8; 10]),
                kind,
            };
            let e = copy_verified(src, &d, 100, &mut Vec::new()).unwrap_err();
            assert_eq!(e.fault, fault, "{kind:?}: {}", e.detail);
        }
        let e = copy_verified(&[7u8; 10][..], &d, 100, &mut Vec::new()).unwrap_err();
        assert_eq!(e.fault, Fault::Damaged, "{}", e.detail);
    }

    /// The visit gives every member once, in the byte order of the names (the order a sorted
    /// map of names gave, and the order tar readers and our golden archives expect), with
    /// each algorithm's directory before its blobs.
    #[test]
    fn members_in_name_order() {
        let mut plan = Plan::default();
        for d in [
            format!("sha512:{}", "0".repeat(128)),
            format!("sha256:{}", "f".repeat(64)),
            format!("sha256:{}", "0".repeat(64)),
            format!("sha384:{}", "a".repeat(96)),
        ] {
            let (k, b) = blob(&d);
            plan.blobs.insert(k, b);
        }
        plan.index.push(IndexEntry {
            media_type: "m".into(),
            digest: "d".into(),
            size: 1,
            urls: None,
            annotations: BTreeMap::new(),
            platform: None,
        });
        plan.docker.push(DockerEntry {
            config: "blobs/sha256/c".into(),
            repo_tags: vec!["x:1".into()],
            ..DockerEntry::default()
        });
        let members = Members::of(&plan, Format::DockerArchive).unwrap();
        let mut names = Vec::new();
        members
            .visit(|name, m| {
                names.push((name.to_string(), matches!(m, Member::Dir)));
                Ok::<(), ()>(())
            })
            .unwrap();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        let dirs: Vec<&str> = names.iter().filter(|(_, d)| *d).map(|(n, _)| n.as_str()).collect();
        assert_eq!(dirs, ["blobs/", "blobs/sha256/", "blobs/sha384/", "blobs/sha512/"]);
        let files: Vec<&str> = names
            .iter()
            .filter(|(n, _)| !n.starts_with("blobs/"))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(files, ["index.json", "manifest.json", "oci-layout", "repositories"]);
        assert_eq!(names.len(), 4 + 4 + 4);
        assert_eq!(members.blob_bytes_total(), 12);
        // An OCI archive has no docker files; a plan without blobs has no blobs/ directory.
        let empty = Plan::default();
        let oci = Members::of(&empty, Format::OciArchive).unwrap();
        let mut names = Vec::new();
        oci.visit(|name, _| {
            names.push(name.to_string());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(names, ["index.json", "oci-layout"]);
    }
}
