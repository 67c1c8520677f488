//! `coldctr inspect REF...`: prints what the Docker 28.5 CLI prints for
//! `docker image inspect REF...` against a dockerd on the containerd image store.
//!
//! Like the CLI, each reference is inspected on its own; the ones that fail are reported on
//! stderr (the daemon's message) and the others still printed; the exit code is 1 when any
//! failed. Without `--format`, the bodies are joined into an array and indented with four
//! spaces (Go's `json.Indent`); `--format json` prints that array compact.

use super::context::{Global, content_outcome, image_namespace};
use super::{Failure, Outcome, warn};
use crate::image::document::ContainerConfig;
use crate::image::platform::{self, Platform};
use crate::inspect::gojson::{J, indent};
use crate::inspect::response::config_members;
use crate::inspect::{ApiVersion, Inspector, Options};
use clap::Args;
use std::io::Write;

#[derive(Args)]
pub struct InspectArgs {
    /// Image references: name[:tag], name@digest, full or short image ID.
    #[arg(required = true)]
    refs: Vec<String>,
    /// Docker API version whose response shape to print (docker 28.5 defaults to 1.51).
    #[arg(long, env = "DOCKER_API_VERSION", value_parser = ApiVersion::parse)]
    api_version: Option<ApiVersion>,
    /// Only this platform (os/arch[/variant]), as `docker image inspect --platform`.
    #[arg(long, value_parser = platform::parse)]
    platform: Option<Platform>,
    /// The snapshotter dockerd used (printed as GraphDriver.Name).
    #[arg(long, default_value = "overlayfs")]
    snapshotter: String,
    /// `json`, or a template: `{{json .Config}}`, `{{json .Field}}`, `{{.Field}}`.
    #[arg(short, long)]
    format: Option<String>,
}

pub fn run(global: &Global, args: InspectArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let api = args.api_version.unwrap_or(ApiVersion::DEFAULT);
    if args.platform.is_some() && api < ApiVersion(49) {
        // The docker CLI refuses before asking the daemon, and prints nothing on stdout.
        return Err(Failure::new(
            Outcome::No,
            format!(
                "\"--platform\" requires API version 1.49, but the Docker daemon API version is 1.{}",
                api.0
            ),
        ));
    }
    let template = args.format.as_deref().map(Template::parse).transpose()?;
    let root = global.open_root()?;
    let tx = root.view(global.meta_choice())?;
    let namespace = image_namespace(global, &tx)?;
    let options = Options {
        api,
        platform: args.platform,
        host: global.host(),
        snapshotter: args.snapshotter,
    };
    let inspector = Inspector::new(&root, tx, &namespace, options);
    let mut bodies = Vec::new();
    let mut outcome = Outcome::Ok;
    for result in inspector.inspect_all(&args.refs) {
        match result {
            Ok(body) => bodies.push(body),
            Err(e) => {
                // The message can carry names and digests from the data: escaped.
                eprintln!(
                    "Error response from daemon: {}",
                    crate::text::escape(e.to_string().as_bytes())
                );
                outcome = Outcome::No;
            }
        }
    }
    if let Ok(w) = inspector.warnings.lock() {
        for message in w.iter() {
            warn(crate::text::escape(message.as_bytes()));
        }
        // What dockerd only logs is a blob that could not be read or decoded: damage met,
        // though stdout is what docker prints.
        if !w.is_empty() {
            outcome = outcome.worst(Outcome::Damaged);
        }
    }
    outcome = outcome.worst(content_outcome(&root));
    if let Ok(d) = inspector.damage.lock()
        && !d.is_empty()
    {
        for message in d.iter() {
            warn(crate::text::escape(message.as_bytes()));
        }
        // Records on damaged pages were skipped: tags and digests may be missing.
        outcome = outcome.worst(Outcome::Damaged);
    }
    match template {
        None | Some(Template::Json) => {
            let joined = format!(
                "[{}]",
                bodies.iter().map(|b| b.to_compact(true)).collect::<Vec<_>>().join(",")
            );
            if template.is_none() {
                writeln!(out, "{}", indent(&joined, "    "))?;
            } else {
                writeln!(out, "{joined}")?;
            }
        }
        Some(t) => {
            for body in &bodies {
                writeln!(out, "{}", t.render(body)?)?;
            }
        }
    }
    Ok(outcome)
}

/// The `--format` values we support: the docker CLI's Go templates, in their common forms.
enum Template {
    Json,
    /// `{{json .Field}}`
    JsonField(String),
    /// `{{.Field}}`
    Field(String),
}

impl Template {
    fn parse(s: &str) -> Result<Template, Failure> {
        let unsupported = || {
            Failure::new(
                Outcome::No,
                format!("unsupported --format {s:?}: use json, {{{{json .Field}}}} or {{{{.Field}}}}"),
            )
        };
        if s == "json" {
            return Ok(Template::Json);
        }
        let inner = s
            .trim()
            .strip_prefix("{{")
            .and_then(|r| r.strip_suffix("}}"))
            .ok_or_else(unsupported)?
            .trim();
        let field = |f: &str| {
            let f = f.strip_prefix('.').ok_or_else(unsupported)?;
            if f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(unsupported());
            }
            Ok(f.to_string())
        };
        match inner.strip_prefix("json ") {
            Some(f) => Ok(Template::JsonField(field(f.trim())?)),
            None => Ok(Template::Field(field(inner)?)),
        }
    }

    /// The CLI decodes the body into its Go types and re-encodes without HTML escaping;
    /// `Config` then has its struct order and its null members are gone.
    fn render(&self, body: &J) -> Result<String, Failure> {
        let missing = |f: &str| Failure::new(Outcome::No, format!("template: can't evaluate field {f}"));
        match self {
            Template::Json => Ok(body.to_compact(true)),
            Template::JsonField(f) if f == "Config" => {
                let cfg = body.get("Config").ok_or_else(|| missing(f))?;
                Ok(J::Obj(config_struct_order(cfg)).to_compact(false))
            }
            Template::JsonField(f) => Ok(body.get(f).ok_or_else(|| missing(f))?.to_compact(false)),
            Template::Field(f) => match body.get(f).ok_or_else(|| missing(f))? {
                J::Str(s) => Ok(crate::text::escape(s.as_bytes())),
                J::Null => Ok("<nil>".into()),
                other => Ok(other.to_compact(false)),
            },
        }
    }
}

/// Re-orders a response `Config` into `DockerOCIImageConfig` struct order, dropping what the
/// struct would omit.
fn config_struct_order(cfg: &J) -> Vec<(String, J)> {
    let json = cfg.to_compact(false);
    let parsed: ContainerConfig = serde_json::from_str(&json).unwrap_or_default();
    config_members(&parsed)
}
