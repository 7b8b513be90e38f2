//! The decoder's work stays linear however the bytes arrive.

use proto::{encode_frame, BufferedDecoder, Header, Value};

/// A frame whose JSON header is about `size` bytes of extra keys.
fn big_header_frame(size: usize, content: &[u8]) -> Vec<u8> {
    let mut header = Header::new("binary/x", "binary", content.len());
    let mut i = 0;
    // Each extra key is 25 bytes: `, "key-000000": "0123456"`.
    while header.extra.len() * 25 < size {
        header.extra.push((
            format!("key-{i:06}").into(),
            Value::String("0123456".into()),
        ));
        i += 1;
    }
    let mut out = Vec::new();
    encode_frame(&mut out, &header, content).expect("fits in 64 KB");
    out
}

#[test]
fn a_60k_header_fed_one_byte_at_a_time_is_parsed_at_most_twice() {
    let content = vec![7u8; 1000];
    let bytes = big_header_frame(60_000, &content);
    assert!(
        bytes.len() > 60_000 && bytes.len() < 65_000,
        "{}",
        bytes.len()
    );
    let mut decoder = BufferedDecoder::new();
    let mut frames = 0;
    for byte in &bytes {
        decoder.feed(std::slice::from_ref(byte));
        if let Some(frame) = decoder.next_frame().expect("valid") {
            assert_eq!(frame.content, &content[..]);
            assert_eq!(frame.header.extra.len(), 2400);
            frames += 1;
        }
    }
    assert_eq!(frames, 1);
    // Once when the header's last byte came, once when the content's did;
    // the other ~61,000 calls each cost a length comparison.
    assert_eq!(decoder.decoder().header_parses(), 2);
}

#[test]
fn a_whole_frame_in_one_read_is_parsed_once() {
    let bytes = big_header_frame(1000, b"abc");
    let mut decoder = BufferedDecoder::new();
    decoder.feed(&bytes);
    assert!(decoder.next_frame().expect("valid").is_some());
    assert_eq!(decoder.decoder().header_parses(), 1);
}

#[test]
fn pipelined_frames_keep_the_buffer_small() {
    // 100,000 small frames in 4 KiB chunks: the buffer is compacted as it
    // goes, so it never holds much more than a chunk and a frame.
    let mut one = Vec::new();
    proto::create_request(&mut one, "search", "morpheus");
    let stream: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * 100_000)
        .collect();
    let mut decoder = BufferedDecoder::new();
    let mut count = 0;
    let mut largest = 0;
    for chunk in stream.chunks(4096) {
        decoder.feed(chunk);
        while decoder.next_frame().expect("valid").is_some() {
            count += 1;
        }
        largest = largest.max(decoder.capacity());
    }
    assert_eq!(count, 100_000);
    assert!(largest <= 3 * 4096, "buffer grew to {largest}");
}

#[test]
fn many_distinct_keys_in_one_object_parse_fast() {
    // 6,000 distinct keys: a quadratic duplicate check would do 18M compares.
    let mut json = String::from("{");
    for i in 0..6000 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!("\"k{i}\":{i}"));
    }
    json.push_str(",\"k5\":\"last\"}");
    let value = Value::parse(json.as_bytes()).expect("valid");
    let Value::Object(entries) = &value else {
        panic!("an object")
    };
    assert_eq!(entries.len(), 6000);
    // The repeated key kept its first place and took its last value.
    assert_eq!(entries[5].1, Value::String("last".into()));
}
