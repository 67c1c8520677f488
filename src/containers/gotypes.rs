//! The Go types the docker CLI decodes a `container inspect` body into, for `-f` templates:
//! `container.InspectResponse` of the moby API types docker/cli 28.x vendors (moby v28.5.1,
//! `api/types/container/{container,state,health,hostconfig,config,network_settings}.go`,
//! `api/types/{network/endpoint.go,network/network.go,storage,mount,blkiodev}`, and the
//! vendored `go-units` `Ulimit`, `go-connections/nat` `PortBinding`, `docker-image-spec`
//! `HealthcheckConfig` and image-spec `Descriptor`).
//!
//! ```text
//! InspectResponse{*ContainerJSONBase (embedded), Mounts []MountPoint, Config *Config,
//!                 NetworkSettings *NetworkSettings, ImageManifestDescriptor *v1.Descriptor}
//! ContainerJSONBase{ID "Id", Created, Path, Args, State *State, Image, ..., HostConfig
//!                   *HostConfig, GraphDriver storage.DriverData, SizeRw *int64, SizeRootFs}
//! HostConfig{Binds, ..., Isolation, Resources (embedded), Mounts, MaskedPaths, ..., Init}
//! NetworkSettings{NetworkSettingsBase (embedded), DefaultNetworkSettings (embedded), Networks}
//! ```
//!
//! The CLI runs a template on this typed value first, and on the raw body only when that
//! fails (docker/cli `cli/command/inspect/inspector.go`), so `eq .State.ExitCode 137` compares
//! ints and `.NoSuchField` is an error, as with docker.
//!
//! Named types keep their names and methods (`strslice.StrSlice`, `nat.PortMap` keyed by
//! `nat.Port`, `[2]uint`, `fs.FileMode`, `.HostConfig.NetworkMode.IsHost`, `*units.Ulimit`'s
//! `String`: see [`super::gomethods`]). Not there: `EndpointIPAMConfig`'s `IsInRange` and
//! `Validate`.

use super::gomethods as m;
use crate::inspect::gotypes::{DESCRIPTOR_PTR, DRIVER_DATA_T, HEALTHCHECK_PTR, PLATFORM_T};
use crate::template::{EMPTY_STRUCT, FieldDef as F, MethodDef, StructDef, Type, Value};
use std::rc::Rc;

static STR: Type = Type::String;
static INT: Type = Type::Int;
static I64: Type = Type::Int64;
static UINT: Type = Type::Uint;
static BOOL: Type = Type::Bool;
static TIME: Type = Type::Time;
static STRINGS: Type = Type::Slice(&STR);
static STRING_LISTS: Type = Type::Slice(&STRINGS);
static STRING_MAP: Type = Type::Map(&Type::String, &STR);
static EMPTY: Type = Type::Struct(&EMPTY_STRUCT);
/// `Volumes`: `map[string]struct{}`.
static SET: Type = Type::Map(&Type::String, &EMPTY);
static PORT_SET_MAP: Type = Type::Map(&PORT, &EMPTY);
/// `nat.PortSet`: `map[nat.Port]struct{}`.
static PORT_SET: Type = Type::Named("nat.PortSet", &PORT_SET_MAP, &[]);
static UINTS: Type = Type::Slice(&UINT);
/// `ConsoleSize`: `[2]uint`.
static UINT_PAIR: Type = Type::Array(2, &UINTS);
/// `strslice.StrSlice`: `[]string` (its one method, `UnmarshalJSON`, takes bytes no template
/// can make).
static STR_SLICE: Type = Type::Named("strslice.StrSlice", &STRINGS, &[]);
/// The API's named string types, with their methods.
static CGROUPNS_MODE: Type = Type::Named("container.CgroupnsMode", &STR, m::CGROUPNS_MODE);
static ISOLATION: Type = Type::Named("container.Isolation", &STR, m::ISOLATION);
static IPC_MODE: Type = Type::Named("container.IpcMode", &STR, m::IPC_MODE);
static NETWORK_MODE: Type = Type::Named("container.NetworkMode", &STR, m::NETWORK_MODE);
static USERNS_MODE: Type = Type::Named("container.UsernsMode", &STR, m::USERNS_MODE);
static CGROUP_SPEC: Type = Type::Named("container.CgroupSpec", &STR, m::CGROUP_SPEC);
static UTS_MODE: Type = Type::Named("container.UTSMode", &STR, m::UTS_MODE);
static PID_MODE: Type = Type::Named("container.PidMode", &STR, m::PID_MODE);
static RESTART_POLICY_MODE: Type = Type::Named("container.RestartPolicyMode", &STR, &[]);
static MOUNT_TYPE: Type = Type::Named("mount.Type", &STR, &[]);
static PROPAGATION: Type = Type::Named("mount.Propagation", &STR, &[]);
static CONSISTENCY: Type = Type::Named("mount.Consistency", &STR, &[]);
static U16: Type = Type::Named("uint16", &UINT, &[]);
static U64: Type = Type::Named("uint64", &UINT, &[]);
/// `nat.Port`, the key of `nat.PortMap` and `nat.PortSet`: `80/tcp`.
static PORT: Type = Type::Named("nat.Port", &STR, m::PORT);
static INT_PTR: Type = Type::Ptr(&INT);
static I64_PTR: Type = Type::Ptr(&I64);
static BOOL_PTR: Type = Type::Ptr(&BOOL);

