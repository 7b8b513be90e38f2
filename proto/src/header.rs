//! The JSON header: four required keys, and any extra ones in order.
//!
//! Its parse makes the checks of the tutorial's `process_jsonheader`, each
//! fault a precise [`crate::Error`]. The keys' names live here too, for the
//! frame writer, which puts them back in the Python programs' order.

use std::borrow::Cow;

use serde::de::MapAccess;

use crate::fields::{parse_object, Field, Invalid, Shape, TakeFields};
use crate::layout::Scanner;
use crate::value::{self, Value};
use crate::Error;

pub(crate) const BYTEORDER: &str = "byteorder";
pub(crate) const CONTENT_TYPE: &str = "content-type";
pub(crate) const CONTENT_ENCODING: &str = "content-encoding";
pub(crate) const CONTENT_LENGTH: &str = "content-length";

/// The `content-type` whose content is a JSON document.
pub const TEXT_JSON: &str = "text/json";

/// The machine's byte order, as Python's `sys.byteorder` names it.
pub fn native_byteorder() -> &'static str {
    if cfg!(target_endian = "big") {
        "big"
    } else {
        "little"
    }
}

/// A frame's JSON header, strings borrowed from the received bytes where
/// they had no escapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Header<'a> {
    /// The sender's byte order, `"little"` or `"big"` (informational: any
    /// string is accepted, as the Python programs accept it).
    pub byteorder: Cow<'a, str>,
    /// `"text/json"`, or anything else for opaque bytes.
    pub content_type: Cow<'a, str>,
    /// `"utf-8"` for `text/json`, `"binary"` for opaque bytes.
    pub content_encoding: Cow<'a, str>,
    /// The number of content bytes.
    pub content_length: usize,
    /// Keys beyond the four, in the order they came, with their values.
    /// (Empty, and so not allocated, for the headers the programs send.)
    pub extra: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Header<'a> {
    /// A header with this machine's byte order and no extra keys.
    pub fn new(
        content_type: impl Into<Cow<'a, str>>,
        content_encoding: impl Into<Cow<'a, str>>,
        content_length: usize,
    ) -> Self {
        Header {
            byteorder: Cow::Borrowed(native_byteorder()),
            content_type: content_type.into(),
            content_encoding: content_encoding.into(),
            content_length,
            extra: Vec::new(),
        }
    }

    /// Whether the content is a JSON document (`content-type: text/json`).
    pub fn is_json(&self) -> bool {
        self.content_type == TEXT_JSON
    }

    /// Parses and checks a JSON header (the bytes between the proto-header
    /// and the content). The content-length limit is the decoder's business,
    /// not checked here.
    ///
    /// A header in the Python programs' exact layout is scanned directly;
    /// any other goes through serde_json. Both give the same answer (see
    /// [`crate::layout`] for why there are two paths).
    pub fn parse(json: &'a [u8]) -> Result<Self, Error> {
        match scan_python_layout(json) {
            Some(raw) => raw.check(),
            None => Self::parse_general(json),
        }
    }

    /// The general path: any JSON, through serde_json.
    pub(crate) fn parse_general(json: &'a [u8]) -> Result<Self, Error> {
        let mut raw = RawHeader::default();
        match parse_object(json, &mut raw) {
            Err(Invalid::NotUtf8(valid_up_to)) => Err(Error::HeaderNotUtf8 { valid_up_to }),
            Err(Invalid::NotJson(reason)) => Err(Error::HeaderNotJson { reason }),
            Ok(Shape::Not(found)) => Err(Error::HeaderNotObject { found }),
            Ok(Shape::Object) => raw.check(),
        }
    }

    /// Copies every borrowed string, so the header outlives its input.
    pub fn into_owned(self) -> Header<'static> {
        Header {
            byteorder: Cow::Owned(self.byteorder.into_owned()),
            content_type: Cow::Owned(self.content_type.into_owned()),
            content_encoding: Cow::Owned(self.content_encoding.into_owned()),
            content_length: self.content_length,
            extra: self
                .extra
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect(),
        }
    }
}

/// `text/json` content must be UTF-8 (`"utf-8"`, any case, or `"utf8"`).
pub(crate) fn check_utf8_encoding(header: &Header<'_>) -> Result<(), Error> {
    let encoding = header.content_encoding.as_ref();
    if encoding.eq_ignore_ascii_case("utf-8") || encoding.eq_ignore_ascii_case("utf8") {
        Ok(())
    } else {
        Err(Error::ContentEncodingNotUtf8 {
            encoding: encoding.to_owned(),
        })
    }
}

