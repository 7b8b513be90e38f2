//! One test per error variant, with the exact bytes that trigger it.

mod common;

use common::frame;
use proto::{
    create_response, encode_frame, process_request, process_response, BufferedDecoder, Decoder,
    Error, ErrorClass, Frame, Header, Response, Status,
};

fn decode(bytes: &[u8]) -> Result<Status<'_>, Error> {
    Decoder::new().decode(bytes)
}

fn framing_error(header: &[u8]) -> Error {
    let bytes = frame(header, b"");
    let error = decode(&bytes).expect_err("a framing error");
    assert_eq!(error.class(), ErrorClass::Framing);
    assert!(error.is_framing());
    error
}

#[test]
fn header_not_utf8() {
    let error = framing_error(b"{\"byteorder\": \"\xff\"}");
    assert_eq!(error, Error::HeaderNotUtf8 { valid_up_to: 15 });
    assert_eq!(
        error.to_string(),
        "the JSON header is not valid UTF-8 (bad byte at offset 15)"
    );
}

#[test]
fn header_not_json() {
    let error = framing_error(b"{\"byteorder\": ");
    assert_eq!(
        error.to_string(),
        "the JSON header is not valid JSON (EOF while parsing a value at line 1 column 14)"
    );
    // An empty header (proto-header 0) is not JSON either.
    assert!(matches!(framing_error(b""), Error::HeaderNotJson { .. }));
    // Nor is trailing garbage after the object.
    let error = framing_error(
        br#"{"byteorder": "little", "content-type": "a", "content-encoding": "b", "content-length": 0} x"#,
    );
    assert!(matches!(error, Error::HeaderNotJson { .. }), "{error}");
}

#[test]
fn header_not_object() {
    let error = framing_error(b"[1, 2]");
    assert_eq!(error, Error::HeaderNotObject { found: "an array" });
    assert_eq!(
        error.to_string(),
        "the JSON header is an array, not a JSON object"
    );
    assert_eq!(
        framing_error(b"\"text\""),
        Error::HeaderNotObject { found: "a string" }
    );
    assert_eq!(
        framing_error(b"null"),
        Error::HeaderNotObject { found: "null" }
    );
}