const fn ptr(t: &'static Type) -> Type {
    Type::Ptr(t)
}

static HEALTHCHECK_RESULT: StructDef = StructDef {
    name: "container.HealthcheckResult",
    fields: &[
        F::new("Start", &TIME),
        F::new("End", &TIME),
        F::new("ExitCode", &INT),
        F::new("Output", &STR),
    ],
    methods: &[],
};
static HEALTHCHECK_RESULT_T: Type = Type::Struct(&HEALTHCHECK_RESULT);
static HEALTHCHECK_RESULT_PTR: Type = ptr(&HEALTHCHECK_RESULT_T);
static HEALTHCHECK_RESULTS: Type = Type::Slice(&HEALTHCHECK_RESULT_PTR);

static HEALTH: StructDef = StructDef {
    name: "container.Health",
    fields: &[
        F::new("Status", &STR),
        F::new("FailingStreak", &INT),
        F::new("Log", &HEALTHCHECK_RESULTS),
    ],
    methods: &[],
};
static HEALTH_T: Type = Type::Struct(&HEALTH);
static HEALTH_PTR: Type = ptr(&HEALTH_T);

static STATE: StructDef = StructDef {
    name: "container.State",
    fields: &[
        F::new("Status", &STR),
        F::new("Running", &BOOL),
        F::new("Paused", &BOOL),
        F::new("Restarting", &BOOL),
        F::new("OOMKilled", &BOOL),
        F::new("Dead", &BOOL),
        F::new("Pid", &INT),
        F::new("ExitCode", &INT),
        F::new("Error", &STR),
        F::new("StartedAt", &STR),
        F::new("FinishedAt", &STR),
        F::new("Health", &HEALTH_PTR).omitempty(),
    ],
    methods: &[],
};
static STATE_T: Type = Type::Struct(&STATE);
static STATE_PTR: Type = ptr(&STATE_T);

static LOG_CONFIG: StructDef = StructDef {
    name: "container.LogConfig",
    fields: &[F::new("Type", &STR), F::new("Config", &STRING_MAP)],
    methods: &[],
};
static LOG_CONFIG_T: Type = Type::Struct(&LOG_CONFIG);

static PORT_BINDING: StructDef = StructDef {
    name: "nat.PortBinding",
    fields: &[F::new("HostIP", &STR).json("HostIp"), F::new("HostPort", &STR)],
    methods: &[],
};
static PORT_BINDING_T: Type = Type::Struct(&PORT_BINDING);
static PORT_BINDINGS: Type = Type::Slice(&PORT_BINDING_T);
static PORT_MAP_MAP: Type = Type::Map(&PORT, &PORT_BINDINGS);
/// `nat.PortMap`: `map[nat.Port][]nat.PortBinding`.
static PORT_MAP: Type = Type::Named("nat.PortMap", &PORT_MAP_MAP, &[]);

static RESTART_POLICY: StructDef = StructDef {
    name: "container.RestartPolicy",
    fields: &[F::new("Name", &RESTART_POLICY_MODE), F::new("MaximumRetryCount", &INT)],
    methods: m::RESTART_POLICY,
};
static RESTART_POLICY_T: Type = Type::Struct(&RESTART_POLICY);
/// `*container.RestartPolicy`, what `IsSame` takes.
pub(super) static RESTART_POLICY_PTR: Type = ptr(&RESTART_POLICY_T);

