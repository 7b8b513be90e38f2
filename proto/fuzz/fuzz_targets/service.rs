//! Decode whatever arrives and respond to it: the service never panics, and
//! every response is a well-formed frame the client side can read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto::{create_response, process_response, BufferedDecoder, Decoder, Status};

fuzz_target!(|data: &[u8]| {
    let mut requests = BufferedDecoder::new();
    requests.feed(data);
    let mut out = Vec::new();
    while let Ok(Some(request)) = requests.next_frame() {
        out.clear();
        create_response(&request, &mut out);
        let mut decoder = Decoder::new();
        match decoder.decode(&out) {
            Ok(Status::Complete { frame, consumed }) => {
                assert_eq!(consumed, out.len());
                // Every response is readable: a result text or binary bytes.
                assert!(process_response(&frame).is_ok(), "{:?}", frame);
            }
            other => panic!("unreadable response {other:?}"),
        }
        // Printing the request as the server does must not panic either.
        if request.header.is_json() {
            if let Ok(value) = proto::Value::parse(request.content) {
                let _ = value.to_string();
            }
        }
    }
});
