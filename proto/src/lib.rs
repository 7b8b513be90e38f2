//! The application protocol of the socket tutorial's `app-server` and
//! `app-client`, sans-IO: bytes go in, frames and bytes to send come out.
//! No sockets, threads or clocks, so every case can be tested and fuzzed.
//!
//! A frame (what the tutorial calls a message) is a 2-byte big-endian length
//! (the *proto-header*), a JSON header of that length, and `content-length`
//! bytes of content. It is read in the tutorial's three stages, each waiting
//! until its bytes are all there: `process_protoheader`,
//! `process_jsonheader`, then the content (`process_content` in the
//! [`Decoder`]; [`process_request`] and [`process_response`] read what it
//! means). [`create_response`] answers. Everything written uses the Python
//! programs' JSON layout, so our bytes equal theirs.
//!
//! A server's loop, with no allocation per request once the buffers have
//! grown (the header and the request are borrowed from the input):
//!
//! ```
//! use proto::{create_request, create_response, Decoder, Status};
//!
//! // Two pipelined requests, as they might arrive from a socket.
//! let mut received = Vec::new();
//! create_request(&mut received, "search", "morpheus");
//! create_request(&mut received, "hello", "world");
//!
//! let mut decoder = Decoder::new();
//! let mut to_send = Vec::new(); // reused for every response
//! let mut start = 0;
//! while let Status::Complete { frame, consumed } = decoder.decode(&received[start..])? {
//!     create_response(&frame, &mut to_send);
//!     start += consumed;
//! }
//!
//! // The client reads the responses.
//! let mut responses = proto::BufferedDecoder::new();
//! responses.feed(&to_send);
//! let first = responses.next_frame()?.expect("first response");
//! assert_eq!(
//!     proto::process_response(&first)?,
//!     proto::Response::Result("Follow the white rabbit. 🐰".into())
//! );
//! let second = responses.next_frame()?.expect("second response");
//! assert_eq!(
//!     proto::process_response(&second)?,
//!     proto::Response::Binary(b"First 10 bytes of request: helloworld")
//! );
//! # Ok::<(), proto::Error>(())
//! ```
//!
//! Every header and search request the Python programs send is in one
//! exact JSON layout, and the codec reads and writes that layout by hand,
//! falling back to serde_json for anything else: [`layout`] explains the two
//! paths and why they can't disagree.
//!
//! Bad input comes in two classes ([`ErrorClass`]): broken framing, where
//! the connection must close, and unusable content, which the service
//! answers with `{"result": "Error: ..."}`.
//!
//! Known differences from Python's `json` module, none of which the
//! programs' frames exercise: `NaN`/`Infinity` and lone surrogates are
//! refused; integers beyond 64 bits are read as floats, and `-0` as `-0.0`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod buffered;
mod client;
mod decode;
mod encode;
mod error;
mod fields;
mod header;
pub mod layout;
mod pyjson;
mod repr;
mod service;
mod value;

pub use buffered::BufferedDecoder;
pub use client::{
    create_json_request, create_request, process_response, Response, CLIENT_BINARY_TYPE,
};
pub use decode::{Decoder, Frame, Status, DEFAULT_MAX_CONTENT_LENGTH};
pub use encode::encode_frame;
pub use error::{Error, ErrorClass};
pub use header::{native_byteorder, Header, TEXT_JSON};
pub use pyjson::{write_python_json, PythonFormatter};
pub use repr::PyBytes;
pub use service::{
    create_response, process_request, search, Request, ResultText, SEARCH_TABLE, SERVER_BINARY_TYPE,
};
pub use value::Value;
