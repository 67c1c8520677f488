//! The Go types dockerd decodes a container directory's JSON files into, as
//! [`crate::image::goshape`] describes types: `config.v2.json` into moby's
//! `container.Container` (`json.NewDecoder(f).Decode(container)`, `container.FromDisk`) and
//! `hostconfig.json` into the API's `container.HostConfig` (`readHostConfig`), both with
//! `encoding/json`. So a key names a field without regard to case, a repeated key decodes
//! again into what the earlier one set, a map keeps its keys as they are, and a value of the
//! wrong type makes dockerd refuse the file (`failed to load container`).
//!
//! Each struct lists every field `encoding/json` sees, under its JSON name and in Go's field
//! order (embedded structs without a tag flattened in where they are embedded; `*State`,
//! embedded with the tag `"State"`, is a field; `json:"-"` fields are not there), as moby
//! v28.5.1 declares them (`container/container.go`, `container/state.go`,
//! `container/health.go`, `api/types/container/{config,hostconfig,health}.go`,
//! `api/types/{mount,blkiodev,strslice}`, `api/types/swarm/{secret,config}.go`,
//! `daemon/network/settings.go`, `daemon/cluster/provider/network.go`,
//! `api/types/network/{endpoint,network}.go`, `volume/mounts/mounts.go`, and the vendored
//! `go-connections/nat`, `go-units` and `docker-image-spec`), each field with its Go type, so
//! that a value is refused where Go refuses it and printed as Go prints it: a key no field
//! takes is dropped, as Go drops it. The only types here with their own `UnmarshalJSON` are
//! `time.Time` and `strslice.StrSlice`; what either refuses ends the decoding, as it ends Go's.

use crate::image::document::{DESCRIPTOR, EMPTY_STRUCT, PLATFORM};
use crate::image::goshape::{Shape, Tag};

const STRINGS: Shape = Shape::Slice(&Shape::Str);
const STRING_MAP: Shape = Shape::Map(&Shape::Str);
/// Go's `uint` (64 bits wide where dockerd runs).
const UINT: Shape = Shape::Named("uint", &Shape::Uint(64));
/// `os.FileMode`, a `uint32` (`fs.FileMode` to reflect).
const FILE_MODE: Shape = Shape::Named("fs.FileMode", &Shape::Uint(32));
/// `time.Duration`, an `int64`.
const DURATION: Shape = Shape::Named("time.Duration", &Shape::Int);

/// moby's `container.Container`, as `config.v2.json` has it.
pub static CONTAINER: Shape = Shape::Struct(
    "container.Container",
    &[
        // Only unexported fields: an object is taken (and ignored), anything else refused.
        ("StreamConfig", Shape::Ptr(&Shape::Struct("stream.Config", &[]))),
        ("State", Shape::Ptr(&STATE)),
        ("ID", Shape::Str),
        ("Created", Shape::Time),
        ("Managed", Shape::Bool),
        ("Path", Shape::Str),
        ("Args", STRINGS),
        ("Config", Shape::Ptr(&CONFIG)),
        // ImageID, tagged "Image".
        ("Image", Shape::Str),
        ("ImageManifest", Shape::Ptr(&DESCRIPTOR)),
        ("NetworkSettings", Shape::Ptr(&SETTINGS)),
        ("LogPath", Shape::Str),
        ("Name", Shape::Str),
        ("Driver", Shape::Str),
        ("OS", Shape::Str),
        ("ImagePlatform", PLATFORM),
        ("RestartCount", Shape::Int),
        ("HasBeenStartedBefore", Shape::Bool),
        ("HasBeenManuallyStopped", Shape::Bool),
        ("MountPoints", Shape::Map(&Shape::Ptr(&MOUNT_POINT))),
        ("SecretReferences", Shape::Slice(&Shape::Ptr(&SECRET_REFERENCE))),
        ("ConfigReferences", Shape::Slice(&Shape::Ptr(&CONFIG_REFERENCE))),
        // SecurityOptions, embedded.
        ("MountLabel", Shape::Str),
        ("ProcessLabel", Shape::Str),
        ("AppArmorProfile", Shape::Str),
        ("SeccompProfile", Shape::Str),
        ("NoNewPrivileges", Shape::Bool),
        ("WritableCgroups", Shape::Ptr(&Shape::Bool)),
        ("HostnamePath", Shape::Str),
        ("HostsPath", Shape::Str),
        ("ShmPath", Shape::Str),
        ("ResolvConfPath", Shape::Str),
        (
            "LocalLogCacheMeta",
            Shape::Struct("container.localLogCacheMeta", &[("HaveNotifyEnabled", Shape::Bool)]),
        ),
    ],
);

