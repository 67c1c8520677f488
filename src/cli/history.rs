//! `coldctr history IMAGE`: what `docker image history IMAGE` prints (docker/cli 28.5's
//! `image history` against dockerd 28.5 on the containerd image store), from disk
//! ([`crate::inspect::history`]).
//!
//! docker/cli's `historyContext` renders each entry: `ID` cut to 12 hex digits unless
//! `--no-trunc` (`<missing>` as it is), `CreatedBy` with tabs as spaces and cut to 45 columns
//! with `…`, `Size` as `units.HumanSizeWithPrecision(n, 3)` (bytes with `--human=false`),
//! `CreatedAt` as RFC 3339. One difference, by design, as `ps` has it: where docker prints an
//! age against the examiner's clock (`CreatedSince`, `12 seconds ago`), this prints the
//! recorded time (`N/A` for one before 2000, as docker); `--format json` (and its template,
//! `{{json .}}`, which docker prints the same way, `<` as `\u003c`) leaves `CreatedSince` out
//! then. With `--human=false`, docker prints times there too and the output is docker's byte
//! for byte (times in UTC: docker prints them in the examiner's zone).
//!
//! On a graph driver node (dockerd 20.10 to 27), the entries are dockerd 20.10's of its own
//! image store ([`crate::containers::graph_images`]).

use super::context::{Global, image_namespace};
use super::listings::table::human_size_with_precision;
use super::{Failure, Outcome, warn};
use crate::image::platform::{self, Platform};
use crate::inspect::gojson::J;
use crate::inspect::history::{Entry, Sizes};
use crate::inspect::{Inspector, Options};
use crate::template::{FieldDef as F, MissingKey, StructDef, Template, Type, Value};
use clap::{ArgAction, Args};
use std::io::Write;

#[derive(Args)]
pub struct HistoryArgs {
    /// The image: name[:tag], name@digest, full or short image ID.
    image: String,
    /// Sizes and times for people (the default): `--human=false` (or `-H=false`) prints sizes
    /// in bytes and times in RFC 3339, as docker's.
    #[arg(short = 'H', long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "true", default_missing_value = "true", value_name = "BOOL")]
    human: bool,
    /// Only the image IDs (with the default table; a `--format` given is used as given).
    #[arg(short, long)]
    quiet: bool,
    /// Print IDs and commands whole.
    #[arg(long)]
    no_trunc: bool,
    /// `table` (the default), `json` (one object a line, docker's keys), or a Go template run
    /// on each entry as docker's (`{{.ID}}\t{{.CreatedBy}}`, `table {{.Size}}\t{{.Comment}}`;
    /// fields: ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment).
    #[arg(long, value_name = "table|json|TEMPLATE")]
    format: Option<String>,
    /// The history of this platform's manifest (os[/arch[/variant]]), as `docker image history
    /// --platform`; default: the best present manifest for the node's platform.
    #[arg(long, value_parser = platform::parse)]
    platform: Option<Platform>,
    /// The snapshotter dockerd used (the layers' sizes are its usage of them).
    #[arg(long, default_value = "overlayfs")]
    snapshotter: String,
}

