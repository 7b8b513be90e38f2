//! What each connection sends, and what it must get back.

use proto::{BufferedDecoder, Error};

/// A request and the exact answer it must get, laid out so that any run of
/// in-flight requests is one contiguous slice to send, and any read is one
/// contiguous slice to compare.
#[derive(Debug)]
pub struct Workload {
    /// One request's bytes.
    pub request_len: usize,
    /// One answer's bytes.
    pub response_len: usize,
    /// `depth + 1` requests back to back.
    requests: Vec<u8>,
    /// Enough answers back to back to cover one read from any offset.
    responses: Vec<u8>,
}

/// The largest read a connection makes (the scratch buffer's size).
const MAX_READ: usize = sockets::buffers::READ_SIZE;

impl Workload {
    /// Echo: `size`-byte messages of a pattern that doesn't repeat within
    /// a message, so a shifted or reordered byte is caught.
    pub fn echo(size: usize, depth: usize) -> Workload {
        let message: Vec<u8> = (0..size)
            .map(|i| (i * 7 % 251) as u8 ^ (i / 251) as u8)
            .collect();
        Workload::new(&message, &message, depth)
    }

    /// App: the request `app-client ACTION VALUE` sends, and the answer our
    /// service gives it (which the golden vectors pin to Python's).
    pub fn app(action: &str, value: &str, depth: usize) -> Result<Workload, Error> {
        let mut request = Vec::new();
        proto::create_request(&mut request, action, value);
        let mut decoder = BufferedDecoder::new();
        decoder.feed(&request);
        let message = decoder
            .next_message()?
            .ok_or(Error::HeaderNotObject { found: "nothing" })?;
        let mut response = Vec::new();
        proto::create_response(&message, &mut response);
        Ok(Workload::new(&request, &response, depth))
    }

    fn new(request: &[u8], response: &[u8], depth: usize) -> Workload {
        let responses_needed = MAX_READ.div_ceil(response.len()) + 1;
        Workload {
            request_len: request.len(),
            response_len: response.len(),
            requests: request.repeat(depth + 1),
            responses: response.repeat(responses_needed),
        }
    }

    /// Up to `len` bytes of the request stream from stream offset `sent`.
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
        let work = Workload::app("search", "morpheus", 4).unwrap();
        let answer = &work.responses[..work.response_len];
        assert!(answer.ends_with("{\"result\": \"Follow the white rabbit. 🐰\"}".as_bytes()));
    }

    #[test]
    fn any_read_at_any_offset_is_checked_whole() {
        let work = Workload::echo(100, 16);
        for received in [0u64, 1, 99, 100, 12345] {
            let offset = (received % 100) as usize;
            let expected: Vec<u8> = (0..MAX_READ)
                .map(|i| work.requests[(offset + i) % 100])
                .collect();
            assert!(work.is_expected(received, &expected));
            let mut wrong = expected.clone();
            wrong[MAX_READ - 1] ^= 1;
            assert!(!work.is_expected(received, &wrong));
        }
        assert_eq!(work.to_send(150, 16 * 100).len(), 16 * 100);
    }
}