/// moby's `container.State` (its `sync.Mutex` has no JSON fields).
const STATE: Shape = Shape::Struct(
    "container.State",
    &[
        ("Running", Shape::Bool),
        ("Paused", Shape::Bool),
        ("Restarting", Shape::Bool),
        ("OOMKilled", Shape::Bool),
        // dockerd 28.5 writes none (the fixture node's files have none); read when a file
        // holds it, so that a `docker rm` the node stopped in is `removing`, as the dockerd
        // that wrote it shows it.
        ("RemovalInProgress", Shape::Bool),
        ("Dead", Shape::Bool),
        ("Pid", Shape::Int),
        // ExitCodeValue and ErrorMsg, tagged.
        ("ExitCode", Shape::Int),
        ("Error", Shape::Str),
        ("StartedAt", Shape::Time),
        ("FinishedAt", Shape::Time),
        // container.Health, which embeds the API's Health.
        ("Health", Shape::Ptr(&HEALTH)),
    ],
);

/// The API's `container.Health` (moby's `container.Health` embeds it and adds no JSON fields).
pub static HEALTH: Shape = Shape::Struct(
    "container.Health",
    &[
        ("Status", Shape::Str),
        ("FailingStreak", Shape::Int),
        (
            "Log",
            Shape::Slice(&Shape::Ptr(&Shape::Struct(
                "container.HealthcheckResult",
                &[
                    ("Start", Shape::Time),
                    ("End", Shape::Time),
                    ("ExitCode", Shape::Int),
                    ("Output", Shape::Str),
                ],
            ))),
        ),
    ],
);

/// swarm's `SecretReference`.
const SECRET_REFERENCE: Shape = Shape::Struct(
    "swarm.SecretReference",
    &[
        (
            "File",
            Shape::Ptr(&Shape::Struct("swarm.SecretReferenceFileTarget", FILE_TARGET)),
        ),
        ("SecretID", Shape::Str),
        ("SecretName", Shape::Str),
    ],
);

/// swarm's `ConfigReference`.
const CONFIG_REFERENCE: Shape = Shape::Struct(
    "swarm.ConfigReference",
    &[
        (
            "File",
            Shape::Ptr(&Shape::Struct("swarm.ConfigReferenceFileTarget", FILE_TARGET)),
        ),
        (
            "Runtime",
            Shape::Ptr(&Shape::Struct("swarm.ConfigReferenceRuntimeTarget", &[])),
        ),
        ("ConfigID", Shape::Str),
        ("ConfigName", Shape::Str),
    ],
);

/// The fields of swarm's `SecretReferenceFileTarget` and `ConfigReferenceFileTarget`.
const FILE_TARGET: &[(&str, Shape)] = &[
    ("Name", Shape::Str),
    ("UID", Shape::Str),
    ("GID", Shape::Str),
    ("Mode", FILE_MODE),
];

