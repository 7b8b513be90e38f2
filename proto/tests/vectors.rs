//! Every golden vector, byte for byte, and decoded again however it is split.

mod common;

use common::vectors;
use proto::{create_request, create_response, BufferedDecoder, Decoder, Frame, Status};

fn decode_whole(bytes: &[u8]) -> Frame<'_> {
    match Decoder::new().decode(bytes) {
        Ok(Status::Complete { frame, consumed }) => {
            assert_eq!(consumed, bytes.len());
            frame
        }
        other => panic!("expected one whole frame, got {other:?}"),
    }
}

#[test]
fn there_are_ten_vectors() {
    assert_eq!(vectors().len(), 10);
}

#[test]
fn request_bytes_from_action_and_value() {
    for v in vectors() {
        let mut out = Vec::new();
        if v.name == "json-invalid-action" {
            proto::create_json_request(&mut out, &v.action, &v.value);
        } else {
            create_request(&mut out, &v.action, &v.value);
        }
        assert_eq!(out, v.request, "{}", v.name);
    }
}

#[test]
fn response_bytes_from_request() {
    let mut out = Vec::new();
    for v in vectors() {
        out.clear();
        create_response(&decode_whole(&v.request), &mut out);
        assert_eq!(out, v.response, "{}", v.name);
    }
}

#[test]
fn responses_read_as_the_client_prints_them() {
    for v in vectors() {
        let response = proto::process_response(&decode_whole(&v.response)).expect(&v.name);
        let printed = match response {
            proto::Response::Result(text) => format!("got result: {text}"),
            proto::Response::Binary(bytes) => format!("got response: {}", proto::PyBytes(bytes)),
        };
        let expected = match v.name.as_str() {
            "search-morpheus" => "got result: Follow the white rabbit. 🐰",
            "search-miss" => "got result: No match for \"nope\".",
            "json-invalid-action" => "got result: Error: invalid action \"find\".",
            "binary-hello" => "got response: b'First 10 bytes of request: helloworld'",
            "binary-unicode" => {
                r"got response: b'First 10 bytes of request: \xc3\xa9t\xc3\xa9\xf0\x9f\x90\xb0r'"
            }
            _ => continue,
        };
        assert_eq!(printed, expected);
    }
}

#[test]
fn requests_print_in_the_python_layout() {
    let v = &vectors()[0];
    let frame = decode_whole(&v.request);
    let content = proto::Value::parse(frame.content).expect("JSON");
    assert_eq!(
        format!("received request {content}"),
        r#"received request {"action": "search", "value": "morpheus"}"#
    );
}

/// Feeds `bytes` to a fresh decoder split at `cut`, through both decoders.
fn decode_split(bytes: &[u8], cut: usize) -> Vec<u8> {
    // The borrowed decoder, as a server drives it: the buffer grows.
    let mut decoder = Decoder::new();
    match decoder.decode(&bytes[..cut]) {
        Ok(Status::NeedMore { needed }) => assert!(needed >= 1 && needed <= bytes.len() - cut),
        other => panic!("a prefix of {cut} bytes gave {other:?}"),
    }
    match decoder.decode(bytes) {
        Ok(Status::Complete { consumed, .. }) => assert_eq!(consumed, bytes.len()),
        other => panic!("split at {cut}: {other:?}"),
    }
    // The buffered decoder.
    let mut buffered = BufferedDecoder::new();
    buffered.feed(&bytes[..cut]);
    assert!(buffered.next_frame().expect("no error").is_none());
    buffered.feed(&bytes[cut..]);
    let frame = buffered.next_frame().expect("no error").expect("a frame");
    let mut again = Vec::new();
    proto::encode_frame(&mut again, &frame.header, frame.content).expect("encodes");
    again
}

#[test]
fn every_vector_decodes_split_at_every_byte() {
    for v in vectors() {
        for bytes in [&v.request, &v.response] {
            for cut in 0..bytes.len() {
                assert_eq!(&decode_split(bytes, cut), bytes, "{} cut at {cut}", v.name);
            }
        }
    }
}

#[test]
fn all_vectors_in_one_stream_in_chunks() {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for v in vectors() {
        for bytes in [&v.request, &v.response] {
            stream.extend_from_slice(bytes);
            expected.push(bytes.clone());
        }
    }
    for chunk in [1, 2, 3, 7, 64, 100, 1000, stream.len()] {
        let mut decoder = BufferedDecoder::new();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            decoder.feed(piece);
            while let Some(m) = decoder.next_frame().expect("no error") {
                let mut bytes = Vec::new();
                proto::encode_frame(&mut bytes, &m.header, m.content).expect("encodes");
                got.push(bytes);
            }
        }
        assert_eq!(got, expected, "chunks of {chunk}");
        assert!(decoder.pending().is_empty());
    }
}
