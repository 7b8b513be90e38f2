//! The hot path allocates nothing: once warmed up, a ping-pong through the
//! loop (select, dispatch, read, write, idle deadlines pushed later on every
//! message) makes no heap allocation at all. Counted by a global allocator,
//! per thread, so the test harness's own threads do not interfere.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use reactor::net::{ListenOptions, TcpListener, TcpStream};
use reactor::{Context, EventLoop, Handler, Interest, Ready, Token};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator unchanged; only
// counts, in a const-initialised thread-local that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const MSG: usize = 64;

struct End {
    stream: TcpStream,
    client: bool,
    buf: [u8; MSG],
    got: usize,
    remaining: u64,
}

impl AsFd for End {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

impl Handler for End {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        if !ready.is_readable() {
            return;
        }
        match self.stream.read(&mut self.buf[self.got..]) {
            Ok(0) => return cx.close(),
            Ok(n) => self.got += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return cx.close(),
        }
        if self.got < MSG {
            return;
        }
        self.got = 0;
        // Activity: push the idle deadline later (a field write).
        let later = cx.now() + Duration::from_secs(60);
        cx.set_deadline(Some(later));
        if self.client {
            self.remaining -= 1;
            if self.remaining == 0 {
                return;
            }
        }
        if self.stream.write_all(&self.buf).is_err() {
            cx.close();
        }
    }
}

fn pair() -> (TcpStream, TcpStream) {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), &ListenOptions::default()).unwrap();
    let (client, _) = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    // The handshake completes within connect on loopback; accept it with a
    // bounded wait through a selector.
    let mut sel = reactor::Selector::new().unwrap();
    let mut events = reactor::Events::with_capacity(4);
    sel.register(&listener, Token(0), Interest::READ).unwrap();
    sel.select(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

fn round_trips(event_loop: &mut EventLoop<End>, client: Token, rounds: u64) {
    let end = event_loop.get_mut(client).unwrap();
    end.remaining = rounds;
    end.stream.write_all(&end.buf).unwrap();
    // Bounded: each turn waits at most a second, and the exchange needs
    // only loopback round trips.
    while event_loop.get_mut(client).unwrap().remaining > 0 {
        let turn = event_loop.turn(Some(Duration::from_secs(1))).unwrap();
        assert!(turn.events > 0, "ping-pong stalled");
    }
}

#[test]
fn steady_state_ping_pong_makes_no_allocation() {
    let (client, server) = pair();
    let mut event_loop = EventLoop::with_capacity(16).unwrap();
    let end = |stream, client| End {
        stream,
        client,
        buf: [1; MSG],
        got: 0,
        remaining: 0,
    };
    let client = event_loop
        .register(end(client, true), Interest::READ)
        .unwrap();
    event_loop
        .register(end(server, false), Interest::READ)
        .unwrap();

    // Warm up: the deadline heap gets its first entries, buffers their size.
    round_trips(&mut event_loop, client, 50);

    // The counter does count.
    let probe = allocations();
    drop(std::hint::black_box(Box::new(1u8)));
    assert_eq!(allocations(), probe + 1);

    let before = allocations();
    round_trips(&mut event_loop, client, 1_000);
    let during = allocations() - before;
    assert_eq!(during, 0, "{during} allocations in 1,000 round trips");
}