#[test]
fn missing_header_key_in_the_tutorials_order() {
    let cases: [(&[u8], &str); 4] = [
        (br#"{}"#, "byteorder"),
        (br#"{"byteorder": "little"}"#, "content-length"),
        (
            br#"{"byteorder": "little", "content-length": 0}"#,
            "content-type",
        ),
        (
            br#"{"byteorder": "little", "content-length": 0, "content-type": "x"}"#,
            "content-encoding",
        ),
    ];
    for (header, key) in cases {
        let error = framing_error(header);
        assert_eq!(error, Error::MissingHeaderKey { key });
        assert_eq!(
            error.to_string(),
            format!("the JSON header lacks the required key \"{key}\"")
        );
    }
}

#[test]
fn header_value_not_a_string() {
    let error = framing_error(
        br#"{"byteorder": "little", "content-type": 5, "content-encoding": "utf-8", "content-length": 0}"#,
    );
    assert_eq!(
        error,
        Error::HeaderValueNotString {
            key: "content-type",
            found: "a number"
        }
    );
    assert_eq!(
        error.to_string(),
        "\"content-type\" in the JSON header is a number, not a string"
    );
    let error = framing_error(
        br#"{"byteorder": "little", "content-type": "x", "content-encoding": null, "content-length": 0}"#,
    );
    assert_eq!(
        error,
        Error::HeaderValueNotString {
            key: "content-encoding",
            found: "null"
        }
    );
    let error = framing_error(
        br#"{"byteorder": ["little"], "content-type": "x", "content-encoding": "y", "content-length": 0}"#,
    );
    assert_eq!(
        error,
        Error::HeaderValueNotString {
            key: "byteorder",
            found: "an array"
        }
    );
}

#[test]
fn bad_content_length() {
    for (value, found) in [
        ("-1", "a negative integer"),
        ("1.5", "a fractional number"),
        ("41.0", "a fractional number"),
        ("\"41\"", "a string"),
        ("true", "a boolean"),
        ("null", "null"),
        ("{}", "an object"),
    ] {
        let header = format!(
            r#"{{"byteorder": "little", "content-type": "x", "content-encoding": "y", "content-length": {value}}}"#
        );
        let error = framing_error(header.as_bytes());
        assert_eq!(error, Error::BadContentLength { found });
        assert_eq!(
            error.to_string(),
            format!("\"content-length\" in the JSON header is {found}, not a non-negative integer")
        );
    }
}

fn header_with_length(length: u64) -> Vec<u8> {
    format!(
        r#"{{"byteorder": "little", "content-type": "binary/x", "content-encoding": "binary", "content-length": {length}}}"#
    )
    .into_bytes()
}

#[test]
fn content_too_long_is_refused_and_exactly_the_limit_accepted() {
    let mut decoder = Decoder::with_max_content_length(10);
    let over = frame(&header_with_length(11), b"");
    let error = decoder.decode(&over).expect_err("over the limit");
    assert_eq!(
        error,
        Error::ContentTooLong {
            length: 11,
            limit: 10
        }
    );
    assert_eq!(
        error.to_string(),
        "the content-length 11 is above the limit of 10 bytes"
    );
    assert!(error.is_framing());

    let exact = frame(&header_with_length(10), b"0123456789");
    let mut decoder = Decoder::with_max_content_length(10);
    assert!(matches!(
        decoder.decode(&exact),
        Ok(Status::Complete { consumed, .. }) if consumed == exact.len()
    ));
}

#[test]
fn content_too_long_allocates_nothing_for_it() {
    // A header announcing 2^60 bytes, then a trickle of content.
    let mut decoder = BufferedDecoder::new();
    decoder.feed(&frame(&header_with_length(1 << 60), b"xx"));
    let error = decoder.next_frame().expect_err("refused");
    assert_eq!(
        error,
        Error::ContentTooLong {
            length: 1 << 60,
            limit: proto::DEFAULT_MAX_CONTENT_LENGTH
        }
    );
    assert!(decoder.capacity() < 1024, "capacity {}", decoder.capacity());

    // A huge u64 beyond usize on any platform is refused the same way.
    let mut decoder = Decoder::new();
    let bytes = frame(&header_with_length(u64::MAX), b"");
    assert!(matches!(
        decoder.decode(&bytes),
        Err(Error::ContentTooLong { .. })
    ));
}

#[test]
fn no_limit_and_the_largest_content_length_do_not_overflow() {
    let mut decoder = Decoder::with_max_content_length(usize::MAX);
    let bytes = frame(&header_with_length(u64::MAX), b"abc");
    for _ in 0..2 {
        match decoder.decode(&bytes) {
            Ok(Status::NeedMore { needed }) => assert!(needed > 1 << 40),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn header_too_long_for_the_protoheader() {
    let mut header = Header::new("binary/x", "binary", 0);
    header.extra.push((
        "padding".into(),
        proto::Value::String("x".repeat(70_000).into()),
    ));
    let mut out = b"kept".to_vec();
    let error = encode_frame(&mut out, &header, b"content").expect_err("too long");
    assert!(matches!(error, Error::HeaderTooLong { length } if length > 65_535));
    assert!(error.to_string().starts_with("the JSON header would be "));
    assert_eq!(out, b"kept", "the buffer is left as it was");
}

// Content errors: answered, not fatal.

fn json_request(encoding: &str, content: &[u8]) -> Vec<u8> {
    let header = Header::new("text/json", encoding, 0);
    let mut out = Vec::new();
    encode_frame(&mut out, &header, content).expect("encodes");
    out
}

/// The request's content error, and the `result` the service answers with.
fn content_error(encoding: &str, content: &[u8]) -> (Error, String) {
    let bytes = json_request(encoding, content);
    let Ok(Status::Complete { frame, .. }) = decode(&bytes) else {
        panic!("frames correctly")
    };
    let error = process_request(&frame).expect_err("a content error");
    assert_eq!(error.class(), ErrorClass::Content);
    let mut response = Vec::new();
    create_response(&frame, &mut response);
    let Ok(Status::Complete { frame, consumed }) = decode(&response) else {
        panic!("a response")
    };
    assert_eq!(consumed, response.len());
    assert_eq!(frame.header.content_type, "text/json");
    let Ok(Response::Result(result)) = process_response(&frame) else {
        panic!("a result")
    };
    (error, result.into_owned())
}

#[test]
fn content_not_json() {
    let (error, result) = content_error("utf-8", br#"{"action": "#);
    assert!(matches!(error, Error::ContentNotJson { .. }));
    assert_eq!(
        result,
        "Error: the content is not valid JSON (EOF while parsing a value at line 1 column 11)."
    );
    let (error, _) = content_error("utf-8", b"{\"action\": \"se\xffarch\"}");
    assert!(
        matches!(error, Error::ContentNotJson { .. }),
        "not UTF-8 is not JSON"
    );
}

#[test]
fn content_encoding_not_utf8() {
    let (error, result) = content_error("latin-1", br#"{"action": "search", "value": "ring"}"#);
    assert_eq!(
        error,
        Error::ContentEncodingNotUtf8 {
            encoding: "latin-1".into()
        }
    );
    assert_eq!(
        result,
        "Error: text/json content must be encoded as \"utf-8\", not \"latin-1\"."
    );
}

#[test]
fn content_not_object() {
    let (error, result) = content_error("utf-8", br#"["search", "ring"]"#);
    assert_eq!(error, Error::ContentNotObject { found: "an array" });
    assert_eq!(result, "Error: the content is an array, not a JSON object.");
}

#[test]
fn missing_action_and_missing_value() {
    let (error, result) = content_error("utf-8", br#"{"value": "ring"}"#);
    assert_eq!(error, Error::MissingContentKey { key: "action" });
    assert_eq!(result, "Error: the content has no \"action\".");
    let (error, result) = content_error("utf-8", br#"{"action": "search"}"#);
    assert_eq!(error, Error::MissingContentKey { key: "value" });
    assert_eq!(result, "Error: the content has no \"value\".");
}

#[test]
fn action_or_value_not_a_string() {
    let (error, result) = content_error("utf-8", br#"{"action": 5, "value": "ring"}"#);
    assert_eq!(
        error,
        Error::ContentValueNotString {
            key: "action",
            found: "a number"
        }
    );
    assert_eq!(
        result,
        "Error: \"action\" in the content is a number, not a string."
    );
    let (error, result) = content_error("utf-8", br#"{"action": "search", "value": ["ring"]}"#);
    assert_eq!(
        error,
        Error::ContentValueNotString {
            key: "value",
            found: "an array"
        }
    );
    assert_eq!(
        result,
        "Error: \"value\" in the content is an array, not a string."
    );
}

#[test]
fn invalid_action() {
    let (error, result) = content_error("utf-8", br#"{"action": "fi\"nd", "value": "x"}"#);
    assert_eq!(
        error,
        Error::InvalidAction {
            action: "fi\"nd".into()
        }
    );
    assert_eq!(result, "Error: invalid action \"fi\"nd\".");
}

#[test]
fn client_side_result_missing_or_not_a_string() {
    for (content, expected) in [
        (
            &br#"{"answer": "x"}"#[..],
            Error::MissingContentKey { key: "result" },
        ),
        (
            &br#"{"result": null}"#[..],
            Error::ContentValueNotString {
                key: "result",
                found: "null",
            },
        ),
    ] {
        let bytes = json_request("utf-8", content);
        let Ok(Status::Complete { frame, .. }) = decode(&bytes) else {
            panic!("frames")
        };
        let frame: Frame<'_> = frame;
        assert_eq!(process_response(&frame), Err(expected));
    }
}
