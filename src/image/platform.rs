//! Platforms and the matchers containerd and dockerd choose manifests with
//! (`github.com/containerd/platforms`: `Normalize`, `Only`, `OnlyStrict`, `Ordered`, and
//! moby's `matchAllWithPreference`).
//!
//! A matcher answers `matches(p)` and `less(a, b)` (is `a` preferred over `b`). `Only(host)`
//! prefers a vector of compatible platforms in order: linux/amd64 -> [amd64, 386],
//! linux/arm64 -> [arm64, arm/v8, arm/v7, arm/v6, arm/v5], linux/arm/v7 -> [v7, v6, v5].

use serde::{Deserialize, Serialize};

/// An OCI platform, as written in index entries and image configs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(rename = "os.version", default, skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    #[serde(rename = "os.features", default, skip_serializing_if = "Option::is_none")]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: &str) -> Platform {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.into(),
            ..Platform::default()
        }
    }

    /// `platforms.Format`: os/arch[/variant].
    pub fn format(&self) -> String {
        let mut s = format!("{}/{}", self.os, self.architecture);
        if !self.variant.is_empty() {
            s.push('/');
            s.push_str(&self.variant);
        }
        s
    }

    /// `os` on this machine's architecture (a lone OS given as a platform).
    fn host_arch_on(os: &str) -> Platform {
        let host = Platform::host();
        Platform::new(os, &host.architecture, &host.variant)
    }

    /// The platform of the machine coldctr runs on (Go's GOOS/GOARCH names).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            "loongarch64" => "loong64",
            other => other,
        };
        normalize(&Platform::new("linux", arch, ""))
    }
}

/// GOOS values containerd knows (`platforms.isKnownOS`).
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// GOARCH values containerd knows (`platforms.isKnownArch`).
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// `platforms.Parse`: `os[/arch[/variant]]` or `arch` alone, normalized; an explicit arm64
/// variant stays (`linux/arm64/v8` keeps `v8`). As containerd: every component is
/// `[A-Za-z0-9_.-]+` (the OS may carry a `(version)`), wildcards are refused, a lone
/// component must be a known OS or architecture, and a pair is taken as given.
pub fn parse(s: &str) -> Result<Platform, String> {
    if s.contains('*') {
        return Err(format!("{s:?}: wildcards not yet supported: invalid argument"));
    }
    let parts: Vec<&str> = s.splitn(4, '/').collect();
    let component = |c: &str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    let (os, os_version) = match parts.first().and_then(|first| split_os_version(first)) {
        Some(v) => v,
        None => {
            return Err(format!(
                "{:?} is an invalid OS component of {s:?}: OSAndVersion specifier component must match \"^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.-]*)\\))?$\": invalid argument",
                parts.first().copied().unwrap_or_default()
            ));
        }
    };
    if let Some(bad) = parts.iter().skip(1).find(|c| !component(c)) {
        return Err(format!(
            "{bad:?} is an invalid component of {s:?}: platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument"
        ));
    }
    let os = normalize_os(os);
    let mut p = match parts.as_slice() {
        [_] if KNOWN_OS.contains(&os.as_str()) => Platform::host_arch_on(&os),
        [one] => {
            let (arch, variant) = normalize_arch(one, "");
            if !KNOWN_ARCH.contains(&arch.as_str()) {
                return Err(format!(
                    "{s:?}: unknown operating system or architecture: invalid argument"
                ));
            }
            Platform::new("linux", &arch, &variant)
        }
        [_, arch] => {
            let (a, v) = normalize_arch(arch, "");
            Platform::new(&os, &a, &v)
        }
        [_, arch, variant] => {
            let (a, mut v) = normalize_arch(arch, variant);
            if a == "arm64" && v.is_empty() {
                v = "v8".into();
            }
            Platform::new(&os, &a, &v)
        }
        _ => return Err(format!("{s:?}: cannot parse platform specifier: invalid argument")),
    };
    p.os_version = os_version.to_string();
    Ok(p)
}

