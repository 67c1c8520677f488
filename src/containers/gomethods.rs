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
//! ```
//!
//! A mode `container:<id or name>` names another container (moby's `containerID`): the text
//! after the first `:` when the text before it is `container`.

use crate::template::{MethodDef, Value};

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

/// A `RestartPolicy`'s `Name` and `MaximumRetryCount` (its two fields, in that order).
fn policy(v: &Value) -> (&str, i64) {
    match v {
        Value::Struct(f, _) => (
            f.first().map_or("", text),
            match f.get(1) {
                Some(Value::Int(i, _)) => *i,
                _ => 0,
            },
        ),
        _ => ("", 0),
    }
}
fn rp_is_none(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(matches!(policy(v).0, "no" | ""))
}
fn rp_is_always(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v).0 == "always")
}
fn rp_is_on_failure(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v).0 == "on-failure")
}
fn rp_is_unless_stopped(v: &Value, _: &[Value]) -> Result<Value, String> {
    yes(policy(v).0 == "unless-stopped")
}
/// `IsSame(*RestartPolicy)`: a nil argument is dereferenced, as in Go, which fails the call.
fn rp_is_same(v: &Value, args: &[Value]) -> Result<Value, String> {
    match args.first() {
        Some(Value::Ptr(Some(other), _)) => yes(policy(v) == policy(other)),
        _ => Err("runtime error: invalid memory address or nil pointer dereference".into()),
    }
}

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
fn split_proto_port(raw: &str) -> (&str, &str) {
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
