//! The Go types the docker CLI decodes an image inspect body into, for `--format` templates:
//! `image.InspectResponse` as vendored by docker/cli 28.x (`api/types/image/image_inspect.go`,
//! with `dockerspec.DockerOCIImageConfig`, `ocispec.Descriptor`, `storage.DriverData`).
//!
//! The CLI runs a template on this typed value first, and on the raw body only when that
//! fails (docker/cli `cli/command/inspect/inspector.go`); see [`crate::template`].

use crate::inspect::gojson::J;
use crate::template::{EMPTY_STRUCT, FieldDef as F, StructDef, Type, Value};

static STR: Type = Type::String;
static I64: Type = Type::Int64;
static INT: Type = Type::Int;
static BOOL: Type = Type::Bool;
static DUR: Type = Type::Duration;
static TIME: Type = Type::Time;
static DIGEST: Type = Type::Digest;
static STRINGS: Type = Type::Slice(&STR);
static STRING_MAP: Type = Type::Map(&Type::String, &STR);
static EMPTY: Type = Type::Struct(&EMPTY_STRUCT);
static SET: Type = Type::Map(&Type::String, &EMPTY);
static BYTES: Type = Type::Slice(&Type::Byte);
static ANYS: Type = Type::Slice(&Type::Any);

static HEALTHCHECK: StructDef = StructDef {
    name: "v1.HealthcheckConfig",
    fields: &[
        F::new("Test", &STRINGS).omitempty(),
        F::new("Interval", &DUR).omitempty(),
        F::new("Timeout", &DUR).omitempty(),
        F::new("StartPeriod", &DUR).omitempty(),
        F::new("StartInterval", &DUR).omitempty(),
        F::new("Retries", &INT).omitempty(),
    ],
    methods: &[],
};
static HEALTHCHECK_T: Type = Type::Struct(&HEALTHCHECK);
/// `*v1.HealthcheckConfig`, also a container's `Config.Healthcheck` (`container.HealthConfig`
/// is an alias of it).
pub static HEALTHCHECK_PTR: Type = Type::Ptr(&HEALTHCHECK_T);

static IMAGE_CONFIG: StructDef = StructDef {
    name: "v1.ImageConfig",
    fields: &[
        F::new("User", &STR).omitempty(),
        F::new("ExposedPorts", &SET).omitempty(),
        F::new("Env", &STRINGS).omitempty(),
        F::new("Entrypoint", &STRINGS).omitempty(),
        F::new("Cmd", &STRINGS).omitempty(),
        F::new("Volumes", &SET).omitempty(),
        F::new("WorkingDir", &STR).omitempty(),
        F::new("Labels", &STRING_MAP).omitempty(),
        F::new("StopSignal", &STR).omitempty(),
        F::new("ArgsEscaped", &BOOL).omitempty(),
    ],
    methods: &[],
};
static IMAGE_CONFIG_T: Type = Type::Struct(&IMAGE_CONFIG);

static CONFIG_EXT: StructDef = StructDef {
    name: "v1.DockerOCIImageConfigExt",
    fields: &[
        F::new("Healthcheck", &HEALTHCHECK_PTR).omitempty(),
        F::new("OnBuild", &STRINGS).omitempty(),
        F::new("Shell", &STRINGS).omitempty(),
    ],
    methods: &[],
};
static CONFIG_EXT_T: Type = Type::Struct(&CONFIG_EXT);

static CONFIG: StructDef = StructDef {
    name: "v1.DockerOCIImageConfig",
    fields: &[
        F::new("ImageConfig", &IMAGE_CONFIG_T).embedded(),
        F::new("DockerOCIImageConfigExt", &CONFIG_EXT_T).embedded(),
    ],
    methods: &[],
};
static CONFIG_T: Type = Type::Struct(&CONFIG);
static CONFIG_PTR: Type = Type::Ptr(&CONFIG_T);

static PLATFORM: StructDef = StructDef {
    name: "v1.Platform",
    fields: &[
        F::new("Architecture", &STR).json("architecture"),
        F::new("OS", &STR).json("os"),
        F::new("OSVersion", &STR).json("os.version").omitempty(),
        F::new("OSFeatures", &STRINGS).json("os.features").omitempty(),
        F::new("Variant", &STR).json("variant").omitempty(),
    ],
    methods: &[],
};
pub(crate) static PLATFORM_T: Type = Type::Struct(&PLATFORM);
static PLATFORM_PTR: Type = Type::Ptr(&PLATFORM_T);

