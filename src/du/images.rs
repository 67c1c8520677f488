//! Per image group (the image records of a namespace that share a target): what is reachable
//! from it, what it shares with anything else, and what only it holds.

use super::*;

/// Per image group: total, shared and unique content and snapshot bytes.
pub(super) fn image_usage(
    store: &Store,
    c: &Collection,
    by_leases: &[bool],
    by_other: &[bool],
    backends: &HashMap<&str, HashMap<&str, &BackendSnapshot>>,
    walk: &mut Walk,
) -> Vec<ImageUsage> {
    let g = &c.graph;
    // Identity of what a node stands for across namespaces: a content digest, or a backend
    // snapshot; with its size.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum What {
        Content,
        Snapshot,
    }
    // Content by its digest (the records of every namespace sorted by digest, the first
    // record's size; 186,000 of them at 20,000 images, so no map is kept); snapshots by a key
    // built from their names. The two never meet: ids come from one counter.
    let mut snapshot_ident: HashMap<String, u32> = HashMap::default();
    let mut ident_size: Vec<u64> = Vec::new();
    let mut node_ident: Vec<Option<(What, u32)>> = vec![None; g.len()];
    fn intern<K: std::hash::Hash + Eq>(ident: &mut HashMap<K, u32>, sizes: &mut Vec<u64>, key: K, size: u64) -> u32 {
        let next = sizes.len() as u32;
        let id = *ident.entry(key).or_insert(next);
        if id == next {
            sizes.push(size);
        }
        id
    }
    let mut content: Vec<(&crate::digest::PackedDigest, u64, u32)> =
        Vec::with_capacity(store.namespaces.iter().map(|n| n.content.len()).sum());
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (ci, rec) in ns.content.iter().enumerate() {
            if let Some(&node) = g.content.get(nsi).and_then(|v| v.get(ci)) {
                content.push((&rec.digest, ubytes(rec.size), node));
            }
        }
    }
    // Stable: among one digest's records, the first namespace's comes first.
    content.sort_by(|a, b| a.0.cmp_text(b.0));
    let mut last = None;
    for (digest, size, node) in content {
        if last != Some(digest) {
            ident_size.push(size);
            last = Some(digest);
        }
        let id = ident_size.len().saturating_sub(1) as u32;
        if let Some(slot) = node_ident.get_mut(node as usize) {
            *slot = Some((What::Content, id));
        }
    }
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (si, s) in ns.snapshots.iter().enumerate() {
            let Some(&node) = g.snapshots.get(nsi).and_then(|v| v.get(si)) else {
                continue;
            };
            if !g.exists.get(node as usize).copied().unwrap_or(false) {
                continue;
            }
            let backend = s
                .backend_name
                .as_deref()
                .and_then(|b| backends.get(s.snapshotter.as_str())?.get(b).copied());
            let size = backend
                .filter(|b| b.kind == "Committed")
                .map_or(0, |b| ubytes(b.size.unwrap_or(0)));
            let key = match &s.backend_name {
                Some(b) => format!("s {}\0{b}", s.snapshotter),
                None => format!("n {nsi}\0{}\0{}", s.snapshotter, s.key),
            };
            let id = intern(&mut snapshot_ident, &mut ident_size, key, size);
            if let Some(slot) = node_ident.get_mut(node as usize) {
                *slot = Some((What::Snapshot, id));
            }
        }
    }
    // Held by something other than images, anywhere.
    let mut other_held = vec![false; ident_size.len()];
    for (node, slot) in node_ident.iter().enumerate() {
        if let Some((_, id)) = slot
            && (by_leases.get(node).copied().unwrap_or(false) || by_other.get(node).copied().unwrap_or(false))
            && let Some(o) = other_held.get_mut(*id as usize)
        {
            *o = true;
        }
    }
    // Groups: (namespace, target) -> image indexes.
    // (namespace, target, name when there is no target) -> image indexes.
    type GroupKey<'a> = (usize, Option<&'a str>, Option<&'a str>);
    let mut groups: BTreeMap<GroupKey<'_>, Vec<usize>> = BTreeMap::new();
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (ii, img) in ns.images.iter().enumerate() {
            // An image without a target is its own group.
            let key = match &img.target {
                Some(t) => (nsi, Some(t.as_str()), None),
                None => (nsi, None, Some(img.name.as_str())),
            };
            groups.entry(key).or_default().push(ii);
        }
    }
    // Roots of each group: its image records' nodes, when they are roots (2.x: not expired).
    let roots: HashMap<(u32, u32), Edge> = g
        .roots
        .iter()
        .filter_map(|(cause, e)| match cause {
            Cause::Image(n, i) => Some(((*n, *i), *e)),
            _ => None,
        })
        .collect();
    let mut reached: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
    let mut groups_of: Vec<u8> = vec![0; ident_size.len()];
    for ((nsi, _, _), members) in &groups {
        let starts: Vec<Edge> = members
            .iter()
            .filter_map(|&ii| roots.get(&(*nsi as u32, ii as u32)).copied())
            .collect();
        let mut ids = Vec::new();
        g.reach(starts, walk, |node| {
            if let Some(Some((_, id))) = node_ident.get(node as usize) {
                ids.push(*id);
            }
        });
        ids.sort_unstable();
        ids.dedup();
        for &id in &ids {
            if let Some(c) = groups_of.get_mut(id as usize) {
                *c = c.saturating_add(1);
            }
        }
        reached.push(ids);
    }
    // An id is content or a snapshot for every node that has it.
    let mut kind_of: Vec<Option<What>> = vec![None; ident_size.len()];
    for (w, id) in node_ident.iter().flatten() {
        if let Some(k) = kind_of.get_mut(*id as usize) {
            *k = Some(*w);
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (((nsi, target, _), members), ids) in groups.iter().zip(reached) {
        let Some(ns) = store.namespaces.get(*nsi) else { continue };
        let mut content = Split::default();
        let mut snapshots = Split::default();
        for id in ids {
            let size = ident_size.get(id as usize).copied().unwrap_or(0);
            let split = match kind_of.get(id as usize).copied().flatten() {
                Some(What::Snapshot) => &mut snapshots,
                _ => &mut content,
            };
            split.total.add(size);
            let count = groups_of.get(id as usize).copied().unwrap_or(0);
            if count >= 2 {
                split.shared.add(size);
            } else if !other_held.get(id as usize).copied().unwrap_or(true) {
                split.unique.add(size);
            }
        }
        let mut names: Vec<String> = members
            .iter()
            .filter_map(|&i| ns.images.get(i).map(|m| m.name.clone()))
            .collect();
        names.sort();
        out.push(ImageUsage {
            namespace: ns.name.clone(),
            target: target.map(String::from),
            names,
            content,
            snapshots,
        });
    }
    out
}
