//! `multiconn-client HOST PORT NUM_CONNECTIONS`: the tutorial's
//! `multiconn-client.py`. See `docs/cli.md`.

use std::process::ExitCode;

use sockets::cli::{resolve_all, MulticonnClientArgs};
use sockets::client::multiconn::MulticonnMessage;
use sockets::client::run_clients;
use sockets::pyrepr::Addr;
use sockets::say::{self, Say};

fn main() -> ExitCode {
    let args: MulticonnClientArgs = sockets::cli::parse();
    let addrs = match resolve_all(&args.host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => {
            say::error(format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let say = Say { quiet: false };
    run_clients(
        &addrs,
        args.num_connections.get(),
        args.timeout,
        say,
        args.trace,
        |connid, addr, sock| {
            say.event(format_args!(
                "starting connection {connid} to {}",
                Addr(addr)
            ));
            MulticonnMessage::new(sock, connid, addr)
        },
    )
}
