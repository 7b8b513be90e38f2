//! Every transcript quoted in README.md and docs/*.md, run and compared line
//! by line with what the programs print today, so the docs cannot drift.
//!
//! Each transcript (a fenced block with no language) is preceded by
//! `<!-- transcript: NAME -->`, and NAME is a scenario below: the commands
//! the doc shows (each must appear in the doc's section, up to the block),
//! how to run them, and the ways a run may differ that the doc's text names
//! (two messages read at once or one by one). The commands run as the doc
//! spells them, through bash, with `target/release/` standing for this
//! build's programs and examples (`cargo build --workspace --examples`, as
//! scripts/test.sh does, builds the examples), servers on port 0 instead of
//! 65432, and clients on the port the server got. The output is stdout and
//! stderr together, as a terminal shows it; ports and descriptor numbers
//! are mapped onto the doc's in the order they first appear (see
//! `common/docs.rs`).
//!
//! Every wait is bounded ([`WAIT`]), and nothing sleeps to let things
//! settle: each step waits for the line that shows the one before it is
//! done, and a server gets its Ctrl-C (SIGINT) once it has printed what the
//! doc shows before it and waits for events.
#![cfg(target_os = "linux")]

mod common;
#[path = "common/docs.rs"]
mod docs;

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{closed_port, parse_listening, wait_exit, Lines, Signal, SHUTDOWN_LINE, WAIT};
use docs::{all_blocks, compare, forms, repo_root, Block, Variant};

// ---------------------------------------------------------------------------
// The commands, as the docs spell them

const EXAMPLE_SERVER: &str = "target/release/examples/echo_server 127.0.0.1 65432 --trace";
const CONNECT_EXAMPLE: &str = "target/release/examples/connect 127.0.0.1 65432";
const ECHO_SERVER: &str = "target/release/echo-server 127.0.0.1 65432";
const ECHO_SERVER_TRACE: &str = "target/release/echo-server 127.0.0.1 65432 --trace";
const ECHO_SERVER_IDLE: &str =
    "target/release/echo-server 127.0.0.1 65432 --idle-timeout 1 --trace";
const ECHO_SERVER_LOGGED: &str =
    "target/release/echo-server 127.0.0.1 65432 -q --trace > server.log";
const APP_SERVER: &str = "target/release/app-server 127.0.0.1 65432";
const APP_SERVER_REQUEST_TIMEOUT: &str =
    "target/release/app-server 127.0.0.1 65432 --request-timeout 1";
const APP_SERVER_TRACE: &str = "target/release/app-server 127.0.0.1 65432 --trace";
const APP_SERVER_FEW_FDS: &str =
    "bash -c 'ulimit -n 10 && exec target/release/app-server 127.0.0.1 65432 --trace'";
const MULTICONN: &str = "target/release/multiconn-client 127.0.0.1 65432 1";
const MULTICONN_TRACE: &str = "target/release/multiconn-client 127.0.0.1 65432 1 --trace";
const APP_CLIENT: &str = "target/release/app-client 127.0.0.1 65432 search morpheus";
const APP_CLIENT_TRACE: &str = "target/release/app-client 127.0.0.1 65432 search morpheus --trace";
const APP_CLIENT_BINARY: &str = "target/release/app-client 127.0.0.1 65432 hello world";
const APP_CLIENT_REPEAT: &str = "target/release/app-client 127.0.0.1 65432 search ring --repeat 3";
const SILENT_CLIENT: &str = "python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', 65432)); print(s.recv(10))\"";
const SIX_CLIENTS: &str = "python3 -c \"import socket, time; s = [socket.create_connection(('127.0.0.1', 65432)) for _ in range(6)]; time.sleep(0.35)\"";
const TRICKLING_CLIENT: &str = "python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', 65432)); s.sendall(b'\\x00g{'); print(s.recv(10))\"";
const BAD_HEADER_CLIENT: &str = "python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', 65432)); s.sendall(b'\\x00\\x02[]'); print(s.recv(10))\"";
const SLOW_READER: &str = "python3 docs/slow_reader.py echo 127.0.0.1 65432";
const GREP_SWITCH: &str = "grep -m1 -B3 -A3 interest=WRITE server.log";

/// The port the docs use.
const DOC_PORT: &str = "65432";

