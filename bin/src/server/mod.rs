//! What both servers share: the listening socket and its accept loop, the
//! worker threads, the lingering close, and the graceful stop on
//! SIGINT/SIGTERM. The two servers differ only in their [`Message`]:
//! [`echo`] (the tutorial's `multiconn-server.py`) and [`app`]
//! (`app-server.py` and `libserver.Message`).
//!
//! This is the tutorial's main loop:
//!
//! ```text
//! while True:
//!     events = sel.select(timeout=None)
//!     for key, mask in events:
//!         if key.data is None:
//!             accept_wrapper(key.fileobj)
//!         else:
//!             message = key.data
//!             message.process_events(mask)
//! ```
//!
//! Each worker thread runs it (`run_worker`) until a signal, then drains
//! (`drain`). `key.data is None` becomes [`Registration::Listener`], whose
//! [`Acceptor`] has `accept_wrapper`; `message` becomes
//! [`Registration::Connection`], the connection's [`Message`] with what the
//! server keeps around it.

pub mod app;
pub mod echo;

use std::fmt::Debug;
use std::io::{self, ErrorKind, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::ExitCode;
use std::sync::{mpsc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use reactor::net::{self, AcceptAction, ListenOptions, TcpListener, TcpStream};
use reactor::signal::{self, Signal};
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId, Token};

use crate::budget::with_budget;
use crate::buffers::with_buffers;
use crate::cli::{resolve, ServerOptions};
use crate::message::{Message, Next};
use crate::pyrepr::Addr;
use crate::ratelimit::{Held, RateLimit};
use crate::say::{self, Say};

/// How long an accept waits after running out of descriptors (EMFILE).
const FD_EXHAUSTED_PAUSE: Duration = Duration::from_millis(100);
/// How long a stopping server waits for a peer to take its answers, and a
/// closing connection with unread input waits for the peer's EOF.
const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// Reads of discarded input per event while a closing connection lingers.
const LINGER_READS: usize = 16;
/// Connections accepted per readable event, so a flood of connects can't
/// starve the connections already open.
const ACCEPT_BATCH: usize = 64;

/// What a server asks of its [`Message`] beyond the events: how one is made
/// for an accepted connection, how it stops, and the limits it keeps.
/// Implemented by the echo server's and the app server's `Message`.
pub trait Serve: Message<Socket = TcpStream> + Debug + Sized {
    /// What every connection of the server shares (e.g. the content limit).
    type Config: Debug + Sync;
    /// A freshly accepted connection.
    fn accept(sock: TcpStream, addr: SocketAddr, config: &Self::Config) -> Self;
    /// The server is stopping: read nothing more, finish what is owed.
    fn drain(&mut self) -> Next;
    /// The request under way, if its first byte has arrived and it is not
    /// complete yet: its number on this connection (0, 1, ...), so that a
    /// read that completes one request and begins the next is seen as a
    /// new request.
    fn request_under_way(&self) -> Option<u64> {
        None
    }
    /// The connection is closing: give back what it holds for a request
    /// that will never be answered (its share of the budget).
    fn abandon(&mut self) {}
    /// Whether the connection waits for room in the buffer budget.
    fn parked(&self) -> bool {
        false
    }
    /// Room was freed in the budget: what to wait for now, or `None` if the
    /// connection still does not fit.
    fn unpark(&mut self) -> Option<Next> {
        Some(Next::Wait(Interest::READ))
    }
    /// How long a begun message may take to arrive whole (`None`: for ever).
    fn request_timeout(config: &Self::Config) -> Option<Duration> {
        let _ = config;
        None
    }
    /// The bytes all partial messages may hold together (see [`crate::budget`]).
    fn max_buffered_bytes(config: &Self::Config) -> usize {
        let _ = config;
        usize::MAX
    }
}

/// A server's settings, shared read-only by every worker and connection.
#[derive(Debug)]
pub struct Settings<M: Serve> {
    /// The command-line server options.
    pub options: ServerOptions,
    /// The per-connection configuration.
    pub config: M::Config,
}

impl<M: Serve> Settings<M> {
    fn say(&self) -> Say {
        Say {
            quiet: self.options.quiet,
        }
    }
}

/// One registration of a server's event loop: the tutorial's `key.data`,
/// `None` for the listening socket, a `Message` for a connection.
#[derive(Debug)]
pub enum Registration<'s, M: Serve> {
    /// The listening socket.
    Listener(Acceptor<'s, M>),
    /// A connection.
    Connection(Connection<'s, M>),
}

/// The listening socket and its accept loop (the tutorial's
/// `accept_wrapper`).
#[derive(Debug)]
pub struct Acceptor<'s, M: Serve> {
    listener: TcpListener,
    settings: &'s Settings<M>,
    /// Most connections this worker keeps open at once.
    max_connections: usize,
    /// Why the listener is not asking for connections, if it isn't.
    paused: Option<Pause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// At `--max-connections`: resumes when a connection closes.
    Full,
    /// Accept failed for want of descriptors or memory (EMFILE, ENOBUFS,
    /// ...; see [`AcceptAction::Pause`]): resumes when the timer fires.
    FdExhausted(TimerId),
}

/// A connection's [`Message`], with what the server keeps around it: the
/// settings, its deadlines, its place in the budget's queue, and the
/// lingering close.
#[derive(Debug)]
pub struct Connection<'s, M: Serve> {
    message: M,
    /// The peer, for the server's own lines.
    addr: SocketAddr,
    settings: &'s Settings<M>,
    /// Half-closed after its last answer, reading and discarding what the
    /// peer still sends until its EOF (or the grace period ends).
    lingering: bool,
    /// The request under way (its number) and when it must be complete
    /// (`--request-timeout`).
    request_deadline: Option<(u64, Instant)>,
    /// The server is stopping: the end of the grace period, which no other
    /// deadline moves.
    stop_at: Option<Instant>,
    /// In the budget's queue of parked connections.
    queued: bool,
}

