//! `Size`: containerd's `Dispatch(LimitManifests(ChildrenHandler, platform, 1))` over the
//! image target, adding every visited descriptor's declared size.
//!
//! NotFound while reading a manifest or index is swallowed (its size still counts); any other
//! error fails the whole inspect, as in dockerd. For an index, children are stably sorted by
//! platform preference (entries without a platform last) and only the first is followed; the
//! others are not even looked at. Siblings (a manifest's config and layers) are visited on
//! the rayon pool the caller installed (at most three workers, as dockerd's semaphore of 3).

use super::{Inspector, MAX_GRAPH_DEPTH, ReadError};
use crate::image::document::{self, DOCKER_MANIFEST_LIST, Descriptor, OCI_INDEX};
use crate::image::platform::Matcher;
use foldhash::HashMap;
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

pub(super) fn size(ins: &Inspector<'_>, desc: &Descriptor, matcher: &Matcher) -> Result<i64, String> {
    visit(ins, desc, matcher, 0, &Memo::default())
}

/// What each visit (a descriptor at a depth) added, once: containerd's walk visits a
/// descriptor again each time it is listed, so manifests listing shared manifests (M0 lists M1
/// forty times, M1 lists M2 forty times, ...) would cost fan-out to the power of depth. A
/// visit's result depends only on its descriptor and its depth (the depth limit), so answering
/// the same visit twice from here changes no answer.
type Memo = Mutex<HashMap<(String, String, i64, usize), Result<i64, String>>>;

fn visit(ins: &Inspector<'_>, desc: &Descriptor, matcher: &Matcher, depth: usize, memo: &Memo) -> Result<i64, String> {
    let key = (desc.digest.clone(), desc.media_type.clone(), desc.size, depth);
    if let Some(known) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return known;
    }
    let total = visit_once(ins, desc, matcher, depth, memo);
    if let Ok(mut m) = memo.lock() {
        m.insert(key, total.clone());
    }
    total
}

fn visit_once(
    ins: &Inspector<'_>,
    desc: &Descriptor,
    matcher: &Matcher,
    depth: usize,
    memo: &Memo,
) -> Result<i64, String> {
    if depth > MAX_GRAPH_DEPTH {
        return Err(super::too_deep(&desc.digest));
    }
    let children = match limit(ins.children(desc), desc, matcher) {
        Ok(c) => c,
        Err(ReadError::NotFound) => Arc::default(),
        Err(ReadError::Other(e)) => return Err(e),
    };
    // Children that are not manifests or indexes are never read: their declared size is all
    // they add. Only two or more children that need reads are worth the pool.
    let (reads, leaves): (Vec<&Descriptor>, Vec<&Descriptor>) = children.iter().partition(|c| needs_read(c));
    // Go's int64 sum wraps on overflow (only damaged records declare such sizes); wrapping
    // addition is associative, so the pool's order gives moby's number.
    let mut total = leaves.iter().fold(desc.size, |acc, c| acc.wrapping_add(c.size));
    let below = if reads.len() > 1 {
        ins.on_pool(|| {
            reads
                .par_iter()
                .map(|c| visit(ins, c, matcher, depth + 1, memo))
                .try_reduce(|| 0, |a, b| Ok(a.wrapping_add(b)))
        })?
    } else {
        reads.iter().try_fold(0i64, |acc, c| {
            Ok::<_, String>(acc.wrapping_add(visit(ins, c, matcher, depth + 1, memo)?))
        })?
    };
    total = total.wrapping_add(below);
    Ok(total)
}

fn needs_read(d: &Descriptor) -> bool {
    document::is_manifest_type(&d.media_type) || document::is_index_type(&d.media_type)
}

/// containerd's `LimitManifests(..., 1)`: only for the two index media types (whose children
/// are copied to be sorted; a manifest's are used as they are).
fn limit(
    children: Result<Arc<Vec<Descriptor>>, ReadError>,
    desc: &Descriptor,
    matcher: &Matcher,
) -> Result<Arc<Vec<Descriptor>>, ReadError> {
    let children = children?;
    if desc.media_type != OCI_INDEX && desc.media_type != DOCKER_MANIFEST_LIST {
        return Ok(children);
    }
    let mut children = children.as_ref().clone();
    sort_by_preference(&mut children, matcher);
    if children.is_empty() {
        return Err(ReadError::NotFound);
    }
    children.truncate(1);
    Ok(Arc::new(children))
}

/// Stable sort: entries with a platform first, in the matcher's preference order.
pub fn sort_by_preference(children: &mut [Descriptor], matcher: &Matcher) {
    children.sort_by(|a, b| match (&a.platform, &b.platform) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(pa), Some(pb)) => {
            if matcher.less(pa, pb) {
                std::cmp::Ordering::Less
            } else if matcher.less(pb, pa) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        }
    });
}
