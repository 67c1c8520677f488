//! The page table, like `bbolt pages`: every page id with its type, element count and
//! overflow, plus what `bbolt pages` cannot show: non-zero pages past the high-water mark,
//! written by a transaction whose meta never landed (or left by a shrinking compaction).

use super::Tx;
use super::check::usage;
use super::page::{HEADER_SIZE, type_name};
use crate::bytes::Bytes;

/// One row of the page table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PageRow {
    pub id: u64,
    /// `meta`, `branch`, `leaf`, `freelist`, `free`, `unknown<xx>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub count: Option<u16>,
    pub overflow: Option<u32>,
    /// Set for pages at or past the high-water mark that hold data.
    pub above_hwm: bool,
    /// Anything odd about the row (header id mismatch, overflow past the end).
    pub note: Option<String>,
}

/// Every page of the view, free pages included, then non-zero pages past the high-water mark.
pub fn list(tx: &Tx<'_>) -> Vec<PageRow> {
    let usage = usage(tx);
    let db = tx.db();
    let file = Bytes::new(db.file(), db.endian());
    let ps = u64::from(db.page_size());
    let file_pages = db.file_size() / ps;
    let hwm = tx.hwm();
    let mut rows = Vec::new();
    let mut id = 0u64;
    while id < hwm.min(file_pages) {
        if usage.free.contains_key(&id) && !usage.reachable.contains_key(&id) {
            rows.push(PageRow {
                id,
                kind: "free".into(),
                count: None,
                overflow: None,
                above_hwm: false,
                note: None,
            });
            id += 1;
            continue;
        }
        let row = header_row(&file, id, ps, false);
        let overflow = u64::from(row.overflow.unwrap_or(0));
        let step = if id.saturating_add(overflow) < hwm {
            overflow + 1
        } else {
            1
        };
        rows.push(row);
        id += step;
    }
    if hwm > file_pages {
        rows.push(PageRow {
            id: file_pages,
            kind: "missing".into(),
            count: None,
            overflow: None,
            above_hwm: false,
            note: Some(format!(
                "file ends at page {file_pages} but the high-water mark is {hwm}"
            )),
        });
    }
    // Past the high-water mark, only pages with data on disk: a sparse tail of terabytes is
    // zeros, and holds no page.
    let data = db.data();
    let mut id = hwm;
    while id < file_pages {
        let at = id.saturating_mul(ps);
        match data.next_data(at) {
            None => break,
            Some(next) if next >= at.saturating_add(ps) => {
                id = next / ps;
                continue;
            }
            Some(_) => {}
        }
        let start = (id * ps) as usize;
        let nonzero = file
            .slice(start, ps as usize)
            .is_some_and(|p| p.iter().any(|&b| b != 0));
        if nonzero {
            rows.push(header_row(&file, id, ps, true));
        }
        id += 1;
    }
    rows
}

fn header_row(file: &Bytes<'_>, id: u64, ps: u64, above_hwm: bool) -> PageRow {
    let header = usize::try_from(id * ps).ok().and_then(|o| file.sub(o, HEADER_SIZE));
    let Some(h) = header else {
        return PageRow {
            id,
            kind: "missing".into(),
            count: None,
            overflow: None,
            above_hwm,
            note: Some("page lies past the end of the file".into()),
        };
    };
    let (header_id, flags, count, overflow) = (
        h.u64_at(0).unwrap_or(0),
        h.u16_at(8).unwrap_or(0),
        h.u16_at(10).unwrap_or(0),
        h.u32_at(12).unwrap_or(0),
    );
    let mut note = (header_id != id).then(|| format!("header says page {header_id}"));
    if above_hwm {
        note = Some(note.map_or("data above the high-water mark".into(), |n| {
            format!("data above the high-water mark; {n}")
        }));
    }
    PageRow {
        id,
        kind: type_name(flags),
        count: Some(count),
        overflow: Some(overflow),
        above_hwm,
        note,
    }
}
