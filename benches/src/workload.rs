//! What a benchmark client sends, and what it must get back: the one
//! [`Workload`] of `loadgen` and of the criterion benches' client
//! ([`crate::peers::client`]).

use proto::{BufferedDecoder, Error};
use sockets::buffers::READ_SIZE;

/// A request and the exact answer it must get (for echo, the request
/// itself), so a client never parses: a connection's incoming stream must
/// equal the answer repeated, byte for byte. That makes checking cheap
/// enough not to favour any server, and strict: a lost, extra, reordered or
/// corrupted byte is an error.
///
/// Both are laid out repeated, so that a write from any stream offset is
/// one contiguous slice ([`Workload::to_send`]), and so is a comparison of
/// any read of up to [`READ_SIZE`] bytes ([`Workload::is_expected`]).
#[derive(Debug, Clone)]
pub struct Workload {
    request_len: usize,
    response_len: usize,
    /// Requests back to back, enough for a read's worth and one more.
    requests: Vec<u8>,
    /// Answers back to back, enough to cover a read from any offset.
    responses: Vec<u8>,
}

impl Workload {
    /// Echo: `size`-byte messages of a pattern that doesn't repeat within
    /// a message, so a shifted or reordered byte is caught.
    pub fn echo(size: usize) -> Workload {
        let message: Vec<u8> = (0..size)
            .map(|i| (i * 7 % 251) as u8 ^ (i / 251) as u8)
            .collect();
        Workload::new(&message, &message)
    }

    /// App: the request `app-client ACTION VALUE` sends (a JSON search for
    /// `search`), and the answer our service gives it (which the golden
    /// vectors pin to Python's), computed once here by `proto` itself.
    pub fn app(action: &str, value: &str) -> Result<Workload, Error> {
        let mut request = Vec::new();
        proto::create_request(&mut request, action, value);
        let mut decoder = BufferedDecoder::new();
        decoder.feed(&request);
        let message = decoder
            .next_frame()?
            .ok_or(Error::HeaderNotObject { found: "nothing" })?;
        let mut response = Vec::new();
        proto::create_response(&message, &mut response);
        Ok(Workload::new(&request, &response))
    }

    fn new(request: &[u8], response: &[u8]) -> Workload {
        let copies = |len: usize| READ_SIZE.div_ceil(len.max(1)) + 1;
        Workload {
            request_len: request.len(),
            response_len: response.len(),
            requests: request.repeat(copies(request.len())),
            responses: response.repeat(copies(response.len())),
        }
    }

    /// One request's bytes.
    pub fn request_len(&self) -> usize {
        self.request_len
    }

    /// One answer's bytes.
    pub fn response_len(&self) -> usize {
        self.response_len
    }

    /// Up to `len` bytes of the request stream from stream offset `sent`
    /// (fewer at the end of the laid-out requests: send the rest after).
    pub fn to_send(&self, sent: u64, len: usize) -> &[u8] {
        let offset = (sent % self.request_len as u64) as usize;
        let end = (offset + len).min(self.requests.len());
        &self.requests[offset..end]
    }

    /// Whether `got`, read at answer-stream offset `received`, is exactly
    /// what the server must send there.
    pub fn is_expected(&self, received: u64, got: &[u8]) -> bool {
        let offset = (received % self.response_len as u64) as usize;
        self.responses.get(offset..offset + got.len()) == Some(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_answer_is_the_search_result() {
        let work = Workload::app("search", "morpheus").unwrap();
        let answer = &work.responses[..work.response_len];
        assert!(answer.ends_with("{\"result\": \"Follow the white rabbit. 🐰\"}".as_bytes()));
    }

    #[test]
    fn any_read_at_any_offset_is_checked_whole() {
        let work = Workload::echo(100);
        for received in [0u64, 1, 99, 100, 12345] {
            let offset = (received % 100) as usize;
            let expected: Vec<u8> = (0..READ_SIZE)
                .map(|i| work.requests[(offset + i) % 100])
                .collect();
            assert!(work.is_expected(received, &expected));
            let mut wrong = expected.clone();
            wrong[READ_SIZE - 1] ^= 1;
            assert!(!work.is_expected(received, &wrong));
        }
        assert_eq!(work.to_send(150, 16 * 100).len(), 16 * 100);
    }
}
