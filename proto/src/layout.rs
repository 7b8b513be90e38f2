//! The Python programs' exact JSON layout, read and written by hand: the
//! fast paths, and why each has a general path behind it.
//!
//! # Why two paths
//!
//! JSON allows a great deal: whitespace anywhere, keys in any order or
//! repeated, escapes in any string, numbers spelt `41`, `41.0` or `4.1e1`.
//! A general parser (serde_json, behind `fields`) must be ready for all
//! of it, and pays for that readiness on every frame: a tokenizer, a
//! visitor call for each key and value, a match on each key's name. For a
//! server answering small requests that was most of the codec's cost.
//!
//! Yet every frame the Python programs send is laid out one way, the way
//! `json.dumps` writes the programs' dicts: the keys in the dict's order,
//! `": "` after a key and `", "` between items, strings as raw UTF-8:
//!
//! ```text
//! {"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}
//! {"action": "search", "value": "morpheus"}
//! ```
//!
//! So the header and the search request are first matched against that one
//! layout, byte for byte: the keys and separators are compared as literal
//! bytes, a string is taken up to its closing quote and borrowed, and the
//! `content-length` digits are summed as they are read. No tokenizer, no
//! visitor, no state machine: a few comparisons per field. Each layout is
//! written down once, as the fixed pieces between its values (the header's
//! in `header.rs`, the request's and the response's in `service.rs`), and
//! the fast reader and the fast writer both work from those pieces.
//!
//! What keeps this honest is one rule: **a fast path never judges and never
//! fails.** It either recognises the whole input as the exact layout and
//! hands the fields it found to the very checks the general path feeds, or
//! it answers `None`, and the general path reads the input from its first
//! byte, exactly as before the fast path existed. Anything unusual
//! (whitespace, another key order, an extra or repeated key, an escape, a
//! control character, `1e3`, `-0`, `01`, a number past 64 bits, bytes that
//! aren't UTF-8) is simply not the layout, so every error and every odd but
//! valid input stays the general path's business. The paths can then only
//! disagree on inputs the fast path accepts, and there it must find what the
//! general path finds: the differential tests (`tests/paths.rs`) and the
//! fuzz target `header_paths` feed both the same bytes and compare, using
//! the functions below, which run each path on its own.
//!
//! Writing is the mirror image. A header with no extra keys (every header
//! the server writes) is written straight into the output buffer, its
//! strings escaped as serde_json escapes them; a response's `{"result":
//! ...}` is measured first, so that its header can be written before it and
//! nothing has to be moved. The general encoder, serde with
//! [`crate::PythonFormatter`], still writes anything else, and is the
//! reference the fast writer is tested against byte for byte.

use std::fmt;

use crate::decode::Frame;
use crate::encode;
use crate::header::Header;
use crate::service::{self, Request, ResultText};
use crate::Error;

/// The header's fast path alone: the header if `json` is in the exact
/// Python layout, else `None` (which is not an error: it means "ask the
/// general path"). [`Header::parse`] is this, then [`header_general`].
pub fn header_fast(json: &[u8]) -> Option<Header<'_>> {
    crate::header::scan_python_layout(json)
        .map(|raw| raw.check())?
        .ok()
}

/// The header's general path alone: serde_json, any layout.
pub fn header_general(json: &[u8]) -> Result<Header<'_>, Error> {
    Header::parse_general(json)
}

/// The request content's fast path alone: `(action, value)` if `content` is
/// exactly `{"action": "...", "value": "..."}` with no escapes, else `None`.
pub fn search_content_fast(content: &[u8]) -> Option<(&str, &str)> {
    service::scan_python_layout(content)
}

/// [`crate::process_request`] with its content read by the general path only.
pub fn process_request_general<'a>(request: &Frame<'a>) -> Result<Request<'a>, Error> {
    service::read_request(request, service::ContentPath::General)
}