impl<M: Serve> AsFd for Registration<'_, M> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Registration::Listener(acceptor) => acceptor.listener.as_fd(),
            Registration::Connection(connection) => connection.message.sock().as_fd(),
        }
    }
}

impl<M: Serve> Handler for Registration<'_, M> {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        match self {
            Registration::Listener(acceptor) => acceptor.accept_wrapper(cx),
            Registration::Connection(connection) if connection.lingering => connection.linger(cx),
            Registration::Connection(connection) => {
                let say = connection.settings.say();
                let next = with_buffers(|bufs| connection.message.process_events(ready, bufs, say))
                    .unwrap_or_else(|reason| {
                        say::error(format_args!("{reason}"));
                        Next::Close
                    });
                connection.apply(next, cx);
            }
        }
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        match self {
            Registration::Connection(connection) => connection.on_deadline(cx),
            Registration::Listener(_) => cx.close(),
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, id: TimerId) {
        if let Registration::Listener(acceptor) = self {
            if acceptor.paused == Some(Pause::FdExhausted(id)) {
                acceptor.resume(cx);
            }
        }
    }
}

impl<'s, M: Serve> Connection<'s, M> {
    fn new(message: M, addr: SocketAddr, settings: &'s Settings<M>) -> Self {
        Connection {
            message,
            addr,
            settings,
            lingering: false,
            request_deadline: None,
            stop_at: None,
            queued: false,
        }
    }

    /// Carries out what the state machine asked for: the interest switch
    /// (and the deadline that now applies), or the close.
    fn apply(&mut self, next: Next, cx: &mut Context<'_, Registration<'s, M>>) {
        match next {
            Next::Wait(interest) => {
                if let Err(e) = cx.set_interest(interest) {
                    say::error(format_args!("{}: {e}", self.message.describe()));
                    cx.close();
                    return;
                }
                if self.message.parked() && !self.queued {
                    with_budget(|budget| budget.park(cx.token()));
                    self.queued = true;
                }
                cx.set_deadline(self.deadline(cx.now()));
            }
            Next::Close => {
                self.settings
                    .say()
                    .event(format_args!("closing connection to {}", Addr(self.addr)));
                self.start_lingering(cx);
            }
        }
    }

