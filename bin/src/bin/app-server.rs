//! `app-server HOST PORT`: the tutorial's `app-server.py` on our reactor,
//! with persistent, pipelined connections. See `docs/cli.md`.

use std::process::ExitCode;

use sockets::cli::AppServerArgs;
use sockets::server::app::{AppConfig, ServerMessage};
use sockets::server::serve;

fn main() -> ExitCode {
    let args: AppServerArgs = sockets::cli::parse();
    let config = AppConfig {
        max_content_length: args.max_content_length,
        request_timeout: args.request_timeout(),
        max_buffered_bytes: args.max_buffered_bytes,
    };
    serve::<ServerMessage<reactor::net::TcpStream>>(&args.host, args.port, args.server, config)
}