/// The API's `container.Config`.
pub static CONFIG: Shape = Shape::Struct(
    "container.Config",
    &[
        ("Hostname", Shape::Str),
        ("Domainname", Shape::Str),
        ("User", Shape::Str),
        ("AttachStdin", Shape::Bool),
        ("AttachStdout", Shape::Bool),
        ("AttachStderr", Shape::Bool),
        // nat.PortSet: map[nat.Port]struct{}.
        ("ExposedPorts", Shape::Map(&EMPTY_STRUCT)),
        ("Tty", Shape::Bool),
        ("OpenStdin", Shape::Bool),
        ("StdinOnce", Shape::Bool),
        ("Env", STRINGS),
        ("Cmd", Shape::StrSlice),
        ("Healthcheck", Shape::Ptr(&HEALTHCHECK_CONFIG)),
        ("ArgsEscaped", Shape::Bool),
        ("Image", Shape::Str),
        ("Volumes", Shape::Map(&EMPTY_STRUCT)),
        ("WorkingDir", Shape::Str),
        ("Entrypoint", Shape::StrSlice),
        ("NetworkDisabled", Shape::Bool),
        ("MacAddress", Shape::Str),
        ("OnBuild", STRINGS),
        ("Labels", STRING_MAP),
        ("StopSignal", Shape::Str),
        ("StopTimeout", Shape::Ptr(&Shape::Int)),
        ("Shell", Shape::StrSlice),
    ],
);

/// `dockerspec.HealthcheckConfig` (the API's `container.HealthConfig` is an alias of it).
const HEALTHCHECK_CONFIG: Shape = Shape::Struct(
    "dockerspec.HealthcheckConfig",
    &[
        ("Test", STRINGS),
        ("Interval", DURATION),
        ("Timeout", DURATION),
        ("StartPeriod", DURATION),
        ("StartInterval", DURATION),
        ("Retries", Shape::Int),
    ],
);

/// moby's `network.Settings` (the daemon's, not the API's).
const SETTINGS: Shape = Shape::Struct(
    "network.Settings",
    &[
        ("Bridge", Shape::Str),
        ("SandboxID", Shape::Str),
        ("SandboxKey", Shape::Str),
        ("HairpinMode", Shape::Bool),
        ("LinkLocalIPv6Address", Shape::Str),
        ("LinkLocalIPv6PrefixLen", Shape::Int),
        ("Networks", Shape::Map(&Shape::Ptr(&ENDPOINT))),
        ("Service", Shape::Ptr(&SERVICE_CONFIG)),
        ("Ports", PORT_MAP),
        ("SecondaryIPAddresses", Shape::Slice(&ADDRESS)),
        ("SecondaryIPv6Addresses", Shape::Slice(&ADDRESS)),
        ("HasSwarmEndpoint", Shape::Bool),
    ],
);

/// The cluster provider's `ServiceConfig` (a swarm service's container).
const SERVICE_CONFIG: Shape = Shape::Struct(
    "provider.ServiceConfig",
    &[
        ("ID", Shape::Str),
        ("Name", Shape::Str),
        ("Aliases", Shape::Map(&STRINGS)),
        (
            "VirtualAddresses",
            Shape::Map(&Shape::Ptr(&Shape::Struct(
                "provider.VirtualAddress",
                &[("IPv4", Shape::Str), ("IPv6", Shape::Str)],
            ))),
        ),
        (
            "ExposedPorts",
            Shape::Slice(&Shape::Ptr(&Shape::Struct(
                "provider.PortConfig",
                &[
                    ("Name", Shape::Str),
                    ("Protocol", Shape::Int32),
                    ("TargetPort", Shape::Uint(32)),
                    ("PublishedPort", Shape::Uint(32)),
                ],
            ))),
        ),
    ],
);

/// The API's `network.Address`.
const ADDRESS: Shape = Shape::Struct("network.Address", &[("Addr", Shape::Str), ("PrefixLen", Shape::Int)]);

