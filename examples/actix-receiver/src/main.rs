//! `actix-receiver`: receives signed webhooks on `HOOKWISE_ADDR` (see the
//! README and `receiver_common` for the environment variables).

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::process::ExitCode;

use receiver_common::Config;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("actix-receiver: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(config.addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("actix-receiver: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    print!("{}", config.banner("actix"));
    match actix_receiver::serve_until_signal(listener, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actix-receiver: {e}");
            ExitCode::FAILURE
        }
    }
}
