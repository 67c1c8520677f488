//! Go's `text/tabwriter` as docker's table formats use it (`NewWriter(out, 10, 1, 3, ' ', 0)`):
//! a cell ends at a tab; the cells of one column in consecutive lines that have it are padded
//! with spaces to the widest of them plus the padding, and at least the minimum width; the
//! text after a line's last tab is no cell of a column and is written as it is.
//!
//! ```text
//! CONTAINER ID\tNAMES\n        CONTAINER ID   NAMES
//! 942acddbaeac\tdev-running\n  942acddbaeac   dev-running
//! ```
//!
//! Widths count characters (Go counts runes), as the escaped text is printed.

/// `text` laid out in columns.
pub fn columns(text: &str, min_width: usize, padding: usize) -> String {
    let lines: Vec<(Vec<&str>, bool)> = text
        .split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(body) => (body.split('\t').collect(), true),
            None => (l.split('\t').collect(), false),
        })
        .collect();
    // widths[line][column], for each cell that a tab ends.
    let mut widths: Vec<Vec<usize>> = lines.iter().map(|(c, _)| vec![0; c.len().saturating_sub(1)]).collect();
    let columns = widths.iter().map(Vec::len).max().unwrap_or(0);
    for col in 0..columns {
        let mut line = 0;
        while line < lines.len() {
            if widths.get(line).is_none_or(|w| w.len() <= col) {
                line += 1;
                continue;
            }
            // A block: the consecutive lines with a cell in this column.
            let start = line;
            let mut width = min_width;
            while line < lines.len() && widths.get(line).is_some_and(|w| w.len() > col) {
                let cell = lines
                    .get(line)
                    .and_then(|(c, _)| c.get(col))
                    .map_or(0, |c| c.chars().count());
                width = width.max(cell.saturating_add(padding));
                line += 1;
            }
            for w in widths.iter_mut().take(line).skip(start) {
                if let Some(slot) = w.get_mut(col) {
                    *slot = width;
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for ((cells, newline), widths) in lines.iter().zip(&widths) {
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(i) {
                let pad = w.saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        if *newline {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_as_gos_tabwriter() {
        // Expected output from Go 1.19.8's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0).
        assert_eq!(
            columns("A\tBB\tC\nlonger cell here\tx\ty\n", 10, 3),
            "A                  BB        C\nlonger cell here   x         y\n"
        );
        // A line without a tab ends the column's block.
        assert_eq!(
            columns("a\tb\nno tabs\nccccccccccccc\td\n", 10, 3),
            "a         b\nno tabs\nccccccccccccc   d\n"
        );
        assert_eq!(columns("é\tx\n", 2, 1), "é x\n");
        assert_eq!(columns("", 10, 3), "");
    }
}
