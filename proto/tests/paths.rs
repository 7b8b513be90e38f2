//! The fast paths against the general paths they stand in for.
//!
//! `proto::layout` scans the Python programs' exact JSON layout by hand and
//! leaves everything else to serde_json. These tests feed both paths the
//! same bytes and demand the same answer: the same header, request or error,
//! and, for the writers, the same bytes. The inputs are the layout itself
//! and near misses of it (other key orders, separators and spellings, extra
//! or repeated keys, escapes, odd numbers, then random byte flips,
//! insertions and deletions), since a near miss is where a fast path that
//! accepts too much would show.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256 per test); run
//! long in release: `PROPTEST_CASES=1000000 cargo test --release -p proto
//! --test paths`.

mod common;

use std::borrow::Cow;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proto::layout::{
    encode_frame_general, header_fast, header_general, process_request_general, result_frame_fast,
    result_frame_general, search_content_fast,
};
use proto::{encode_frame, process_request, Error, Frame, Header, ResultText, Value};

/// A JSON string as serde_json (and so Python) writes it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Characters that stress a JSON string: quotes, backslashes, controls,
/// DEL, multi-byte UTF-8; else any character at all.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        4 => select(vec!['a', 'z', '0', ' ', '-', '/', '.']),
        1 => select(vec!['"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{0}', '\u{1f}']),
        1 => select(vec!['\u{7f}', 'é', '\u{2028}', '🐰', '\u{fffd}', '\u{feff}']),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["little", "big", "text/json", "utf-8", "binary", "search", "", "morpheus"])
            .prop_map(String::from),
        3 => prop::collection::vec(tricky_char(), 0..12).prop_map(String::from_iter),
        1 => any::<String>(),
    ]
}

/// A string value as written in a document: mostly as Python writes it,
/// sometimes spelt another valid way (`\u` or `\/` escapes), sometimes not
/// a string at all.
fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => text().prop_map(|s| json_string(&s)),
        1 => text().prop_map(|s| {
            // Every character as a \u escape: the same string, another spelling.
            let escaped: String = s
                .encode_utf16()
                .map(|unit| format!("\\u{unit:04x}"))
                .collect();
            format!("\"{escaped}\"")
        }),
        1 => select(vec![
            "\"\\/\"", "\"a\\u0041\"", "\"\\ud83d\\udc30\"", "\"\\ud800\"", "\"\\x41\"",
            "\"unterminated", "'single'", "5", "-0", "1e3", "null", "true", "[]", "{}",
            "[\"little\"]", "{\"a\": 1}",
        ])
        .prop_map(String::from),
    ]
}

/// A `content-length` as written in a document.
fn length_value() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0u64..100_000).prop_map(|n| n.to_string()),
        2 => any::<u64>().prop_map(|n| n.to_string()),
        2 => select(vec![
            "0", "00", "01", "007", "-0", "-1", "1e3", "1E3", "1e-3", "1.0", "41.0", "0.5",
            "18446744073709551615", "18446744073709551616", "99999999999999999999999",
            "-9223372036854775808", "\"41\"", "null", "true", "[41]", "{}", "4_1", "+1",
            "0x10", "Infinity", "NaN", "", " 41", "41 ",
        ])
        .prop_map(String::from),
    ]
}

/// A JSON object's text built from entries, with a choice of separators.
#[derive(Debug, Clone)]
struct Doc {
    entries: Vec<(String, String)>,
    open: &'static str,
    colon: &'static str,
    comma: &'static str,
    close: &'static str,
}

impl Doc {
    fn render(&self) -> Vec<u8> {
        let mut out = String::from(self.open);
        for (i, (key, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push_str(self.comma);
            }
            out.push_str(key);
            out.push_str(self.colon);
            out.push_str(value);
        }
        out.push_str(self.close);
        out.into_bytes()
    }
}

/// Python's separators most of the time, JSON's other allowed (and a few
/// disallowed) spellings otherwise.
fn separators() -> impl Strategy<Value = [&'static str; 4]> {
    prop_oneof![
        12 => Just(["{", ": ", ", ", "}"]),
        1 => (
            select(vec!["{", "{ ", " {", "\n{", "["]),
            select(vec![": ", ":", " : ", ":  ", ":\t", " :", "="]),
            select(vec![", ", ",", " , ", ",  ", ",\n", ";", ",,"]),
            select(vec!["}", " }", "}\n", "} ", "}}", ",}", "]", ""]),
        )
            .prop_map(|(a, b, c, d)| [a, b, c, d]),
    ]
}