static DESCRIPTOR: StructDef = StructDef {
    name: "v1.Descriptor",
    fields: &[
        F::new("MediaType", &STR).json("mediaType"),
        F::new("Digest", &DIGEST).json("digest"),
        F::new("Size", &I64).json("size"),
        F::new("URLs", &STRINGS).json("urls").omitempty(),
        F::new("Annotations", &STRING_MAP).json("annotations").omitempty(),
        F::new("Data", &BYTES).json("data").omitempty(),
        F::new("Platform", &PLATFORM_PTR).json("platform").omitempty(),
        F::new("ArtifactType", &STR).json("artifactType").omitempty(),
    ],
    methods: &[],
};
static DESCRIPTOR_T: Type = Type::Struct(&DESCRIPTOR);
/// `*v1.Descriptor`, also a container's `ImageManifestDescriptor`.
pub static DESCRIPTOR_PTR: Type = Type::Ptr(&DESCRIPTOR_T);

static DRIVER_DATA: StructDef = StructDef {
    name: "storage.DriverData",
    fields: &[F::new("Data", &STRING_MAP), F::new("Name", &STR)],
    methods: &[],
};
/// `storage.DriverData`, an image's and a container's `GraphDriver`.
pub static DRIVER_DATA_T: Type = Type::Struct(&DRIVER_DATA);

static ROOTFS: StructDef = StructDef {
    name: "image.RootFS",
    fields: &[F::new("Type", &STR).omitempty(), F::new("Layers", &STRINGS).omitempty()],
    methods: &[],
};
static ROOTFS_T: Type = Type::Struct(&ROOTFS);

static METADATA: StructDef = StructDef {
    name: "image.Metadata",
    fields: &[F::new("LastTagTime", &TIME).omitempty()],
    methods: &[],
};
static METADATA_T: Type = Type::Struct(&METADATA);

/// `ContainerConfig` (`*container.Config`) is absent from API 1.45 on and coldctr never
/// prints it; `Manifests` (`[]image.ManifestSummary`) only with `?manifests=1`, which the
/// CLI's inspect never asks for. Both are kept loosely typed.
static ANY_MAP: Type = Type::Map(&Type::String, &Type::Any);
static ANY_MAP_PTR: Type = Type::Ptr(&ANY_MAP);

static INSPECT_RESPONSE: StructDef = StructDef {
    name: "image.InspectResponse",
    fields: &[
        F::new("ID", &STR).json("Id"),
        F::new("RepoTags", &STRINGS),
        F::new("RepoDigests", &STRINGS),
        F::new("Parent", &STR),
        F::new("Comment", &STR),
        F::new("Created", &STR).omitempty(),
        F::new("Container", &STR).omitempty(),
        F::new("ContainerConfig", &ANY_MAP_PTR).omitempty(),
        F::new("DockerVersion", &STR),
        F::new("Author", &STR),
        F::new("Config", &CONFIG_PTR),
        F::new("Architecture", &STR),
        F::new("Variant", &STR).omitempty(),
        F::new("Os", &STR),
        F::new("OsVersion", &STR).omitempty(),
        F::new("Size", &I64),
        F::new("VirtualSize", &I64).json("VirtualSize").omitempty(),
        F::new("GraphDriver", &DRIVER_DATA_T),
        F::new("RootFS", &ROOTFS_T),
        F::new("Metadata", &METADATA_T),
        F::new("Descriptor", &DESCRIPTOR_PTR).json("Descriptor").omitempty(),
        F::new("Manifests", &ANYS).json("Manifests").omitempty(),
    ],
    methods: &[],
};
static INSPECT_RESPONSE_T: Type = Type::Struct(&INSPECT_RESPONSE);

/// An image inspect body as the docker CLI's `image.InspectResponse`.
pub fn inspect_response(body: &serde_json::Value) -> Value {
    Value::decode(body, &INSPECT_RESPONSE_T)
}

/// [`inspect_response`] of JSON text; `None` when it is not JSON.
pub fn inspect_response_str(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok().map(|j| inspect_response(&j))
}

