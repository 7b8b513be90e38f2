//! Faults injected on real sockets: a peer whose receive window is small,
//! so the server's writes stop part-way (EAGAIN) over and over; nothing may
//! be lost or reordered. (Other faults live beside their subject: half-close
//! in streams.rs, EMFILE in limits.rs, signals in signals.rs, resets and
//! garbage in the soak.)

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::thread;
use std::time::Duration;

use common::*;
use nix::sys::socket::{self, setsockopt, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn};

/// A client socket with a small receive buffer (16 KiB), set before
/// connecting so the advertised window starts small. (Not the smallest the
/// kernel allows: with a window below a couple of segments the receiver
/// stops announcing the room its reads make, to avoid silly-window sends,
/// and the sender falls back on zero-window probes whose interval doubles
/// up to two minutes: the answers then take minutes to arrive.)
fn tiny_window_client(port: u16) -> TcpStream {
    // Close-on-exec, so servers other tests spawn meanwhile do not inherit
    // it. Apple's socket() has no flag for it: there it is set just after.
    #[cfg(not(target_vendor = "apple"))]
    let flags = SockFlag::SOCK_CLOEXEC;
    #[cfg(target_vendor = "apple")]
    let flags = SockFlag::empty();
    let fd: OwnedFd =
        socket::socket(AddressFamily::Inet, SockType::Stream, flags, None).expect("socket");
    #[cfg(target_vendor = "apple")]
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .expect("close-on-exec");
    setsockopt(&fd, sockopt::RcvBuf, &(16 * 1024)).expect("SO_RCVBUF");
    let addr = SockaddrIn::new(127, 0, 0, 1, port);
    socket::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).expect("connect");
    let sock = TcpStream::from(fd);
    sock.set_read_timeout(Some(WAIT)).expect("read timeout");
    sock.set_nodelay(true).expect("nodelay");
    sock
}

#[test]
fn answers_to_a_reader_with_a_tiny_window_are_written_part_way_and_none_is_lost() {
    let server = Server::start(APP_SERVER, &["--trace", "-q"]);
    let mut sock = tiny_window_client(server.port());
    // A miss repeats the query in its answer: 40 KB queries make 40 KB
    // answers, twice what the kernel's send buffer can grow to, so with
    // nobody reading some write must stop part-way.
    let answers = 2 * max_send_buffer() / 40_000 + 1;
    let queries: Vec<String> = (0..answers)
        .map(|i| format!("{i:03}-{}", "q".repeat(40_000)))
        .collect();
    let mut requests = Vec::new();
    for query in &queries {
        requests.extend_from_slice(&search_request(query));
    }
    let mut writer = sock.try_clone().expect("clone");
    let sender = thread::spawn(move || writer.write_all(&requests));

    // The reader waits until the server's writes have stopped part-way
    // (the trace shows the switch to WRITE interest, to finish them): how
    // fast the send buffer grows, or which of the two processes the
    // machine runs first, then makes no difference.
    let (lines, switched) = server.stdout.wait_until(WAIT, |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("modify fd=") && l.ends_with("interest=WRITE"))
    });
    assert!(
        switched,
        "no write stopped part-way with nobody reading: {:?}",
        &lines[..lines.len().min(20)]
    );

    // A slow reader: small reads, and a pause every 32 of them.
    let mut paced = Paced {
        sock: &mut sock,
        reads: 0,
    };
    for (i, query) in queries.iter().enumerate() {
        let answer = read_message(&mut paced).expect("an answer");
        assert_eq!(
            answer.result(),
            format!("No match for \"{query}\"."),
            "answer {i}"
        );
    }
    sender
        .join()
        .expect("the writer thread")
        .expect("all requests written");
    assert_serves(&mut sock);

    assert!(
        server.stderr.snapshot().is_empty(),
        "{:?}",
        server.stderr.snapshot()
    );
}

/// The most a TCP send buffer grows to here (`tcp_wmem`'s maximum; 4 MiB
/// when it cannot be read).
fn max_send_buffer() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

/// Reads at most 1 KiB at a time, pausing every 32 reads.
struct Paced<'a> {
    sock: &'a mut TcpStream,
    reads: u32,
}

impl Read for Paced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        if self.reads % 32 == 0 {
            // The reader falling behind is the fault being injected.
            thread::sleep(Duration::from_millis(2));
        }
        let n = buf.len().min(1024);
        self.sock.read(&mut buf[..n])
    }
}
