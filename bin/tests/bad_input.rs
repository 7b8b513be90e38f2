//! Every bad input of docs/protocol.md, each on its own connection to one
//! app-server (--max-content-length 100):
//!
//! - broken framing: one `error:` line on stderr naming the peer and the
//!   reason, and the connection closed (EOF);
//! - unusable content: an answer `{"result": "Error: ..."}`, and the same
//!   connection still serves a good request;
//!
//! and after each, a good request on another connection is answered.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::*;

const LIMIT: usize = 100;

fn server() -> Server {
    Server::start(APP_SERVER, &["--max-content-length", &LIMIT.to_string()])
}

/// A header with the four keys, `key` replaced by the raw JSON `value`
/// (or left out when `value` is `None`).
fn header_with(key: &str, value: Option<&str>) -> Vec<u8> {
    let mut entries = vec![
        ("byteorder", format!("\"{}\"", byteorder())),
        (
            "content-type",
            "\"binary/custom-client-binary-type\"".to_owned(),
        ),
        ("content-encoding", "\"binary\"".to_owned()),
        ("content-length", "5".to_owned()),
    ];
    match value {
        Some(v) => {
            entries
                .iter_mut()
                .find(|(k, _)| *k == key)
                .expect("a header key")
                .1 = v.to_owned()
        }
        None => entries.retain(|(k, _)| *k != key),
    }
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", body.join(", ")).into_bytes()
}

/// The framing errors: (what, the bytes sent, a piece of the logged reason).
fn framing_cases() -> Vec<(String, Vec<u8>, &'static str)> {
    let mut cases: Vec<(String, Vec<u8>, &'static str)> = vec![
        (
            "header not UTF-8".into(),
            frame(b"{\"byteorder\": \"\xff\xfe\"}", b""),
            "UTF-8",
        ),
        (
            "header not JSON".into(),
            frame(b"{\"byteorder\": \"little\",", b""),
            "not valid JSON",
        ),
        (
            "header an array".into(),
            frame(b"[\"byteorder\", \"little\"]", b""),
            "not a JSON object",
        ),
        (
            "header a string".into(),
            frame(b"\"text/json\"", b""),
            "not a JSON object",
        ),
        (
            "header a number".into(),
            frame(b"42", b""),
            "not a JSON object",
        ),
        (
            "content-length above the limit".into(),
            frame(
                header("binary/custom-client-binary-type", "binary", LIMIT + 1).as_bytes(),
                b"",
            ),
            "101",
        ),
        (
            "content-length beyond u64".into(),
            frame(
                &header_with("content-length", Some("99999999999999999999999")),
                b"",
            ),
            "content-length",
        ),
    ];
    for key in [
        "byteorder",
        "content-type",
        "content-encoding",
        "content-length",
    ] {
        cases.push((
            format!("{key} missing"),
            frame(&header_with(key, None), b""),
            key,
        ));
    }
    for (key, value) in [
        ("byteorder", "1"),
        ("content-type", "5"),
        ("content-type", "null"),
        ("content-type", "[\"text/json\"]"),
        ("content-encoding", "true"),
        ("content-encoding", "{\"utf\": 8}"),
        ("content-length", "-1"),
        ("content-length", "1.5"),
        ("content-length", "\"5\""),
        ("content-length", "null"),
    ] {
        cases.push((
            format!("{key} = {value}"),
            frame(&header_with(key, Some(value)), b""),
            key,
        ));
    }
    cases
}

/// A good request on a fresh connection is answered.
fn assert_still_serving(server: &Server) {
    let mut other = server.connect();
    assert_serves(&mut other);
}

