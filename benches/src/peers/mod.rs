//! The servers we measure ours against, and the client that measures them.
//!
//! `peer-server KIND HOST PORT` runs one of these kinds:
//!
//! | kind | what it is |
//! | --- | --- |
//! | [`bare-echo`](bare_echo) | the floor: raw `libc` epoll, level-triggered, our policy (Linux only) |
//! | [`mio-echo`](mio_echo) | idiomatic mio: edge-triggered, read until `WouldBlock` |
//! | [`tokio-echo`](tokio_echo) | tokio current_thread, a task per connection, `read` + `write_all` |
//! | [`tokio-app`](tokio_app) | the search service on tokio, through `proto`'s sans-IO codec |
//!
//! All of them listen the same way ([`listen`]: `SO_REUSEADDR`, backlog
//! 1024, as our servers), set `TCP_NODELAY` on every accepted socket, read
//! at most [`READ_SIZE`](sockets::buffers::READ_SIZE) bytes at a time, as
//! ours do, and print only the `listening on ('127.0.0.1', PORT)` line
//! ([`announce`]). They stop on SIGINT/SIGTERM by the default action: a
//! peer has nothing to drain.
//!
//! [`client`] is the criterion benches' client that drives all of them and
//! ours (`loadgen` is the other, for `scripts/bench.sh`);
//! [`spawn`] starts a server process and waits for its `listening on` line.

#[cfg(target_os = "linux")]
pub mod bare_echo;
pub mod client;
pub mod mio_echo;
pub mod spawn;
pub mod tokio_accept;
pub mod tokio_app;
pub mod tokio_echo;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use sockets::cli::resolve;
use sockets::pyrepr::Addr;

/// Pending connections the kernel queues for `accept`, as our servers ask.
const BACKLOG: libc::c_int = 1024;

/// Which peer server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Raw epoll echo ([`bare_echo`]).
    BareEcho,
    /// mio echo ([`mio_echo`]).
    MioEcho,
    /// tokio echo ([`tokio_echo`]).
    TokioEcho,
    /// tokio app server ([`tokio_app`]).
    TokioApp,
}

impl Kind {
    /// Every kind, by its command-line name.
    pub const ALL: [(&'static str, Kind); 4] = [
        ("bare-echo", Kind::BareEcho),
        ("mio-echo", Kind::MioEcho),
        ("tokio-echo", Kind::TokioEcho),
        ("tokio-app", Kind::TokioApp),
    ];

    /// The kind named `name` on the command line.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
    }
}

/// Binds HOST:PORT, prints the `listening on` line and serves until killed.
///
/// Off Linux, `bare-echo` fails at once with `Unsupported`, before binding:
/// it is a raw epoll loop, and a script waiting for the `listening on` line
/// should see the failure rather than a server that never answers.
pub fn run(kind: Kind, host: &str, port: u16) -> io::Result<()> {
    let serve: fn(OwnedFd) -> io::Result<()> = match kind {
        #[cfg(target_os = "linux")]
        Kind::BareEcho => bare_echo::serve,
        #[cfg(not(target_os = "linux"))]
        Kind::BareEcho => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "bare-echo is Linux-only (a raw epoll loop); \
                 here use mio-echo, tokio-echo or tokio-app",
            ))
        }
        Kind::MioEcho => mio_echo::serve,
        Kind::TokioEcho => tokio_echo::serve,
        Kind::TokioApp => tokio_app::serve,
    };
    let addr = resolve(host, port).map_err(io::Error::other)?;
    // Room for the 10,000 idle connections of the memory benchmark, as our
    // servers raise it (best effort: short of fds, accept fails).
    let _ = reactor::net::raise_fd_limit(u64::MAX);
    let listener = listen(addr)?;
    announce(local_addr(std::os::fd::AsRawFd::as_raw_fd(&listener))?)?;
    serve(listener)
}

/// Prints `listening on ('127.0.0.1', PORT)` (Python's tuple layout, as our
/// servers print it; `('::1', PORT, 0, 0)` for IPv6) and flushes it, since
/// the benchmark scripts wait for this line on a pipe.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", Addr(addr))?;
    out.flush()
}