/// The platform of a node (`--host-platform`): what [`parse`] accepts, and also an OS and an
/// architecture containerd knows. `parse` takes any `os/arch` pair, as containerd does for an
/// image's platform, but no node runs `foo/bar`: a typo there would silently match nothing.
pub fn parse_host(s: &str) -> Result<Platform, String> {
    let p = parse(s)?;
    if !KNOWN_OS.contains(&p.os.as_str()) {
        return Err(format!(
            "{s:?}: unknown operating system {:?} (one of {})",
            p.os,
            KNOWN_OS.join(", ")
        ));
    }
    if !KNOWN_ARCH.contains(&p.architecture.as_str()) {
        return Err(format!(
            "{s:?}: unknown architecture {:?} (one of {})",
            p.architecture,
            KNOWN_ARCH.join(", ")
        ));
    }
    Ok(p)
}

/// `os` or `os(version)`, as containerd's `osAndVersionRe`.
fn split_os_version(c: &str) -> Option<(&str, &str)> {
    let os_ok = |o: &str| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    let (os, version) = match c.strip_suffix(')').and_then(|r| r.split_once('(')) {
        Some((os, version)) => (os, version),
        None => (c, ""),
    };
    let version_ok = version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    (os_ok(os) && version_ok).then_some((os, version))
}

fn normalize_os(os: &str) -> String {
    if os.is_empty() {
        return "linux".into();
    }
    let os = os.to_lowercase();
    if os == "macos" { "darwin".into() } else { os }
}

fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_lowercase();
    let variant = variant.to_lowercase();
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => ("amd64".into(), if variant == "v1" { String::new() } else { variant }),
        "aarch64" | "arm64" => {
            let v = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".into(),
                _ => variant,
            };
            ("arm64".into(), v)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

/// `platforms.Normalize`.
pub fn normalize(p: &Platform) -> Platform {
    let (architecture, variant) = normalize_arch(&p.architecture, &p.variant);
    Platform {
        os: normalize_os(&p.os),
        architecture,
        variant,
        os_version: p.os_version.clone(),
        os_features: p.os_features.clone(),
    }
}

/// containerd's `platforms.NewMatcher(p).Match` for one normalized platform (OS version only
/// matters on Windows, which this store does not hold).
fn matches_one(want: &Platform, p: &Platform) -> bool {
    let n = normalize(p);
    want.os == n.os && want.architecture == n.architecture && want.variant == n.variant
}

/// The compatibility vector of `Only(p)`.
fn vector(p: &Platform) -> Vec<Platform> {
    let mut v = vec![p.clone()];
    let with = |arch: &str, variant: String| Platform::new(&p.os, arch, &variant);
    match p.architecture.as_str() {
        "amd64" => {
            if let Ok(n) = p.variant.trim_start_matches('v').parse::<u32>()
                && n > 1
            {
                for k in (1..n).rev() {
                    v.push(with("amd64", if k == 1 { String::new() } else { format!("v{k}") }));
                }
            }
            v.push(with("386", String::new()));
        }
        "arm" => {
            if let Ok(n) = p.variant.trim_start_matches('v').parse::<u32>()
                && n > 5
            {
                for k in (5..n).rev() {
                    v.push(with("arm", format!("v{k}")));
                }
            }
        }
        "arm64" => {
            let variant = if p.variant.is_empty() {
                "v8".to_string()
            } else {
                p.variant.clone()
            };
            v.extend(vector(&with("arm", variant)));
        }
        _ => {}
    }
    v
}

/// How manifests are matched and ranked.
#[derive(Clone, Debug)]
pub enum Matcher {
    /// `platforms.Only(host)`: the host and what it can run, in preference order.
    Only(Vec<Platform>),
    /// `platforms.OnlyStrict(p)`: exactly `p` (after normalization).
    Strict(Platform),
    /// moby's `matchAllWithPreference(Only(host))`: everything matches; the host's
    /// compatibility vector orders.
    AllPreferring(Vec<Platform>),
}

