//! The methods of moby's API types that a `container inspect -f` template can call, written
//! from their Go semantics (moby v28.5.1 `api/types/container/hostconfig.go` and
//! `hostconfig_unix.go`, the vendored `go-connections/nat/nat.go`):
//!
//! ```text
//! NetworkMode   IsNone IsDefault IsPrivate IsContainer ConnectedContainer UserDefined
//!               IsBridge IsHost IsUserDefined NetworkName
//! IpcMode       IsPrivate IsHost IsShareable IsContainer IsNone IsEmpty Valid Container
//! PidMode       IsPrivate IsHost IsContainer Valid Container
//! UTSMode       IsPrivate IsHost Valid        UsernsMode  IsHost IsPrivate Valid
//! CgroupnsMode  IsPrivate IsHost IsEmpty Valid
//! CgroupSpec    IsContainer Valid Container   Isolation   IsDefault IsHyperV IsProcess IsValid
//! RestartPolicy IsNone IsAlways IsOnFailure IsUnlessStopped IsSame(*RestartPolicy)
//! nat.Port      Proto Port Int Range (three results: Go's templates refuse to call it)
//! *units.Ulimit, *blkiodev.WeightDevice, *ThrottleDevice   String (fmt prints them by it)
//! *network.EndpointSettings, *EndpointIPAMConfig           Copy
//! fs.FileMode   String (fmt prints it by it) IsDir IsRegular Perm Type
//! ```
//!
//! A mode `container:<id or name>` names another container (moby's `containerID`): the text
//! after the first `:` when the text before it is `container`.

use crate::template::{MethodDef, Type, Value};
use std::rc::Rc;

/// The receiver's string, `""` for any other value (the tables below put each method on a
/// string type only).
fn text(v: &Value) -> &str {
    match v {
        Value::Str(s, _) => s,
        _ => "",
    }
}

fn yes(b: bool) -> Result<Value, String> {
    Ok(Value::Bool(b))
}

fn string(s: &str) -> Result<Value, String> {
    Ok(Value::string(s))
}

/// `container:<id or name>`: what follows, and whether the mode has that form.
fn container_id(mode: &str) -> Option<&str> {
    match mode.split_once(':') {
        Some(("container", rest)) => Some(rest),
        _ => None,
    }
}

const fn is(name: &'static str, call: fn(&Value, &[Value]) -> Result<Value, String>) -> MethodDef {
    MethodDef {
        name,
        params: &[],
        results: 1,
        call,
    }
}

fn is_container(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(container_id(text(v)).is_some())
}
fn container(v: &Value, _: &[Value]) -> Result<Value, String> {
    string(container_id(text(v)).unwrap_or(""))
}
fn is_host(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "host")
}
fn is_private_not_host(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) != "host")
}
fn is_none(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "none")
}
fn is_empty(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v).is_empty())
}
fn is_private_word(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "private")
}
/// UTSMode's and UsernsMode's `Valid`: unset or `host`.
fn valid_unset_or_host(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(matches!(text(v), "" | "host"))
}

// NetworkMode: the predefined networks are `default`, `bridge`, `host` and `none` (Linux);
// any other name that is not `container:...` is a user-defined network.
fn network_kind(mode: &str) -> Option<&'static str> {
    match mode {
        "default" | "bridge" | "host" | "none" => Some(match mode {
            "default" => "default",
            "bridge" => "bridge",
            "host" => "host",
            _ => "none",
        }),
        _ if container_id(mode).is_some() => Some("container"),
        _ => None,
    }
}
fn net_is_default(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "default")
}
fn net_is_bridge(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "bridge")
}
fn net_is_private(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(m != "host" && container_id(m).is_none())
}
fn net_is_user_defined(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(network_kind(text(v)).is_none())
}
fn net_user_defined(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    string(if network_kind(m).is_none() { m } else { "" })
}
fn net_name(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    string(network_kind(m).unwrap_or(m))
}

pub static NETWORK_MODE: &[MethodDef] = &[
    is("IsNone", is_none),
    is("IsDefault", net_is_default),
    is("IsPrivate", net_is_private),
    is("IsContainer", is_container),
    is("ConnectedContainer", container),
    is("UserDefined", net_user_defined),
    is("IsBridge", net_is_bridge),
    is("IsHost", is_host),
    is("IsUserDefined", net_is_user_defined),
    is("NetworkName", net_name),
];

fn ipc_is_shareable(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v) == "shareable")
}
fn ipc_valid(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(matches!(m, "" | "none" | "private" | "host" | "shareable") || container_id(m).is_some())
}

pub static IPC_MODE: &[MethodDef] = &[
    is("IsPrivate", is_private_word),
    is("IsHost", is_host),
    is("IsShareable", ipc_is_shareable),
    is("IsContainer", is_container),
    is("IsNone", is_none),
    is("IsEmpty", is_empty),
    is("Valid", ipc_valid),
    is("Container", container),
];

fn pid_is_private(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(m != "host" && container_id(m).is_none())
}
/// Unset, `host`, or `container:` with a name.
fn pid_valid(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(matches!(m, "" | "host") || container_id(m).is_some_and(|id| !id.is_empty()))
}

pub static PID_MODE: &[MethodDef] = &[
    is("IsPrivate", pid_is_private),
    is("IsHost", is_host),
    is("IsContainer", is_container),
    is("Valid", pid_valid),
    is("Container", container),
];

pub static UTS_MODE: &[MethodDef] = &[
    is("IsPrivate", is_private_not_host),
    is("IsHost", is_host),
    is("Valid", valid_unset_or_host),
];