/// The JSON header as `json.dumps` lays out the programs' header dict, cut
/// around its four values (three strings, then the length): what the fast
/// paths match and write byte for byte (see [`crate::layout`]).
pub(crate) const PYTHON_LAYOUT: [&str; 5] = [
    "{\"byteorder\": \"",
    "\", \"content-type\": \"",
    "\", \"content-encoding\": \"",
    "\", \"content-length\": ",
    "}",
];

/// The fast path: the header in exactly the [`PYTHON_LAYOUT`], strings
/// without escapes, `content-length` plain digits. `None` for anything
/// else, even valid JSON: the general path then reads it.
pub(crate) fn scan_python_layout(json: &[u8]) -> Option<RawHeader<'_>> {
    let [open, after_byteorder, after_type, after_encoding, close] = PYTHON_LAYOUT;
    let mut scan = Scanner::new(json)?;
    scan.literal(open)?;
    let byteorder = scan.plain_chars()?;
    scan.literal(after_byteorder)?;
    let content_type = scan.plain_chars()?;
    scan.literal(after_type)?;
    let content_encoding = scan.plain_chars()?;
    scan.literal(after_encoding)?;
    let content_length = scan.uint()?;
    scan.literal(close)?;
    scan.end()?;
    // The same record the general path fills, so the same checks judge it.
    let text = |s| Some(Field::Str(Cow::Borrowed(s)));
    Some(RawHeader {
        byteorder: text(byteorder),
        content_type: text(content_type),
        content_encoding: text(content_encoding),
        content_length: Some(Field::UInt(content_length)),
        extra: None,
    })
}

/// The header's keys as found, before any judgement.
#[derive(Default)]
pub(crate) struct RawHeader<'a> {
    byteorder: Option<Field<'a>>,
    content_type: Option<Field<'a>>,
    content_encoding: Option<Field<'a>>,
    content_length: Option<Field<'a>>,
    extra: Option<value::Dict<'a, Value<'a>>>,
}

impl<'de> TakeFields<'de> for RawHeader<'de> {
    fn take_field<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        // A repeated key: the last value wins, as in Python's json.loads.
        let slot = match key.as_ref() {
            BYTEORDER => &mut self.byteorder,
            CONTENT_TYPE => &mut self.content_type,
            CONTENT_ENCODING => &mut self.content_encoding,
            CONTENT_LENGTH => &mut self.content_length,
            _ => {
                let value = map.next_value::<Value<'de>>()?;
                self.extra
                    .get_or_insert_with(Default::default)
                    .insert(key, value);
                return Ok(());
            }
        };
        *slot = Some(map.next_value()?);
        Ok(())
    }
}

impl<'a> RawHeader<'a> {
    /// The checks of the tutorial's `process_jsonheader`, in its order
    /// (presence of byteorder, content-length, content-type,
    /// content-encoding), then the types docs/protocol.md requires.
    pub(crate) fn check(self) -> Result<Header<'a>, Error> {
        let byteorder = required(self.byteorder, BYTEORDER)?;
        let content_length = required(self.content_length, CONTENT_LENGTH)?;
        let content_type = required(self.content_type, CONTENT_TYPE)?;
        let content_encoding = required(self.content_encoding, CONTENT_ENCODING)?;
        let content_length = match content_length {
            Field::UInt(n) => n,
            other => {
                return Err(Error::BadContentLength {
                    found: other.kind(),
                })
            }
        };
        // Above usize::MAX is above any limit: saturate and let the limit refuse it.
        let content_length = usize::try_from(content_length).unwrap_or(usize::MAX);
        Ok(Header {
            byteorder: string(byteorder, BYTEORDER)?,
            content_type: string(content_type, CONTENT_TYPE)?,
            content_encoding: string(content_encoding, CONTENT_ENCODING)?,
            content_length,
            extra: self.extra.map(value::Dict::into_vec).unwrap_or_default(),
        })
    }
}

fn required<'a>(field: Option<Field<'a>>, key: &'static str) -> Result<Field<'a>, Error> {
    field.ok_or(Error::MissingHeaderKey { key })
}

fn string<'a>(field: Field<'a>, key: &'static str) -> Result<Cow<'a, str>, Error> {
    match field {
        Field::Str(s) => Ok(s),
        other => Err(Error::HeaderValueNotString {
            key,
            found: other.kind(),
        }),
    }
}
