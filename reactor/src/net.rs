//! Non-blocking TCP over raw sockets, IPv4 and IPv6.
//!
//! Every socket made here is non-blocking from birth (the tutorial's
//! `sock.setblocking(False)`): a readiness loop must never block in `accept`,
//! `recv` or `send`, since one slow peer would stall every other connection.
//! A call that cannot proceed returns `ErrorKind::WouldBlock` instead, which
//! means "wait for the next readiness event".

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, MsgFlags, SockFlag, SockType, SockaddrStorage,
};

/// Options for [`TcpListener::bind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenOptions {
    /// Length of the kernel's queue of connections not yet accepted
    /// (clamped to the system's `SOMAXCONN`). Default 1024.
    pub backlog: i32,
    /// Set `SO_REUSEPORT`, so several listeners (one per worker thread) can
    /// share the port and the kernel spreads connections among them.
    pub reuse_port: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            backlog: 1024,
            reuse_port: false,
        }
    }
}

/// Whether `err` says the process (`EMFILE`) or the system (`ENFILE`) ran out
/// of file descriptors. A level-triggered listener stays readable while the
/// connection waits in the backlog, so a server must stop asking (pause the
/// listener's interest) and retry later, or it spins at 100% CPU.
pub fn is_fd_exhaustion(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// What a server should do after [`TcpListener::accept`] failed: the
/// answer of [`accept_error_action`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptAction {
    /// Nothing waits in the backlog (`WouldBlock`): wait for the next
    /// readable event.
    Done,
    /// Interrupted by a signal (`EINTR`): ask again now. (Our
    /// [`TcpListener::accept`] does this itself; a raw `accept` does not.)
    Retry,
    /// That one connection failed and is gone from the backlog: go on with
    /// the next one, without a pause.
    Skip,
    /// The process or the system is short of something (descriptors,
    /// memory), or the error is unknown: the connection stays in the
    /// backlog and the level-triggered listener stays readable, so asking
    /// again now would spin. Stop asking (interest NONE) and retry on a
    /// timer.
    Pause,
}

/// Classifies an error of [`TcpListener::accept`].
///
/// - `EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`: [`AcceptAction::Pause`]
///   (resource exhaustion; see [`is_fd_exhaustion`]).
/// - `ECONNABORTED` (the peer reset before the accept), `EPROTO`, `EPERM`
///   (a firewall rule refused it), and the network errors that Linux's
///   accept(2) passes on from the new socket and says "should be treated
///   like EAGAIN by retrying" (`ENETDOWN`, `ENOPROTOOPT`, `EHOSTDOWN`,
///   `ENONET`, `EHOSTUNREACH`, `EOPNOTSUPP`, `ENETUNREACH`):
///   [`AcceptAction::Skip`].
/// - `EINTR`: [`AcceptAction::Retry`]; `WouldBlock`: [`AcceptAction::Done`].
/// - An error without an errno: [`AcceptAction::Skip`]. Ours come from
///   decoding the peer's address, after the connection left the backlog.
/// - Any other errno: [`AcceptAction::Pause`]. Only an error known to
///   consume its connection may be retried at once; an unknown one might
///   recur on every call (`EBADF`, `EINVAL` on a broken listener), and a
///   pause costs an error that does not recur only a little latency.
pub fn accept_error_action(err: &io::Error) -> AcceptAction {
    if err.kind() == io::ErrorKind::WouldBlock {
        return AcceptAction::Done;
    }
    let Some(errno) = err.raw_os_error() else {
        return AcceptAction::Skip;
    };
    match errno {
        libc::EINTR => AcceptAction::Retry,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM => AcceptAction::Pause,
        libc::ECONNABORTED | libc::EPROTO | libc::EPERM => AcceptAction::Skip,
        libc::ENETDOWN
        | libc::ENOPROTOOPT
        | libc::EHOSTDOWN
        | libc::EHOSTUNREACH
        | libc::EOPNOTSUPP
        | libc::ENETUNREACH => AcceptAction::Skip,
        // ENONET ("machine is not on the network") is Linux's alone.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::ENONET => AcceptAction::Skip,
        _ => AcceptAction::Pause,
    }
}

