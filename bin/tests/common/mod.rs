//! What the integration tests share: the programs as real processes on
//! 127.0.0.1 port 0, their output lines, raw-socket helpers for the framed
//! protocol, the golden vectors, and the server's CPU time and memory from
//! /proc (Linux only: elsewhere the tests skip what they would measure).
//!
//! Every wait here is bounded: a read has a timeout, a process wait has a
//! deadline, and a missed deadline fails the test with what was seen.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal;

pub const ECHO_SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
pub const APP_SERVER: &str = env!("CARGO_BIN_EXE_app-server");
pub const APP_CLIENT: &str = env!("CARGO_BIN_EXE_app-client");
pub const MULTICONN_CLIENT: &str = env!("CARGO_BIN_EXE_multiconn-client");

/// The bound on every wait for something that should happen promptly: long
/// enough for a loaded 2-core machine, short enough to fail a hung test.
pub const WAIT: Duration = Duration::from_secs(10);

/// The shutdown line of both servers.
pub const SHUTDOWN_LINE: &str = "caught keyboard interrupt, exiting";

// ---------------------------------------------------------------------------
// Output lines of a child process

#[derive(Debug, Default)]
struct LinesState {
    lines: Vec<String>,
    closed: bool,
}

/// The lines a child writes on one pipe, collected by a thread as they come.
#[derive(Debug, Clone)]
pub struct Lines(Arc<(Mutex<LinesState>, Condvar)>);

impl Lines {
    /// Starts a thread that reads `pipe` line by line until EOF.
    pub fn collect(pipe: impl Read + Send + 'static) -> Lines {
        let lines = Lines(Arc::default());
        let shared = lines.clone();
        thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        let text = String::from_utf8_lossy(&line).into_owned();
                        let (state, cond) = &*shared.0;
                        state.lock().expect("lines lock").lines.push(text);
                        cond.notify_all();
                    }
                }
            }
            let (state, cond) = &*shared.0;
            state.lock().expect("lines lock").closed = true;
            cond.notify_all();
        });
        lines
    }

    /// The lines so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.0 .0.lock().expect("lines lock").lines.clone()
    }

    /// Waits (bounded) until `done` holds for the lines so far, or the pipe
    /// closed; returns the lines then, and whether `done` held.
    pub fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[String]) -> bool,
    ) -> (Vec<String>, bool) {
        let deadline = Instant::now() + timeout;
        let (state, cond) = &*self.0;
        let mut guard = state.lock().expect("lines lock");
        loop {
            if done(&guard.lines) {
                return (guard.lines.clone(), true);
            }
            let now = Instant::now();
            if guard.closed || now >= deadline {
                return (guard.lines.clone(), false);
            }
            guard = cond
                .wait_timeout(guard, deadline - now)
                .expect("lines lock")
                .0;
        }
    }

    /// Waits (bounded) for a line for which `pred` holds; panics with the
    /// lines seen if none comes.
    pub fn expect_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let (lines, found) = self.wait_until(WAIT, |lines| lines.iter().any(|l| pred(l)));
        assert!(found, "no line {what} within {WAIT:?}; lines: {lines:#?}");
        lines
            .into_iter()
            .find(|l| pred(l))
            .expect("the line was found")
    }

    /// Waits (bounded) until the pipe is closed (the child exited).
    pub fn wait_closed(&self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let (state, cond) = &*self.0;
        let mut guard = state.lock().expect("lines lock");
        while !guard.closed {
            let now = Instant::now();
            assert!(now < deadline, "pipe still open after {timeout:?}");
            guard = cond
                .wait_timeout(guard, deadline - now)
                .expect("lines lock")
                .0;
        }
        guard.lines.clone()
    }
}

/// Waits for a child with a deadline; kills it and panics when it is late.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} still running after {timeout:?}", child.id());
        }
        thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------
// Servers

