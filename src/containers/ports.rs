//! docker ps's PORTS, from what `config.v2.json` recorded of a container's ports:
//!
//! ```text
//! NetworkSettings.Ports   {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": null}
//!   dockerd (container/view.go)   one port per binding, a bare private port for none:
//!                                 {80, 8080, tcp, 0.0.0.0}, {443, 0, tcp, ""}
//!   docker/cli (DisplayablePorts) sorted, runs of ports grouped per IP and protocol,
//!                                 host mappings to another port last:
//!                                 "0.0.0.0:8080->80/tcp, 443/tcp"
//! ```
//!
//! A port or host port that is not a decimal 16-bit number is skipped, as dockerd skips it
//! (with a warning in its log); an empty one is 0, as nat's `ParsePort` makes it.

use super::gomethods::split_proto_port;
use crate::inspect::gojson::J;

/// One port as dockerd's container list gives it (`container.Port`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Port {
    // Field order is docker/cli's `comparePorts`: private port, IP, public port, protocol.
    private: u16,
    ip: String,
    public: u16,
    proto: String,
}

/// nat's `ParsePort`: empty is 0; otherwise digits only (Go's `ParseUint`), at most 65535.
fn parse_port(raw: &str) -> Option<u16> {
    if raw.is_empty() {
        return Some(0);
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u16>().ok()
}

/// The ports of a `NetworkSettings.Ports` map (a nat.PortMap), as dockerd lists them.
fn listed(map: Option<&J>) -> Vec<Port> {
    let mut out = Vec::new();
    for (key, bindings) in map.map(J::members).unwrap_or_default() {
        let (proto, port) = split_proto_port(key);
        let Some(private) = parse_port(port) else { continue };
        let bindings = bindings.items();
        if bindings.is_empty() {
            out.push(Port {
                private,
                ip: String::new(),
                public: 0,
                proto: proto.to_string(),
            });
            continue;
        }
        for b in bindings {
            let text = |k: &str| b.get(k).and_then(J::as_str).unwrap_or_default();
            let Some(public) = parse_port(text("HostPort")) else {
                continue;
            };
            out.push(Port {
                private,
                ip: text("HostIp").to_string(),
                public,
                proto: proto.to_string(),
            });
        }
    }
    out
}

/// Go's `net.JoinHostPort`: an address holding a colon (IPv6) in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// docker/cli's `formGroup`: `80/tcp`, `8000-8002/tcp`, `0.0.0.0:80->80/tcp`.
fn form_group(key: &str, first: u16, last: u16) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let (ip, proto) = match parts.as_slice() {
        [ip, proto, ..] => (*ip, *proto),
        [proto] => ("", *proto),
        [] => ("", ""),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{}->{group}", join_host_port(ip, &group));
    }
    format!("{group}/{proto}")
}

/// docker ps's PORTS of a container whose `config.v2.json` has `ports` as its
/// `NetworkSettings.Ports` (docker/cli 28.5's `DisplayablePorts`).
pub fn displayable(ports: Option<&J>) -> String {
    let mut ports = listed(ports);
    ports.sort();
    // Groups by key in the order their keys first came: (key, first, last).
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for p in &ports {
        let mut key = p.proto.clone();
        if !p.ip.is_empty() {
            if p.public != p.private {
                host_mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&p.ip, &p.public.to_string()),
                    p.private,
                    p.proto
                ));
                continue;
            }
            key = format!("{}/{}", p.ip, p.proto);
        }
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, p.private, p.private)),
            Some(g) if u32::from(p.private) == u32::from(g.2) + 1 => g.2 = p.private,
            Some(g) => {
                result.push(form_group(&g.0, g.1, g.2));
                g.1 = p.private;
                g.2 = p.private;
            }
        }
    }
    result.extend(groups.iter().map(|(k, first, last)| form_group(k, *first, *last)));
    result.extend(host_mappings);
    result.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(json: &str) -> String {
        displayable(Some(&crate::inspect::gojson::parse(json.as_bytes()).unwrap()))
    }

    /// Cases worked through docker/cli 28.5's `DisplayablePorts` and moby 28.5's list
    /// (`container/view.go`) by hand: the grouping, the order, IPv6 in brackets.
    #[test]
    fn ports_as_docker_ps_prints_them() {
        assert_eq!(ports("{}"), "");
        assert_eq!(displayable(None), "");
        assert_eq!(
            ports(r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"443/tcp":null}"#),
            "443/tcp, 0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            ports(r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}]}"#),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        // Consecutive ports of one IP and protocol make a range; a gap starts another.
        assert_eq!(
            ports(r#"{"8000/tcp":null,"8001/tcp":[],"8002/tcp":null,"8004/tcp":null,"53/udp":null}"#),
            "8000-8002/tcp, 53/udp, 8004/tcp"
        );
        assert_eq!(
            ports(
                r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"80"}],"81/tcp":[{"HostIp":"0.0.0.0","HostPort":"81"}]}"#
            ),
            "0.0.0.0:80-81->80-81/tcp"
        );
        // What nat cannot parse is skipped; an empty host port is 0; no protocol is tcp.
        assert_eq!(
            ports(r#"{"abc":null,"70000/udp":null,"+5/tcp":null,"0091/sctp":null,"7":[{"HostIp":"","HostPort":""}]}"#),
            "7/tcp, 91/sctp"
        );
    }
}