impl Matcher {
    pub fn only(host: &Platform) -> Matcher {
        Matcher::Only(vector(&normalize(host)))
    }

    pub fn strict(p: &Platform) -> Matcher {
        Matcher::Strict(normalize(p))
    }

    pub fn all_preferring(host: &Platform) -> Matcher {
        Matcher::AllPreferring(vector(&normalize(host)))
    }

    fn order(&self) -> &[Platform] {
        match self {
            Matcher::Only(v) | Matcher::AllPreferring(v) => v,
            Matcher::Strict(p) => std::slice::from_ref(p),
        }
    }

    pub fn matches(&self, p: &Platform) -> bool {
        match self {
            Matcher::AllPreferring(_) => true,
            _ => self.order().iter().any(|w| matches_one(w, p)),
        }
    }

    /// `Ordered.Less`: at the first preferred platform either matches, `a` wins only if it
    /// matches and `b` does not.
    pub fn less(&self, a: &Platform, b: &Platform) -> bool {
        for w in self.order() {
            let (am, bm) = (matches_one(w, a), matches_one(w, b));
            if am && !bm {
                return true;
            }
            if am || bm {
                return false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_and_order() {
        let amd = Platform::new("linux", "amd64", "");
        let m = Matcher::only(&amd);
        assert!(m.matches(&Platform::new("linux", "x86_64", "v1")));
        assert!(m.matches(&Platform::new("linux", "386", "")));
        assert!(!m.matches(&Platform::new("linux", "amd64", "v2")));
        assert!(m.less(&amd, &Platform::new("linux", "386", "")));
        assert!(!m.less(
            &Platform::new("linux", "arm64", ""),
            &Platform::new("linux", "s390x", "")
        ));
        let arm64 = Matcher::only(&Platform::new("linux", "arm64", ""));
        assert!(arm64.matches(&Platform::new("linux", "arm", "v5")));
        assert!(!arm64.matches(&amd));
        let all = Matcher::all_preferring(&amd);
        assert!(all.matches(&Platform::new("linux", "arm64", "")));
        assert!(all.less(&amd, &Platform::new("linux", "arm64", "")));
    }

    #[test]
    fn parse_keeps_explicit_arm64_variant() {
        assert_eq!(parse("linux/arm64/v8").map(|p| p.format()), Ok("linux/arm64/v8".into()));
        assert_eq!(parse("linux/arm64").map(|p| p.format()), Ok("linux/arm64".into()));
        assert_eq!(parse("linux/aarch64").map(|p| p.format()), Ok("linux/arm64".into()));
        assert_eq!(parse("linux/arm").map(|p| p.format()), Ok("linux/arm/v7".into()));
        assert!(Matcher::strict(&Platform::new("linux", "arm64", "v8")).matches(&Platform::new("linux", "arm64", "")));
    }

    #[test]
    fn parse_validates_as_containerd() {
        for bad in [
            "",
            "/",
            "linux/",
            "linux//v7",
            "linux/amd64/v1/x",
            "linux/*",
            "foo",
            "li nux/amd64",
            "linux/am$d64",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        // A pair is taken as given (an image may name any platform)...
        assert_eq!(parse("foo/bar").map(|p| p.format()), Ok("foo/bar".into()));
        assert_eq!(
            parse("windows(10.0.17763)/amd64").map(|p| p.os_version),
            Ok("10.0.17763".into())
        );
        assert_eq!(parse("arm64").map(|p| p.format()), Ok("linux/arm64".into()));
        assert_eq!(parse("linux").map(|p| p.os), Ok("linux".into()));
        // ...but a node's platform must be one containerd knows.
        assert!(parse_host("foo/bar").is_err());
        assert!(parse_host("linux/bar").is_err());
        assert!(parse_host("foo/amd64").is_err());
        assert_eq!(
            parse_host("linux/arm/v7").map(|p| p.format()),
            Ok("linux/arm/v7".into())
        );
        assert_eq!(parse_host("linux/x86_64").map(|p| p.format()), Ok("linux/amd64".into()));
    }
}
