//! `coldctr meta-diff [--against FILE]`: what changed between the previous transaction of
//! meta.db and the current one, or between another copy of meta.db (FILE: a backup, an earlier
//! seizure) and this root's. Exit 0 when the records are the same, 1 when they differ (as
//! `diff`), 3 when either view is damaged. A bare file as --root is read as itself (as
//! `recover` does), and a snapshotter's metadata.db diffs its backend snapshot records.

use super::context::Global;
use super::{Failure, Outcome, warn};
use crate::bolt::{Db, MetaChoice};
use crate::containerd::records::Damage;
use crate::meta_diff::{MetaDiff, diff, records_of_file, schema_of};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct MetaDiffArgs {
    /// Compare this copy of meta.db (the older side) with the root's, instead of the previous
    /// transaction with the current one.
    #[arg(long, value_name = "FILE")]
    against: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON, for programs.
    Json,
}

pub fn run(global: &Global, args: MetaDiffArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    super::context::no_salvage(global, "meta-diff")?;
    super::context::containerd_only(global, "meta-diff")?;
    super::context::no_namespace(global, "meta-diff", "compares the whole of two transactions")?;
    if global.previous && args.against.is_none() {
        // Without --against both sides would be the previous transaction: nothing compared.
        return Err(Failure::new(
            Outcome::Usage,
            "meta-diff compares the previous transaction with the current one already; --previous applies with --against (FILE against the root's previous transaction)",
        ));
    }
    let opened;
    let root_db: &Db = if global.root.is_file() {
        // A bare file is read as itself, whatever its name or place.
        opened = Db::open(&global.root, global.read_mode())?;
        &opened
    } else {
        let root = global.open_live()?;
        opened = root.meta;
        &opened
    };
    let mut damage = Damage::new();
    let (from_name, from, from_damaged) = match &args.against {
        Some(file) => {
            super::given_file(file)?;
            let db = Db::open(file, global.read_mode())?;
            let tx = db.view(MetaChoice::Current)?;
            // Two schemas have no records in common: every one would be "removed" and
            // "added" (sweep 42, L4). Refused, naming both.
            let (theirs, ours) = (schema_of(&tx), schema_of(&root_db.view(global.meta_choice())?));
            if theirs != ours {
                return Err(Failure::new(
                    Outcome::Usage,
                    format!(
                        "{} is {theirs} and {} is {ours}: their records have nothing in common to compare",
                        crate::text::escape(file.as_os_str().as_encoded_bytes()),
                        crate::text::escape(root_db.path().as_os_str().as_encoded_bytes())
                    ),
                ));
            }
            fallen_back(&db, tx.meta().txid, &mut damage);
            let before = damage.len();
            let records = read_view(&tx, &mut damage);
            (
                format!("{} (txid {})", file.display(), tx.meta().txid),
                records,
                damage.len() > before,
            )
        }
        None => {
            let tx = root_db.view(MetaChoice::Previous)?;
            let before = damage.len();
            let records = read_view(&tx, &mut damage);
            (
                format!(
                    "{} previous transaction (txid {})",
                    root_db.path().display(),
                    tx.meta().txid
                ),
                records,
                damage.len() > before,
            )
        }
    };
    let tx = root_db.view(global.meta_choice())?;
    if global.meta_choice() == MetaChoice::Current {
        fallen_back(root_db, tx.meta().txid, &mut damage);
    }
    let to_name = format!("{} (txid {})", root_db.path().display(), tx.meta().txid);
    let before = damage.len();
    let to = read_view(&tx, &mut damage);
    let to_damaged = damage.len() > before;
    // A side whose records did not read at all (its root page lost: a commit whose meta
    // landed and whose pages did not) would make every record of the other "removed" or
    // "added" (sweep 43.4: "131 removed" for one record added). No comparison then.
    let unread = [
        (&from_name, from.is_empty() && from_damaged),
        (&to_name, to.is_empty() && to_damaged),
    ];
    if let Some((name, _)) = unread.iter().find(|(_, unread)| *unread)
        && !(from.is_empty() && to.is_empty())
    {
        for note in damage.distinct() {
            warn(crate::text::one_line(&note.message));
        }
        warn(format_args!(
            "{}: no record of it reads (its damage is said above): nothing compared",
            crate::text::escape(name.as_bytes())
        ));
        return Ok(Outcome::Damaged);
    }
    let d = diff(from, to);
    // Records on the pages of a side that did not read are missing from it, and listed as
    // removed (or added): said, so that none is taken for a change the commit made.
    for (damaged, n, name, as_what) in [
        (to_damaged, d.removed.len(), &to_name, "removed"),
        (from_damaged, d.added.len(), &from_name, "added"),
    ] {
        if damaged && n > 0 {
            warn(format_args!(
                "{}: met damage (said below): records on its pages that did not read are listed as {as_what}, so of the {n} {as_what}, some may not be",
                crate::text::escape(name.as_bytes())
            ));
        }
    }
    match args.format {
        Format::Json => {
            let body = serde_json::json!({ "from": from_name, "to": to_name, "added": d.added, "removed": d.removed, "changed": d.changed, "damage": damage });
            serde_json::to_writer_pretty(&mut *out, &body).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => table(&from_name, &to_name, &d, out)?,
    }
    for note in damage.distinct() {
        warn(crate::text::one_line(&note.message));
    }
    Ok(if !damage.is_empty() {
        Outcome::Damaged
    } else if d.is_empty() {
        Outcome::Ok
    } else {
        Outcome::No
    })
}

/// The current transaction read through the older meta page, because the newer one is invalid:
/// damage (the README's rule), and said, since the side compared is not the file's last commit.
fn fallen_back(db: &Db, txid: u64, damage: &mut Damage) {
    if db.fell_back() {
        damage.push(format!(
            "{}: the newer meta page is invalid; compared the previous transaction (txid {txid}, meta page {}) instead",
            db.path().display(),
            db.current_slot()
        ));
    }
}

/// The records of a view, and, as damage, what keeps bbolt from opening it (its high-water mark
/// past the file's end, a freelist that is none), whether or not a record lies there: `verify`
/// says the same.
fn read_view(
    tx: &crate::bolt::Tx<'_>,
    damage: &mut Damage,
) -> std::collections::BTreeMap<crate::meta_diff::RecordKey, serde_json::Value> {
    for e in crate::bolt::check::view_damage(tx) {
        damage.push(e);
    }
    records_of_file(tx, damage)
}

fn table(from: &str, to: &str, d: &MetaDiff, out: &mut dyn Write) -> std::io::Result<()> {
    let esc = |s: &str| crate::text::escape(s.as_bytes());
    writeln!(out, "from {}", esc(from))?;
    writeln!(out, "to   {}", esc(to))?;
    if d.is_empty() {
        return writeln!(out, "No record differs.");
    }
    // Record names are escaped already (`records::key_name`): only control characters are
    // left to escape, so that the printed name selects the record again.
    let name = |k: &crate::meta_diff::RecordKey| {
        let n = crate::text::one_line(&k.name);
        if k.namespace.is_empty() {
            n.into_owned()
        } else {
            format!("{}/{n}", crate::text::one_line(&k.namespace))
        }
    };
    for r in &d.removed {
        writeln!(out, "- {} {}", r.key.kind, name(&r.key))?;
    }
    for r in &d.added {
        writeln!(out, "+ {} {}", r.key.kind, name(&r.key))?;
    }
    for c in &d.changed {
        writeln!(out, "~ {} {}", c.key.kind, name(&c.key))?;
        // A value prints as its JSON text, whose escapes already make it one line of no
        // control characters (escaping that text again doubled every backslash and quote).
        for f in &c.fields {
            writeln!(out, "    {}: {} -> {}", esc(&f.field), f.from, f.to)?;
        }
    }
    writeln!(
        out,
        "{} removed, {} added, {} changed",
        d.removed.len(),
        d.added.len(),
        d.changed.len()
    )
}
