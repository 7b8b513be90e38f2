//! The socket tutorial's programs on our own reactor: the per-socket
//! `Message` state machines of client and server, and what the programs
//! share.
//!
//! | tutorial | here |
//! | --- | --- |
//! | `multiconn-server.py`, `service_connection` | [`echo::EchoMessage`] |
//! | `multiconn-client.py`, `service_connection` | [`multiconn::MulticonnMessage`] |
//! | `libserver.py`, `Message` | [`app::ServerMessage`] |
//! | `libclient.py`, `Message` | [`client::ClientMessage`] |
//! | the `while True: sel.select()` loop, `accept_wrapper` | [`serve`], [`clients`] |
#![deny(missing_docs)]

pub mod app;
pub mod budget;
pub mod buffers;
pub mod cli;
pub mod client;
pub mod clients;
pub mod conn;
pub mod echo;
pub mod loadgen;
pub mod multiconn;
pub mod outbox;
pub mod pyrepr;
pub mod ratelimit;
pub mod say;
pub mod serve;
pub mod sim;
