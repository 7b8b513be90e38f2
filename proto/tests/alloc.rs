//! The server's hot path allocates nothing once its buffers have grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proto::{create_request, create_response, Decoder, Status};

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
