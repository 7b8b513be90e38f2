//! Writing frames: the proto-header, the JSON header, then the content,
//! appended to a buffer the caller owns and reuses.
//!
//! The JSON is laid out as [`crate::pyjson`] lays it out, so a frame we
//! write is the Python programs' frame byte for byte. A header with just
//! the four keys is written directly (the fast path of [`crate::layout`]);
//! serde writes any other, and is the reference the fast writer must equal.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::header::{
    Header, BYTEORDER, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, PYTHON_LAYOUT,
};
use crate::layout::{write_escaped, write_uint};
use crate::pyjson::write_python_json;
use crate::Error;

/// Appends one frame to `out`: the proto-header, the JSON header in the
/// Python layout, then `content`.
///
/// The header's keys go in the Python programs' order (byteorder,
/// content-type, content-encoding, content-length), then its extra keys in
/// their order; an extra key that repeats one of the four is skipped. The
/// `content-length` written is always `content.len()`: `header.content_length`
/// is not consulted, so a frame can't lie about its size.
///
/// Fails, leaving `out` as it was, only if the JSON header would be longer
/// than the 65535 bytes a proto-header can count.
pub fn encode_frame(out: &mut Vec<u8>, header: &Header<'_>, content: &[u8]) -> Result<(), Error> {
    encode_with(out, header, content.len(), |out| {
        out.extend_from_slice(content)
    })
}

/// Appends a frame whose content is `parts` back to back, without first
/// concatenating them.
pub(crate) fn encode_parts(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    parts: &[&[u8]],
) -> Result<(), Error> {
    let length = parts.iter().map(|part| part.len()).sum();
    encode_with(out, header, length, |out| {
        for part in parts {
            out.extend_from_slice(part);
        }
    })
}

/// Appends a frame whose content is `value` as JSON in the Python layout,
/// serialized by serde (the general path: for content whose length can't
/// be known before it is written).
///
/// The header must state the content's length, which is only known once the
/// content is written: so the content is written first, the header after
/// it, and the two swapped in place (a rotation of a few hundred bytes is
/// cheaper than serializing twice or using a scratch buffer).
pub(crate) fn encode_json_frame<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    value: &T,
) -> Result<(), Error> {
    encode_json_frame_with(out, header, value, write_header)
}

/// [`encode_json_frame`] with the header too written by serde: the general
/// encoder whole, the reference the fast writer is tested against.
pub(crate) fn encode_json_frame_general<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    value: &T,
) -> Result<(), Error> {
    encode_json_frame_with(out, header, value, write_header_general)
}

/// Writes a JSON header for so many bytes of content.
type HeaderWriter = fn(&mut Vec<u8>, &Header<'_>, usize);

fn encode_json_frame_with<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    value: &T,
    write_json_header: HeaderWriter,
) -> Result<(), Error> {
    let start = out.len();
    write_python_json(out, value);
    let content_length = out.len() - start;
    if let Err(error) = framed(out, |out| write_json_header(out, header, content_length)) {
        out.truncate(start);
        return Err(error);
    }
    if let Some(frame) = out.get_mut(start..) {
        frame.rotate_left(content_length);
    }
    Ok(())
}

/// [`encode_frame`] with the header always written by serde.
pub(crate) fn encode_frame_general(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    content: &[u8],
) -> Result<(), Error> {
    framed(out, |out| write_header_general(out, header, content.len()))?;
    out.extend_from_slice(content);
    Ok(())
}

/// Appends the proto-header and JSON header for `content_length` bytes of
/// content, then the content itself, which `write_content` must write in
/// exactly that many bytes.
pub(crate) fn encode_with(
    out: &mut Vec<u8>,
    header: &Header<'_>,
    content_length: usize,
    write_content: impl FnOnce(&mut Vec<u8>),
) -> Result<(), Error> {
    framed(out, |out| write_header(out, header, content_length))?;
    write_content(out);
    Ok(())
}

/// Appends the proto-header and the JSON header that `write_json` writes.
/// Fails, leaving `out` as it was, if that JSON is too long to count.
fn framed(out: &mut Vec<u8>, write_json: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
    let start = out.len();
    // Room for the proto-header, filled in once the JSON header's length is known.
    out.extend_from_slice(&[0, 0]);
    write_json(out);
    let length = out.len() - start - 2;
    let Ok(length16) = u16::try_from(length) else {
        out.truncate(start);
        return Err(Error::HeaderTooLong { length });
    };
    if let Some(protoheader) = out.get_mut(start..start + 2) {
        protoheader.copy_from_slice(&length16.to_be_bytes());
    }
    Ok(())
}

/// Writes the JSON header: straight into `out` when it has only the four
/// keys (every header the programs write), else through serde.
fn write_header(out: &mut Vec<u8>, header: &Header<'_>, content_length: usize) {
    if header.extra.is_empty() {
        write_header_fast(out, header, content_length);
    } else {
        write_header_general(out, header, content_length);
    }
}

/// The fast path: the header written in the [`PYTHON_LAYOUT`], piece by
/// piece, the strings escaped as serde_json would escape them.
fn write_header_fast(out: &mut Vec<u8>, header: &Header<'_>, content_length: usize) {
    let [open, after_byteorder, after_type, after_encoding, close] = PYTHON_LAYOUT;
    out.extend_from_slice(open.as_bytes());
    write_escaped(out, &header.byteorder);
    out.extend_from_slice(after_byteorder.as_bytes());
    write_escaped(out, &header.content_type);
    out.extend_from_slice(after_type.as_bytes());
    write_escaped(out, &header.content_encoding);
    out.extend_from_slice(after_encoding.as_bytes());
    // usize is at most 64 bits on every target Rust supports.
    write_uint(out, content_length as u64);
    out.extend_from_slice(close.as_bytes());
}

/// The general path: the header, extra keys and all, through serde.
fn write_header_general(out: &mut Vec<u8>, header: &Header<'_>, content_length: usize) {
    write_python_json(
        out,
        &WireHeader {
            header,
            content_length,
        },
    );
}

/// The header as it goes on the wire, with the real content length.
struct WireHeader<'h, 'a> {
    header: &'h Header<'a>,
    content_length: usize,
}

impl Serialize for WireHeader<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let h = self.header;
        let mut map = serializer.serialize_map(Some(4 + h.extra.len()))?;
        map.serialize_entry(BYTEORDER, h.byteorder.as_ref())?;
        map.serialize_entry(CONTENT_TYPE, h.content_type.as_ref())?;
        map.serialize_entry(CONTENT_ENCODING, h.content_encoding.as_ref())?;
        map.serialize_entry(CONTENT_LENGTH, &self.content_length)?;
        for (key, value) in &h.extra {
            if ![BYTEORDER, CONTENT_TYPE, CONTENT_ENCODING, CONTENT_LENGTH].contains(&key.as_ref())
            {
                map.serialize_entry(key.as_ref(), value)?;
            }
        }
        map.end()
    }
}