// ---------------------------------------------------------------------------
// The scenarios

/// What produces one transcript.
struct Scenario {
    name: &'static str,
    /// The commands as the doc shows them, in the order they run.
    commands: &'static [&'static str],
    /// Runs them; returns the lines the transcript shows.
    run: fn(&Run) -> Vec<String>,
    /// The ways a run may differ that the doc names.
    variants: &'static [Variant],
    /// The doc shows how the output begins, not all of it.
    prefix: bool,
    /// Lines dropped from both the doc's transcript and the run before they
    /// are compared (what the doc says may or may not be there).
    ignore: fn(&str, usize, &[String]) -> bool,
}

/// The commonest run: the server (command 0), one client (command 1) to
/// its end, the server's unregister line for that connection, then SIGINT.
/// Returns what the client printed and what the server printed.
fn one_client(run: &Run) -> (Vec<String>, Vec<String>) {
    let mut server = run.server(run.commands[0]);
    let client = run.client(run.commands[1], server.port);
    server.wait_for("the connection's unregister line", |l| {
        count(l, "unregister fd=") >= 1
    });
    (client, server.interrupt())
}

const fn scenario(
    name: &'static str,
    commands: &'static [&'static str],
    run: fn(&Run) -> Vec<String>,
) -> Scenario {
    Scenario {
        name,
        commands,
        run,
        variants: &[],
        prefix: false,
        ignore: |_, _, _| false,
    }
}

/// The echo of both messages, read in one piece or in two.
const RECEIVED_IN_TWO: Variant = Variant {
    why: "the two echoes may come back in two reads",
    from: &["received b'Message 1 from client.Message 2 from client.' from connection 1"],
    to: &[
        "received b'Message 1 from client.' from connection 1",
        "received b'Message 2 from client.' from connection 1",
    ],
};

