//! The common tokio echo server: a current_thread runtime, one task per
//! connection, `read` into the task's buffer and `write_all` it back.
//!
//! The buffer is [`READ_SIZE`] (64 KiB) like our servers' read buffer, so
//! the comparison is of the machinery, not of how much one read may take.
//! (tokio's README example uses 1 KiB; that would cost it many more reads
//! at 4 KiB messages. Each task's buffer is allocated zeroed and only the
//! pages a read touches become resident.)

use std::io;
use std::os::fd::OwnedFd;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use sockets::buffers::READ_SIZE;

/// Serves echo on `listener` forever (until a signal kills the process).
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    super::tokio_accept::serve(listener, echo)
}

/// One connection: echo until EOF or an error.
async fn echo(mut stream: TcpStream) {
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