    /// The deadline that applies after an event at `now`: while stopping,
    /// the end of the grace period; while parked, none (the wait is the
    /// server's, not the peer's); otherwise the nearer of the idle timeout
    /// and the time the message under way must be complete by.
    fn deadline(&mut self, now: Instant) -> Option<Instant> {
        if self.stop_at.is_some() {
            return self.stop_at;
        }
        if self.message.parked() && self.message.next() == Next::Wait(Interest::NONE) {
            // Waiting only for room: the wait is ours. (A parked connection
            // that still owes answers is timed as any other.)
            self.request_deadline = None;
            return None;
        }
        let idle = self.settings.options.idle_timeout().map(|idle| now + idle);
        self.request_deadline = match (
            M::request_timeout(&self.settings.config),
            self.message.request_under_way(),
        ) {
            (Some(limit), Some(request)) => match self.request_deadline {
                Some((same, at)) if same == request => Some((request, at)),
                _ => Some((request, now + limit)),
            },
            _ => None,
        };
        match (idle, self.request_deadline) {
            (Some(a), Some((_, b))) => Some(a.min(b)),
            (a, b) => a.or(b.map(|(_, at)| at)),
        }
    }

    /// The deadline passed: the grace period of a closing or stopping
    /// connection, a request that took too long, or the idle timeout.
    fn on_deadline(&mut self, cx: &mut Context<'_, Registration<'s, M>>) {
        let addr = Addr(self.addr);
        if self.lingering {
            // It printed its closing line already; its answers are sent.
            cx.close();
            return;
        }
        if self.stop_at.is_some() {
            say::error(format_args!(
                "giving up on the connection to {addr}: its answers were not taken within {} s",
                DRAIN_GRACE.as_secs()
            ));
            cx.close();
            return;
        }
        match (
            self.request_deadline,
            M::request_timeout(&self.settings.config),
        ) {
            (Some((_, at)), Some(limit)) if at <= cx.now() => say::error(format_args!(
                "request from {addr} not complete within {} s; closing the connection",
                limit.as_secs_f64()
            )),
            _ => self
                .settings
                .say()
                .event(format_args!("closing idle connection to {addr}")),
        }
        self.start_lingering(cx);
    }

    /// The close. Closing a socket while the peer may still send turns into
    /// a reset: input that arrives for (or sits unread in) a closed socket
    /// makes the kernel answer RST, and the peer's kernel then throws away
    /// every byte of ours it has not yet handed to the peer, answers
    /// included. So unless the peer has closed its side already (a read
    /// returns EOF), send FIN after the answers (`shutdown(SHUT_WR)`), read
    /// and discard what the peer still sends until its EOF, within the
    /// grace period, and only then close.
    fn start_lingering(&mut self, cx: &mut Context<'_, Registration<'s, M>>) {
        self.message.abandon();
        if self.discard_input() == Discarded::Eof {
            cx.close();
            return;
        }
        self.lingering = true;
        if self.message.sock().shutdown(Shutdown::Write).is_err()
            || cx.set_interest(Interest::READ).is_err()
        {
            cx.close();
            return;
        }
        let grace = cx.now() + DRAIN_GRACE;
        cx.set_deadline(Some(self.stop_at.map_or(grace, |stop| stop.min(grace))));
    }

    /// A lingering connection's event: discard input until the peer's EOF.
    fn linger(&mut self, cx: &mut Context<'_, Registration<'s, M>>) {
        if self.discard_input() == Discarded::Eof {
            cx.close();
        }
    }