static SCENARIOS: &[Scenario] = &[
    // docs/tutorial.md, 1: the example server and the client.
    Scenario {
        variants: &[RECEIVED_IN_TWO],
        ..scenario("example-client", &[EXAMPLE_SERVER, MULTICONN], |run| {
            one_client(run).0
        })
    },
    Scenario {
        variants: &[Variant {
            why: "when both messages arrive in one read there is one round trip through WRITE",
            from: &[
                "ready fd=6 READ",
                "modify fd=6 interest=WRITE",
                "ready fd=6 WRITE",
                "modify fd=6 interest=READ",
                "ready fd=6 READ",
                "modify fd=6 interest=WRITE",
                "ready fd=6 WRITE",
                "modify fd=6 interest=READ",
            ],
            to: &[
                "ready fd=6 READ",
                "modify fd=6 interest=WRITE",
                "ready fd=6 WRITE",
                "modify fd=6 interest=READ",
            ],
        }],
        ..scenario(
            "example-server-trace",
            &[EXAMPLE_SERVER, MULTICONN],
            |run| one_client(run).1,
        )
    },
    // 2: echo-server and the client, both traced.
    Scenario {
        variants: &[Variant {
            why: "the two messages may arrive in two reads",
            from: &[
                "ready fd=6 READ",
                "echoing b'Message 1 from client.Message 2 from client.' to ('127.0.0.1', 54406)",
            ],
            to: &[
                "ready fd=6 READ",
                "echoing b'Message 1 from client.' to ('127.0.0.1', 54406)",
                "ready fd=6 READ",
                "echoing b'Message 2 from client.' to ('127.0.0.1', 54406)",
            ],
        }],
        ..scenario(
            "echo-server-trace",
            &[ECHO_SERVER_TRACE, MULTICONN_TRACE],
            |run| one_client(run).1,
        )
    },
    // 3: the client's half of that run.
    Scenario {
        variants: &[
            Variant {
                why: "the echo may come back in two reads",
                from: &[
                    "ready fd=5 READ",
                    "received b'Message 1 from client.Message 2 from client.' from connection 1",
                ],
                to: &[
                    "ready fd=5 READ",
                    "received b'Message 1 from client.' from connection 1",
                    "ready fd=5 READ",
                    "received b'Message 2 from client.' from connection 1",
                ],
            },
            Variant {
                why: "the first echo may be back before message 2 goes out, and the second with it",
                from: &[
                    "ready fd=5 WRITE",
                    "sending b'Message 2 from client.' to connection 1",
                    "modify fd=5 interest=READ",
                    "ready fd=5 READ",
                    "received b'Message 1 from client.Message 2 from client.' from connection 1",
                ],
                to: &[
                    "ready fd=5 READ|WRITE",
                    "sending b'Message 2 from client.' to connection 1",
                    "received b'Message 1 from client.Message 2 from client.' from connection 1",
                ],
            },
            Variant {
                why: "the first echo may be back before message 2 goes out, and the second later",
                from: &[
                    "ready fd=5 WRITE",
                    "sending b'Message 2 from client.' to connection 1",
                    "modify fd=5 interest=READ",
                    "ready fd=5 READ",
                    "received b'Message 1 from client.Message 2 from client.' from connection 1",
                ],
                to: &[
                    "ready fd=5 READ|WRITE",
                    "sending b'Message 2 from client.' to connection 1",
                    "received b'Message 1 from client.' from connection 1",
                    "modify fd=5 interest=READ",
                    "ready fd=5 READ",
                    "received b'Message 2 from client.' from connection 1",
                ],
            },
        ],
        ..scenario(
            "multiconn-client-trace",
            &[ECHO_SERVER_TRACE, MULTICONN_TRACE],
            |run| {
                let mut server = run.server(run.commands[0]);
                let out = run.client(run.commands[1], server.port);
                server.interrupt();
                out
            },
        )
    },
    scenario("multiconn-client-refused", &[MULTICONN], |run| {
        let (out, statuses) = run.session(run.commands, closed_port());
        assert_eq!(statuses[0].code(), Some(1), "exit status 1: {out:#?}");
        out
    }),
    scenario("connect-example", &[ECHO_SERVER, CONNECT_EXAMPLE], |run| {
        let mut server = run.server(run.commands[0]);
        let (out, statuses) = run.session(&run.commands[1..], server.port);
        assert!(statuses[0].success(), "{out:#?}");
        server.interrupt();
        out
    }),
    scenario("connect-example-refused", &[CONNECT_EXAMPLE], |run| {
        let (out, statuses) = run.session(run.commands, closed_port());
        assert_eq!(statuses[0].code(), Some(1), "exit status 1: {out:#?}");
        out
    }),
    // 5: the app server and client.
    scenario(
        "app-client-trace",
        &[APP_SERVER_TRACE, APP_CLIENT_TRACE],
        |run| {
            let mut server = run.server(run.commands[0]);
            let out = run.client(run.commands[1], server.port);
            server.interrupt();
            out
        },
    ),
    scenario(
        "app-server-trace",
        &[APP_SERVER_TRACE, APP_CLIENT_TRACE, APP_CLIENT_BINARY],
        |run| {
            let mut server = run.server(run.commands[0]);
            for (i, client) in run.commands[1..].iter().enumerate() {
                run.client(client, server.port);
                // The connection closed before the next one comes.
                server.wait_for("the connection's unregister line", |l| {
                    count(l, "unregister fd=") > i
                });
            }
            server.interrupt()
        },
    ),
    scenario(
        "app-client-binary",
        &[APP_SERVER_TRACE, APP_CLIENT_BINARY],
        |run| {
            let mut server = run.server(run.commands[0]);
            let out = run.client(run.commands[1], server.port);
            server.interrupt();
            out
        },
    ),
    // 7: the interest switch, with a peer that reads late.
    scenario(
        "echo-server-switch",
        &[ECHO_SERVER_LOGGED, SLOW_READER, GREP_SWITCH],
        |run| {
            let mut server = run.server_logged(run.commands[0], "server.log");
            let reader = run.client(run.commands[1], server.port);
            assert_eq!(reader, ["echo: got all 8000000 bytes back"]);
            server.interrupt();
            let (out, statuses) = run.session(&run.commands[2..], server.port);
            assert!(statuses[0].success(), "{out:#?}");
            out
        },
    ),
    // The gaps of the Python version.
    scenario(
        "echo-server-idle-timeout",
        &[ECHO_SERVER_IDLE, SILENT_CLIENT],
        |run| {
            let (client, server) = one_client(run);
            assert_eq!(client, ["b''"], "an orderly close");
            server
        },
    ),
    Scenario {
        prefix: true,
        // One readable event may serve several accepts: the doc says so.
        ignore: |line, i, all| {
            line == "ready fd=3 READ" && !all[..i].iter().any(|l| l == "pause fd=3")
        },
        ..scenario(
            "app-server-out-of-fds",
            &[APP_SERVER_FEW_FDS, SIX_CLIENTS],
            |run| {
                let mut server = run.server(run.commands[0]);
                let out = run.client(run.commands[1], server.port);
                assert!(out.is_empty(), "{out:#?}");
                // All six served and closed: the four and the two that waited.
                server.wait_for("six closed connections", |l| {
                    count(l, "closing connection to ") >= 6
                });
                server.interrupt()
            },
        )
    },
    scenario(
        "app-client-repeat",
        &[APP_SERVER, APP_CLIENT_REPEAT],
        |run| {
            let mut server = run.server(run.commands[0]);
            let (out, statuses) = run.session(&run.commands[1..], server.port);
            assert!(statuses[0].success(), "{out:#?}");
            server.interrupt();
            out
        },
    ),
    scenario(
        "app-server-sigint",
        &[APP_SERVER_TRACE, SILENT_CLIENT],
        |run| {
            let mut server = run.server(run.commands[0]);
            let mut client = run.start(run.commands[1], server.port);
            server.wait_for("the connection's register line", |l| {
                count(l, "register fd=") >= 2
            });
            let lines = server.interrupt();
            let (status, out) = client.finish();
            assert!(status.success(), "{out:#?}");
            assert_eq!(out, ["b''"], "an orderly close, not a reset");
            lines
        },
    ),
    // docs/protocol.md
    scenario(
        "protocol-search-morpheus",
        &[APP_SERVER, APP_CLIENT],
        |run| {
            let mut server = run.server(run.commands[0]);
            let (out, statuses) = run.session(&run.commands[1..], server.port);
            assert!(statuses[0].success(), "{out:#?}");
            let served = server.interrupt();
            // The bytes both ways are the golden vector's.
            let morpheus = common::vector("search-morpheus");
            assert_eq!(sent_bytes(&out), [morpheus.request], "the request");
            assert_eq!(sent_bytes(&served), [morpheus.response], "the answer");
            out
        },
    ),
    scenario(
        "protocol-framing-error",
        &[APP_SERVER, BAD_HEADER_CLIENT],
        |run| {
            let mut server = run.server(run.commands[0]);
            let client = run.client(run.commands[1], server.port);
            assert_eq!(client, ["b''"], "an orderly close");
            server.interrupt()
        },
    ),
    // docs/cli.md
    scenario(
        "cli-usage-error",
        &[
            "target/release/app-client 127.0.0.1 notaport search morpheus",
            "echo $?",
        ],
        |run| run.session(run.commands, 0).0,
    ),
    Scenario {
        variants: &[Variant {
            why: "the two messages may arrive in two reads",
            from: &[
                "echoing b'Message 1 from client.Message 2 from client.' to ('127.0.0.1', 61354)",
            ],
            to: &[
                "echoing b'Message 1 from client.' to ('127.0.0.1', 61354)",
                "echoing b'Message 2 from client.' to ('127.0.0.1', 61354)",
            ],
        }],
        ..scenario("cli-echo-server", &[MULTICONN, ECHO_SERVER], |run| {
            let mut server = run.server(run.commands[1]);
            run.client(run.commands[0], server.port);
            server.wait_for("the closing line", |l| {
                count(l, "closing connection to ") >= 1
            });
            server.interrupt()
        })
    },
    scenario(
        "cli-app-server",
        &[APP_CLIENT, APP_CLIENT_BINARY, APP_SERVER],
        |run| {
            let mut server = run.server(run.commands[2]);
            for (i, client) in run.commands[..2].iter().enumerate() {
                run.client(client, server.port);
                server.wait_for("the closing line", |l| {
                    count(l, "closing connection to ") > i
                });
            }
            server.interrupt()
        },
    ),
    scenario(
        "cli-request-timeout",
        &[APP_SERVER_REQUEST_TIMEOUT, TRICKLING_CLIENT],
        |run| {
            let mut server = run.server(run.commands[0]);
            let client = run.client(run.commands[1], server.port);
            assert_eq!(client, ["b''"], "an orderly close");
            server.interrupt()
        },
    ),
    scenario(
        "cli-multiconn-client-refused",
        &[
            "target/release/multiconn-client 127.0.0.1 65432 2",
            "echo $?",
        ],
        |run| run.session(run.commands, closed_port()).0,
    ),
    scenario(
        "cli-app-client",
        &[
            APP_SERVER,
            APP_CLIENT_BINARY,
            "target/release/app-client 127.0.0.1 65432 search nope -q",
            "target/release/app-client 127.0.0.1 65432 search ring --repeat 2 -q",
        ],
        |run| {
            let mut server = run.server(run.commands[0]);
            let (out, statuses) = run.session(&run.commands[1..], server.port);
            assert!(statuses.iter().all(ExitStatus::success), "{out:#?}");
            server.interrupt();
            out
        },
    ),
    scenario("cli-app-client-refused", &[APP_CLIENT, "echo $?"], |run| {
        run.session(run.commands, closed_port()).0
    }),
    scenario(
        "cli-loadgen-refused",
        &[
            "target/release/loadgen echo --addr 127.0.0.1:65432 --conns 1",
            "echo $?",
        ],
        |run| run.session(run.commands, closed_port()).0,
    ),
    scenario(
        "cli-help-echo-server",
        &["target/release/echo-server --help"],
        help,
    ),
    scenario(
        "cli-help-app-server",
        &["target/release/app-server --help"],
        help,
    ),
    scenario(
        "cli-help-multiconn-client",
        &["target/release/multiconn-client --help"],
        help,
    ),
    scenario(
        "cli-help-app-client",
        &["target/release/app-client --help"],
        help,
    ),
    scenario("cli-help-loadgen", &["target/release/loadgen --help"], help),
];

