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
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
