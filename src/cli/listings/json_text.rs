//! JSON written straight into a buffer, byte for byte as serde_json's printers write it: the
//! pretty one (`to_writer_pretty`: two spaces a level, `"key": value`, `{}` and `[]` when
//! empty) or the compact one. For the rows a listing prints by the ten thousand, where going
//! through `Serialize` (flattened structs, one call per punctuation mark) was a fifth of
//! `content`'s time. The rows keep their `Serialize` derive for filters and templates; a test
//! holds each hand-written row to what serde_json prints for it.
//!
//! ```text
//!   {                      <- open_object at depth 1 (a pretty element of the top array)
//!     "key": "value",      <- key, then string: `,` and a new line before every member but
//!     "labels": {}         <-   the first; an empty object or array closes on its own line
//!   }                      <- close_object
//! ```

/// One row of a listing as JSON: a pretty element of the top-level array (`pretty`: indented
/// one level, as [`super::output::element`] cuts it) or a line ending in a newline, its
/// members written by `members` inside the row's object.
pub(super) fn row(pretty: bool, capacity: usize, members: impl FnOnce(&mut JsonText<'_>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    if pretty {
        out.extend_from_slice(b"  ");
    }
    let mut j = JsonText::new(&mut out, pretty, usize::from(pretty));
    j.open_object();
    members(&mut j);
    j.close_object();
    if !pretty {
        out.push(b'\n');
    }
    out
}

/// A JSON writer over a byte buffer. Calls must nest as JSON does (a key, then one value, in
/// an object; values in an array); nothing checks it.
pub(super) struct JsonText<'b> {
    out: &'b mut Vec<u8>,
    pretty: bool,
    /// Objects and arrays open around the next member.
    depth: usize,
    /// The innermost open object or array has a member already.
    has_member: bool,
}

impl<'b> JsonText<'b> {
    /// A writer appending to `out`, as if `depth` objects or arrays were already open around
    /// the value to be written (1 for an element of a pretty top-level array).
    pub(super) fn new(out: &'b mut Vec<u8>, pretty: bool, depth: usize) -> Self {
        JsonText {
            out,
            pretty,
            depth,
            has_member: false,
        }
    }

    /// A writer appending members to an object already open, with members already, at
    /// `depth` (2 for the members of a pretty element of the top-level array).
    pub(super) fn within_object(out: &'b mut Vec<u8>, pretty: bool, depth: usize) -> Self {
        JsonText {
            out,
            pretty,
            depth,
            has_member: true,
        }
    }

    /// Text written elsewhere by a writer in the same place (see [`JsonText::within_object`]),
    /// copied in as it is.
    pub(super) fn raw(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
    }

    pub(super) fn open_object(&mut self) {
        self.open(b'{');
    }

    pub(super) fn close_object(&mut self) {
        self.close(b'}');
    }

    pub(super) fn open_array(&mut self) {
        self.open(b'[');
    }

    pub(super) fn close_array(&mut self) {
        self.close(b']');
    }

    /// An object member's key; its value is written next.
    pub(super) fn key(&mut self, key: &str) {
        self.member();
        self.escaped(key);
        // Each separator a constant of its own: a length chosen at run time is a call to
        // `memcpy` (see `crate::short_copy`), and this is written for every member.
        if self.pretty {
            self.out.extend_from_slice(b": ");
        } else {
            self.out.push(b':');
        }
    }

    /// An array's next element: what comes before it. Its value is written next.
    pub(super) fn element(&mut self) {
        self.member();
    }

    /// A member whose value is a string.
    pub(super) fn str_member(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    /// A member whose value is a string or null.
    pub(super) fn opt_str_member(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        self.opt_string(value);
    }

    /// A member whose value is a map of strings.
    pub(super) fn map_member<'m>(&mut self, key: &str, map: impl IntoIterator<Item = (&'m String, &'m String)>) {
        self.key(key);
        self.string_map(map);
    }

    /// A member whose value is an integer.
    pub(super) fn int_member(&mut self, key: &str, n: impl itoa::Integer) {
        self.key(key);
        self.integer(n);
    }

    /// A member whose value is true or false.
    pub(super) fn bool_member(&mut self, key: &str, b: bool) {
        self.key(key);
        self.boolean(b);
    }

    pub(super) fn string(&mut self, s: &str) {
        self.escaped(s);
    }

    pub(super) fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    pub(super) fn boolean(&mut self, b: bool) {
        if b {
            self.out.extend_from_slice(b"true");
        } else {
            self.out.extend_from_slice(b"false");
        }
    }

    pub(super) fn integer(&mut self, n: impl itoa::Integer) {
        crate::short_copy::append(self.out, itoa::Buffer::new().format(n).as_bytes());
    }