/// `$ PROGRAM --help` and what it prints (status 0).
fn help(run: &Run) -> Vec<String> {
    let (out, statuses) = run.session(run.commands, 0);
    assert!(statuses[0].success(), "{out:#?}");
    out
}

/// The bytes of every `sending b'...' to ...` line.
fn sent_bytes(lines: &[String]) -> Vec<Vec<u8>> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("sending "))
        .map(|l| common::parse_py_bytes(&l[..l.rfind(" to ").expect("` to ADDR`")]))
        .collect()
}

/// How many lines start with `prefix`.
fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

// ---------------------------------------------------------------------------
// Running the doc's commands

/// Where a scenario runs: its commands, and a scratch directory as the
/// working directory (for `> server.log`).
struct Run {
    commands: &'static [&'static str],
    dir: PathBuf,
}

/// `target/<profile>`, where this build's programs are.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_app-server"))
        .parent()
        .expect("the programs' directory")
        .to_path_buf()
}

/// A command as the docs spell it, made runnable here.
fn real(doc: &str, port: u16) -> String {
    let bins = bin_dir();
    let examples = bins.join("examples");
    let root = repo_root();
    for path in [&bins, &root] {
        let text = path.to_string_lossy();
        assert!(
            !text.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)),
            "a path the shell would split: {text}"
        );
    }
    if let Some(at) = doc.find("target/release/examples/") {
        let name = doc[at + "target/release/examples/".len()..]
            .split(' ')
            .next()
            .expect("an example's name");
        let path = examples.join(name);
        assert!(
            path.is_file(),
            "the example `{name}` is not built at {path:?}: run `cargo build --workspace --examples` \
             (scripts/test.sh does) before these tests"
        );
    }
    doc.replace(DOC_PORT, &port.to_string())
        .replace("target/release/", &format!("{}/", bins.display()))
        .replace(" docs/", &format!(" {}/docs/", root.display()))
}