static WEIGHT_DEVICE: StructDef = StructDef {
    name: "blkiodev.WeightDevice",
    fields: &[F::new("Path", &STR), F::new("Weight", &U16)],
    methods: m::DEVICE,
};
static WEIGHT_DEVICE_T: Type = Type::Struct(&WEIGHT_DEVICE);
static WEIGHT_DEVICE_PTR: Type = ptr(&WEIGHT_DEVICE_T);
static WEIGHT_DEVICES: Type = Type::Slice(&WEIGHT_DEVICE_PTR);

static THROTTLE_DEVICE: StructDef = StructDef {
    name: "blkiodev.ThrottleDevice",
    fields: &[F::new("Path", &STR), F::new("Rate", &U64)],
    methods: m::DEVICE,
};
static THROTTLE_DEVICE_T: Type = Type::Struct(&THROTTLE_DEVICE);
static THROTTLE_DEVICE_PTR: Type = ptr(&THROTTLE_DEVICE_T);
static THROTTLE_DEVICES: Type = Type::Slice(&THROTTLE_DEVICE_PTR);

static DEVICE_MAPPING: StructDef = StructDef {
    name: "container.DeviceMapping",
    fields: &[
        F::new("PathOnHost", &STR),
        F::new("PathInContainer", &STR),
        F::new("CgroupPermissions", &STR),
    ],
    methods: &[],
};
static DEVICE_MAPPING_T: Type = Type::Struct(&DEVICE_MAPPING);
static DEVICE_MAPPINGS: Type = Type::Slice(&DEVICE_MAPPING_T);

static DEVICE_REQUEST: StructDef = StructDef {
    name: "container.DeviceRequest",
    fields: &[
        F::new("Driver", &STR),
        F::new("Count", &INT),
        F::new("DeviceIDs", &STRINGS),
        F::new("Capabilities", &STRING_LISTS),
        F::new("Options", &STRING_MAP),
    ],
    methods: &[],
};
static DEVICE_REQUEST_T: Type = Type::Struct(&DEVICE_REQUEST);
static DEVICE_REQUESTS: Type = Type::Slice(&DEVICE_REQUEST_T);

static ULIMIT: StructDef = StructDef {
    name: "units.Ulimit",
    fields: &[F::new("Name", &STR), F::new("Hard", &I64), F::new("Soft", &I64)],
    methods: m::ULIMIT,
};
static ULIMIT_T: Type = Type::Struct(&ULIMIT);
static ULIMIT_PTR: Type = ptr(&ULIMIT_T);
static ULIMITS: Type = Type::Slice(&ULIMIT_PTR);

static RESOURCES: StructDef = StructDef {
    name: "container.Resources",
    fields: &[
        F::new("CPUShares", &I64).json("CpuShares"),
        F::new("Memory", &I64),
        F::new("NanoCPUs", &I64).json("NanoCpus"),
        F::new("CgroupParent", &STR),
        F::new("BlkioWeight", &U16),
        F::new("BlkioWeightDevice", &WEIGHT_DEVICES),
        F::new("BlkioDeviceReadBps", &THROTTLE_DEVICES),
        F::new("BlkioDeviceWriteBps", &THROTTLE_DEVICES),
        F::new("BlkioDeviceReadIOps", &THROTTLE_DEVICES),
        F::new("BlkioDeviceWriteIOps", &THROTTLE_DEVICES),
        F::new("CPUPeriod", &I64).json("CpuPeriod"),
        F::new("CPUQuota", &I64).json("CpuQuota"),
        F::new("CPURealtimePeriod", &I64).json("CpuRealtimePeriod"),
        F::new("CPURealtimeRuntime", &I64).json("CpuRealtimeRuntime"),
        F::new("CpusetCpus", &STR),
        F::new("CpusetMems", &STR),
        F::new("Devices", &DEVICE_MAPPINGS),
        F::new("DeviceCgroupRules", &STRINGS),
        F::new("DeviceRequests", &DEVICE_REQUESTS),
        F::new("KernelMemory", &I64).omitempty(),
        F::new("KernelMemoryTCP", &I64).omitempty(),
        F::new("MemoryReservation", &I64),
        F::new("MemorySwap", &I64),
        F::new("MemorySwappiness", &I64_PTR),
        F::new("OomKillDisable", &BOOL_PTR),
        F::new("PidsLimit", &I64_PTR),
        F::new("Ulimits", &ULIMITS),
        F::new("CPUCount", &I64).json("CpuCount"),
        F::new("CPUPercent", &I64).json("CpuPercent"),
        F::new("IOMaximumIOps", &U64),
        F::new("IOMaximumBandwidth", &U64),
    ],
    methods: &[],
};
static RESOURCES_T: Type = Type::Struct(&RESOURCES);

