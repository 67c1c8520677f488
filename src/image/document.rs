//! The JSON documents of the content store, read the way containerd and dockerd read them:
//! manifests and indexes for their children (`images.Children`, with `validateMediaType`), and
//! image configs as Docker's `DockerOCIImage`. Types are lenient where Go is lenient (unknown
//! fields are ignored, nulls are empty) and strict where Go is strict (a wrong type is an
//! error), because those errors decide what `docker image inspect` prints.

use super::goshape::{FieldNames, Shape, go_fold};
use super::platform::Platform;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// containerd's `images.IsManifestType`.
pub fn is_manifest_type(mt: &str) -> bool {
    mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
}

/// containerd's `images.IsIndexType`.
pub fn is_index_type(mt: &str) -> bool {
    mt == OCI_INDEX || mt == DOCKER_MANIFEST_LIST
}

/// containerd's `images.IsLayerType`.
pub fn is_layer_type(mt: &str) -> bool {
    if mt.starts_with("application/vnd.oci.image.layer.") {
        return true;
    }
    let base = mt.split_once('+').map_or(mt, |(b, _)| b);
    matches!(
        base,
        "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd"
    )
}

/// An OCI descriptor as found inside manifests and indexes (`ocispec.Descriptor`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Descriptor {
    #[serde(rename = "mediaType", deserialize_with = "null_string")]
    pub media_type: String,
    #[serde(deserialize_with = "null_string")]
    pub digest: String,
    #[serde(deserialize_with = "null_i64")]
    pub size: i64,
    pub urls: Option<Vec<String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    /// Base64, as in the JSON (Go's `[]byte`: text that is not base64 is refused).
    #[serde(deserialize_with = "go_bytes")]
    pub data: Option<String>,
    pub platform: Option<Platform>,
    #[serde(rename = "artifactType", deserialize_with = "null_string")]
    pub artifact_type: String,
}

impl Descriptor {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// A `*time.Time` kept as its text: `Err` for one Go's `time.Time` refuses, for [`decode`]'s
/// slow way to refuse the document as Go does.
fn go_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    match text.as_deref().map(crate::containerd::gotime::parse_rfc3339) {
        Some(None) => Err(serde::de::Error::custom("not an RFC 3339 time")),
        _ => Ok(text),
    }
}

fn null_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A `[]byte` read as its base64 text: `Err` for text Go's decoder refuses, and for an array
/// of numbers (which Go takes), for [`decode`]'s slow way to turn into base64 text.
fn go_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    match text.as_deref().map(|t| super::goshape::go_base64_error(t.as_bytes())) {
        Some(Some(at)) => Err(serde::de::Error::custom(format!(
            "illegal base64 data at input byte {at}"
        ))),
        _ => Ok(text),
    }
}

/// Unit types that read one JSON value and keep nothing, refusing what Go's decoder refuses
/// for a field of the shape given ([`super::goshape::check`]): the serde fields of the Go
/// fields coldctr never reads, so that a wrong type there refuses the document as Go does,
/// without allocating for what is only looked at.
macro_rules! go_checked {
    ($($(#[$doc:meta])* $name:ident = $shape:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                static SHAPE: Shape = $shape;
                super::goshape::check(d, &SHAPE).map(|()| $name)
            }
        }
    )*};
}

go_checked! {
    /// `string` (and `digest.Digest`).
    GoStr = Shape::Str;
    /// `int`, `int64`.
    GoInt = Shape::Int;
    GoBool = Shape::Bool;
    /// `*time.Time`.
    GoTime = Shape::Time;
    /// `map[string]string`.
    GoStrMap = Shape::Map(&Shape::Str);
    /// `*ocispec.Descriptor`.
    GoDescriptor = DESCRIPTOR;
}

fn null_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or_default())
}

/// Why a document could not be used; none of these is a "not found".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("{0}")]
    Json(String),
    #[error("media-type: schema 1 not supported")]
    Schema1,
    #[error("media-type: expected manifest but found index ({0})")]
    ExpectedManifest(String),
    #[error("media-type: expected index but found manifest ({0})")]
    ExpectedIndex(String),
}

fn json_err(e: serde_json::Error) -> DocError {
    // Go's messages for the two commonest cases, so errors read like dockerd's.
    let msg = if e.is_eof() {
        "unexpected end of JSON input".to_string()
    } else {
        e.to_string()
    };
    DocError::Json(msg)
}

/// containerd's `validateMediaType`: the blob must be JSON, not schema 1, and agree with the
/// descriptor's media type about being a manifest or an index; its errors name the
/// descriptor's media type. Read as Go's `json.Unmarshal` into `unknownDocument` reads it:
/// keys match their field case-insensitively; a `fsLayers`, `manifests`, `config` or `layers`
/// key that is present counts whatever its value, even `null` or `[]` (Go decodes it into a
/// non-empty `json.RawMessage`); a `null` media type leaves the one before it; a media type
/// that is not a string is an error even when a later one is; nesting deeper than Go's 10,000
/// levels is refused.
pub fn validate_media_type(blob: &[u8], media_type: &str) -> Result<(), DocError> {
    nesting_within(blob, GO_MAX_DEPTH)?;
    // Only the keys Go's `unknownDocument` has are looked at; the rest of the document is
    // checked for syntax and skipped, not built into a tree (manifests are read by the
    // thousand in a listing).
    let read = |blob: &[u8]| {
        let mut reader = serde_json::Deserializer::from_slice(blob);
        serde::Deserializer::deserialize_any(&mut reader, KindOf { read_object: true })
            .and_then(|top| reader.end().map(|()| top))
    };
    let top = crate::gostring::parse_like_go(blob, read).map_err(json_err)?;
    let doc = match top {
        Kind::Null => return Ok(()),
        Kind::Object(doc) => doc,
        Kind::Str(_) | Kind::Other(_) => {
            return Err(DocError::Json(format!(
                "json: cannot unmarshal {} into Go value of type images.unknownDocument",
                top.go_name()
            )));
        }
    };
    if let Some(kind) = doc.media_type_error {
        return Err(DocError::Json(format!(
            "json: cannot unmarshal {kind} into Go struct field unknownDocument.mediaType of type string"
        )));
    }
    let doc_type = doc.media_type.as_str();
    if doc.fs_layers {
        return Err(DocError::Schema1);
    }
    if is_manifest_type(media_type) && (doc.manifests || is_index_type(doc_type)) {
        return Err(DocError::ExpectedManifest(media_type.to_string()));
    }
    if is_index_type(media_type) && (doc.config || doc.layers || is_manifest_type(doc_type)) {
        return Err(DocError::ExpectedIndex(media_type.to_string()));
    }
    Ok(())
}

/// Go's `encoding/json` refuses documents nested deeper than this (`maxNestingDepth`).
pub(crate) const GO_MAX_DEPTH: usize = 10_000;

