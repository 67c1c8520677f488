//! The Go types dockerd decodes a container directory's JSON files into, as
//! [`crate::image::goshape`] describes types: `config.v2.json` into moby's
//! `container.Container` (`json.NewDecoder(f).Decode(container)`, `container.FromDisk`) and
//! `hostconfig.json` into the API's `container.HostConfig` (`readHostConfig`), both with
//! `encoding/json`. So a key names a field without regard to case, a repeated key decodes
//! again into what the earlier one set, a map keeps its keys as they are, and a value of the
//! wrong type makes dockerd refuse the file.
//!
//! Each struct lists every field `encoding/json` sees, under its JSON name and in Go's field
//! order (embedded structs without a tag flattened in where they are embedded; `*State`,
//! embedded with the tag `"State"`, is a field; `json:"-"` fields are not there), as moby
//! v28.5.1 declares them (`container/container.go`, `container/state.go`,
//! `container/health.go`, `api/types/container/{config,hostconfig,health}.go`,
//! `daemon/network/settings.go`, `api/types/network/endpoint.go`, `volume/mounts/mounts.go`):
//! a key no field takes is dropped, as Go drops it. The fields coldctr reads, and every
//! field of a plain Go type, have their type; one of a type with its own `UnmarshalJSON`
//! (`strslice.StrSlice`), an unsigned integer, or a struct coldctr only prints whole is kept
//! as the file has it ([`Shape::Any`]).

use crate::image::document::{DESCRIPTOR, EMPTY_STRUCT, PLATFORM};
use crate::image::goshape::{Shape, Tag};
use crate::inspect::gojson::J;

const STRINGS: Shape = Shape::Slice(&Shape::Str);
const STRING_MAP: Shape = Shape::Map(&Shape::Str);

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
        ("SecretReferences", Shape::Any),
        ("ConfigReferences", Shape::Any),
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
        // strslice.StrSlice (a string or a list of strings).
        ("Cmd", Shape::Any),
        ("Healthcheck", Shape::Any),
        ("ArgsEscaped", Shape::Bool),
        ("Image", Shape::Str),
        ("Volumes", Shape::Map(&EMPTY_STRUCT)),
        ("WorkingDir", Shape::Str),
        ("Entrypoint", Shape::Any),
        ("NetworkDisabled", Shape::Bool),
        ("MacAddress", Shape::Str),
        ("OnBuild", STRINGS),
        ("Labels", STRING_MAP),
        ("StopSignal", Shape::Str),
        ("StopTimeout", Shape::Ptr(&Shape::Int)),
        ("Shell", Shape::Any),
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
        ("Service", Shape::Any),
        ("Ports", Shape::Any),
        ("SecondaryIPAddresses", Shape::Any),
        ("SecondaryIPv6Addresses", Shape::Any),
        ("HasSwarmEndpoint", Shape::Bool),
    ],
);

