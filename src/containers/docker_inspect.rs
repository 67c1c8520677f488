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
//! * `SizeRw`, `SizeRootFs` (`--size`) and `Node` are not printed.
//!
//! One value is derived, as dockerd derives it: the `Source` of a local volume that was never
//! mounted (a created container) is empty on disk; dockerd prints the volume's path,
//! `<data-root>/volumes/<name>/_data`, with the node's data root as the other containers'
//! paths name it ([`node_data_root`]).

use super::docker::DockerContainer;
use crate::inspect::gojson::J;

/// Members of `NetworkSettings.Networks.<name>` that dockerd keeps on disk but never prints
/// (its internal `network.EndpointSettings` wrapper).
const INTERNAL_ENDPOINT_FIELDS: [&str; 2] = ["IPAMOperational", "DesiredMacAddress"];

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

/// `container inspect` of `c`; `data_root` is the node's Docker data root ([`node_data_root`]).
pub fn inspect(c: &DockerContainer, data_root: &str) -> J {
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
    out.push(("HostConfig".into(), c.hostconfig.clone().unwrap_or(J::Null)));
    out.push((
        "GraphDriver".into(),
        J::Obj(vec![
            ("Data".into(), c.graph_data.clone().unwrap_or(J::Null)),
            ("Name".into(), string_member(cfg, "Driver")),
        ]),
    ));
    out.push((
        "Mounts".into(),
        J::Arr(c.mount_points().iter().map(|(_, m)| mount(m, data_root)).collect()),
    ));
    out.push(("Config".into(), member(cfg, "Config", J::Null)));
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
        Some(p) => p.clone(),
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
    let networks = match networks {
        J::Obj(members) => J::Obj(
            members
                .into_iter()
                .map(|(name, ep)| {
                    let ep = match ep {
                        J::Obj(m) => J::Obj(
                            m.into_iter()
                                .filter(|(k, _)| !INTERNAL_ENDPOINT_FIELDS.contains(&k.as_str()))
                                .collect(),
                        ),
                        other => other,
                    };
                    (name, ep)
                })
                .collect(),
        ),
        other => other,
    };
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
        }
    }

    #[test]
    fn odd_shapes_give_zero_values_not_panics() {
        for config in [
            "{}",
            r#"{"State":[],"Name":5,"MountPoints":"x","NetworkSettings":null,"ImageManifest":[]}"#,
            r#"{"State":{"Running":"yes","Pid":1e99},"Args":{"a":1},"MountPoints":{"/m":7},"NetworkSettings":{"Networks":[1]}}"#,
        ] {
            let j = inspect(&container(config), "/var/lib/docker");
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
        let j = inspect(&c, &root);
        let mounts = j.get("Mounts").unwrap().items();
        assert_eq!(
            mounts[0].get("Source"),
            Some(&J::str("/data/docker/volumes/vol1/_data"))
        );
        // A name that is not one path component is not made into a path.
        assert_eq!(mounts[1].get("Source"), Some(&J::str("")));
    }
}