/// Fails as Go's scanner does when arrays and objects nest deeper than `max` (serde_json
/// skips unknown values without a depth limit). Counts brackets outside strings only; the
/// syntax itself is checked by the reader after.
pub(crate) fn nesting_within(blob: &[u8], max: usize) -> Result<(), DocError> {
    // Deeper than `max` takes more than `max` opening brackets: nearly every document has
    // fewer in all, and is not read a byte at a time (that was an eighth of `images`).
    if blob.len() <= max || memchr::memchr2_iter(b'[', b'{', blob).nth(max).is_none() {
        return Ok(());
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in blob {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(DocError::Json(format!(
                        "invalid character '{}' exceeded max depth",
                        char::from(b)
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// containerd's `unknownDocument`: the media type (the last string given), the kind of the
/// first media type that was not a string, and which of `fsLayers`/`manifests`/`config`/
/// `layers` are present.
#[derive(Default)]
struct Unknown {
    media_type: String,
    media_type_error: Option<&'static str>,
    fs_layers: bool,
    manifests: bool,
    config: bool,
    layers: bool,
}

/// A JSON value's kind, keeping a string's text (and, read at the top level, what
/// `validateMediaType` wants of an object).
enum Kind {
    Null,
    Str(String),
    Object(Unknown),
    /// Go's name for the kind: array, bool, number, object.
    Other(&'static str),
}

impl Kind {
    /// Go's name for the kind (`json: cannot unmarshal <kind> into ...`).
    fn go_name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Str(_) => "string",
            Kind::Object(_) => "object",
            Kind::Other(kind) => kind,
        }
    }
}

/// The top-level keys `validateMediaType` reads.
enum Key {
    MediaType,
    FsLayers,
    Manifests,
    Config,
    Layers,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
                // Go matches a key to a field name without regard to case.
                Ok(match go_fold(k).as_str() {
                    "mediatype" => Key::MediaType,
                    "fslayers" => Key::FsLayers,
                    "manifests" => Key::Manifests,
                    "config" => Key::Config,
                    "layers" => Key::Layers,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads any value as its [`Kind`], skipping what is inside arrays, and inside objects too
/// unless `read_object` (the document's top level).
struct KindOf {
    read_object: bool,
}

impl<'de> serde::de::Visitor<'de> for KindOf {
    type Value = Kind;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Other("bool"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Other("number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Other("number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Other("number"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Kind, E> {
        Ok(Kind::Str(s.to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Kind::Other("array"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        if !self.read_object {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(Kind::Other("object"));
        }
        let mut doc = Unknown::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                // `null` leaves a Go string as it was; the first type error is the one Go
                // reports.
                Key::MediaType => match map.next_value()? {
                    Kind::Null => {}
                    Kind::Str(s) => doc.media_type = s,
                    other => {
                        doc.media_type_error.get_or_insert(other.go_name());
                    }
                },
                Key::FsLayers | Key::Manifests | Key::Config | Key::Layers => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    match key {
                        Key::FsLayers => doc.fs_layers = true,
                        Key::Manifests => doc.manifests = true,
                        Key::Config => doc.config = true,
                        _ => doc.layers = true,
                    }
                }
                Key::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Kind::Object(doc))
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindOf { read_object: false })
    }
}

/// An image manifest (`ocispec.Manifest`): the config and layers, and the other fields
/// checked only for their types.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    _schema_version: GoInt,
    #[serde(rename = "mediaType")]
    _media_type: GoStr,
    #[serde(rename = "artifactType")]
    _artifact_type: GoStr,
    pub config: Descriptor,
    #[serde(deserialize_with = "null_vec")]
    pub layers: Vec<Descriptor>,
    #[serde(rename = "subject")]
    _subject: GoDescriptor,
    #[serde(rename = "annotations")]
    _annotations: GoStrMap,
}

/// An index (`ocispec.Index`): the manifests, and the other fields checked only for their
/// types.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Index {
    #[serde(rename = "schemaVersion")]
    _schema_version: GoInt,
    #[serde(rename = "mediaType")]
    _media_type: GoStr,
    #[serde(rename = "artifactType")]
    _artifact_type: GoStr,
    #[serde(deserialize_with = "null_vec")]
    pub manifests: Vec<Descriptor>,
    #[serde(rename = "subject")]
    _subject: GoDescriptor,
    #[serde(rename = "annotations")]
    _annotations: GoStrMap,
}

fn null_vec<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A document type with the Go type it is read as ([`decode`]).
pub trait GoShaped: for<'de> Deserialize<'de> + Default {
    /// The Go type, every field of it (in Go's order), under the names serde reads: the
    /// fields this type does not read are type-checked only, as Go checks them.
    const SHAPE: Shape;
    /// The Go type's name, for messages.
    const GO_NAME: &'static str;
    /// The JSON names of [`GoShaped::SHAPE`]'s fields at any depth, worked out once
    /// ([`super::goshape::FieldNames`]).
    fn field_names() -> &'static FieldNames;
}

/// [`GoShaped::field_names`] of one type, kept in `cell`.
fn names_in(cell: &'static std::sync::OnceLock<FieldNames>, shape: &'static Shape) -> &'static FieldNames {
    cell.get_or_init(|| FieldNames::of(shape))
}

/// Decodes JSON the way Go's `json.Unmarshal` into the type's Go struct does
/// ([`super::goshape`]): keys match fields without regard to case, a repeated key decodes
/// again into what the earlier one set, `null` leaves a string alone and sets a slice to nil;
/// invalid UTF-8 and lone surrogate escapes in strings are U+FFFD ([`crate::gostring`]).
pub fn decode<T: GoShaped>(blob: &[u8]) -> Result<T, DocError> {
    let shape: &'static Shape = &T::SHAPE;
    // Go's scanner checks the whole text before it decodes: nesting past its limit refuses
    // the document even in a field no one reads (serde skips such a field at any depth).
    nesting_within(blob, GO_MAX_DEPTH)?;
    // Nearly every document has each field once, under its own name, and no null for a
    // string: serde's derives read it as Go does, in one pass (the tree and its second
    // reading made `images` take 58% more instructions).
    if super::goshape::keys_are_exact(blob, T::field_names())
        && super::goshape::no_array_for_a_struct(blob, T::field_names())
        && let Ok(v) = crate::gostring::from_slice::<Option<T>>(blob)
    {
        return Ok(v.unwrap_or_default());
    }
    let Ok(doc) = crate::inspect::gojson::parse(blob) else {
        // A tree is built only to a nesting of 128 (serde_json's limit), while serde skips
        // the fields it does not read at any depth, as Go does to 10,000: a document nested
        // deeper in a field no one reads is read as before (keys matched exactly), and one
        // that is not JSON fails with the error it always did.
        let v: Option<T> = crate::gostring::from_slice(blob).map_err(json_err)?;
        return Ok(v.unwrap_or_default());
    };
    let as_go = super::goshape::unmarshal(doc, shape, T::GO_NAME).map_err(DocError::Json)?;
    // What Go ended with has each field once, under serde's name and of the type serde reads.
    let v: Option<T> = serde_json::from_str(&as_go.to_compact(false)).map_err(json_err)?;
    Ok(v.unwrap_or_default())
}

/// `digest.Digest`, a string.
const DIGEST: Shape = Shape::Named("digest.Digest", &Shape::Str);

/// Go's `int` (64 bits wide where dockerd and containerd run).
const INT: Shape = Shape::Named("int", &Shape::Int);

/// `specs.Versioned`'s one field, first in manifests and indexes (embedded first).
const SCHEMA_VERSION: (&str, Shape) = ("schemaVersion", INT);

/// `ocispec.Descriptor`.
pub(crate) const DESCRIPTOR: Shape = Shape::Struct(
    "v1.Descriptor",
    &[
        ("mediaType", Shape::Str),
        ("digest", DIGEST),
        ("size", Shape::Int),
        ("urls", Shape::Slice(&Shape::Str)),
        ("annotations", Shape::Map(&Shape::Str)),
        ("data", Shape::Bytes),
        ("platform", Shape::Ptr(&PLATFORM)),
        ("artifactType", Shape::Str),
    ],
);

/// `ocispec.Platform`.
pub(crate) const PLATFORM: Shape = Shape::Struct(
    "v1.Platform",
    &[
        ("architecture", Shape::Str),
        ("os", Shape::Str),
        ("os.version", Shape::Str),
        ("os.features", Shape::Slice(&Shape::Str)),
        ("variant", Shape::Str),
    ],
);

impl GoShaped for Manifest {
    const SHAPE: Shape = Shape::Struct(
        "v1.Manifest",
        &[
            SCHEMA_VERSION,
            ("mediaType", Shape::Str),
            ("artifactType", Shape::Str),
            ("config", DESCRIPTOR),
            ("layers", Shape::Slice(&DESCRIPTOR)),
            ("subject", Shape::Ptr(&DESCRIPTOR)),
            ("annotations", Shape::Map(&Shape::Str)),
        ],
    );
    const GO_NAME: &'static str = "v1.Manifest";
    fn field_names() -> &'static FieldNames {
        static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
        names_in(&NAMES, &Self::SHAPE)
    }
}

impl GoShaped for Index {
    const SHAPE: Shape = Shape::Struct(
        "v1.Index",
        &[
            SCHEMA_VERSION,
            ("mediaType", Shape::Str),
            ("artifactType", Shape::Str),
            ("manifests", Shape::Slice(&DESCRIPTOR)),
            ("subject", Shape::Ptr(&DESCRIPTOR)),
            ("annotations", Shape::Map(&Shape::Str)),
        ],
    );
    const GO_NAME: &'static str = "v1.Index";
    fn field_names() -> &'static FieldNames {
        static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
        names_in(&NAMES, &Self::SHAPE)
    }
}

/// containerd's `images.Children` for a blob already read: a manifest's config and layers,
/// an index's manifests; nothing for any other media type.
pub fn children(blob: &[u8], media_type: &str) -> Result<Vec<Descriptor>, DocError> {
    if is_manifest_type(media_type) {
        validate_media_type(blob, media_type)?;
        let m: Manifest = decode(blob)?;
        let mut out = Vec::with_capacity(m.layers.len() + 1);
        out.push(m.config);
        out.extend(m.layers);
        Ok(out)
    } else if is_index_type(media_type) {
        validate_media_type(blob, media_type)?;
        Ok(decode::<Index>(blob)?.manifests)
    } else {
        Ok(Vec::new())
    }
}

/// Docker's image config (`dockerspec.DockerOCIImage`), the fields inspect shows.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// A time Go's `time.Time` takes, as written (`docker image inspect` prints it as Go's
    /// `Format(time.RFC3339Nano)`).
    #[serde(deserialize_with = "go_time")]
    pub created: Option<String>,
    pub author: Option<String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
    #[serde(rename = "os.version")]
    pub os_version: Option<String>,
    #[serde(rename = "os.features")]
    pub os_features: Option<Vec<String>>,
    pub variant: Option<String>,
    pub config: Option<ContainerConfig>,
    pub rootfs: Option<RootFs>,
    pub history: Option<Vec<History>>,
}

/// `dockerspec.DockerOCIImage`: `ocispec.Image` (with `Platform` embedded) and Docker's
/// config, which hides the `ocispec.ImageConfig` one and, not embedded, comes after
/// `ocispec.Image`'s fields. `created`, like `history`'s, is a `*time.Time`: one its
/// `UnmarshalJSON` refuses refuses the document, with that error over any other.
impl GoShaped for ImageConfig {
    const SHAPE: Shape = Shape::Struct(
        "v1.DockerOCIImage",
        &[
            ("created", Shape::Ptr(&Shape::Time)),
            ("author", Shape::Str),
            ("architecture", Shape::Str),
            ("os", Shape::Str),
            ("os.version", Shape::Str),
            ("os.features", Shape::Slice(&Shape::Str)),
            ("variant", Shape::Str),
            ("rootfs", ROOTFS),
            ("history", HISTORY),
            ("config", CONTAINER_CONFIG),
        ],
    );
    const GO_NAME: &'static str = "v1.DockerOCIImage";
    fn field_names() -> &'static FieldNames {
        static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
        names_in(&NAMES, &Self::SHAPE)
    }
}

/// `ocispec.RootFS`.
const ROOTFS: Shape = Shape::Struct(
    "v1.RootFS",
    &[("type", Shape::Str), ("diff_ids", Shape::Slice(&DIGEST))],
);

/// `[]ocispec.History`.
const HISTORY: Shape = Shape::Slice(&Shape::Struct(
    "v1.History",
    &[
        ("created", Shape::Ptr(&Shape::Time)),
        ("created_by", Shape::Str),
        ("author", Shape::Str),
        ("comment", Shape::Str),
        ("empty_layer", Shape::Bool),
    ],
));

go_checked! {
    /// Docker's container config in an image config.
    GoContainerConfig = CONTAINER_CONFIG;
    /// `ocispec.RootFS`.
    GoRootFs = ROOTFS;
    /// `[]ocispec.History`.
    GoHistory = HISTORY;
}

/// The platform an image config describes: [`ImageConfig::platform`] of what [`decode`]
/// makes of `blob`, without building the rest of the config. Listings ask every config for
/// its platform; the history, environment and labels they built for nothing were a sixth of
/// `images`' instructions.
pub fn config_platform(blob: &[u8]) -> Result<Platform, DocError> {
    match decode::<ConfigPlatform>(blob) {
        Ok(c) => Ok(c.platform()),
        // Refused: in the whole config's words (serde's messages name its types).
        Err(_) => decode::<ImageConfig>(blob).map(|c| c.platform()),
    }
}

/// An image config read for its platform: the Go type [`ImageConfig`] reads (so the same
/// fast way and the same slow one), with the fields outside the platform checked for their Go
/// types and not kept.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct ConfigPlatform {
    #[serde(rename = "created")]
    _created: GoTime,
    #[serde(rename = "author")]
    _author: GoStr,
    architecture: Option<String>,
    os: Option<String>,
    #[serde(rename = "os.version")]
    os_version: Option<String>,
    #[serde(rename = "os.features")]
    os_features: Option<Vec<String>>,
    variant: Option<String>,
    #[serde(rename = "config")]
    _config: GoContainerConfig,
    #[serde(rename = "rootfs")]
    _rootfs: GoRootFs,
    #[serde(rename = "history")]
    _history: GoHistory,
}

impl GoShaped for ConfigPlatform {
    const SHAPE: Shape = ImageConfig::SHAPE;
    const GO_NAME: &'static str = ImageConfig::GO_NAME;
    fn field_names() -> &'static FieldNames {
        ImageConfig::field_names()
    }
}

impl ConfigPlatform {
    fn platform(self) -> Platform {
        Platform {
            architecture: self.architecture.unwrap_or_default(),
            os: self.os.unwrap_or_default(),
            os_version: self.os_version.unwrap_or_default(),
            os_features: self.os_features,
            variant: self.variant.unwrap_or_default(),
        }
    }
}

/// An image config read as moby's `ImageManifest.ImagePlatform` reads one (a manifest whose
/// descriptor names no platform): into an `ocispec.Platform`, nothing else type-checked.
pub fn config_as_platform(blob: &[u8]) -> Result<Platform, DocError> {
    decode::<ConfigPlatformOnly>(blob).map(ConfigPlatformOnly::platform)
}

/// `ocispec.Platform`, the fields of an image config [`config_as_platform`] reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct ConfigPlatformOnly {
    architecture: Option<String>,
    os: Option<String>,
    #[serde(rename = "os.version")]
    os_version: Option<String>,
    #[serde(rename = "os.features")]
    os_features: Option<Vec<String>>,
    variant: Option<String>,
}

impl GoShaped for ConfigPlatformOnly {
    const SHAPE: Shape = Shape::Struct(
        "v1.Platform",
        &[
            ("architecture", Shape::Str),
            ("os", Shape::Str),
            ("os.version", Shape::Str),
            ("os.features", Shape::Slice(&Shape::Str)),
            ("variant", Shape::Str),
        ],
    );
    const GO_NAME: &'static str = "v1.Platform";
    fn field_names() -> &'static FieldNames {
        static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
        names_in(&NAMES, &Self::SHAPE)
    }
}

