//! The Python programs' exact JSON layout, read by hand: the fast paths,
//! and why each has a general path behind it.
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
//! visitor, no state machine: a few comparisons per field.
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
//! general path finds: the differential tests (`tests/paths.rs`) feed
//! both the same bytes and compare, using the functions below, which run
//! each path on its own.

use crate::decode::Frame;
use crate::header::Header;
use crate::pyjson::KEY_SEPARATOR;
use crate::service::{self, Request};
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

/// Reads a document in the exact layout, front to back. Each step returns
/// `None` at the first byte that isn't the layout; the caller gives up with
/// `?`, which is how every step of a fast path can decline.
pub(crate) struct Scanner<'a> {
    rest: &'a [u8],
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Scanner { rest: input }
    }

    /// Exactly these bytes.
    pub(crate) fn literal(&mut self, expected: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(expected)?;
        Some(())
    }

    /// `"key": ` for a key that needs no escapes (all of the protocol's).
    pub(crate) fn key(&mut self, key: &str) -> Option<()> {
        self.literal(b"\"")?;
        self.literal(key.as_bytes())?;
        self.literal(b"\"")?;
        self.literal(KEY_SEPARATOR)
    }

    /// A string without escapes, borrowed. A backslash declines (unescaping
    /// is the general path's job), and so does a raw control character or
    /// invalid UTF-8, which JSON forbids: the general path reports them.
    pub(crate) fn plain_string(&mut self) -> Option<&'a str> {
        self.literal(b"\"")?;
        let end = self.rest.iter().position(|&b| needs_escape(b))?;
        let (text, rest) = self.rest.split_at_checked(end)?;
        self.rest = rest;
        self.literal(b"\"")?;
        std::str::from_utf8(text).ok()
    }

    /// A non-negative integer as `json.dumps` writes one: `0`, or digits
    /// without a leading zero, that fit in a u64. The digits must end the
    /// number: `1.5` and `1e3` decline at the `.` or `e`, when the caller
    /// asks for the next literal.
    pub(crate) fn uint(&mut self) -> Option<u64> {
        let len = self
            .rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at_checked(len)?;
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with(b"0")) {
            return None;
        }
        let mut n: u64 = 0;
        for digit in digits {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_json_spells_them() {
        let read = |text: &[u8]| {
            let mut scanner = Scanner::new(text);
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