/// The daemon's `network.EndpointSettings`: the API's, embedded (through a pointer), then two
/// of its own.
const ENDPOINT: Shape = Shape::Struct(
    "network.EndpointSettings",
    &[
        ("IPAMConfig", Shape::Ptr(&IPAM_CONFIG)),
        ("Links", STRINGS),
        ("Aliases", STRINGS),
        ("MacAddress", Shape::Str),
        ("DriverOpts", STRING_MAP),
        ("GwPriority", Shape::Int),
        ("NetworkID", Shape::Str),
        ("EndpointID", Shape::Str),
        ("Gateway", Shape::Str),
        ("IPAddress", Shape::Str),
        ("IPPrefixLen", Shape::Int),
        ("IPv6Gateway", Shape::Str),
        ("GlobalIPv6Address", Shape::Str),
        ("GlobalIPv6PrefixLen", Shape::Int),
        ("DNSNames", STRINGS),
        ("IPAMOperational", Shape::Bool),
        ("DesiredMacAddress", Shape::Str),
    ],
);

/// The API's `network.EndpointSettings`, as `container inspect` prints each of
/// `NetworkSettings.Networks` (the daemon's two fields of its own left out).
pub static API_ENDPOINT: Shape = Shape::Struct(
    "network.EndpointSettings",
    &[
        ("IPAMConfig", Shape::Ptr(&IPAM_CONFIG)),
        ("Links", STRINGS),
        ("Aliases", STRINGS),
        ("MacAddress", Shape::Str),
        ("DriverOpts", STRING_MAP),
        ("GwPriority", Shape::Int),
        ("NetworkID", Shape::Str),
        ("EndpointID", Shape::Str),
        ("Gateway", Shape::Str),
        ("IPAddress", Shape::Str),
        ("IPPrefixLen", Shape::Int),
        ("IPv6Gateway", Shape::Str),
        ("GlobalIPv6Address", Shape::Str),
        ("GlobalIPv6PrefixLen", Shape::Int),
        ("DNSNames", STRINGS),
    ],
);

/// The API's `network.EndpointIPAMConfig`.
const IPAM_CONFIG: Shape = Shape::Struct(
    "network.EndpointIPAMConfig",
    &[
        ("IPv4Address", Shape::Str),
        ("IPv6Address", Shape::Str),
        ("LinkLocalIPs", STRINGS),
    ],
);

/// `nat.PortMap` (`map[nat.Port][]nat.PortBinding`): `NetworkSettings.Ports` and
/// `HostConfig.PortBindings`.
pub const PORT_MAP: Shape = Shape::Map(&Shape::Slice(&Shape::Struct(
    "nat.PortBinding",
    &[("HostIp", Shape::Str), ("HostPort", Shape::Str)],
)));

/// How dockerd's `encoding/json` prints the fields of the structs `container inspect` prints
/// whole ([`crate::image::goshape::marshal`]): their `omitempty` tags, as moby v28.5.1 (and
/// `docker-image-spec`) declare them. The structs only decoded (the daemon's own, swarm's)
/// are not listed.
pub fn tag(structure: &str, field: &str) -> Tag {
    let omitempty = matches!(
        (structure, field),
        (
            "container.Config",
            "ExposedPorts"
                | "Healthcheck"
                | "ArgsEscaped"
                | "NetworkDisabled"
                | "MacAddress"
                | "StopSignal"
                | "StopTimeout"
                | "Shell",
        ) | (
            "container.HostConfig",
            "Annotations"
                | "StorageOpt"
                | "Tmpfs"
                | "Sysctls"
                | "Runtime"
                | "KernelMemory"
                | "KernelMemoryTCP"
                | "Mounts"
                | "Init",
        ) | (
            // Every field of these is tagged so.
            "dockerspec.HealthcheckConfig"
                | "network.EndpointIPAMConfig"
                | "mount.Mount"
                | "mount.BindOptions"
                | "mount.VolumeOptions"
                | "mount.ImageOptions"
                | "mount.Driver"
                | "mount.TmpfsOptions",
            _,
        )
    );
    Tag { omitempty }
}

