//! The selector on real loopback sockets: one scenario per test.

mod common;

use std::io::{ErrorKind, Read, Write};

use common::*;
use reactor::net::{ConnectStatus, TcpStream};
use reactor::{Events, Interest, Selector, Token};

#[test]
fn listener_is_readable_on_an_incoming_connection() {
    let listener = listen(v4_any_port()).unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&listener, Token(7), Interest::READ).unwrap();
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let ev = wait_for(&mut sel, &mut events, |e| e.token() == Token(7)).expect("readable listener");
    assert!(ev.is_readable());
    let (_conn, peer) = listener.accept().expect("accept after readable");
    assert!(peer.ip().is_loopback());
}

#[test]
fn connect_to_a_closed_port_reports_refused_through_the_completion_check() {
    let addr = closed_port();
    let (stream, status) = match TcpStream::connect(addr) {
        Ok(s) => s,
        // Some kernels refuse loopback connects synchronously.
        Err(e) => return assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
    };
    assert_eq!(status, ConnectStatus::InProgress);
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&stream, Token(1), Interest::WRITE).unwrap();
    wait_for(&mut sel, &mut events, |e| e.token() == Token(1)).expect("completion event");
    let err = stream
        .finish_connect()
        .expect_err("refused connect must not succeed");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn connect_to_a_listening_port_completes_as_writable() {
    let listener = listen(v4_any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stream, _status) = TcpStream::connect(addr).unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&stream, Token(1), Interest::WRITE).unwrap();
    let ev = wait_for(&mut sel, &mut events, |e| e.token() == Token(1)).unwrap();
    assert!(ev.is_writable() && !ev.is_error());
    stream.finish_connect().unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
}

#[test]
fn after_switching_to_read_no_write_event_arrives() {
    let (client, _server) = connected_pair(v4_any_port()).unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&client, Token(3), Interest::READ | Interest::WRITE)
        .unwrap();
    let ev = wait_for(&mut sel, &mut events, |e| e.token() == Token(3)).unwrap();
    assert!(ev.is_writable());
    sel.modify(&client, Token(3), Interest::READ).unwrap();
    assert_eq!(events_during_quiet(&mut sel, &mut events, Token(3)), vec![]);
}

#[test]
fn unregister_stops_events() {
    let (client, mut server) = connected_pair(v4_any_port()).unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&client, Token(4), Interest::READ).unwrap();
    server.write_all(b"ping").unwrap();
    wait_for(&mut sel, &mut events, |e| {
        e.token() == Token(4) && e.is_readable()
    })
    .unwrap();
    sel.unregister(&client).unwrap();
    // Still unread, still readable: only the unregistration keeps it quiet.
    assert_eq!(events_during_quiet(&mut sel, &mut events, Token(4)), vec![]);
}

#[test]
fn peer_close_gives_readable_then_eof() {
    let (mut client, server) = connected_pair(v4_any_port()).unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&client, Token(5), Interest::READ).unwrap();
    drop(server);
    let ev = wait_for(&mut sel, &mut events, |e| e.token() == Token(5)).unwrap();
    assert!(ev.is_readable());
    let mut buf = [0u8; 16];
    assert_eq!(client.read(&mut buf).unwrap(), 0, "EOF reads as 0 bytes");
}

#[test]
fn registering_twice_or_modifying_an_unregistered_fd_is_a_clear_error() {
    let listener = listen(v4_any_port()).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    let mut sel = Selector::new().unwrap();
    let err = sel.modify(&listener, Token(1), Interest::READ).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&format!("fd {fd}")), "{err}");
    let err = sel.unregister(&listener).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    sel.register(&listener, Token(1), Interest::READ).unwrap();
    let err = sel
        .register(&listener, Token(2), Interest::READ)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(err.to_string().contains(&format!("fd {fd}")), "{err}");
    sel.unregister(&listener).unwrap();
    sel.register(&listener, Token(3), Interest::READ).unwrap();
}

#[test]
fn ipv6_loopback_listen_and_connect() {
    let listener = match listen(v6_any_port()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("skipping: ::1 unavailable ({e})");
            return;
        }
    };
    let addr = listener.local_addr().unwrap();
    assert!(addr.is_ipv6());
    let (mut client, mut server) = connected_pair(v6_any_port()).unwrap();
    assert!(client.peer_addr().unwrap().is_ipv6());
    client.write_all(b"over v6").unwrap();
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&server, Token(6), Interest::READ).unwrap();
    wait_for(&mut sel, &mut events, |e| e.token() == Token(6)).unwrap();
    let mut buf = [0u8; 16];
    let n = server.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"over v6");
    // And the accept side reports a v6 peer address.
    let (_c, _) = TcpStream::connect(addr).unwrap();
    sel.register(&listener, Token(8), Interest::READ).unwrap();
    wait_for(&mut sel, &mut events, |e| e.token() == Token(8)).unwrap();
    let (_s, peer) = listener.accept().unwrap();
    assert!(peer.is_ipv6() && peer.ip().is_loopback());
}

#[test]
fn reset_by_peer_surfaces_as_an_error_not_a_signal() {
    let (mut client, server) = connected_pair(v4_any_port()).unwrap();
    server.set_linger_zero().unwrap();
    drop(server);
    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    sel.register(&client, Token(9), Interest::READ).unwrap();
    let ev = wait_for(&mut sel, &mut events, |e| e.token() == Token(9)).unwrap();
    assert!(ev.is_readable());
    let mut buf = [0u8; 4];
    let err = client.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    // Writing to the dead connection: an error, never SIGPIPE.
    let mut failed = false;
    for _ in 0..4 {
        if client.write(b"x").is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed);
}
