//! The codec's hot paths, sans IO.
//!
//! - `service/morpheus`: decode the `search morpheus` request, create the
//!   response, encode it into a reused buffer (goal: at least 1,000,000/s on
//!   one core); `service/morpheus_general_layout`: the same request in
//!   another JSON layout, through the general (serde_json) path;
//! - `decode_1mib`: a 1 MiB binary message, beside a plain copy of the same
//!   bytes (goal: at least half the copy's rate);
//! - `pipelined`: streams of 1,000 / 10,000 / 100,000 small messages fed in
//!   4 KiB chunks (goal: the same rate per message at every size, i.e. linear).
//!
//! Run: `cargo bench -p benches --bench codec -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use proto::{
    create_request, create_response, encode_frame, BufferedDecoder, Decoder, Header, Status,
};

fn service(c: &mut Criterion) {
    let mut request = Vec::new();
    create_request(&mut request, "search", "morpheus");
    let mut group = c.benchmark_group("service");
    group.throughput(Throughput::Elements(1));
    group.bench_function("morpheus", |b| serve(b, &request));
    // The same request in another JSON layout (compact, keys reordered),
    // which the fast paths decline: the price of the general path.
    let request = general_layout_request();
    group.bench_function("morpheus_general_layout", |b| serve(b, &request));
    group.finish();
}

/// Decodes `request`, creates the response, encodes it into a reused buffer.
fn serve(b: &mut criterion::Bencher<'_>, request: &[u8]) {
    let mut decoder = Decoder::new();
    let mut out = Vec::with_capacity(256);
    b.iter(|| {
        out.clear();
        if let Ok(Status::Complete { frame, .. }) = decoder.decode(black_box(request)) {
            create_response(&frame, &mut out);
        }
        black_box(out.len())
    });
}

/// `search morpheus` as a JSON library other than Python's might lay it out.
fn general_layout_request() -> Vec<u8> {
    let content = br#"{"value":"morpheus","action":"search"}"#;
    let header = format!(
        r#"{{"content-length":{},"content-type":"text/json","content-encoding":"utf-8","byteorder":"little"}}"#,
        content.len()
    );
    let mut request = u16::try_from(header.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes()
        .to_vec();
    request.extend_from_slice(header.as_bytes());
    request.extend_from_slice(content);
    request
}

fn decode_1mib(c: &mut Criterion) {
    const MIB: usize = 1 << 20;
    let content: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
    let mut message = Vec::new();
    let header = Header::new("binary/custom-client-binary-type", "binary", MIB);
    encode_frame(&mut message, &header, &content).expect("fits");

    let mut group = c.benchmark_group("decode_1mib");
    group.throughput(Throughput::Bytes(message.len() as u64));
    group.bench_function("copy", |b| {
        let mut copy = Vec::with_capacity(message.len());
        b.iter(|| {
            copy.clear();
            copy.extend_from_slice(black_box(&message));
            black_box(copy.len())
        });
    });
    // The server's path: the whole message already in its receive buffer;
    // the content is handed out as a slice of it.
    group.bench_function("decode_in_place", |b| {
        let mut decoder = Decoder::new();
        b.iter(|| match decoder.decode(black_box(&message)) {
            Ok(Status::Complete { frame, .. }) => black_box(frame.content.len()),
            _ => 0,
        });
    });
    // The owning decoder, fed as reads would feed it: 64 KiB at a time,
    // copied into its buffer, the message taken out at the end.
    group.bench_function("buffered_64k_reads", |b| {
        let mut decoder = BufferedDecoder::new();
        b.iter(|| {
            let mut length = 0;
            for chunk in black_box(&message).chunks(64 * 1024) {
                decoder.feed(chunk);
                if let Ok(Some(message)) = decoder.next_frame() {
                    length = message.content.len();
                }
            }
            black_box(length)
        });
    });
    group.finish();
}

fn pipelined(c: &mut Criterion) {
    let mut one = Vec::new();
    create_request(&mut one, "search", "morpheus");
    let mut group = c.benchmark_group("pipelined");
    for n in [1_000usize, 10_000, 100_000] {
        let stream: Vec<u8> = one.iter().copied().cycle().take(one.len() * n).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &stream, |b, stream| {
            b.iter(|| {
                let mut decoder = BufferedDecoder::new();
                let mut count = 0usize;
                for chunk in stream.chunks(4096) {
                    decoder.feed(chunk);
                    while let Ok(Some(message)) = decoder.next_frame() {
                        count += message.content.len().min(1);
                    }
                }
                assert_eq!(count, n);
                black_box(count)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, service, decode_1mib, pipelined);
criterion_main!(benches);