static BIND_OPTIONS: StructDef = StructDef {
    name: "mount.BindOptions",
    fields: &[
        F::new("Propagation", &PROPAGATION).omitempty(),
        F::new("NonRecursive", &BOOL).omitempty(),
        F::new("CreateMountpoint", &BOOL).omitempty(),
        F::new("ReadOnlyNonRecursive", &BOOL).omitempty(),
        F::new("ReadOnlyForceRecursive", &BOOL).omitempty(),
    ],
    methods: &[],
};
static BIND_OPTIONS_T: Type = Type::Struct(&BIND_OPTIONS);
static BIND_OPTIONS_PTR: Type = ptr(&BIND_OPTIONS_T);

static MOUNT_DRIVER: StructDef = StructDef {
    name: "mount.Driver",
    fields: &[
        F::new("Name", &STR).omitempty(),
        F::new("Options", &STRING_MAP).omitempty(),
    ],
    methods: &[],
};
static MOUNT_DRIVER_T: Type = Type::Struct(&MOUNT_DRIVER);
static MOUNT_DRIVER_PTR: Type = ptr(&MOUNT_DRIVER_T);

static VOLUME_OPTIONS: StructDef = StructDef {
    name: "mount.VolumeOptions",
    fields: &[
        F::new("NoCopy", &BOOL).omitempty(),
        F::new("Labels", &STRING_MAP).omitempty(),
        F::new("Subpath", &STR).omitempty(),
        F::new("DriverConfig", &MOUNT_DRIVER_PTR).omitempty(),
    ],
    methods: &[],
};
static VOLUME_OPTIONS_T: Type = Type::Struct(&VOLUME_OPTIONS);
static VOLUME_OPTIONS_PTR: Type = ptr(&VOLUME_OPTIONS_T);

static IMAGE_OPTIONS: StructDef = StructDef {
    name: "mount.ImageOptions",
    fields: &[F::new("Subpath", &STR).omitempty()],
    methods: &[],
};
static IMAGE_OPTIONS_T: Type = Type::Struct(&IMAGE_OPTIONS);
static IMAGE_OPTIONS_PTR: Type = ptr(&IMAGE_OPTIONS_T);

static TMPFS_OPTIONS: StructDef = StructDef {
    name: "mount.TmpfsOptions",
    fields: &[
        F::new("SizeBytes", &I64).omitempty(),
        F::new("Mode", &m::FILE_MODE).omitempty(),
        F::new("Options", &STRING_LISTS).omitempty(),
    ],
    methods: &[],
};
static TMPFS_OPTIONS_T: Type = Type::Struct(&TMPFS_OPTIONS);
static TMPFS_OPTIONS_PTR: Type = ptr(&TMPFS_OPTIONS_T);

static CLUSTER_OPTIONS: StructDef = StructDef {
    name: "mount.ClusterOptions",
    fields: &[],
    methods: &[],
};
static CLUSTER_OPTIONS_T: Type = Type::Struct(&CLUSTER_OPTIONS);
static CLUSTER_OPTIONS_PTR: Type = ptr(&CLUSTER_OPTIONS_T);

static MOUNT: StructDef = StructDef {
    name: "mount.Mount",
    fields: &[
        F::new("Type", &MOUNT_TYPE).omitempty(),
        F::new("Source", &STR).omitempty(),
        F::new("Target", &STR).omitempty(),
        F::new("ReadOnly", &BOOL).omitempty(),
        F::new("Consistency", &CONSISTENCY).omitempty(),
        F::new("BindOptions", &BIND_OPTIONS_PTR).omitempty(),
        F::new("VolumeOptions", &VOLUME_OPTIONS_PTR).omitempty(),
        F::new("ImageOptions", &IMAGE_OPTIONS_PTR).omitempty(),
        F::new("TmpfsOptions", &TMPFS_OPTIONS_PTR).omitempty(),
        F::new("ClusterOptions", &CLUSTER_OPTIONS_PTR).omitempty(),
    ],
    methods: &[],
};
static MOUNT_T: Type = Type::Struct(&MOUNT);
static MOUNTS: Type = Type::Slice(&MOUNT_T);