    /// Reads and drops what the peer sent (a bounded number of reads per
    /// event: level-triggered, the loop calls again).
    fn discard_input(&mut self) -> Discarded {
        let mut sock = self.message.sock();
        with_buffers(|bufs| {
            for _ in 0..LINGER_READS {
                match sock.read(&mut bufs.scratch) {
                    Ok(0) => return Discarded::Eof,
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // A reset or other error: nothing more can be delivered.
                    Err(_) => return Discarded::Eof,
                }
            }
            Discarded::MoreMayCome
        })
    }
}

/// What [`Connection::discard_input`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discarded {
    /// The peer has not closed its side: more may come, even if nothing
    /// was waiting (it may be in flight).
    MoreMayCome,
    /// The peer closed (or the connection failed).
    Eof,
}

/// At most one accept error line a second for each kind, pauses and skipped
/// connections, across all workers: a flood of failing connects must not
/// flood stderr. (Skips of different errnos share a limiter: the line
/// shows one, and the count the rest.)
static PAUSE_LINES: Mutex<RateLimit> = Mutex::new(RateLimit::new(Duration::from_secs(1)));
static SKIP_LINES: Mutex<RateLimit> = Mutex::new(RateLimit::new(Duration::from_secs(1)));

/// Whether an accept error line may go out now (see [`RateLimit::allow`]).
fn allow(lines: &Mutex<RateLimit>, now: Instant) -> Option<Held> {
    // A worker that panicked holding the lock left a valid count behind.
    lines
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .allow(now)
}

impl<'s, M: Serve> Acceptor<'s, M> {
    /// Accepts what waits in the backlog, registering each new connection.
    fn accept_wrapper(&mut self, cx: &mut Context<'_, Registration<'s, M>>) {
        let settings = self.settings;
        let say = settings.say();
        for _ in 0..ACCEPT_BATCH {
            // One registration is the listener; the rest are connections.
            if cx.registrations() > self.max_connections {
                self.pause(cx, Pause::Full);
                return;
            }
            match self.listener.accept() {
                Ok((sock, addr)) => {
                    say.event(format_args!("accepted connection from {}", Addr(addr)));
                    // An answer written in two pieces must not wait for the
                    // peer's delayed ACK (40 ms on Linux).
                    if let Err(e) = sock.set_nodelay(true) {
                        say::error(format_args!("connection from {}: {e}", Addr(addr)));
                        continue;
                    }
                    let connection =
                        Connection::new(M::accept(sock, addr, &settings.config), addr, settings);
                    // READ: a new connection waits for its peer's first bytes.
                    match cx.register(Registration::Connection(connection), Interest::READ) {
                        Ok(token) => {
                            if let Some(idle) = settings.options.idle_timeout() {
                                cx.set_deadline_of(token, Some(cx.now() + idle));
                            }
                        }
                        Err(e) => say::error(format_args!("connection from {}: {e}", Addr(addr))),
                    }
                }
                Err(e) => match net::accept_error_action(&e) {
                    AcceptAction::Done => return,
                    AcceptAction::Retry => continue,
                    // ECONNABORTED and the like: that connection is gone.
                    AcceptAction::Skip => {
                        if let Some(held) = allow(&SKIP_LINES, cx.now()) {
                            say::error(format_args!("accept: {e}{held}"));
                        }
                    }
                    // Out of descriptors or memory: the connection stays in
                    // the backlog and the listener stays readable, so asking
                    // again now would spin.
                    AcceptAction::Pause => {
                        if let Some(held) = allow(&PAUSE_LINES, cx.now()) {
                            say::error(format_args!(
                                "accept: {e}; pausing the listener for {} ms{held}",
                                FD_EXHAUSTED_PAUSE.as_millis()
                            ));
                        }
                        let timer = cx.add_timer(cx.now() + FD_EXHAUSTED_PAUSE);
                        self.pause(cx, Pause::FdExhausted(timer));
                        return;
                    }
                },
            }
        }
    }

    fn pause(&mut self, cx: &mut Context<'_, Registration<'s, M>>, why: Pause) {
        if cx.set_interest(Interest::NONE).is_ok() {
            self.paused = Some(why);
        }
    }

