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
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::READ_SIZE;

/// How long accepting pauses after an error (out of descriptors), so the
/// loop does not spin on a connection it cannot take.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves echo on `listener` forever (until a signal kills the process).
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::from_std(std::net::TcpListener::from(listener))?;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(echo(stream));
                }
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                }
            }
        }
    })
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