    /// A string, or null for none (serde's `Option`).
    pub(super) fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    /// A map of strings in its iteration order (serde's `BTreeMap<String, String>`).
    pub(super) fn string_map<'m>(&mut self, map: impl IntoIterator<Item = (&'m String, &'m String)>) {
        self.open_object();
        for (k, v) in map {
            self.key(k);
            self.string(v);
        }
        self.close_object();
    }

    /// A list of strings (serde's `Vec<String>`).
    pub(super) fn string_list(&mut self, list: &[String]) {
        self.open_array();
        for s in list {
            self.element();
            self.string(s);
        }
        self.close_array();
    }

    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.depth += 1;
        self.has_member = false;
    }

    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if self.pretty && self.has_member {
            self.newline();
        }
        self.out.push(bracket);
        // The object or array just closed was a member's value: the one around it has a
        // member now.
        self.has_member = true;
    }

    fn member(&mut self) {
        if self.has_member {
            self.out.push(b',');
        }
        if self.pretty {
            self.newline();
        }
        self.has_member = true;
    }

    fn newline(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.push(b' ');
            self.out.push(b' ');
        }
    }

    /// `s` quoted and escaped, as serde_json writes a string.
    fn escaped(&mut self, s: &str) {
        let bytes = s.as_bytes();
        // Almost every string (digests, times, label keys) needs no escape: one pass without
        // an early exit (so that it is vectorised) says so, and the text is copied whole.
        let plain = !bytes
            .iter()
            .fold(false, |any, &b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
        if plain {
            self.out.reserve(bytes.len() + 2);
            self.out.push(b'"');
            crate::short_copy::append(self.out, bytes);
            self.out.push(b'"');
            return;
        }
        // The others through serde_json's own escaper; a write into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::JsonText;
    use std::collections::BTreeMap;

    /// What serde_json prints for `v`, pretty as an element of a top array (one level in),
    /// and compact.
    fn serde_forms(v: &serde_json::Value) -> (String, String) {
        let pretty = serde_json::to_string_pretty(&[v]).unwrap_or_default();
        let element = pretty
            .strip_prefix("[\n")
            .and_then(|t| t.strip_suffix("\n]"))
            .unwrap_or_default()
            .to_string();
        (element, serde_json::to_string(v).unwrap_or_default())
    }

    fn ours(pretty: bool, write: impl Fn(&mut JsonText<'_>)) -> String {
        let mut out = Vec::new();
        if pretty {
            out.extend_from_slice(b"  ");
        }
        write(&mut JsonText::new(&mut out, pretty, usize::from(pretty)));
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let hostile = "q\"b\\s/ \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1b}[31m\u{1f}\u{7f}é\u{2028}😀 end";
        let labels: BTreeMap<String, String> = [
            ("a".to_string(), "1".to_string()),
            (hostile.to_string(), hostile.to_string()),
        ]
        .into();
        let empty: BTreeMap<String, String> = BTreeMap::new();
        let list = vec![String::new(), hostile.to_string()];
        let value = serde_json::json!({
            "s": hostile,
            "n": -9_223_372_036_854_775_808i64,
            "u": u64::MAX,
            "t": true,
            "f": false,
            "z": null,
            "labels": labels,
            "empty": empty,
            "list": list,
            "none": Vec::<String>::new(),
            "nested": { "inner": [ { "deep": {} } ] },
        });
        // serde_json prints a Value's object keys sorted: ours are written in that order.
        let sorted = |j: &mut JsonText<'_>| {
            j.open_object();
            j.key("empty");
            j.string_map(&empty);
            j.key("f");
            j.boolean(false);
            j.key("labels");
            j.string_map(&labels);
            j.key("list");
            j.string_list(&list);
            j.key("n");
            j.integer(i64::MIN);
            j.key("nested");
            j.open_object();
            j.key("inner");
            j.open_array();
            j.element();
            j.open_object();
            j.key("deep");
            j.open_object();
            j.close_object();
            j.close_object();
            j.close_array();
            j.close_object();
            j.key("none");
            j.string_list(&[]);
            j.key("s");
            j.string(hostile);
            j.key("t");
            j.boolean(true);
            j.key("u");
            j.integer(u64::MAX);
            j.key("z");
            j.null();
            j.close_object();
        };
        let (element, compact) = serde_forms(&value);
        assert_eq!(ours(true, sorted), element);
        assert_eq!(ours(false, sorted), compact);
    }

    #[test]
    fn every_byte_escapes_as_serde_json_escapes() {
        for b in 0u8..=0x7f {
            let s = char::from(b).to_string();
            let mut out = Vec::new();
            JsonText::new(&mut out, false, 0).string(&s);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                serde_json::to_string(&s).unwrap_or_default(),
                "byte {b:#04x}"
            );
        }
    }
}
