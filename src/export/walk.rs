//! The walk from each image's target to the blobs that go out (the parent module says
//! what is chosen and why): documents read and checked here, layers looked at and planned.

use super::{
    ANNOTATION_DAMAGED, ANNOTATION_IMAGE_NAME, ANNOTATION_MISSING, ANNOTATION_REF_NAME, ANNOTATION_UNREADABLE, Blob,
    DockerEntry, ExportError, Fault, IndexEntry, Plan, Problem, Selection, is_foreign, member_name, oci_reference_name,
    write,
};
use crate::containerd::records::Image;
use crate::containerd::root::{BlobError, Root};
use crate::digest::Digest;
use crate::image::document::{self, Descriptor, Index, Manifest};
use crate::image::platform::{self, Matcher, Platform};
use crate::image::reference;
use crate::inspect::{Inspector, MAX_GRAPH_DEPTH, sort_by_preference};
use foldhash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Walks images of one namespace into a [`Plan`].
pub struct Exporter<'a, 'r> {
    root: &'r Root,
    /// Content sizes of the namespace, looked up once each (and learnt in one walk when
    /// memory is tight and most records will be asked for).
    sizes: &'a Inspector<'r>,
    namespace: String,
    host: Platform,
    selection: Selection,
    salvage: bool,
    /// What is planned so far; handed over by [`Exporter::into_plan`] (kept in step with
    /// the side indexes below, so not changed from outside).
    plan: Plan,
    /// Blobs found missing or damaged, by digest and the size their descriptor gave, with the
    /// fault, to report it again for the next image that needs the blob as that size (a blob
    /// in the plan was found sound: shared layers are checked once). The size is part of the
    /// key: a descriptor that gives the wrong size is that descriptor's fault, not the fault of
    /// one that gives the right size, whichever comes first.
    faults: BTreeMap<String, BTreeMap<i64, (Fault, String)>>,
    /// Indexes walked for the current image and what they gave: an index reached again (a
    /// cycle, or one named twice) is not walked again, so hostile graphs stay linear.
    indexes: BTreeMap<String, Option<DockerEntry>>,
    /// The label of the image being added (its name, or its digest), shared by the blobs it
    /// plans.
    image: Arc<str>,
    /// Images already added (name, target, named): a reference given twice adds nothing.
    added: BTreeSet<(String, String, bool)>,
    /// Where `plan.index`, `plan.docker` and `plan.problems` hold entries of each digest, so
    /// that "already there?" is one lookup, not a scan of every image added before (a scan
    /// was a third of exporting 5,000 images).
    index_at: HashMap<String, Vec<usize>>,
    docker_at: HashMap<String, usize>,
    /// The problems said, each once: a set, since one blob can have as many problems as
    /// sizes descriptors give it (a hostile manifest: 100,000), and a scan of them for each
    /// new one was quadratic.
    problems_said: HashSet<Problem>,
    /// `--all-platforms`: the first manifest of the current image's index that was never
    /// pulled (no record, no file): the export fails as `--platform` does for one, exit 1,
    /// not damage (sweep 29.2).
    not_pulled: Option<(String, String)>,
    /// `--salvage`: blobs whose content record did not read in the namespace (none in the
    /// salvage view, or its lookup met damage), taken from their files ([`Exporter::looked_up`]).
    unrecorded: BTreeSet<String>,
}

/// What `--platform`'s search below an index has met: the indexes looked into, and the nested
/// ones that did not read (fault, why).
#[derive(Default)]
struct PlatformSearch {
    seen: std::collections::HashSet<String>,
    failed: Vec<(Descriptor, Fault, String)>,
}

impl<'a, 'r> Exporter<'a, 'r> {
    pub fn new(
        root: &'r Root,
        sizes: &'a Inspector<'r>,
        namespace: &str,
        host: Platform,
        selection: Selection,
        salvage: bool,
    ) -> Self {
        Exporter {
            root,
            sizes,
            namespace: namespace.to_string(),
            host,
            selection,
            salvage,
            plan: Plan::default(),
            faults: BTreeMap::new(),
            indexes: BTreeMap::new(),
            image: Arc::from(""),
            added: BTreeSet::new(),
            index_at: HashMap::default(),
            docker_at: HashMap::default(),
            problems_said: HashSet::default(),
            not_pulled: None,
            unrecorded: BTreeSet::new(),
        }
    }