/// docker/cli's history formats (`newHistoryFormat`).
const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
const NON_HUMAN_TABLE: &str = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// The header row's column names (`historyWrite`'s `SubHeaderContext`).
const HEADER: [(&str, &str); 6] = [
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

/// docker/cli's `*image.historyContext`, whose methods a template calls; here its fields, in
/// the sorted order `{{json .}}` prints them.
static HISTORY_CONTEXT: StructDef = StructDef {
    name: "image.historyContext",
    fields: &[
        F::new("Comment", &Type::String),
        F::new("CreatedAt", &Type::String),
        F::new("CreatedBy", &Type::String),
        F::new("CreatedSince", &Type::String),
        F::new("ID", &Type::String),
        F::new("Size", &Type::String),
        // The embedded `formatter.HeaderContext`'s `Header any`: nil on a row.
        F::new("Header", &Type::Any).skip(),
    ],
    methods: &[],
};
static HISTORY_CONTEXT_T: Type = Type::Struct(&HISTORY_CONTEXT);
static HISTORY_CONTEXT_PTR: Type = Type::Ptr(&HISTORY_CONTEXT_T);

/// `time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()`: docker prints no age for a time
/// before it.
const EPOCH_2000: i64 = 946_684_800;

pub fn history(global: &Global, args: HistoryArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    if let Some(store) = super::graph_images::store(global) {
        // dockerd 20.10's `ImageHistory` over its own image store.
        let found = store.history(&args.image);
        let mut outcome = super::graph_images::said(&store);
        match found {
            Ok(entries) => write_entries(&entries, &args, out)?,
            Err(e) => {
                crate::say!("Error response from daemon: {}", crate::text::escape(e.as_bytes()));
                outcome = outcome.worst(Outcome::No);
            }
        }
        return Ok(outcome);
    }
    let root = global.open_root_reading(global.lookup_mode())?;
    let tx = root.view(global.meta_choice())?;
    let view_damage = super::inspect::view_damage(&tx);
    let namespace = image_namespace(global, &tx)?;
    let options = Options {
        platform: args.platform.clone(),
        snapshotter: args.snapshotter.clone(),
        ..Options::for_host(global.host())
    };
    let inspector = Inspector::new(&root, tx, &namespace, options);
    let sizes = Sizes {
        snapshotter: &args.snapshotter,
        mode: global.read_mode(),
    };
    let found = inspector.history(&args.image, &sizes);
    let mut outcome = Outcome::Ok;
    match found {
        Ok(h) => {
            write_entries(&h.entries, &args, out)?;
            // dockerd logs each such chain; one line says them all (an image of many layers
            // not unpacked would be as many lines).
            if let Some(first) = h.unsnapshotted.first() {
                warn(format_args!(
                    "{} of the image's {} layer chains have no {} snapshot (the image is not unpacked there; the first: {}): their sizes are 0, as dockerd gives them",
                    h.unsnapshotted.len(),
                    h.chains,
                    crate::text::escape(args.snapshotter.as_bytes()),
                    crate::text::escape(first.as_bytes()),
                ));
            }
            for d in &h.damage {
                warn(crate::text::one_line(d));
            }
            if !h.damage.is_empty() {
                outcome = Outcome::Damaged;
            }
            outcome = outcome.worst(super::inspect::said_after_walks(&inspector, &root, &view_damage));
        }
        Err(e) => {
            outcome = outcome.worst(super::inspect::said_after_walks(&inspector, &root, &view_damage));
            crate::say!(
                "Error response from daemon: {}",
                crate::text::escape(e.to_string().as_bytes())
            );
            outcome = outcome.worst(Outcome::No);
        }
    }
    Ok(outcome)
}

/// The entries as docker/cli's formatter writes them.
fn write_entries(entries: &[Entry], args: &HistoryArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let trunc = !args.no_trunc;
    // `formatter.TableFormatKey` when none is given; `newHistoryFormat`: for `table`, -q is
    // `{{.ID}}`; any other format is used as given, -q or not.
    let given = args.format.as_deref().filter(|f| !f.is_empty()).unwrap_or("table");
    let format = match given {
        "table" if args.quiet => "{{.ID}}",
        "table" if args.human => DEFAULT_TABLE,
        "table" => NON_HUMAN_TABLE,
        "json" => "{{json .}}",
        other => other,
    };
    let (table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, format),
    };
    let body = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
    let t = Template::parse(&body).map_err(|e| Failure::new(Outcome::Usage, format!("template parsing error: {e}")))?;
    let mut text = String::new();
    if format == "{{json .}}" {
        for e in entries {
            text.push_str(&context(e, trunc, args.human, true).to_compact(true));
            text.push('\n');
        }
        out.write_all(crate::text::escape_hazards(&text).as_bytes())?;
        return Ok(());
    }
    for e in entries {
        let row = context(e, trunc, args.human, false);
        let value = Value::decode(
            &serde_json::from_str(&row.to_compact(false)).unwrap_or_default(),
            &HISTORY_CONTEXT_PTR,
        );
        match t.render(&value, MissingKey::Default) {
            Ok(s) => {
                text.push_str(&s);
                text.push('\n');
            }
            Err(e) => {
                // docker's buffered output is never flushed when a row fails.
                return Err(Failure::new(
                    Outcome::No,
                    crate::text::escape_hazards(&format!("template parsing error: {e}")).into_owned(),
                ));
            }
        }
    }
    let text = crate::text::escape_hazards(&text);
    if table {
        let header = crate::text::escape_hazards(&t.sub_header_row(&HEADER)).into_owned();
        out.write_all(super::tabwriter::columns(&format!("{header}\n{text}"), 10, 3).as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// One entry as docker/cli's `historyContext` shows it (a JSON object, keys sorted): for
/// `--format json` (`as_json`), or for a template.
fn context(e: &Entry, trunc: bool, human: bool, as_json: bool) -> J {
    let id = if trunc { truncate_id(&e.id) } else { e.id.clone() };
    let created_at = created_at(e.created);
    let created_by = e.created_by.replace('\t', " ");
    let created_by = if trunc {
        super::ellipsis::ellipsis(&created_by, 45)
    } else {
        created_by
    };
    let size = if human {
        human_size_with_precision(e.size, 3)
    } else {
        e.size.to_string()
    };
    let mut members = vec![
        ("Comment".to_string(), J::str(e.comment.clone())),
        ("CreatedAt".to_string(), J::str(created_at.clone())),
        ("CreatedBy".to_string(), J::str(created_by)),
    ];
    // An age would be the examiner's clock: the recorded time stands in for it in a table or
    // template, and `--format json` leaves the key out; without --human, docker prints the
    // time there itself.
    match (human, e.created <= EPOCH_2000) {
        (true, true) => members.push(("CreatedSince".into(), J::str("N/A"))),
        (true, false) if as_json => {}
        _ => members.push(("CreatedSince".into(), J::str(created_at))),
    }
    members.push(("ID".into(), J::str(id)));
    members.push(("Size".into(), J::str(size)));
    J::Obj(members)
}

/// docker/cli's `formatter.TruncateID`: the part after a `:`, cut to 12 characters.
fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    id.chars().take(12).collect()
}

/// `time.Unix(created, 0).Format(time.RFC3339)`, in UTC.
fn created_at(unix: i64) -> String {
    crate::containerd::gotime::GoTime {
        unix,
        nanos: 0,
        offset: 0,
    }
    .rfc3339_nano()
}