/// Raise this process's soft limit on open descriptors (`RLIMIT_NOFILE`)
/// towards `wanted`, as far as the system allows: best-effort, it never
/// lowers the limit and never fails because the wish was refused. Returns
/// the soft limit in force afterwards, which may be less than `wanted`; an
/// error only if the limit cannot even be read.
///
/// The soft limit may go up to the hard limit, except on macOS: there the
/// hard limit is often "unlimited", yet any soft limit above `OPEN_MAX` is
/// refused with EINVAL, and its setrlimit(2) says to use
/// `min(OPEN_MAX, rlim_max)`; that is the fallback there.
// rlim_t is u64 on Linux but i64 on FreeBSD: the casts are needed there.
#[allow(clippy::unnecessary_cast)]
pub fn raise_fd_limit(wanted: u64) -> io::Result<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let set = |limit: u64| setrlimit(Resource::RLIMIT_NOFILE, limit as libc::rlim_t, hard).is_ok();
    Ok(raise_limit(
        soft as u64,
        hard as u64,
        wanted,
        FD_LIMIT_FALLBACK,
        set,
    ))
}

/// `OPEN_MAX` from macOS's `<sys/syslimits.h>` (the libc crate lacks it).
#[cfg(target_vendor = "apple")]
const FD_LIMIT_FALLBACK: Option<u64> = Some(10240);
#[cfg(not(target_vendor = "apple"))]
const FD_LIMIT_FALLBACK: Option<u64> = None;

/// [`raise_fd_limit`]'s choice, apart from the system calls: ask `set` for
/// `wanted` (at most `hard`), then for `fallback` if that is lower; keep
/// `soft` when neither is granted or neither would raise it.
fn raise_limit(
    soft: u64,
    hard: u64,
    wanted: u64,
    fallback: Option<u64>,
    mut set: impl FnMut(u64) -> bool,
) -> u64 {
    let wish = wanted.min(hard);
    if wish <= soft {
        return soft;
    }
    if set(wish) {
        return wish;
    }
    match fallback.map(|cap| cap.min(wish)) {
        Some(cap) if cap > soft && cap < wish && set(cap) => cap,
        _ => soft,
    }
}

/// How [`TcpStream::connect`] left the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStatus {
    /// Connected already (possible on loopback).
    Connected,
    /// Under way (`EINPROGRESS`, Python's `connect_ex` returning it):
    /// register for WRITE, and call [`TcpStream::finish_connect`] once
    /// writable.
    InProgress,
}

/// A TCP socket listening for connections.
#[derive(Debug)]
pub struct TcpListener {
    fd: OwnedFd,
}

/// A connected (or connecting) TCP socket.
#[derive(Debug)]
pub struct TcpStream {
    fd: OwnedFd,
}

impl TcpListener {
    /// Listen on `addr` (port 0: the system picks one; see
    /// [`local_addr`](Self::local_addr)). `SO_REUSEADDR` is always set, so
    /// a restarted server can bind while old connections sit in TIME_WAIT.
    pub fn bind(addr: SocketAddr, options: &ListenOptions) -> io::Result<TcpListener> {
        let fd = new_socket(&addr)?;
        socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
        if options.reuse_port {
            socket::setsockopt(&fd, sockopt::ReusePort, &true)?;
        }
        socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
        let backlog =
            Backlog::new(options.backlog.clamp(0, libc::SOMAXCONN)).unwrap_or(Backlog::MAXCONN);
        socket::listen(&fd, backlog)?;
        Ok(TcpListener { fd })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        local_addr(&self.fd)
    }