    fn resume(&mut self, cx: &mut Context<'_, Registration<'s, M>>) {
        if cx.set_interest(Interest::READ).is_ok() {
            self.paused = None;
        }
    }
}

/// Runs a server until SIGINT or SIGTERM: binds HOST:PORT, starts one event
/// loop per worker, prints `listening on ...` once every worker can take
/// signals, and after a signal prints the shutdown line. Returns the exit
/// status.
pub fn serve<M: Serve>(
    host: &str,
    port: u16,
    options: ServerOptions,
    config: M::Config,
) -> ExitCode {
    match start::<M>(host, port, options, config) {
        Ok(()) => {
            say::always(format_args!("caught keyboard interrupt, exiting"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            say::error(format_args!("{e}"));
            ExitCode::FAILURE
        }
    }
}

fn start<M: Serve>(
    host: &str,
    port: u16,
    options: ServerOptions,
    config: M::Config,
) -> io::Result<()> {
    let addr = resolve(host, port).map_err(io::Error::other)?;
    let workers = options.workers.get();
    let max = options.max_connections.get();
    // Room for every connection, the listeners, and the loops' own fds.
    let wanted = (max + 64 * workers) as u64;
    let _ = net::raise_fd_limit(wanted); // best-effort: short of fds, accept pauses
    let settings: Settings<M> = Settings { options, config };
    let listeners = bind_listeners(addr, workers)?;
    let bound = listeners[0].local_addr()?;
    let per_worker = max.div_ceil(workers);

    // Scoped threads: every worker borrows the settings, which are dropped
    // once the last worker has stopped.
    let settings = &settings;
    thread::scope(|scope| {
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut threads = Vec::with_capacity(workers);
        for (i, listener) in listeners.into_iter().enumerate() {
            let ready_tx = ready_tx.clone();
            let thread = thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn_scoped(scope, move || {
                    run_worker(listener, settings, per_worker, ready_tx)
                })
                .unwrap_or_else(|e| fatal(e));
            threads.push(thread);
        }
        drop(ready_tx);
        // Each worker says it is ready (or fails) once: signals are caught
        // from here on, so a test that waits for this line may send SIGINT.
        for _ in 0..workers {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => fatal(e),
                Err(_) => fatal(io::Error::other("a worker thread failed to start")),
            }
        }
        say::always(format_args!("listening on {}", Addr(bound)));
        let mut result = Ok(());
        for thread in threads {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(_) => result = Err(io::Error::other("a worker thread panicked")),
            }
        }
        result
    })
}

/// A worker could not start: the ones already running would wait for a
/// signal forever, so the process ends here.
fn fatal(e: io::Error) -> ! {
    say::error(format_args!("{e}"));
    std::process::exit(1)
}

/// One listener per worker: SO_REUSEPORT on Linux lets the kernel spread
/// connections among them; elsewhere the workers share one listening socket
/// (duplicated descriptors), where SO_REUSEPORT does not balance load.
fn bind_listeners(addr: SocketAddr, workers: usize) -> io::Result<Vec<TcpListener>> {
    let reuse_port = workers > 1 && cfg!(target_os = "linux");
    let options = ListenOptions {
        reuse_port,
        ..ListenOptions::default()
    };
    let first = TcpListener::bind(addr, &options)?;
    // With port 0 the others must join the port the first one got.
    let addr = first.local_addr()?;
    let mut listeners = Vec::with_capacity(workers);
    for _ in 1..workers {
        listeners.push(if reuse_port {
            TcpListener::bind(addr, &options)?
        } else {
            first.try_clone()?
        });
    }
    listeners.insert(0, first);
    Ok(listeners)
}

