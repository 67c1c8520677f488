//! Damage met while reading, as values that say where: the file, the page and byte offset (for
//! bbolt structure), the record (for a value that does not decode), and the message printed on
//! stderr. Readers collect it and go on; commands print it, count it into the exit code, and
//! put it in their JSON reports.

use crate::bolt::BoltError;
use serde::Serialize;

/// Whether the system refused a read for a reason outside the data: permissions, too few
/// file descriptors or too little memory, a device that fails. What is on disk may be intact,
/// so it is unreadable (exit 4), not damage (exit 3). A symlink refused, a file of the wrong
/// kind, a name that is not there: those are what the data says.
pub fn refused_by_system(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EACCES | libc::EPERM | libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS | libc::EIO)
    )
}

/// One piece of damage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Note {
    /// The file, as it was opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The bbolt page, for damage in the file's structure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The byte offset in the file where the damage was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The whole message, as printed on stderr.
    pub message: String,
    /// Not damage of the data but a failure to read it (EACCES, EIO, EMFILE): the command
    /// exits 4, not 3.
    #[serde(skip)]
    pub unreadable: bool,
}

impl From<BoltError> for Note {
    fn from(e: BoltError) -> Note {
        let message = e.to_string();
        match e {
            BoltError::Corrupt { path, page, offset, .. } => Note {
                file: Some(path.display().to_string()),
                page: Some(page),
                offset: Some(offset),
                message,
                unreadable: false,
            },
            BoltError::NoValidMeta { path, .. } | BoltError::MetaUnusable { path, .. } => Note {
                file: Some(path.display().to_string()),
                page: None,
                offset: None,
                message,
                unreadable: false,
            },
            // The system refused the read (not a symlink or a file of the wrong kind, which
            // are said as errors of our own making, and are damage).
            BoltError::Io { path, source } => Note {
                file: Some(path.display().to_string()),
                page: None,
                offset: None,
                message,
                unreadable: source.raw_os_error().is_some(),
            },
        }
    }
}

/// A record that does not decode, named in the message (`namespace moby: content sha256:...:
/// size: not a varint`): the file and page are those of the bucket that holds it, unknown here.
impl From<String> for Note {
    fn from(message: String) -> Note {
        Note {
            file: None,
            page: None,
            offset: None,
            message,
            unreadable: false,
        }
    }
}

impl Note {
    /// A read the system refused, said by `message` (exit 4, not damage).
    pub fn refused(message: String) -> Note {
        Note {
            unreadable: true,
            ..Note::from(message)
        }
    }

    /// `path` could not be read for `e`: unreadable when the system refused it (an OS error),
    /// damage otherwise.
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> Note {
        Note {
            file: Some(path.display().to_string()),
            page: None,
            offset: None,
            message: format!("{}: {e}", path.display()),
            unreadable: e.raw_os_error().is_some(),
        }
    }

    /// The same damage, its message prefixed by what was being read (`namespace moby: images`).
    pub fn within(mut self, what: impl std::fmt::Display) -> Note {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The damage met so far, in the order it was met.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct Damage(Vec<Note>);

impl Damage {
    pub fn new() -> Damage {
        Damage(Vec::new())
    }

    pub fn push(&mut self, note: impl Into<Note>) {
        self.0.push(note.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a note is a failure to read, not damage ([`Note::unreadable`]).
    pub fn has_unreadable(&self) -> bool {
        self.0.iter().any(|n| n.unreadable)
    }

    /// Whether a note is damage (not a failure to read).
    pub fn has_damage(&self) -> bool {
        self.0.iter().any(|n| !n.unreadable)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Note> {
        self.0.iter()
    }

    /// Each note once (the same page can be met from several records), in the order met.
    pub fn distinct(&self) -> Vec<&Note> {
        let mut seen = foldhash::HashSet::default();
        self.0.iter().filter(|n| seen.insert(&n.message)).collect()
    }

    pub fn extend(&mut self, other: Damage) {
        self.0.extend(other.0);
    }
}

impl<'a> IntoIterator for &'a Damage {
    type Item = &'a Note;
    type IntoIter = std::slice::Iter<'a, Note>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Damage {
    type Item = Note;
    type IntoIter = std::vec::IntoIter<Note>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