    /// A second handle on the same listening socket (`dup`, close-on-exec),
    /// for worker threads that share one listener where SO_REUSEPORT does not
    /// spread connections. Non-blocking is a property of the socket, so the
    /// copy is non-blocking too.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        Ok(TcpListener {
            fd: self.fd.try_clone()?,
        })
    }

    /// Take one connection off the backlog: a non-blocking, close-on-exec
    /// socket and the peer's address. `WouldBlock` when none is waiting;
    /// see [`accept_error_action`] for what to do about the other errors.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        // SAFETY: zeroed bytes are a valid sockaddr_storage (plain data).
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let addr_ptr = (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
        let fd = loop {
            match sys_accept(self.fd.as_raw_fd(), addr_ptr, &mut len) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        let stream = TcpStream { fd };
        Ok((stream, socket_addr_of(&storage)?))
    }
}

/// accept4 sets non-blocking and close-on-exec atomically with the accept:
/// no window in which another thread's fork+exec inherits the descriptor.
#[cfg(not(target_vendor = "apple"))]
fn sys_accept(
    fd: RawFd,
    addr: *mut libc::sockaddr,
    len: &mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    // SAFETY: `addr` points to a sockaddr_storage and `len` holds its size.
    let res = unsafe { libc::accept4(fd, addr, len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) };
    let raw = Errno::result(res)?;
    // SAFETY: accept4 returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Apple has no accept4: accept, then set the flags (and SO_NOSIGPIPE).
#[cfg(target_vendor = "apple")]
fn sys_accept(
    fd: RawFd,
    addr: *mut libc::sockaddr,
    len: &mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    // SAFETY: `addr` points to a sockaddr_storage and `len` holds its size.
    let res = unsafe { libc::accept(fd, addr, len) };
    let raw = Errno::result(res)?;
    // SAFETY: accept returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    apple::prepare(&fd)?;
    Ok(fd)
}

impl TcpStream {
    /// Start connecting to `addr` and return at once, like Python's
    /// `connect_ex`. With [`ConnectStatus::InProgress`], wait for WRITE and
    /// then call [`finish_connect`](Self::finish_connect).
    pub fn connect(addr: SocketAddr) -> io::Result<(TcpStream, ConnectStatus)> {
        let fd = new_socket(&addr)?;
        let status = match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
            Ok(()) => ConnectStatus::Connected,
            // EINTR: the connection goes on asynchronously, as EINPROGRESS.
            Err(Errno::EINPROGRESS) | Err(Errno::EINTR) => ConnectStatus::InProgress,
            Err(e) => return Err(e.into()),
        };
        Ok((TcpStream { fd }, status))
    }

    /// Once the socket is writable after [`connect`](Self::connect): `Ok`
    /// if the connection is established, else its error (ECONNREFUSED,
    /// ETIMEDOUT, ...). Without this check a refused connection looks like
    /// a writable socket whose first read returns 0 or fails obscurely.
    pub fn finish_connect(&self) -> io::Result<()> {
        match self.take_error()? {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Read and clear the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let errno = socket::getsockopt(&self.fd, sockopt::SocketError)?;
        Ok((errno != 0).then(|| io::Error::from_raw_os_error(errno)))
    }

    /// Turn Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        Ok(socket::setsockopt(&self.fd, sockopt::TcpNoDelay, &on)?)
    }

    /// The peer's address (`ENOTCONN` if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let storage: SockaddrStorage = socket::getpeername(self.fd.as_raw_fd())?;
        sockaddr_to_std(&storage)
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        local_addr(&self.fd)
    }

    /// Close one or both directions; `Shutdown::Write` sends FIN (the peer
    /// reads EOF) while this end can still read.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let how = match how {
            Shutdown::Read => socket::Shutdown::Read,
            Shutdown::Write => socket::Shutdown::Write,
            Shutdown::Both => socket::Shutdown::Both,
        };
        Ok(socket::shutdown(self.fd.as_raw_fd(), how)?)
    }

    /// Make the close abortive: dropping the stream sends RST, not FIN
    /// (tests use it to provoke ECONNRESET).
    pub fn set_linger_zero(&self) -> io::Result<()> {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        Ok(socket::setsockopt(&self.fd, sockopt::Linger, &linger)?)
    }

    /// Set the kernel's send buffer size (`SO_SNDBUF`).
    pub fn set_send_buffer_size(&self, bytes: usize) -> io::Result<()> {
        Ok(socket::setsockopt(&self.fd, sockopt::SndBuf, &bytes)?)
    }

    /// Set the kernel's receive buffer size (`SO_RCVBUF`).
    pub fn set_recv_buffer_size(&self, bytes: usize) -> io::Result<()> {
        Ok(socket::setsockopt(&self.fd, sockopt::RcvBuf, &bytes)?)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // recv rather than read: same result on a socket, without the
        // generic file layer's work (measurably cheaper per call).
        Ok(socket::recv(self.fd.as_raw_fd(), buf, MsgFlags::empty())?)
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Never SIGPIPE: a write to a reset connection must be an EPIPE
        // error, not the death of the process.
        Ok(socket::send(self.fd.as_raw_fd(), buf, SEND_FLAGS)?)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(not(target_vendor = "apple"))]