static HOST_CONFIG: StructDef = StructDef {
    name: "container.HostConfig",
    fields: &[
        F::new("Binds", &STRINGS),
        F::new("ContainerIDFile", &STR),
        F::new("LogConfig", &LOG_CONFIG_T),
        F::new("NetworkMode", &NETWORK_MODE),
        F::new("PortBindings", &PORT_MAP),
        F::new("RestartPolicy", &RESTART_POLICY_T),
        F::new("AutoRemove", &BOOL),
        F::new("VolumeDriver", &STR),
        F::new("VolumesFrom", &STRINGS),
        F::new("ConsoleSize", &UINT_PAIR),
        F::new("Annotations", &STRING_MAP).omitempty(),
        F::new("CapAdd", &STR_SLICE),
        F::new("CapDrop", &STR_SLICE),
        F::new("CgroupnsMode", &CGROUPNS_MODE),
        F::new("DNS", &STRINGS).json("Dns"),
        F::new("DNSOptions", &STRINGS).json("DnsOptions"),
        F::new("DNSSearch", &STRINGS).json("DnsSearch"),
        F::new("ExtraHosts", &STRINGS),
        F::new("GroupAdd", &STRINGS),
        F::new("IpcMode", &IPC_MODE),
        F::new("Cgroup", &CGROUP_SPEC),
        F::new("Links", &STRINGS),
        F::new("OomScoreAdj", &INT),
        F::new("PidMode", &PID_MODE),
        F::new("Privileged", &BOOL),
        F::new("PublishAllPorts", &BOOL),
        F::new("ReadonlyRootfs", &BOOL),
        F::new("SecurityOpt", &STRINGS),
        F::new("StorageOpt", &STRING_MAP).omitempty(),
        F::new("Tmpfs", &STRING_MAP).omitempty(),
        F::new("UTSMode", &UTS_MODE),
        F::new("UsernsMode", &USERNS_MODE),
        F::new("ShmSize", &I64),
        F::new("Sysctls", &STRING_MAP).omitempty(),
        F::new("Runtime", &STR).omitempty(),
        F::new("Isolation", &ISOLATION),
        F::new("Resources", &RESOURCES_T).embedded(),
        F::new("Mounts", &MOUNTS).omitempty(),
        F::new("MaskedPaths", &STRINGS),
        F::new("ReadonlyPaths", &STRINGS),
        F::new("Init", &BOOL_PTR).omitempty(),
    ],
    methods: &[],
};
static HOST_CONFIG_T: Type = Type::Struct(&HOST_CONFIG);
static HOST_CONFIG_PTR: Type = ptr(&HOST_CONFIG_T);

static BASE: StructDef = StructDef {
    name: "container.ContainerJSONBase",
    fields: &[
        F::new("ID", &STR).json("Id"),
        F::new("Created", &STR),
        F::new("Path", &STR),
        F::new("Args", &STRINGS),
        F::new("State", &STATE_PTR),
        F::new("Image", &STR),
        F::new("ResolvConfPath", &STR),
        F::new("HostnamePath", &STR),
        F::new("HostsPath", &STR),
        F::new("LogPath", &STR),
        F::new("Name", &STR),
        F::new("RestartCount", &INT),
        F::new("Driver", &STR),
        F::new("Platform", &STR),
        F::new("MountLabel", &STR),
        F::new("ProcessLabel", &STR),
        F::new("AppArmorProfile", &STR),
        F::new("ExecIDs", &STRINGS),
        F::new("HostConfig", &HOST_CONFIG_PTR),
        F::new("GraphDriver", &DRIVER_DATA_T),
        F::new("SizeRw", &I64_PTR).omitempty(),
        F::new("SizeRootFs", &I64_PTR).omitempty(),
    ],
    methods: &[],
};
static BASE_T: Type = Type::Struct(&BASE);
static BASE_PTR: Type = ptr(&BASE_T);

