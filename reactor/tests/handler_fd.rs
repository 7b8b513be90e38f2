//! A handler's descriptor is the one registered, for as long as it is
//! registered (see [`reactor::Handler`]). A handler that swaps its socket
//! would have the loop change a registration by the old number, which may
//! by then name another connection's socket, and unregister a descriptor it
//! never registered, leaving the old registration behind. Debug builds check
//! the rule after every handler call, and before the loop's owner changes
//! or closes a registration.
#![cfg(debug_assertions)]

mod common;

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use common::PATIENCE;
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId};

/// Swaps its socket for a new one whenever it is called.
struct Swapper {
    sock: UnixStream,
    /// The other ends, kept open so that nothing is readable or hung up.
    peers: Vec<UnixStream>,
}

impl Swapper {
    fn new() -> Swapper {
        let (sock, peer) = UnixStream::pair().unwrap();
        Swapper {
            sock,
            peers: vec![peer],
        }
    }

    /// Breaks the rule: the new socket is made while the old one is still
    /// open, so its number differs.
    fn swap(&mut self) {
        let (sock, peer) = UnixStream::pair().unwrap();
        self.sock = sock;
        self.peers.push(peer);
    }
}

impl AsFd for Swapper {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Swapper {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, _ready: Ready) {
        self.swap();
    }

    fn on_timer(&mut self, _cx: &mut Context<'_, Self>, _id: TimerId) {
        self.swap();
    }
}

#[test]
#[should_panic(expected = "handler's descriptor changed while registered")]
fn a_handler_that_swaps_its_socket_in_process_events_trips_the_check() {
    let mut event_loop = EventLoop::new().unwrap();
    // A connected socket is writable at once: the first turn calls it.
    event_loop
        .register(Swapper::new(), Interest::WRITE)
        .unwrap();
    event_loop.turn(Some(PATIENCE)).unwrap();
}

#[test]
#[should_panic(expected = "handler's descriptor changed while registered")]
fn a_handler_that_swaps_its_socket_in_on_timer_trips_the_check() {
    let mut event_loop = EventLoop::new().unwrap();
    event_loop.register(Swapper::new(), Interest::READ).unwrap();
    event_loop.for_each(|_, cx| {
        cx.add_timer(Instant::now());
    });
    event_loop.turn(Some(PATIENCE)).unwrap();
}

#[test]
#[should_panic(expected = "handler's descriptor changed while registered")]
fn a_socket_swapped_during_a_for_each_visit_trips_the_check() {
    let mut event_loop = EventLoop::new().unwrap();
    event_loop.register(Swapper::new(), Interest::READ).unwrap();
    event_loop.for_each(|handler, _cx| handler.swap());
}

#[test]
#[should_panic(expected = "handler's descriptor changed while registered")]
fn a_socket_swapped_through_get_mut_trips_the_check_on_close() {
    let mut event_loop = EventLoop::new().unwrap();
    let token = event_loop.register(Swapper::new(), Interest::READ).unwrap();
    event_loop.get_mut(token).unwrap().swap();
    event_loop.close(token);
}

#[test]
#[should_panic(expected = "handler's descriptor changed while registered")]
fn a_socket_swapped_through_get_mut_trips_the_check_on_an_interest_change() {
    let mut event_loop = EventLoop::new().unwrap();
    let token = event_loop.register(Swapper::new(), Interest::READ).unwrap();
    event_loop.get_mut(token).unwrap().swap();
    let _ = event_loop.set_interest(token, Interest::NONE);
}
