//! The client's side: building requests and reading responses.
//!
//! `create_request` is `app-client.py`'s function of that name with the
//! framing of libclient's `queue_request`; `process_response` is libclient's,
//! minus the socket. The programs and the tests share this one reading of a
//! response, so what `app-client` prints is what the tests check.

use std::borrow::Cow;

use serde::de::MapAccess;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::decode::Frame;
use crate::encode::{encode_json_frame, encode_parts};
use crate::fields::{parse_object, Field, Shape, TakeFields};
use crate::header::{check_utf8_encoding, Header, TEXT_JSON};
use crate::Error;

/// The `content-type` of the client's binary requests.
pub const CLIENT_BINARY_TYPE: &str = "binary/custom-client-binary-type";

/// Appends the request `app-client ACTION VALUE` sends to `out`.
///
/// `search` becomes `text/json` content `{"action": "search", "value":
/// VALUE}`; any other action becomes `binary/custom-client-binary-type`
/// content: the bytes of ACTION followed by those of VALUE.
pub fn create_request(out: &mut Vec<u8>, action: &str, value: &str) {
    // Request headers are four short fixed keys, far below the 65535 bytes a
    // proto-header can count, so encoding can't fail here.
    if action == "search" {
        create_json_request(out, action, value);
    } else {
        let header = Header::new(CLIENT_BINARY_TYPE, "binary", 0);
        let _ = encode_parts(out, &header, &[action.as_bytes(), value.as_bytes()]);
    }
}

/// Appends a `text/json` request `{"action": ACTION, "value": VALUE}` to
/// `out`, whatever the action (the Python client only sends `search` this
/// way; the vector `json-invalid-action` is one with another action).
pub fn create_json_request(out: &mut Vec<u8>, action: &str, value: &str) {
    let header = Header::new(TEXT_JSON, "utf-8", 0);
    let _ = encode_json_frame(out, &header, &RequestContent { action, value });
}

/// `{"action": ..., "value": ...}` in that order, as the Python dict has it.
struct RequestContent<'a> {
    action: &'a str,
    value: &'a str,
}

impl Serialize for RequestContent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("action", self.action)?;
        map.serialize_entry("value", self.value)?;
        map.end()
    }
}

/// What a response says, read on the client's side and printed by
/// `app-client`: the `result` text of a `text/json` response (which the
/// server wrote from a [`ResultText`](crate::ResultText)), or the content of
/// any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response<'a> {
    /// The `result` of a `text/json` response (`got result: ...`).
    Result(Cow<'a, str>),
    /// The content of any other response (`got response: b'...'`).
    Binary(&'a [u8]),
}

/// Reads a response (the tutorial's client-side `process_response`): a
/// `text/json` response must be a UTF-8 JSON object with a string `result`.
pub fn process_response<'a>(response: &Frame<'a>) -> Result<Response<'a>, Error> {
    if !response.header.is_json() {
        return Ok(Response::Binary(response.content));
    }
    check_utf8_encoding(&response.header)?;
    let mut fields = ResultField::default();
    match parse_object(response.content, &mut fields) {
        Err(invalid) => Err(Error::ContentNotJson {
            reason: invalid.reason(),
        }),
        Ok(Shape::Not(found)) => Err(Error::ContentNotObject { found }),
        Ok(Shape::Object) => match fields.result {
            None => Err(Error::MissingContentKey { key: "result" }),
            Some(Field::Str(result)) => Ok(Response::Result(result)),
            Some(other) => Err(Error::ContentValueNotString {
                key: "result",
                found: other.kind(),
            }),
        },
    }
}

#[derive(Default)]
struct ResultField<'a> {
    result: Option<Field<'a>>,
}

impl<'de> TakeFields<'de> for ResultField<'de> {
    fn take_field<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if key == "result" {
            self.result = Some(map.next_value()?);
        } else {
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(())
    }
}
