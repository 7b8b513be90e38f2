//! Arbitrary bytes, arbitrarily chunked: the decoder never panics, and
//! chunking never changes what it decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto::{BufferedDecoder, Decoder, Status};

/// Everything a stream decodes to: each frame re-encoded, then the error
/// that ended it, if any.
fn decode_all(
    decoder: &mut BufferedDecoder,
    chunks: &mut dyn Iterator<Item = &[u8]>,
) -> Vec<Result<Vec<u8>, proto::Error>> {
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    let mut bytes = Vec::new();
                    if proto::encode_frame(&mut bytes, &frame.header, frame.content).is_ok() {
                        out.push(Ok(bytes));
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    out.push(Err(error));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // First byte: the content-length limit (0xff: none); second: the chunk size.
    let [limit, chunk, stream @ ..] = data else {
        return;
    };
    let limit = match limit {
        0xff => usize::MAX,
        n => usize::from(*n) * 16,
    };
    let chunk = usize::from(*chunk).max(1);

    let whole = decode_all(
        &mut BufferedDecoder::with_max_content_length(limit),
        &mut std::iter::once(stream),
    );
    let chunked = decode_all(
        &mut BufferedDecoder::with_max_content_length(limit),
        &mut stream.chunks(chunk),
    );
    assert_eq!(whole, chunked, "chunking changed the result");

    // The borrowed decoder over growing prefixes, as a server drives it.
    let mut decoder = Decoder::with_max_content_length(limit);
    let mut start = 0;
    let mut end = 0;
    while end <= stream.len() {
        match decoder.decode(&stream[start..end]) {
            Ok(Status::NeedMore { needed }) => {
                assert!(needed >= 1);
                end += 1;
            }
            Ok(Status::Complete { frame, consumed }) => {
                assert!(consumed <= end - start);
                assert!(frame.content.len() <= limit);
                start += consumed;
            }
            Err(_) => break,
        }
    }
});