/// The error the docker CLI's `json.Unmarshal` of an inspect body into
/// `image.InspectResponse` returns, when it returns one: the CLI then prints no element for
/// the image and that error (exit 1). dockerd relays the image config's members as it read
/// them (into `map[string]any`, numbers as `float64`), so a config whose `Healthcheck.Interval`
/// is 2^63 or a string reaches a CLI that cannot take it (sweep 26). The first error in
/// document order, worded as encoding/json's `UnmarshalTypeError`.
///
/// Only `Config` is walked: every other member is one dockerd (and coldctr) writes from typed
/// values, of the type the CLI reads it as; walking them all cost inspect of 5,000 images 5%
/// more instructions.
pub fn cli_decode_error(body: &J) -> Option<String> {
    let config = body.get("Config")?;
    let mut path = vec!["Config"];
    type_error(config, &CONFIG_PTR, "InspectResponse", &mut path)
}

/// What a JSON value is called in encoding/json's messages; numbers by their literal where
/// Go names it (a number an integer type cannot hold).
fn kind_of(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Int(_) | J::Raw(_) | J::Float(_) => "number",
        J::Str(_) => "string",
        J::Arr(_) => "array",
        J::Obj(_) => "object",
    }
}

/// encoding/json's `UnmarshalTypeError` text for a field (the walk starts at `Config`, so there
/// is always one).
fn unmarshal_error(value: &str, ty: &Type, st: &str, path: &[&str]) -> String {
    format!(
        "json: cannot unmarshal {value} into Go struct field {st}.{} of type {}",
        path.join("."),
        ty.name()
    )
}

/// The number's text as the CLI reads it (what is printed), for an integer type's parse.
fn literal(v: &J) -> Option<String> {
    match v {
        J::Int(i) => Some(i.to_string()),
        J::Raw(s) | J::Float(s) => Some(s.clone()),
        _ => None,
    }
}

/// [`cli_decode_error`] of `v` as a value of `ty`, met at `path` (JSON names from the top) in
/// a struct named `st`.
fn type_error(v: &J, ty: &'static Type, st: &str, path: &mut Vec<&'static str>) -> Option<String> {
    let mismatch = || Some(unmarshal_error(kind_of(v), ty, st, path));
    match (ty, v) {
        (_, J::Null) | (Type::Any, _) => None,
        (Type::Ptr(e), _) => type_error(v, e, st, path),
        (Type::Named(_, under, _), _) => {
            type_error(v, under, st, path).map(|_| unmarshal_error(kind_of(v), ty, st, path))
        }
        (Type::Bool, J::Bool(_)) => None,
        // Nearly every number: an integer that fits, no text made.
        (Type::Int | Type::Int64 | Type::Duration, J::Int(_)) => None,
        (Type::Int | Type::Int64 | Type::Duration | Type::Uint | Type::Byte, J::Int(_) | J::Raw(_) | J::Float(_)) => {
            let text = literal(v)?;
            let fits = match ty {
                Type::Uint => text.parse::<u64>().is_ok(),
                Type::Byte => text.parse::<u8>().is_ok(),
                // `-0` is an integer literal Go's ParseInt takes.
                _ => text.parse::<i64>().is_ok(),
            };
            (!fits).then(|| unmarshal_error(&format!("number {text}"), ty, st, path))
        }
        (Type::Float64 | Type::Number, J::Int(_) | J::Raw(_) | J::Float(_)) => None,
        (Type::String | Type::Digest | Type::Number | Type::Time, J::Str(_)) => None,
        // `[]byte` takes base64 text; dockerd writes it so.
        (Type::Slice(Type::Byte), J::Str(_)) => None,
        (Type::Slice(e) | Type::Array(_, Type::Slice(e)), J::Arr(items)) => {
            items.iter().find_map(|x| type_error(x, e, st, path))
        }
        (Type::Map(_, e), J::Obj(members)) => members.iter().find_map(|(_, x)| type_error(x, e, st, path)),
        (Type::Struct(d), J::Obj(members)) => {
            let name = d.name.rsplit('.').next().unwrap_or(d.name);
            members.iter().find_map(|(k, x)| {
                // Go 1.24 on names the embedded structs on the way to a promoted field too.
                let depth = path.len();
                let f = field(d, k, path)?;
                path.push(f.json_name());
                let e = type_error(x, f.ty, name, path);
                path.truncate(depth);
                e
            })
        }
        _ => mismatch(),
    }
}

/// The field of `d` (its embedded structs' promoted ones included) a JSON member `key` fills:
/// by exact name, else case-insensitively, as encoding/json matches. The Go names of the
/// embedded fields on the way to a promoted one are pushed on `via`, as Go 1.24's
/// `UnmarshalTypeError.Field` names them (golang/go#68941).
fn field(d: &'static StructDef, key: &str, via: &mut Vec<&'static str>) -> Option<&'static F> {
    find_field(d, &|n| n == key, 0, via).or_else(|| find_field(d, &|n| n.eq_ignore_ascii_case(key), 0, via))
}

