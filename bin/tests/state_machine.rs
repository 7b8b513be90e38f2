//! Property tests of the per-connection state machines against an
//! in-memory socket double (`sockets::testing`): arbitrary bytes, arbitrary
//! chunking, send buffers that fill part-way, and any interleaving of
//! readable/writable events. The fuzz targets in `bin/fuzz/` run the same
//! checks coverage-guided.

use proptest::prelude::*;
use sockets::testing::{check_echo, check_server, Step};

/// Valid requests (the vectors' requests), plus bytes that break them.
fn request_stream() -> impl Strategy<Value = Vec<u8>> {
    let vectors = include_str!("../../proto/tests/data/app-protocol.jsonl");
    let requests: Vec<Vec<u8>> = vectors
        .lines()
        .map(|line| {
            let hex = line
                .split("\"request_hex\": \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("every vector has request_hex");
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect();
    let piece = prop_oneof![
        8 => proptest::sample::select(requests),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (any::<u8>(), any::<u8>(), 0u8..4).prop_map(|(d, r, m)| Step::from_bytes(d, r, m)),
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn server_answers_every_request_once_in_order(input in request_stream(), steps in steps()) {
        check_server(&input, &steps, 1 << 20).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn server_with_a_small_content_limit(input in request_stream(), steps in steps()) {
        check_server(&input, &steps, 12).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn server_survives_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..2048), steps in steps()) {
        check_server(&input, &steps, 1 << 20).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn echo_returns_every_byte_in_order(input in proptest::collection::vec(any::<u8>(), 0..150_000), steps in steps()) {
        check_echo(&input, &steps).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn a_pipelined_burst_through_a_one_byte_send_buffer() {
    let mut input = Vec::new();
    for _ in 0..50 {
        proto::create_request(&mut input, "search", "morpheus");
    }
    let steps: Vec<Step> = (0..3000)
        .map(|i| Step::from_bytes(if i % 7 == 0 { 255 } else { 3 }, 0, (i % 4) as u8))
        .collect();
    check_server(&input, &steps, 1 << 20).unwrap();
}