/// [`crate::encode_frame`] with the header always written by the general
/// encoder (serde), whether or not it has extra keys.
pub fn encode_frame_general(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    content: &[u8],
) -> Result<(), Error> {
    encode::encode_frame_general(out, header, content)
}

/// The `text/json` answer `{"result": TEXT}` as [`crate::create_response`]
/// writes it: measured, then the header and the content written in place.
pub fn result_frame_fast(out: &mut Vec<u8>, result: &ResultText<'_>) {
    service::json_response(out, result);
}

/// The same answer written by the general encoder: the content serialized
/// by serde, then the header, then the two swapped.
pub fn result_frame_general(out: &mut Vec<u8>, result: &ResultText<'_>) {
    service::json_response_general(out, result);
}

/// Reads a document in the exact layout, front to back. Each step returns
/// `None` at the first byte that isn't the layout; the caller gives up with
/// `?`, which is how every step of a fast path can decline.
///
/// The input is checked for UTF-8 once, whole, when the scanner is made;
/// after that a string is a slice of it, with nothing left to check.
pub(crate) struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    /// A scanner over `input`, if it is UTF-8 (if not, the general path
    /// says where it isn't).
    pub(crate) fn new(input: &'a [u8]) -> Option<Self> {
        let rest = std::str::from_utf8(input).ok()?;
        Some(Scanner { rest })
    }

    /// Exactly this text: a piece of the layout between two values.
    pub(crate) fn literal(&mut self, expected: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(expected)?;
        Some(())
    }

    /// A string's characters up to its closing quote (not consumed: the
    /// layout's next piece starts with it), borrowed. A backslash declines,
    /// since unescaping is the general path's job, and so does a raw
    /// control character, which JSON forbids and the general path reports.
    pub(crate) fn plain_chars(&mut self) -> Option<&'a str> {
        // The first byte that can't stand raw in a string must be the
        // closing quote. (A byte loop: the layout's strings are too short
        // for memchr's setup to pay.)
        let end = self.rest.bytes().position(needs_escape)?;
        let (text, rest) = self.rest.split_at_checked(end)?;
        if !rest.starts_with('"') {
            return None;
        }
        self.rest = rest;
        Some(text)
    }

    /// A non-negative integer as `json.dumps` writes one: `0`, or digits
    /// without a leading zero, that fit in a u64. The digits must end the
    /// number: `1.5` and `1e3` decline at the `.` or `e`, when the caller
    /// asks for the next literal.
    pub(crate) fn uint(&mut self) -> Option<u64> {
        let len = self
            .rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at_checked(len)?;
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        let mut n: u64 = 0;
        for digit in digits.bytes() {
            // Past u64 serde_json reads a float: the general path's case.
            n = n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
        }
        self.rest = rest;
        Some(n)
    }

    /// Nothing left: not even whitespace, which the layout never has.
    pub(crate) fn end(&self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

/// The bytes a JSON string can't hold raw: the quote, the backslash and the
/// control characters (serde_json's escape table, which is Python's).
fn needs_escape(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// Whether `text` goes into a JSON string as it is. A fold rather than
/// `any`: with no early exit the compiler checks 16 bytes at a time.
fn is_plain(text: &str) -> bool {
    !text.bytes().fold(false, |found, b| found | needs_escape(b))
}

/// Appends `byte` as it goes inside a JSON string: `\"`, `\\`, the five
/// short escapes, `\u00XX` in lowercase hex for the other control
/// characters, anything else as it is.
fn write_byte_escaped(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x00..=0x1f => {
            out.extend_from_slice(b"\\u00");
            for nibble in [byte >> 4, byte & 0xf] {
                out.extend(HEX.get(usize::from(nibble)));
            }
        }
        _ => out.push(byte),
    }
}

/// How many bytes [`write_byte_escaped`] writes for `byte`.
fn escaped_width(byte: u8) -> usize {
    match byte {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
        0x00..=0x1f => 6,
        _ => 1,
    }
}

/// Appends `text`'s characters as they go inside a JSON string (without
/// the quotes), escaped as serde_json escapes them.
pub(crate) fn write_escaped(out: &mut Vec<u8>, text: &str) {
    if is_plain(text) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut rest = text.as_bytes();
    // Plain runs are copied whole; only the bytes that need it are escaped.
    while let Some(at) = rest.iter().position(|&b| needs_escape(b)) {
        let Some((plain, [byte, tail @ ..])) = rest.split_at_checked(at) else {
            break;
        };
        out.extend_from_slice(plain);
        write_byte_escaped(out, *byte);
        rest = tail;
    }
    out.extend_from_slice(rest);
}

/// The length [`write_escaped`] would append for `text`.
pub(crate) fn escaped_len(text: &str) -> usize {
    if is_plain(text) {
        text.len()
    } else {
        text.bytes().map(escaped_width).sum()
    }
}

/// Appends `n` in decimal, as serde_json and Python write an integer.
pub(crate) fn write_uint(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20]; // u64::MAX has 20 digits
    let mut first = digits.len();
    for slot in digits.iter_mut().rev() {
        // n % 10 < 10, so the cast keeps it whole.
        *slot = b'0' + (n % 10) as u8;
        first -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(first..).unwrap_or_default());
}