#[test]
fn broken_framing_is_logged_once_and_closes_the_connection() {
    let server = server();
    for (what, bytes, reason) in framing_cases() {
        let mut sock = server.connect();
        let peer = sock.local_addr().expect("local addr");
        sock.write_all(&bytes).expect("write");
        // Closed without waiting for any content: EOF, no answer.
        expect_eof(&mut sock);
        let line = server
            .stderr
            .expect_line(&format!("about {what}"), |l| l.contains(&py_addr(peer)));
        assert!(line.starts_with("error: "), "{what}: {line}");
        assert!(
            line.to_lowercase().contains(&reason.to_lowercase()),
            "{what}: the reason ({reason}) is not in {line:?}"
        );
        assert_eq!(
            server.errors_about(peer),
            vec![line.clone()],
            "{what}: one line"
        );
        assert_still_serving(&server);
    }
}

#[test]
fn a_request_of_exactly_the_limit_is_accepted() {
    let server = server();
    let content = vec![b'z'; LIMIT];
    let mut sock = server.connect();
    let answer = ask(&mut sock, &binary_request(&content));
    assert_eq!(answer.content, binary_answer_content(&content));
}

#[test]
fn a_framing_error_after_good_requests_answers_them_first() {
    let server = server();
    let mut sock = server.connect();
    let good = vector("search-ring");
    let mut bytes = good.request.clone();
    bytes.extend_from_slice(&frame(b"[]", b""));
    sock.write_all(&bytes).expect("write");
    let answer = read_message(&mut sock).expect("the answer to the good request");
    assert_eq!(answer.raw, good.response);
    expect_eof(&mut sock);
    assert_still_serving(&server);
}

#[test]
fn a_framing_error_followed_by_more_input_still_delivers_the_earlier_answers() {
    // Many good requests, a bad header, then more input than the server
    // reads at once: it closes with unread input, which must not reset the
    // connection and drop the answers it still had to deliver.
    const GOOD: usize = 1000;
    let server = server();
    let mut sock = server.connect();
    let good = vector("search-ring");
    let mut bytes = good.request.repeat(GOOD);
    bytes.extend_from_slice(&frame(b"[]", b""));
    bytes.extend_from_slice(&vec![b'j'; 512 * 1024]);
    let peer = sock.local_addr().expect("local addr");
    let mut writer = sock.try_clone().expect("clone");
    let write_thread = std::thread::spawn(move || {
        // The server may stop reading (and close) before all of it is in.
        let _ = writer.write_all(&bytes);
    });
    // Read only once the server has found the bad header: by then its
    // answers fill this socket's receive buffer and wait in the server's
    // send buffer, where a reset would drop them.
    server
        .stderr
        .expect_line("about the bad header", |l| l.contains(&py_addr(peer)));
    for i in 0..GOOD {
        let answer =
            read_message(&mut sock).unwrap_or_else(|e| panic!("answer {i} of {GOOD}: {e}"));
        assert_eq!(answer.raw, good.response, "answer {i}");
    }
    expect_eof(&mut sock);
    drop(sock);
    write_thread.join().expect("the writer");
    assert_still_serving(&server);
}

#[test]
fn a_peer_closing_mid_request_is_logged() {
    let server = server();
    let mut sock = server.connect();
    let peer = sock.local_addr().expect("local addr");
    let v = vector("search-morpheus");
    sock.write_all(&v.request[..30]).expect("write");
    sock.shutdown(std::net::Shutdown::Write).expect("shutdown");
    expect_eof(&mut sock);
    let line = server
        .stderr
        .expect_line("about the truncated request", |l| {
            l.contains(&py_addr(peer))
        });
    assert!(line.starts_with("error: "), "{line}");
    assert_still_serving(&server);
}

