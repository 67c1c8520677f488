//! Extended attributes of a file, read without following a symlink (`llistxattr`,
//! `lgetxattr`). Sizes come from the kernel and are capped: an attribute never exceeds 64 KiB
//! on Linux, and a list larger than that is refused rather than trusted.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether this process can read `trusted.*` attributes: the kernel hides them (absent, not
/// refused) from a process without `CAP_SYS_ADMIN` in the first user namespace, so an overlay
/// layer's opaque markers, redirects and metacopy would read as not there. From `CapEff` in
/// `/proc/self/status` (bit 21) and `/proc/self/uid_map` (the whole range mapped to itself:
/// no user namespace of its own, where root has every capability and still sees no
/// `trusted.*`); without `/proc`, whether the process is root.
pub fn trusted_readable() -> bool {
    static READABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READABLE.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let cap_eff = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
        let first_namespace = std::fs::read_to_string("/proc/self/uid_map")
            .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
            .unwrap_or(true);
        match cap_eff {
            Some(caps) => caps & (1 << 21) != 0 && first_namespace,
            // SAFETY: geteuid has no preconditions.
            None => (unsafe { libc::geteuid() }) == 0,
        }
    })
}

/// What a stack read without [`trusted_readable`] says (unreadable: exit 4): its layers'
/// `trusted.overlay.*` attributes were there to be read, and were not.
pub const TRUSTED_UNREADABLE: &str = "the layers' trusted.overlay.* attributes (opaque directories, redirects, metacopy) cannot be read without CAP_SYS_ADMIN, which this process does not have: a directory emptied or a file moved in an upper layer may show what the lower layers hold; run as root (or give --userxattr if the snapshotter mounted with it)";

/// The largest value (and list) the kernel allows (XATTR_SIZE_MAX, XATTR_LIST_MAX).
const MAX: usize = 64 * 1024;

fn c_path(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

/// The value of attribute `name` of `p` (not following a symlink); `None` when it is absent
/// or cannot be read (no xattr support, permission).
pub fn get(p: &Path, name: &str) -> Option<Vec<u8>> {
    let path = c_path(p)?;
    let name = CString::new(name).ok()?;
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: both strings are NUL-terminated; the buffer is valid for buf.len() bytes.
        let n = unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(usize::try_from(n).ok()?);
            return Some(buf);
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::ERANGE) || buf.len() >= MAX {
            return None;
        }
        buf.resize(MAX, 0);
    }
}

/// Every attribute of `p` (not following a symlink), names in the order the kernel lists them.
pub fn list(p: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(path) = c_path(p) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; 1024];
    let names = loop {
        // SAFETY: path is NUL-terminated; the buffer is valid for buf.len() bytes.
        let n = unsafe { libc::llistxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(usize::try_from(n).unwrap_or(0));
            break buf;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::ERANGE) || buf.len() >= MAX {
            return Vec::new();
        }
        buf.resize(MAX, 0);
    };
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let Ok(text) = std::str::from_utf8(name) else {
            continue;
        };
        if let Some(v) = get(p, text) {
            out.push((name.to_vec(), v));
        }
    }
    out
}

/// The name attribute `name` of a layer's file has in the merged tree of a mount reading
/// `prefix` (`trusted.overlay.`, or `user.overlay.` with `userxattr`): `None` for the mount's
/// own attributes (never content), the name without one `overlay.` for an escaped one
/// (`trusted.overlay.overlay.x` is `trusted.overlay.x` in the merged tree, kernel 6.7+), else
/// the name itself. The other namespace's `*.overlay.*` attributes are ordinary content.
pub fn merged_name(name: &[u8], prefix: &str) -> Option<Vec<u8>> {
    let Some(rest) = name.strip_prefix(prefix.as_bytes()) else {
        return Some(name.to_vec());
    };
    let escaped = rest.strip_prefix(b"overlay.")?;
    let mut out = prefix.as_bytes().to_vec();
    out.extend_from_slice(escaped);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::merged_name;

    #[test]
    fn private_and_escaped_names() {
        let t = "trusted.overlay.";
        assert_eq!(merged_name(b"trusted.overlay.opaque", t), None);
        assert_eq!(
            merged_name(b"trusted.overlay.overlay.whiteout", t).as_deref(),
            Some(b"trusted.overlay.whiteout".as_slice())
        );
        assert_eq!(
            merged_name(b"user.overlay.opaque", t).as_deref(),
            Some(b"user.overlay.opaque".as_slice())
        );
        assert_eq!(merged_name(b"user.overlay.opaque", "user.overlay."), None);
        assert_eq!(
            merged_name(b"security.capability", t).as_deref(),
            Some(b"security.capability".as_slice())
        );
    }
}
