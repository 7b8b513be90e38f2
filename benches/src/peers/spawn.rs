//! Starting a server process for a benchmark: spawn it, wait (bounded) for
//! its `listening on ('127.0.0.1', PORT)` line, and kill it when done.

use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a server may take to print its `listening on` line.
const STARTUP: Duration = Duration::from_secs(10);

/// A running server process, killed on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Runs `program args...` and waits for its `listening on` line.
    pub fn spawn(program: &Path, args: &[&str]) -> io::Result<Server> {
        Server::spawn_on(program, args, None)
    }

    /// [`Server::spawn`], the process pinned to CPU `cpu` if given (Linux),
    /// so the server and a client pinned elsewhere do not share a core.
    pub fn spawn_on(program: &Path, args: &[&str], cpu: Option<usize>) -> io::Result<Server> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        #[cfg(target_os = "linux")]
        if let Some(cpu) = cpu {
            use std::os::unix::process::CommandExt;
            // SAFETY: the closure runs in the forked child before exec and
            // only makes one async-signal-safe syscall on its own memory.
            unsafe {
                command.pre_exec(move || pin_to_cpu(cpu));
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = cpu;
        let mut child = command
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", program.display())))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads the first line for us, then keeps draining stdout so the
        // server never blocks on (or dies of) a full or closed pipe.
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(STARTUP) {
            Ok(Some(Ok(line))) => line,
            Ok(_) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "{}: no `listening on` line within {STARTUP:?}",
                    program.display()
                )));
            }
        };
        match parse_listening(&line) {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!(
                    "{}: unexpected first line {line:?}",
                    program.display()
                )))
            }
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id (for `/proc/PID/stat`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `"running"`, or how the process ended (to explain a refused
    /// connection: a crash, or a signal from someone else's cleanup).
    pub fn status(&mut self) -> String {
        match self.child.try_wait() {
            Ok(None) => "running".into(),
            Ok(Some(status)) => status.to_string(),
            Err(e) => format!("unknown ({e})"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pins the calling thread (or, before exec, the process) to CPU `cpu`.
#[cfg(target_os = "linux")]
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes inside `set` (it checks `cpu` against its size).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes; pid 0 is the caller.
    if unsafe { libc::sched_setaffinity(0, size, &set) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// With `BENCH_PIN_CPUS=1` in the environment and at least two CPUs:
/// pins the calling thread (the client) to CPU 0 and returns 1, the CPU
/// for the servers. Otherwise `None`: nothing pinned, the default, because
/// on a machine shared with other jobs a pinned side must wait for its one
/// core while a job runs there, where unpinned it can move.
pub fn split_cpus() -> Option<usize> {
    if std::env::var_os("BENCH_PIN_CPUS").is_none_or(|v| v != "1") {
        return None;
    }
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    #[cfg(target_os = "linux")]
    if cpus >= 2 && pin_to_cpu(0).is_ok() {
        return Some(1);
    }
    let _ = cpus;
    None
}

/// The address in `listening on ('127.0.0.1', 65432)` or
/// `listening on ('::1', 65432, 0, 0)`.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let tuple = line.strip_prefix("listening on (")?.strip_suffix(')')?;
    let mut fields = tuple.split(", ");
    let host = fields.next()?.strip_prefix('\'')?.strip_suffix('\'')?;
    let port = fields.next()?.parse().ok()?;
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// One of the workspace's built programs (`echo-server`, `app-server`):
/// next to the running benchmark's own profile directory, else in
/// `target/release`. Build them first: `cargo build --release -p sockets`.
pub fn workspace_program(name: &str) -> io::Result<PathBuf> {
    let mut candidates = Vec::new();
    // A bench runs from target/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(profile_dir) = exe.parent().and_then(Path::parent) {
            candidates.push(profile_dir.join(name));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    candidates.push(target.join("release").join(name));
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .ok_or_else(|| {
            io::Error::other(format!(
                "{name} not found: run `cargo build --release -p sockets` first"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::parse_listening;

    #[test]
    fn parses_both_address_layouts() {
        assert_eq!(
            parse_listening("listening on ('127.0.0.1', 65432)"),
            Some("127.0.0.1:65432".parse().unwrap())
        );
        assert_eq!(
            parse_listening("listening on ('::1', 8080, 0, 0)"),
            Some("[::1]:8080".parse().unwrap())
        );
        assert_eq!(parse_listening("accepted connection from ..."), None);
    }
}
