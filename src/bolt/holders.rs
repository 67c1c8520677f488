//! Who holds a lock on a file, as the kernel lists them in `/proc/locks` (read, never taken):
//! a bbolt file whose lock another process holds is open for writing by it (containerd takes
//! an exclusive `flock` for as long as it runs), so damage in what we read may be a commit
//! being written.
//!
//! ```text
//! /proc/locks, one lock a line:
//!   1: FLOCK  ADVISORY  WRITE 1234 fd:01:1319176 0 EOF
//!   |  |      |         |     |    |  |  |       '-- range (whole file for flock)
//!   |  |      |         |     |    '--'--'-- device major:minor (hex), inode (decimal)
//!   |  |      |         |     '-- the holder's pid (-1 for an open file description lock)
//!   |  |      |         '-- READ (shared) or WRITE (exclusive)
//!   |  '------'-- FLOCK, POSIX or OFDLCK; ADVISORY or MANDATORY
//!   '-- its number; "1: -> FLOCK ..." is a process waiting for it, not holding it
//! ```

use std::io::Read;
use std::path::Path;

/// A lock some process holds on the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The holder's pid as this process's namespace sees it; `None` when the kernel does not
    /// say (an open file description lock, a process outside our namespace).
    pub pid: Option<u32>,
    /// WRITE: an exclusive lock (bbolt's writer); READ: a shared one (a read-only bbolt).
    pub exclusive: bool,
}

/// More than any host lists; what is past it is not read.
const MOST: u64 = 8 << 20;

/// The locks held on the file at `path` (`follow`: through a symlink at `path`), other than
/// this process's own; empty when none, or when `/proc/locks` cannot be read.
pub fn holders(path: &Path, follow: bool) -> Vec<Holder> {
    use std::os::unix::fs::MetadataExt;
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let Ok(meta) = meta else {
        return Vec::new();
    };
    let mut text = String::new();
    let read = std::fs::File::open("/proc/locks").and_then(|f| f.take(MOST).read_to_string(&mut text));
    if read.is_err() {
        return Vec::new();
    }
    let dev = meta.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    parse(&text, major, minor, meta.ino(), std::process::id())
}

/// The locks `text` (`/proc/locks`) lists on the inode `ino` of device `major:minor`, but
/// `own` pid's. Public for the fuzz target (`names`).
pub fn parse(text: &str, major: u32, minor: u32, ino: u64, own: u32) -> Vec<Holder> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace().skip(1).peekable();
        if fields.peek() == Some(&"->") {
            continue;
        }
        let (Some(_kind), Some(_advisory), Some(mode), Some(pid), Some(file)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let mut parts = file.split(':');
        let (Some(ma), Some(mi), Some(i), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let same = u32::from_str_radix(ma, 16) == Ok(major)
            && u32::from_str_radix(mi, 16) == Ok(minor)
            && i.parse::<u64>() == Ok(ino);
        if !same {
            continue;
        }
        let pid = pid.parse::<u32>().ok().filter(|&p| p != 0);
        if pid == Some(own) {
            continue;
        }
        found.push(Holder {
            pid,
            exclusive: mode == "WRITE",
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKS: &str = "\
1: POSIX  ADVISORY  WRITE 812 00:19:2315 0 EOF
2: FLOCK  ADVISORY  WRITE 4321 fd:01:1319176 0 EOF
2: -> FLOCK  ADVISORY  WRITE 999 fd:01:1319176 0 EOF
3: FLOCK  ADVISORY  READ 77 fd:01:1319176 0 EOF
4: OFDLCK ADVISORY  READ -1 fd:01:1319176 0 EOF
5: FLOCK  ADVISORY  WRITE 4321 fd:01:131917 0 EOF
6: FLOCK  ADVISORY  WRITE 55 fd:02:1319176 0 EOF
7: FLOCK  ADVISORY  WRITE 66 fd:01:1319176 0 EOF
garbage
8: FLOCK
";

    /// The holders of one inode: waiters, other inodes and devices, and our own pid left out;
    /// a pid the kernel does not give is none.
    #[test]
    fn holders_of_one_inode() {
        let found = parse(LOCKS, 0xfd, 1, 1_319_176, 66);
        assert_eq!(
            found,
            [
                Holder {
                    pid: Some(4321),
                    exclusive: true
                },
                Holder {
                    pid: Some(77),
                    exclusive: false
                },
                Holder {
                    pid: None,
                    exclusive: false
                },
            ]
        );
        assert!(parse(LOCKS, 0xfd, 3, 1_319_176, 66).is_empty());
    }

    /// A lock this process takes on a file is its own; one a child takes is listed.
    #[test]
    fn a_lock_held_here_is_ours_and_a_childs_is_listed() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        std::fs::write(&path, b"x").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a valid descriptor; flock takes no pointer.
        assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
        assert!(holders(&path, false).is_empty());
        drop(file);
        let mut child = std::process::Command::new("flock")
            .arg("-s")
            .arg(&path)
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let mut seen = Vec::new();
        for _ in 0..200 {
            seen = holders(&path, false);
            if !seen.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(!seen[0].exclusive);
    }
}
