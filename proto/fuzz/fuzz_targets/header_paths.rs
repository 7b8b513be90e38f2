//! The fast paths of `proto::layout` against the general paths they stand
//! in for: the same bytes read by both give the same header, request or
//! error, and the fast writers write what the general encoder writes.
//!
//! The input is read three ways: as a JSON header, as a `text/json`
//! request's content, and (lossily decoded) as text for the writers. Seeds
//! in the Python layout let the fuzzer explore the near misses around it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto::layout::{
    encode_frame_general, header_fast, header_general, process_request_general, result_frame_fast,
    result_frame_general, search_content_fast,
};
use proto::{encode_frame, process_request, Error, Frame, Header, Request, ResultText};

/// Both encoders' output for `header`, after the same prefix.
fn assert_encoders_agree(header: &Header<'_>, content: &[u8]) -> Vec<u8> {
    let mut fast = b"prefix".to_vec();
    let fast_ok = encode_frame(&mut fast, header, content).is_ok();
    let mut general = b"prefix".to_vec();
    let general_ok = encode_frame_general(&mut general, header, content).is_ok();
    assert_eq!((fast_ok, &fast), (general_ok, &general), "{header:?}");
    fast
}

fn plain(text: &str) -> bool {
    !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

fuzz_target!(|data: &[u8]| {
    // As a JSON header.
    let general = header_general(data);
    assert_eq!(Header::parse(data), general);
    if let Some(fast) = header_fast(data) {
        assert_eq!(Ok(fast), general);
    }
    if let Ok(header) = &general {
        let frame = assert_encoders_agree(header, b"content");
        // What we write in the layout, the fast path reads back.
        let strings = [
            &header.byteorder,
            &header.content_type,
            &header.content_encoding,
        ];
        if header.extra.is_empty() && strings.iter().all(|s| plain(s)) {
            let json = frame.get(8..frame.len() - 7).unwrap_or_default();
            assert!(
                header_fast(json).is_some(),
                "{:?}",
                String::from_utf8_lossy(json)
            );
        }
    }

    // As a search request's content.
    let request = Frame {
        header: Header::new("text/json", "utf-8", data.len()),
        content: data,
    };
    let general = process_request_general(&request);
    assert_eq!(process_request(&request), general);
    if let Some((action, value)) = search_content_fast(data) {
        let expected = if action == "search" {
            Ok(Request::Search {
                query: value.into(),
            })
        } else {
            Err(Error::InvalidAction {
                action: action.into(),
            })
        };
        assert_eq!(expected, general);
    }

    // As text for the writers: header strings and result texts.
    let text = String::from_utf8_lossy(data);
    let middle = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (first, second) = text.split_at(middle);
    assert_encoders_agree(&Header::new(first, second, 0), second.as_bytes());
    let invalid = Error::InvalidAction {
        action: text.to_string(),
    };
    for result in [ResultText::NoMatch(&text), ResultText::Error(&invalid)] {
        let mut fast = b"prefix".to_vec();
        result_frame_fast(&mut fast, &result);
        let mut general = b"prefix".to_vec();
        result_frame_general(&mut general, &result);
        assert_eq!(fast, general);
    }
});
