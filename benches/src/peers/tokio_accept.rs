//! What both tokio peers share: a current_thread runtime and an accept
//! loop that spawns one task per connection, as tokio servers are usually
//! written.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// How long accepting pauses after an error (out of descriptors), so the
/// loop does not spin on a connection it cannot take.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `listener` forever (until a signal kills the process), running
/// `conn` as a task for every accepted connection.
pub fn serve<F, Fut>(listener: OwnedFd, conn: F) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::from_std(std::net::TcpListener::from(listener))?;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(conn(stream));
                }
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                }
            }
        }
    })
}