/// The descriptors this test process inherited (a jobserver's pipe, a
/// terminal's extra fds) are not passed on: the programs start, as in a
/// fresh terminal, with 0, 1 and 2 only, so their fd numbers are the doc's.
fn close_inherited_fds_on_exec() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .expect("read /proc/self/fd")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|fd| *fd > 2)
            .collect();
        for fd in fds {
            // SAFETY: F_SETFD only sets a flag of the descriptor; one that
            // is closed by now (the directory read above) just fails.
            unsafe {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    });
}

impl Run {
    /// Starts a doc command through bash, stdout and stderr into one pipe.
    fn start(&self, doc: &str, port: u16) -> Program {
        close_inherited_fds_on_exec();
        let script = format!("exec 2>&1\nexec {}", real(doc, port));
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn bash for `{doc}`: {e}"));
        let out = Lines::collect(child.stdout.take().expect("stdout"));
        Program {
            doc: doc.to_string(),
            child,
            out,
            port: 0,
            log: None,
        }
    }

    /// Starts a server command (on port 0) and waits for its `listening on`
    /// line.
    fn server(&self, doc: &str) -> Program {
        let mut server = self.start(doc, 0);
        let lines = server.wait_for("the `listening on` line", |l| {
            l.iter().any(|l| l.starts_with("listening on "))
        });
        let line = lines
            .iter()
            .find(|l| l.starts_with("listening on "))
            .expect("found above");
        server.port = parse_listening(line)
            .unwrap_or_else(|| panic!("not a `listening on` line: {line}"))
            .port();
        server
    }

