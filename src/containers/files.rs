//! Small files of a container's directory (`config.v2.json`, `hostconfig.json`, a CRI
//! `status`), read without trusting them: only a regular file is opened (a symlink is never
//! followed, a FIFO or device never opened), and never more than a fixed number of bytes, so a
//! 1 GB sparse file or a pipe can neither exhaust memory nor block the reader.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The most a container's JSON file may hold. dockerd writes a few kB; a container with
/// thousands of labels or env entries stays far below this.
pub const MAX_JSON: u64 = 16 << 20;

/// The most memory a container's JSON file may take once parsed, by [`parsed_bound`]: a
/// 16 MiB file of `0,0,0,...` is 8 million values, half a gigabyte or more as a tree. A real
/// file's bound is well under a MiB.
pub const MAX_PARSED: u64 = 64 << 20;

/// The memory the parsed JSON files of all of a node's containers may take together, by
/// [`crate::inspect::gojson::J::footprint`]: Docker's `config.v2.json` and `hostconfig.json`,
/// the CRI's status files. Each file's is at most [`MAX_PARSED`], but a node may have any
/// number of them, and every tree is kept until the listing is printed. A real Docker
/// container's take some tens of KiB (13 KiB for the fixture's smallest, 25-30 KiB with
/// compose or Kubernetes labels and env), a CRI status file's about 1 KiB: the budget holds
/// some 35,000 Docker containers, so a node that never pruned its exited containers is not
/// reported as damaged. Past it, the rest are named and not kept.
pub const CONTAINERS_MEMORY: u64 = 1 << 30;

/// What is left of a memory budget ([`CONTAINERS_MEMORY`]) for the parsed files of many
/// containers, shared by every reader of them so that the rule is said once: a tree whose
/// footprint does not fit what is left is dropped and its file named.
#[derive(Debug)]
pub struct MemoryBudget {
    total: u64,
    left: u64,
}

impl MemoryBudget {
    pub fn new(total: u64) -> MemoryBudget {
        MemoryBudget { total, left: total }
    }

    /// Takes `taken` bytes (trees' footprints) from what is left. `Err`, with the words for
    /// it ("would take 20 KiB of memory, more than the 3 KiB left of the 1024 MiB for all
    /// containers' files"), when they do not fit; nothing is taken then, so a smaller file
    /// after it may still be kept.
    pub fn take(&mut self, taken: u64) -> Result<(), String> {
        if taken > self.left {
            return Err(format!(
                "would take {} of memory, more than the {} left of the {} MiB for all containers' files",
                memory(taken),
                memory(self.left),
                self.total >> 20
            ));
        }
        self.left -= taken;
        Ok(())
    }
}

/// Bytes of memory in words: KiB below a MiB (sweep 20: a 20 KiB file was said to take
/// "1 MiB"), MiB above, rounded up.
fn memory(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{} KiB", bytes.div_ceil(1 << 10))
    } else {
        format!("{} MiB", bytes.div_ceil(1 << 20))
    }
}

/// The memory one JSON value may take once parsed, at most: its place in a vector grown by
/// doubling (an object member's key and value side by side), a small string's allocation,
/// and the copy Go's repeated-key folding makes of an object's members.
const VALUE_COST: u64 = 192;

/// How many values the JSON text `bytes` holds, at most: one, and one more for each `,`, `[`
/// and `{` outside strings. Linear and without allocating: a file's tree can be refused for
/// its size before it is built.
pub fn json_values(bytes: &[u8]) -> u64 {
    let (mut n, mut in_str, mut esc) = (1u64, false, false);
    for &b in bytes {
        if in_str {
            match b {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_str = true,
                b',' | b'[' | b'{' => n += 1,
                _ => {}
            }
        }
    }
    n
}

/// The memory the JSON text `bytes` may take once parsed, at most (its text, and
/// `VALUE_COST` for each of its [`json_values`]).
pub fn parsed_bound(bytes: &[u8]) -> u64 {
    (bytes.len() as u64).saturating_add(json_values(bytes).saturating_mul(VALUE_COST))
}

/// `Err` (damage, naming `path`) when the JSON text `bytes` of a container's file could take
/// more than [`MAX_PARSED`] of memory once parsed; it is then not parsed.
pub fn check_parsed_size(path: &Path, bytes: &[u8]) -> Result<(), FileProblem> {
    let bound = parsed_bound(bytes);
    if bound <= MAX_PARSED {
        return Ok(());
    }
    Err(FileProblem {
        message: format!(
            "{}: {} bytes holding up to {} JSON values, which could take {} MiB of memory once read, more than the {} MiB such a file may; not read",
            crate::text::escape(path.as_os_str().as_encoded_bytes()),
            bytes.len(),
            json_values(bytes),
            bound >> 20,
            MAX_PARSED >> 20
        ),
        unreadable: false,
        missing: false,
    })
}

