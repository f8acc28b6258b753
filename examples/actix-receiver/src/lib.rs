//! The actix-web example receiver (work in progress).

use receiver_common::Config;

/// Serves `config` on `listener` until the server stops (blocking).
///
/// # Errors
/// The listener cannot be used, or the replay store cannot be built.
pub fn serve_std(listener: std::net::TcpListener, config: Config) -> std::io::Result<()> {
    let _ = (listener, config);
    Err(std::io::Error::other("actix-receiver: not implemented yet"))
}