/// A non-blocking listening TCP socket on `addr`, with `SO_REUSEADDR` (a
/// restarted server binds while old connections sit in TIME_WAIT) and a
/// backlog of 1024, made with plain syscalls so every peer listens alike.
pub fn listen(addr: SocketAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    #[cfg(not(target_vendor = "apple"))]
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // Apple's socket() takes no such flags: they are set just after.
    #[cfg(target_vendor = "apple")]
    let flags = libc::SOCK_STREAM;
    // SAFETY: plain syscall, no pointers.
    let fd = check(unsafe { libc::socket(family, flags, 0) })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(target_vendor = "apple")]
    {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
        fcntl(&fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    }
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    set_int_option(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let (storage, len) = sockaddr_of(addr);
    // SAFETY: `storage` holds a sockaddr of `len` bytes for the call's duration.
    check(unsafe { libc::bind(raw, (&storage as *const libc::sockaddr_storage).cast(), len) })?;
    // SAFETY: plain syscall, no pointers.
    check(unsafe { libc::listen(raw, BACKLOG) })?;
    Ok(fd)
}

/// Sets an integer socket option (`SO_REUSEADDR`, `TCP_NODELAY`, ...).
pub fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is a c_int that lives for the call, `len` its size.
    check(unsafe { libc::setsockopt(fd, level, name, (&value as *const libc::c_int).cast(), len) })
        .map(drop)
}

/// The address a socket is bound to (`getsockname`).
pub fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage` is writable for `len` bytes, and `len` is writable.
    check(unsafe {
        libc::getsockname(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((&storage as *const libc::sockaddr_storage).cast()) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Ok(SocketAddr::from((ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((&storage as *const libc::sockaddr_storage).cast()) };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        family => Err(io::Error::other(format!(
            "unexpected address family {family}"
        ))),
    }
}

/// `addr` as the C structure `bind` takes, and its length.
fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr, and we are its only user.
            let sin = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for a sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A syscall's return value, or the error `errno` holds.
pub fn check(res: libc::c_int) -> io::Result<libc::c_int> {
    if res < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::client::Client;
    use super::*;
    use crate::workload::Workload;

    /// Starts `kind` on a free loopback port in a thread of this process
    /// (the thread serves until the test process exits).
    fn start(kind: Kind) -> SocketAddr {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = local_addr(std::os::fd::AsRawFd::as_raw_fd(&listener)).unwrap();
        std::thread::spawn(move || match kind {
            #[cfg(target_os = "linux")]
            Kind::BareEcho => bare_echo::serve(listener),
            #[cfg(not(target_os = "linux"))]
            Kind::BareEcho => Ok(()),
            Kind::MioEcho => mio_echo::serve(listener),
            Kind::TokioEcho => tokio_echo::serve(listener),
            Kind::TokioApp => tokio_app::serve(listener),
        });
        addr
    }

    #[test]
    fn echo_peers_return_every_byte() {
        for kind in [Kind::BareEcho, Kind::MioEcho, Kind::TokioEcho] {
            if cfg!(not(target_os = "linux")) && kind == Kind::BareEcho {
                continue;
            }
            let addr = start(kind);
            // Ping-pong, then 4 KiB messages 16 deep: enough in flight to
            // fill socket buffers and exercise the unsent-tail path.
            for (conns, depth, size) in [(1, 1, 64), (8, 16, 4096), (3, 16, 100_000)] {
                let mut client =
                    Client::connect(addr, conns, depth, &Workload::echo(size)).unwrap();
                client.run(500).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
                client.run(7).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            }
        }
    }

    #[test]
    fn tokio_app_answers_every_request() {
        let addr = start(Kind::TokioApp);
        for (conns, depth) in [(1, 1), (8, 16)] {
            for (action, value) in [
                ("search", "morpheus"),
                ("search", "nobody"),
                ("echo", "binary"),
            ] {
                let workload = Workload::app(action, value).expect("our own request");
                let mut client = Client::connect(addr, conns, depth, &workload).unwrap();
                client.run(1000).unwrap();
            }
        }
    }

    #[test]
    fn kinds_parse_by_name() {
        for (name, kind) in Kind::ALL {
            assert_eq!(Kind::parse(name), Some(kind));
        }
        assert_eq!(Kind::parse("nginx"), None);
    }
}
