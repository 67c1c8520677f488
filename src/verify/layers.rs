//! `verify --layers`: a layer's diff ID is the SHA-256 of its uncompressed tar stream
//! (`rootfs.diff_ids[i]` of the image config, for `layers[i]` of the manifest).
//!
//! The compression is taken from the layer's media type, as a registry and a puller agree on
//! it: `+gzip` / `.tar.gzip` (gzip, every member, as Go's `gzip.Reader` reads them), `+zstd` /
//! `.tar.zstd` (zstd, every frame, skippable frames skipped), a plain `.tar`; anything else
//! (encrypted layers, unknown types) cannot be checked and is counted as skipped.

use super::file::{self, Blobs, CHUNK, Progress};
use crate::digest::Digest;
use std::io::{BufRead, BufReader, Read};

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression a layer media type names, or `None` when the layer cannot be checked.
pub fn compression(media_type: &str) -> Option<Compression> {
    if media_type.ends_with("+encrypted") {
        return None;
    }
    if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
        Some(Compression::Gzip)
    } else if media_type.ends_with("+zstd") || media_type.ends_with(".tar.zstd") {
        Some(Compression::Zstd)
    } else if media_type.ends_with(".tar") {
        Some(Compression::None)
    } else {
        None
    }
}

/// The SHA-256 of the uncompressed stream of blob `digest`, or why it cannot be had.
pub fn diff_id(
    blobs: &Blobs,
    digest: &Digest,
    compression: Compression,
    progress: Option<&Progress>,
) -> Result<String, String> {
    let (file, compressed) = blobs.open(digest).map_err(|s| s.describe())?;
    let reader = Counted { inner: file, progress };
    // A decompression bomb would keep us hashing for hours: real layers stay far below this
    // ratio (zero-filled files reach ~1000:1), and containerd has no limit at all.
    let limit = compressed.saturating_mul(MAX_RATIO).saturating_add(1 << 30);
    match compression {
        Compression::None => hash_stream(reader),
        Compression::Gzip => hash_stream(Capped::new(
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(CHUNK, reader)),
            limit,
        )),
        Compression::Zstd => hash_stream(Capped::new(
            ZstdFrames::new(BufReader::with_capacity(CHUNK, reader)),
            limit,
        )),
    }
}

/// The uncompressed stream of a layer blob already opened, capped as [`diff_id`] caps it
/// (a decompression bomb ends in an error, not a full disk).
pub fn uncompressed(file: impl Read + 'static, compressed: u64, compression: Compression) -> Box<dyn Read> {
    let limit = compressed.saturating_mul(MAX_RATIO).saturating_add(1 << 30);
    match compression {
        Compression::None => Box::new(BufReader::with_capacity(CHUNK, file)),
        Compression::Gzip => Box::new(Capped::new(
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(CHUNK, file)),
            limit,
        )),
        Compression::Zstd => Box::new(Capped::new(
            ZstdFrames::new(BufReader::with_capacity(CHUNK, file)),
            limit,
        )),
    }
}

/// Decompressed bytes allowed per compressed byte (plus 1 GiB), see [`diff_id`].
const MAX_RATIO: u64 = 4096;

/// `inner`, the decompression of `compressed` bytes, failing past [`MAX_RATIO`]:1 plus 1 GiB:
/// the cap every decompression of untrusted data goes through (layers, image archives).
pub(crate) fn capped<R: Read>(inner: R, compressed: u64) -> Capped<R> {
    Capped::new(inner, compressed.saturating_mul(MAX_RATIO).saturating_add(1 << 30))
}

/// A reader that fails once more than `limit` bytes have come out of it.
pub(crate) struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, limit: u64) -> Self {
        Capped {
            inner,
            left: limit,
            limit,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "decompressed stream exceeds {} bytes ({MAX_RATIO}:1 plus 1 GiB): a decompression bomb? not read further",
                self.limit
            ))
        })?;
        Ok(n)
    }
}

/// SHA-256 of everything `r` yields.
pub fn hash_stream(mut r: impl Read) -> Result<String, String> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; CHUNK];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => ctx.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(file::digest_string("sha256", ctx))
}

/// A reader that reports the compressed bytes it passes on to the progress line.
struct Counted<'a, R> {
    inner: R,
    progress: Option<&'a Progress>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.done.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Every zstd frame of a stream, one after another (ruzstd's decoder reads one frame).
pub struct ZstdFrames<R: BufRead> {
    source: Option<R>,
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    pub fn new(source: R) -> Self {
        ZstdFrames {
            source: Some(source),
            frame: None,
        }
    }

