//! `docker container inspect` of a Docker container, from its `config.v2.json` and
//! `hostconfig.json` alone: the body dockerd 28 (API 1.51) builds in `containerInspectCurrent`.
//!
//! ```text
//! Id Created Path Args State{Status,Running,Paused,Restarting,OOMKilled,Dead,Pid,ExitCode,
//! Error,StartedAt,FinishedAt[,Health]} Image ResolvConfPath HostnamePath HostsPath LogPath Name
//! RestartCount Driver Platform MountLabel ProcessLabel AppArmorProfile ExecIDs HostConfig
//! GraphDriver{Data,Name} Mounts[{Type,Name?,Source,Destination,Driver?,Mode,RW,Propagation}]
//! Config NetworkSettings{Bridge,SandboxID,SandboxKey,Ports,HairpinMode,LinkLocalIPv6Address,
//! LinkLocalIPv6PrefixLen,SecondaryIPAddresses,SecondaryIPv6Addresses,EndpointID,Gateway,
//! GlobalIPv6Address,GlobalIPv6PrefixLen,IPAddress,IPPrefixLen,IPv6Gateway,MacAddress,Networks}
//! ImageManifestDescriptor{...,platform}
//! ```
//!
//! What dockerd knows only while it runs, and what is printed for it here:
//! * `State` of a container running at the seizure: what the disk says (`Running: true`, the
//!   `Pid` of a process that no longer exists), which is what dockerd printed live; a restarted
//!   dockerd would instead mark it exited (and maybe restart it by its policy).
//! * `State.Health`: as on disk, which dockerd 28 does not keep current (stale or null).
//! * `ExecIDs`: `null` (exec sessions live in dockerd's memory only).
//! * `NetworkSettings`: as last saved; for a running container that is the live sandbox's
//!   (`SandboxKey` names a namespace gone with the node).
//! * `GraphDriver.Data`: `null` under the containerd snapshotters, as dockerd prints it; for
//!   the `overlay2` graph driver, the layer dirs as dockerd derives them from its layer store
//!   ([`super::graph_driver::overlay2_data`]; not checked against a live dockerd here).
//! * `SizeRw`, `SizeRootFs` (`--size`): measured now, as dockerd measures them
//!   ([`super::size`]); `Node` is not printed.
//!
//! One value is derived, as dockerd derives it: the `Source` of a local volume that was never
//! mounted (a created container) is empty on disk; dockerd prints the volume's path,
//! `<data-root>/volumes/<name>/_data`, with the node's data root as the other containers'
//! paths name it ([`node_data_root`]).

use super::docker::DockerContainer;
use super::moby;
use crate::image::goshape::{Shape, marshal};
use crate::inspect::gojson::J;

/// `NetworkSettings.Networks` as the API prints it: each the API's `EndpointSettings`, without
/// the two fields dockerd's own wrapper keeps on disk (`IPAMOperational`, `DesiredMacAddress`).
static NETWORKS: Shape = Shape::Map(&Shape::Ptr(&moby::API_ENDPOINT));

/// The default network's fields that API 1.51 still repeats at the top of NetworkSettings.
const DEFAULT_NETWORK_FIELDS: [(&str, J); 8] = [
    ("EndpointID", J::Null),
    ("Gateway", J::Null),
    ("GlobalIPv6Address", J::Null),
    ("GlobalIPv6PrefixLen", J::Int(0)),
    ("IPAddress", J::Null),
    ("IPPrefixLen", J::Int(0)),
    ("IPv6Gateway", J::Null),
    ("MacAddress", J::Null),
];

fn member(j: &J, key: &str, zero: J) -> J {
    j.get(key).cloned().unwrap_or(zero)
}

fn string_member(j: &J, key: &str) -> J {
    member(j, key, J::str(""))
}

/// The node's own path of its Docker data root (`/var/lib/docker`), as the containers' saved
/// paths (`<root>/containers/<id>/hostname`) name it; `/var/lib/docker` when none does.
pub fn node_data_root(containers: &[&DockerContainer]) -> String {
    for c in containers {
        for key in ["LogPath", "HostnamePath", "HostsPath", "ResolvConfPath"] {
            let p = c.config.get(key).and_then(J::as_str).unwrap_or_default();
            let marker = format!("/containers/{}/", c.id);
            if let Some(at) = p.find(&marker)
                && let Some(root) = p.get(..at)
                && root.starts_with('/')
            {
                return root.to_string();
            }
        }
    }
    "/var/lib/docker".into()
}