/// A server process on 127.0.0.1, port 0; killed on drop.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Server {
    /// `BIN 127.0.0.1 0 ARGS...`, once it has printed its `listening on`
    /// line.
    pub fn start(bin: &str, args: &[&str]) -> Server {
        Server::start_cmd(server_command(bin, args))
    }

    /// Starts a prepared command (see [`server_command`]).
    pub fn start_cmd(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the server");
        let stdout = Lines::collect(child.stdout.take().expect("stdout"));
        let stderr = Lines::collect(child.stderr.take().expect("stderr"));
        // The first `listening on` line (with --trace, reactor steps may
        // come before it).
        let (lines, found) = stdout.wait_until(WAIT, |lines| {
            lines.iter().any(|l| l.starts_with("listening on "))
        });
        if !found {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no `listening on` line within {WAIT:?}: stdout {lines:?}, stderr {:?}",
                stderr.snapshot()
            );
        }
        let line = lines
            .iter()
            .find(|l| l.starts_with("listening on "))
            .expect("found above");
        let addr = parse_listening(line)
            .unwrap_or_else(|| panic!("not `listening on (HOST, PORT...)`: {line:?}"));
        Server {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `('127.0.0.1', PORT)`: the server's address as the programs print it.
    pub fn repr(&self) -> String {
        py_addr(self.addr)
    }

    /// A connection with [`WAIT`] read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        connect(self.addr)
    }

    pub fn signal(&self, sig: Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig)
            .expect("signal the server");
    }

    /// Waits (bounded) for the server to exit; returns its status and all
    /// its stdout lines.
    pub fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, Vec<String>) {
        let status = wait_exit(&mut self.child, timeout);
        (status, self.stdout.wait_closed(WAIT))
    }

    /// utime + stime of the whole process, every thread, in clock ticks
    /// (`None` off Linux).
    pub fn cpu_ticks(&self) -> Option<u64> {
        cpu_ticks(self.pid())
    }

    /// The `error:` lines on stderr that name `peer`.
    pub fn errors_about(&self, peer: SocketAddr) -> Vec<String> {
        let name = py_addr(peer);
        self.stderr
            .snapshot()
            .into_iter()
            .filter(|l| l.contains(&name))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `BIN 127.0.0.1 0 ARGS...`.
pub fn server_command(bin: &str, args: &[&str]) -> Command {
    server_command_on(bin, "127.0.0.1", args)
}

/// `BIN HOST 0 ARGS...`.
pub fn server_command_on(bin: &str, host: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args([host, "0"]).args(args);
    cmd
}

/// The address of a `listening on ('127.0.0.1', PORT)` or
/// `listening on ('::1', PORT, 0, 0)` line.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let tuple = line.strip_prefix("listening on ('")?.strip_suffix(')')?;
    let (ip, rest) = tuple.split_once("', ")?;
    let port: u16 = rest.split(", ").next()?.parse().ok()?;
    let addr = SocketAddr::new(ip.parse().ok()?, port);
    (py_addr(addr) == format!("('{tuple})")).then_some(addr)
}

/// utime + stime of a process (all its threads), in clock ticks, from
/// /proc/PID/stat; `None` off Linux, which has no such file.
pub fn cpu_ticks(pid: i32) -> Option<u64> {
    if cfg!(not(target_os = "linux")) {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name may hold spaces and parentheses: fields start after
    // the last `)`. There, field 3 (state) is index 0, so utime (14) and
    // stime (15) are indexes 11 and 12.
    let rest = &stat[stat.rfind(')').expect("a `)` in stat") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    Some(utime + stime)
}

/// The resident set size of a process, in KiB (VmRSS in /proc/PID/status);
/// `None` off Linux.
pub fn rss_kib(pid: i32) -> Option<u64> {
    if cfg!(not(target_os = "linux")) {
        return None;
    }
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    Some(rss)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

// ---------------------------------------------------------------------------
// Client programs

/// What a finished client program did.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

/// Runs a program to completion with a deadline.
pub fn run(bin: &str, args: &[&str]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the program");
    let stdout = Lines::collect(child.stdout.take().expect("stdout"));
    let stderr = Lines::collect(child.stderr.take().expect("stderr"));
    let status = wait_exit(&mut child, WAIT * 2);
    Output {
        status,
        stdout: stdout.wait_closed(WAIT),
        stderr: stderr.wait_closed(WAIT),
    }
}

// ---------------------------------------------------------------------------
// Sockets

/// A blocking connection with [`WAIT`] read and write timeouts and
/// TCP_NODELAY.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect_timeout(&addr, WAIT).expect("connect to the server");
    sock.set_read_timeout(Some(WAIT)).expect("read timeout");
    sock.set_write_timeout(Some(WAIT)).expect("write timeout");
    sock.set_nodelay(true).expect("TCP_NODELAY");
    sock
}

/// Asserts that the peer closed the connection: a read returns EOF within
/// [`WAIT`] (and no byte comes before it).
pub fn expect_eof(sock: &mut TcpStream) {
    sock.set_read_timeout(Some(WAIT)).expect("read timeout");
    let mut buf = [0u8; 4096];
    match sock.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!(
            "expected EOF, got {n} bytes: {}",
            py_bytes(&buf[..n.min(200)])
        ),
        Err(e) => panic!("expected EOF, got {e} ({:?})", e.kind()),
    }
}

/// Asserts that nothing arrives (and the connection stays open) for `quiet`.
pub fn expect_silence(sock: &mut TcpStream, quiet: Duration) {
    sock.set_read_timeout(Some(quiet)).expect("read timeout");
    let mut buf = [0u8; 4096];
    match sock.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Ok(0) => panic!("expected silence, the peer closed"),
        Ok(n) => panic!("expected silence, got {}", py_bytes(&buf[..n.min(200)])),
        Err(e) => panic!("expected silence, got {e}"),
    }
    sock.set_read_timeout(Some(WAIT)).expect("read timeout");
}