impl ConfigPlatformOnly {
    fn platform(self) -> Platform {
        ConfigPlatform {
            architecture: self.architecture,
            os: self.os,
            os_version: self.os_version,
            os_features: self.os_features,
            variant: self.variant,
            ..ConfigPlatform::default()
        }
        .platform()
    }
}

/// What moby's `ImageHistory` reads of an image config: an anonymous
/// `struct { RootFS ocispec.RootFS; History []ocispec.History }`, the rest not looked at.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryConfig {
    pub rootfs: RootFs,
    #[serde(deserialize_with = "null_vec")]
    pub history: Vec<HistoryEntry>,
}

/// `ocispec.History`, every field kept.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryEntry {
    /// As written; a time Go's `time.Time` takes (checked when read).
    #[serde(deserialize_with = "go_time")]
    pub created: Option<String>,
    #[serde(deserialize_with = "null_string")]
    pub created_by: String,
    #[serde(deserialize_with = "null_string")]
    pub author: String,
    #[serde(deserialize_with = "null_string")]
    pub comment: String,
    #[serde(deserialize_with = "null_bool")]
    pub empty_layer: bool,
}

fn null_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or_default())
}

impl GoShaped for HistoryConfig {
    // An anonymous struct: Go's messages name no type for its own fields.
    const SHAPE: Shape = Shape::Struct("", &[("rootfs", ROOTFS), ("history", HISTORY)]);
    const GO_NAME: &'static str =
        "struct { RootFS v1.RootFS \"json:\\\"rootfs\\\"\"; History []v1.History \"json:\\\"history,omitempty\\\"\" }";
    fn field_names() -> &'static FieldNames {
        static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
        names_in(&NAMES, &Self::SHAPE)
    }
}

