//! The incremental decoder: caller-owned bytes in, whole frames out.
//!
//! This is the reading half of the tutorial's `Message` class
//! (`process_protoheader`, `process_jsonheader`, then the content) taken off
//! the socket. It borrows the bytes the caller received, so a server decodes
//! straight from its read buffer without copying, and it remembers its stage,
//! so a frame that arrives a byte at a time is not parsed again on every
//! byte.

use crate::header::Header;
use crate::Error;

/// The default `content-length` limit: 1 MiB, as `app-server` defaults it.
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 1 << 20;

/// The proto-header's size: a big-endian u16.
const PROTOHEADER_LEN: usize = 2;

/// One decoded frame, borrowing the caller's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame<'a> {
    /// The JSON header.
    pub header: Header<'a>,
    /// The content bytes, a slice of the caller's buffer (no copy).
    pub content: &'a [u8],
}

/// What [`Decoder::decode`] made of the bytes so far.
#[derive(Debug, Clone, PartialEq)]
pub enum Status<'a> {
    /// No whole frame yet: call again once at least `needed` more bytes
    /// have arrived (exact once the content's length is known, a lower bound
    /// before that).
    NeedMore {
        /// How many more bytes the current stage waits for.
        needed: usize,
    },
    /// A whole frame. Its bytes are the first `consumed` of the buffer;
    /// the next frame starts right after them.
    Complete {
        /// The frame.
        frame: Frame<'a>,
        /// How many bytes of the buffer it took.
        consumed: usize,
    },
}

/// Where the decoder is within the current frame: the tutorial's three
/// stages, each waiting until all of its bytes are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the 2-byte proto-header.
    ProtoHeader,
    /// Waiting for `header_len` bytes of JSON header.
    JsonHeader { header_len: usize },
    /// The JSON header was parsed and accepted; waiting for the content.
    Content {
        header_len: usize,
        content_len: usize,
    },
}