    /// Starts the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> std::io::Result<bool> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        loop {
            let Some(mut source) = self.source.take() else {
                return Ok(false);
            };
            if source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            // A frame header that fails to parse consumes bytes we cannot give back, so a
            // skippable frame is recognised here, before the decoder sees it.
            let head = source.fill_buf()?;
            if let Some(magic) = head.get(..4).and_then(|m| m.try_into().ok()).map(u32::from_le_bytes)
                && magic & 0xFFFF_FFF0 == 0x184D_2A50
            {
                let mut header = [0u8; 8];
                source.read_exact(&mut header)?;
                let len = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
                let skipped = std::io::copy(&mut (&mut source).take(len), &mut std::io::sink())?;
                if skipped < len {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                self.source = Some(source);
                continue;
            }
            return match ruzstd::decoding::StreamingDecoder::new(source) {
                Ok(d) => {
                    self.frame = Some(d);
                    Ok(true)
                }
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame { .. })) => {
                    Err(std::io::Error::other("zstd: skippable frame not recognised"))
                }
                Err(e) => Err(std::io::Error::other(format!("zstd: {e}"))),
            };
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame
                    .read(buf)
                    .map_err(|e| std::io::Error::other(format!("zstd: {e}")))?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                if let Some(done) = self.frame.take() {
                    self.source = Some(done.into_inner());
                }
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_stops_a_bomb() {
        let data = vec![0u8; 10_000];
        assert!(hash_stream(Capped::new(&data[..], 10_000)).is_ok());
        let err = hash_stream(Capped::new(&data[..], 9_999)).err().unwrap_or_default();
        assert!(err.contains("decompression bomb"), "{err}");
    }
    use std::io::Write;

    fn sha256(data: &[u8]) -> String {
        crate::digest::Digest::sha256_of(data).to_string()
    }

    /// A content store with one blob slot; `put` replaces what the blob file holds.
    struct Slot {
        _dir: tempfile::TempDir,
        blobs: Blobs,
        digest: Digest,
    }

    impl Slot {
        fn new() -> std::io::Result<Slot> {
            let dir = tempfile::tempdir()?;
            std::fs::create_dir_all(dir.path().join("blobs/sha256"))?;
            Ok(Slot {
                blobs: Blobs::new(dir.path()),
                digest: Digest::sha256_of(b"layer"),
                _dir: dir,
            })
        }

        fn put(&self, data: &[u8]) -> std::io::Result<()> {
            std::fs::write(self.blobs.path(&self.digest), data)
        }

        fn diff_id(&self, c: Compression, progress: Option<&Progress>) -> Result<String, String> {
            diff_id(&self.blobs, &self.digest, c, progress)
        }
    }

    fn tar_like() -> Vec<u8> {
        (0..300_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect()
    }

    #[test]
    fn media_types() {
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+gzip"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            compression("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(Compression::Zstd)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar"),
            Some(Compression::None)
        );
        assert_eq!(
            compression("application/vnd.docker.image.rootfs.diff.tar"),
            Some(Compression::None)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"),
            None
        );
        assert_eq!(compression("application/vnd.in-toto+json"), None);
    }

    #[test]
    fn gzip_members_and_damage() -> std::io::Result<()> {
        let slot = Slot::new()?;
        let data = tar_like();
        let (a, b) = data.split_at(data.len() / 3);
        let mut blob = Vec::new();
        for part in [a, b] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part)?;
            blob.extend(enc.finish()?);
        }
        slot.put(&blob)?;
        let progress = Progress::default();
        assert_eq!(slot.diff_id(Compression::Gzip, Some(&progress)), Ok(sha256(&data)));
        assert_eq!(
            progress.done.load(std::sync::atomic::Ordering::Relaxed),
            blob.len() as u64
        );
        // The same blob read as a plain tar hashes the compressed bytes: not the diff ID.
        assert_eq!(slot.diff_id(Compression::None, None), Ok(sha256(&blob)));
        // A flipped byte inside the deflate data: an error or another digest, never the diff ID.
        let mut bad = blob.clone();
        if let Some(b) = bad.get_mut(blob.len() / 2) {
            *b ^= 0x40;
        }
        slot.put(&bad)?;
        assert_ne!(slot.diff_id(Compression::Gzip, None), Ok(sha256(&data)));
        // Truncated: an error.
        slot.put(blob.get(..blob.len() - 10).unwrap_or_default())?;
        assert!(slot.diff_id(Compression::Gzip, None).is_err());
        Ok(())
    }

    #[test]
    fn zstd_frames_and_skippable_frames() -> std::io::Result<()> {
        let slot = Slot::new()?;
        let data = tar_like();
        let (a, b) = data.split_at(data.len() / 2);
        let mut blob = ruzstd::encoding::compress_to_vec(a, ruzstd::encoding::CompressionLevel::Fastest);
        // A skippable frame between the two data frames (as seekable-zstd writers add).
        blob.extend(0x184D_2A5Bu32.to_le_bytes());
        blob.extend(5u32.to_le_bytes());
        blob.extend(b"skip!");
        blob.extend(ruzstd::encoding::compress_to_vec(
            b,
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        slot.put(&blob)?;
        assert_eq!(slot.diff_id(Compression::Zstd, None), Ok(sha256(&data)));
        slot.put(b"not zstd at all")?;
        assert!(slot.diff_id(Compression::Zstd, None).is_err());
        slot.put(blob.get(..blob.len() / 2).unwrap_or_default())?;
        assert!(slot.diff_id(Compression::Zstd, None).is_err());
        Ok(())
    }
}