/// `container inspect` of `c`; `data_root` is the node's Docker data root ([`node_data_root`]);
/// `size` its SizeRw and SizeRootFs, with `--size`.
pub fn inspect(c: &DockerContainer, data_root: &str, size: Option<&super::size::LayerSize>) -> J {
    let cfg = &c.config;
    let state = c.state();
    let mut st = vec![
        ("Status".to_string(), J::str(state.status_word())),
        ("Running".into(), J::Bool(state.running)),
        ("Paused".into(), J::Bool(state.paused)),
        ("Restarting".into(), J::Bool(state.restarting)),
        ("OOMKilled".into(), J::Bool(state.oom_killed)),
        ("Dead".into(), J::Bool(state.dead)),
        ("Pid".into(), J::Int(state.pid)),
        ("ExitCode".into(), J::Int(state.exit_code)),
        ("Error".into(), J::str(state.error.clone())),
        ("StartedAt".into(), J::str(state.started_at.clone())),
        ("FinishedAt".into(), J::str(state.finished_at.clone())),
    ];
    if let Some(h) = state.health {
        // dockerd copies the log into a fresh slice: none is printed `[]`.
        let h = match marshal(&h, &moby::HEALTH, moby::tag) {
            J::Obj(mut members) => {
                for (k, v) in &mut members {
                    if k == "Log" && *v == J::Null {
                        *v = J::Arr(Vec::new());
                    }
                }
                J::Obj(members)
            }
            other => other,
        };
        st.push(("Health".into(), h));
    }
    let mut out: Vec<(String, J)> = vec![
        ("Id".into(), J::str(c.id.clone())),
        ("Created".into(), string_member(cfg, "Created")),
        ("Path".into(), string_member(cfg, "Path")),
        ("Args".into(), member(cfg, "Args", J::Null)),
        ("State".into(), J::Obj(st)),
        ("Image".into(), string_member(cfg, "Image")),
    ];
    for key in ["ResolvConfPath", "HostnamePath", "HostsPath", "LogPath", "Name"] {
        out.push((key.into(), string_member(cfg, key)));
    }
    out.push(("RestartCount".into(), J::Int(c.restart_count())));
    out.push(("Driver".into(), string_member(cfg, "Driver")));
    out.push(("Platform".into(), string_member(cfg, "OS")));
    for key in ["MountLabel", "ProcessLabel", "AppArmorProfile"] {
        out.push((key.into(), string_member(cfg, key)));
    }
    out.push(("ExecIDs".into(), J::Null));
    // Config and HostConfig as dockerd's encoding/json prints its structs, whatever order
    // and whichever fields the files have.
    let hostconfig = c.hostconfig.as_ref().map(|h| marshal(h, &moby::HOST_CONFIG, moby::tag));
    out.push(("HostConfig".into(), hostconfig.unwrap_or(J::Null)));
    out.push((
        "GraphDriver".into(),
        J::Obj(vec![
            ("Data".into(), c.graph_data.clone().unwrap_or(J::Null)),
            ("Name".into(), string_member(cfg, "Driver")),
        ]),
    ));
    // `*int64` with omitempty in ContainerJSONBase: there with `--size` only.
    if let Some(s) = size {
        out.push(("SizeRw".into(), J::Int(s.rw)));
        out.push(("SizeRootFs".into(), J::Int(s.root_fs)));
    }
    out.push((
        "Mounts".into(),
        J::Arr(c.mount_points().iter().map(|(_, m)| mount(m, data_root)).collect()),
    ));
    out.push((
        "Config".into(),
        marshal(&member(cfg, "Config", J::Null), &moby::CONFIG, moby::tag),
    ));
    out.push((
        "NetworkSettings".into(),
        network_settings(cfg.get("NetworkSettings").unwrap_or(&J::Null)),
    ));
    if let Some(d) = manifest_descriptor(cfg) {
        out.push(("ImageManifestDescriptor".into(), d));
    }
    J::Obj(out)
}

