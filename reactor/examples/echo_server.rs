//! `echo_server IP PORT [--trace]`: `multiconn-server.py` on the reactor, minus its WRITE spin.
use reactor::net::{ListenOptions, TcpListener, TcpStream};
use reactor::{signal, signal::Signal, Context, EventLoop, Handler, Interest, Ready};
use std::{io::ErrorKind, io::Read, io::Write, os::fd::AsFd, os::fd::BorrowedFd};
enum Sock {
    Listener(TcpListener),
    Conn(TcpStream, Vec<u8>), // and the bytes owed to the peer (the tutorial's `outb`)
}
impl AsFd for Sock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Sock::Listener(listener) => listener.as_fd(),
            Sock::Conn(conn, _) => conn.as_fd(),
        }
    }
}
impl Handler for Sock {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        let (conn, outb) = match self {
            Sock::Conn(conn, outb) => (conn, outb),
            Sock::Listener(listener) => {
                if let Ok((conn, _)) = listener.accept() {
                    let _ = cx.register(Sock::Conn(conn, Vec::new()), Interest::READ);
                } // level-triggered: another waiting client fires again
                return;
            }
        };
        let mut buf = [0; 4096];
        let result = match ready.is_writable() {
            true => conn.write(outb).map(|n| outb.drain(..n).len()),
            false => conn.read(&mut buf).inspect(|&n| outb.extend(&buf[..n])),
        };
        let next = match result {
            // WRITE only while bytes are owed: left on, it fires at every select.
            Ok(n) if n > 0 && outb.is_empty() => Interest::READ,
            Ok(n) if n > 0 => Interest::WRITE,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return, // readiness is a hint
            _ => return cx.close(), // the peer closed (EOF), or an error
        };
        cx.set_interest(next).unwrap_or_else(|_| cx.close());
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let ip: std::net::IpAddr = args.get(1).and_then(|a| a.parse().ok()).expect("IP");
    let port: u16 = args.get(2).and_then(|a| a.parse().ok()).expect("PORT");
    let listener = TcpListener::bind((ip, port).into(), &ListenOptions::default())?;
    let mut event_loop = EventLoop::new()?;
    event_loop.set_trace(args.iter().any(|a| a == "--trace"));
    signal::notify(&[Signal::SIGINT, Signal::SIGTERM], &event_loop.waker())?; // wake, not kill
    println!("listening on ('{ip}', {})", listener.local_addr()?.port());
    event_loop.register(Sock::Listener(listener), Interest::READ)?;
    while signal::take_pending().is_empty() {
        event_loop.turn(None)?;
    }
    println!("caught keyboard interrupt, exiting");
    Ok(())
}
