//! A decoder that owns its buffer: feed it bytes, take frames out.
//!
//! The server decodes straight from its read buffer with [`crate::Decoder`].
//! The client, the load generator and the tests would rather hand bytes over
//! and get frames back, as the tutorial's `_recv_buffer` does, but without
//! its copying of the whole rest of the buffer on every frame.

use std::io;

use crate::decode::{Decoder, Frame, Status};
use crate::Error;

/// How much free room [`BufferedDecoder::read_from`] offers a reader.
const READ_CHUNK: usize = 16 * 1024;

/// A [`Decoder`] with its own receive buffer.
///
/// Consumed frames advance a start offset; the bytes left over are moved to
/// the front only when they are no more than what was consumed, so every
/// byte is moved at most once per frame it waits behind and total work stays
/// linear (the tutorial's `buffer = buffer[n:]` copies the rest of the buffer
/// on every frame, quadratic under pipelining).
///
/// ```
/// let mut decoder = proto::BufferedDecoder::new();
/// let mut request = Vec::new();
/// proto::create_request(&mut request, "search", "ring");
/// let (first, rest) = request.split_at(10);
/// decoder.feed(first);
/// assert!(decoder.next_frame()?.is_none());
/// decoder.feed(rest);
/// let frame = decoder.next_frame()?.expect("a whole frame");
/// assert_eq!(frame.content, br#"{"action": "search", "value": "ring"}"#);
/// # Ok::<(), proto::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BufferedDecoder {
    decoder: Decoder,
    /// Received bytes live in `buf[start..end]`; `buf[end..]` is zeroed
    /// room kept for [`BufferedDecoder::read_from`].
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl BufferedDecoder {
    /// A buffered decoder with the default content-length limit.
    pub fn new() -> Self {
        BufferedDecoder::default()
    }

    /// A buffered decoder that refuses a `content-length` above `limit`.
    pub fn with_max_content_length(limit: usize) -> Self {
        BufferedDecoder {
            decoder: Decoder::with_max_content_length(limit),
            ..BufferedDecoder::default()
        }
    }

    /// The inner decoder (for its limit and its work counter).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The bytes received and not yet handed out as frames.
    pub fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// The buffer's allocated size, in bytes.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.truncate(self.end);
        self.buf.extend_from_slice(bytes);
        self.end = self.buf.len();
    }

    /// Reads once from `reader` straight into the buffer (no intermediate
    /// copy); returns what `read` returned (`Ok(0)` is end of stream).
    pub fn read_from<R: io::Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        self.compact();
        if self.buf.len() - self.end < READ_CHUNK {
            // Zeroed once when grown, then reused by every later read.
            self.buf.resize(self.end + READ_CHUNK, 0);
        }
        let room = self.buf.get_mut(self.end..).unwrap_or_default();
        let n = reader.read(room)?;
        self.end += n.min(room.len());
        Ok(n)
    }

    /// The next whole frame, if the bytes fed so far hold one.
    ///
    /// `Ok(None)` means more bytes are needed. After an error the stream is
    /// lost: the connection should be closed.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        let pending = self.buf.get(self.start..self.end).unwrap_or_default();
        match self.decoder.decode(pending)? {
            Status::NeedMore { .. } => Ok(None),
            Status::Complete { frame, consumed } => {
                self.start += consumed;
                Ok(Some(frame))
            }
        }
    }

    /// Moves the unread bytes to the front when that is cheap enough to stay
    /// linear: when they are no more than the consumed bytes before them.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        let unread = self.end - self.start;
        if unread <= self.start {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = unread;
        }
    }
}
