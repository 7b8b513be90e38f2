//! The search service on tokio, through `proto`'s sans-IO codec: the same
//! `Decoder` and `create_response` our app-server drives from its reactor,
//! here driven from async reads. The codec never touches a socket, so it
//! works under any IO model.
//!
//! A current_thread runtime, one task per connection. Each read is decoded
//! whole: every request it completes is answered into one output buffer,
//! written with one `write_all`; a trailing partial request moves to the
//! front of the buffer to be completed by the next read. The buffers belong
//! to the task and are reused, so a request allocates nothing.

use std::io;
use std::os::fd::OwnedFd;

use proto::{create_response, Decoder, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use sockets::buffers::READ_SIZE;

/// Serves the search service on `listener` forever (until a signal kills
/// the process).
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    super::tokio_accept::serve(listener, serve_conn)
}

/// One connection: answer every request, in order, until EOF, an IO error
/// or broken framing (which can't be resynchronised: answer what came
/// before it, then close).
async fn serve_conn(mut stream: TcpStream) {
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; READ_SIZE];
    let mut filled = 0;
    let mut out = Vec::with_capacity(READ_SIZE);
    loop {
        if filled == buf.len() {
            // One request larger than the buffer: grow. The decoder has
            // already refused a content-length above its limit, so this is
            // bounded by that limit plus a header.
            buf.resize(2 * buf.len(), 0);
        }
        let n = match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        filled += n;
        out.clear();
        let mut used = 0;
        let broken = loop {
            match decoder.decode(&buf[used..filled]) {
                Ok(Status::NeedMore { .. }) => break false,
                Ok(Status::Complete { frame, consumed }) => {
                    create_response(&frame, &mut out);
                    used += consumed;
                }
                Err(_) => break true,
            }
        };
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if broken {
            return;
        }
        buf.copy_within(used..filled, 0);
        filled -= used;
    }
}