/// A sans-IO decoder over a caller-owned buffer.
///
/// Hand it the bytes received so far, starting at a frame boundary; it
/// answers [`Status::NeedMore`] or [`Status::Complete`]. After `NeedMore`,
/// call again with the same bytes plus what arrived since; after `Complete`,
/// drop the `consumed` bytes and call again with the rest. After an error the
/// stream can't be resynchronised: close the connection.
///
/// The decoder remembers which stage it is in, so a partial read costs a
/// length comparison, not a re-parse: the JSON header is parsed when its last
/// byte arrives and once more when the content is complete (to hand out a
/// header borrowed from the final buffer), never on the reads in between.
/// A `content-length` above the limit is refused at the JSON-header stage,
/// before the caller has buffered any of that content.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_content_length: usize,
    stage: Stage,
    header_parses: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder that accepts contents up to [`DEFAULT_MAX_CONTENT_LENGTH`].
    pub fn new() -> Self {
        Decoder::with_max_content_length(DEFAULT_MAX_CONTENT_LENGTH)
    }

    /// A decoder that refuses a `content-length` above `limit` (exactly
    /// `limit` is accepted).
    pub fn with_max_content_length(limit: usize) -> Self {
        Decoder {
            max_content_length: limit,
            stage: Stage::ProtoHeader,
            header_parses: 0,
        }
    }

    /// The largest `content-length` accepted.
    pub fn max_content_length(&self) -> usize {
        self.max_content_length
    }

    /// How many times a JSON header has been parsed since this decoder was
    /// made: at most two per frame, however the bytes were split (a
    /// measure of the decoder's work, for tests and diagnostics).
    pub fn header_parses(&self) -> u64 {
        self.header_parses
    }

    /// Whether the decoder is between frames (no partial frame pending).
    pub fn is_idle(&self) -> bool {
        self.stage == Stage::ProtoHeader
    }

    /// The whole length of the frame being decoded, once its JSON header
    /// has been parsed (so its `content-length` is known): what a server
    /// must be ready to hold before it reads the content.
    pub fn frame_len(&self) -> Option<usize> {
        match self.stage {
            Stage::Content {
                header_len,
                content_len,
            } => Some((PROTOHEADER_LEN + header_len).saturating_add(content_len)),
            _ => None,
        }
    }

    /// Decodes the frame at the start of `buf`.
    pub fn decode<'a>(&mut self, buf: &'a [u8]) -> Result<Status<'a>, Error> {
        if let Stage::ProtoHeader = self.stage {
            if let Some(needed) = self.process_protoheader(buf) {
                return Ok(Status::NeedMore { needed });
            }
        }
        let header = match self.stage {
            Stage::JsonHeader { header_len } => {
                if let Some(needed) = missing(buf, PROTOHEADER_LEN + header_len) {
                    return Ok(Status::NeedMore { needed });
                }
                self.process_jsonheader(buf, header_len)?
            }
            Stage::Content {
                header_len,
                content_len,
            } => {
                // The cheap wait: no parse until the whole frame is here.
                let total = (PROTOHEADER_LEN + header_len).saturating_add(content_len);
                if let Some(needed) = missing(buf, total) {
                    return Ok(Status::NeedMore { needed });
                }
                self.process_jsonheader(buf, header_len)?
            }
            // Not reached: a complete proto-header moved us on above.
            Stage::ProtoHeader => {
                return Ok(Status::NeedMore {
                    needed: PROTOHEADER_LEN,
                })
            }
        };
        Ok(self.process_content(buf, header))
    }

    /// Stage 1: the 2-byte length of the JSON header. Returns how many bytes
    /// are missing, or moves on to the JSON-header stage.
    fn process_protoheader(&mut self, buf: &[u8]) -> Option<usize> {
        match buf {
            [high, low, ..] => {
                let header_len = usize::from(u16::from_be_bytes([*high, *low]));
                self.stage = Stage::JsonHeader { header_len };
                None
            }
            _ => missing(buf, PROTOHEADER_LEN),
        }
    }

    /// Stage 2: parse and check the JSON header, whose bytes are all in `buf`.
    fn process_jsonheader<'a>(
        &mut self,
        buf: &'a [u8],
        header_len: usize,
    ) -> Result<Header<'a>, Error> {
        let json = buf
            .get(PROTOHEADER_LEN..PROTOHEADER_LEN + header_len)
            .unwrap_or_default();
        self.header_parses += 1;
        let header = Header::parse(json).inspect_err(|_| self.stage = Stage::ProtoHeader)?;
        if header.content_length > self.max_content_length {
            self.stage = Stage::ProtoHeader;
            return Err(Error::ContentTooLong {
                length: header.content_length as u64,
                limit: self.max_content_length,
            });
        }
        self.stage = Stage::Content {
            header_len,
            content_len: header.content_length,
        };
        Ok(header)
    }

    /// Stage 3: hand out the content once all of it is in `buf`.
    fn process_content<'a>(&mut self, buf: &'a [u8], header: Header<'a>) -> Status<'a> {
        let Stage::Content {
            header_len,
            content_len,
        } = self.stage
        else {
            return Status::NeedMore {
                needed: PROTOHEADER_LEN,
            };
        };
        let start = PROTOHEADER_LEN + header_len;
        // Saturating: with a limit of usize::MAX a content-length can be too.
        let end = start.saturating_add(content_len);
        match buf.get(start..end) {
            Some(content) => {
                self.stage = Stage::ProtoHeader;
                Status::Complete {
                    frame: Frame { header, content },
                    consumed: end,
                }
            }
            None => Status::NeedMore {
                needed: end.saturating_sub(buf.len()).max(1),
            },
        }
    }
}

/// How many bytes `buf` lacks to be `len` long, if any.
fn missing(buf: &[u8], len: usize) -> Option<usize> {
    len.checked_sub(buf.len()).filter(|&n| n > 0)
}
