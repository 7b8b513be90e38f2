#![deny(missing_docs)]
//! The socket tutorial's programs on our own reactor: the per-socket
//! `Message` state machines of client and server, and what the programs share.

pub mod cli;
pub mod pyrepr;