/// One of `MountPoints` as the API's `MountPoint` (its `Mode` is written `Relabel` on disk).
fn mount(m: &J, data_root: &str) -> J {
    let text = |k: &str| m.get(k).and_then(J::as_str).unwrap_or_default();
    let mut out = vec![("Type".to_string(), string_member(m, "Type"))];
    let name = string_member(m, "Name");
    if name != J::str("") {
        out.push(("Name".into(), name));
    }
    let mut source = text("Source").to_string();
    let volume = text("Name");
    if source.is_empty()
        && text("Type") == "volume"
        && text("Driver") == "local"
        && !volume.is_empty()
        && !volume.contains('/')
        && volume != "."
        && volume != ".."
    {
        source = format!("{data_root}/volumes/{volume}/_data");
    }
    out.push(("Source".into(), J::Str(source)));
    out.push(("Destination".into(), string_member(m, "Destination")));
    let driver = string_member(m, "Driver");
    if driver != J::str("") {
        out.push(("Driver".into(), driver));
    }
    out.push(("Mode".into(), string_member(m, "Relabel")));
    out.push(("RW".into(), member(m, "RW", J::Bool(false))));
    out.push(("Propagation".into(), string_member(m, "Propagation")));
    J::Obj(out)
}

fn network_settings(ns: &J) -> J {
    let mut out = Vec::new();
    for key in ["Bridge", "SandboxID", "SandboxKey"] {
        out.push((key.to_string(), string_member(ns, key)));
    }
    // A container that never ran has no port map: the API prints an empty one.
    let ports = match ns.get("Ports") {
        None | Some(J::Null) => J::Obj(Vec::new()),
        Some(p) => marshal(p, &moby::PORT_MAP, moby::tag),
    };
    out.push(("Ports".into(), ports));
    out.push(("HairpinMode".into(), member(ns, "HairpinMode", J::Bool(false))));
    out.push(("LinkLocalIPv6Address".into(), string_member(ns, "LinkLocalIPv6Address")));
    out.push((
        "LinkLocalIPv6PrefixLen".into(),
        member(ns, "LinkLocalIPv6PrefixLen", J::Int(0)),
    ));
    out.push((
        "SecondaryIPAddresses".into(),
        member(ns, "SecondaryIPAddresses", J::Null),
    ));
    out.push((
        "SecondaryIPv6Addresses".into(),
        member(ns, "SecondaryIPv6Addresses", J::Null),
    ));
    let networks = ns.get("Networks").cloned().unwrap_or(J::Null);
    let bridge = networks.get("bridge");
    for (key, zero) in DEFAULT_NETWORK_FIELDS {
        let zero = if zero == J::Null { J::str("") } else { zero };
        let v = bridge.and_then(|b| b.get(key)).cloned().unwrap_or(zero);
        out.push((key.into(), v));
    }
    let networks = marshal(&networks, &NETWORKS, moby::tag);
    out.push(("Networks".into(), networks));
    J::Obj(out)
}