    /// Starts a server whose doc command sends its output to `log`, and
    /// waits (bounded) for the `listening on` line there.
    fn server_logged(&self, doc: &str, log: &str) -> Program {
        let mut server = self.start(doc, 0);
        let path = self.dir.join(log);
        let deadline = Instant::now() + WAIT;
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.starts_with("listening on ")) {
                if let Some(addr) = parse_listening(line) {
                    server.port = addr.port();
                    server.log = Some(path);
                    return server;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no `listening on` line in {path:?} within {WAIT:?}: {text:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs a client command to completion; fails unless it exits 0.
    fn client(&self, doc: &str, port: u16) -> Vec<String> {
        let (status, out) = self.start(doc, port).finish();
        assert!(status.success(), "`{doc}` exited with {status}: {out:#?}");
        out
    }

    /// Runs commands one after the other as a terminal session shows them:
    /// each `$ COMMAND` line, then its output. `echo $?` prints the status
    /// of the command before it.
    fn session(&self, commands: &[&str], port: u16) -> (Vec<String>, Vec<ExitStatus>) {
        let mut out = Vec::new();
        let mut statuses = Vec::new();
        for doc in commands {
            // As the reader's session would show it, with the port used.
            out.push(format!("$ {}", doc.replace(DOC_PORT, &port.to_string())));
            if *doc == "echo $?" {
                let last: &ExitStatus = statuses.last().expect("a command before `echo $?`");
                out.push(last.code().expect("exited, not killed").to_string());
                continue;
            }
            let (status, lines) = self.start(doc, port).finish();
            out.extend(lines);
            statuses.push(status);
        }
        (out, statuses)
    }
}

/// A running doc command; killed on drop if it is still running.
struct Program {
    doc: String,
    child: Child,
    out: Lines,
    /// The port it listens on, for a server.
    port: u16,
    /// The file its doc command sends its stdout to, if any.
    log: Option<PathBuf>,
}

impl Program {
    /// Waits (bounded) until `done` holds for the output so far.
    fn wait_for(&self, what: &str, done: impl FnMut(&[String]) -> bool) -> Vec<String> {
        let (lines, ok) = self.out.wait_until(WAIT, done);
        assert!(
            ok,
            "`{}`: no {what} within {WAIT:?}; output: {lines:#?}",
            self.doc
        );
        lines
    }

    /// Waits (bounded) for it to exit; its status and whole output.
    fn finish(&mut self) -> (ExitStatus, Vec<String>) {
        let status = wait_exit(&mut self.child, WAIT * 2);
        (status, self.out.wait_closed(WAIT))
    }

    /// Waits (bounded) until every thread of it sleeps: the server waits
    /// in `select` for its next event, as it does when a reader presses
    /// Ctrl-C. (A signal that lands while the loop is busy is seen after
    /// that turn, before the waker's event, and `woken` comes later.)
    fn wait_idle(&self) {
        let tasks = format!("/proc/{}/task", self.child.id());
        let deadline = Instant::now() + WAIT;
        loop {
            let states: Vec<String> = std::fs::read_dir(&tasks)
                .map(|dir| {
                    dir.filter_map(|task| {
                        let stat = std::fs::read_to_string(task.ok()?.path().join("stat")).ok()?;
                        // The state follows the command name's `)`.
                        Some(
                            stat[stat.rfind(')')? + 1..]
                                .trim_start()
                                .chars()
                                .next()?
                                .to_string(),
                        )
                    })
                    .collect()
                })
                .unwrap_or_default();
            if !states.is_empty() && states.iter().all(|s| s == "S") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{}` still busy after {WAIT:?}: thread states {states:?}",
                self.doc
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Ctrl-C once it waits for events: SIGINT, then the exit (status 0,
    /// the shutdown line last). Returns the output (what went to the log,
    /// if it has one).
    fn interrupt(&mut self) -> Vec<String> {
        self.wait_idle();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            Signal::SIGINT,
        )
        .expect("SIGINT");
        let (status, mut lines) = self.finish();
        if let Some(log) = &self.log {
            assert!(lines.is_empty(), "`{}`: {lines:#?}", self.doc);
            let text = std::fs::read_to_string(log).expect("read the log");
            lines = text.lines().map(str::to_string).collect();
        }
        assert!(
            status.success(),
            "`{}` exited with {status}: {lines:#?}",
            self.doc
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some(SHUTDOWN_LINE),
            "`{}`: {lines:#?}",
            self.doc
        );
        lines
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Checking

/// A fresh scratch directory for one scenario.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("transcripts")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

fn find(name: &str) -> &'static Scenario {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario `{name}`"))
}

/// Runs the scenario and compares its output with every transcript that
/// names it.
fn check(name: &str) {
    let scenario = find(name);
    let blocks: Vec<Block> = all_blocks()
        .into_iter()
        .filter(|b| b.name.as_deref() == Some(name))
        .collect();
    assert!(
        !blocks.is_empty(),
        "no transcript in the docs is marked `<!-- transcript: {name} -->`"
    );
    for block in &blocks {
        for command in scenario.commands {
            assert!(
                block.shows(command),
                "{}: the transcript `{name}` is made by `{command}`, which its section no \
                 longer shows before it",
                block.place()
            );
        }
    }
    let run = Run {
        commands: scenario.commands,
        dir: scratch(name),
    };
    let actual = keep(scenario, &(scenario.run)(&run));
    for block in &blocks {
        let doc = keep(scenario, &block.lines);
        let forms = forms(&doc, scenario.variants)
            .unwrap_or_else(|e| panic!("{}: `{name}`: {e}", block.place()));
        if let Err(e) = compare(&actual, &forms, scenario.prefix) {
            panic!(
                "{}: the transcript `{name}` has drifted: {e}",
                block.place()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&run.dir);
}

/// The lines the scenario compares, without trailing blanks (a terminal
/// does not show them, and editors strip them).
fn keep(scenario: &Scenario, lines: &[String]) -> Vec<String> {
    let lines: Vec<String> = lines.iter().map(|l| l.trim_end().to_string()).collect();
    lines
        .iter()
        .enumerate()
        .filter(|(i, line)| !(scenario.ignore)(line, *i, &lines))
        .map(|(_, line)| line.clone())
        .collect()
}

macro_rules! transcripts {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*
        /// The scenarios that have a test.
        const TESTED: &[&str] = &[$($name),*];
    };
}

transcripts! {
    tutorial_example_client => "example-client",
    tutorial_example_server_trace => "example-server-trace",
    tutorial_echo_server_trace => "echo-server-trace",
    tutorial_multiconn_client_trace => "multiconn-client-trace",
    tutorial_multiconn_client_refused => "multiconn-client-refused",
    tutorial_connect_example => "connect-example",
    tutorial_connect_example_refused => "connect-example-refused",
    tutorial_app_client_trace => "app-client-trace",
    tutorial_app_server_trace => "app-server-trace",
    tutorial_app_client_binary => "app-client-binary",
    tutorial_echo_server_switch => "echo-server-switch",
    tutorial_echo_server_idle_timeout => "echo-server-idle-timeout",
    tutorial_app_server_out_of_fds => "app-server-out-of-fds",
    tutorial_app_client_repeat => "app-client-repeat",
    tutorial_app_server_sigint => "app-server-sigint",
    protocol_search_morpheus => "protocol-search-morpheus",
    protocol_framing_error => "protocol-framing-error",
    cli_usage_error => "cli-usage-error",
    cli_echo_server => "cli-echo-server",
    cli_app_server => "cli-app-server",
    cli_request_timeout => "cli-request-timeout",
    cli_multiconn_client_refused => "cli-multiconn-client-refused",
    cli_app_client => "cli-app-client",
    cli_app_client_refused => "cli-app-client-refused",
    cli_loadgen_refused => "cli-loadgen-refused",
    cli_help_echo_server => "cli-help-echo-server",
    cli_help_app_server => "cli-help-app-server",
    cli_help_multiconn_client => "cli-help-multiconn-client",
    cli_help_app_client => "cli-help-app-client",
    cli_help_loadgen => "cli-help-loadgen",
}

/// Every transcript in the docs names a scenario, every scenario has a test
/// and a transcript, and no code block in a language claims to be one.
#[test]
fn every_transcript_has_a_scenario_and_every_scenario_a_transcript() {
    let blocks = all_blocks();
    let mut wrong = Vec::new();
    let mut named = BTreeSet::new();
    for block in &blocks {
        match (&block.name, block.is_transcript()) {
            (None, true) => wrong.push(format!(
                "{}: a transcript without a `<!-- transcript: NAME -->` line before it",
                block.place()
            )),
            (Some(name), false) => wrong.push(format!(
                "{}: `{name}` marks a ```{} block, which is code, not a transcript",
                block.place(),
                block.info
            )),
            (Some(name), true) => {
                if !SCENARIOS.iter().any(|s| s.name == name) {
                    wrong.push(format!("{}: no scenario `{name}`", block.place()));
                }
                named.insert(name.clone());
            }
            (None, false) => {}
        }
    }
    for scenario in SCENARIOS {
        if !named.contains(scenario.name) {
            wrong.push(format!("no transcript is marked `{}`", scenario.name));
        }
        if !TESTED.contains(&scenario.name) {
            wrong.push(format!("the scenario `{}` has no test", scenario.name));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn renumbering_maps_numbers_by_first_appearance() {
    let s = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let doc = s(&[
        "accepted connection from ('127.0.0.1', 54420)",
        "register fd=6 interest=READ",
        "unregister fd=6",
        "accepted connection from ('127.0.0.1', 54426)",
        "register fd=6 interest=READ",
    ]);
    let run = s(&[
        "accepted connection from ('127.0.0.1', 40001)",
        "register fd=9 interest=READ",
        "unregister fd=9",
        "accepted connection from ('127.0.0.1', 40002)",
        "register fd=9 interest=READ",
    ]);
    assert_eq!(docs::renumber(&run, &doc), doc);
    // A new descriptor where the doc reuses one does not match.
    let mut other = run.clone();
    other[4] = "register fd=10 interest=READ".into();
    assert_ne!(docs::renumber(&other, &doc), doc);
    assert!(compare(&other, std::slice::from_ref(&doc), false).is_err());
    assert!(compare(&run, &[doc], false).is_ok());
}

#[test]
fn variants_apply_anywhere_and_must_match_the_doc() {
    let s = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let doc = s(&["a", "b", "c", "b"]);
    let v = Variant {
        why: "b may be two lines",
        from: &["b"],
        to: &["b1", "b2"],
    };
    let all = forms(&doc, &[v]).expect("b is in the doc");
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(all.contains(&s(&["a", "b1", "b2", "c", "b1", "b2"])));
    let gone = Variant {
        why: "x",
        from: &["x"],
        to: &[],
    };
    assert!(forms(&doc, &[gone]).is_err());
}

/// Whatever this test process holds open (a file of its own here, and
/// whatever it inherited), the programs start with 0, 1 and 2 only, so
/// their descriptor numbers are those of a fresh terminal.
#[test]
fn programs_inherit_only_stdin_stdout_and_stderr() {
    let run = Run {
        commands: &[],
        dir: scratch("inherit"),
    };
    let held = std::fs::File::open("/dev/null").expect("open /dev/null");
    assert!(held.as_raw_fd() > 2);
    let (status, out) = run.start("ls /proc/self/fd", 0).finish();
    assert!(status.success(), "{out:#?}");
    // ls's own directory descriptor is the fourth.
    assert_eq!(out, ["0", "1", "2", "3"], "inherited descriptors");
    let _ = std::fs::remove_dir_all(&run.dir);
}