    /// The plan of every image added.
    pub fn into_plan(mut self) -> Plan {
        if !self.unrecorded.is_empty() {
            let digests: Vec<&str> = self.unrecorded.iter().map(String::as_str).collect();
            self.plan.notes.push(format!(
                "salvage: {} blob(s) whose content record in namespace {} did not read (lost with damaged pages) were taken from their blob files, each hashed against its digest: {}",
                digests.len(),
                self.namespace,
                digests.join(", ")
            ));
        }
        self.plan
    }

    /// The size of the content record of `text` (`digest` parsed) in the namespace. With
    /// `--salvage`, when the record does not read (none in the salvage view: its page lost its
    /// parent; or its lookup met a damaged page), the blob file's own length, and the blob is
    /// noted: `--salvage` writes what exists, and a blob file is checked against its digest
    /// and the descriptor's size before a byte of it is planned (sweep 43.1: a branch page of
    /// the content records with a bad type left a salvage export with no blob in it, every
    /// file intact on disk).
    fn looked_up(&mut self, text: &str, digest: &Digest) -> Result<Option<i64>, crate::bolt::BoltError> {
        let recorded = self.sizes.content_size(text);
        if matches!(recorded, Ok(Some(_))) || !((recorded.is_err() && self.salvage) || self.takes_unrecorded()) {
            return recorded;
        }
        match self.root.open_blob(digest) {
            Ok((_, len)) => {
                self.unrecorded.insert(text.to_string());
                Ok(Some(i64::try_from(len).unwrap_or(i64::MAX)))
            }
            Err(_) => recorded,
        }
    }

