//! Helpers of the operational tests (health, HTTP hardening): `vesting run` against a
//! devnet with a config file, extra environment, an optional open-file limit and its log
//! kept; raw loopback sockets; the resident memory of a process.

use crate::proc::{Proc, free_port, http, spawn, wait_for};
use crate::{repo, vesting_bin};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to start a service.
#[derive(Default)]
pub struct Options<'a> {
    /// TOML lines of the config file (`VESTING_CONFIG`).
    pub config: &'a str,
    /// Extra environment of `vesting run`.
    pub env: Vec<(&'a str, String)>,
    /// `ulimit -n` of `vesting run` (through `sh`).
    pub open_files: Option<u32>,
}

/// `vesting devnet` (scenario `tiny`, 20 ms blocks) and `vesting run` with its stderr kept in
/// a file; killed and cleaned up when dropped.
pub struct Ops {
    pub api: u16,
    pub db: PathBuf,
    pub log: PathBuf,
    pub config: PathBuf,
    run: Proc,
    devnet: Option<Proc>,
}

impl Ops {
    /// Starts both and waits until the API answers (any status).
    pub fn start(name: &str, o: Options) -> Ops {
        let (chain, api) = (free_port(), free_port());
        let devnet = spawn(&[
            "devnet",
            "--scenario",
            "tiny",
            "--port",
            &chain.to_string(),
            "--block-time-ms",
            "20",
            "--archive",
        ]);
        wait_for("the devnet", Duration::from_secs(60), || {
            TcpStream::connect(("127.0.0.1", chain)).is_ok()
        });
        let base = std::env::temp_dir().join(format!("vesting-{name}-{}", std::process::id()));
        let (db, log, config) = (
            base.with_extension("db"),
            base.with_extension("log"),
            base.with_extension("toml"),
        );
        std::fs::write(&config, o.config).unwrap();
        let bin = vesting_bin();
        let args = [
            "run".to_string(),
            "--netuid".into(),
            "1".into(),
            "--subtensor.chain_endpoint".into(),
            format!("ws://127.0.0.1:{chain}"),
            "--db".into(),
            db.display().to_string(),
            "--api".into(),
            format!("127.0.0.1:{api}"),
        ];
        let mut cmd = match o.open_files {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(&bin)
                    .args(&args);
                c
            }
            None => {
                let mut c = Command::new(&bin);
                c.args(&args);
                c
            }
        };
        cmd.current_dir(repo())
            .env("VESTING_CONFIG", &config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in &o.env {
            cmd.env(k, v);
        }
        let run = Proc(cmd.spawn().expect("spawn vesting run"));
        wait_for("the API", Duration::from_secs(120), || {
            http(api, "GET", "/health", "").is_some()
        });
        Ops {
            api,
            db,
            log,
            config,
            run,
            devnet: Some(devnet),
        }
    }

    /// Kills the devnet (the node is gone).
    pub fn stop_devnet(&mut self) {
        self.devnet = None;
    }

    /// The pid of `vesting run` (`sh` execs it).
    pub fn pid(&self) -> u32 {
        self.run.0.id()
    }

    /// What `vesting run` logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path`: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.api, "GET", path, "").expect("the API answers")
    }

    /// A value of `/metrics`.
    pub fn metric(&self, name: &str) -> f64 {
        let (_, text) = http(self.api, "GET", "/metrics", "").expect("metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name}"))
    }
}

impl Drop for Ops {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
        let _ = std::fs::remove_file(&self.config);
        if std::thread::panicking() {
            eprintln!("--- vesting run's log:\n{}", self.log_text());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Resident memory of a process in KiB (Linux), 0 if unknown.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// A response read off a raw socket: status, lower-cased headers, body.
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response (until the server closes, or the body's Content-Length is in).
pub fn read_response(s: &mut TcpStream, timeout: Duration) -> Option<Raw> {
    s.set_read_timeout(Some(timeout)).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // A reset after the response was sent (the server closed with unread input).
            Err(_) if !buf.is_empty() => break,
            Err(_) => return None,
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    Some(Raw {
        status,
        headers,
        body: body.to_string(),
    })
}

/// Sends `head` (the request line and headers, without the blank line) and `body`, then
/// reads the response.
pub fn request(port: u16, head: &str, body: &[u8]) -> Option<Raw> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(format!("{head}\r\n\r\n").as_bytes()).ok()?;
    s.write_all(body).ok()?;
    read_response(&mut s, Duration::from_secs(60))
}

/// `GET /health` on a fresh connection: (status, time taken).
pub fn timed_health(port: u16) -> (Option<u16>, Duration) {
    let t = Instant::now();
    let r = request(
        port,
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close",
        b"",
    );
    (r.map(|r| r.status), t.elapsed())
}

/// The median and the largest of some durations, in ms.
pub fn median_max_ms(d: &mut [Duration]) -> (f64, f64) {
    d.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (
        d.get(d.len() / 2).map_or(0.0, |d| ms(*d)),
        d.last().map_or(0.0, |d| ms(*d)),
    )
}