/// The daemon's `network.EndpointSettings`: the API's, embedded, then two of its own.
const ENDPOINT: Shape = Shape::Struct(
    "network.EndpointSettings",
    &[
        ("IPAMConfig", Shape::Any),
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
        ("IPAMConfig", Shape::Any),
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

/// `nat.PortMap` (`map[nat.Port][]nat.PortBinding`), for printing only: the decoder keeps
/// `Ports` and `PortBindings` as the file has them.
pub static PORT_MAP: Shape = Shape::Map(&Shape::Slice(&Shape::Struct(
    "nat.PortBinding",
    &[("HostIp", Shape::Str), ("HostPort", Shape::Str)],
)));

/// `dockerspec.HealthcheckConfig`, for printing `Config.Healthcheck` only.
const HEALTHCHECK_CONFIG: Shape = Shape::Ptr(&Shape::Struct(
    "dockerspec.HealthcheckConfig",
    &[
        ("Test", STRINGS),
        ("Interval", Shape::Int),
        ("Timeout", Shape::Int),
        ("StartPeriod", Shape::Int),
        ("StartInterval", Shape::Int),
        ("Retries", Shape::Int),
    ],
));

/// `network.EndpointIPAMConfig`, for printing `IPAMConfig` only.
const IPAM_CONFIG: Shape = Shape::Ptr(&Shape::Struct(
    "network.EndpointIPAMConfig",
    &[
        ("IPv4Address", Shape::Str),
        ("IPv6Address", Shape::Str),
        ("LinkLocalIPs", STRINGS),
    ],
));

/// How dockerd's `encoding/json` prints the fields of the structs `container inspect` prints
/// whole ([`crate::image::goshape::marshal`]): their `omitempty` tags, as moby v28.5.1 (and
/// `docker-image-spec`, `go-connections/nat`) declare them, and the types of the fields
/// decoded as [`Shape::Any`] where printing needs them. Fields still printed as the file has
/// them: `Cmd`, `Entrypoint`, `Shell`, `CapAdd`, `CapDrop` (a `strslice.StrSlice` given as
/// one string is not made a list), and the members of `Mounts`, `Devices`, `DeviceRequests`,
/// `Ulimits` and the `Blkio*` device lists.
pub fn tag(structure: &str, field: &str) -> Tag {
    let omitempty = Tag {
        omitempty: true,
        ..Tag::default()
    };
    let printed = |print: &'static Shape| Tag {
        print: Some(print),
        ..Tag::default()
    };
    match (structure, field) {
        (
            "container.Config",
            "ExposedPorts" | "ArgsEscaped" | "NetworkDisabled" | "MacAddress" | "StopSignal" | "StopTimeout" | "Shell",
        )
        | (
            "container.HostConfig",
            "Annotations" | "StorageOpt" | "Tmpfs" | "Sysctls" | "Runtime" | "KernelMemory" | "KernelMemoryTCP"
            | "Mounts" | "Init",
        )
        | ("dockerspec.HealthcheckConfig" | "network.EndpointIPAMConfig", _) => omitempty,
        ("container.Config", "Healthcheck") => Tag {
            omitempty: true,
            print: Some(&HEALTHCHECK_CONFIG),
            zero: None,
        },
        ("container.HostConfig", "PortBindings") => printed(&PORT_MAP),
        // uint16, uint64.
        ("container.HostConfig", "BlkioWeight" | "IOMaximumIOps" | "IOMaximumBandwidth") => printed(&Shape::Int),
        // [2]uint.
        ("container.HostConfig", "ConsoleSize") => Tag {
            zero: Some(|| J::Arr(vec![J::Int(0), J::Int(0)])),
            ..Tag::default()
        },
        ("network.EndpointSettings", "IPAMConfig") => printed(&IPAM_CONFIG),
        _ => Tag::default(),
    }
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
        ("Spec", Shape::Any),
        ("SkipMountpointCreation", Shape::Bool),
    ],
);

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
        ("PortBindings", Shape::Any),
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
        // [2]uint.
        ("ConsoleSize", Shape::Any),
        ("Annotations", STRING_MAP),
        ("CapAdd", Shape::Any),
        ("CapDrop", Shape::Any),
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
        // uint16.
        ("BlkioWeight", Shape::Any),
        ("BlkioWeightDevice", Shape::Any),
        ("BlkioDeviceReadBps", Shape::Any),
        ("BlkioDeviceWriteBps", Shape::Any),
        ("BlkioDeviceReadIOps", Shape::Any),
        ("BlkioDeviceWriteIOps", Shape::Any),
        ("CpuPeriod", Shape::Int),
        ("CpuQuota", Shape::Int),
        ("CpuRealtimePeriod", Shape::Int),
        ("CpuRealtimeRuntime", Shape::Int),
        ("CpusetCpus", Shape::Str),
        ("CpusetMems", Shape::Str),
        ("Devices", Shape::Any),
        ("DeviceCgroupRules", STRINGS),
        ("DeviceRequests", Shape::Any),
        ("KernelMemory", Shape::Int),
        ("KernelMemoryTCP", Shape::Int),
        ("MemoryReservation", Shape::Int),
        ("MemorySwap", Shape::Int),
        ("MemorySwappiness", Shape::Ptr(&Shape::Int)),
        ("OomKillDisable", Shape::Ptr(&Shape::Bool)),
        ("PidsLimit", Shape::Ptr(&Shape::Int)),
        ("Ulimits", Shape::Any),
        ("CpuCount", Shape::Int),
        ("CpuPercent", Shape::Int),
        // uint64.
        ("IOMaximumIOps", Shape::Any),
        ("IOMaximumBandwidth", Shape::Any),
        // End of Resources.
        ("Mounts", Shape::Any),
        ("MaskedPaths", STRINGS),
        ("ReadonlyPaths", STRINGS),
        ("Init", Shape::Ptr(&Shape::Bool)),
    ],
);
