//! Arbitrary bytes as the documents of an OCI layout: the input is split at `\0\0` into
//! `oci-layout`, `index.json` and any number of blobs (each stored under its own sha256).
//! The layout checks, the index's entries and the import walk (indexes, manifests, nested,
//! cyclic, sizes that lie) must end without a panic, and every image record the import makes
//! must be resolvable by its own name.
#![no_main]

use coldctr::containerd::root::BlobError;
use coldctr::digest::Digest;
use coldctr::source::{Kind, SourceInfo, import, layout};
use std::collections::HashMap;

struct Map(HashMap<Digest, Vec<u8>>);

impl import::Blobs for Map {
    fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, BlobError> {
        match self.0.get(digest) {
            Some(b) => Ok(b.iter().copied().take(limit as usize).collect()),
            None => Err(BlobError::NotFound(digest.to_string())),
        }
    }

    fn exists(&self, digest: &Digest) -> bool {
        self.0.contains_key(digest)
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let pieces: Vec<&[u8]> = split(data);
    let mut problems = Vec::new();
    layout::check_layout_file(pieces.first().copied(), &mut problems);
    let entries = layout::entries(pieces.get(1).copied().unwrap_or_default(), &mut problems);
    let blobs = Map(pieces
        .iter()
        .skip(2)
        .map(|b| (Digest::sha256_of(b), b.to_vec()))
        .collect());
    let imported = import::import(&entries, &blobs, &mut problems);
    let db =
        coldctr::bolt::Db::from_bytes("fuzz", coldctr::bolt::build::build(&imported.tree)).expect("built tree reads");
    let tx = db.view(coldctr::bolt::MetaChoice::Current).expect("view");
    assert!(coldctr::bolt::check::check(&tx).is_empty());
    let info = SourceInfo {
        kind: Kind::OciLayout,
        path: "fuzz".into(),
        problems,
        names: imported.names.clone(),
        ambiguous: imported.ambiguous,
        targets: imported.targets,
    };
    for n in &imported.names {
        assert_eq!(
            info.resolve(&n.record).ok().flatten().as_deref(),
            Some(n.record.as_str())
        );
    }
});

/// The input cut at each `\0\0`.
fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(2).position(|w| w == [0, 0]) {
        out.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    out.push(rest);
    out
}