const SEND_FLAGS: MsgFlags = MsgFlags::MSG_NOSIGNAL;
/// Apple has no MSG_NOSIGNAL; its sockets get SO_NOSIGPIPE at creation.
#[cfg(target_vendor = "apple")]
const SEND_FLAGS: MsgFlags = MsgFlags::empty();

macro_rules! fd_traits {
    ($ty:ty) => {
        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.fd.as_fd()
            }
        }
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.fd.as_raw_fd()
            }
        }
        impl IntoRawFd for $ty {
            fn into_raw_fd(self) -> RawFd {
                self.fd.into_raw_fd()
            }
        }
        impl From<$ty> for OwnedFd {
            fn from(value: $ty) -> OwnedFd {
                value.fd
            }
        }
    };
}
fd_traits!(TcpListener);
fd_traits!(TcpStream);

/// A TCP socket for `addr`'s family, non-blocking and close-on-exec.
fn new_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    #[cfg(not(target_vendor = "apple"))]
    {
        let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
        Ok(socket::socket(family, SockType::Stream, flags, None)?)
    }
    #[cfg(target_vendor = "apple")]
    {
        let fd = socket::socket(family, SockType::Stream, SockFlag::empty(), None)?;
        apple::prepare(&fd)?;
        Ok(fd)
    }
}

#[cfg(target_vendor = "apple")]
mod apple {
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};

    use nix::errno::Errno;
    use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};

    /// What other systems get from SOCK_NONBLOCK, SOCK_CLOEXEC and
    /// MSG_NOSIGNAL, one call each.
    pub(super) fn prepare(fd: &OwnedFd) -> io::Result<()> {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        let on: libc::c_int = 1;
        // SAFETY: `on` is a c_int that outlives the call; its size is passed.
        let res = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_NOSIGPIPE,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Errno::result(res)?;
        Ok(())
    }
}

fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    let storage: SockaddrStorage = socket::getsockname(fd.as_raw_fd())?;
    sockaddr_to_std(&storage)
}

fn sockaddr_to_std(storage: &SockaddrStorage) -> io::Result<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        Ok(SocketAddr::V4(SocketAddrV4::from(*v4)))
    } else if let Some(v6) = storage.as_sockaddr_in6() {
        Ok(SocketAddr::V6(SocketAddrV6::from(*v6)))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not an IP socket address",
        ))
    }
}