/// moby's `mounts.MountPoint`.
const MOUNT_POINT: Shape = Shape::Struct(
    "mounts.MountPoint",
    &[
        ("Source", Shape::Str),
        ("Destination", Shape::Str),
        ("RW", Shape::Bool),
        ("Name", Shape::Str),
        ("Driver", Shape::Str),
        ("Type", Shape::Str),
        // Mode, tagged "Relabel".
        ("Relabel", Shape::Str),
        ("Propagation", Shape::Str),
        ("ID", Shape::Str),
        ("Spec", MOUNT),
        ("SkipMountpointCreation", Shape::Bool),
    ],
);

/// The API's `mount.Mount` (`HostConfig.Mounts`, and each mount point's `Spec`).
const MOUNT: Shape = Shape::Struct(
    "mount.Mount",
    &[
        ("Type", Shape::Str),
        ("Source", Shape::Str),
        ("Target", Shape::Str),
        ("ReadOnly", Shape::Bool),
        ("Consistency", Shape::Str),
        (
            "BindOptions",
            Shape::Ptr(&Shape::Struct(
                "mount.BindOptions",
                &[
                    ("Propagation", Shape::Str),
                    ("NonRecursive", Shape::Bool),
                    ("CreateMountpoint", Shape::Bool),
                    ("ReadOnlyNonRecursive", Shape::Bool),
                    ("ReadOnlyForceRecursive", Shape::Bool),
                ],
            )),
        ),
        (
            "VolumeOptions",
            Shape::Ptr(&Shape::Struct(
                "mount.VolumeOptions",
                &[
                    ("NoCopy", Shape::Bool),
                    ("Labels", STRING_MAP),
                    ("Subpath", Shape::Str),
                    (
                        "DriverConfig",
                        Shape::Ptr(&Shape::Struct(
                            "mount.Driver",
                            &[("Name", Shape::Str), ("Options", STRING_MAP)],
                        )),
                    ),
                ],
            )),
        ),
        (
            "ImageOptions",
            Shape::Ptr(&Shape::Struct("mount.ImageOptions", &[("Subpath", Shape::Str)])),
        ),
        (
            "TmpfsOptions",
            Shape::Ptr(&Shape::Struct(
                "mount.TmpfsOptions",
                &[
                    ("SizeBytes", Shape::Int),
                    ("Mode", FILE_MODE),
                    ("Options", Shape::Slice(&STRINGS)),
                ],
            )),
        ),
        (
            "ClusterOptions",
            Shape::Ptr(&Shape::Struct("mount.ClusterOptions", &[])),
        ),
    ],
);

/// `blkiodev.WeightDevice`, by pointer.
const WEIGHT_DEVICES: Shape = Shape::Slice(&Shape::Ptr(&Shape::Struct(
    "blkiodev.WeightDevice",
    &[("Path", Shape::Str), ("Weight", Shape::Uint(16))],
)));

/// `blkiodev.ThrottleDevice`, by pointer.
const THROTTLE_DEVICES: Shape = Shape::Slice(&Shape::Ptr(&Shape::Struct(
    "blkiodev.ThrottleDevice",
    &[("Path", Shape::Str), ("Rate", Shape::Uint(64))],
)));