pub static USERNS_MODE: &[MethodDef] = &[
    is("IsHost", is_host),
    is("IsPrivate", is_private_not_host),
    is("Valid", valid_unset_or_host),
];

fn cgroupns_valid(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(matches!(text(v), "" | "private" | "host"))
}

pub static CGROUPNS_MODE: &[MethodDef] = &[
    is("IsPrivate", is_private_word),
    is("IsHost", is_host),
    is("IsEmpty", is_empty),
    is("Valid", cgroupns_valid),
];

fn cgroup_valid(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(m.is_empty() || container_id(m).is_some())
}

pub static CGROUP_SPEC: &[MethodDef] = &[
    is("IsContainer", is_container),
    is("Valid", cgroup_valid),
    is("Container", container),
];

// Isolation compares lowercased (Go's `strings.ToLower`). The only non-ASCII letters that
// lowercase to ASCII ones are U+0130 (to `i`) and U+212A (to `k`), in none of these words,
// so an ASCII case-insensitive comparison gives the same answers.
fn iso_is_default(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = text(v);
    yes(m.is_empty() || m.eq_ignore_ascii_case("default"))
}
fn iso_is_hyperv(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v).eq_ignore_ascii_case("hyperv"))
}
fn iso_is_process(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(text(v).eq_ignore_ascii_case("process"))
}

pub static ISOLATION: &[MethodDef] = &[
    is("IsDefault", iso_is_default),
    is("IsHyperV", iso_is_hyperv),
    is("IsProcess", iso_is_process),
    // Linux's: valid is the default.
    is("IsValid", iso_is_default),
];

/// What dereferencing a nil pointer fails with, as a template call reports Go's panic.
const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// A `RestartPolicy`'s `Name` and `MaximumRetryCount` (its two fields, in that order); a
/// nil receiver is dereferenced, as in Go.
fn policy(v: &Value) -> Result<(&str, i64), String> {
    match v {
        Value::Struct(f, _) => Ok((
            f.first().map_or("", text),
            match f.get(1) {
                Some(Value::Int(i, _)) => *i,
                _ => 0,
            },
        )),
        _ => Err(NIL_DEREF.into()),
    }
}
fn rp_is_none(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(matches!(policy(v)?.0, "no" | ""))
}
fn rp_is_always(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v)?.0 == "always")
}
fn rp_is_on_failure(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v)?.0 == "on-failure")
}
fn rp_is_unless_stopped(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v)?.0 == "unless-stopped")
}
/// `IsSame(*RestartPolicy)`: a nil argument is dereferenced too.
fn rp_is_same(v: &Value, args: &[Value]) -> Result<Value, String> {
    let mine = policy(v)?;
    match args.first() {
        Some(Value::Ptr(Some(other), _)) => yes(mine == policy(other)?),
        _ => Err(NIL_DEREF.into()),
    }
}

/// The fields of a struct receiver, none for a nil one.
fn fields(v: &Value) -> &[Value] {
    match v {
        Value::Struct(f, _) => f,
        _ => &[],
    }
}

fn number(v: Option<&Value>) -> String {
    match v {
        Some(Value::Int(i, _)) => i.to_string(),
        Some(Value::Uint(u, _)) => u.to_string(),
        _ => "0".into(),
    }
}

/// `*units.Ulimit`'s `String`: `name=soft:hard` (its fields are Name, Hard, Soft).
fn ulimit_string(v: &Value, _: &[Value]) -> Result<Value, String> {
    let f = fields(v);
    let name = f.first().map_or("", text);
    string(&format!("{name}={}:{}", number(f.get(2)), number(f.get(1))))
}

/// `*blkiodev.WeightDevice`'s and `ThrottleDevice`'s `String`: `path:number`.
fn device_string(v: &Value, _: &[Value]) -> Result<Value, String> {
    let f = fields(v);
    string(&format!("{}:{}", f.first().map_or("", text), number(f.get(1))))
}

/// `formatter.Platform`'s `String` (docker/cli, a value receiver): containerd's
/// `platforms.FormatAll` of the embedded `ocispec.Platform` (Architecture, OS, OSVersion,
/// OSFeatures, Variant): `unknown` without an OS, else `path.Join` of `os` (`os(version)`
/// with an OS version), the architecture and the variant.
fn platform_string(v: &Value, _: &[Value]) -> Result<Value, String> {
    let p = fields(v).first().map(fields).unwrap_or_default();
    let field = |i: usize| p.get(i).map_or("", text);
    let (arch, os, version, variant) = (field(0), field(1), field(2), field(4));
    if os.is_empty() {
        return string("unknown");
    }
    let os = if version.is_empty() {
        os.to_string()
    } else {
        format!("{os}({version})")
    };
    string(&go_path_join(&[&os, arch, variant]))
}

/// Go's `path.Join`: the non-empty elements joined by `/`, then `path.Clean`ed (no empty or
/// `.` elements, `..` taking the one before it, `.` for nothing left).
fn go_path_join(elements: &[&str]) -> String {
    let joined = elements
        .iter()
        .filter(|e| !e.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if joined.is_empty() {
        return joined;
    }
    let rooted = joined.starts_with('/');
    let mut kept: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." if kept.last().is_some_and(|l| *l != "..") => {
                kept.pop();
            }
            ".." if rooted => {}
            other => kept.push(other),
        }
    }
    let body = kept.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

pub static ULIMIT: &[MethodDef] = &[is("String", ulimit_string)];
pub static FORMATTER_PLATFORM: &[MethodDef] = &[is("String", platform_string)];
pub static DEVICE: &[MethodDef] = &[is("String", device_string)];