/// Writes `unit` over and over, never reading, until the peer stops taking
/// bytes: two writes in a row that make no progress for 200 ms each (one
/// could be a loaded machine descheduling the server). Returns how many
/// bytes went out; fails if the peer still takes bytes after [`WAIT`].
pub fn write_until_blocked(sock: &mut TcpStream, unit: &[u8]) -> usize {
    sock.set_write_timeout(Some(Duration::from_millis(200)))
        .expect("write timeout");
    let batch = unit.repeat((64 * 1024 / unit.len()).max(1));
    let mut written = 0;
    let mut stalls = 0;
    let deadline = Instant::now() + WAIT;
    while stalls < 2 {
        assert!(
            Instant::now() < deadline,
            "the peer took {written} bytes and kept reading"
        );
        match sock.write(&batch[written % batch.len()..]) {
            Ok(n) => {
                written += n;
                stalls = 0;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                stalls += 1;
            }
            Err(e) => panic!("write after {written} bytes: {e}"),
        }
    }
    sock.set_write_timeout(Some(WAIT)).expect("write timeout");
    written
}

/// One framed message as read from the wire.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Every byte of it, proto-header included.
    pub raw: Vec<u8>,
    pub header: serde_json::Value,
    pub content: Vec<u8>,
}

impl Msg {
    /// The `result` of a `text/json` answer.
    pub fn result(&self) -> String {
        assert_eq!(self.header["content-type"], "text/json", "{self:?}");
        assert_eq!(self.header["content-encoding"], "utf-8", "{self:?}");
        let json: serde_json::Value =
            serde_json::from_slice(&self.content).expect("text/json content is JSON");
        let object = json.as_object().expect("the content is an object");
        assert_eq!(object.len(), 1, "only `result`: {json}");
        object["result"]
            .as_str()
            .expect("result is a string")
            .to_owned()
    }
}

/// Reads one framed message (blocking, with the socket's read timeout).
pub fn read_message(sock: &mut impl Read) -> io::Result<Msg> {
    let mut proto = [0u8; 2];
    sock.read_exact(&mut proto)?;
    let mut header = vec![0u8; u16::from_be_bytes(proto) as usize];
    sock.read_exact(&mut header)?;
    let json: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| io::Error::new(ErrorKind::InvalidData, format!("header: {e}")))?;
    let len = json["content-length"]
        .as_u64()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "content-length"))?;
    let mut content = vec![0u8; len as usize];
    sock.read_exact(&mut content)?;
    let mut raw = proto.to_vec();
    raw.extend_from_slice(&header);
    raw.extend_from_slice(&content);
    Ok(Msg {
        raw,
        header: json,
        content,
    })
}

/// A proto-header and JSON header (as given) followed by the content.
pub fn frame(header: &[u8], content: &[u8]) -> Vec<u8> {
    let len = u16::try_from(header.len()).expect("header fits a u16");
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(header);
    out.extend_from_slice(content);
    out
}

/// A header in the Python layout with the four keys.
pub fn header(content_type: &str, encoding: &str, length: usize) -> String {
    format!(
        "{{\"byteorder\": \"{}\", \"content-type\": \"{content_type}\", \
         \"content-encoding\": \"{encoding}\", \"content-length\": {length}}}",
        byteorder()
    )
}

pub fn byteorder() -> &'static str {
    if cfg!(target_endian = "little") {
        "little"
    } else {
        "big"
    }
}

/// A `text/json` request with the given content bytes.
pub fn json_request(content: &[u8]) -> Vec<u8> {
    frame(
        header("text/json", "utf-8", content.len()).as_bytes(),
        content,
    )
}

