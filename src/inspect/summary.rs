//! Which manifest supplies Config, Os and Architecture: dockerd's `multiPlatformSummary`.
//!
//! Every manifest reachable from the target is visited depth-first in index order (indexes
//! nested in indexes too). A manifest can become `Best` when its content is available in the
//! namespace (manifest, config and layers recorded), it is not a pseudo-image (an attestation
//! or an `unknown/unknown` entry, or one without any layer media type), its config reads and
//! decodes, and its platform matches; among those the most preferred platform wins, ties
//! keeping the first.

use super::{Inspector, MAX_GRAPH_DEPTH, ReadError};
use crate::image::document::{self, Descriptor, ImageConfig, Manifest};
use crate::image::platform::{Matcher, Platform};
use foldhash::HashSet;
use std::sync::Arc;

/// The chosen manifest, its decoded config and the platform it was ranked by.
pub struct Best {
    pub target: Descriptor,
    pub config: ImageConfig,
    pub platform: Platform,
}

/// Best for `target`; what dockerd would log on the way goes to `notes`.
pub(super) fn best(
    ins: &Inspector<'_>,
    target: &Descriptor,
    matcher: &Matcher,
    notes: &mut Vec<String>,
) -> Result<Option<Best>, String> {
    let mut best = None;
    if document::is_manifest_type(&target.media_type) {
        consider(ins, target, matcher, &mut best, notes);
    } else if document::is_index_type(&target.media_type) {
        walk(ins, target, matcher, &mut best, notes, &mut HashSet::default(), 0)?;
    } else {
        notes.push(format!(
            "{}: unexpected image target (neither a manifest nor index)",
            target.digest
        ));
    }
    Ok(best)
}

/// containerd's `images.Walk` over the index: each descriptor, then its children.
fn walk(
    ins: &Inspector<'_>,
    desc: &Descriptor,
    matcher: &Matcher,
    best: &mut Option<Best>,
    notes: &mut Vec<String>,
    seen: &mut HashSet<(String, String)>,
    depth: usize,
) -> Result<(), String> {
    // containerd walks a descriptor again each time it is listed; a second visit cannot change
    // Best (ties keep the first), and without this an index DAG with genuine digests costs
    // 2^depth visits.
    if !seen.insert((desc.digest.clone(), desc.media_type.clone())) {
        return Ok(());
    }
    // The bound is on the documents read (a manifest below MAX_GRAPH_DEPTH indexes is read),
    // as in the Size walk and the listings; a manifest's config and layers read nothing.
    let document = document::is_manifest_type(&desc.media_type) || document::is_index_type(&desc.media_type);
    if document && depth > MAX_GRAPH_DEPTH {
        return Err(super::too_deep(&desc.digest));
    }
    if document::is_manifest_type(&desc.media_type) {
        consider(ins, desc, matcher, best, notes);
    }
    let children = match ins.children(desc) {
        Ok(c) => c,
        Err(ReadError::NotFound) => return Ok(()),
        Err(ReadError::Other(e)) => return Err(e),
    };
    for child in children.iter() {
        walk(ins, child, matcher, best, notes, seen, depth + 1)?;
    }
    Ok(())
}

/// Reads and decodes a manifest (`readJSON` into `ocispec.Manifest`), once per inspector.
fn manifest(ins: &Inspector<'_>, desc: &Descriptor, validate: bool) -> Result<Arc<Manifest>, ReadError> {
    ins.manifest(desc, validate)
}

/// One manifest's turn at becoming `Best`.
fn consider(
    ins: &Inspector<'_>,
    desc: &Descriptor,
    matcher: &Matcher,
    best: &mut Option<Best>,
    notes: &mut Vec<String>,
) {
    let mut note = |what: String| notes.push(format!("{}: {what}", desc.digest));
    // images.Check: the manifest reads, and its config and layers are recorded. A record
    // that does not read is Check's error, not a missing blob (sweep 30.1: a damaged layer
    // record made the image "not available", and inspect printed an empty Config, exit 0).
    let available = match manifest(ins, desc, true) {
        Ok(m) => {
            let mut all = true;
            for d in std::iter::once(&m.config).chain(&m.layers) {
                match ins.content_size(&d.digest) {
                    Ok(Some(_)) => {}
                    Ok(None) => all = false,
                    Err(e) => return note(format!("checking availability failed: {e}")),
                }
            }
            all
        }
        Err(ReadError::NotFound) => false,
        Err(ReadError::Other(e)) => return note(format!("checking availability failed: {e}")),
    };
    match is_pseudo(ins, desc) {
        Ok(true) => return,
        Ok(false) | Err(ReadError::NotFound) => {}
        Err(ReadError::Other(e)) => return note(format!("pseudo image check failed: {e}")),
    }
    if !available {
        return;
    }
    let config = match read_config(ins, desc) {
        Ok(c) => c,
        Err(e) => return note(format!("failed to read image config: {e}")),
    };
    let platform = match &desc.platform {
        Some(p) => p.clone(),
        None if config.os.as_deref().is_some_and(|o| !o.is_empty()) => config.platform(),
        None => Platform::default(),
    };
    if !matcher.matches(&platform) {
        return;
    }
    if best.as_ref().is_none_or(|b| matcher.less(&platform, &b.platform)) {
        *best = Some(Best {
            target: desc.clone(),
            config,
            platform,
        });
    }
}

/// dockerd's `IsPseudoImage`: attestations and `unknown/unknown` entries, and manifests none
/// of whose layers is a layer.
fn is_pseudo(ins: &Inspector<'_>, desc: &Descriptor) -> Result<bool, ReadError> {
    if desc.annotation("vnd.docker.reference.type").is_some() {
        return Ok(true);
    }
    if let Some(p) = &desc.platform
        && p.os == "unknown"
        && p.architecture == "unknown"
    {
        return Ok(true);
    }
    let m = manifest(ins, desc, false)?;
    if m.layers.is_empty() {
        return Ok(false);
    }
    Ok(!m.layers.iter().any(|l| document::is_layer_type(&l.media_type)))
}

/// The manifest's config, decoded as Docker's image config (a `created` Go's `time.Time`
/// refuses refuses it, as dockerd's `readJSON` refuses it: "could not deserialize image
/// config").
///
/// The error names the config blob, so that a reader of the warning need not look it up in the
/// manifest.
fn read_config(ins: &Inspector<'_>, desc: &Descriptor) -> Result<ImageConfig, String> {
    // The warning already names the manifest (its digest leads the note).
    let m = manifest(ins, desc, true).map_err(read_error)?;
    let digest = &m.config.digest;
    // Some blob errors lead with the digest already (a blob that is not a regular file, one too
    // large, an I/O error): those are not prefixed twice.
    let at = |what: String| match what.starts_with(digest.as_str()) {
        true => format!("config {what}"),
        false => format!("config {digest}: {what}"),
    };
    let blob = ins.read_blob(&m.config).map_err(|e| at(read_error(e)))?;
    document::decode(&blob).map_err(|e| at(e.to_string()))
}

fn read_error(e: ReadError) -> String {
    match e {
        ReadError::NotFound => "not found".into(),
        ReadError::Other(e) => e,
    }
}