/// `Copy` of `*network.EndpointSettings` and `*EndpointIPAMConfig`: a pointer to an equal
/// value, which prints as the original does; a nil receiver is dereferenced, as in Go.
fn copy_of(v: &Value, ptr: &'static Type) -> Result<Value, String> {
    match v {
        Value::Struct(..) => Ok(Value::Ptr(Some(Rc::new(v.clone())), ptr)),
        _ => Err(NIL_DEREF.into()),
    }
}
fn endpoint_copy(v: &Value, _: &[Value]) -> Result<Value, String> {
    copy_of(v, &super::gotypes::ENDPOINT_PTR)
}
fn ipam_copy(v: &Value, _: &[Value]) -> Result<Value, String> {
    copy_of(v, &super::gotypes::IPAM_CONFIG_PTR)
}

pub static ENDPOINT: &[MethodDef] = &[is("Copy", endpoint_copy)];
pub static IPAM_CONFIG: &[MethodDef] = &[is("Copy", ipam_copy)];

pub static RESTART_POLICY: &[MethodDef] = &[
    is("IsNone", rp_is_none),
    is("IsAlways", rp_is_always),
    is("IsOnFailure", rp_is_on_failure),
    is("IsUnlessStopped", rp_is_unless_stopped),
    MethodDef {
        name: "IsSame",
        params: &[&super::gotypes::RESTART_POLICY_PTR],
        results: 1,
        call: rp_is_same,
    },
];

/// nat's `SplitProtoPort`: `80/tcp` is (`tcp`, `80`); no protocol is `tcp`; an empty text or
/// port is ("", "").
pub(crate) fn split_proto_port(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or("");
    if raw.is_empty() || port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(proto) => (proto, port),
    }
}
fn port_proto(v: &Value, _: &[Value]) -> Result<Value, String> {
    string(split_proto_port(text(v)).0)
}
fn port_port(v: &Value, _: &[Value]) -> Result<Value, String> {
    string(split_proto_port(text(v)).1)
}
/// The port as a number; 0 when it is not a decimal 16-bit number (nat ignores the error).
fn port_int(v: &Value, _: &[Value]) -> Result<Value, String> {
    let p = split_proto_port(text(v)).1;
    // Go's ParseUint takes digits only, no sign.
    let n = if p.bytes().all(|b| b.is_ascii_digit()) {
        p.parse::<u16>().map_or(0, i64::from)
    } else {
        0
    };
    Ok(Value::int(n))
}
fn port_range(_: &Value, _: &[Value]) -> Result<Value, String> {
    Err("Range has three results".into())
}

pub static PORT: &[MethodDef] = &[
    is("Proto", port_proto),
    is("Port", port_port),
    is("Int", port_int),
    MethodDef {
        name: "Range",
        params: &[],
        results: 3,
        call: port_range,
    },
];

/// `os.FileMode` (`fs.FileMode`, a uint32): `TmpfsOptions.Mode`.
pub static FILE_MODE: Type = Type::Named("fs.FileMode", &Type::Uint, FILE_MODE_METHODS);

/// The mode's type and flag bits, from bit 31 down, and the letter `String` shows for each.
const MODE_LETTERS: [(u32, char); 13] = [
    (31, 'd'),
    (30, 'a'),
    (29, 'l'),
    (28, 'T'),
    (27, 'L'),
    (26, 'D'),
    (25, 'p'),
    (24, 'S'),
    (23, 'u'),
    (22, 'g'),
    (21, 'c'),
    (20, 't'),
    (19, '?'),
];
/// The bits that say what kind of file it is: directory, symlink, named pipe, socket,
/// device, char device, irregular.
const MODE_TYPE: u64 = (1 << 31) | (1 << 27) | (1 << 25) | (1 << 24) | (1 << 26) | (1 << 21) | (1 << 19);

fn mode(v: &Value) -> u64 {
    match v {
        Value::Uint(u, _) => *u,
        _ => 0,
    }
}