/// The search request as the Python client writes it.
pub fn search_request(value: &str) -> Vec<u8> {
    let content = format!(
        "{{\"action\": \"search\", \"value\": {}}}",
        serde_json::to_string(value).expect("a JSON string")
    );
    json_request(content.as_bytes())
}

/// A binary request with the given content.
pub fn binary_request(content: &[u8]) -> Vec<u8> {
    frame(
        header("binary/custom-client-binary-type", "binary", content.len()).as_bytes(),
        content,
    )
}

/// The expected answer to a binary request with this content.
pub fn binary_answer_content(request: &[u8]) -> Vec<u8> {
    let mut out = b"First 10 bytes of request: ".to_vec();
    out.extend_from_slice(&request[..request.len().min(10)]);
    out
}

/// Writes `request` and reads one answer.
pub fn ask(sock: &mut TcpStream, request: &[u8]) -> Msg {
    sock.write_all(request).expect("write the request");
    read_message(sock).expect("read the answer")
}

/// Asks for `morpheus` and checks the exact answer: the server still serves.
pub fn assert_serves(sock: &mut TcpStream) {
    let morpheus = vector("search-morpheus");
    let answer = ask(sock, &morpheus.request);
    assert_eq!(
        py_bytes(&answer.raw),
        py_bytes(&morpheus.response),
        "the answer to the morpheus search"
    );
}

// ---------------------------------------------------------------------------
// The golden vectors

/// One line of app-protocol.jsonl.
#[derive(Debug, Clone)]
pub struct Vector {
    pub name: String,
    pub action: String,
    pub value: String,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

/// Every vector, in file order.
pub fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../proto/tests/data/app-protocol.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("read the vectors");
    let vectors: Vec<Vector> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let s = |key: &str| v[key].as_str().expect(key).to_owned();
            Vector {
                name: s("name"),
                action: s("action"),
                value: s("value"),
                request: unhex(&s("request_hex")),
                response: unhex(&s("response_hex")),
            }
        })
        .collect();
    assert!(vectors.len() >= 10, "the vector file looks truncated");
    vectors
}

pub fn vector(name: &str) -> Vector {
    vectors()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

pub fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd hex length");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

// ---------------------------------------------------------------------------
// Python's reprs, written independently of the product's

/// Python's `repr()` of a bytes object.
pub fn py_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in bytes {
        match b {
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\\' => out.push_str("\\\\"),
            b'\'' if quote == '\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// The bytes of a Python bytes repr (`b'...'` or `b"..."`), the inverse of
/// [`py_bytes`].
pub fn parse_py_bytes(repr: &str) -> Vec<u8> {
    let body = repr
        .strip_prefix("b'")
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| repr.strip_prefix("b\"").and_then(|r| r.strip_suffix('"')))
        .unwrap_or_else(|| panic!("not a bytes repr: {repr}"));
    let mut out = Vec::new();
    let mut chars = body.bytes();
    while let Some(c) = chars.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(b't') => out.push(b'\t'),
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b'x') => {
                let hex: Vec<u8> = chars.by_ref().take(2).collect();
                let hex = std::str::from_utf8(&hex).expect("hex escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            }
            Some(other) => out.push(other),
            None => panic!("dangling escape in {repr}"),
        }
    }
    out
}

/// A socket address as Python prints the tuple.
pub fn py_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("('{}', {})", a.ip(), a.port()),
        SocketAddr::V6(a) => format!(
            "('{}', {}, {}, {})",
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id()
        ),
    }
}

// ---------------------------------------------------------------------------
// A raw-socket server for the clients

/// A port on which nothing listens (bound, then closed).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local_addr").port()
}

/// Accepts one connection within [`WAIT`].
pub fn accept_one(listener: &TcpListener) -> TcpStream {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((sock, _)) => {
                sock.set_nonblocking(false).expect("blocking socket");
                sock.set_read_timeout(Some(WAIT)).expect("read timeout");
                sock.set_write_timeout(Some(WAIT)).expect("write timeout");
                return sock;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no connection within {WAIT:?}");
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Sets a process's soft and hard RLIMIT_NOFILE to at least `wanted` (as far
/// as the hard limit allows): for a test that opens many sockets.
pub fn raise_own_fd_limit(wanted: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    // rlim_t is unsigned on Linux and macOS, signed on FreeBSD; the counts
    // asked for here are far below either's maximum.
    let target = (wanted as libc::rlim_t).min(hard);
    if soft < target {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard).expect("setrlimit");
    }
}