/// Decode the address `accept` wrote.
fn socket_addr_of(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            let ptr = (storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
            // SAFETY: the family says the storage holds a sockaddr_in, and a
            // sockaddr_storage is large and aligned enough for one.
            let sin = unsafe { &*ptr };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            let ptr = (storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
            // SAFETY: the family says the storage holds a sockaddr_in6, and a
            // sockaddr_storage is large and aligned enough for one.
            let sin6 = unsafe { &*ptr };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "accept returned a non-IP address",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(errno: i32) -> AcceptAction {
        accept_error_action(&io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn exhaustion_pauses_the_listener() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            assert_eq!(action(errno), AcceptAction::Pause, "errno {errno}");
        }
    }

    #[test]
    fn an_error_of_one_connection_skips_it_without_a_pause() {
        let per_connection = [
            libc::ECONNABORTED,
            libc::EPROTO,
            libc::EPERM,
            libc::ENETDOWN,
            libc::ENOPROTOOPT,
            libc::EHOSTDOWN,
            libc::EHOSTUNREACH,
            libc::EOPNOTSUPP,
            libc::ENETUNREACH,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            libc::ENONET,
        ];
        for errno in per_connection {
            assert_eq!(action(errno), AcceptAction::Skip, "errno {errno}");
        }
        let no_errno = io::Error::new(io::ErrorKind::InvalidData, "not an IP address");
        assert_eq!(accept_error_action(&no_errno), AcceptAction::Skip);
    }

    #[test]
    fn eintr_retries_wouldblock_is_done_and_the_unknown_pauses() {
        assert_eq!(action(libc::EINTR), AcceptAction::Retry);
        assert_eq!(action(libc::EAGAIN), AcceptAction::Done);
        assert_eq!(action(libc::EWOULDBLOCK), AcceptAction::Done);
        let would_block = io::Error::from(io::ErrorKind::WouldBlock);
        assert_eq!(accept_error_action(&would_block), AcceptAction::Done);
        // A broken listener would fail every call: retrying now would spin.
        for errno in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK, libc::EFAULT] {
            assert_eq!(action(errno), AcceptAction::Pause, "errno {errno}");
        }
    }

    #[test]
    fn fd_limit_gets_the_wish_when_the_system_grants_it() {
        let mut asked = Vec::new();
        let got = raise_limit(1024, 1 << 20, 10_064, None, |l| {
            asked.push(l);
            true
        });
        assert_eq!((got, asked), (10_064, vec![10_064]));
    }

    #[test]
    fn fd_limit_stops_at_the_hard_limit_and_never_lowers() {
        assert_eq!(raise_limit(1024, 4096, 10_064, None, |_| true), 4096);
        let lowered = raise_limit(20_000, 1 << 20, 10_064, None, |_| panic!("lowered"));
        assert_eq!(lowered, 20_000);
    }

    #[test]
    fn fd_limit_falls_back_where_the_system_refuses_more_than_it_says() {
        // macOS: hard limit "unlimited", yet EINVAL above OPEN_MAX.
        let macos = |limit: u64| limit <= 10_240;
        assert_eq!(
            raise_limit(256, u64::MAX, 20_064, Some(10_240), macos),
            10_240
        );
        // The fallback is asked once, and not again when it is the wish.
        let mut asked = Vec::new();
        let refuse = |limit| {
            asked.push(limit);
            false
        };
        assert_eq!(raise_limit(256, u64::MAX, 8_000, Some(10_240), refuse), 256);
        assert_eq!(asked, vec![8_000]);
        // Refused everything: the server starts with what it has.
        assert_eq!(
            raise_limit(256, u64::MAX, 20_064, Some(10_240), |_| false),
            256
        );
        assert_eq!(raise_limit(256, u64::MAX, 20_064, None, |_| false), 256);
    }

    #[test]
    fn raising_the_real_fd_limit_never_fails_nor_lowers_it() {
        use nix::sys::resource::{getrlimit, Resource};
        let (before, _) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        let got = raise_fd_limit(u64::MAX).expect("the limit is readable");
        #[allow(clippy::unnecessary_cast)]
        let before = before as u64;
        assert!(got >= before, "lowered from {before} to {got}");
    }
}