/// How the entries of a well-laid-out object are disturbed.
#[derive(Debug, Clone)]
enum Shuffle {
    None,
    Reorder(Vec<usize>),
    Drop(usize),
    Duplicate(usize, String),
    Extra(usize, String, String),
}

fn shuffle(len: usize) -> impl Strategy<Value = Shuffle> {
    prop_oneof![
        16 => Just(Shuffle::None),
        1 => Just((0..len).collect::<Vec<_>>()).prop_shuffle().prop_map(Shuffle::Reorder),
        1 => (0..len).prop_map(Shuffle::Drop),
        1 => (0..len, string_value()).prop_map(|(i, v)| Shuffle::Duplicate(i, v)),
        1 => (0..=len, text(), string_value())
            .prop_map(|(i, k, v)| Shuffle::Extra(i, json_string(&k), v)),
    ]
}

fn apply(entries: &mut Vec<(String, String)>, shuffle: Shuffle) {
    match shuffle {
        Shuffle::None => {}
        Shuffle::Reorder(order) => {
            let old = entries.clone();
            *entries = order
                .into_iter()
                .filter_map(|i| old.get(i).cloned())
                .collect();
        }
        Shuffle::Drop(i) => {
            if i < entries.len() {
                entries.remove(i);
            }
        }
        Shuffle::Duplicate(i, value) => {
            if let Some((key, _)) = entries.get(i).cloned() {
                entries.push((key, value));
            }
        }
        Shuffle::Extra(i, key, value) => entries.insert(i.min(entries.len()), (key, value)),
    }
}

/// A byte-level change to a rendered document.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..4),
        select(vec![
            &b" "[..],
            b"\\",
            b"\"",
            b"\\u0041",
            b"\\\"",
            b"0",
            b"-",
            b"e3",
            b".0",
            b",",
            b":",
            b"}",
            b"{",
            b"\n",
            b"\xff",
            b"\xc3",
            b"\xed\xa0\x80",
            "é".as_bytes(),
            "🐰".as_bytes(),
        ])
        .prop_map(<[u8]>::to_vec),
    ];
    prop_oneof![
        12 => Just(Mutation::None),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        1 => (any::<usize>(), token).prop_map(|(at, t)| Mutation::Insert(at, t)),
        1 => (any::<usize>(), 1usize..4).prop_map(|(at, n)| Mutation::Delete(at, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutation: &Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| i % (len + 1);
    match mutation {
        Mutation::None => {}
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = i % bytes.len();
                bytes[i] = *b;
            }
        }
        Mutation::Insert(i, token) => {
            let i = at(*i, bytes.len());
            bytes.splice(i..i, token.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
    }
    bytes
}

/// An object with these keys, in this order, and values from `values`:
/// laid out as Python lays it out, or disturbed by a [`Shuffle`], other
/// separators and a [`Mutation`].
fn document(
    keys: &'static [&'static str],
    values: impl Strategy<Value = Vec<String>>,
) -> impl Strategy<Value = Vec<u8>> {
    (values, shuffle(keys.len()), separators(), mutation()).prop_map(
        move |(values, shuffle, [open, colon, comma, close], mutation)| {
            let mut entries = keys
                .iter()
                .map(|key| json_string(key))
                .zip(values)
                .collect();
            apply(&mut entries, shuffle);
            let doc = Doc {
                entries,
                open,
                colon,
                comma,
                close,
            };
            mutate(doc.render(), &mutation)
        },
    )
}

/// A header document: the Python layout, or a near miss of it.
fn header_doc() -> impl Strategy<Value = Vec<u8>> {
    let values = (
        string_value(),
        string_value(),
        string_value(),
        length_value(),
    )
        .prop_map(|(byteorder, ctype, cenc, length)| vec![byteorder, ctype, cenc, length]);
    document(
        &[
            "byteorder",
            "content-type",
            "content-encoding",
            "content-length",
        ],
        values,
    )
}

/// A search request's content: the Python layout, or a near miss of it.
fn request_doc() -> impl Strategy<Value = Vec<u8>> {
    let action = prop_oneof![
        4 => Just(json_string("search")),
        1 => string_value(),
    ];
    let values = (action, string_value()).prop_map(|(action, value)| vec![action, value]);
    document(&["action", "value"], values)
}

fn json_request(content: &[u8]) -> Frame<'_> {
    Frame {
        header: Header::new("text/json", "utf-8", content.len()),
        content,
    }
}

