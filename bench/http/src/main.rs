//! `bench-server`: the servers that `scripts/bench-http.sh` drives with wrk.
//!
//! ```text
//! bench-server <variant> <addr>          serve POST /hook (and GET /count, GET /heap) on addr
//! bench-server emit-lua <n> <size>       print a wrk script of n signed deliveries
//! bench-server profile <variant> <n>     n in-process requests (axum variants, actix-plain, actix-hookwise), for callgrind
//! bench-server profile-core <preset> <n> <size>   n core verifications, for callgrind
//! bench-server ab-core <preset> <size>   raw HMAC vs verify, interleaved blocks, best of 15
//! ```
//!
//! Variants: `axum-plain`, `axum-hand-handler`, `axum-hand-middleware`,
//! `axum-hookwise`, `axum-hookwise-replay`, `actix-plain`, `actix-hand`,
//! `actix-hand-middleware`, `actix-hookwise`, `actix-hookwise-replay`.
//! Every server runs on one thread (tokio `current_thread`, actix
//! `workers(1)`) so that server CPU per request compares like for like.

#![forbid(unsafe_code)]

mod actix_srv;
mod axum_srv;
mod common;
mod core_prof;

use std::process::ExitCode;

/// The `heap-stats` build (see `Cargo.toml`): dhat counts the live heap bytes.
#[cfg(feature = "heap-stats")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const USAGE: &str =
    "usage: bench-server <variant> <addr> | emit-lua <n> <size> | profile <variant> <n>
       | profile-core <preset> <n> <size> | ab-core <preset> <size>   (presets: github stripe slack standard)
variants: axum-plain axum-hand-handler axum-hand-middleware axum-hookwise axum-hookwise-replay
          actix-plain actix-hand actix-hand-middleware actix-hookwise actix-hookwise-replay";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let result = match (arg(0), arg(1), arg(2)) {
        (Some("profile-core"), Some(preset), Some(n)) => {
            match (n.parse(), arg(3).map(str::parse)) {
                (Ok(n), Some(Ok(size))) => core_prof::profile(preset, n, size),
                _ => Err(USAGE.to_owned()),
            }
        }
        (Some("ab-core"), Some(preset), Some(size)) => match size.parse() {
            Ok(size) => core_prof::ab(preset, size),
            Err(_) => Err(USAGE.to_owned()),
        },
        (Some("emit-lua"), Some(n), Some(size)) => match (n.parse(), size.parse()) {
            (Ok(n), Ok(size)) => {
                print!("{}", common::lua(n, size));
                Ok(())
            }
            _ => Err(USAGE.to_owned()),
        },
        (Some("profile"), Some(variant), Some(n)) => match n.parse() {
            Ok(n) if variant.starts_with("actix-") => actix_srv::profile(variant, n),
            Ok(n) => axum_srv::profile(variant, n),
            Err(_) => Err(USAGE.to_owned()),
        },
        (Some(variant), Some(addr), None) if variant.starts_with("axum-") => {
            axum_srv::serve(variant, addr)
        }
        (Some(variant), Some(addr), None) if variant.starts_with("actix-") => {
            actix_srv::serve(variant, addr)
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}
