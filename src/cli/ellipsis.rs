//! docker/cli's `formatter.Ellipsis`: a string cut to a display width, `…` in place of the rest.
//!
//! ```text
//!  "sh -c 'echo running > /state'"  width 20   ->  "sh -c 'echo running…"
//!  "你好世界teststring"              width 6    ->  "你好…"    (你, 好: two columns each)
//! ```
//!
//! A string of ASCII alone is cut at `width - 1` characters. Any other string is measured in
//! columns: a code point counts two when golang.org/x/text/width (v0.24.0, the one docker/cli
//! 28.5 vendors) calls it EastAsianWide or EastAsianFullwidth (`wide::WIDE`), one otherwise,
//! and is cut after the last character that ends within `width - 1` columns. Go's quirks are
//! kept: a width of 1 is the first character whatever its width, and when no character ends
//! within `width - 1` columns (a wide first character and a width of 2) nothing is cut.

mod wide;

/// `Ellipsis(s, width)`.
pub fn ellipsis(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    if width == 1 {
        return s.chars().next().map(String::from).unwrap_or_default();
    }
    if s.is_ascii() {
        if s.len() <= width {
            return s.to_string();
        }
        return cut(s, width - 1);
    }
    let mut ends = Vec::new();
    let mut columns = 0usize;
    for c in s.chars() {
        columns += columns_of(c);
        ends.push(columns);
    }
    if columns <= width {
        return s.to_string();
    }
    // The first character whose end is within `width - 1` and whose successor's is past it.
    match ends
        .windows(2)
        .position(|w| matches!(w, [a, b] if *a < width && *b >= width))
    {
        Some(i) => cut(s, i + 1),
        None => s.to_string(),
    }
}

/// The first `n` characters of `s` and `…`.
fn cut(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    out.push('…');
    out
}

/// The columns docker/cli gives `c`: 2 for East Asian wide and fullwidth, else 1.
fn columns_of(c: char) -> usize {
    let c = u32::from(c);
    // Below the first wide range every character is one column (the common case).
    if c < 0x1100 {
        return 1;
    }
    match wide::WIDE.binary_search_by(|&(lo, hi)| {
        if hi < c {
            std::cmp::Ordering::Less
        } else if lo > c {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }) {
        Ok(_) => 2,
        Err(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docker/cli v28.5.1's TestEllipsis (cli/command/formatter/displayutils_test.go).
    #[test]
    fn docker_clis_own_cases() {
        for (source, width, expected) in [
            ("t🐳ststring", 0, ""),
            ("t🐳ststring", 1, "t"),
            ("t🐳ststring", 2, "t…"),
            ("t🐳ststring", 6, "t🐳st…"),
            ("t🐳ststring", 20, "t🐳ststring"),
            ("你好世界teststring", 0, ""),
            ("你好世界teststring", 1, "你"),
            ("你好世界teststring", 3, "你…"),
            ("你好世界teststring", 6, "你好…"),
            ("你好世界teststring", 20, "你好世界teststring"),
        ] {
            assert_eq!(ellipsis(source, width), expected, "{source:?} {width}");
        }
    }

    #[test]
    fn columns_follow_east_asian_width() {
        for (c, columns) in [
            ('a', 1),
            ('é', 1),
            ('\u{10FF}', 1),
            ('\u{1100}', 2), // the first wide range's start
            ('\u{115F}', 2), // and its end
            ('\u{1160}', 1),
            ('\u{3000}', 2),  // IDEOGRAPHIC SPACE: fullwidth
            ('\u{FF01}', 2),  // FULLWIDTH EXCLAMATION MARK
            ('\u{FF61}', 1),  // HALFWIDTH IDEOGRAPHIC FULL STOP
            ('\u{2FFFD}', 2), // an unassigned code point of the ideographic plane
            ('\u{3FFFD}', 2),
            ('\u{E0001}', 1),
            ('\u{10FFFF}', 1),
        ] {
            assert_eq!(columns_of(c), columns, "{:X}", u32::from(c));
        }
        assert!(
            wide::WIDE
                .windows(2)
                .all(|w| matches!(w, [a, b] if a.0 <= a.1 && a.1 < b.0))
        );
    }

    #[test]
    fn go_quirks_and_plain_cuts() {
        // A wide first character and width 2: no character ends within one column, so Go's
        // loop finds no cut and returns the string whole.
        assert_eq!(ellipsis("你好世界", 2), "你好世界");
        assert_eq!(ellipsis("", 1), "");
        assert_eq!(ellipsis("abcdef", 6), "abcdef");
        assert_eq!(ellipsis("abcdefg", 6), "abcde…");
        // Not ASCII but all one column: cut as characters.
        assert_eq!(ellipsis("éééééééé", 6), "ééééé…");
        // A wide character that would straddle the cut is left out whole.
        assert_eq!(ellipsis("abcd你好", 6), "abcd…");
        assert_eq!(ellipsis("abc你好", 6), "abc你…");
    }
}
