//! `app-client HOST PORT ACTION VALUE`: the tutorial's `app-client.py`.
//! See `docs/cli.md`.

use std::process::ExitCode;

use sockets::cli::{resolve_all, AppClientArgs};
use sockets::client::app::ClientMessage;
use sockets::client::run_clients;
use sockets::pyrepr::Addr;
use sockets::say::{self, Say};

fn main() -> ExitCode {
    let args: AppClientArgs = sockets::cli::parse();
    let addrs = match resolve_all(&args.host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => {
            say::error(format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let say = Say { quiet: args.quiet };
    let repeat = args.repeat.get();
    run_clients(&addrs, 1, args.timeout, say, args.trace, |_, addr, sock| {
        say.event(format_args!("starting connection to {}", Addr(addr)));
        ClientMessage::new(sock, addr, &args.action, &args.value, repeat)
    })
}
