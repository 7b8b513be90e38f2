//! `echo_server IP PORT [--trace]`: `multiconn-server.py` on the reactor, minus its WRITE spin.
use reactor::net::{accept_error_action, AcceptAction, ListenOptions, TcpListener, TcpStream};
use reactor::{signal, signal::Signal, Context, EventLoop, Handler, Interest, Ready, TimerId};
use std::{io::ErrorKind, io::Read, io::Write, os::fd::AsFd, os::fd::BorrowedFd, time::Duration};

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
            Sock::Listener(listener) => return accept(listener, cx),
        };

        let mut buf = [0; 4096];
        let result = if ready.is_writable() {
            conn.write(outb).map(|n| outb.drain(..n).len())
        } else {
            conn.read(&mut buf).inspect(|&n| outb.extend(&buf[..n]))
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

    // Only the listener sets timers: its pause is over, so it asks again.
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _: TimerId) {
        cx.set_interest(Interest::READ)
            .unwrap_or_else(|_| cx.close());
    }
}

fn accept(listener: &TcpListener, cx: &mut Context<'_, Sock>) {
    match listener.accept() {
        Ok((conn, _)) => drop(cx.register(Sock::Conn(conn, Vec::new()), Interest::READ)),
        // Out of fds (EMFILE): the client stays in the backlog and the listener
        // readable, so asking again at once would spin. Stop asking for a while.
        Err(e) if accept_error_action(&e) == AcceptAction::Pause => {
            cx.set_interest(Interest::NONE)
                .unwrap_or_else(|_| cx.close());
            cx.add_timer(cx.now() + Duration::from_millis(100));
        }
        // WouldBlock, or that one client failed (ECONNABORTED): skip it. The
        // listener is level-triggered, so the next waiting client fires again.
        Err(_) => {}
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
