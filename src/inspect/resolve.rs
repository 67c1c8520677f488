//! Which image record a reference names (dockerd's `resolveImage`).
//!
//! * a 64-hex ID or a digest: the first record (name order) whose target is that digest; with
//!   a name as well (`alpine@sha256:...`), the first whose repository equals the name's;
//! * a name: exact record `name[:latest]`;
//! * otherwise a short ID (4 to 64 hex, optional `sha256:`): records named exactly like the
//!   reference or whose target digest starts with it; several different targets are
//!   ambiguous.

use super::{InspectError, Inspector};
use crate::containerd::records::{self, Image};
use crate::image::reference::{self, AnyRef};

fn not_found(what: &str) -> InspectError {
    InspectError(format!("No such image: {what}"))
}

pub(super) fn resolve(ins: &Inspector<'_>, input: &str) -> Result<Image, InspectError> {
    // A layout or archive names its images its own way (ref names as written, `@N`).
    if let Some(source) = &ins.root.source {
        match source.resolve(input) {
            Err(message) => return Err(InspectError(message)),
            Ok(Some(record)) => {
                let mut damage = crate::damage::Damage::new();
                if let Ok(Some(img)) = records::image_named(&ins.tx, &ins.namespace, &record, &mut damage) {
                    return Ok(img);
                }
            }
            Ok(None) => {}
        }
    }
    let parsed = reference::parse_any(input).map_err(|e| InspectError(e.to_string()))?;
    let named = match parsed {
        AnyRef::Digest(digest) => {
            return ins
                .with_target(&digest, records::Scan::Keep)
                .into_iter()
                .next()
                .ok_or_else(|| not_found(&digest));
        }
        AnyRef::Named(n) => n,
    };
    if let Some(digest) = &named.digest {
        let candidates = ins.with_target(digest, records::Scan::Keep);
        if candidates.is_empty() {
            return Err(not_found(&named.familiar()));
        }
        let want = named.name();
        return candidates
            .into_iter()
            .find(|img| reference::parse_normalized_named(&img.name).is_ok_and(|n| n.name() == want))
            .ok_or_else(|| not_found(&named.familiar()));
    }
    let tagged = named.tag_name_only();
    let full = tagged.to_string();
    let mut damage = crate::damage::Damage::new();
    let found = records::image_named(&ins.tx, &ins.namespace, &full, &mut damage);
    // A record that reads only in part is still damage met (its times or labels are missing).
    if !damage.is_empty()
        && let Ok(mut all) = ins.damage.lock()
    {
        all.extend(damage);
    }
    match found {
        Ok(Some(img)) => return Ok(img),
        Ok(None) => {}
        // A page on the record's path is damaged: damage met (exit 3), and the reference is
        // then looked for as if the record were not there, as the scan below skips it too.
        Err(e) => {
            if let Ok(mut all) = ins.damage.lock() {
                all.push(e);
            }
        }
    }
    let Some(prefix) = truncated_id(input) else {
        return Err(not_found(&tagged.familiar()));
    };
    // Decoded, only the records the raw key or target digest may make hits (all of them
    // once the index is built); picked again as decoded.
    let id_of = |digest: &[u8]| {
        digest.strip_prefix(b"sha256:").is_some_and(|hex| {
            hex.len() == 64 && hex.starts_with(prefix.as_bytes()) && hex.iter().all(u8::is_ascii_hexdigit)
        })
    };
    let images = ins.images_where(|key, target| key == full.as_bytes() || target.is_some_and(id_of));
    let hits: Vec<&Image> = images
        .iter()
        .filter(|img| img.name == full || id_of(img.target.digest.as_bytes()))
        .collect();
    let chosen = choose(&hits, &full).unwrap_or_else(|| Err(not_found(&tagged.familiar())))?;
    // The records of the target chosen were all picked (its digest has the prefix): RepoTags'
    // lookup of that digest needs no second scan.
    if let std::borrow::Cow::Owned(scanned) = &images
        && id_of(chosen.target.digest.as_bytes())
    {
        let digest = &chosen.target.digest;
        ins.scanned_for(
            digest,
            scanned.iter().filter(|i| &i.target.digest == digest).cloned().collect(),
        );
    }
    Ok(chosen)
}

/// dockerd's pick among a short ID's hits: the one, the record named exactly like the
/// reference, or the first when all have the same target; else ambiguous. `None` without
/// a hit.
fn choose(hits: &[&Image], full: &str) -> Option<Result<Image, InspectError>> {
    Some(match hits {
        [] => return None,
        [only] => Ok((*only).clone()),
        many => {
            if let Some(exact) = many.iter().find(|img| img.name == full) {
                return Some(Ok((*exact).clone()));
            }
            let first = many.first().map(|img| &img.target.digest);
            if let Some(img) = many.first()
                && many.iter().all(|img| Some(&img.target.digest) == first)
            {
                Ok((*img).clone())
            } else {
                Err(InspectError("ambiguous reference".into()))
            }
        }
    })
}

/// dockerd's `checkTruncatedID`: 4 to 64 lowercase hex characters after an optional
/// `sha256:`.
fn truncated_id(input: &str) -> Option<&str> {
    let id = input.strip_prefix("sha256:").unwrap_or(input);
    let ok = (4..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some(id)
}