/// The API's `container.HostConfig`, with `Resources` embedded where Go has it.
pub static HOST_CONFIG: Shape = Shape::Struct(
    "container.HostConfig",
    &[
        ("Binds", STRINGS),
        ("ContainerIDFile", Shape::Str),
        (
            "LogConfig",
            Shape::Struct("container.LogConfig", &[("Type", Shape::Str), ("Config", STRING_MAP)]),
        ),
        ("NetworkMode", Shape::Str),
        ("PortBindings", PORT_MAP),
        (
            "RestartPolicy",
            Shape::Struct(
                "container.RestartPolicy",
                &[("Name", Shape::Str), ("MaximumRetryCount", Shape::Int)],
            ),
        ),
        ("AutoRemove", Shape::Bool),
        ("VolumeDriver", Shape::Str),
        ("VolumesFrom", STRINGS),
        ("ConsoleSize", Shape::Array(2, &UINT)),
        ("Annotations", STRING_MAP),
        ("CapAdd", Shape::StrSlice),
        ("CapDrop", Shape::StrSlice),
        ("CgroupnsMode", Shape::Str),
        ("Dns", STRINGS),
        ("DnsOptions", STRINGS),
        ("DnsSearch", STRINGS),
        ("ExtraHosts", STRINGS),
        ("GroupAdd", STRINGS),
        ("IpcMode", Shape::Str),
        ("Cgroup", Shape::Str),
        ("Links", STRINGS),
        ("OomScoreAdj", Shape::Int),
        ("PidMode", Shape::Str),
        ("Privileged", Shape::Bool),
        ("PublishAllPorts", Shape::Bool),
        ("ReadonlyRootfs", Shape::Bool),
        ("SecurityOpt", STRINGS),
        ("StorageOpt", STRING_MAP),
        ("Tmpfs", STRING_MAP),
        ("UTSMode", Shape::Str),
        ("UsernsMode", Shape::Str),
        ("ShmSize", Shape::Int),
        ("Sysctls", STRING_MAP),
        ("Runtime", Shape::Str),
        ("Isolation", Shape::Str),
        // Resources, embedded.
        ("CpuShares", Shape::Int),
        ("Memory", Shape::Int),
        ("NanoCpus", Shape::Int),
        ("CgroupParent", Shape::Str),
        ("BlkioWeight", Shape::Uint(16)),
        ("BlkioWeightDevice", WEIGHT_DEVICES),
        ("BlkioDeviceReadBps", THROTTLE_DEVICES),
        ("BlkioDeviceWriteBps", THROTTLE_DEVICES),
        ("BlkioDeviceReadIOps", THROTTLE_DEVICES),
        ("BlkioDeviceWriteIOps", THROTTLE_DEVICES),
        ("CpuPeriod", Shape::Int),
        ("CpuQuota", Shape::Int),
        ("CpuRealtimePeriod", Shape::Int),
        ("CpuRealtimeRuntime", Shape::Int),
        ("CpusetCpus", Shape::Str),
        ("CpusetMems", Shape::Str),
        (
            "Devices",
            Shape::Slice(&Shape::Struct(
                "container.DeviceMapping",
                &[
                    ("PathOnHost", Shape::Str),
                    ("PathInContainer", Shape::Str),
                    ("CgroupPermissions", Shape::Str),
                ],
            )),
        ),
        ("DeviceCgroupRules", STRINGS),
        (
            "DeviceRequests",
            Shape::Slice(&Shape::Struct(
                "container.DeviceRequest",
                &[
                    ("Driver", Shape::Str),
                    ("Count", Shape::Int),
                    ("DeviceIDs", STRINGS),
                    ("Capabilities", Shape::Slice(&STRINGS)),
                    ("Options", STRING_MAP),
                ],
            )),
        ),
        ("KernelMemory", Shape::Int),
        ("KernelMemoryTCP", Shape::Int),
        ("MemoryReservation", Shape::Int),
        ("MemorySwap", Shape::Int),
        ("MemorySwappiness", Shape::Ptr(&Shape::Int)),
        ("OomKillDisable", Shape::Ptr(&Shape::Bool)),
        ("PidsLimit", Shape::Ptr(&Shape::Int)),
        (
            "Ulimits",
            Shape::Slice(&Shape::Ptr(&Shape::Struct(
                "units.Ulimit",
                &[("Name", Shape::Str), ("Hard", Shape::Int), ("Soft", Shape::Int)],
            ))),
        ),
        ("CpuCount", Shape::Int),
        ("CpuPercent", Shape::Int),
        ("IOMaximumIOps", Shape::Uint(64)),
        ("IOMaximumBandwidth", Shape::Uint(64)),
        // End of Resources.
        ("Mounts", Shape::Slice(&MOUNT)),
        ("MaskedPaths", STRINGS),
        ("ReadonlyPaths", STRINGS),
        ("Init", Shape::Ptr(&Shape::Bool)),
    ],
);
