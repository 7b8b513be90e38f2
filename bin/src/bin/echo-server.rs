//! `echo-server HOST PORT`: the tutorial's `multiconn-server.py` on our
//! reactor. See `docs/cli.md`.

use std::process::ExitCode;

use sockets::cli::EchoServerArgs;
use sockets::server::echo::EchoMessage;
use sockets::server::serve;

fn main() -> ExitCode {
    let args: EchoServerArgs = sockets::cli::parse();
    serve::<EchoMessage<reactor::net::TcpStream>>(&args.host, args.port, args.server, ())
}
