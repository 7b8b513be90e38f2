//! The server's hot path allocates nothing once its buffers have grown,
//! on the fast paths of `proto::layout` and on the general paths alike.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proto::layout::{header_fast, result_frame_fast, search_content_fast};
use proto::{create_request, create_response, encode_frame, Decoder, Header, ResultText, Status};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Decodes every request in `stream` and answers it into `out`.
fn serve(decoder: &mut Decoder, stream: &[u8], out: &mut Vec<u8>) -> usize {
    let mut start = 0;
    let mut answered = 0;
    while let Ok(Status::Complete { frame, consumed }) = decoder.decode(&stream[start..]) {
        create_response(&frame, out);
        start += consumed;
        answered += 1;
    }
    answered
}

#[test]
fn decode_respond_encode_allocates_nothing_in_steady_state() {
    let mut stream = Vec::new();
    for (action, value) in [
        ("search", "morpheus"),
        ("search", "ring"),
        ("search", "🐶"),
        ("search", "nope"),
        ("hello", "world"),
    ] {
        create_request(&mut stream, action, value);
    }
    // These are the Python programs' frames: they take the fast paths.
    let first = frames(&stream);
    assert!(first
        .iter()
        .all(|(header, _)| header_fast(header).is_some()));
    assert!(first
        .iter()
        .take(4)
        .all(|(_, content)| search_content_fast(content).is_some()));

    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    // Warm up: the output buffer grows to its steady size.
    serve(&mut decoder, &stream, &mut out);
    out.clear();

    let before = allocations();
    let answered = serve(&mut decoder, &stream, &mut out);
    let after = allocations();
    assert_eq!(answered, 5);
    assert_eq!(after - before, 0, "allocations on the hot path");
}

/// Each frame's JSON header and content, split by hand.
fn frames(mut stream: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    while let Ok(Status::Complete { frame, consumed }) = Decoder::new().decode(stream) {
        let header_len = consumed - frame.content.len() - 2;
        out.push((&stream[2..2 + header_len], frame.content));
        stream = &stream[consumed..];
    }
    out
}

#[test]
fn the_general_paths_allocate_nothing_either() {
    // Valid JSON in another layout: keys reordered, compact separators,
    // an extra key in the content. serde_json borrows its strings too.
    let content = br#"{"value":"ring","id":7,"action":"search"}"#;
    let header = format!(
        r#"{{"content-length":{},"byteorder":"little","content-type":"text/json","content-encoding":"utf-8"}}"#,
        content.len()
    );
    assert!(header_fast(header.as_bytes()).is_none());
    assert!(search_content_fast(content).is_none());
    let stream = common::frame(header.as_bytes(), content);
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    serve(&mut decoder, &stream, &mut out);
    let expected = out.clone();
    out.clear();
    let before = allocations();
    assert_eq!(serve(&mut decoder, &stream, &mut out), 1);
    assert_eq!(allocations() - before, 0, "allocations on the general path");
    assert_eq!(out, expected);
}

#[test]
fn the_fast_paths_allocate_nothing_on_their_own() {
    let header = br#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}"#;
    let content = br#"{"action": "search", "value": "morpheus"}"#;
    let mut out = Vec::with_capacity(1024);
    let before = allocations();
    assert!(header_fast(header).is_some());
    assert!(search_content_fast(content).is_some());
    result_frame_fast(&mut out, &ResultText::NoMatch("needs \"escapes\"\n"));
    let header = Header::new("binary/custom-server-binary-type", "binary", 0);
    encode_frame(&mut out, &header, b"content").expect("fits");
    assert_eq!(allocations() - before, 0, "allocations on the fast paths");
}

#[test]
fn only_escaped_strings_cost_a_copy() {
    // A query spelled with JSON escapes has to be unescaped somewhere: that
    // copy (and serde_json's scratch buffer) is the only cost.
    let mut stream = Vec::new();
    create_request(&mut stream, "search", "say \"hi\"\\");
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    serve(&mut decoder, &stream, &mut out);
    out.clear();
    let before = allocations();
    assert_eq!(serve(&mut decoder, &stream, &mut out), 1);
    let spent = allocations() - before;
    assert!((1..=4).contains(&spent), "{spent} allocations");
}