/// Why a file could not be read; the message names the file.
#[derive(Debug)]
pub struct FileProblem {
    pub message: String,
    /// Permission denied or a read error, rather than something wrong in what is there.
    pub unreadable: bool,
    /// The file is not there at all.
    pub missing: bool,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// [`crate::paths::kind_of`], with what was not done to it.
fn kind_of(ft: &std::fs::FileType) -> String {
    let what = crate::paths::kind_of(ft);
    if ft.is_symlink() {
        format!("{what} (not followed)")
    } else if ft.is_dir() || ft.is_socket() {
        what.to_string()
    } else {
        format!("{what} (not opened)")
    }
}

/// [`read_small`] of a file below `root`, reached only through real directories
/// ([`crate::paths::detour`]): a link on the way is damage, never followed.
pub fn read_small_below(root: &Path, path: &Path, limit: u64) -> Result<Vec<u8>, FileProblem> {
    if let Some((at, why)) = crate::paths::detour(root, path) {
        return Err(FileProblem {
            message: format!("{}: {why}", crate::text::escape(at.as_os_str().as_encoded_bytes())),
            unreadable: false,
            missing: false,
        });
    }
    read_small(path, limit)
}

/// The bytes of the regular file `path`, at most `limit` of them.
pub fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, FileProblem> {
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let problem = |message: String, unreadable: bool, missing: bool| FileProblem {
        message: format!("{shown}: {message}"),
        unreadable,
        missing,
    };
    let io = |e: std::io::Error| {
        let missing = e.kind() == std::io::ErrorKind::NotFound;
        problem(e.to_string(), !missing, missing)
    };
    // Look before opening: a FIFO must never be opened for reading.
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(problem(kind_of(&meta.file_type()), false, false));
    }
    let file = crate::noatime::open(path, libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC).map_err(io)?;
    // The file may have been swapped between the look and the open: look again at what is open.
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(problem(kind_of(&meta.file_type()), false, false));
    }
    if meta.len() > limit {
        return Err(problem(
            format!(
                "{} bytes, more than the {limit} such a file can hold; not read",
                meta.len()
            ),
            false,
            false,
        ));
    }
    let mut out = Vec::new();
    file.take(limit + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > limit {
        return Err(problem(
            format!("grew past {limit} bytes while read; not read"),
            false,
            false,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(read_small(&file, 10).unwrap(), b"{}");
        assert!(read_small(&file, 1).unwrap_err().message.contains("more than"));
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read_small(&link, 10).unwrap_err().message.contains("symlink"));
        let fifo = dir.path().join("p");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(read_small(&fifo, 10).unwrap_err().message.contains("FIFO"));
        assert!(read_small(&dir.path().join("none"), 10).unwrap_err().missing);
    }

    #[test]
    fn a_memory_budget_refuses_what_does_not_fit_and_keeps_what_is_left() {
        let mut b = MemoryBudget::new(3 << 20);
        assert_eq!(b.take(2 << 20), Ok(()));
        assert_eq!(
            b.take((1 << 20) + 1),
            Err(
                "would take 2 MiB of memory, more than the 1 MiB left of the 3 MiB for all containers' files"
                    .to_string()
            )
        );
        // The refused tree took nothing: what is left still holds one that fits.
        assert_eq!(b.take(1 << 20), Ok(()));
        assert!(b.take(1).is_err());
    }

    #[test]
    fn counts_json_values_outside_strings() {
        assert_eq!(json_values(b"0"), 1);
        assert_eq!(json_values(b"[0,0,0]"), 4);
        // An upper bound: `{"a":[],"b":{}}` is 3 values.
        assert_eq!(json_values(br#"{"a":[],"b":{}}"#), 5);
        assert_eq!(json_values(br#"{"a,[{":"\",[{"}"#), 2);
        // A real tree is within the bound.
        for text in [
            &br#"{"a":[0,0,0],"b":{"c":"dd","e":null}}"#[..],
            b"[[[[]]]]",
            br#"["x","y"]"#,
        ] {
            let j = crate::inspect::gojson::parse_as_go(text).unwrap();
            assert!(j.footprint() <= parsed_bound(text), "{}", String::from_utf8_lossy(text));
        }
        let many = format!("[{}0]", "0,".repeat(1 << 22));
        let err = check_parsed_size(Path::new("/d/config.v2.json"), many.as_bytes()).unwrap_err();
        assert!(
            err.message
                .starts_with("/d/config.v2.json: 8388611 bytes holding up to 4194306 JSON values"),
            "{err}"
        );
        assert!(!err.unreadable && !err.missing);
        assert!(check_parsed_size(Path::new("/d/f"), b"[0,0]").is_ok());
    }
}
