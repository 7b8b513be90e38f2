//! The socket tutorial's programs on our own reactor: the per-socket
//! `Message` state machines of client and server, and what the programs
//! share.
//!
//! | tutorial | here |
//! | --- | --- |
//! | `multiconn-server.py`, `service_connection` | [`server::echo::EchoMessage`] |
//! | `multiconn-client.py`, `service_connection` | [`client::multiconn::MulticonnMessage`] |
//! | `libserver.py`, `Message` | [`server::app::ServerMessage`] |
//! | `libclient.py`, `Message` | [`client::app::ClientMessage`] |
//! | what the loops call: `process_events(mask)` | [`message::Message`] |
//! | the `while True: sel.select()` loop, `accept_wrapper` | [`server`], [`client`] |
#![deny(missing_docs)]

pub mod budget;
pub mod buffers;
pub mod cli;
pub mod client;
pub mod message;
pub mod outbox;
pub mod pyrepr;
pub mod ratelimit;
pub mod say;
pub mod server;
// Test support (the property tests' and fuzz targets' driver), not part of
// the programs' API: public only so that `tests/` and `fuzz/` can use it.
#[doc(hidden)]
pub mod testing;