/// `-rwxr-xr-x`: a letter for each type or flag bit set (`-` for none), then `rwx` or `-`
/// for each of the nine permission bits.
fn mode_string(v: &Value, _: &[Value]) -> Result<Value, String> {
    let m = mode(v);
    let mut out: String = MODE_LETTERS
        .iter()
        .filter(|(bit, _)| m & (1 << bit) != 0)
        .map(|(_, c)| *c)
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        out.push(if m & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    string(&out)
}
fn mode_is_dir(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(mode(v) & (1 << 31) != 0)
}
fn mode_is_regular(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(mode(v) & MODE_TYPE == 0)
}
fn mode_perm(v: &Value, _: &[Value]) -> Result<Value, String> {
    Ok(Value::Uint(mode(v) & 0o777, &FILE_MODE))
}
fn mode_type(v: &Value, _: &[Value]) -> Result<Value, String> {
    Ok(Value::Uint(mode(v) & MODE_TYPE, &FILE_MODE))
}

static FILE_MODE_METHODS: &[MethodDef] = &[
    is("String", mode_string),
    is("IsDir", mode_is_dir),
    is("IsRegular", mode_is_regular),
    is("Perm", mode_perm),
    is("Type", mode_type),
];

#[cfg(test)]
mod tests {
    use crate::containers::gotypes::inspect_response;
    use crate::template::{MissingKey, Template};

    /// Six `container inspect` bodies (only the members these templates read) whose modes,
    /// ports and console sizes cover each method's cases.
    const BODIES: &str = r#"[{"HostConfig": {"NetworkMode": "container:abc:def", "IpcMode": "container:web", "PidMode": "container:", "UTSMode": "host", "UsernsMode": "host", "CgroupnsMode": "private", "Cgroup": "container:x", "Isolation": "HyperV", "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "ConsoleSize": [24, 80, 5], "PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "53/udp": null, "8000-8010": []}, "CapAdd": null, "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}, {"HostConfig": {"NetworkMode": "mynet", "IpcMode": "shareable", "PidMode": "host", "UTSMode": "", "UsernsMode": "", "CgroupnsMode": "", "Cgroup": "", "Isolation": "Default", "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}, "ConsoleSize": [7], "PortBindings": null, "CapAdd": ["NET_ADMIN", "SYS_TIME"], "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}, {"HostConfig": {"NetworkMode": "bridge", "IpcMode": "", "PidMode": "", "UTSMode": "x", "UsernsMode": "y", "CgroupnsMode": "host", "Cgroup": "foo", "Isolation": "process", "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "ConsoleSize": null, "PortBindings": {}, "CapAdd": null, "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}, {"HostConfig": {"NetworkMode": "", "IpcMode": "none", "PidMode": "container:p1", "UTSMode": "", "UsernsMode": "", "CgroupnsMode": "host", "Cgroup": "", "Isolation": "", "RestartPolicy": {"Name": "always"}, "ConsoleSize": [0, 0], "PortBindings": {}, "CapAdd": null, "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}, {"HostConfig": {"NetworkMode": "default", "IpcMode": "host", "PidMode": "", "UTSMode": "", "UsernsMode": "", "CgroupnsMode": "host", "Cgroup": "", "Isolation": "", "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}, "ConsoleSize": [0, 0], "PortBindings": {}, "CapAdd": null, "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}, {"HostConfig": {"NetworkMode": "host", "IpcMode": "private", "PidMode": "", "UTSMode": "", "UsernsMode": "", "CgroupnsMode": "host", "Cgroup": "", "Isolation": "", "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}, "ConsoleSize": [0, 0], "PortBindings": {}, "CapAdd": null, "CapDrop": null}, "Config": {"Cmd": ["serve", "--port", "8080"], "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "/tcp": null, "abc": [], "70000/udp": null, "90/": [], "": null, "0091/sctp": null, "+5/tcp": null}}}]"#;

    /// Each template's output over [`BODIES`], one line a body (`ERR ` and the error where the
    /// typed pass fails), is what Go 1.19.8's text/template printed on these bodies decoded
    /// into moby v28.5.1's own `container.InspectResponse`, with docker/cli's functions.
    const CASES: &[(&str, &str)] = &[
        (
            r#"{{$n := .HostConfig.NetworkMode}}{{$n.IsNone}} {{$n.IsDefault}} {{$n.IsPrivate}} {{$n.IsContainer}} [{{$n.ConnectedContainer}}] [{{$n.UserDefined}}] {{$n.IsBridge}} {{$n.IsHost}} {{$n.IsUserDefined}} [{{$n.NetworkName}}]"#,
            r#"false false false true [abc:def] [] false false false [container]
false false true false [] [mynet] false false true [mynet]
false false true false [] [] true false false [bridge]
false false true false [] [] false false true []
false true true false [] [] false false false [default]
false false false false [] [] false true false [host]
"#,
        ),
        (
            r#"{{with .HostConfig.IpcMode}}{{.IsPrivate}} {{.IsHost}} {{.IsShareable}} {{.IsContainer}} {{.IsNone}} {{.IsEmpty}} {{.Valid}} [{{.Container}}]{{end}}"#,
            r#"false false false true false false true [web]
false false true false false false true []

false false false false true false true []
false true false false false false true []
true false false false false false true []
"#,
        ),
        (
            r#"{{with .HostConfig}}{{.PidMode.IsPrivate}} {{.PidMode.IsHost}} {{.PidMode.IsContainer}} {{.PidMode.Valid}} [{{.PidMode.Container}}] {{.UTSMode.IsPrivate}} {{.UTSMode.IsHost}} {{.UTSMode.Valid}} {{.UsernsMode.IsHost}} {{.UsernsMode.IsPrivate}} {{.UsernsMode.Valid}}{{end}}"#,
            r#"false false true false [] false true true true false true
false true false true [] true false true false true true
true false false true [] true false false false true false
false false true true [p1] true false true false true true
true false false true [] true false true false true true
true false false true [] true false true false true true
"#,
        ),
        (
            r#"{{with .HostConfig}}{{.CgroupnsMode.IsPrivate}} {{.CgroupnsMode.IsHost}} {{.CgroupnsMode.IsEmpty}} {{.CgroupnsMode.Valid}} {{.Cgroup.IsContainer}} {{.Cgroup.Valid}} [{{.Cgroup.Container}}] {{.Isolation.IsDefault}} {{.Isolation.IsHyperV}} {{.Isolation.IsProcess}} {{.Isolation.IsValid}}{{end}}"#,
            r#"true false false true true true [x] false true false false
false false true true false true [] true false false true
false true false true false false [] false false true false
false true false true false true [] true false false true
false true false true false true [] true false false true
false true false true false true [] true false false true
"#,
        ),
        (
            r#"{{with .HostConfig.RestartPolicy}}{{.IsNone}} {{.IsAlways}} {{.IsOnFailure}} {{.IsUnlessStopped}} {{.IsSame .}}{{end}}"#,
            r#"false false true false true
true false false false true
true false false false true
false true false false true
false false false true true
false false false true true
"#,
        ),
        (
            r#"{{range $p, $b := .NetworkSettings.Ports}}[{{$p}}|{{$p.Proto}}|{{$p.Port}}|{{$p.Int}}|{{printf "%T" $b}}|{{len $b}}]{{end}}"#,
            r#"[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
[|||0|[]nat.PortBinding|0][+5/tcp|tcp|+5|0|[]nat.PortBinding|0][/tcp|||0|[]nat.PortBinding|0][0091/sctp|sctp|0091|91|[]nat.PortBinding|0][70000/udp|udp|70000|0|[]nat.PortBinding|0][80/tcp|tcp|80|80|[]nat.PortBinding|2][90/|tcp|90|90|[]nat.PortBinding|0][abc|tcp|abc|0|[]nat.PortBinding|0]
"#,
        ),
        (
            r#"{{printf "%#v" .HostConfig.PortBindings}}"#,
            r#"nat.PortMap{"53/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}}, "8000-8010":[]nat.PortBinding{}}
nat.PortMap(nil)
nat.PortMap{}
nat.PortMap{}
nat.PortMap{}
nat.PortMap{}
"#,
        ),
        (
            r#"{{printf "%#v|%v|%T" .HostConfig.ConsoleSize .HostConfig.ConsoleSize .HostConfig.ConsoleSize}} {{json .HostConfig.ConsoleSize}}"#,
            r#"[2]uint{0x18, 0x50}|[24 80]|[2]uint [24,80]
[2]uint{0x7, 0x0}|[7 0]|[2]uint [7,0]
[2]uint{0x0, 0x0}|[0 0]|[2]uint [0,0]
[2]uint{0x0, 0x0}|[0 0]|[2]uint [0,0]
[2]uint{0x0, 0x0}|[0 0]|[2]uint [0,0]
[2]uint{0x0, 0x0}|[0 0]|[2]uint [0,0]
"#,
        ),
        (
            r#"{{printf "%#v" .NetworkSettings.Ports}}"#,
            r#"nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
nat.PortMap{"":[]nat.PortBinding(nil), "+5/tcp":[]nat.PortBinding(nil), "/tcp":[]nat.PortBinding(nil), "0091/sctp":[]nat.PortBinding(nil), "70000/udp":[]nat.PortBinding(nil), "80/tcp":[]nat.PortBinding{nat.PortBinding{HostIP:"0.0.0.0", HostPort:"8080"}, nat.PortBinding{HostIP:"::", HostPort:"8080"}}, "90/":[]nat.PortBinding{}, "abc":[]nat.PortBinding{}}
"#,
        ),
        (
            r#"{{.NetworkSettings.Ports}} {{json .NetworkSettings.Ports}}"#,
            r#"map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
map[:[] +5/tcp:[] /tcp:[] 0091/sctp:[] 70000/udp:[] 80/tcp:[{0.0.0.0 8080} {:: 8080}] 90/:[] abc:[]] {"":null,"+5/tcp":null,"/tcp":null,"0091/sctp":null,"70000/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"90/":[],"abc":[]}
"#,
        ),
        (
            r#"{{index .NetworkSettings.Ports "80/tcp"}}"#,
            r#"ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
ERR template: :1:2: executing "" at <index .NetworkSettings.Ports "80/tcp">: error calling index: value has type string; should be nat.Port
"#,
        ),
        (
            r#"{{.HostConfig.NetworkMode.IsHost 1}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
"#,
        ),
        (
            r#"{{.HostConfig.NetworkMode.Nope}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.Nope>: can't evaluate field Nope in type container.NetworkMode
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.Name.IsNone}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.Name.IsNone>: can't evaluate field IsNone in type container.RestartPolicyMode
"#,
        ),
        (
            r#"{{range $p, $v := .NetworkSettings.Ports}}{{$p.Range}}{{end}}"#,
            r#"ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
ERR template: :1:46: executing "" at <$p.Range>: can't call method/function "Range" with 3 results
"#,
        ),
        (
            r#"{{.Config.Cmd.Foo}}"#,
            r#"ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
ERR template: :1:9: executing "" at <.Config.Cmd.Foo>: can't evaluate field Foo in type strslice.StrSlice
"#,
        ),
        (
            r#"{{.NetworkSettings.Ports.Foo}}"#,
            r#"ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
ERR template: :1:18: executing "" at <.NetworkSettings.Ports.Foo>: can't evaluate field Foo in type nat.PortMap
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.IsSame nil}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: error calling IsSame: runtime error: invalid memory address or nil pointer dereference
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.IsSame}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsSame>: wrong number of args for IsSame: want 1 got 0
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.IsSame .HostConfig}}"#,
            r#"ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