/// `time.Duration`, an `int64`.
const DURATION: Shape = Shape::Named("time.Duration", &Shape::Int);

/// Go's `struct{}` (the values of `ExposedPorts` and `Volumes`).
pub(crate) const EMPTY_STRUCT: Shape = Shape::Struct("struct {}", &[]);

/// `dockerspec.DockerOCIImageConfig`: `ocispec.ImageConfig` and Docker's additions.
const CONTAINER_CONFIG: Shape = Shape::Struct(
    "v1.DockerOCIImageConfig",
    &[
        ("User", Shape::Str),
        ("ExposedPorts", Shape::Map(&EMPTY_STRUCT)),
        ("Env", Shape::Slice(&Shape::Str)),
        ("Entrypoint", Shape::Slice(&Shape::Str)),
        ("Cmd", Shape::Slice(&Shape::Str)),
        ("Volumes", Shape::Map(&EMPTY_STRUCT)),
        ("WorkingDir", Shape::Str),
        ("Labels", Shape::Map(&Shape::Str)),
        ("StopSignal", Shape::Str),
        ("ArgsEscaped", Shape::Bool),
        (
            "Healthcheck",
            Shape::Ptr(&Shape::Struct(
                "v1.HealthcheckConfig",
                &[
                    ("Test", Shape::Slice(&Shape::Str)),
                    ("Interval", DURATION),
                    ("Timeout", DURATION),
                    ("StartPeriod", DURATION),
                    ("StartInterval", DURATION),
                    ("Retries", INT),
                ],
            )),
        ),
        ("OnBuild", Shape::Slice(&Shape::Str)),
        ("Shell", Shape::Slice(&Shape::Str)),
    ],
);

impl ImageConfig {
    /// The platform the config describes (`os`, `architecture`, `variant`, ...).
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone().unwrap_or_default(),
            os: self.os.clone().unwrap_or_default(),
            os_version: self.os_version.clone().unwrap_or_default(),
            os_features: self.os_features.clone(),
            variant: self.variant.clone().unwrap_or_default(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub diff_ids: Option<Vec<String>>,
}

/// `ocispec.History`: the comment, and the other fields checked only for their types.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct History {
    #[serde(rename = "created")]
    _created: GoTime,
    #[serde(rename = "created_by")]
    _created_by: GoStr,
    #[serde(rename = "author")]
    _author: GoStr,
    pub comment: Option<String>,
    #[serde(rename = "empty_layer")]
    _empty_layer: GoBool,
}

/// `DockerOCIImageConfig`: OCI's `ImageConfig` plus Docker's Healthcheck, OnBuild, Shell.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    #[serde(rename = "User")]
    pub user: Option<String>,
    #[serde(rename = "ExposedPorts")]
    pub exposed_ports: Option<BTreeMap<String, EmptyObject>>,
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Volumes")]
    pub volumes: Option<BTreeMap<String, EmptyObject>>,
    #[serde(rename = "WorkingDir")]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, Option<String>>>,
    #[serde(rename = "StopSignal")]
    pub stop_signal: Option<String>,
    #[serde(rename = "ArgsEscaped")]
    pub args_escaped: Option<bool>,
    #[serde(rename = "Healthcheck")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(rename = "OnBuild")]
    pub on_build: Option<Vec<String>>,
    #[serde(rename = "Shell")]
    pub shell: Option<Vec<String>>,
}

/// Go's `struct{}`: any object (its members are ignored) or null.
#[derive(Clone, Debug, Default)]
pub struct EmptyObject;

impl<'de> Deserialize<'de> for EmptyObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?;
        let _ = v;
        Ok(EmptyObject)
    }
}

/// Docker's `HealthcheckConfig`; durations are nanoseconds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Healthcheck {
    #[serde(rename = "Test")]
    pub test: Option<Vec<String>>,
    #[serde(rename = "Interval")]
    pub interval: Option<i64>,
    #[serde(rename = "Timeout")]
    pub timeout: Option<i64>,
    #[serde(rename = "StartPeriod")]
    pub start_period: Option<i64>,
    #[serde(rename = "StartInterval")]
    pub start_interval: Option<i64>,
    #[serde(rename = "Retries")]
    pub retries: Option<i64>,
}

