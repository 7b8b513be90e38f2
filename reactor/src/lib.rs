//! Readiness-based IO: a small event loop over epoll and kqueue.
//!
//! This is the machinery of the Python socket tutorial's `selectors`
//! programs, in Rust. The idea, as the tutorial tells it:
//!
//! - **`select` says who is ready.** Instead of one thread per connection,
//!   one thread asks the kernel "which of these sockets can I read from or
//!   write to *now*?" [`Selector::select`] waits until at least one can (or
//!   a timeout passes) and returns a list of [`Event`]s: for each ready
//!   socket, the [`Token`] it was registered with (the tutorial's
//!   `key.data`) and what it is ready for (the tutorial's `mask`).
//! - **Sockets are non-blocking.** Readiness is a hint, not a promise: a
//!   read after a readable event may still find nothing (`WouldBlock`), and
//!   a write may take only part of the buffer. A blocking call would stall
//!   every other connection, so every socket in [`net`] is non-blocking,
//!   and `WouldBlock` just means "wait for the next event".
//! - **The interest mask switches.** The selector is level-triggered, like
//!   Python's: a socket with free send-buffer space is writable at *every*
//!   select. So a server's connection asks for [`Interest::READ`] while it
//!   waits for a request, switches to [`Interest::WRITE`] while it has an
//!   answer to send (as the tutorial's `libserver.py` does), and back to
//!   `READ` once it is sent; leaving WRITE on would wake the loop forever
//!   with nothing to do. (A client, like `libclient.py`, keeps READ on
//!   while it sends: `READ | WRITE`, then `READ`.)
//!
//! On top of the [`Selector`], an [`EventLoop`] owns one [`Handler`] per
//! socket (the tutorial's `Message` objects) and calls its
//! [`process_events`](Handler::process_events) for each event, with a
//! [`Context`] to switch interest, register accepted sockets, set idle
//! deadlines and timers, or close. A [`Waker`] (and [`signal::notify`] for
//! SIGINT/SIGTERM) wakes a blocked loop from elsewhere.
//!
//! # Example: an echo server for one connection
//!
//! ```
//! use std::io::{Read, Write};
//! use std::os::fd::{AsFd, BorrowedFd};
//! use std::time::Duration;
//! use reactor::net::{accept_error_action, AcceptAction, ListenOptions, TcpListener, TcpStream};
//! use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId};
//!
//! enum Sock {
//!     Listener(TcpListener),
//!     Conn(TcpStream),
//! }
//!
//! impl AsFd for Sock {
//!     fn as_fd(&self) -> BorrowedFd<'_> {
//!         match self {
//!             Sock::Listener(l) => l.as_fd(),
//!             Sock::Conn(c) => c.as_fd(),
//!         }
//!     }
//! }
//!
//! impl Handler for Sock {
//!     fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
//!         match self {
//!             Sock::Listener(listener) => match listener.accept() {
//!                 Ok((conn, _peer)) => drop(cx.register(Sock::Conn(conn), Interest::READ)),
//!                 // Out of descriptors (EMFILE): the client stays in the
//!                 // backlog and the listener readable, so asking again at
//!                 // once would spin. Stop asking for a while.
//!                 Err(e) if accept_error_action(&e) == AcceptAction::Pause => {
//!                     let _ = cx.set_interest(Interest::NONE);
//!                     cx.add_timer(cx.now() + Duration::from_millis(100));
//!                 }
//!                 // WouldBlock, or that one client failed: the next event
//!                 // brings the next client.
//!                 Err(_) => {}
//!             },
//!
//!             Sock::Conn(conn) if ready.is_readable() => {
//!                 let mut buf = [0u8; 1024];
//!                 match conn.read(&mut buf) {
//!                     Ok(0) => {
//!                         // The client closed: so do we, and we are done.
//!                         cx.close();
//!                         cx.stop();
//!                     }
//!                     // Tiny echo: the send buffer has room for it.
//!                     Ok(n) => drop(conn.write_all(&buf[..n])),
//!                     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
//!                     Err(_) => cx.close(),
//!                 }
//!             }
//!             Sock::Conn(_) => {}
//!         }
//!     }
//!
//!     // Only the listener sets timers: its pause is over.
//!     fn on_timer(&mut self, cx: &mut Context<'_, Self>, _: TimerId) {
//!         let _ = cx.set_interest(Interest::READ);
//!     }
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap(), &ListenOptions::default())?;
//! let addr = listener.local_addr()?;
//! let mut event_loop = EventLoop::new()?;
//! event_loop.register(Sock::Listener(listener), Interest::READ)?;
//!
//! // A plain blocking client: the connection waits in the listener's backlog.
//! let mut client = std::net::TcpStream::connect(addr)?;
//! client.write_all(b"hello")?;
//! client.shutdown(std::net::Shutdown::Write)?;
//!
//! event_loop.run()?;
//! let mut echoed = String::new();
//! client.read_to_string(&mut echoed)?;
//! assert_eq!(echoed, "hello");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod context;
mod event;
mod event_loop;
mod interest;
pub mod net;
mod ready;
mod selector;
pub mod signal;
mod slots;
mod sys;
mod timer;
mod trace;
mod waker;

pub use context::Context;
pub use event_loop::{EventLoop, Handler, Turn};
pub use interest::Interest;
pub use ready::Ready;
pub use selector::{Event, Events, Selector, Token};
pub use timer::TimerId;
pub use waker::Waker;