    /// Adds one resolved image. `named`: whether the reference named it by name (docker drops
    /// the names of an image exported by ID or digest).
    pub fn add(&mut self, reference: &str, image: &Image, named: bool) -> Result<(), ExportError> {
        if !self
            .added
            .insert((image.name.clone(), image.target.digest.clone(), named))
        {
            return Ok(());
        }
        let label = if named {
            reference::parse_normalized_named(&image.name)
                .map(|n| n.familiar())
                .unwrap_or_else(|_| image.name.clone())
        } else {
            image.target.digest.clone()
        };
        let mut target = Descriptor {
            media_type: image.target.media_type.clone(),
            digest: image.target.digest.clone(),
            size: image.target.size,
            annotations: (!image.target.annotations.is_empty()).then(|| image.target.annotations.clone()),
            ..Descriptor::default()
        };
        self.image = Arc::from(label.as_str());
        let problems_before = self.plan.problems.len();
        self.indexes.clear();
        let docker = match self.selection.clone() {
            Selection::Platform(p) => {
                target = self.platform_target(reference, &target, &p, &label)?;
                self.manifest(&target, &label, true)
            }
            _ => self.node(&target, &label, 0),
        };
        if let Some((platform, manifest)) = self.not_pulled.take() {
            return Err(ExportError::NotPulled {
                reference: reference.to_string(),
                platform,
                manifest,
            });
        }
        let mut annotations: BTreeMap<String, String> = target.annotations.clone().unwrap_or_default();
        annotations.remove(ANNOTATION_IMAGE_NAME);
        annotations.remove(ANNOTATION_REF_NAME);
        // A record of a layout source may be named by a tag alone ("1.0", as skopeo writes
        // it) or by its position ("@5"): the first is kept as the ref name it was, the second
        // is no name at all; only full names are image names.
        let parsed = reference::parse_normalized_named(&image.name).ok();
        let canonical = parsed.as_ref().is_some_and(|n| n.to_string() == image.name);
        // An entry of a layout or archive with no name of its own is recorded as `@N`: no name
        // goes out for it (sweep 24: ctr import named an image `@2`).
        let positional = crate::source::import::position(&image.name).is_some()
            && image.labels.contains_key(crate::source::import::ENTRY_LABEL);
        let named = named && !positional;
        if named && canonical {
            annotations.insert(ANNOTATION_IMAGE_NAME.into(), image.name.clone());
            annotations.insert(ANNOTATION_REF_NAME.into(), oci_reference_name(&image.name));
        } else if named && image.name.contains(['/', ':', '@']) {
            // A full name no docker reference reads (upper case, a space): kept as
            // containerd's exporter keeps it, and said, since docker load cannot name it. (A
            // bare word is a layout's tag alone, "v1", kept as the ref name it was.)
            // The tag as containerd's exporter writes it, empty too (`x:1`: a host and port).
            annotations.insert(ANNOTATION_IMAGE_NAME.into(), image.name.clone());
            annotations.insert(ANNOTATION_REF_NAME.into(), oci_reference_name(&image.name));
            self.plan.notes.push(format!(
                "{}: not a docker reference; written as io.containerd.image.name only (ctr import names it; docker load gives it no name)",
                image.name
            ));
        } else if named && !image.name.starts_with('@') {
            annotations.insert(ANNOTATION_REF_NAME.into(), image.name.clone());
        }
        let mine: Vec<&Problem> = self
            .plan
            .problems
            .get(problems_before..)
            .unwrap_or_default()
            .iter()
            .collect();
        for (fault, key) in [
            (Fault::Missing, ANNOTATION_MISSING),
            (Fault::Damaged, ANNOTATION_DAMAGED),
            // An intact blob this user may not read is not damaged: the artifact says which.
            (Fault::Unreadable, ANNOTATION_UNREADABLE),
        ] {
            let digests: BTreeSet<&str> = mine
                .iter()
                .filter(|p| p.fault == fault)
                .map(|p| p.digest.as_str())
                .collect();
            if !digests.is_empty() {
                annotations.insert(key.into(), digests.into_iter().collect::<Vec<_>>().join(","));
            }
        }
        let entry = descriptor_json(&target, &annotations);
        let same_digest = self.index_at.entry(entry.digest.clone()).or_default();
        if !same_digest.iter().any(|&i| self.plan.index.get(i) == Some(&entry)) {
            same_digest.push(self.plan.index.len());
            self.plan.index.push(entry);
        }
        if let Some(mut d) = docker {
            // Only a full name is a repository: a layout's tag alone ("v1") would become the
            // invented `v1:latest` (skopeo writes no RepoTags for it).
            // A name with a digest (the CRI's `name@sha256:...` records) is no tag: docker
            // load refuses a RepoTag that is not `name:tag`.
            let tag = parsed
                .filter(|n| named && canonical && n.digest.is_none())
                .map(|n| n.tag_name_only().familiar());
            let existing = self
                .docker_at
                .get(&d.manifest)
                .and_then(|&i| self.plan.docker.get_mut(i));
            if let Some(existing) = existing {
                if let Some(t) = tag
                    && !existing.repo_tags.contains(&t)
                {
                    existing.repo_tags.push(t);
                }
            } else {
                d.repo_tags.extend(tag);
                self.docker_at.insert(d.manifest.clone(), self.plan.docker.len());
                self.plan.docker.push(d);
            }
        }
        Ok(())
    }