/// Whether a string can be written without escapes (the fast path's strings).
fn plain(text: &str) -> bool {
    !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// The two encoders, each appending after the same prefix.
fn both_encoders(prefix: &[u8], header: &Header<'_>, content: &[u8]) -> [(Vec<u8>, bool); 2] {
    let mut fast = prefix.to_vec();
    let fast_ok = encode_frame(&mut fast, header, content).is_ok();
    let mut general = prefix.to_vec();
    let general_ok = encode_frame_general(&mut general, header, content).is_ok();
    [(fast, fast_ok), (general, general_ok)]
}

proptest! {
    #[test]
    fn header_paths_agree(json in header_doc()) {
        let general = header_general(&json);
        prop_assert_eq!(&proto::Header::parse(&json), &general);
        if let Some(fast) = header_fast(&json) {
            prop_assert_eq!(Ok(fast), general);
        }
    }

    #[test]
    fn python_layout_headers_take_the_fast_path(
        byteorder in text(),
        content_type in text(),
        content_encoding in text(),
        length in any::<u64>(),
    ) {
        let json = format!(
            "{{\"byteorder\": {}, \"content-type\": {}, \"content-encoding\": {}, \"content-length\": {length}}}",
            json_string(&byteorder), json_string(&content_type), json_string(&content_encoding),
        );
        let fast = header_fast(json.as_bytes());
        let expect_fast = [&byteorder, &content_type, &content_encoding].iter().all(|s| plain(s));
        prop_assert_eq!(fast.is_some(), expect_fast, "{}", json);
        if let Some(header) = fast {
            prop_assert_eq!(&header.byteorder, &byteorder);
            prop_assert_eq!(&header.content_type, &content_type);
            prop_assert_eq!(&header.content_encoding, &content_encoding);
            prop_assert_eq!(header.content_length as u64, length);
            // Borrowed, not copied.
            prop_assert!(matches!(header.content_type, Cow::Borrowed(_)));
        }
        prop_assert_eq!(proto::Header::parse(json.as_bytes()), header_general(json.as_bytes()));
    }

    #[test]
    fn request_paths_agree(content in request_doc()) {
        let request = json_request(&content);
        let general = process_request_general(&request);
        prop_assert_eq!(&process_request(&request), &general);
        if let Some((action, value)) = search_content_fast(&content) {
            let expected = if action == "search" {
                Ok(proto::Request::Search { query: value.into() })
            } else {
                Err(Error::InvalidAction { action: action.into() })
            };
            prop_assert_eq!(expected, general);
        }
    }

    #[test]
    fn python_layout_requests_take_the_fast_path(action in text(), value in text()) {
        let mut frame = Vec::new();
        proto::create_json_request(&mut frame, &action, &value);
        let Ok(proto::Status::Complete { frame, .. }) = proto::Decoder::new().decode(&frame) else {
            return Err(TestCaseError::fail("the request decodes"));
        };
        let fast = search_content_fast(frame.content);
        prop_assert_eq!(fast.is_some(), plain(&action) && plain(&value));
        if let Some(fields) = fast {
            prop_assert_eq!(fields, (action.as_str(), value.as_str()));
        }
        prop_assert_eq!(process_request(&frame), process_request_general(&frame));
    }

    #[test]
    fn header_writers_agree(
        prefix in prop::collection::vec(any::<u8>(), 0..4),
        byteorder in text(),
        content_type in text(),
        content_encoding in text(),
        content_length in prop_oneof![0usize..300, 0usize..200_000],
    ) {
        let header = Header {
            byteorder: byteorder.into(),
            content_type: content_type.into(),
            content_encoding: content_encoding.into(),
            content_length: 0,
            extra: Vec::new(),
        };
        let content = vec![0x5a; content_length];
        let [fast, general] = both_encoders(&prefix, &header, &content);
        prop_assert!(fast == general, "the writers differ for {:?}", header);
        prop_assert!(fast.1);
    }

    #[test]
    fn result_writers_agree(
        prefix in prop::collection::vec(any::<u8>(), 0..4),
        text in text(),
        which in 0usize..5,
    ) {
        let invalid = Error::InvalidAction { action: text.clone() };
        let not_json = Error::ContentNotJson { reason: text.clone() };
        let result = match which {
            0 => ResultText::NoMatch(&text),
            1 => ResultText::Error(&invalid),
            2 => ResultText::Error(&not_json),
            _ => proto::search(&text),
        };
        let mut fast = prefix.clone();
        result_frame_fast(&mut fast, &result);
        let mut general = prefix;
        result_frame_general(&mut general, &result);
        prop_assert_eq!(fast, general);
    }
}

#[test]
fn every_table_entry_and_error_is_written_alike() {
    let errors = [
        Error::ContentEncodingNotUtf8 {
            encoding: "latin-1".into(),
        },
        Error::ContentNotObject { found: "an array" },
        Error::MissingContentKey { key: "value" },
        Error::ContentValueNotString {
            key: "action",
            found: "null",
        },
        Error::InvalidAction {
            action: "fi\"nd\\\u{1}".into(),
        },
    ];
    let mut results: Vec<ResultText<'_>> = proto::SEARCH_TABLE
        .iter()
        .map(|(_, text)| ResultText::Found(text))
        .collect();
    results.extend(errors.iter().map(ResultText::Error));
    for result in &results {
        let mut fast = Vec::new();
        result_frame_fast(&mut fast, result);
        let mut general = Vec::new();
        result_frame_general(&mut general, result);
        assert_eq!(fast, general, "{result}");
    }
}

#[test]
fn headers_with_extra_keys_or_too_long_agree_too() {
    let mut header = Header::new("binary/x", "binary", 0);
    header
        .extra
        .push(("content-length".into(), Value::String("lie".into())));
    header.extra.push(("x".into(), Value::Null));
    let [fast, general] = both_encoders(b"", &header, b"abc");
    assert_eq!(fast, general);
    assert!(fast.1);

    // Too long for a proto-header: both refuse and leave the buffer alone.
    let long = Header::new("x".repeat(70_000), "binary", 0);
    let [fast, general] = both_encoders(b"kept", &long, b"abc");
    assert_eq!(fast, (b"kept".to_vec(), false));
    assert_eq!(general, (b"kept".to_vec(), false));
}

#[test]
fn every_golden_vector_takes_the_fast_paths() {
    for v in common::vectors() {
        for bytes in [&v.request, &v.response] {
            let header_len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            let json = &bytes[2..2 + header_len];
            let fast = header_fast(json).unwrap_or_else(|| panic!("{}: fast header", v.name));
            assert_eq!(Ok(fast.clone()), header_general(json), "{}", v.name);
            if fast.is_json() && bytes == &v.request {
                // All but the query that needs an escape (`search-quote`).
                let content = &bytes[2 + header_len..];
                let expected = plain(&v.action) && plain(&v.value);
                assert_eq!(
                    search_content_fast(content).is_some(),
                    expected,
                    "{}",
                    v.name
                );
            }
            let mut again = Vec::new();
            encode_frame(&mut again, &fast, &bytes[2 + header_len..]).expect("encodes");
            assert_eq!(&again, bytes, "{}", v.name);
        }
    }
}

#[test]
fn near_misses_fall_back_with_the_general_answer() {
    let python = br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}"#;
    assert!(header_fast(python).is_some());
    let cases: [&[u8]; 10] = [
        br#"{"byteorder":"little","content-type":"text/json","content-encoding":"utf-8","content-length":41}"#,
        br#"{"content-type": "text/json", "byteorder": "little", "content-encoding": "utf-8", "content-length": 41}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41} "#,
        br#"{"byteorder": "lit\u0074le", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 1e3}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": -0}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 041}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 18446744073709551616}"#,
        br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41, "x": 1}"#,
        b"{\"byteorder\": \"l\xfftle\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 41}",
    ];
    for json in cases {
        assert!(
            header_fast(json).is_none(),
            "{}",
            String::from_utf8_lossy(json)
        );
        assert_eq!(proto::Header::parse(json), header_general(json));
    }
}