/// `ImageManifest` with the container's `ImagePlatform` as its platform when it has none.
fn manifest_descriptor(cfg: &J) -> Option<J> {
    let J::Obj(members) = cfg.get("ImageManifest")? else {
        return None;
    };
    if members.iter().any(|(k, _)| k == "platform") {
        return Some(J::Obj(members.clone()));
    }
    let platform = cfg.get("ImagePlatform").cloned().unwrap_or(J::Null);
    let mut out: Vec<(String, J)> = Vec::with_capacity(members.len() + 1);
    let mut placed = false;
    for (k, v) in members {
        // OCI's Descriptor puts platform before artifactType.
        if k == "artifactType" && !placed {
            out.push(("platform".into(), platform.clone()));
            placed = true;
        }
        out.push((k.clone(), v.clone()));
    }
    if !placed {
        out.push(("platform".into(), platform));
    }
    Some(J::Obj(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::gojson::parse;

    fn container(config: &str) -> DockerContainer {
        DockerContainer {
            id: "a".repeat(64),
            dir: std::path::PathBuf::from("/x"),
            config: parse(config.as_bytes()).unwrap(),
            hostconfig: None,
            graph_data: None,
            misplaced: false,
        }
    }

    #[test]
    fn odd_shapes_give_zero_values_not_panics() {
        for config in [
            "{}",
            r#"{"State":[],"Name":5,"MountPoints":"x","NetworkSettings":null,"ImageManifest":[]}"#,
            r#"{"State":{"Running":"yes","Pid":1e99},"Args":{"a":1},"MountPoints":{"/m":7},"NetworkSettings":{"Networks":[1]}}"#,
        ] {
            let j = inspect(&container(config), "/var/lib/docker", None);
            assert_eq!(j.at(&["State", "Status"]), Some(&J::str("created")), "{config}");
            assert_eq!(j.get("HostConfig"), Some(&J::Null));
        }
    }

    #[test]
    fn never_mounted_local_volume_gets_its_data_root_path() {
        let c = container(
            r#"{"ID":"x","LogPath":"/data/docker/containers/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/aaaa-json.log",
                "MountPoints":{"/v":{"Source":"","Destination":"/v","RW":true,"Name":"vol1","Driver":"local","Type":"volume"},
                               "/w":{"Source":"","Destination":"/w","RW":true,"Name":"../etc","Driver":"local","Type":"volume"}}}"#,
        );
        let root = node_data_root(&[&c]);
        assert_eq!(root, "/data/docker");
        let j = inspect(&c, &root, None);
        let mounts = j.get("Mounts").unwrap().items();
        assert_eq!(
            mounts[0].get("Source"),
            Some(&J::str("/data/docker/volumes/vol1/_data"))
        );
        // A name that is not one path component is not made into a path.
        assert_eq!(mounts[1].get("Source"), Some(&J::str("")));
    }

    /// The fields whose Go types were kept as the file had them before (strslice.StrSlice,
    /// unsigned integers, `[2]uint`, the device, ulimit and mount lists) decoded and printed
    /// by those types: a `Cmd` or `CapAdd` given as one string prints as a list of one, an
    /// array too short for `ConsoleSize` is filled with 0, the mounts' empty fields are left
    /// out as their `omitempty` tags say. The expected lines are what a Go 1.19.8 program
    /// printed: `json.Unmarshal` of the same input into structs with the fields, types and
    /// tags of moby v28.5.1's `container.Config` and `container.HostConfig` (a `StrSlice`
    /// with moby's `UnmarshalJSON`; `mount.Mount`, `blkiodev`, go-units' `Ulimit`), then
    /// `json.Marshal`.
    #[test]
    fn typed_fields_print_as_their_go_types_print() {
        use crate::image::goshape::unmarshal_all;
        let config = r#"{"Hostname":"h","Cmd":"sh -c 'echo <hi>'","Entrypoint":["/e",null],"Shell":[],"Healthcheck":{"Interval":30000000000,"Test":["CMD-SHELL","true"]},"StopTimeout":10}"#;
        let hostconfig = r#"{"CapAdd":"NET_ADMIN","CapDrop":["ALL"],"ConsoleSize":[24],"BlkioWeight":300,"BlkioWeightDevice":[{"Weight":10,"Path":"/dev/sda"},null],"BlkioDeviceReadBps":[{"Path":"/dev/sda","Rate":18446744073709551615}],"Devices":[{"PathOnHost":"/dev/fuse","CgroupPermissions":"rwm"}],"DeviceRequests":[{"Count":-1,"Capabilities":[["gpu"]],"Options":{"b":"1","a":"2"}}],"Ulimits":[{"Soft":1024,"Name":"nofile","Hard":2048}],"IOMaximumBandwidth":5,"Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"Mode":1023,"SizeBytes":0,"Options":[["exec"]]}},{"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"NoCopy":false,"Labels":{},"DriverConfig":{"Name":"local"}},"ClusterOptions":{}},{"Type":"bind","BindOptions":{"Propagation":"rslave"},"ReadOnly":true}]}"#;
        let raw = format!(r#"{{"Config":{config}}}"#);
        let (decoded, refused) =
            unmarshal_all(&parse(raw.as_bytes()).unwrap(), &moby::CONTAINER, "container.Container");
        assert_eq!(refused, []);
        let (host, refused) = unmarshal_all(
            &parse(hostconfig.as_bytes()).unwrap(),
            &moby::HOST_CONFIG,
            "container.HostConfig",
        );
        assert_eq!(refused, []);
        let mut c = container("{}");
        c.config = decoded;
        c.hostconfig = Some(host);
        let j = inspect(&c, "/var/lib/docker", None);
        let printed = |path: &[&str]| j.at(path).unwrap().to_compact(true);
        assert_eq!(
            printed(&["Config"]),
            r#"{"Hostname":"h","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh -c 'echo \u003chi\u003e'"],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000},"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":["/e",""],"OnBuild":null,"Labels":null,"StopTimeout":10}"#
        );
        assert_eq!(
            printed(&["HostConfig"]),
            r#"{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":null},"NetworkMode":"","PortBindings":null,"RestartPolicy":{"Name":"","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[24,0],"CapAdd":["NET_ADMIN"],"CapDrop":["ALL"],"CgroupnsMode":"","Dns":null,"DnsOptions":null,"DnsSearch":null,"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":300,"BlkioWeightDevice":[{"Path":"/dev/sda","Weight":10},null],"BlkioDeviceReadBps":[{"Path":"/dev/sda","Rate":18446744073709551615}],"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[{"PathOnHost":"/dev/fuse","PathInContainer":"","CgroupPermissions":"rwm"}],"DeviceCgroupRules":null,"DeviceRequests":[{"Driver":"","Count":-1,"DeviceIDs":null,"Capabilities":[["gpu"]],"Options":{"a":"2","b":"1"}}],"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":5,"Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"Mode":1023,"Options":[["exec"]]}},{"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"DriverConfig":{"Name":"local"}},"ClusterOptions":{}},{"Type":"bind","ReadOnly":true,"BindOptions":{"Propagation":"rslave"}}],"MaskedPaths":null,"ReadonlyPaths":null}"#
        );
    }

    /// Config, HostConfig and the networks printed as dockerd's encoding/json prints them
    /// whatever the files' key order, missing fields and map order. The expected lines are
    /// what a Go 1.19 program printed (`json.Unmarshal` of the same input into structs with
    /// the fields and tags of moby v28.5.1's `container.Config`, `container.HostConfig` and
    /// `network.EndpointSettings`, then `json.Marshal`); no Go code is kept in the repository.
    #[test]
    fn structs_print_in_go_order_with_zero_values_and_sorted_maps() {
        use crate::image::goshape::unmarshal_all;
        let config = r#"{"Shell":[],"StopSignal":"","Labels":{"z":"1","b":"2","A":"3","\u00e9":"4","Z":"5"},"Volumes":{"/b":{},"/a":{}},"Image":"alpine","Healthcheck":{"Retries":3,"Test":["CMD","true"]},"Cmd":["sh"],"Env":null,"ExposedPorts":{"9/tcp":{},"10/tcp":{},"1/tcp":{}},"Hostname":"h"}"#;
        let hostconfig = r#"{"ReadonlyPaths":["/r"],"Init":true,"Runtime":"","Sysctls":{},"Tmpfs":{"/b":"","/a":"x"},"PidsLimit":null,"IOMaximumIOps":7,"Memory":5,"Privileged":true,"PortBindings":{"9/tcp":[{"HostPort":"80","HostIp":""}],"10/tcp":[]},"LogConfig":{"Config":{"max-size":"1m","a":"b"},"Type":"json-file"},"NetworkMode":"bridge","Binds":null}"#;
        let networks = r#"{"b":{"IPAMOperational":true,"DNSNames":["x"],"IPAddress":"10.0.0.2","DriverOpts":{"z":"1","a":"2"},"IPAMConfig":{"LinkLocalIPs":[],"IPv4Address":"10.0.0.2"}},"a":null}"#;
        let raw = format!(r#"{{"NetworkSettings":{{"Networks":{networks}}},"Config":{config}}}"#);
        let (decoded, refused) =
            unmarshal_all(&parse(raw.as_bytes()).unwrap(), &moby::CONTAINER, "container.Container");
        assert!(refused.is_empty());
        let (host, refused) = unmarshal_all(
            &parse(hostconfig.as_bytes()).unwrap(),
            &moby::HOST_CONFIG,
            "container.HostConfig",
        );
        assert!(refused.is_empty());
        let mut c = container("{}");
        c.config = decoded;
        c.hostconfig = Some(host);
        let j = inspect(&c, "/var/lib/docker", None);
        let printed = |path: &[&str]| j.at(path).unwrap().to_compact(true);
        assert_eq!(
            printed(&["Config"]),
            r#"{"Hostname":"h","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"1/tcp":{},"10/tcp":{},"9/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Healthcheck":{"Test":["CMD","true"],"Retries":3},"Image":"alpine","Volumes":{"/a":{},"/b":{}},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"A":"3","Z":"5","b":"2","z":"1","é":"4"}}"#
        );
        assert_eq!(
            printed(&["HostConfig"]),
            r#"{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{"a":"b","max-size":"1m"}},"NetworkMode":"bridge","PortBindings":{"10/tcp":[],"9/tcp":[{"HostIp":"","HostPort":"80"}]},"RestartPolicy":{"Name":"","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":null,"DnsOptions":null,"DnsSearch":null,"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":true,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"Tmpfs":{"/a":"x","/b":""},"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":5,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":7,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":["/r"],"Init":true}"#
        );
        assert_eq!(
            printed(&["NetworkSettings", "Networks"]),
            r#"{"a":null,"b":{"IPAMConfig":{"IPv4Address":"10.0.0.2"},"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":{"a":"2","z":"1"},"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"10.0.0.2","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":["x"]}}"#
        );
    }
}