    /// `--platform`: the manifest of the target (or of its index) for `p`.
    /// The manifest of `index` (an index's descriptor) for the platform: the best match among
    /// its manifests that is on this node, else one found below its nested indexes (those
    /// with no platform or a matching one, as containerd's platform walk descends), else the
    /// best match that was never pulled (said as such). `None`: nothing for the platform. An
    /// index that does not read is the walk's problem: the top one is returned as the target
    /// (the walk reports it); a nested one is passed over, and said only when no other holds
    /// the platform (`search.failed`). Each index is looked into once (`search.seen`): indexes
    /// listing one another many times are no exponential walk.
    #[allow(
        clippy::too_many_arguments,
        reason = "the search's state, carried down its recursion"
    )]
    fn platform_in_index(
        &mut self,
        reference: &str,
        index: &Descriptor,
        p: &Platform,
        matcher: &Matcher,
        label: &str,
        depth: usize,
        search: &mut PlatformSearch,
    ) -> Result<Option<Descriptor>, ExportError> {
        if !search.seen.insert(index.digest.clone()) {
            return Ok(None);
        }
        // The index only chooses here: it is not part of the output.
        let parsed = match Digest::parse(&index.digest)
            .map_err(|e| (Fault::Damaged, e.to_string()))
            .and_then(|d| self.fetch_checked(index, &d, index.size))
            .and_then(|data| document::decode::<Index>(&data).map_err(|_| (Fault::Damaged, "not an index".to_string())))
        {
            Ok(parsed) => parsed,
            Err((fault, why)) if depth == 0 => {
                self.fail(label, index, fault, why);
                return Ok(Some(index.clone()));
            }
            Err((fault, why)) => {
                search.failed.push((index.clone(), fault, why));
                return Ok(None);
            }
        };
        let fits = |c: &Descriptor| {
            c.platform
                .as_ref()
                .is_some_and(|cp| matcher.matches(&platform::normalize(cp)))
        };
        let mut children: Vec<Descriptor> = parsed
            .manifests
            .iter()
            .filter(|c| document::is_manifest_type(&c.media_type) && fits(c))
            .cloned()
            .collect();
        sort_by_preference(&mut children, matcher);
        // The best match that is on this node; one that was never pulled is said as such
        // (the default export leaves it out as not on this node, not as damage).
        if let Some(c) = children.iter().find(|c| self.present(c)) {
            return Ok(Some(c.clone()));
        }
        // Sweep 24: an index nesting another was refused every platform.
        let mut nested: Vec<Descriptor> = parsed
            .manifests
            .iter()
            .filter(|c| document::is_index_type(&c.media_type) && (c.platform.is_none() || fits(c)))
            .cloned()
            .collect();
        sort_by_preference(&mut nested, matcher);
        if depth + 1 < MAX_GRAPH_DEPTH {
            for n in &nested {
                if !self.present(n) {
                    continue;
                }
                if let Some(found) = self.platform_in_index(reference, n, p, matcher, label, depth + 1, search)? {
                    return Ok(Some(found));
                }
            }
        }
        match children.into_iter().next() {
            Some(absent) if !self.on_disk_at_all(&absent) => Err(ExportError::NotPulled {
                reference: reference.to_string(),
                platform: absent
                    .platform
                    .as_ref()
                    .map(|p| p.format())
                    .unwrap_or_else(|| p.format()),
                manifest: absent.digest,
            }),
            // There in some form (a record, a damaged file): the walk reports it.
            Some(c) => Ok(Some(c)),
            None => Ok(None),
        }
    }

    fn platform_target(
        &mut self,
        reference: &str,
        target: &Descriptor,
        p: &Platform,
        label: &str,
    ) -> Result<Descriptor, ExportError> {
        let none = || ExportError::NoPlatform {
            reference: reference.to_string(),
            platform: p.format(),
        };
        let matcher = Matcher::strict(p);
        if document::is_index_type(&target.media_type) {
            let mut search = PlatformSearch::default();
            let found = self.platform_in_index(reference, target, p, &matcher, label, 0, &mut search)?;
            return match (found, search.failed.is_empty()) {
                (Some(chosen), _) => Ok(chosen),
                (None, true) => Err(none()),
                // A nested index that does not read may hold the platform: damage, said, and
                // the walk of the target reports the image as not whole.
                (None, false) => {
                    for (index, fault, why) in search.failed {
                        self.fail(label, &index, fault, why);
                    }
                    Ok(target.clone())
                }
            };
        }
        // A single manifest: its config says its platform.
        let config = self
            .fetch(target)
            .ok()
            .and_then(|m| document::decode::<Manifest>(&m).ok())
            .and_then(|m| self.fetch(&m.config).ok())
            .and_then(|c| document::decode::<document::ImageConfig>(&c).ok());
        match config {
            Some(c) if matcher.matches(&platform::normalize(&c.platform())) => Ok(target.clone()),
            // What cannot be read is damage, found again (and reported) by the walk.
            None => Ok(target.clone()),
            Some(_) => Err(none()),
        }
    }

    /// An index or a manifest, by media type; other targets are copied as they are.
    fn node(&mut self, desc: &Descriptor, label: &str, depth: usize) -> Option<DockerEntry> {
        if document::is_index_type(&desc.media_type) {
            self.index(desc, label, depth)
        } else if document::is_manifest_type(&desc.media_type) {
            self.manifest(desc, label, true)
        } else {
            // As inspect says it: nothing a loader would take (manifest.json would be empty).
            // The blob is still written, for --salvage.
            self.problem(
                label,
                &desc.digest,
                Fault::Damaged,
                format!(
                    "unexpected image target (neither a manifest nor index): media type {:?}",
                    desc.media_type
                ),
            );
            self.member(desc, label);
            None
        }
    }

    fn index(&mut self, desc: &Descriptor, label: &str, depth: usize) -> Option<DockerEntry> {
        if depth >= MAX_GRAPH_DEPTH {
            self.problem(
                label,
                &desc.digest,
                Fault::Damaged,
                format!("indexes nested deeper than {MAX_GRAPH_DEPTH} levels (a cycle?)"),
            );
            return None;
        }
        if let Some(done) = self.indexes.get(&desc.digest) {
            return done.clone();
        }
        self.indexes.insert(desc.digest.clone(), None);
        let chosen = self.walk_index(desc, label, depth);
        self.indexes.insert(desc.digest.clone(), chosen.clone());
        chosen
    }

    fn walk_index(&mut self, desc: &Descriptor, label: &str, depth: usize) -> Option<DockerEntry> {
        let data = self.document(desc, label, true)?;
        let index = match document::validate_media_type(&data, &desc.media_type)
            .and_then(|_| document::decode::<Index>(&data))
        {
            Ok(i) => i,
            Err(e) => {
                self.problem(label, &desc.digest, Fault::Damaged, e.to_string());
                return None;
            }
        };
        let mut children = index.manifests;
        sort_by_preference(&mut children, &Matcher::all_preferring(&self.host));
        let mut chosen: Option<DockerEntry> = None;
        for child in &children {
            let what = child
                .platform
                .as_ref()
                .map(|p| p.format())
                .unwrap_or_else(|| "no platform".into());
            if document::is_index_type(&child.media_type) {
                let below = self.index(child, label, depth + 1);
                chosen = chosen.or(below);
                continue;
            }
            if !document::is_manifest_type(&child.media_type) {
                self.member(child, label);
                continue;
            }
            match self.selection {
                // Never pulled: no export of every platform (exit 1, as `--platform`'s);
                // salvage writes what is there and says what it left out, not as missing.
                Selection::All if !self.on_disk_at_all(child) => {
                    if self.salvage {
                        self.plan.notes.push(format!(
                            "{label}: manifest {} ({what}) is not on this node (never pulled); left out",
                            child.digest
                        ));
                    } else {
                        self.not_pulled.get_or_insert((what, child.digest.clone()));
                    }
                }
                Selection::All | Selection::Platform(_) => {
                    let e = self.manifest(child, label, true);
                    chosen = chosen.or(e);
                }
                Selection::Default => {
                    if !self.present(child) {
                        self.plan.notes.push(format!(
                            "{label}: manifest {} ({what}) is not on this node; exported as docker save does, without it",
                            child.digest
                        ));
                        continue;
                    }
                    // The first present manifest in the host's preference is the image docker
                    // loads (manifest.json): it must be complete. The others go out complete or,
                    // as containerd's WithSkipMissing, as their manifest alone.
                    let required = chosen.is_none();
                    let e = self.manifest(child, label, required);
                    if required {
                        chosen = e;
                    }
                }
            }
        }
        chosen
    }

    /// A manifest, its config and layers. `required`: a blob it lacks is a problem; otherwise
    /// (a platform other than the host's, by default) a manifest whose blobs are not all
    /// there goes out alone. The docker-archive entry when the manifest went out whole.
    fn manifest(&mut self, desc: &Descriptor, label: &str, required: bool) -> Option<DockerEntry> {
        let data = self.document(desc, label, required)?;
        let manifest = match document::validate_media_type(&data, &desc.media_type)
            .and_then(|_| document::decode::<Manifest>(&data))
        {
            Ok(m) => m,
            Err(e) => {
                self.problem(label, &desc.digest, Fault::Damaged, e.to_string());
                return None;
            }
        };
        // Every blob it lists is named in the archive by its digest (manifest.json's Config
        // and Layers, foreign layers too): a digest that does not parse names no member, and
        // its text (`sha256:../../etc/passwd`) must not become a path a loader opens.
        if let Some(bad) = std::iter::once(&manifest.config)
            .chain(&manifest.layers)
            .find(|d| Digest::parse(&d.digest).is_err())
        {
            self.problem(
                label,
                &desc.digest,
                Fault::Damaged,
                format!("lists {:?}, which is not a digest", bad.digest),
            );
            return None;
        }
        let layers: Vec<&Descriptor> = manifest.layers.iter().filter(|l| !is_foreign(l)).collect();
        let complete = self.present(&manifest.config) && layers.iter().all(|l| self.present(l));
        if !required && !complete {
            self.plan.notes.push(format!(
                "{label}: manifest {} goes out without its config and layers: not all of them are on this node (as docker save)",
                desc.digest
            ));
            return None;
        }
        let config = self.document(&manifest.config, label, true);
        let diff_ids: Vec<String> = config
            .and_then(|c| document::decode::<document::ImageConfig>(&c).ok())
            .and_then(|c| c.rootfs?.diff_ids)
            .unwrap_or_default();
        let mut layer_sources = BTreeMap::new();
        for (l, diff_id) in manifest.layers.iter().zip(&diff_ids) {
            if is_foreign(l) {
                layer_sources.insert(
                    diff_id.clone(),
                    super::LayerSource {
                        media_type: l.media_type.clone(),
                        digest: l.digest.clone(),
                        size: l.size,
                        urls: l.urls.clone().unwrap_or_default(),
                    },
                );
            }
        }
        for l in &layers {
            self.layer(l, label);
        }
        for l in manifest.layers.iter().filter(|l| is_foreign(l)) {
            self.plan.notes.push(format!(
                "{label}: foreign layer {} kept as a descriptor, without its blob",
                l.digest
            ));
        }
        Some(DockerEntry {
            manifest: desc.digest.clone(),
            config: member_name(&manifest.config.digest),
            config_media_type: manifest.config.media_type.clone(),
            layers: manifest.layers.iter().map(|l| member_name(&l.digest)).collect(),
            repo_tags: Vec::new(),
            layer_sources,
        })
    }

    /// Whether a blob is on the node for this namespace: a content record and a regular file.
    /// Whether nothing of the blob is here: no content record and no file of any kind.
    fn on_disk_at_all(&self, desc: &Descriptor) -> bool {
        let Ok(d) = Digest::parse(&desc.digest) else {
            return true;
        };
        !matches!(self.sizes.content_size(&desc.digest), Ok(None)) || self.root.blob_stat(&d).is_ok()
    }

    fn present(&self, desc: &Descriptor) -> bool {
        let Ok(d) = Digest::parse(&desc.digest) else {
            return false;
        };
        let recorded = match self.sizes.content_size(&desc.digest) {
            Ok(Some(_)) => true,
            // A record lost with damaged pages, under --salvage: the file decides, as for
            // the blobs the walk reads (`looked_up`).
            _ => self.takes_unrecorded(),
        };
        recorded && self.root.blob_stat(&d).is_ok_and(|m| m.is_file())
    }

    /// Whether a blob whose content record does not read is taken from its file: only with
    /// `--salvage`, and only when meta.db is damaged (on a sound file a blob with no record in
    /// the namespace is missing from it, as containerd says: review of a04c4f4).
    fn takes_unrecorded(&self) -> bool {
        self.salvage
            && (self.root.salvage.as_ref().is_some_and(|s| s.damaged())
                || self.sizes.meta_damage.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Reads a document (containerd's `ReadBlob`: the namespace's record and file).
    fn fetch(&mut self, desc: &Descriptor) -> Result<Vec<u8>, BlobError> {
        let size = match Digest::parse(&desc.digest) {
            Ok(digest) => self.looked_up(&desc.digest, &digest),
            Err(_) => self.sizes.content_size(&desc.digest),
        };
        self.root.read_looked_up(&desc.digest, size)
    }

    /// [`Exporter::fetch`], checked against `digest` and `size`: what is wrong with the
    /// document, as a fault and why.
    fn fetch_checked(&mut self, desc: &Descriptor, digest: &Digest, size: i64) -> Result<Vec<u8>, (Fault, String)> {
        let data = self.fetch(desc).map_err(|e| (Fault::of(&e), e.to_string()))?;
        check(digest, size, &data).map_err(|why| (Fault::Damaged, why))?;
        Ok(data)
    }

    /// Reads, checks and plans a document; its bytes, for the caller to decode. `required`:
    /// a missing one is a problem (else `None` quietly: the caller decides).
    fn document(&mut self, desc: &Descriptor, label: &str, required: bool) -> Option<Vec<u8>> {
        let digest = match Digest::parse(&desc.digest) {
            Ok(d) => d,
            Err(e) => {
                self.problem(label, &desc.digest, Fault::Damaged, e.to_string());
                return None;
            }
        };
        if let Some(planned) = self.plan.blobs.get(&desc.digest) {
            // A blob planned as a layer is not read as a document (it never was).
            let again = planned.document.then(|| (planned.size, planned.image.clone()));
            let (size, first) = again?;
            if !self.sized_as_planned(desc, size, label) {
                return None;
            }
            return self.read_again(desc, &digest, label, size, &first);
        }
        if self.faulted_before(desc, label) {
            return None;
        }
        let data = match self.fetch_checked(desc, &digest, desc.size) {
            Ok(d) => d,
            Err((fault, why)) => {
                // Damage is always said; a missing document only when the caller needs it.
                if required || fault != Fault::Missing {
                    self.fail(label, desc, fault, why);
                }
                return None;
            }
        };
        self.plan.blobs.insert(
            desc.digest.clone(),
            Blob {
                size: data.len() as u64,
                digest,
                image: self.image.clone(),
                document: true,
            },
        );
        Some(data)
    }

    /// A document planned before, for another image or another name of this one: the plan
    /// keeps no bytes, so they are read again and held to what was checked then (its digest
    /// and size: as when the bytes were kept, this descriptor's size is not asked again).
    /// Bytes that no longer read as they did (the store changed during the export) are this
    /// image's problem; the write then fails on them too, naming `first`, the image that
    /// planned them.
    fn read_again(
        &mut self,
        desc: &Descriptor,
        digest: &Digest,
        label: &str,
        size: u64,
        first: &str,
    ) -> Option<Vec<u8>> {
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        match self.fetch_checked(desc, digest, size) {
            Ok(data) => Some(data),
            Err((fault, why)) => {
                let why = format!("changed since it was read for {first}: {why}");
                self.problem(label, &desc.digest, fault, why);
                None
            }
        }
    }

    /// Plans a document the walk does not look into (a target or an index's child that is
    /// neither an index nor a manifest): read and checked once, however many images name it.
    fn member(&mut self, desc: &Descriptor, label: &str) {
        if !self.plan.blobs.contains_key(&desc.digest) {
            self.document(desc, label, true);
        }
    }

    /// Plans a layer: recorded, a regular file of the descriptor's size; in salvage mode also
    /// hashed now, so that a damaged one is left out before anything is written.
    fn layer(&mut self, desc: &Descriptor, label: &str) {
        if let Some(planned) = self.plan.blobs.get(&desc.digest) {
            let size = planned.size;
            self.sized_as_planned(desc, size, label);
            return;
        }
        if self.faulted_before(desc, label) {
            return;
        }
        let digest = match Digest::parse(&desc.digest) {
            Ok(d) => d,
            Err(e) => return self.problem(label, &desc.digest, Fault::Damaged, e.to_string()),
        };
        // A record's size reads where the whole record does (`records::content_size_of`).
        match self.looked_up(&desc.digest, &digest) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return self.fail(
                    label,
                    desc,
                    Fault::Missing,
                    format!("no content record in namespace {}", self.namespace),
                );
            }
            Err(e) => return self.fail(label, desc, Fault::Damaged, e.to_string()),
        }
        // A negative size is no size (as for documents): -1 naming an empty file is not it.
        let Ok(size) = u64::try_from(desc.size) else {
            let why = format!("the descriptor's size {} is negative", desc.size);
            return self.fail(label, desc, Fault::Damaged, why);
        };
        let checked = match self.root.open_blob(&digest) {
            Err(e) => Err((Fault::of(&e), e.to_string())),
            Ok((_, len)) if len != size => Err((
                Fault::Damaged,
                format!("file is {len} bytes, the descriptor says {size}"),
            )),
            // Terabytes of holes would be written as zeros until OUT's disk is full (sweep 23).
            Ok((file, len)) if let Some(why) = file.too_sparse(len) => Err((Fault::Damaged, why)),
            Ok((file, _)) if self.salvage => {
                write::copy_verified(file, &digest, size, &mut std::io::sink()).map_err(|e| (e.fault, e.detail))
            }
            Ok(_) => Ok(()),
        };
        match checked {
            Err((fault, why)) => self.fail(label, desc, fault, why),
            Ok(()) => {
                self.plan.blobs.insert(
                    desc.digest.clone(),
                    Blob {
                        digest,
                        size,
                        image: self.image.clone(),
                        document: false,
                    },
                );
            }
        }
    }

    /// Whether the blob `desc` names was found at fault before, at the size it gives; if so
    /// the fault is reported again for `image`.
    fn faulted_before(&mut self, desc: &Descriptor, image: &str) -> bool {
        // Looked up by the digest as it is: no key built for the common case, no fault.
        match self
            .faults
            .get(&desc.digest)
            .and_then(|by_size| by_size.get(&desc.size))
            .cloned()
        {
            None => false,
            Some((fault, detail)) => {
                self.problem(image, &desc.digest, fault, detail);
                true
            }
        }
    }

    /// Records a blob's fault, for this image and the next ones that need it at this size.
    fn fail(&mut self, image: &str, desc: &Descriptor, fault: Fault, detail: String) {
        self.faults
            .entry(desc.digest.clone())
            .or_default()
            .insert(desc.size, (fault, detail.clone()));
        self.problem(image, &desc.digest, fault, detail);
    }

    /// Whether `desc` gives the size of the blob as planned (its file's, checked then); a
    /// descriptor that gives another is damage of the image that has it, as it would have
    /// been had it come first.
    fn sized_as_planned(&mut self, desc: &Descriptor, size: u64, image: &str) -> bool {
        if u64::try_from(desc.size).ok() == Some(size) {
            return true;
        }
        let why = format!("file is {size} bytes, the descriptor says {}", desc.size);
        self.problem(image, &desc.digest, Fault::Damaged, why);
        false
    }

    fn problem(&mut self, image: &str, digest: &str, fault: Fault, detail: String) {
        let p = Problem {
            image: image.to_string(),
            digest: digest.to_string(),
            fault,
            detail,
        };
        if self.problems_said.insert(p.clone()) {
            self.plan.problems.push(p);
        }
    }
}