/// The content errors: (what, content-encoding, content).
fn content_cases() -> Vec<(&'static str, &'static str, &'static [u8])> {
    vec![
        (
            "content not JSON",
            "utf-8",
            b"{\"action\": \"search\", \"value\": ",
        ),
        ("content empty", "utf-8", b""),
        (
            "content not UTF-8",
            "utf-8",
            b"{\"action\": \"search\", \"value\": \"\xff\"}",
        ),
        (
            "encoding latin-1",
            "latin-1",
            b"{\"action\": \"search\", \"value\": \"morpheus\"}",
        ),
        (
            "encoding binary",
            "binary",
            b"{\"action\": \"search\", \"value\": \"morpheus\"}",
        ),
        ("content an array", "utf-8", b"[\"search\", \"morpheus\"]"),
        ("content a string", "utf-8", b"\"search\""),
        ("content a number", "utf-8", b"42"),
        ("content null", "utf-8", b"null"),
        ("action missing", "utf-8", b"{\"value\": \"morpheus\"}"),
        (
            "action a number",
            "utf-8",
            b"{\"action\": 1, \"value\": \"morpheus\"}",
        ),
        (
            "action null",
            "utf-8",
            b"{\"action\": null, \"value\": \"morpheus\"}",
        ),
        (
            "action an object",
            "utf-8",
            b"{\"action\": {}, \"value\": \"morpheus\"}",
        ),
        ("search value missing", "utf-8", b"{\"action\": \"search\"}"),
        (
            "search value a number",
            "utf-8",
            b"{\"action\": \"search\", \"value\": 42}",
        ),
        (
            "search value a list",
            "utf-8",
            b"{\"action\": \"search\", \"value\": [\"morpheus\"]}",
        ),
        (
            "search value null",
            "utf-8",
            b"{\"action\": \"search\", \"value\": null}",
        ),
    ]
}

#[test]
fn unusable_content_is_answered_and_the_connection_kept() {
    let server = server();
    for (what, encoding, content) in content_cases() {
        let mut sock: TcpStream = server.connect();
        let request = frame(
            header("text/json", encoding, content.len()).as_bytes(),
            content,
        );
        let answer = ask(&mut sock, &request);
        let length = answer.header["content-length"].as_u64();
        assert_eq!(length, Some(answer.content.len() as u64), "{what}");
        let result = answer.result();
        assert!(
            result.starts_with("Error: ") && result.ends_with('.') && !result.contains('\n'),
            "{what}: {result:?}"
        );
        assert!(result.len() > "Error: .".len(), "{what}: a reason");
        // The same connection serves the next request...
        assert_serves(&mut sock);
        // ...and so does another.
        assert_still_serving(&server);
    }
    // The action is named in the invalid-action answer.
    let mut sock = server.connect();
    let answer = ask(&mut sock, &vector("json-invalid-action").request);
    assert_eq!(answer.result(), "Error: invalid action \"find\".");
    assert_serves(&mut sock);
}

#[test]
fn any_json_layout_and_extra_keys_are_accepted() {
    let server = server();
    let content = br#"{"value":"morpheus","extra":[1,2],"action":"search"}"#;
    let header = format!(
        "{{\n  \"content-length\":{},\"x-extra\":{{\"a\":1}},\"content-encoding\":\"UTF-8\",\
         \"content-type\":\"text/json\",\"byteorder\":\"big\"\n}}",
        content.len()
    );
    let mut sock = server.connect();
    let answer = ask(&mut sock, &frame(header.as_bytes(), content));
    assert_eq!(answer.result(), "Follow the white rabbit. 🐰");
    // An empty binary request is answered with the prefix alone.
    let answer = ask(&mut sock, &binary_request(b""));
    assert_eq!(answer.content, b"First 10 bytes of request: ");
    // A binary request with any other content-type is still binary.
    let answer = ask(
        &mut sock,
        &frame(
            header_some("image/png").as_bytes(),
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d",
        ),
    );
    assert_eq!(
        answer.content,
        b"First 10 bytes of request: \x89PNG\r\n\x1a\n\x00\x00"
    );
    assert!(server.stderr.snapshot().is_empty());
    expect_silence(&mut sock, Duration::from_millis(20));
}

fn header_some(content_type: &str) -> String {
    header(content_type, "binary", 12)
}