/// Standard base64 with padding, as Go's `[]byte` fields are encoded.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in chunk.get(..4 - pad)? {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        let b = n.to_be_bytes();
        out.extend_from_slice(b.get(1..4 - pad)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_as_go_reads_them() {
        // Go's json.Unmarshal reads a lone surrogate escape and a byte that is not UTF-8 as
        // U+FFFD; containerd's validateMediaType and images.Children accept the document.
        let index = b"{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"digest\":\"sha256:x\",\"annotations\":{\"k\\ud800\":\"v\xff\"}}]}";
        assert_eq!(validate_media_type(index, OCI_INDEX), Ok(()));
        let children = children(index, OCI_INDEX).unwrap();
        assert_eq!(
            children[0].annotations,
            Some(BTreeMap::from([("k\u{fffd}".to_string(), "v\u{fffd}".to_string())]))
        );
        let media_type = b"{\"mediaType\":\"x\\udc00\",\"layers\":[]}";
        assert_eq!(validate_media_type(media_type, OCI_MANIFEST), Ok(()));
        // Still an error where Go's is one: a syntax error stays one.
        assert!(decode::<Index>(b"{\"manifests\":[\"\xff\",]}").is_err());
    }

    /// Sweep 21, findings 1 and 2: serde's derived structs read an array as the fields in
    /// order, and skip an unread field at any depth; Go refuses both. Each is refused with
    /// Go's message, and a document that only looks like one (`,[` in a string) still reads.
    #[test]
    fn arrays_for_structs_and_deep_nesting_are_refused_as_go_refuses_them() {
        let refused = |j: &str| decode::<ImageConfig>(j.as_bytes()).map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            refused(r#"{"architecture":"amd64","rootfs":["layers",["sha256:a"]]}"#),
            "json: cannot unmarshal array into Go struct field DockerOCIImage.rootfs of type v1.RootFS"
        );
        assert_eq!(
            refused("[]"),
            "json: cannot unmarshal array into Go value of type v1.DockerOCIImage"
        );
        assert_eq!(
            refused(r#"{"history":[{"comment":"x"},["2024-01-01T00:00:00Z","by","a","c"]]}"#),
            "json: cannot unmarshal array into Go struct field DockerOCIImage.history of type v1.History"
        );
        let m = decode::<Manifest>(br#"{"schemaVersion":2,"config":["application/x","sha256:a",1],"layers":[]}"#);
        assert_eq!(
            m.map(|_| ()).unwrap_err().to_string(),
            "json: cannot unmarshal array into Go struct field Manifest.config of type v1.Descriptor"
        );
        // Looks like one, is not: read (the slow way) as Go reads it.
        let c = decode::<ImageConfig>(br#"{"architecture":"amd64","author":"a,[b:[c","os":"linux"}"#).unwrap();
        assert_eq!((c.author.as_deref(), c.os.as_deref()), (Some("a,[b:[c"), Some("linux")));
        // 10,000 levels (the top object and 9,999 arrays) read; one more is refused.
        let nested = |n: usize| format!(r#"{{"architecture":"amd64","x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert_eq!(
            decode::<ImageConfig>(nested(9_999).as_bytes())
                .unwrap()
                .architecture
                .as_deref(),
            Some("amd64")
        );
        assert_eq!(
            decode::<ImageConfig>(nested(10_000).as_bytes())
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "invalid character '[' exceeded max depth"
        );
    }

    #[test]
    fn media_type_validation_follows_containerd() {
        assert_eq!(
            validate_media_type(br#"{"manifests":null}"#, OCI_MANIFEST),
            Err(DocError::ExpectedManifest(OCI_MANIFEST.into()))
        );
        assert_eq!(
            validate_media_type(
                br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
                OCI_INDEX
            ),
            Err(DocError::ExpectedIndex(OCI_INDEX.into()))
        );
        assert_eq!(
            validate_media_type(br#"{"fsLayers":[{}]}"#, OCI_MANIFEST),
            Err(DocError::Schema1)
        );
        assert!(validate_media_type(b"{", OCI_MANIFEST).is_err());
        assert!(validate_media_type(br#"{"layers":[]}"#, OCI_MANIFEST).is_ok());
    }

    #[test]
    fn media_type_validation_reads_only_the_keys_go_reads() {
        let json = |e: &str| Err(DocError::Json(e.to_string()));
        assert_eq!(validate_media_type(b"null", OCI_MANIFEST), Ok(()));
        assert_eq!(
            validate_media_type(b"[1,{}]", OCI_MANIFEST),
            json("json: cannot unmarshal array into Go value of type images.unknownDocument")
        );
        assert_eq!(
            validate_media_type(b"\"x\"", OCI_INDEX),
            json("json: cannot unmarshal string into Go value of type images.unknownDocument")
        );
        assert_eq!(
            validate_media_type(br#"{"mediaType":{"a":[1]}}"#, OCI_MANIFEST),
            json("json: cannot unmarshal object into Go struct field unknownDocument.mediaType of type string")
        );
        // The first media type that is not a string is the error, whatever follows.
        assert_eq!(
            validate_media_type(br#"{"mediaType":7,"mediaType":"x"}"#, OCI_MANIFEST),
            json("json: cannot unmarshal number into Go struct field unknownDocument.mediaType of type string")
        );
        // `null` leaves the media type before it (a Go string ignores null).
        let twice = br#"{"mediaType":"application/vnd.oci.image.index.v1+json","mediaType":null}"#;
        assert_eq!(
            validate_media_type(twice, OCI_MANIFEST),
            Err(DocError::ExpectedManifest(OCI_MANIFEST.into()))
        );
        // A present fsLayers is schema 1 whatever it holds (`len(RawMessage) != 0`).
        for fs in [
            &br#"{"fsLayers":[]}"#[..],
            br#"{"fsLayers":null}"#,
            br#"{"fsLayers":{"a":1},"x":[[{"y":null}]]}"#,
        ] {
            assert_eq!(validate_media_type(fs, OCI_INDEX), Err(DocError::Schema1));
        }
        // Keys match case-insensitively, as Go's field matching does, and escaped keys as
        // their text.
        assert_eq!(
            validate_media_type(br#"{"MANIFESTS":1}"#, DOCKER_MANIFEST),
            Err(DocError::ExpectedManifest(DOCKER_MANIFEST.into()))
        );
        assert_eq!(
            validate_media_type(br#"{"Layer\u0073":1}"#, OCI_INDEX),
            Err(DocError::ExpectedIndex(OCI_INDEX.into()))
        );
        assert_eq!(
            validate_media_type("{\"manife\u{17f}ts\":1}".as_bytes(), OCI_MANIFEST),
            Err(DocError::ExpectedManifest(OCI_MANIFEST.into()))
        );
        assert!(validate_media_type(br#"{"x":[1,}"#, OCI_MANIFEST).is_err());
        assert!(validate_media_type(br#"{"layers":[]} x"#, OCI_MANIFEST).is_err());
        // Go's depth limit, not serde_json's (which skipped values do not meet).
        let nested = |n: usize| format!("{{\"x\":{}{}}}", "[".repeat(n), "]".repeat(n)).into_bytes();
        assert_eq!(validate_media_type(&nested(9_999), OCI_MANIFEST), Ok(()));
        assert_eq!(
            validate_media_type(&nested(10_000), OCI_MANIFEST),
            json("invalid character '[' exceeded max depth")
        );
        assert_eq!(validate_media_type(br#"{"x":"[[[[\"]]"}"#, OCI_MANIFEST), Ok(()));
        // More brackets than the limit, but in strings and side by side: read the slow way, Ok.
        let wide = format!(
            "{{\"x\":\"{}\",\"y\":[{}]}}",
            "[".repeat(10_001),
            "[],".repeat(10_000) + "[]"
        );
        assert_eq!(validate_media_type(wide.as_bytes(), OCI_MANIFEST), Ok(()));
        // Found by the media_type fuzz target: bytes that are not UTF-8 in a field Go skips
        // (an SBOM's spdxVersion) are accepted, as Go accepts them (read as U+FFFD); a
        // reading of the whole document as a serde_json Value had refused it.
        let mut sbom = br#"{"spdxVersion":""#.to_vec();
        sbom.extend([0xfe; 100]);
        sbom.extend(br#"SPDX-2.3","name":"multi-amd64"}"#);
        assert_eq!(validate_media_type(&sbom, OCI_MANIFEST), Ok(()));
    }

    #[test]
    fn children_of_manifest_and_index() {
        let m = br#"{"config":{"mediaType":"c","digest":"sha256:1","size":2},"layers":[{"size":3},{"size":4}]}"#;
        let c = children(m, OCI_MANIFEST).unwrap_or_default();
        assert_eq!(c.iter().map(|d| d.size).collect::<Vec<_>>(), vec![2, 3, 4]);
        let i = br#"{"manifests":[{"size":5,"platform":{"os":"linux","architecture":"amd64"}}]}"#;
        assert_eq!(children(i, OCI_INDEX).map(|c| c.len()), Ok(1));
        assert_eq!(
            children(b"not json", "application/octet-stream").map(|c| c.len()),
            Ok(0)
        );
        assert!(children(br#"{"layers":"x"}"#, OCI_MANIFEST).is_err());
    }

    /// What Go 1.19's `json.Unmarshal` made of each document, into the same struct shapes as
    /// moby's `dockerspec.DockerOCIImage` and image-spec's `Manifest` (a Go program printing
    /// the fields, checked on each input below).
    #[test]
    fn documents_read_as_go_reads_them() {
        // The last key wins; keys match without regard to case; null in a []string is "" and
        // a null label value is "" (serde refused all three).
        let c: ImageConfig = decode(
            br#"{"architecture":"arm64","architecture":"amd64","ARCHITECTURE":"s390x","Author":"me",
                "CONFIG":{"USER":"app","Cmd":["sh"],"cmd":["/app"],"Env":["A=1",null],"labels":{"a":null,"b":"2"}}}"#,
        )
        .unwrap();
        assert_eq!(c.architecture.as_deref(), Some("s390x"));
        assert_eq!(c.author.as_deref(), Some("me"));
        let config = c.config.unwrap_or_default();
        assert_eq!(config.user.as_deref(), Some("app"));
        assert_eq!(config.cmd, Some(vec!["/app".to_string()]));
        assert_eq!(config.env, Some(vec!["A=1".to_string(), String::new()]));
        let labels = config.labels.unwrap_or_default();
        assert_eq!(labels.get("a"), Some(&Some(String::new())));
        assert_eq!(labels.get("b"), Some(&Some("2".to_string())));
        // A repeated struct is decoded into the first; null leaves it.
        let c: ImageConfig =
            decode(br#"{"rootfs":{"type":"layers","diff_ids":["a"]},"rootfs":null,"RootFS":{"Diff_IDs":["b"]}}"#)
                .unwrap();
        let rootfs = c.rootfs.unwrap_or_default();
        assert_eq!(rootfs.kind.as_deref(), Some("layers"));
        assert_eq!(rootfs.diff_ids, Some(vec!["b".to_string()]));
        // Manifests alike: the second "layers" is the one; "Digest" and "Size" are the fields.
        let m = br#"{"config":{"Digest":"sha256:1","Size":2},"layers":[],"layers":[{"size":3}]}"#;
        let c = children(m, OCI_MANIFEST).unwrap();
        assert_eq!(
            c.iter().map(|d| (d.digest.as_str(), d.size)).collect::<Vec<_>>(),
            [("sha256:1", 2), ("", 3)]
        );
        // A wrong type is still an error, in Go's words.
        assert_eq!(
            decode::<ImageConfig>(br#"{"config":{"Env":"x"}}"#).map(|_| ()),
            Err(DocError::Json(
                "json: cannot unmarshal string into Go struct field DockerOCIImageConfig.config.Env of type []string"
                    .into()
            ))
        );
    }

    /// Go 1.19.8's `json.Unmarshal` (a program decoding `{"size":<literal>}` into an `int64`
    /// field, and into `int`, `uint64` and `time.Duration` fields alike) takes `0` and `-0`
    /// (as 0) and refuses `-0.0`, `0.0`, `1e0`, `1E0` and `-0e0` ("json: cannot unmarshal number
    /// -0.0 into Go struct field D.size of type int64"). serde_json reads `-0` and `-0.0` alike;
    /// image configs refused `-0` and took `-0.0` as 0. Both ways of decoding are checked: the
    /// exact keys (serde's derives refuse every float, then the tree decides) and folded ones.
    #[test]
    fn integer_fields_take_the_literals_go_takes() {
        for (literal, want) in [
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("7", Ok(7)),
            ("-0.0", Err("number -0 (written with a fraction or an exponent)")),
            ("-0e0", Err("number -0 (written with a fraction or an exponent)")),
            ("0.0", Err("number 0 (written with a fraction or an exponent)")),
            ("1e0", Err("number 1 (written with a fraction or an exponent)")),
            ("1E0", Err("number 1 (written with a fraction or an exponent)")),
        ] {
            for key in ["size", "Size"] {
                let doc = format!(r#"{{"config":{{"{key}":{literal}}},"layers":[{{"size":-0}}]}}"#);
                let got = decode::<Manifest>(doc.as_bytes()).map(|m| m.config.size);
                match (want, got) {
                    (Ok(n), Ok(got)) => assert_eq!(got, n, "{doc}"),
                    (Err(why), Err(DocError::Json(e))) => {
                        assert!(e.contains(why), "{doc}: {e}");
                        assert!(e.contains("field Descriptor.config.size of type int64"), "{doc}: {e}");
                    }
                    (want, got) => panic!("{doc}: {got:?}, not {want:?}"),
                }
            }
            for key in ["Interval", "interval"] {
                let doc = format!(r#"{{"config":{{"Healthcheck":{{"{key}":{literal},"Retries":-0}}}}}}"#);
                let got = decode::<ImageConfig>(doc.as_bytes())
                    .map(|c| c.config.and_then(|c| c.healthcheck).and_then(|h| h.interval));
                match (want, got) {
                    (Ok(n), Ok(got)) => assert_eq!(got, Some(n), "{doc}"),
                    (Err(why), Err(DocError::Json(e))) => {
                        assert!(e.contains(why), "{doc}: {e}");
                        assert!(
                            e.contains("field HealthcheckConfig.config.Healthcheck.Interval of type time.Duration"),
                            "{doc}: {e}"
                        );
                    }
                    (want, got) => panic!("{doc}: {got:?}, not {want:?}"),
                }
            }
        }
    }

    /// Decodes each document as `T` and checks the outcome: `None` taken, `Some(message)`
    /// refused with it. A refused document with its keys spelled as the fields are is refused
    /// by the fast way already (serde's derives with the type checkers), not only by the tree.
    fn go_decides<T: GoShaped + std::fmt::Debug>(cases: &[(&str, Option<&str>)]) {
        for (doc, want) in cases {
            let got = decode::<T>(doc.as_bytes());
            match (want, &got) {
                (None, Ok(_)) => {}
                (Some(want), Err(DocError::Json(e))) => assert_eq!(e, want, "{doc}"),
                _ => panic!("{doc}: {got:?}, not {want:?}"),
            }
            if want.is_some() && super::super::goshape::keys_are_exact(doc.as_bytes(), T::field_names()) {
                assert!(
                    crate::gostring::from_slice::<Option<T>>(doc.as_bytes()).is_err(),
                    "{doc}"
                );
            }
        }
    }

    /// A config read for its platform alone is taken or refused as the whole config is, with
    /// the same platform and Go's same message: for documents of each kind the decoders tell
    /// apart (a wrong type or a bad time in each part only checked, keys folded or repeated,
    /// nulls, bytes that are not UTF-8, not JSON at all), for every blob of the bundled roots
    /// and layouts, and for the fuzz inputs kept in `fixtures/fuzz/media_type`.
    #[test]
    fn config_platform_is_the_whole_configs() {
        let mut docs: Vec<Vec<u8>> = [
            r#"{"architecture":"arm64","os":"linux","variant":"v8","os.version":"1","os.features":["a"]}"#,
            r#"{"architecture":"arm64","architecture":"amd64","ARCHITECTURE":"s390x","OS":"windows"}"#,
            r#"{"Architecture":null,"os":"linux","os.features":null,"Variant":"v7"}"#,
            r#"{"os":"lin\u0075x","architecture":"\ud800"}"#,
            r#"{"created":"bad","architecture":"amd64"}"#,
            r#"{"created":"2024-01-01T00:00:60Z","os":"linux"}"#,
            r#"{"created":null,"author":"a","os":"linux"}"#,
            r#"{"author":5,"created":"bad"}"#,
            r#"{"history":[{"empty_layer":"x","created":"bad"}],"author":1}"#,
            r#"{"history":[{"created":"2024-01-01T00:00:00Z","comment":"c","empty_layer":true}],"os":"linux"}"#,
            r#"{"HISTORY":[{"Empty_Layer":null,"CREATED":null,"created_BY":null}],"os":"linux"}"#,
            r#"{"rootfs":{"TYPE":5}}"#,
            r#"{"rootfs":{"type":"layers","diff_ids":["sha256:a",null]},"rootfs":null,"RootFS":{"Diff_IDs":["b"]}}"#,
            r#"{"config":{"Env":"x"},"os":"linux"}"#,
            r#"{"config":{"Healthcheck":{"Retries":1.5}}}"#,
            r#"{"config":{"healthcheck":{"interval":"x"}}}"#,
            r#"{"config":{"Labels":{"a":null,"b":2}}}"#,
            r#"{"config":{"ExposedPorts":{"80/tcp":{}},"Volumes":{"/v":[]}}}"#,
            r#"{"config":{"USER":"app","Cmd":["sh"],"cmd":["/app"],"Env":["A=1",null]},"os":"linux"}"#,
            r#"{"os":"linux","architecture":5}"#,
            r#"{"os.features":"x"}"#,
            r#"[]"#,
            r#"null"#,
            r#"{"os":"linux""#,
            "",
            "0",
            r#""linux""#,
        ]
        .iter()
        .map(|d| d.as_bytes().to_vec())
        .collect();
        docs.push(b"{\"os\":\"li\xffux\",\"architecture\":\"amd64\"}".to_vec());
        // The blobs, and the inputs that made the `media_type` fuzz target fail (the first, a
        // document that is no object, was named by each decoder's own type).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for entry in walkdir::WalkDir::new(&root).into_iter().filter_map(Result::ok) {
            let in_blobs =
                (entry.path().components()).any(|c| c.as_os_str() == "blobs" || c.as_os_str() == "media_type");
            if in_blobs && entry.file_type().is_file() && entry.metadata().is_ok_and(|m| m.len() < 1 << 20) {
                docs.push(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(docs.len() > 100, "{} documents", docs.len());
        let mut taken = 0;
        for doc in &docs {
            let alone = config_platform(doc);
            let whole = decode::<ImageConfig>(doc).map(|c| c.platform());
            taken += usize::from(whole.as_ref().is_ok_and(|p| !p.os.is_empty()));
            assert_eq!(alone, whole, "{}", String::from_utf8_lossy(doc));
        }
        assert!(taken > 10, "{taken} documents with a platform");
    }

    /// Fields of `dockerspec.DockerOCIImage` coldctr does not read (history's created,
    /// created_by, author, empty_layer; rootfs's diff_ids as `[]digest.Digest`) are refused
    /// when their type is wrong, under any case. Checked with Go 1.19.8: a program doing
    /// `json.Unmarshal` into `DockerOCIImage` (moby/docker-image-spec and image-spec's struct
    /// declarations, in packages named as theirs) printed each message below, except where a
    /// comment says how coldctr's differs.
    #[test]
    fn image_config_fields_not_read_are_type_checked() {
        go_decides::<ImageConfig>(&[
            (
                r#"{"history":[{"empty_layer":"yes"}]}"#,
                Some("json: cannot unmarshal string into Go struct field History.history.empty_layer of type bool"),
            ),
            (
                r#"{"history":[{"EMPTY_LAYER":"yes"}]}"#,
                Some("json: cannot unmarshal string into Go struct field History.history.empty_layer of type bool"),
            ),
            (
                r#"{"rootfs":{"diff_ids":"x"}}"#,
                Some(
                    "json: cannot unmarshal string into Go struct field RootFS.rootfs.diff_ids of type []digest.Digest",
                ),
            ),
            (
                r#"{"rootfs":{"diff_ids":[5]}}"#,
                Some("json: cannot unmarshal number into Go struct field RootFS.rootfs.diff_ids of type digest.Digest"),
            ),
            (
                r#"{"rootfs":{"TYPE":5}}"#,
                Some("json: cannot unmarshal number into Go struct field RootFS.rootfs.type of type string"),
            ),
            (
                r#"{"history":[{"Created_By":1,"AUTHOR":true}]}"#,
                Some("json: cannot unmarshal number into Go struct field History.history.created_by of type string"),
            ),
            (
                r#"{"history":[{"author":true}]}"#,
                Some("json: cannot unmarshal bool into Go struct field History.history.author of type string"),
            ),
            // A history's time is refused as time.Time refuses it; the words are Go 1.20's
            // (dockerd's), as for every time.Time here. Go 1.19.8: `parsing time "5" as
            // "\"2006-01-02T15:04:05Z07:00\"": cannot parse "5" as "\""`.
            (
                r#"{"history":[{"created":5}]}"#,
                Some("Time.UnmarshalJSON: input is not a JSON string"),
            ),
            (
                r#"{"history":[{"CREATED":"x"}]}"#,
                Some(r#"parsing time "x": not an RFC 3339 time"#),
            ),
            (
                r#"{"config":{"Healthcheck":{"Retries":"x"}}}"#,
                Some(
                    "json: cannot unmarshal string into Go struct field HealthcheckConfig.config.Healthcheck.Retries of type int",
                ),
            ),
            (
                r#"{"config":{"healthcheck":{"interval":"x"}}}"#,
                Some(
                    "json: cannot unmarshal string into Go struct field HealthcheckConfig.config.Healthcheck.Interval of type time.Duration",
                ),
            ),
            (
                r#"{"config":{"Healthcheck":{"Retries":1.5}}}"#,
                Some(
                    "json: cannot unmarshal number 1.5 into Go struct field HealthcheckConfig.config.Healthcheck.Retries of type int",
                ),
            ),
            (
                r#"{"config":{"OnBuild":"x"}}"#,
                Some(
                    "json: cannot unmarshal string into Go struct field DockerOCIImageConfig.config.OnBuild of type []string",
                ),
            ),
            (
                r#"{"config":{"SHELL":[1]}}"#,
                Some(
                    "json: cannot unmarshal number into Go struct field DockerOCIImageConfig.config.Shell of type string",
                ),
            ),
            // Go takes these.
            (
                r#"{"history":[{"created":"2024-01-01T00:00:00Z","created_by":"x","author":"a","comment":"c","empty_layer":true}],"rootfs":{"type":"layers","diff_ids":["sha256:a",null]}}"#,
                None,
            ),
            (
                r#"{"HISTORY":[{"Empty_Layer":null,"CREATED":null,"created_BY":null}]}"#,
                None,
            ),
            // A refused time ends Go's decoding: it is the error, over a type error before.
            (
                r#"{"history":[{"empty_layer":"x","created":"bad"}],"author":1}"#,
                Some(r#"parsing time "bad": not an RFC 3339 time"#),
            ),
        ]);
        // What is read of a history entry is as before.
        let c: ImageConfig = decode(
            br#"{"history":[{"created":"2024-01-01T00:00:00Z","empty_layer":true,"comment":"a"},{"Comment":"b","Empty_Layer":false}]}"#,
        )
        .unwrap();
        let comments: Vec<_> = c.history.unwrap_or_default().into_iter().map(|h| h.comment).collect();
        assert_eq!(comments, [Some("a".to_string()), Some("b".to_string())]);
    }

    /// An image config's `created` is a `*time.Time`, as in `ocispec.Image`: one Go's
    /// `time.Time` refuses refuses the config (dockerd's `readJSON`: "could not deserialize
    /// image config", and the manifest is passed over), with that error over a type error
    /// before it, and nothing after it read; one it takes is printed by `docker image inspect`
    /// as its `Format(time.RFC3339Nano)`. Checked with Go 1.19.8's `json.Unmarshal` into a
    /// struct with `Created *time.Time` and `Author string`, then `Created.Format(RFC3339Nano)`
    /// (TZ=UTC); the messages are coldctr's words for Go's (`cannot parse "bad\"" as
    /// "2006"`), and a `created` that is no string is Go 1.20's error, as for history.
    #[test]
    fn image_config_created_is_a_go_time() {
        go_decides::<ImageConfig>(&[
            (
                r#"{"created":"bad","author":5}"#,
                Some(r#"parsing time "bad": not an RFC 3339 time"#),
            ),
            (
                r#"{"author":5,"created":"bad"}"#,
                Some(r#"parsing time "bad": not an RFC 3339 time"#),
            ),
            (r#"{"CREATED":""}"#, Some(r#"parsing time "": not an RFC 3339 time"#)),
            // Go: "day out of range", "cannot parse ... as \"T\"", "second out of range".
            (
                r#"{"created":"2023-02-29T00:00:00Z"}"#,
                Some(r#"parsing time "2023-02-29T00:00:00Z": not an RFC 3339 time"#),
            ),
            (
                r#"{"created":"2024-01-01t00:00:00z"}"#,
                Some(r#"parsing time "2024-01-01t00:00:00z": not an RFC 3339 time"#),
            ),
            (
                r#"{"created":"2024-01-01T00:00:60Z"}"#,
                Some(r#"parsing time "2024-01-01T00:00:60Z": not an RFC 3339 time"#),
            ),
            (
                r#"{"created":5,"author":"a"}"#,
                Some("Time.UnmarshalJSON: input is not a JSON string"),
            ),
            (r#"{"created":null,"author":"a"}"#, None),
        ]);
        for (created, printed) in [
            ("2024-01-01T1:02:03,5+01:00", "2024-01-01T01:02:03.5+01:00"),
            ("2024-01-01T00:00:00.123456789123Z", "2024-01-01T00:00:00.123456789Z"),
            ("2024-01-01T00:00:00.100000000Z", "2024-01-01T00:00:00.1Z"),
            ("2024-01-01T00:00:00-00:00", "2024-01-01T00:00:00Z"),
            ("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00Z"),
            ("2024-02-29T23:59:59+24:00", "2024-02-29T23:59:59+24:00"),
            ("2024-01-01T00:00:00+00:60", "2024-01-01T00:00:00+01:00"),
            ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"),
        ] {
            // Read both ways: the one pass, and the tree (a key not in its own case).
            for doc in [
                format!(r#"{{"created":"{created}"}}"#),
                format!(r#"{{"Created":"{created}"}}"#),
            ] {
                let c: ImageConfig = decode(doc.as_bytes()).unwrap();
                let shown = c
                    .created
                    .as_deref()
                    .and_then(crate::containerd::gotime::parse_rfc3339)
                    .map(|t| t.rfc3339_nano());
                assert_eq!(shown.as_deref(), Some(printed), "{doc}");
            }
        }
    }

    /// `ocispec.Manifest`'s schemaVersion (`int`), mediaType, artifactType, subject
    /// (`*Descriptor`) and annotations, and a descriptor's data (`[]byte`: base64 text as
    /// `base64.StdEncoding` decodes it, or an array of uint8), are type-checked. Checked with
    /// Go 1.19.8's `json.Unmarshal` into image-spec's `Manifest` (its declarations, in a
    /// package named `v1`): each message below is Go's, except where a comment says.
    #[test]
    fn manifest_fields_not_read_are_type_checked() {
        go_decides::<Manifest>(&[
            (
                r#"{"subject":5}"#,
                Some("json: cannot unmarshal number into Go struct field Manifest.subject of type v1.Descriptor"),
            ),
            (
                r#"{"artifactType":[]}"#,
                Some("json: cannot unmarshal array into Go struct field Manifest.artifactType of type string"),
            ),
            (
                r#"{"SchemaVersion":"2"}"#,
                Some("json: cannot unmarshal string into Go struct field Manifest.schemaVersion of type int"),
            ),
            (
                r#"{"schemaVersion":2.5}"#,
                Some("json: cannot unmarshal number 2.5 into Go struct field Manifest.schemaVersion of type int"),
            ),
            (
                r#"{"annotations":{"a":1}}"#,
                Some("json: cannot unmarshal number into Go struct field Manifest.annotations of type string"),
            ),
            (
                r#"{"annotations":[]}"#,
                Some(
                    "json: cannot unmarshal array into Go struct field Manifest.annotations of type map[string]string",
                ),
            ),
            (
                r#"{"MEDIATYPE":{}}"#,
                Some("json: cannot unmarshal object into Go struct field Manifest.mediaType of type string"),
            ),
            (
                r#"{"subject":{"digest":5}}"#,
                Some(
                    "json: cannot unmarshal number into Go struct field Descriptor.subject.digest of type digest.Digest",
                ),
            ),
            (
                r#"{"config":{"digest":5}}"#,
                Some(
                    "json: cannot unmarshal number into Go struct field Descriptor.config.digest of type digest.Digest",
                ),
            ),
            (
                r#"{"subject":{"platform":{"architecture":[]}}}"#,
                Some(
                    "json: cannot unmarshal array into Go struct field Platform.subject.platform.architecture of type string",
                ),
            ),
            (
                r#"{"config":{"data":"!!"}}"#,
                Some("illegal base64 data at input byte 0"),
            ),
            (
                r#"{"config":{"data":"aGk"}}"#,
                Some("illegal base64 data at input byte 0"),
            ),
            (
                r#"{"subject":{"data":"aG==aGk="}}"#,
                Some("illegal base64 data at input byte 4"),
            ),
            (
                r#"{"subject":{"data":"a==="}}"#,
                Some("illegal base64 data at input byte 1"),
            ),
            (
                r#"{"subject":{"data":"aGk=x"}}"#,
                Some("illegal base64 data at input byte 4"),
            ),
            (
                r#"{"subject":{"data":"aG=x"}}"#,
                Some("illegal base64 data at input byte 2"),
            ),
            (
                r#"{"subject":{"data":"aG=\n"}}"#,
                Some("illegal base64 data at input byte 4"),
            ),
            (
                r#"{"Subject":{"Data":"aGl"}}"#,
                Some("illegal base64 data at input byte 0"),
            ),
            (
                r#"{"config":{"data":[1,2,300]}}"#,
                Some("json: cannot unmarshal number 300 into Go struct field Descriptor.config.data of type uint8"),
            ),
            (
                r#"{"config":{"data":[1,2,"x"]}}"#,
                Some("json: cannot unmarshal string into Go struct field Descriptor.config.data of type uint8"),
            ),
            (
                r#"{"subject":{"data":[1,-1]}}"#,
                Some("json: cannot unmarshal number -1 into Go struct field Descriptor.subject.data of type uint8"),
            ),
            // Go: "number 1.0" (the literal); coldctr says what it read, as for every integer.
            (
                r#"{"subject":{"data":[1,1.0]}}"#,
                Some(
                    "json: cannot unmarshal number 1 (written with a fraction or an exponent) into Go struct field Descriptor.subject.data of type uint8",
                ),
            ),
            (
                r#"{"config":{"data":5}}"#,
                Some("json: cannot unmarshal number into Go struct field Descriptor.config.data of type []uint8"),
            ),
            (
                r#"{"subject":{"data":{}}}"#,
                Some("json: cannot unmarshal object into Go struct field Descriptor.subject.data of type []uint8"),
            ),
            (
                r#"{"config":{"platform":{"os":5}}}"#,
                Some("json: cannot unmarshal number into Go struct field Platform.config.platform.os of type string"),
            ),
            // Go takes these.
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"x","subject":{"mediaType":"m","digest":"sha256:1","size":3},"annotations":{"a":"b","c":null}}"#,
                None,
            ),
            (r#"{"Subject":null,"ANNOTATIONS":null,"SCHEMAVERSION":null}"#, None),
            (r#"{"schemaVersion":-0}"#, None),
            (r#"{"subject":{"data":"aGk=\r\n"},"config":{"data":"aG\nk="}}"#, None),
            (r#"{"subject":{"data":[1,null,255]},"config":{"data":[104,105]}}"#, None),
        ]);
        // A descriptor's data given as numbers is read as the base64 text Go would write.
        let m: Manifest = decode(br#"{"config":{"data":[104,105]},"layers":[{"data":"aGk=\n"}]}"#).unwrap();
        assert_eq!(m.config.data.as_deref(), Some("aGk="));
        assert_eq!(m.layers[0].data.as_deref(), Some("aGk=\n"));
    }

    /// `ocispec.Index`'s fields beside manifests, as for manifests; checked alike with Go
    /// 1.19.8's `json.Unmarshal` into image-spec's `Index`.
    #[test]
    fn index_fields_not_read_are_type_checked() {
        go_decides::<Index>(&[
            (
                r#"{"annotations":{"a":1}}"#,
                Some("json: cannot unmarshal number into Go struct field Index.annotations of type string"),
            ),
            (
                r#"{"Subject":{"size":"x"}}"#,
                Some("json: cannot unmarshal string into Go struct field Descriptor.subject.size of type int64"),
            ),
            (
                r#"{"manifests":[{"platform":{"os.features":"x"}}]}"#,
                Some(
                    "json: cannot unmarshal string into Go struct field Platform.manifests.platform.os.features of type []string",
                ),
            ),
            (
                r#"{"artifacttype":false}"#,
                Some("json: cannot unmarshal bool into Go struct field Index.artifactType of type string"),
            ),
            (
                r#"{"schemaVersion":"2","manifests":[]}"#,
                Some("json: cannot unmarshal string into Go struct field Index.schemaVersion of type int"),
            ),
            // The first refusal in the document is the one Go reports.
            (
                r#"{"subject":[],"mediaType":5}"#,
                Some("json: cannot unmarshal array into Go struct field Index.subject of type v1.Descriptor"),
            ),
            (
                r#"{"MANIFESTS":[{"DATA":"!"}]}"#,
                Some("illegal base64 data at input byte 0"),
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"subject":{"digest":"sha256:1"},"annotations":{"a":"b"}}"#,
                None,
            ),
        ]);
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("aGlq"), Some(b"hij".to_vec()));
        assert_eq!(base64_decode(""), Some(vec![]));
        assert_eq!(base64_decode("aGk"), None);
        assert_eq!(base64_decode("a=Gk"), None);
    }
}
