//! `cargo run -p axum-receiver`: the axum example receiver.

#![forbid(unsafe_code)]

use receiver_common::Config;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    // Report the address actually bound (HOOKWISE_ADDR may use port 0).
    let config = Config {
        addr: listener.local_addr()?,
        ..config
    };
    print!("{}", config.banner("axum"));
    axum_receiver::serve_with_shutdown(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