static MOUNT_POINT: StructDef = StructDef {
    name: "container.MountPoint",
    fields: &[
        F::new("Type", &MOUNT_TYPE).omitempty(),
        F::new("Name", &STR).omitempty(),
        F::new("Source", &STR),
        F::new("Destination", &STR),
        F::new("Driver", &STR).omitempty(),
        F::new("Mode", &STR),
        F::new("RW", &BOOL),
        F::new("Propagation", &PROPAGATION),
    ],
    methods: &[],
};
static MOUNT_POINT_T: Type = Type::Struct(&MOUNT_POINT);
static MOUNT_POINTS: Type = Type::Slice(&MOUNT_POINT_T);

static CONFIG: StructDef = StructDef {
    name: "container.Config",
    fields: &[
        F::new("Hostname", &STR),
        F::new("Domainname", &STR),
        F::new("User", &STR),
        F::new("AttachStdin", &BOOL),
        F::new("AttachStdout", &BOOL),
        F::new("AttachStderr", &BOOL),
        F::new("ExposedPorts", &PORT_SET).omitempty(),
        F::new("Tty", &BOOL),
        F::new("OpenStdin", &BOOL),
        F::new("StdinOnce", &BOOL),
        F::new("Env", &STRINGS),
        F::new("Cmd", &STR_SLICE),
        F::new("Healthcheck", &HEALTHCHECK_PTR).omitempty(),
        F::new("ArgsEscaped", &BOOL).omitempty(),
        F::new("Image", &STR),
        F::new("Volumes", &SET),
        F::new("WorkingDir", &STR),
        F::new("Entrypoint", &STR_SLICE),
        F::new("NetworkDisabled", &BOOL).omitempty(),
        F::new("MacAddress", &STR).omitempty(),
        F::new("OnBuild", &STRINGS),
        F::new("Labels", &STRING_MAP),
        F::new("StopSignal", &STR).omitempty(),
        F::new("StopTimeout", &INT_PTR).omitempty(),
        F::new("Shell", &STR_SLICE).omitempty(),
    ],
    methods: &[],
};
static CONFIG_T: Type = Type::Struct(&CONFIG);
static CONFIG_PTR: Type = ptr(&CONFIG_T);

static ADDRESS: StructDef = StructDef {
    name: "network.Address",
    fields: &[F::new("Addr", &STR), F::new("PrefixLen", &INT)],
    methods: &[],
};
static ADDRESS_T: Type = Type::Struct(&ADDRESS);
static ADDRESSES: Type = Type::Slice(&ADDRESS_T);

static SETTINGS_BASE: StructDef = StructDef {
    name: "container.NetworkSettingsBase",
    fields: &[
        F::new("Bridge", &STR),
        F::new("SandboxID", &STR),
        F::new("SandboxKey", &STR),
        F::new("Ports", &PORT_MAP),
        F::new("HairpinMode", &BOOL),
        F::new("LinkLocalIPv6Address", &STR),
        F::new("LinkLocalIPv6PrefixLen", &INT),
        F::new("SecondaryIPAddresses", &ADDRESSES),
        F::new("SecondaryIPv6Addresses", &ADDRESSES),
    ],
    methods: &[],
};
static SETTINGS_BASE_T: Type = Type::Struct(&SETTINGS_BASE);

static DEFAULT_SETTINGS: StructDef = StructDef {
    name: "container.DefaultNetworkSettings",
    fields: &[
        F::new("EndpointID", &STR),
        F::new("Gateway", &STR),
        F::new("GlobalIPv6Address", &STR),
        F::new("GlobalIPv6PrefixLen", &INT),
        F::new("IPAddress", &STR),
        F::new("IPPrefixLen", &INT),
        F::new("IPv6Gateway", &STR),
        F::new("MacAddress", &STR),
    ],
    methods: &[],
};
static DEFAULT_SETTINGS_T: Type = Type::Struct(&DEFAULT_SETTINGS);

static IPAM_CONFIG: StructDef = StructDef {
    name: "network.EndpointIPAMConfig",
    fields: &[
        F::new("IPv4Address", &STR).omitempty(),
        F::new("IPv6Address", &STR).omitempty(),
        F::new("LinkLocalIPs", &STRINGS).omitempty(),
    ],
    methods: m::IPAM_CONFIG,
};
static IPAM_CONFIG_T: Type = Type::Struct(&IPAM_CONFIG);
pub(super) static IPAM_CONFIG_PTR: Type = ptr(&IPAM_CONFIG_T);

