//! Property tests: round trips, arbitrary chunking, arbitrary bytes.

use std::borrow::Cow;

use proptest::prelude::*;
use proto::{encode_frame, BufferedDecoder, Decoder, Error, Header, Status, Value};

const RESERVED: [&str; 4] = [
    "byteorder",
    "content-type",
    "content-encoding",
    "content-length",
];

fn json_value() -> impl Strategy<Value = Value<'static>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<String>().prop_map(|s| Value::String(Cow::Owned(s))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..4)
                .prop_map(|entries| { Value::Object(unique(entries)) }),
        ]
    })
}

/// Keys made unique keeping the first, which is what decoding a frame
/// with repeated keys can't reproduce (last value wins), so generate none.
fn unique(entries: Vec<(String, Value<'static>)>) -> Vec<(Cow<'static, str>, Value<'static>)> {
    let mut out: Vec<(Cow<'static, str>, Value<'static>)> = Vec::new();
    for (k, v) in entries {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((Cow::Owned(k), v));
        }
    }
    out
}

fn header() -> impl Strategy<Value = Header<'static>> {
    (
        any::<String>(),
        any::<String>(),
        any::<String>(),
        prop::collection::vec((any::<String>(), json_value()), 0..4),
    )
        .prop_map(|(byteorder, content_type, content_encoding, extra)| {
            let extra = unique(extra)
                .into_iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_ref()))
                .collect();
            Header {
                byteorder: byteorder.into(),
                content_type: content_type.into(),
                content_encoding: content_encoding.into(),
                content_length: 0,
                extra,
            }
        })
}

fn frame() -> impl Strategy<Value = (Header<'static>, Vec<u8>)> {
    (header(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(mut header, content)| {
        header.content_length = content.len();
        (header, content)
    })
}

/// Splits `bytes` at the given (unsorted, maybe out of range) points.
fn chunks<'b>(bytes: &'b [u8], cuts: &[usize]) -> Vec<&'b [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips((header, content) in frame()) {
        let mut bytes = vec![0xAA]; // something before: encoding appends
        encode_frame(&mut bytes, &header, &content).expect("fits");
        let mut decoder = Decoder::new();
        match decoder.decode(&bytes[1..]) {
            Ok(Status::Complete { frame, consumed }) => {
                prop_assert_eq!(consumed, bytes.len() - 1);
                prop_assert_eq!(&frame.header, &header);
                prop_assert_eq!(frame.content, &content[..]);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn a_stream_of_n_frames_in_any_chunks_gives_those_n(
        frames in prop::collection::vec(frame(), 1..12),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = Vec::new();
        for (header, content) in &frames {
            encode_frame(&mut stream, header, content).expect("fits");
        }
        let mut decoder = BufferedDecoder::new();
        let mut got = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            decoder.feed(chunk);
            while let Some(frame) = decoder.next_frame().expect("valid stream") {
                got.push((frame.header.into_owned(), frame.content.to_vec()));
            }
        }
        prop_assert_eq!(got, frames);
        prop_assert!(decoder.pending().is_empty());
        prop_assert!(decoder.decoder().is_idle());
    }

    #[test]
    fn arbitrary_bytes_end_in_a_frame_an_error_or_need_more(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        limit in 0usize..2000,
    ) {
        // Through the buffered decoder, fed in chunks.
        let mut decoder = BufferedDecoder::with_max_content_length(limit);
        'feed: for chunk in chunks(&bytes, &cuts) {
            decoder.feed(chunk);
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => prop_assert!(frame.content.len() <= limit),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
        // Through the borrowed decoder, every prefix in turn.
        let mut decoder = Decoder::with_max_content_length(limit);
        for end in 0..=bytes.len() {
            match decoder.decode(&bytes[..end]) {
                Ok(Status::NeedMore { needed }) => prop_assert!(needed >= 1),
                Ok(Status::Complete { consumed, .. }) => {
                    prop_assert!(consumed <= end);
                    break;
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn arbitrary_valid_frames_with_junk_headers_never_panic_the_service(
        header in prop::collection::vec(any::<u8>(), 0..200),
        content in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = u16::try_from(header.len()).unwrap_or(0).to_be_bytes().to_vec();
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&content);
        if let Ok(Status::Complete { frame, .. }) = Decoder::new().decode(&bytes) {
            let mut out = Vec::new();
            proto::create_response(&frame, &mut out);
            let decoded = Decoder::new().decode(&out);
            prop_assert!(
                matches!(decoded, Ok(Status::Complete { consumed, .. }) if consumed == out.len()),
                "{:?}", decoded
            );
        }
    }

    #[test]
    fn search_requests_of_any_value_are_answered(value in any::<String>()) {
        let mut request = Vec::new();
        proto::create_request(&mut request, "search", &value);
        let Ok(Status::Complete { frame, .. }) = Decoder::new().decode(&request) else {
            return Err(TestCaseError::fail("request decodes"));
        };
        prop_assert_eq!(
            proto::process_request(&frame),
            Ok(proto::Request::Search { query: value.as_str().into() })
        );
        let mut response = Vec::new();
        proto::create_response(&frame, &mut response);
        let Ok(Status::Complete { frame, .. }) = Decoder::new().decode(&response) else {
            return Err(TestCaseError::fail("response decodes"));
        };
        let expected = proto::search(&value).to_string();
        prop_assert_eq!(
            proto::process_response(&frame),
            Ok(proto::Response::Result(expected.into()))
        );
    }
}

#[test]
fn errors_are_not_sticky_but_documented_as_fatal() {
    // After a framing error the caller closes; a decoder reused anyway starts
    // over at a frame boundary rather than panicking.
    let mut decoder = Decoder::new();
    assert!(matches!(
        decoder.decode(b"\x00\x02[]"),
        Err(Error::HeaderNotObject { .. })
    ));
    assert!(decoder.is_idle());
}