/// One worker: an event loop with its listener, until a signal drains it.
fn run_worker<M: Serve>(
    listener: TcpListener,
    settings: &Settings<M>,
    max_connections: usize,
    ready: mpsc::Sender<io::Result<()>>,
) -> io::Result<()> {
    let setup = (|| {
        let mut event_loop = EventLoop::new()?;
        event_loop.set_trace(settings.options.trace);
        event_loop.set_busy_poll(Duration::from_micros(settings.options.busy_poll));
        signal::notify(&[Signal::SIGINT, Signal::SIGTERM], &event_loop.waker())?;
        let acceptor = Acceptor {
            listener,
            settings,
            max_connections,
            paused: None,
        };
        let token = event_loop.register(Registration::Listener(acceptor), Interest::READ)?;
        io::Result::Ok((event_loop, token))
    })();
    let (mut event_loop, listener) = match setup {
        Ok(ok) => {
            let _ = ready.send(Ok(()));
            ok
        }
        Err(e) => {
            let _ = ready.send(Err(io::Error::new(e.kind(), e.to_string())));
            return Err(e);
        }
    };
    let workers = settings.options.workers.get();
    let budget = M::max_buffered_bytes(&settings.config) / workers;
    with_budget(|b| b.set_limit(budget));
    loop {
        event_loop.turn(None)?;
        if !signal::pending().is_empty() {
            return drain(&mut event_loop, listener);
        }
        resume_if_room(&mut event_loop, listener, max_connections)?;
        unpark(&mut event_loop);
    }
}

/// A listener paused at `--max-connections` resumes once a connection has
/// closed (checked after each turn: one slot lookup).
fn resume_if_room<M: Serve>(
    event_loop: &mut EventLoop<Registration<'_, M>>,
    listener: Token,
    max_connections: usize,
) -> io::Result<()> {
    if event_loop.registrations() > max_connections {
        return Ok(());
    }
    if let Some(Registration::Listener(acceptor)) = event_loop.get_mut(listener) {
        if acceptor.paused == Some(Pause::Full) {
            acceptor.paused = None;
            event_loop.set_interest(listener, Interest::READ)?;
        }
    }
    Ok(())
}

/// Connections parked for room in the buffer budget are read again, in the
/// order they parked, as far as the room freed this turn goes (checked
/// after each turn; nothing to do in the usual case of no parked one).
fn unpark<M: Serve>(event_loop: &mut EventLoop<Registration<'_, M>>) {
    with_budget(|budget| {
        while let Some(token) = budget.next_parked() {
            // A connection closed while parked has left a stale token.
            let Some(Registration::Connection(connection)) = event_loop.get_mut(token) else {
                continue;
            };
            let Some(next) = connection.message.unpark() else {
                budget.unpark_failed(token);
                return;
            };
            connection.queued = false;
            let deadline = connection.deadline(Instant::now());
            let Next::Wait(interest) = next else {
                event_loop.close(token);
                continue;
            };
            event_loop.set_deadline_of(token, deadline);
            if event_loop.set_interest(token, interest).is_err() {
                event_loop.close(token);
            }
        }
    });
}

/// The graceful stop: no more accepting, every connection finishes the
/// answers it owes, shuts down its side and waits for the peer's EOF, all
/// within one grace period that nothing extends. A second signal stops at
/// once.
fn drain<M: Serve>(
    event_loop: &mut EventLoop<Registration<'_, M>>,
    listener: Token,
) -> io::Result<()> {
    let stop_at = Instant::now() + DRAIN_GRACE;
    event_loop.close(listener);
    event_loop.for_each(|registration, cx| {
        if let Registration::Connection(connection) = registration {
            connection.stop_at = Some(stop_at);
            if connection.lingering {
                cx.set_deadline(Some(stop_at));
            } else {
                let next = connection.message.drain();
                connection.apply(next, cx);
            }
        }
    });
    while !event_loop.is_empty() {
        if signal::received() > 1 {
            say::error(format_args!(
                "a second signal: stopping now, {} connection(s) not finished",
                event_loop.registrations()
            ));
            break;
        }
        event_loop.turn(None)?;
    }
    Ok(())
}
