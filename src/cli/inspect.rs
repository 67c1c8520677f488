//! `coldctr inspect REF...`: prints what the Docker 28.5 CLI prints for
//! `docker image inspect REF...` against a dockerd on the containerd image store.
//!
//! Like the CLI, each reference is inspected on its own; the ones that fail are reported on
//! stderr (the daemon's message) and the others still printed; the exit code is 1 when any
//! failed. Without `--format`, the bodies are joined into an array and indented with four
//! spaces (Go's `json.Indent`); `--format json` prints that array compact; any other
//! `--format` is a Go template run on each image ([`crate::template`]), as the CLI runs it.

use super::context::{Global, content_outcome, image_namespace};
use super::{Failure, Outcome, warn};
use crate::containerd::root::unlike_record;
use crate::image::platform::{self, Platform};
use crate::inspect::gojson::J;
use crate::inspect::{ApiVersion, Inspector, Options, Shaped, gotypes};
use crate::template::{MissingKey, Numbers, Template, TemplateError, Value};
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
    /// `json`, or a Go template as docker takes it: `{{json .Config}}`, `{{.Config.Env}}`,
    /// `{{index .RepoTags 0}}`, `{{range .RepoTags}}{{.}} {{end}}`, `{{printf "%s" .Os}}`...
    #[arg(short, long)]
    format: Option<String>,
}

pub fn run(global: &Global, args: InspectArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let api = args.api_version.unwrap_or(ApiVersion::DEFAULT);
    if args.platform.is_some() && api < ApiVersion(49) {
        // The docker CLI refuses before asking the daemon, and prints nothing on stdout; its
        // words as it prints them, without our prefix, as the daemon's errors (sweep 29.11).
        crate::say!(
            "\"--platform\" requires API version 1.49, but the Docker daemon API version is 1.{}",
            api.0
        );
        return Err(Failure::quiet(Outcome::No));
    }
    let format = Format::parse(args.format.as_deref())?;
    if let Some(store) = super::graph_images::store(global) {
        return graph_run(&store, &args.refs, &format, out);
    }
    // A few references are point lookups (pages read as asked for); many read most record
    // pages, which the map serves best.
    let root = if args.refs.len() <= crate::inspect::LEAN_LOOKUPS {
        global.open_root_reading(global.lookup_mode())?
    } else {
        global.open_root()?
    };
    let tx = root.view(global.meta_choice())?;
    let view_damage = view_damage(&tx);
    let namespace = image_namespace(global, &tx)?;
    let options = Options {
        api,
        platform: args.platform,
        host: global.host(),
        snapshotter: args.snapshotter,
    };
    let inspector = Inspector::new(&root, tx, &namespace, options);
    // As the docker CLI: each reference on its own, the errors (the daemon's, the template's)
    // joined in reference order after the output. Bodies are serialized on the workers and
    // written a batch at a time: 10,000 images are never held in memory as one document.
    let mut errors = Vec::new();
    let mut written = 0usize;
    let mut io = Ok(());
    let mut put = |text: &str| {
        if io.is_ok() {
            io = out.write_all(text.as_bytes());
        }
    };
    let shape = |result: Result<J, crate::inspect::InspectError>| -> Shaped {
        match result {
            // The message can carry names and digests from the data: escaped.
            Err(e) => Shaped::fixed(Err(format!(
                "Error response from daemon: {}",
                crate::text::escape(e.to_string().as_bytes())
            ))),
            // A body the docker CLI cannot decode into its types: it prints no element for the
            // image, and encoding/json's error (sweep 26).
            Ok(body) if let Some(e) = gotypes::cli_decode_error(&body) => {
                Shaped::fixed(Err(crate::text::escape_hazards(&e).into_owned()))
            }
            Ok(body) => match &format {
                Format::Indented => {
                    let mut text = String::new();
                    body.write_indented(&mut text, true, "    ", 1);
                    Shaped::fixed(Ok(text))
                }
                Format::Json => Shaped::fixed(Ok(body.to_compact(true))),
                Format::Template(t) => {
                    let json: serde_json::Value = serde_json::from_str(&body.to_compact(false)).unwrap_or_default();
                    execute(t, &json, Some(&gotypes::inspect_response(&json)))
                }
            },
        }
    };
    // Whether an earlier reference fell back to its raw body ([`execute`]).
    let mut fell_back = false;
    inspector.inspect_each(&args.refs, INSPECT_BATCH, shape, |shaped| {
        match shaped.in_order(&mut fell_back) {
            Err(e) => errors.push(e),
            Ok(text) => {
                match &format {
                    Format::Indented => put(if written == 0 { "[\n" } else { ",\n" }),
                    Format::Json => put(if written == 0 { "[" } else { "," }),
                    Format::Template(_) => {}
                }
                put(&text);
                written += 1;
            }
        }
    });
    match &format {
        Format::Indented if written == 0 => put("[]\n"),
        Format::Indented => put("\n]\n"),
        Format::Json if written == 0 => put("[]\n"),
        Format::Json => put("]\n"),
        // The CLI prints one newline when no template output came.
        Format::Template(_) if written == 0 => put("\n"),
        Format::Template(_) => {}
    }
    io?;
    let mut outcome = said_after_walks(&inspector, &root, &view_damage);
    for e in &errors {
        crate::say!("{e}");
    }
    if !errors.is_empty() {
        outcome = outcome.worst(Outcome::No);
    }
    Ok(outcome)
}

