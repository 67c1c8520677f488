//! Which snapshot an image unpacks to: the snapshot key of an unpacked image is the chain ID of
//! its config's `rootfs.diff_ids` (OCI image spec; containerd `identity.ChainID`):
//!
//! ```text
//! chain(0) = diff_id(0)
//! chain(n) = "sha256:" + hex(sha256(chain(n-1) + " " + diff_id(n)))
//! ```
//!
//! Every manifest of an image whose blobs are present counts (an index may have several
//! platforms unpacked); documents that cannot be read are skipped and named in the damage.

use crate::bolt::Tx;
use crate::containerd::records::{self, Damage};
use crate::containerd::root::{BlobError, Root};
use crate::image::document::{self, ImageConfig};

/// The most documents one image's walk reads (an index of indexes cannot make it loop long).
const MAX_DOCUMENTS: usize = 4096;

/// An image and the snapshot key (chain ID) one of its manifests unpacks to.
#[derive(Clone, Debug)]
pub struct ImageTop {
    pub namespace: String,
    pub name: String,
    pub config: String,
    pub chain_id: String,
    /// The config's `os` and `architecture`.
    pub os: String,
    pub architecture: String,
}

/// containerd's `identity.ChainID` of the diff IDs; `None` for none.
pub fn chain_id(diff_ids: &[String]) -> Option<String> {
    let mut it = diff_ids.iter();
    let mut chain = it.next()?.clone();
    for d in it {
        let sum = ring::digest::digest(&ring::digest::SHA256, format!("{chain} {d}").as_bytes());
        chain = format!("sha256:{}", hex::encode(sum));
    }
    Some(chain)
}

/// The chain ID of every prefix of the diff IDs, bottom first (`chain_ids(d)[k]` is
/// `chain_id(&d[..=k])`), each computed from the one below it: one hash a layer.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut chains: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match chains.last() {
            None => d.clone(),
            Some(below) => {
                let sum = ring::digest::digest(&ring::digest::SHA256, format!("{below} {d}").as_bytes());
                format!("sha256:{}", hex::encode(sum))
            }
        };
        chains.push(next);
    }
    chains
}

/// The unpacked chain IDs of every image of `namespace`, or of the one named `only`: the
/// damage met is then that image's alone (another image's is not why this one is not found).
pub fn image_tops(root: &Root, tx: &Tx<'_>, namespace: &str, only: Option<&str>, damage: &mut Damage) -> Vec<ImageTop> {
    let Ok(Some(ns)) = tx.bucket_at(&[b"v1".as_slice(), &records::key_bytes(namespace)]) else {
        return Vec::new();
    };
    let images = match only {
        Some(name) => match records::image_named(tx, namespace, name, damage) {
            Ok(found) => found.into_iter().collect(),
            Err(e) => {
                damage.push(e);
                Vec::new()
            }
        },
        None => records::images_in(namespace, &ns, damage),
    };
    let mut out = Vec::new();
    for image in images {
        let mut todo = vec![(image.target.media_type.clone(), image.target.digest.clone())];
        let mut read = 0usize;
        while let Some((media_type, digest)) = todo.pop() {
            read += 1;
            if read > MAX_DOCUMENTS {
                damage.push(format!("image {}: more than {MAX_DOCUMENTS} documents", image.name));
                break;
            }
            let Some(blob) = readable(root.read_blob(tx, namespace, &digest), &image.name, damage) else {
                continue;
            };
            if document::is_manifest_type(&media_type) {
                let m = match document::decode::<document::Manifest>(&blob) {
                    Ok(m) => m,
                    Err(e) => {
                        damage.push(format!("image {}: manifest {digest}: {e}", image.name));
                        continue;
                    }
                };
                let Some(config) = readable(root.read_blob(tx, namespace, &m.config.digest), &image.name, damage)
                else {
                    continue;
                };
                let c = match document::decode::<ImageConfig>(&config) {
                    Ok(c) => c,
                    Err(e) => {
                        damage.push(format!("image {}: config {}: {e}", image.name, m.config.digest));
                        continue;
                    }
                };
                let (os, architecture) = (
                    c.os.clone().unwrap_or_default(),
                    c.architecture.clone().unwrap_or_default(),
                );
                if let Some(id) = c.rootfs.and_then(|r| r.diff_ids).as_deref().and_then(chain_id) {
                    out.push(ImageTop {
                        os,
                        architecture,
                        namespace: namespace.to_string(),
                        name: image.name.clone(),
                        config: m.config.digest.clone(),
                        chain_id: id,
                    });
                }
            } else {
                match document::children(&blob, &media_type) {
                    Ok(children) => todo.extend(children.into_iter().map(|d| (d.media_type, d.digest))),
                    Err(e) => damage.push(format!("image {}: index {digest}: {e}", image.name)),
                }
            }
        }
    }
    out
}

/// The bytes of a blob the walk reads, or `None`: a blob not in the store is a platform not
/// pulled (no damage); any other failure (lost, unreadable, not a regular file) is named.
fn readable(read: Result<Vec<u8>, BlobError>, image: &str, damage: &mut Damage) -> Option<Vec<u8>> {
    match read {
        Ok(b) => Some(b),
        Err(BlobError::NotFound(_)) => None,
        // Every other error names its blob; a short file's does not.
        Err(BlobError::UnexpectedEof {
            digest,
            recorded,
            on_disk,
        }) => {
            damage.push(format!(
                "image {image}: {digest}: unexpected EOF (the record says {recorded} bytes, the file has {on_disk})"
            ));
            None
        }
        // The system would not give it (permissions, EIO): not known, not damage.
        Err(e @ BlobError::Io { .. }) => {
            damage.push(crate::damage::Note::refused(format!("image {image}: {e}")));
            None
        }
        Err(e) => {
            damage.push(format!("image {image}: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{chain_id, chain_ids};

    #[test]
    fn chain_id_of_one_and_two_layers() {
        let a = "sha256:a".to_string();
        let b = "sha256:b".to_string();
        assert_eq!(chain_id(std::slice::from_ref(&a)).unwrap(), a);
        // sha256("sha256:a sha256:b")
        let two = chain_id(&[a, b]).unwrap();
        assert_eq!(two.len(), 71);
        assert!(chain_id(&[]).is_none());
        let ids: Vec<String> = (0..5)
            .map(|i| format!("sha256:{}", format!("{i}").repeat(64)))
            .collect();
        let chains = chain_ids(&ids);
        assert_eq!(chains.len(), 5);
        for (k, c) in chains.iter().enumerate() {
            assert_eq!(Some(c.clone()), chain_id(&ids[..=k]), "prefix {k}");
        }
        assert!(chain_ids(&[]).is_empty());
    }
}