/// What a `Display` writes, escaped for a JSON string, straight into `out`.
struct Escaping<'o>(&'o mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s);
        Ok(())
    }
}

/// The length of what a `Display` writes, once escaped.
struct EscapedLen(usize);

impl fmt::Write for EscapedLen {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += escaped_len(s);
        Ok(())
    }
}

/// How long `text` is once displayed and escaped, without writing it.
pub(crate) fn display_escaped_len(text: &dyn fmt::Display) -> usize {
    let mut len = EscapedLen(0);
    // Neither writer fails, so an error could only come from a Display
    // impl that fails on its own; the caller checks the length it wrote.
    let _ = fmt::write(&mut len, format_args!("{text}"));
    len.0
}

/// Appends `text` displayed and escaped.
pub(crate) fn write_display_escaped(out: &mut Vec<u8>, text: &dyn fmt::Display) {
    let _ = fmt::write(&mut Escaping(out), format_args!("{text}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, text);
        assert_eq!(out.len(), escaped_len(text), "{text:?}");
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_as_serde_json_does() {
        for text in [
            "",
            "plain",
            "a\"b\\c",
            "\n\r\t\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
            "é🐰\"",
        ] {
            let serde = serde_json::to_string(text).unwrap_or_default();
            assert_eq!(format!("\"{}\"", escaped(text)), serde);
        }
    }

    #[test]
    fn integers_as_serde_json_writes_them() {
        for n in [0, 7, 10, 41, 99, 100, 65535, u64::MAX / 10, u64::MAX] {
            let mut out = Vec::new();
            write_uint(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_as_serde_json(text in ".*", raw in proptest::prelude::any::<String>()) {
            for text in [text, raw] {
                let serde = serde_json::to_string(&text).unwrap_or_default();
                proptest::prop_assert_eq!(format!("\"{}\"", escaped(&text)), serde);
            }
        }

        #[test]
        fn any_integer_as_serde_json(n in proptest::prelude::any::<u64>()) {
            let mut out = Vec::new();
            write_uint(&mut out, n);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&n).unwrap_or_default());
        }
    }

    #[test]
    fn integers_read_as_json_spells_them() {
        let read = |text: &[u8]| {
            let mut scanner = Scanner::new(text)?;
            scanner.uint().filter(|_| scanner.end().is_some())
        };
        assert_eq!(read(b"0"), Some(0));
        assert_eq!(read(b"41"), Some(41));
        assert_eq!(read(b"18446744073709551615"), Some(u64::MAX));
        for declined in [
            &b""[..],
            b"01",
            b"00",
            b"-0",
            b"18446744073709551616",
            b"1.5",
        ] {
            assert_eq!(
                read(declined),
                None,
                "{:?}",
                String::from_utf8_lossy(declined)
            );
        }
    }
}