fn find_field(
    d: &'static StructDef,
    matches: &dyn Fn(&str) -> bool,
    depth: usize,
    via: &mut Vec<&'static str>,
) -> Option<&'static F> {
    d.fields
        .iter()
        .filter(|f| !f.skip)
        .find_map(|f| match (f.embedded, f.ty) {
            (true, Type::Struct(inner) | Type::Ptr(Type::Struct(inner))) if depth < 4 => {
                via.push(f.name);
                let found = find_field(inner, matches, depth + 1, via);
                if found.is_none() {
                    via.pop();
                }
                found
            }
            _ => matches(f.json_name()).then_some(f),
        })
}

#[cfg(test)]
mod tests {
    use super::cli_decode_error;
    use crate::inspect::gojson::J;

    fn body(config: J) -> J {
        J::Obj(vec![
            ("Id".into(), J::Str("sha256:x".into())),
            ("Config".into(), config),
        ])
    }

    fn healthcheck(interval: J) -> J {
        J::Obj(vec![(
            "Healthcheck".into(),
            J::Obj(vec![("Interval".into(), interval)]),
        )])
    }

    /// What Go's encoding/json says of the bodies the docker CLI cannot take, and nothing of
    /// those it can. Each wording was checked against Go 1.19's json.Unmarshal into structs of
    /// the CLI's shapes (sweep 26); docker 28.5's CLI is built with a later Go, whose `Field`
    /// also names the embedded structs on the way (golang/go#68941, in Go 1.24's decode.go:
    /// `subv.Type().Field(ind).Name` for each index but the last), which these add.
    #[test]
    fn the_cli_decode_errors_are_go_s() {
        assert_eq!(
            cli_decode_error(&body(healthcheck(J::Float("9223372036854776000".into())))).as_deref(),
            Some(
                "json: cannot unmarshal number 9223372036854776000 into Go struct field \
                 HealthcheckConfig.Config.DockerOCIImageConfigExt.Healthcheck.Interval of type time.Duration"
            )
        );
        assert_eq!(
            cli_decode_error(&body(healthcheck(J::Str("30s".into())))).as_deref(),
            Some(
                "json: cannot unmarshal string into Go struct field \
                 HealthcheckConfig.Config.DockerOCIImageConfigExt.Healthcheck.Interval of type time.Duration"
            )
        );
        assert_eq!(
            cli_decode_error(&body(J::Obj(vec![("Env".into(), J::Str("A=1".into()))]))).as_deref(),
            Some(
                "json: cannot unmarshal string into Go struct field DockerOCIImageConfig.Config.ImageConfig.Env \
                 of type []string"
            )
        );
        for fine in [
            J::Int(30_000_000_000),
            J::Float("1".into()),
            J::Raw("-0".into()),
            J::Null,
        ] {
            assert_eq!(cli_decode_error(&body(healthcheck(fine.clone()))), None, "{fine:?}");
        }
        assert_eq!(
            cli_decode_error(&body(healthcheck(J::Float("1.5".into())))).as_deref(),
            Some(
                "json: cannot unmarshal number 1.5 into Go struct field \
                 HealthcheckConfig.Config.DockerOCIImageConfigExt.Healthcheck.Interval of type time.Duration"
            )
        );
        // Unknown members and case-folded names, as Go matches them.
        let odd = J::Obj(vec![
            ("Whatever".into(), J::Arr(vec![])),
            (
                "healthcheck".into(),
                J::Obj(vec![("retries".into(), J::Str("3".into()))]),
            ),
        ]);
        assert_eq!(
            cli_decode_error(&body(odd)).as_deref(),
            Some(
                "json: cannot unmarshal string into Go struct field \
                 HealthcheckConfig.Config.DockerOCIImageConfigExt.Healthcheck.Retries of type int"
            )
        );
        assert_eq!(
            cli_decode_error(&body(J::Obj(vec![("Healthcheck".into(), J::Int(5))]))).as_deref(),
            Some(
                "json: cannot unmarshal number into Go struct field \
                 DockerOCIImageConfig.Config.DockerOCIImageConfigExt.Healthcheck of type v1.HealthcheckConfig"
            )
        );
    }
}