static ENDPOINT: StructDef = StructDef {
    name: "network.EndpointSettings",
    fields: &[
        F::new("IPAMConfig", &IPAM_CONFIG_PTR),
        F::new("Links", &STRINGS),
        F::new("Aliases", &STRINGS),
        F::new("MacAddress", &STR),
        F::new("DriverOpts", &STRING_MAP),
        F::new("GwPriority", &INT),
        F::new("NetworkID", &STR),
        F::new("EndpointID", &STR),
        F::new("Gateway", &STR),
        F::new("IPAddress", &STR),
        F::new("IPPrefixLen", &INT),
        F::new("IPv6Gateway", &STR),
        F::new("GlobalIPv6Address", &STR),
        F::new("GlobalIPv6PrefixLen", &INT),
        F::new("DNSNames", &STRINGS),
    ],
    methods: m::ENDPOINT,
};
static ENDPOINT_T: Type = Type::Struct(&ENDPOINT);
pub(super) static ENDPOINT_PTR: Type = ptr(&ENDPOINT_T);
static ENDPOINTS: Type = Type::Map(&Type::String, &ENDPOINT_PTR);

static NETWORK_SETTINGS: StructDef = StructDef {
    name: "container.NetworkSettings",
    fields: &[
        F::new("NetworkSettingsBase", &SETTINGS_BASE_T).embedded(),
        F::new("DefaultNetworkSettings", &DEFAULT_SETTINGS_T).embedded(),
        F::new("Networks", &ENDPOINTS),
    ],
    methods: &[],
};
static NETWORK_SETTINGS_T: Type = Type::Struct(&NETWORK_SETTINGS);
static NETWORK_SETTINGS_PTR: Type = ptr(&NETWORK_SETTINGS_T);

static INSPECT_RESPONSE: StructDef = StructDef {
    name: "container.InspectResponse",
    fields: &[
        F::new("ContainerJSONBase", &BASE_PTR).embedded(),
        F::new("Mounts", &MOUNT_POINTS),
        F::new("Config", &CONFIG_PTR),
        F::new("NetworkSettings", &NETWORK_SETTINGS_PTR),
        F::new("ImageManifestDescriptor", &DESCRIPTOR_PTR).omitempty(),
    ],
    methods: &[],
};
static INSPECT_RESPONSE_T: Type = Type::Struct(&INSPECT_RESPONSE);

/// A `container inspect` body as the docker CLI's `container.InspectResponse`.
pub fn inspect_response(body: &serde_json::Value) -> Value {
    Value::decode(body, &INSPECT_RESPONSE_T)
}

static BOOL_PTR_OMIT: Type = ptr(&BOOL);
static STR_PTR: Type = ptr(&STR);
static LABELS: Type = Type::Map(&Type::String, &STR);

/// docker/cli's `formatter.Platform`: an `ocispec.Platform` (its fields promoted: `.OS`)
/// that prints as containerd's `platforms.FormatAll` (`linux/amd64`) and encodes as itself
/// (`{"architecture":"amd64","os":"linux"}`).
static FORMATTER_PLATFORM: StructDef = StructDef {
    name: "formatter.Platform",
    fields: &[F::new("Platform", &PLATFORM_T).embedded()],
    methods: m::FORMATTER_PLATFORM,
};
static FORMATTER_PLATFORM_T: Type = Type::Struct(&FORMATTER_PLATFORM);
static FORMATTER_PLATFORM_PTR: Type = ptr(&FORMATTER_PLATFORM_T);
static BYTES: Type = Type::Slice(&Type::Byte);

/// `ContainerContext.MarshalJSON` (docker/cli's `formatter.MarshalJSON`): `json.Marshal` of
/// what every method gives, keys sorted, `<`, `>` and `&` escaped; `{{json .}}` prints it.
fn marshal_json(row: &Value, _: &[Value]) -> Result<Value, String> {
    let text = crate::template::marshal_fields(row)?;
    let bytes = text.bytes().map(|b| Value::Uint(u64::from(b), &Type::Byte)).collect();
    Ok(Value::Slice(Some(Rc::new(bytes)), &BYTES))
}

