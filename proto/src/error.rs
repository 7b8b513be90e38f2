//! The one error type, and the two classes of bad input of docs/protocol.md.
//!
//! Each way a frame can be wrong is one variant, so that callers and tests
//! match on what went wrong rather than on its wording, and its class tells
//! a server whether to close the connection or to answer.

use std::fmt;

/// What the connection should do about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The framing is broken: the stream can't be resynchronised, so the
    /// connection must be closed (after logging the reason).
    Framing,
    /// The frame is well formed but its content can't be used: the server
    /// answers `{"result": "Error: ..."}` and keeps serving the connection.
    Content,
}

/// Everything that can be wrong with a frame.
///
/// Each variant's `Display` is one sentence naming the fault, fit for a log
/// line. For a [`ErrorClass::Content`] error the service answers
/// `Error: {error}.`, which is how `invalid action "A"` becomes the tutorial's
/// `Error: invalid action "A".`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The JSON header's bytes are not UTF-8.
    HeaderNotUtf8 {
        /// Offset in the JSON header of the first byte that is not UTF-8.
        valid_up_to: usize,
    },
    /// The JSON header is not a JSON document.
    HeaderNotJson {
        /// serde_json's account of the syntax error.
        reason: String,
    },
    /// The JSON header is valid JSON but not an object.
    HeaderNotObject {
        /// What it is instead ("an array", "a string", ...).
        found: &'static str,
    },
    /// One of the four required keys is missing from the JSON header.
    MissingHeaderKey {
        /// The missing key.
        key: &'static str,
    },
    /// `byteorder`, `content-type` or `content-encoding` is not a string.
    HeaderValueNotString {
        /// The key whose value has the wrong type.
        key: &'static str,
        /// What the value is instead.
        found: &'static str,
    },
    /// `content-length` is not a non-negative integer.
    BadContentLength {
        /// What the value is instead ("a negative integer", "a string", ...).
        found: &'static str,
    },
    /// `content-length` is above the receiver's limit.
    ContentTooLong {
        /// The announced content length.
        length: u64,
        /// The largest content length accepted.
        limit: usize,
    },
    /// The encoder was asked for a JSON header longer than the 2-byte
    /// proto-header can count.
    HeaderTooLong {
        /// The length the JSON header would have had.
        length: usize,
    },
    /// `text/json` content is not a JSON document.
    ContentNotJson {
        /// serde_json's account of the syntax error.
        reason: String,
    },
    /// `text/json` content announced with an encoding other than UTF-8.
    ContentEncodingNotUtf8 {
        /// The announced `content-encoding`.
        encoding: String,
    },
    /// `text/json` content that is valid JSON but not an object.
    ContentNotObject {
        /// What it is instead.
        found: &'static str,
    },
    /// A key the request or response needs is missing from the content.
    MissingContentKey {
        /// The missing key (`action`, `value`, `result`).
        key: &'static str,
    },
    /// A content key that must hold a string holds something else.
    ContentValueNotString {
        /// The key whose value has the wrong type.
        key: &'static str,
        /// What the value is instead.
        found: &'static str,
    },
    /// A `text/json` request whose action the service doesn't know.
    InvalidAction {
        /// The action asked for.
        action: String,
    },
}

impl Error {
    /// Whether this error closes the connection or is answered.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::HeaderNotUtf8 { .. }
            | Error::HeaderNotJson { .. }
            | Error::HeaderNotObject { .. }
            | Error::MissingHeaderKey { .. }
            | Error::HeaderValueNotString { .. }
            | Error::BadContentLength { .. }
            | Error::ContentTooLong { .. }
            | Error::HeaderTooLong { .. } => ErrorClass::Framing,
            Error::ContentNotJson { .. }
            | Error::ContentEncodingNotUtf8 { .. }
            | Error::ContentNotObject { .. }
            | Error::MissingContentKey { .. }
            | Error::ContentValueNotString { .. }
            | Error::InvalidAction { .. } => ErrorClass::Content,
        }
    }

    /// Shorthand for `self.class() == ErrorClass::Framing`.
    pub fn is_framing(&self) -> bool {
        self.class() == ErrorClass::Framing
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::HeaderNotUtf8 { valid_up_to } => write!(
                f,
                "the JSON header is not valid UTF-8 (bad byte at offset {valid_up_to})"
            ),
            Error::HeaderNotJson { reason } => {
                write!(f, "the JSON header is not valid JSON ({reason})")
            }
            Error::HeaderNotObject { found } => {
                write!(f, "the JSON header is {found}, not a JSON object")
            }
            Error::MissingHeaderKey { key } => {
                write!(f, "the JSON header lacks the required key \"{key}\"")
            }
            Error::HeaderValueNotString { key, found } => {
                write!(f, "\"{key}\" in the JSON header is {found}, not a string")
            }
            Error::BadContentLength { found } => write!(
                f,
                "\"content-length\" in the JSON header is {found}, not a non-negative integer"
            ),
            Error::ContentTooLong { length, limit } => write!(
                f,
                "the content-length {length} is above the limit of {limit} bytes"
            ),
            Error::HeaderTooLong { length } => write!(
                f,
                "the JSON header would be {length} bytes long, more than the 65535 a proto-header can count"
            ),
            Error::ContentNotJson { reason } => {
                write!(f, "the content is not valid JSON ({reason})")
            }
            Error::ContentEncodingNotUtf8 { encoding } => write!(
                f,
                "text/json content must be encoded as \"utf-8\", not \"{encoding}\""
            ),
            Error::ContentNotObject { found } => {
                write!(f, "the content is {found}, not a JSON object")
            }
            Error::MissingContentKey { key } => write!(f, "the content has no \"{key}\""),
            Error::ContentValueNotString { key, found } => {
                write!(f, "\"{key}\" in the content is {found}, not a string")
            }
            // Python's f'Error: invalid action "{action}".' with the action raw:
            // the JSON encoder does the escaping.
            Error::InvalidAction { action } => write!(f, "invalid action \"{action}\""),
        }
    }
}

impl std::error::Error for Error {}
