//! `app-client HOST PORT ACTION VALUE`: the tutorial's `app-client.py`.
//! See `../shared/cli.md`.

use std::process::ExitCode;

use sockets::cli::{resolve, AppClientArgs};
use sockets::client::ClientMessage;
use sockets::clients::{run_clients, ClientConn};
use sockets::pyrepr::Addr;
use sockets::say::{self, Say};

fn main() -> ExitCode {
    let args: AppClientArgs = sockets::cli::parse();
    let addr = match resolve(&args.host, args.port) {
        Ok(addr) => addr,
        Err(e) => {
            say::error(format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let say = Say { quiet: args.quiet };
    let repeat = args.repeat.get();
    run_clients(addr, 1, args.timeout, say, args.trace, |_, sock| {
        say.event(format_args!("starting connection to {}", Addr(addr)));
        ClientConn::App(ClientMessage::new(
            sock,
            addr,
            &args.action,
            &args.value,
            repeat,
        ))
    })
}
