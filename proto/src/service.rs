//! The server's side: the search service as a pure function.
//!
//! libserver's `process_request` and `create_response`, with its search
//! table, minus the socket: a request frame in, the response's bytes
//! appended to the caller's buffer. So the service is tested and fuzzed on
//! its own, and both app servers (ours and the benchmarks' tokio peer)
//! answer with this one function.

use std::borrow::Cow;
use std::fmt;

use serde::de::MapAccess;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::decode::Frame;
use crate::encode::{encode_json_frame_general, encode_parts, encode_with};
use crate::fields::{parse_object, Field, Shape, TakeFields};
use crate::header::{check_utf8_encoding, Header, TEXT_JSON};
use crate::layout::{
    display_escaped_len, escaped_len, write_display_escaped, write_escaped, Scanner,
};
use crate::Error;

/// The `content-type` of the server's binary responses.
pub const SERVER_BINARY_TYPE: &str = "binary/custom-server-binary-type";

/// The search table (exact strings, emoji included).
pub const SEARCH_TABLE: [(&str, &str); 3] = [
    ("morpheus", "Follow the white rabbit. \u{1f430}"),
    (
        "ring",
        "In the caves beneath the Misty Mountains. \u{1f48d}",
    ),
    ("\u{1f436}", "\u{1f43e} Playing ball! \u{1f3d0}"),
];

/// What a client asked for, read from a request frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `{"action": "search", "value": query}` as `text/json`.
    Search {
        /// The value searched for.
        query: Cow<'a, str>,
    },
    /// Content of any other type: answered with its first 10 bytes.
    Binary {
        /// The request's `content-type`.
        content_type: Cow<'a, str>,
        /// The request content.
        content: &'a [u8],
    },
}

/// Reads what a request asks for (the tutorial's `process_request`, minus the
/// buffering, which the decoder did).
///
/// A `text/json` request must be UTF-8 JSON holding an object with a string
/// `action`; `search` is the only action, and needs a string `value`. Each
/// way of breaking that is an [`ErrorClass::Content`](crate::ErrorClass)
/// error, answered rather than fatal. Strings are borrowed from the frame
/// unless they hold escapes.
pub fn process_request<'a>(request: &Frame<'a>) -> Result<Request<'a>, Error> {
    read_request(request, ContentPath::Fast)
}

/// Whether a request's content may take the fast path (see [`crate::layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentPath {
    /// The Python layout scanned directly, anything else through serde.
    Fast,
    /// Everything through serde.
    General,
}

pub(crate) fn read_request<'a>(
    request: &Frame<'a>,
    path: ContentPath,
) -> Result<Request<'a>, Error> {
    let header = &request.header;
    if !header.is_json() {
        return Ok(Request::Binary {
            content_type: header.content_type.clone(),
            content: request.content,
        });
    }
    check_utf8_encoding(header)?;
    if path == ContentPath::Fast {
        if let Some((action, value)) = scan_python_layout(request.content) {
            let text = |s| Some(Field::Str(Cow::Borrowed(s)));
            return judge(text(action), text(value));
        }
    }
    let mut fields = RequestFields::default();
    match parse_object(request.content, &mut fields) {
        Err(invalid) => Err(Error::ContentNotJson {
            reason: invalid.reason(),
        }),
        Ok(Shape::Not(found)) => Err(Error::ContentNotObject { found }),
        Ok(Shape::Object) => judge(fields.action, fields.value),
    }
}

/// A search request's content as `app-client.py`'s `json.dumps` lays it
/// out, cut around its two values.
const REQUEST_LAYOUT: [&str; 3] = ["{\"action\": \"", "\", \"value\": \"", "\"}"];

/// The fast path: `(action, value)` from content in exactly the
/// [`REQUEST_LAYOUT`], strings without escapes. `None` for anything else,
/// which the general path then reads.
pub(crate) fn scan_python_layout(content: &[u8]) -> Option<(&str, &str)> {
    let [open, after_action, close] = REQUEST_LAYOUT;
    let mut scan = Scanner::new(content)?;
    scan.literal(open)?;
    let action = scan.plain_chars()?;
    scan.literal(after_action)?;
    let value = scan.plain_chars()?;
    scan.literal(close)?;
    scan.end()?;
    Some((action, value))
}

/// What the request's two fields ask for, however they were read.
fn judge<'a>(action: Option<Field<'a>>, value: Option<Field<'a>>) -> Result<Request<'a>, Error> {
    match action {
        None => Err(Error::MissingContentKey { key: "action" }),
        Some(Field::Str(action)) if action == "search" => match value {
            None => Err(Error::MissingContentKey { key: "value" }),
            Some(Field::Str(query)) => Ok(Request::Search { query }),
            Some(other) => Err(Error::ContentValueNotString {
                key: "value",
                found: other.kind(),
            }),
        },
        Some(Field::Str(action)) => Err(Error::InvalidAction {
            action: action.into_owned(),
        }),
        Some(other) => Err(Error::ContentValueNotString {
            key: "action",
            found: other.kind(),
        }),
    }
}

/// The two keys of a `text/json` request; the others are skipped.
#[derive(Default)]
struct RequestFields<'a> {
    action: Option<Field<'a>>,
    value: Option<Field<'a>>,
}

impl<'de> TakeFields<'de> for RequestFields<'de> {
    fn take_field<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        // Last value wins for a repeated key, as in a Python dict.
        match key.as_ref() {
            "action" => self.action = Some(map.next_value()?),
            "value" => self.value = Some(map.next_value()?),
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Looks `query` up in [`SEARCH_TABLE`]: the `result` text is the entry's,
/// or the tutorial's miss sentence.
pub fn search(query: &str) -> ResultText<'_> {
    match SEARCH_TABLE.iter().find(|(key, _)| *key == query) {
        Some((_, text)) => ResultText::Found(text),
        None => ResultText::NoMatch(query),
    }
}