/// How often a generator's documents end on each side: taken by the fast
/// path, valid but left to the general path, refused. A differential test
/// whose inputs all landed on one side would prove nothing.
fn outcomes<S: Strategy<Value = Vec<u8>>>(docs: S, judge: impl Fn(&[u8]) -> usize) -> [usize; 3] {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut counts = [0; 3];
    for _ in 0..2000 {
        let Ok(tree) = docs.new_tree(&mut runner) else {
            continue;
        };
        counts[judge(&tree.current())] += 1;
    }
    counts
}

#[test]
fn the_generators_reach_both_paths_and_errors() {
    let headers = outcomes(header_doc(), |json| {
        match (header_fast(json), header_general(json)) {
            (Some(_), _) => 0,
            (None, Ok(_)) => 1,
            (None, Err(_)) => 2,
        }
    });
    let requests = outcomes(request_doc(), |content| {
        let request = json_request(content);
        match (
            search_content_fast(content),
            process_request_general(&request),
        ) {
            (Some(_), _) => 0,
            (None, Ok(_)) => 1,
            (None, Err(_)) => 2,
        }
    });
    for counts in [headers, requests] {
        assert!(
            counts.iter().all(|&n| n >= 100),
            "fast, general, error: {counts:?}"
        );
    }
    println!("headers {headers:?}, requests {requests:?}");
}
