//! The Go types the docker CLI decodes an image inspect body into, for `--format` templates:
//! `image.InspectResponse` as vendored by docker/cli 28.x (`api/types/image/image_inspect.go`,
//! with `dockerspec.DockerOCIImageConfig`, `ocispec.Descriptor`, `storage.DriverData`).
//!
//! The CLI runs a template on this typed value first, and on the raw body only when that
//! fails (docker/cli `cli/command/inspect/inspector.go`); see [`crate::template`].

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