/// The `result` text of a `text/json` response, as the server writes it:
/// kept in parts and formatted straight into the JSON string, so that
/// writing it allocates nothing. (The client reads the text back as
/// [`Response::Result`](crate::Response::Result).)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultText<'a> {
    /// A table entry.
    Found(&'static str),
    /// `No match for "QUERY".`
    NoMatch(&'a str),
    /// `Error: REASON.` for a content error.
    Error(&'a Error),
}

/// The miss sentence around the query, in double quotes as in the tutorial
/// version docs/protocol.md follows.
const NO_MATCH: [&str; 2] = ["No match for \"", "\"."];

impl fmt::Display for ResultText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultText::Found(text) => f.write_str(text),
            ResultText::NoMatch(query) => {
                let [before, after] = NO_MATCH;
                write!(f, "{before}{query}{after}")
            }
            ResultText::Error(error) => write!(f, "Error: {error}."),
        }
    }
}

/// `{"result": TEXT}`, the text streamed into the JSON string as it is
/// formatted.
struct ResultContent<'r, 'a>(&'r ResultText<'a>);

impl Serialize for ResultContent<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Lazy<'b, 'a>(&'b ResultText<'a>);
        impl Serialize for Lazy<'_, '_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self.0)
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("result", &Lazy(self.0))?;
        map.end()
    }
}

/// Appends the response to `request` to `out` (the tutorial's
/// `create_response`): a pure function of the request, writing into a buffer
/// the caller reuses, so a search response costs no allocation (unless the
/// request spells its strings with JSON escapes, which must be unescaped).
///
/// - `text/json` search: `{"result": TEXT}`, TEXT from [`search`];
/// - `text/json` with a content error (including an unknown action):
///   `{"result": "Error: REASON."}`;
/// - any other content-type: `binary/custom-server-binary-type` content
///   `First 10 bytes of request: ` and the request's first 10 bytes.
pub fn create_response(request: &Frame<'_>, out: &mut Vec<u8>) {
    match process_request(request) {
        Ok(Request::Search { query }) => json_response(out, &search(&query)),
        Err(error) => json_response(out, &ResultText::Error(&error)),
        Ok(Request::Binary { content, .. }) => binary_response(out, content),
    }
}

fn binary_response(out: &mut Vec<u8>, request: &[u8]) {
    let first10 = request.get(..10).unwrap_or(request);
    let header = Header::new(SERVER_BINARY_TYPE, "binary", 0);
    // The response headers are four short fixed keys, far below the 65535
    // bytes a proto-header can count, so encoding can't fail here.
    let _ = encode_parts(out, &header, &[b"First 10 bytes of request: ", first10]);
}

/// A response's content as `libserver.py`'s `json.dumps` lays it out, cut
/// around the result text.
const RESULT_LAYOUT: [&str; 2] = ["{\"result\": \"", "\"}"];

/// The fast path: the result text measured first (escaped, but not written),
/// so that the header, which states the content's length, can be written
/// before the content and nothing has to be moved afterwards.
pub(crate) fn json_response(out: &mut Vec<u8>, result: &ResultText<'_>) {
    match *result {
        ResultText::Found(text) => write_result(out, &[text]),
        ResultText::NoMatch(query) => {
            let [before, after] = NO_MATCH;
            write_result(out, &[before, query, after]);
        }
        ResultText::Error(_) => write_displayed_result(out, result),
    }
}

/// A result whose text is these pieces back to back, each escaped.
fn write_result(out: &mut Vec<u8>, pieces: &[&str]) {
    let [open, close] = RESULT_LAYOUT;
    let text_length: usize = pieces.iter().map(|piece| escaped_len(piece)).sum();
    let content_length = open.len() + text_length + close.len();
    let header = Header::new(TEXT_JSON, "utf-8", 0);
    // The response headers are four short fixed keys, far below the 65535
    // bytes a proto-header can count, so encoding can't fail here.
    let _ = encode_with(out, &header, content_length, |out| {
        out.extend_from_slice(open.as_bytes());
        for piece in pieces {
            write_escaped(out, piece);
        }
        out.extend_from_slice(close.as_bytes());
    });
}

/// A result whose text is formatted (an error's): displayed once to
/// measure it and once to write it.
fn write_displayed_result(out: &mut Vec<u8>, result: &ResultText<'_>) {
    let start = out.len();
    let [open, close] = RESULT_LAYOUT;
    let content_length = open.len() + display_escaped_len(result) + close.len();
    let header = Header::new(TEXT_JSON, "utf-8", 0);
    let mut content_start = start;
    let _ = encode_with(out, &header, content_length, |out| {
        content_start = out.len();
        out.extend_from_slice(open.as_bytes());
        write_display_escaped(out, result);
        out.extend_from_slice(close.as_bytes());
    });
    // Should a Display ever print something else the second time, the
    // header would lie: write the answer the general way instead.
    if out.len() - content_start != content_length {
        out.truncate(start);
        json_response_general(out, result);
    }
}

/// The general path: serde writes `{"result": TEXT}`, then the header.
pub(crate) fn json_response_general(out: &mut Vec<u8>, result: &ResultText<'_>) {
    let header = Header::new(TEXT_JSON, "utf-8", 0);
    let _ = encode_json_frame_general(out, &header, &ResultContent(result));
}
