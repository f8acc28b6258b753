//! A real `redis-server` for tests.
//!
//! - [`RedisServer::start`]: the server at `REDIS_URL` if set, else one spawned
//!   from `redis-server` on `PATH` (or `REDIS_SERVER`) on a free loopback port.
//! - [`RedisServer::spawn`]: always a server of our own (tests that stop,
//!   pause or restart it).
//!
//! Without a `redis-server` binary both return `None` after printing a
//! "skipping" line, so the test returns early; with `CI=true` they panic
//! instead: a missing Redis in CI is a failure, not a skip.
//!
//! Spawned servers keep nothing on disk (`--save '' --appendonly no`) and are
//! killed on drop. This file is shared with the end-to-end tests
//! (`tests/redis.rs` includes it with `#[path]`), so it uses only `std`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a spawned server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A Redis server for one test.
pub(crate) struct RedisServer {
    /// `None` for an external server (`REDIS_URL`).
    child: Option<Child>,
    binary: Option<PathBuf>,
    port: u16,
    extra_args: Vec<String>,
    url: String,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn skip_or_fail(why: &str) -> Option<RedisServer> {
    assert!(
        !in_ci(),
        "CI=true but {why}: the Redis tests must run in CI (apt-get install -y redis-server)"
    );
    eprintln!("skipping: {why} (install with apt-get install redis-server)");
    None
}

/// `REDIS_SERVER`, else `redis-server` on `PATH`.
fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDIS_SERVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether a Redis answers `PING` at `addr` right now.
fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

impl RedisServer {
    /// The server at `REDIS_URL`, or a spawned one; `None`: skip the test.
    pub(crate) fn start() -> Option<Self> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            if !url.trim().is_empty() {
                return Some(Self {
                    child: None,
                    binary: None,
                    port: 0,
                    extra_args: Vec::new(),
                    url,
                });
            }
        }
        Self::spawn()
    }

    /// A server of our own; `None`: skip the test.
    pub(crate) fn spawn() -> Option<Self> {
        Self::spawn_with(&[])
    }

    /// A server of our own with extra `redis-server` arguments
    /// (e.g. `["--requirepass", "s3cret"]`); `None`: skip the test.
    pub(crate) fn spawn_with(extra_args: &[&str]) -> Option<Self> {
        let Some(binary) = find_binary() else {
            return skip_or_fail("redis-server not found");
        };
        let mut server = Self {
            child: None,
            binary: Some(binary),
            port: 0,
            extra_args: extra_args.iter().map(|s| (*s).to_owned()).collect(),
            url: String::new(),
        };
        // Another process may take the free port between our probe and the
        // server's bind: try a few ports.
        for _ in 0..5 {
            server.port = free_port();
            server.url = format!("redis://127.0.0.1:{}/", server.port);
            if server.try_launch().is_ok() {
                return Some(server);
            }
        }
        panic!("could not start redis-server on a free loopback port");
    }

    fn try_launch(&mut self) -> Result<(), String> {
        let binary = self.binary.as_ref().expect("a spawned server");
        let mut child = Command::new(binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", binary.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("redis-server exited: {status}"));
            }
            // With --requirepass, PING answers -NOAUTH: a connection is enough.
            let up = if self.extra_args.iter().any(|a| a == "--requirepass") {
                TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            } else {
                answers_ping(addr)
            };
            if up {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("redis-server did not answer PING".to_owned());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:PORT/` (or `REDIS_URL`).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The loopback port of a spawned server.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Whether this server is ours (can be stopped, paused, restarted).
    pub(crate) fn is_spawned(&self) -> bool {
        self.binary.is_some()
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and waits for it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a fresh (empty) server on the same port.
    pub(crate) fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + STARTUP;
        loop {
            match self.try_launch() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("restarting redis-server: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn signal(&self, sig: &str) {
        let child = self.child.as_ref().expect("a running spawned server");
        let status = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {sig} failed");
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Unfreezes a paused server (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped (paused) process.
        self.stop();
    }
}

/// Retries `f` until it returns `Some`, for up to `within`; panics with `what`.
pub(crate) async fn eventually<T, F, Fut>(within: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