/// `.Label "KEY"`: the container's label KEY, `""` when it has none (docker/cli's
/// `ContainerContext.Label`).
fn label(row: &Value, args: &[Value]) -> Result<Value, String> {
    let at = CONTAINER_CONTEXT.fields.iter().position(|f| f.name == "c");
    let fields = match row {
        Value::Struct(fields, _) => fields.as_slice(),
        _ => &[],
    };
    let value = match (at.and_then(|i| fields.get(i)), args.first()) {
        (Some(Value::Map(Some(m), _)), Some(Value::Str(key, _))) => match m.get(key.as_ref()) {
            Some(Value::Str(v, _)) => v.clone(),
            _ => "".into(),
        },
        _ => "".into(),
    };
    Ok(Value::Str(value, &STR))
}

/// One row of `ps --format TEMPLATE`: docker/cli's `formatter.ContainerContext`, whose methods
/// (`.ID`, `.Names`, `.Status`, `.Label "k"`...) a template calls, here its fields, holding
/// what `ps --format json` prints (docker's keys and ours, in that object's sorted order, so
/// `{{json .}}` prints the same object). Differences from docker's, by design: `RunningFor` is
/// the recorded creation time (an age would be the examiner's clock), and `Size` is left out
/// where it was asked for and could not be measured (docker's is `0B` only when it was not
/// asked for, and so is ours).
pub static CONTAINER_CONTEXT: StructDef = StructDef {
    name: "formatter.ContainerContext",
    fields: &[
        F::new("Command", &STR),
        F::new("ContainerdRecord", &BOOL),
        F::new("Created", &STR),
        F::new("CreatedAt", &STR),
        F::new("CriKind", &STR).omitempty(),
        F::new("ExitCode", &INT_PTR),
        F::new("FinishedAt", &STR_PTR),
        F::new("ID", &STR),
        F::new("Image", &STR),
        F::new("ImageID", &STR).omitempty(),
        F::new("ImageRef", &STR),
        F::new("Labels", &STR),
        F::new("LocalVolumes", &STR),
        F::new("Mounts", &STR),
        F::new("Names", &STR),
        F::new("Namespace", &STR_PTR).omitempty(),
        F::new("Networks", &STR),
        F::new("OOMKilled", &BOOL_PTR_OMIT).omitempty(),
        F::new("Pid", &INT_PTR).omitempty(),
        F::new("Platform", &FORMATTER_PLATFORM_PTR).omitempty(),
        F::new("PodName", &STR).omitempty(),
        F::new("PodNamespace", &STR).omitempty(),
        F::new("PodUID", &STR).omitempty(),
        F::new("Ports", &STR),
        F::new("RestartCount", &INT_PTR).omitempty(),
        F::new("RestartPolicy", &STR_PTR).omitempty(),
        F::new("RunningFor", &STR),
        // With --size, or a template that reads `.Size` (docker's `Size()`: `61.4kB (virtual
        // 2.36MB)`), else `0B`; ours: the exact bytes, only where measured.
        F::new("Size", &STR).omitempty(),
        F::new("SizeRootFs", &INT_PTR).omitempty(),
        F::new("SizeRw", &INT_PTR).omitempty(),
        F::new("Source", &STR),
        F::new("StartedAt", &STR_PTR),
        F::new("State", &STR),
        F::new("Status", &STR),
        F::new("TaskAtSeizure", &BOOL),
        // The labels themselves, for `.Label` (docker's unexported container summary).
        F::new("c", &LABELS).skip(),
        // The embedded `formatter.HeaderContext`'s one field, `Header any`: nil on a row (so
        // `{{.Header}}` prints `<no value>`, as docker's does); not in the JSON object.
        F::new("Header", &Type::Any).skip(),
    ],
    methods: &[
        MethodDef {
            name: "Label",
            params: &[&STR],
            results: 1,
            call: label,
        },
        MethodDef {
            name: "MarshalJSON",
            params: &[],
            results: 2,
            call: marshal_json,
        },
    ],
};
static CONTAINER_CONTEXT_T: Type = Type::Struct(&CONTAINER_CONTEXT);
static CONTAINER_CONTEXT_PTR: Type = ptr(&CONTAINER_CONTEXT_T);

/// A `ps` row as a `*formatter.ContainerContext` (what docker hands its templates): `row` is
/// its `ps --format json` object with `RunningFor` and `c` (the labels) added.
pub fn container_context(row: &serde_json::Value) -> Value {
    Value::decode(row, &CONTAINER_CONTEXT_PTR)
}
