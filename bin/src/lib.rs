//! The socket tutorial's programs on our own reactor, laid out as the
//! tutorial's two-by-two: a server and a client for the echo
//! (`multiconn-*.py`), a server and a client for the application protocol
//! (`app-*.py`). Each program is a loop ([`server`], [`client`]) driving one
//! per-socket state machine, a [`message::Message`], per connection.
//!
//! | tutorial | here |
//! | --- | --- |
//! | `multiconn-server.py`: the `sel.select()` loop, `accept_wrapper` | [`server`] |
//! | `multiconn-server.py`: `service_connection` | [`server::echo::EchoMessage`] |
//! | `app-server.py`, `libserver.Message` | [`server::app::ServerMessage`] |
//! | `multiconn-client.py`: `start_connections`, the loop | [`client`] |
//! | `multiconn-client.py`: `service_connection` | [`client::multiconn::MulticonnMessage`] |
//! | `app-client.py`, `libclient.Message` | [`client::app::ClientMessage`] |
//! | `process_events(mask)`, as every loop calls it | [`message::Message`] |
//!
//! The other modules are what the programs share: the thread's buffers
//! ([`buffers`]), the bytes owed to a peer ([`outbox`]), the servers'
//! memory budget ([`budget`]), the command line ([`cli`]), and the output
//! in Python's words ([`say`], [`pyrepr`], [`ratelimit`]).
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