/// `inspect` of the graph-driver image store (dockerd 20.10 to 27): the bodies dockerd 20.10
/// sends, printed as the CLI prints them; a reference not found is the CLI's own message
/// (`Error: No such image: <as given>`), any other error the daemon's.
fn graph_run(
    store: &crate::containers::graph_images::GraphImages,
    refs: &[String],
    format: &Format,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    use crate::containers::graph_images::Lookup;
    let mut errors = Vec::new();
    let mut text = String::new();
    let mut written = 0usize;
    let mut fell_back = false;
    for r in refs {
        let body = match store.inspect(r) {
            Ok(body) => body,
            Err(Lookup::NotFound(_)) => {
                errors.push(format!("Error: No such image: {}", crate::text::escape(r.as_bytes())));
                continue;
            }
            Err(Lookup::Invalid(m)) => {
                errors.push(format!(
                    "Error response from daemon: {}",
                    crate::text::escape(m.as_bytes())
                ));
                continue;
            }
        };
        let shaped = match format {
            Format::Indented => {
                let mut t = String::new();
                body.write_indented(&mut t, false, "    ", 1);
                Ok(t)
            }
            Format::Json => Ok(body.to_compact(false)),
            Format::Template(t) => {
                let json: serde_json::Value = serde_json::from_str(&body.to_compact(false)).unwrap_or_default();
                execute(t, &json, Some(&gotypes::inspect_response(&json))).in_order(&mut fell_back)
            }
        };
        match shaped {
            Err(e) => errors.push(e),
            Ok(t) => {
                match format {
                    Format::Indented => text.push_str(if written == 0 { "[\n" } else { ",\n" }),
                    Format::Json => text.push_str(if written == 0 { "[" } else { "," }),
                    Format::Template(_) => {}
                }
                text.push_str(&t);
                written += 1;
            }
        }
    }
    match format {
        Format::Indented if written == 0 => text.push_str("[]\n"),
        Format::Indented => text.push_str("\n]\n"),
        Format::Json if written == 0 => text.push_str("[]\n"),
        Format::Json => text.push_str("]\n"),
        Format::Template(_) if written == 0 => text.push('\n'),
        Format::Template(_) => {}
    }
    out.write_all(crate::text::escape_hazards(&text).as_bytes())?;
    let mut outcome = super::graph_images::said(store);
    for e in &errors {
        crate::say!("{e}");
    }
    if !errors.is_empty() {
        outcome = outcome.worst(Outcome::No);
    }
    Ok(outcome)
}

/// What is wrong with the view the image lookups read: pages it counts as its own that are
/// missing, or bbolt could not open it (as verify says), or no `v1` where the root holds keys
/// (every lookup would say "No such image": a resweep of sweep 30, exit 1, no damage named).
pub(super) fn view_damage(tx: &crate::bolt::Tx<'_>) -> Vec<crate::bolt::BoltError> {
    let mut damage = crate::bolt::check::view_damage(tx);
    if matches!(tx.bucket_at(&[b"v1"]), Ok(None))
        && let Some(e) = crate::containerd::records::no_containerd_tree(tx)
    {
        damage.push(e);
    }
    damage
}