ERR template: :1:35: executing "" at <.HostConfig>: wrong type for value; expected *container.RestartPolicy; got *container.HostConfig
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.IsSame "x"}}"#,
            r#"ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
ERR template: :1:35: executing "" at <"x">: can't handle "x" for arg of type *container.RestartPolicy
"#,
        ),
        (
            r#"{{.HostConfig.RestartPolicy.IsAlways 1}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
ERR template: :1:13: executing "" at <.HostConfig.RestartPolicy.IsAlways>: wrong number of args for IsAlways: want 0 got 1
"#,
        ),
        (
            r#"{{.HostConfig.NetworkMode.IsHost.Foo}}"#,
            r#"ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
ERR template: :1:13: executing "" at <.HostConfig.NetworkMode.IsHost.Foo>: can't evaluate field Foo in type bool
"#,
        ),
        (
            r#"{{(.HostConfig.NetworkMode).IsHost}} {{.HostConfig.RestartPolicy | printf "%v"}} {{.HostConfig.NetworkMode | .HostConfig.NetworkMode.IsHost}}"#,
            r#"false {on-failure 3} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
false { 0} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
false {no 0} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
false {always 0} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
false {unless-stopped 0} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
true {unless-stopped 0} ERR template: :1:120: executing "" at <.HostConfig.NetworkMode.IsHost>: wrong number of args for IsHost: want 0 got 1
"#,
        ),
        (
            r#"{{.HostConfig.NetworkMode.NetworkName | len}} {{if .HostConfig.NetworkMode.IsUserDefined}}U{{end}}"#,
            r#"9 
5 U
6 
0 U
7 
4 
"#,
        ),
        (
            r#"{{join .Config.Cmd ","}} {{join .HostConfig.CapAdd ","}} {{printf "%T %#v" .HostConfig.CapAdd .HostConfig.CapDrop}}"#,
            r#"serve,--port,8080  strslice.StrSlice strslice.StrSlice(nil)
serve,--port,8080 NET_ADMIN,SYS_TIME strslice.StrSlice strslice.StrSlice(nil)
serve,--port,8080  strslice.StrSlice strslice.StrSlice(nil)
serve,--port,8080  strslice.StrSlice strslice.StrSlice(nil)
serve,--port,8080  strslice.StrSlice strslice.StrSlice(nil)
serve,--port,8080  strslice.StrSlice strslice.StrSlice(nil)
"#,
        ),
        (
            r#"{{eq .HostConfig.ConsoleSize .HostConfig.ConsoleSize}} {{eq .HostConfig.RestartPolicy .HostConfig.RestartPolicy}}"#,
            r#"true true
true true
true true
true true
true true
true true
"#,
        ),
        (
            r#"{{index .HostConfig.ConsoleSize 1}} {{len .HostConfig.ConsoleSize}} {{slice .HostConfig.ConsoleSize 0 1}} {{printf "%T" (slice .Config.Cmd 1)}} {{printf "%#v" (slice .HostConfig.ConsoleSize 1)}}"#,
            r#"80 2 [24] strslice.StrSlice []uint{0x50}
0 2 [7] strslice.StrSlice []uint{0x0}
0 2 [0] strslice.StrSlice []uint{0x0}
0 2 [0] strslice.StrSlice []uint{0x0}
0 2 [0] strslice.StrSlice []uint{0x0}
0 2 [0] strslice.StrSlice []uint{0x0}
"#,
        ),
        (
            r#"{{range $i, $e := .HostConfig.ConsoleSize}}{{$i}}={{$e}} {{end}}{{printf "%T" .Config.ExposedPorts}} {{range $k, $v := .Config.ExposedPorts}}{{$k.Int}}{{end}}"#,
            r#"0=24 1=80 nat.PortSet 80809090
0=7 1=0 nat.PortSet 80809090
0=0 1=0 nat.PortSet 80809090
0=0 1=0 nat.PortSet 80809090
0=0 1=0 nat.PortSet 80809090
0=0 1=0 nat.PortSet 80809090
"#,
        ),
        (
            r#"{{index .Config.ExposedPorts .HostConfig.NetworkMode}}"#,
            r#"ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
ERR template: :1:2: executing "" at <index .Config.ExposedPorts .HostConfig.NetworkMode>: error calling index: value has type container.NetworkMode; should be nat.Port
"#,
        ),
        (
            r#"{{printf "%+v" .HostConfig.PortBindings}} {{printf "%d" .HostConfig.ConsoleSize}} {{printf "%x" .HostConfig.ConsoleSize}}"#,
            r#"map[53/udp:[] 80/tcp:[{HostIP:0.0.0.0 HostPort:8080}] 8000-8010:[]] [24 80] [18 50]
map[] [7 0] [7 0]
map[] [0 0] [0 0]
map[] [0 0] [0 0]
map[] [0 0] [0 0]
map[] [0 0] [0 0]
"#,
        ),
    ];

    /// Bodies with ulimits, block-device limits, descriptors' digests and endpoints.
    const BODIES_2: &str = r#"[{"HostConfig": {"Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}, null], "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 300}], "BlkioDeviceReadBps": [{"Path": "/dev/sdb", "Rate": 1048576}]}, "ImageManifestDescriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "size": 10}, "NetworkSettings": {"Networks": {"bridge": {"IPAMConfig": {"IPv4Address": "10.0.0.2"}, "IPAddress": "172.17.0.2", "Aliases": ["a"]}, "host": {"IPAMConfig": null}}}, "Id": "x"}, {"HostConfig": {"Ulimits": []}, "ImageManifestDescriptor": {"digest": "nocolon"}, "Id": "x", "NetworkSettings": {"Networks": {"bridge": {}, "host": {}}}}, {"ImageManifestDescriptor": {"digest": "sha256:abc"}, "Id": "x"}, {"ImageManifestDescriptor": {"digest": "foo:bar"}, "Id": "x"}, {"ImageManifestDescriptor": {"digest": ":x"}, "Id": "x"}, {"Id": "x"}]"#;

    /// As [`CASES`], on [`BODIES_2`] (Go prints a pointer's real address, here `0xc000000000`).
    const CASES_2: &[(&str, &str)] = &[
        (
            r#"{{.HostConfig.Ulimits}}"#,
            r#"[nofile=1024:2048 <nil>]
[]
ERR template: :1:13: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:13: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:13: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:13: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
"#,
        ),
        (
            r#"{{printf "%v|%s|%+v|%q" .HostConfig.BlkioWeightDevice .HostConfig.BlkioWeightDevice .HostConfig.BlkioDeviceReadBps .HostConfig.BlkioWeightDevice}}"#,
            r#"[/dev/sda:300]|[/dev/sda:300]|[/dev/sdb:1048576]|["/dev/sda:300"]
[]|[]|[]|[]
ERR template: :1:35: executing "" at <.HostConfig.BlkioWeightDevice>: nil pointer evaluating *container.HostConfig.BlkioWeightDevice
ERR template: :1:35: executing "" at <.HostConfig.BlkioWeightDevice>: nil pointer evaluating *container.HostConfig.BlkioWeightDevice
ERR template: :1:35: executing "" at <.HostConfig.BlkioWeightDevice>: nil pointer evaluating *container.HostConfig.BlkioWeightDevice
ERR template: :1:35: executing "" at <.HostConfig.BlkioWeightDevice>: nil pointer evaluating *container.HostConfig.BlkioWeightDevice
"#,
        ),
        (
            r#"{{range .HostConfig.Ulimits}}[{{.}}|{{printf "%v" .}}|{{with .}}{{.String}}{{end}}]{{end}}"#,
            r#"[nofile=1024:2048|nofile=1024:2048|nofile=1024:2048][<nil>|<nil>|]

ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
"#,
        ),
        (
            r#"{{index .HostConfig.Ulimits 0 | printf "%#v"}}"#,
            r#"&units.Ulimit{Name:"nofile", Hard:2048, Soft:1024}
ERR template: :1:2: executing "" at <index .HostConfig.Ulimits 0>: error calling index: reflect: slice index out of range
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:19: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
"#,
        ),
        (
            r#"{{with .ImageManifestDescriptor}}{{.Digest.Algorithm}}|{{.Digest.Encoded}}|{{.Digest.Hex}}|{{.Digest.String}}|{{printf "%T" .Digest.Algorithm}}{{end}}"#,
            r#"sha256|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|digest.Algorithm
ERR template: :1:42: executing "" at <.Digest.Algorithm>: error calling Algorithm: no ':' separator in digest "nocolon"
sha256|abc|abc|sha256:abc|digest.Algorithm
foo|bar|bar|foo:bar|digest.Algorithm
|x|x|:x|digest.Algorithm

"#,
        ),
        (
            r#"{{with .NetworkSettings}}{{(index .Networks "bridge").Copy}}|{{(index .Networks "bridge").IPAMConfig.Copy}}|{{(index .Networks "bridge").IPAMConfig.Copy.Copy}}{{end}}"#,
            r#"{0xc000000000 [] [a]  map[] 0    172.17.0.2 0   0 []}|{10.0.0.2  []}|{10.0.0.2  []}
{<nil> [] []  map[] 0     0   0 []}|ERR template: :1:89: executing "" at <(index .Networks "bridge").IPAMConfig.Copy>: error calling Copy: runtime error: invalid memory address or nil pointer dereference




"#,
        ),
        (
            r#"{{with .NetworkSettings}}{{(index .Networks "host").IPAMConfig.Copy}}|{{printf "%T" (index .Networks "host").IPAMConfig.Copy}}{{end}}"#,
            r#"ERR template: :1:51: executing "" at <(index .Networks "host").IPAMConfig.Copy>: error calling Copy: runtime error: invalid memory address or nil pointer dereference
ERR template: :1:51: executing "" at <(index .Networks "host").IPAMConfig.Copy>: error calling Copy: runtime error: invalid memory address or nil pointer dereference




"#,
        ),
        (
            r#"{{json .HostConfig.Ulimits}}"#,
            r#"[{"Name":"nofile","Hard":2048,"Soft":1024},null]
[]
ERR template: :1:18: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:18: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:18: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
ERR template: :1:18: executing "" at <.HostConfig.Ulimits>: nil pointer evaluating *container.HostConfig.Ulimits
"#,
        ),
        (
            r#"{{with .HostConfig}}{{printf "%v" (index .Ulimits 0)}}{{end}}"#,
            r#"nofile=1024:2048
ERR template: :1:35: executing "" at <index .Ulimits 0>: error calling index: reflect: slice index out of range




"#,
        ),
    ];

    /// A body whose tmpfs mounts' modes (`fs.FileMode`) have each kind of bit.
    const BODIES_3: &str = r#"[{"Id":"x","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1,"Mode":1023}},{"Type":"tmpfs","TmpfsOptions":{"Mode":2147484159}},{"Type":"tmpfs","TmpfsOptions":{"Mode":4294443008}},{"Type":"tmpfs","TmpfsOptions":{"Mode":0}},{"Type":"tmpfs","TmpfsOptions":{"Mode":420}}]}}]"#;

    /// As [`CASES`], on [`BODIES_3`].
    const CASES_3: &[(&str, &str)] = &[
        (
            r#"{{range .HostConfig.Mounts}}[{{.TmpfsOptions.Mode}}|{{printf "%T|%d|%#v|%v|%s|%x|%o" .TmpfsOptions.Mode .TmpfsOptions.Mode .TmpfsOptions.Mode .TmpfsOptions.Mode .TmpfsOptions.Mode .TmpfsOptions.Mode .TmpfsOptions.Mode}}|{{json .TmpfsOptions.Mode}}|{{.TmpfsOptions}}]{{end}}"#,
            r#"[-rwxrwxrwx|fs.FileMode|1023|0x3ff|-rwxrwxrwx|-rwxrwxrwx|2d727778727778727778|1777|1023|{1 -rwxrwxrwx []}][drwxrwxrwx|fs.FileMode|2147484159|0x800001ff|drwxrwxrwx|drwxrwxrwx|64727778727778727778|20000000777|2147484159|{0 drwxrwxrwx []}][dalTLDpSugct?---------|fs.FileMode|4294443008|0xfff80000|dalTLDpSugct?---------|dalTLDpSugct?---------|64616c544c447053756763743f2d2d2d2d2d2d2d2d2d|37776000000|4294443008|{0 dalTLDpSugct?--------- []}][----------|fs.FileMode|0|0x0|----------|----------|2d2d2d2d2d2d2d2d2d2d|0|0|{0 ---------- []}][-rw-r--r--|fs.FileMode|420|0x1a4|-rw-r--r--|-rw-r--r--|2d72772d722d2d722d2d|644|420|{0 -rw-r--r-- []}]
"#,
        ),
        (
            r#"{{range .HostConfig.Mounts}}{{.TmpfsOptions.Mode.String}} {{.TmpfsOptions.Mode.IsDir}} {{.TmpfsOptions.Mode.IsRegular}} {{.TmpfsOptions.Mode.Perm}} {{.TmpfsOptions.Mode.Type}} {{printf "%T" .TmpfsOptions.Mode.Perm}};{{end}}"#,
            r#"-rwxrwxrwx false true -rwxrwxrwx ---------- fs.FileMode;drwxrwxrwx true false -rwxrwxrwx d--------- fs.FileMode;dalTLDpSugct?--------- true false ---------- dLDpSc?--------- fs.FileMode;---------- false true ---------- ---------- fs.FileMode;-rw-r--r-- false true -rw-r--r-- ---------- fs.FileMode;
"#,
        ),
        (
            r#"{{range .HostConfig.Mounts}}{{printf "%+v|%#v" .TmpfsOptions .TmpfsOptions}};{{end}}"#,
            r#"&{SizeBytes:1 Mode:-rwxrwxrwx Options:[]}|&mount.TmpfsOptions{SizeBytes:1, Mode:0x3ff, Options:[][]string(nil)};&{SizeBytes:0 Mode:drwxrwxrwx Options:[]}|&mount.TmpfsOptions{SizeBytes:0, Mode:0x800001ff, Options:[][]string(nil)};&{SizeBytes:0 Mode:dalTLDpSugct?--------- Options:[]}|&mount.TmpfsOptions{SizeBytes:0, Mode:0xfff80000, Options:[][]string(nil)};&{SizeBytes:0 Mode:---------- Options:[]}|&mount.TmpfsOptions{SizeBytes:0, Mode:0x0, Options:[][]string(nil)};&{SizeBytes:0 Mode:-rw-r--r-- Options:[]}|&mount.TmpfsOptions{SizeBytes:0, Mode:0x1a4, Options:[][]string(nil)};
"#,
        ),
    ];

    #[test]
    fn methods_and_named_types_print_as_go() {
        let mut failures = Vec::new();
        for (bodies, cases) in [(BODIES, CASES), (BODIES_2, CASES_2), (BODIES_3, CASES_3)] {
            check(bodies, cases, &mut failures);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn check(bodies: &str, cases: &[(&str, &str)], failures: &mut Vec<String>) {
        let bodies: Vec<serde_json::Value> = serde_json::from_str(bodies).unwrap();
        let values: Vec<_> = bodies.iter().map(inspect_response).collect();
        for (template, want) in cases {
            let t = Template::parse(template).unwrap();
            let mut got = String::new();
            for v in &values {
                let mut out = Vec::new();
                match t.execute_value(v, MissingKey::Default, &mut out) {
                    Ok(()) => got.push_str(&format!("{}\n", String::from_utf8(out).unwrap())),
                    Err(e) => got.push_str(&format!("{}ERR {e}\n", String::from_utf8(out).unwrap())),
                }
            }
            if got != *want {
                failures.push(format!("{template}\n got: {got}\nwant: {want}"));
            }
        }
    }

    /// `platforms.FormatAll` as containerd writes it (containerd/platforms v1.0.0-rc.1):
    /// `path.Join` of `os[(version)]`, architecture and variant; `unknown` without an OS.
    #[test]
    fn a_formatter_platform_prints_as_format_all() {
        let print = |arch: &str, os: &str, version: &str, variant: &str| {
            let inner = crate::template::Value::Struct(
                std::rc::Rc::new(vec![
                    crate::template::Value::string(arch),
                    crate::template::Value::string(os),
                    crate::template::Value::string(version),
                    crate::template::Value::Nil,
                    crate::template::Value::string(variant),
                ]),
                &crate::template::EMPTY_STRUCT,
            );
            let outer = crate::template::Value::Struct(std::rc::Rc::new(vec![inner]), &crate::template::EMPTY_STRUCT);
            match super::platform_string(&outer, &[]).unwrap() {
                crate::template::Value::Str(s, _) => s.to_string(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(print("amd64", "linux", "", ""), "linux/amd64");
        assert_eq!(print("arm", "linux", "", "v7"), "linux/arm/v7");
        assert_eq!(
            print("amd64", "windows", "10.0.17763.1", ""),
            "windows(10.0.17763.1)/amd64"
        );
        assert_eq!(print("amd64", "", "", ""), "unknown");
        assert_eq!(print("", "linux", "", ""), "linux");
        assert_eq!(print("..", "linux", "", "v1"), "v1");
        assert_eq!(print("../..", "linux", "", ""), "..");
        assert_eq!(print("a//b/.", "/linux", "", ""), "/linux/a/b");
    }
}