/// A document's bytes against its descriptor: size, then digest.
fn check(digest: &Digest, size: i64, data: &[u8]) -> Result<(), String> {
    // Nothing was read for it (a size no blob has): say what is wrong, not "0 bytes".
    if size < 0 {
        return Err(format!("the descriptor's size {size} is negative"));
    }
    if i64::try_from(data.len()).ok() != Some(size) {
        return Err(format!("{} bytes, the descriptor says {size}", data.len()));
    }
    let found = write::hash(digest.algorithm(), data);
    if found != digest.hex() {
        return Err(format!("content hashes to {}:{found}", digest.algorithm()));
    }
    Ok(())
}

fn descriptor_json(d: &Descriptor, annotations: &BTreeMap<String, String>) -> IndexEntry {
    IndexEntry {
        media_type: d.media_type.clone(),
        digest: d.digest.clone(),
        size: d.size,
        urls: d.urls.clone().filter(|u| !u.is_empty()),
        annotations: annotations.clone(),
        platform: d.platform.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_checked_against_its_descriptor_and_says_what_differs() {
        let data = b"{}";
        let digest = Digest::parse(&format!("sha256:{}", write::hash("sha256", data))).unwrap();
        assert_eq!(check(&digest, 2, data), Ok(()));
        assert_eq!(check(&digest, 3, data), Err("2 bytes, the descriptor says 3".into()));
        // Nothing is read for a negative size: no claim about the file's length.
        assert_eq!(
            check(&digest, i64::MIN, b""),
            Err(format!("the descriptor's size {} is negative", i64::MIN))
        );
        let other = Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
        assert!(
            check(&other, 2, data)
                .unwrap_err()
                .starts_with("content hashes to sha256:")
        );
    }
}