/// What the walks of `inspector` met, said on stderr after its output (what dockerd would
/// have logged, blobs missing or damaged, damaged pages of meta.db, the view's own damage),
/// and the exit code that says it; shared by `inspect` and `history`.
pub(super) fn said_after_walks(
    inspector: &Inspector<'_>,
    root: &crate::containerd::root::Root,
    view_damage: &[crate::bolt::BoltError],
) -> Outcome {
    let mut outcome = Outcome::Ok;
    let missing = inspector.missing.lock().map(|m| m.clone()).unwrap_or_default();
    // A manifest, index or config that did not decode because its blob is damaged: dockerd's
    // error (`unexpected EOF`) names no blob; this does.
    let damaged = inspector.damaged.lock().map(|d| d.clone()).unwrap_or_default();
    let mut said = std::collections::BTreeSet::new();
    if let Ok(w) = inspector.warnings.lock() {
        for message in w.iter() {
            // A lost or damaged blob dockerd's message names (its config, say) is said on
            // that line, after what dockerd logs.
            let named = |digest: &String| message.contains(digest.as_str());
            let lost: Vec<(String, String)> = missing
                .iter()
                .filter(|(digest, _)| named(digest))
                .map(|(digest, size)| (digest.clone(), format!("; {}", unlike_record(digest, size, "missing"))))
                .chain(
                    damaged
                        .iter()
                        .filter(|(digest, _)| named(digest))
                        .map(|(digest, why)| (digest.clone(), format!("; {why}"))),
                )
                .collect();
            let lost: Vec<String> = lost
                .into_iter()
                .map(|(digest, line)| {
                    said.insert(digest);
                    line
                })
                .collect();
            warn(crate::text::one_line(&format!("{message}{}", lost.concat())).into_owned());
        }
        // What dockerd only logs is a blob that could not be read or decoded: damage met,
        // though stdout is what docker prints.
        if !w.is_empty() {
            outcome = outcome.worst(Outcome::Damaged);
        }
    }
    for (digest, size) in missing.iter().filter(|(d, _)| !said.contains(*d)) {
        warn(crate::text::escape(unlike_record(digest, size, "missing").as_bytes()));
    }
    if !missing.is_empty() {
        outcome = outcome.worst(Outcome::Damaged);
    }
    for (_, why) in damaged.iter().filter(|(d, _)| !said.contains(*d)) {
        warn(crate::text::escape(why.as_bytes()));
    }
    if !damaged.is_empty() {
        outcome = outcome.worst(Outcome::Damaged);
    }
    outcome = outcome.worst(content_outcome(root));
    for e in view_damage {
        warn(crate::text::one_line(&e.to_string()));
        outcome = outcome.worst(Outcome::Damaged);
    }
    if let Ok(d) = inspector.damage.lock()
        && !d.is_empty()
    {
        for note in d.distinct() {
            warn(crate::text::one_line(&note.message));
        }
        // Records on damaged pages were skipped: tags and digests may be missing.
        outcome = outcome.worst(Outcome::Damaged);
    }
    // Said where it was met (an error's message, a warning); counted here.
    if inspector.meta_damage.load(std::sync::atomic::Ordering::Relaxed) {
        outcome = outcome.worst(Outcome::Damaged);
    }
    if inspector.meta_unreadable.load(std::sync::atomic::Ordering::Relaxed) {
        outcome = outcome.worst(Outcome::Unreadable);
    }
    outcome
}

/// References inspected and serialized together before their output is written (a few per
/// worker of the pool of at most three, so none waits long at the end of a batch).
const INSPECT_BATCH: usize = 96;

/// What `--format` asks for.
enum Format {
    /// No `--format` (or an empty one): the bodies as an indented array.
    Indented,
    /// `json`: the same, compact.
    Json,
    /// A Go template, run on each image.
    Template(Template),
}

impl Format {
    fn parse(s: Option<&str>) -> Result<Format, Failure> {
        match s {
            None | Some("") => Ok(Format::Indented),
            Some("json") => Ok(Format::Json),
            Some(t) => match Template::parse(t) {
                Ok(t) => Ok(Format::Template(t)),
                Err(e) => {
                    // docker prints only this line (exit 64, sysexits' EX_USAGE); ours is the
                    // usage exit code.
                    crate::say!("template parsing error: {e}");
                    Err(Failure::quiet(Outcome::Usage))
                }
            },
        }
    }
}

/// Runs the template as the docker CLI's `TemplateInspector` does: on the body decoded into its
/// Go type (`typed`: `image.InspectResponse`, `container.InspectResponse`); when that fails, on
/// the raw body decoded into `interface{}`, through `tmpl.Option("missingkey=error")`, whose
/// error is the one reported. That call sets the option on the one template the CLI keeps, so
/// every later reference runs with it, typed pass included: the outcome after such a fallback
/// is kept beside the first. A body with no Go type (`None`) is run on the raw body alone.
///
/// The typed pass runs with `missingkey=error` first: where it succeeds no missing key was met
/// and the default gives the same text, so one pass is all most bodies take.
pub(super) fn execute(t: &Template, json: &serde_json::Value, typed: Option<&Value>) -> Shaped {
    // Data never puts escape sequences on the terminal; what the template wrote stays.
    let shown = |r: Result<String, TemplateError>| match r {
        Ok(text) => Ok(crate::text::escape_hazards(&format!("{text}\n")).into_owned()),
        // An execution error quotes the data (`range can't iterate over <value>`): escaped too.
        Err(e) => Err(crate::text::escape_hazards(&format!("template parsing error: {e}")).into_owned()),
    };
    let raw_value = || Value::from_json(json, Numbers::JsonNumber);
    let Some(typed) = typed else {
        return Shaped {
            now: shown(t.render(&raw_value(), MissingKey::Default)),
            after_fallback: Some(shown(t.render(&raw_value(), MissingKey::Error))),
            falls_back: false,
        };
    };
    let strict = t.render(typed, MissingKey::Error);
    if strict.is_ok() {
        return Shaped::fixed(shown(strict));
    }
    let raw = shown(t.render(&raw_value(), MissingKey::Error));
    match t.render(typed, MissingKey::Default) {
        // Only the strict pass fails: after a fallback this one falls back too.
        Ok(text) => Shaped {
            now: shown(Ok(text)),
            after_fallback: Some(raw),
            falls_back: false,
        },
        Err(_) => Shaped {
            now: raw,
            after_fallback: None,
            falls_back: true,
        },
    }
}
