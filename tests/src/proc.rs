//! Real processes for end-to-end tests: `vesting` children killed on drop, free loopback
//! ports, a minimal HTTP/1.1 client, waiting with a deadline, and a devnet + `vesting run`
//! pair.

use crate::{repo, vesting_bin};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns the `vesting` binary with `args` (output discarded).
pub fn spawn(args: &[&str]) -> Proc {
    Proc(
        Command::new(vesting_bin())
            .args(args)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn vesting"),
    )
}

/// `vesting run --config <config>` following netuid 1 of the devnet at `chain`, with its
/// database at `db` and the API on `api`; its stderr goes to `stderr`.
pub fn run_service(
    chain: u16,
    api: u16,
    db: &std::path::Path,
    config: &std::path::Path,
    stderr: Stdio,
) -> Proc {
    Proc(
        Command::new(vesting_bin())
            .args(["run", "--netuid", "1", "--subtensor.chain_endpoint"])
            .arg(format!("ws://127.0.0.1:{chain}"))
            .arg("--db")
            .arg(db)
            .arg("--api")
            .arg(format!("127.0.0.1:{api}"))
            .arg("--config")
            .arg(config)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn vesting run"),
    )
}

/// `vesting devnet` on a free loopback port with blocks every `block_ms` and archive
/// state, plus `args`; returns once it accepts connections.
pub fn devnet(block_ms: u64, args: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let (p, ms) = (port.to_string(), block_ms.to_string());
    let mut all = vec!["devnet", "--port", &p, "--block-time-ms", &ms, "--archive"];
    all.extend_from_slice(args);
    let child = spawn(&all);
    wait_for("the devnet to listen", Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (child, port)
}

/// A loopback port nothing listens on.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every 250 ms; fails the test after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// One HTTP/1.1 request on loopback with extra `headers` (each ending in CRLF):
/// (status, the whole response).
pub fn http_raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, out))
}

/// A JSON request on loopback: (status, body; of a chunked body, the JSON part).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let (status, out) = http_raw(
        port,
        method,
        path,
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    )?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if !path.starts_with("/metrics") => body[a..=b].to_string(),
        _ => body,
    };
    Some((status, body))
}

/// `vesting devnet` with a scenario and `vesting run` against it, as real processes;
/// both are killed and the database removed when dropped.
pub struct Service {
    pub api: u16,
    pub db: PathBuf,
    _procs: (Proc, Proc),
}

impl Service {
    /// Scenario `tiny` at 20 ms blocks.
    pub fn start(name: &str, token: Option<&str>) -> Service {
        Self::start_with(name, "tiny", 20, token)
    }

    pub fn start_with(name: &str, scenario: &str, block_ms: u64, token: Option<&str>) -> Service {
        let (chain, api) = (free_port(), free_port());
        let devnet = spawn(&[
            "devnet",
            "--scenario",
            scenario,
            "--port",
            &chain.to_string(),
            "--block-time-ms",
            &block_ms.to_string(),
            "--archive",
        ]);
        wait_for("the devnet", Duration::from_secs(60), || {
            TcpStream::connect(("127.0.0.1", chain)).is_ok()
        });
        let db = std::env::temp_dir().join(format!("vesting-{name}-{}.db", std::process::id()));
        let mut cmd = Command::new(vesting_bin());
        cmd.args([
            "run",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &format!("ws://127.0.0.1:{chain}"),
            "--db",
            db.to_str().unwrap(),
            "--api",
            &format!("127.0.0.1:{api}"),
        ])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(t) = token {
            cmd.env("VESTING_API_TOKEN", t);
        }
        let run = Proc(cmd.spawn().expect("spawn vesting run"));
        wait_for("the API", Duration::from_secs(120), || {
            http(api, "GET", "/health", "").is_some_and(|(s, _)| s == 200)
        });
        Service {
            api,
            db,
            _procs: (devnet, run),
        }
    }

    /// The database path as a string (for `--db`).
    pub fn db_arg(&self) -> &str {
        self.db.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
    }
}
