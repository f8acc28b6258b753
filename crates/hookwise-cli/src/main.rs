//! `hookwise`: sign, send and verify webhooks, and explain why one does not verify.
#![forbid(unsafe_code)]

mod demo;
mod explain;
mod input;
mod send;
mod sign;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign, send and verify webhooks; find out why a delivery does not verify.
#[derive(Parser, Debug)]
#[command(name = "hookwise", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the headers a sender would send for a body.
    Sign(SignArgs),
    /// Send a signed delivery to a running receiver; print status, reason and latency.
    Send(SendArgs),
    /// Verify a captured request; explain what is wrong when it does not verify.
    /// Exit 0 when valid, 1 when rejected, 2 on usage errors.
    Verify(VerifyArgs),
    /// Start a receiver in-process and send it valid, tampered, stale, replayed and
    /// oversized deliveries for several senders. Exit 0 when every case got the expected answer.
    Demo(DemoArgs),
    /// List the provider names.
    Providers,
}

/// What identifies the sender and its signing material.
#[derive(Args, Debug, Clone)]
struct Common {
    /// The sender (see `hookwise providers`).
    #[arg(long, short = 'p')]
    provider: String,
    /// The body, byte for byte (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    body_file: PathBuf,
    /// The URL the sender signs (Square: the notification URL; HubSpot: the full request URL).
    #[arg(long)]
    url: Option<String>,
}

#[derive(Args, Debug)]
struct SignArgs {
    #[command(flatten)]
    common: Common,
    /// The secret, as the sender shows it (or set `HOOKWISE_SECRET`, which
    /// other local users cannot read from the process list).
    #[arg(long, short = 's', env = "HOOKWISE_SECRET", hide_env_values = true)]
    secret: String,
    /// Unix seconds to sign (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
    /// The delivery id (default: derived from the body).
    #[arg(long)]
    id: Option<String>,
    /// The event type header value, for senders that have one.
    #[arg(long)]
    event: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Headers)]
    format: Format,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Headers,
    Json,
    Curl,
}

#[derive(Args, Debug)]
struct SendArgs {
    #[command(flatten)]
    common: Common,
    /// The secret, as the sender shows it (or set `HOOKWISE_SECRET`, which
    /// other local users cannot read from the process list).
    #[arg(long, short = 's', env = "HOOKWISE_SECRET", hide_env_values = true)]
    secret: String,
    /// The event type header value, for senders that have one.
    #[arg(long)]
    event: Option<String>,
    /// The delivery id (default: derived from the body).
    #[arg(long)]
    id: Option<String>,
    /// Unix seconds to sign (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    common: Common,
    /// A secret to try (repeat for rotation; or set `HOOKWISE_SECRET`, which
    /// other local users cannot read from the process list, and which is not
    /// used when a `--secret` or `--public-key` is given).
    #[arg(long, short = 's')]
    secret: Vec<String>,
    /// A public key (Discord hex, SendGrid `MFkw…`, Standard Webhooks `whpk_…`; repeatable).
    #[arg(long)]
    public_key: Vec<String>,
    /// A header `Name: value` (repeat).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    header: Vec<String>,
    /// Headers from a file, one `Name: value` a line, as copied from a request log.
    #[arg(long, value_name = "FILE")]
    headers_file: Option<PathBuf>,
    /// Verify as if it were this Unix time (default: now).
    #[arg(long)]
    now: Option<i64>,
    /// Timestamp tolerance in seconds, both sides (default: the sender's).
    #[arg(long)]
    tolerance: Option<u64>,
    /// The request method (HubSpot signs it).
    #[arg(long, default_value = "POST")]
    method: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Print the table as JSON lines.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(a) => sign::run(&a),
        Command::Verify(a) => explain::run(&a),
        Command::Send(a) => send::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Providers => {
            for p in hookwise::providers::NAMES {
                println!("{p}");
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("hookwise: {e}");
        ExitCode::from(2)
    })
}
