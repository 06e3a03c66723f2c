//! Service benchmark, printing figures (no assertions on time):
//!
//! 1. `POST /weights/apply` for 256 uids over loopback HTTP while the monitor ingests: an
//!    open-loop paced load (request i is due at t0 + i/RATE; latency runs from the due time
//!    to the full response, so a stall delays every request behind it and shows up); beside
//!    it the server's own time per request, from its `/metrics` histogram
//!    (`vesting_http_request_duration_seconds{route="/weights/apply"}`).
//! 2. Hot swap: `POST /policy/activate` with a wasm body (check + compile + store +
//!    activate) of the example `classic` policy and of the default policy, alternately,
//!    always as bytes the engine has not compiled yet; the steps apart (`POST
//!    /policy/install`, then activation of the stored policy by sha256); rollback; and the
//!    compile step alone, in process.
//! 3. Resident memory (VmRSS / VmHWM of this process): after a compressed 30-day history
//!    is ingested (600 epochs at 20 a day, `blocks_per_day` shortened so that the policy's
//!    windows cover it), after the load run, and with a synthetic 30-day ledger of 256
//!    miners (`policy::sample`) built and held through the policy.
//!
//! The devnet (256-neuron subnet) runs as a separate `vesting devnet` process so that its
//! chain state is not counted in this process's memory. It is prefilled with the history;
//! from the end of the catch-up to the end of the run it produces a block every
//! BLOCK_TIME_MS (`devnet_advance`), which the monitor follows.
//!
//! `cargo bench -p vesting-host --bench service`. Env: HIST_DAYS (30), BLOCKS_PER_DAY
//! (200), TEMPO (10), BLOCK_TIME_MS (100), RATE (1000 req/s), SECS (10), CONNS (4),
//! SWAPS (5), CLASSIC_POLICY_WASM (a built classic component; built here otherwise),
//! KEEP_DB (keep the temporary directory with the database).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vesting_host::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine, sample};
use vesting_host::service::{VestingConfig, VestingSystem};

const TOKEN: &str = "bench-token";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The ingest bench's 256-neuron subnet (250 miners, 6 validators, random staking
/// behaviours), with a configurable tempo.
fn scenario(tempo: u64) -> String {
    let toml = include_str!("subnet-256.toml");
    assert!(
        toml.contains("tempo = 100\n"),
        "subnet-256.toml sets tempo = 100"
    );
    toml.replace("tempo = 100\n", &format!("tempo = {tempo}\n"))
        .replace("name = \"bench-256\"", "name = \"bench-service-256\"")
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// (VmRSS, VmHWM) of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn print_memory(what: &str) {
    let (rss, hwm) = memory();
    println!("  RSS {rss:.1} MiB, peak (VmHWM) {hwm:.1} MiB: {what}");
}

/// A keep-alive HTTP/1.1 connection: one request at a time, the whole response read.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// The bytes of a request (built once, sent many times).
    fn request(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    /// Sends prepared request bytes; (status, body).
    fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.writer.write_all(request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse::<usize>().ok();
                } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
                let start = body.len();
                body.resize(start + size + 2, 0);
                self.reader.read_exact(&mut body[start..])?;
                body.truncate(start + size);
                if size == 0 {
                    break;
                }
            }
        } else {
            let n = length.ok_or_else(|| std::io::Error::other("no Content-Length"))?;
            body.resize(n, 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok((status, body))
    }
}

/// One request on a fresh connection.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &[u8]) -> (u16, Vec<u8>) {
    Conn::open(addr)
        .and_then(|mut c| c.send(&Conn::request(method, path, headers, body)))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// A JSON-RPC call to the devnet over HTTP; the result.
fn rpc(devnet: SocketAddr, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let (status, out) = http(
        devnet,
        "POST",
        "/",
        "Content-Type: application/json\r\n",
        body.to_string().as_bytes(),
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
    match v.get_mut("result") {
        Some(r) => r.take(),
        None => panic!("{method}: {status} {v}"),
    }
}

/// The devnet's best block number.
fn chain_head(devnet: SocketAddr) -> u64 {
    let v = rpc(devnet, "chain_getHeader", serde_json::json!([]));
    let number = v["number"].as_str().unwrap_or_default();
    u64::from_str_radix(number.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("chain_getHeader: {v}"))
}

/// Produces a block every `period` (`devnet_advance`) until the flag is set.
fn producer(
    devnet: SocketAddr,
    period: Duration,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut next = Instant::now();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            next += period;
            rpc(devnet, "devnet_advance", serde_json::json!({ "blocks": 1 }));
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                next = now;
            }
        }
    })
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The value at quantile `q` of sorted durations, in ms.
fn pct(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

/// Quantile `q` over `total` requests of which `sorted` completed: the ones never sent
/// count as slower than any that completed ("not sent").
fn pct_of(sorted: &[Duration], total: usize, q: f64) -> String {
    let i = ((q * total as f64).ceil() as usize).clamp(1, total.max(1)) - 1;
    match sorted.get(i) {
        Some(d) => format!("{:.3}", ms(*d)),
        None => "not sent".into(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The example `classic` policy component: from CLASSIC_POLICY_WASM, else built the way
/// the end-to-end tests build it.
fn classic_wasm(tmp: &Path) -> Vec<u8> {
    let path = match std::env::var_os("CLASSIC_POLICY_WASM") {
        Some(p) => PathBuf::from(p),
        None => {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            vesting_wasm_build::build_policy(&workspace, "vesting-policy-classic", tmp)
        }
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `wasm` with a custom section appended (`bench-<run>-<n>`, unique to this process): the
/// same component, bytes no compile cache has seen.
fn with_custom_section(wasm: &[u8], n: usize) -> Vec<u8> {
    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    let name = format!("bench-{run}-{}-{n}", std::process::id());
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// Per-request record of the paced run.
struct Sample {
    /// From the due time to the whole response.
    latency: Duration,
    /// From the due time to the moment the request was written (client-side lateness).
    send_lag: Duration,
    status: u16,
}

fn main() {
    let hist_days = env("HIST_DAYS", 30);
    let blocks_per_day = env("BLOCKS_PER_DAY", 200);
    let tempo = env("TEMPO", 10);
    let block_time_ms = env("BLOCK_TIME_MS", 100);
    let rate = env("RATE", 1000).max(1);
    let secs = env("SECS", 10);
    let conns = env("CONNS", 4).max(1) as usize;
    let swaps = env("SWAPS", 5).max(1) as usize;
    let keep = std::env::var_os("KEEP_DB").is_some();

    let tmp = std::env::temp_dir().join(format!("vesting-bench-service-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("temp dir");
    // The service's compiled-policy cache in the temporary directory: no artifacts of an
    // earlier run, none left in the user's cache.
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("VESTING_CACHE_DIR", tmp.join("cache")) };
    let classic = classic_wasm(&tmp);
    println!(
        "service bench (devnet: 256 neurons, tempo {tempo}, a block every {block_time_ms} ms)"
    );
    print_memory("at start (before the service)");

    // The devnet, in a process of its own, prefilled with the history to ingest.
    let hist_blocks = hist_days * blocks_per_day;
    let scenario_path = tmp.join("scenario.toml");
    std::fs::write(&scenario_path, scenario(tempo)).expect("write scenario");
    let chain_port = free_port();
    let devnet_addr = SocketAddr::from(([127, 0, 0, 1], chain_port));
    let t = Instant::now();
    let _devnet = Proc(
        Command::new(env!("CARGO_BIN_EXE_vesting"))
            .args(["devnet", "--scenario"])
            .arg(&scenario_path)
            .args(["--port", &chain_port.to_string()])
            .args(["--block-time-ms", "0"])
            .args(["--prefill-blocks", &(hist_blocks + 2).to_string()])
            .arg("--archive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn `vesting devnet`"),
    );
    wait_for("the devnet", Duration::from_secs(600), || {
        TcpStream::connect(devnet_addr).is_ok()
    });
    println!(
        "devnet (separate process, blocks on demand until the history is ingested): {} blocks prefilled in {:.1} s",
        hist_blocks + 2,
        t.elapsed().as_secs_f64()
    );

    // The service: monitor on its background thread from block 1, and the HTTP API.
    let config = VestingConfig {
        netuid: 1,
        chain_endpoint: Some(format!("ws://{devnet_addr}")),
        db_path: tmp.join("vesting.db"),
        use_background_thread: true,
        query_interval_seconds: 5,
        blocks_per_day,
        start_block: Some(1),
        api_token: Some(TOKEN.into()),
        ..VestingConfig::default()
    };
    let system = Arc::new(VestingSystem::new(config).expect("the system"));
    let t = Instant::now();
    system.initialize().expect("initialize");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let api = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (stop_api, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(vesting_host::api::serve(system.clone(), api, async {
        let _ = stopped.await;
    }));
    // Progress from a read connection of our own (light: the checkpoint row).
    let db = system.config().db_path.clone();
    let mut reader: Option<vesting_host::store::Store> = None;
    let mut last_block = move || {
        if reader.is_none() {
            reader = vesting_host::store::Store::open_read_only(&db).ok();
        }
        reader
            .as_ref()
            .and_then(|r| r.checkpoint().ok().flatten())
            .map_or(0, |c| c.block)
    };
    wait_for(
        "the history to be ingested",
        Duration::from_secs(1800),
        || last_block() >= hist_blocks,
    );
    let catch_up = t.elapsed().as_secs_f64();
    let stats = system.get_vesting_stats().expect("stats");
    assert!(!stats.miners.is_empty(), "no multipliers after the history");
    println!(
        "ingest (monitor thread, from block 1): {} blocks ({} epochs; {hist_days} days of {blocks_per_day} blocks) in {catch_up:.1} s = {:.0} blocks/s",
        stats.last_block.unwrap_or(0),
        stats.epochs,
        stats.last_block.unwrap_or(0) as f64 / catch_up,
    );
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64;
    let db_file = system.config().db_path.clone();
    let wal = db_file.with_extension("db-wal");
    println!(
        "disk after the ingest: database {:.1} MiB, WAL {:.1} MiB",
        size(&db_file),
        size(&wal)
    );
    println!("memory:");
    print_memory(&format!(
        "service after ingesting a compressed {hist_days}-day history of 256 neurons ({} epochs, blocks_per_day = {blocks_per_day}); monitor, store reader, policy, API",
        stats.epochs
    ));

    // 1. Paced POST /weights/apply.
    let (status, body) = http(api, "GET", "/multipliers", "", b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("multipliers");
    let uids: Vec<u64> = rows.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    let hotkeys: Vec<&str> = rows.iter().map(|m| m["hotkey"].as_str().unwrap()).collect();
    let weights: Vec<f64> = (0..uids.len())
        .map(|i| 1.0 + (i % 7) as f64 / 7.0)
        .collect();
    let body = serde_json::json!({ "weights": weights, "uids": uids, "hotkeys": hotkeys });
    let request = Arc::new(Conn::request(
        "POST",
        "/weights/apply",
        "Content-Type: application/json\r\n",
        body.to_string().as_bytes(),
    ));
    {
        let mut c = Conn::open(api).expect("connect");
        for _ in 0..200 {
            let (s, b) = c.send(&request).expect("warm-up");
            assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        }
    }
    // From here on the devnet produces a block every BLOCK_TIME_MS and the monitor follows.
    let stop_producer = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producing = producer(
        devnet_addr,
        Duration::from_millis(block_time_ms.max(1)),
        stop_producer.clone(),
    );
    std::thread::sleep(Duration::from_secs(2));
    // Where a request's server time goes, in process and one at a time (no HTTP).
    {
        let hk: Vec<String> = hotkeys.iter().map(|h| h.to_string()).collect();
        let u: Vec<u16> = uids.iter().map(|&u| u as u16).collect();
        let timed = |f: &mut dyn FnMut()| {
            let mut v: Vec<Duration> = (0..100)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect();
            v.sort();
            (ms(v[v.len() / 2]), ms(v[v.len() * 99 / 100]))
        };
        let mut rows = Vec::new();
        let read = timed(&mut || rows = system.multipliers().expect("multipliers"));
        let whole = timed(&mut || {
            std::hint::black_box(
                system
                    .apply_vesting_multipliers(&weights, &u, &hk)
                    .expect("apply"),
            );
        });
        let policy = system.policy();
        let params = system.config().params().expect("params");
        let input = vesting_host::policy::WeightsInput {
            uids: u.clone(),
            weights: weights.clone(),
            hotkeys: hk.clone(),
            multipliers: rows.iter().map(|m| m.to_policy()).collect(),
        };
        let wasm = timed(&mut || {
            std::hint::black_box(policy.apply_weights(&params, &input).expect("apply"));
        });
        let info = timed(&mut || {
            std::hint::black_box(policy.resolve_params(&params).expect("resolve"));
        });
        println!(
            "apply, in process, one at a time (median / p99 ms over 100, monitor following): apply_vesting_multipliers {:.3} / {:.3} = store read of the latest multipliers {:.3} / {:.3} + policy apply-weights {:.3} / {:.3} (a trivial policy call, resolve-params: {:.3} / {:.3})",
            whole.0, whole.1, read.0, read.1, wasm.0, wasm.1, info.0, info.1
        );
    }
    let total = rate * secs;
    let period = Duration::from_secs(1).as_secs_f64() / rate as f64;
    let (head0, ingested0) = (chain_head(devnet_addr), last_block());
    let epochs0 = system.get_vesting_stats().map_or(0, |s| s.epochs);
    let m = system.metrics().clone();
    let (apply_n0, apply_ns0) = (
        m.apply_requests.load(std::sync::atomic::Ordering::Relaxed),
        m.apply_nanos.load(std::sync::atomic::Ordering::Relaxed),
    );
    let server_hist = || {
        m.http
            .durations
            .route("/weights/apply")
            .map(|h| h.snapshot())
            .unwrap_or_default()
    };
    let server0 = server_hist();
    let t0 = Instant::now() + Duration::from_millis(100);
    // Requests not sent by then are given up (an overloaded server would otherwise make
    // the run last as long as the backlog).
    let give_up = t0 + Duration::from_secs(secs + 5);
    let threads: Vec<_> = (0..conns)
        .map(|k| {
            let request = request.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::open(api).expect("connect");
                let mut out = Vec::new();
                let mut end = t0;
                for i in (k as u64..total).step_by(conns) {
                    let due = t0 + Duration::from_secs_f64(i as f64 * period);
                    let now = Instant::now();
                    if now > give_up {
                        break;
                    }
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let sent = Instant::now();
                    let status = match conn.send(&request) {
                        Ok((s, _)) => s,
                        Err(_) => {
                            conn = Conn::open(api).expect("reconnect");
                            0
                        }
                    };
                    end = Instant::now();
                    out.push(Sample {
                        latency: end - due,
                        send_lag: sent.saturating_duration_since(due),
                        status,
                    });
                }
                (out, end)
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut end = t0;
    for th in threads {
        let (s, e) = th.join().expect("client thread");
        samples.extend(s);
        end = end.max(e);
    }
    let run = (end - t0).as_secs_f64();
    let (head1, ingested1) = (chain_head(devnet_addr), last_block());
    let epochs1 = system.get_vesting_stats().map_or(0, |s| s.epochs);
    let (apply_n1, apply_ns1) = (
        m.apply_requests.load(std::sync::atomic::Ordering::Relaxed),
        m.apply_nanos.load(std::sync::atomic::Ordering::Relaxed),
    );
    let on_server = server_hist().since(&server0);
    let mut errors = std::collections::BTreeMap::<u16, u64>::new();
    for s in samples.iter().filter(|s| s.status != 200) {
        *errors.entry(s.status).or_default() += 1;
    }
    let mut lat: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    lat.sort();
    let mut lag: Vec<Duration> = samples.iter().map(|s| s.send_lag).collect();
    lag.sort();
    println!(
        "apply: POST /weights/apply, {} uids, {total} requests paced at {rate}/s over {conns} keep-alive connections (open loop, latency from the due time)",
        uids.len()
    );
    let total = total as usize;
    let not_sent = total - samples.len();
    println!(
        "  latency ms over all {total} due: p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
        pct_of(&lat, total, 0.5),
        pct_of(&lat, total, 0.9),
        pct_of(&lat, total, 0.99),
        pct_of(&lat, total, 0.999),
        pct_of(&lat, total, 1.0)
    );
    if not_sent > 0 {
        println!(
            "  latency ms over the {} completed only: p50 {:.3}, p90 {:.3}, p99 {:.3}, p99.9 {:.3}, max {:.3}",
            lat.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.9),
            pct(&lat, 0.99),
            pct(&lat, 0.999),
            pct(&lat, 1.0)
        );
    }
    println!(
        "  achieved {:.0} req/s ({} responses in {run:.2} s); errors {} (non-200 by status, 0 = I/O error: {errors:?}; not sent by t0 + {} s: {not_sent})",
        samples.len() as f64 / run,
        samples.len(),
        errors.values().sum::<u64>() + not_sent as u64,
        secs + 5,
    );
    println!(
        "  client lateness (due -> written) ms: p50 {:.3}, p99 {:.3}, max {:.3}; server time in apply_vesting_multipliers: mean {:.3} ms",
        pct(&lag, 0.5),
        pct(&lag, 0.99),
        pct(&lag, 1.0),
        (apply_ns1 - apply_ns0) as f64 / 1e6 / (apply_n1 - apply_n0).max(1) as f64
    );
    // The server's own view: `vesting_http_request_duration_seconds{route="/weights/apply"}`
    // over the run (routing to the answer's headers), next to the client's.
    println!(
        "  server side (/metrics histogram, {} requests, interpolated in buckets) ms: p50 {:.3}, p90 {:.3}, p99 {:.3}, p99.9 {:.3}, mean {:.3}; client side (above) p50 {}, p99 {}",
        on_server.count(),
        on_server.quantile(0.5) * 1e3,
        on_server.quantile(0.9) * 1e3,
        on_server.quantile(0.99) * 1e3,
        on_server.quantile(0.999) * 1e3,
        on_server.mean() * 1e3,
        pct_of(&lat, total, 0.5),
        pct_of(&lat, total, 0.99),
    );
    println!(
        "  meanwhile: devnet produced {} blocks, the monitor ingested {} blocks and {} epochs (finalized {ingested0} -> {ingested1})",
        head1 - head0,
        ingested1 - ingested0,
        epochs1 - epochs0
    );

    println!("memory:");
    print_memory(&format!(
        "service after the apply run (monitor following, {ingested1} blocks ingested)"
    ));

    // 2. Hot swap through the API. Every round installs bytes the engine has not seen (the
    //    component plus a custom section naming the round), so each install checks and
    //    compiles from scratch as a new policy would.
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    let post = |path: &str, headers: &str, body: &[u8]| {
        let t = Instant::now();
        let (status, out) = http(api, "POST", path, &format!("{auth}{headers}"), body);
        let d = t.elapsed();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(status, 200, "POST {path}: {v}");
        (d, v)
    };
    let wasm_body = "Content-Type: application/wasm\r\n";
    let json_body = "Content-Type: application/json\r\n";
    let activate_sha = |sha: &str| {
        let body = serde_json::json!({ "policy": sha, "at": "now" }).to_string();
        post("/policy/activate", json_body, body.as_bytes())
    };
    let default_sha = hex::encode(PolicyEngine::sha256(DEFAULT_POLICY_WASM));
    let (mut to_classic, mut to_default, mut install, mut activation, mut rollback) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut classic_label, mut default_label) = (String::new(), String::new());
    for round in 0..swaps {
        // Install + activate in one request (wasm body), classic then default.
        let (d, v) = post(
            "/policy/activate",
            wasm_body,
            &with_custom_section(&classic, round),
        );
        to_classic.push(d);
        classic_label = v["activated"].as_str().unwrap_or("?").to_string();
        let (d, v) = post(
            "/policy/activate",
            wasm_body,
            &with_custom_section(DEFAULT_POLICY_WASM, round),
        );
        to_default.push(d);
        default_label = v["activated"].as_str().unwrap_or("?").to_string();
        // The two steps apart: install (check + compile + store), then activation of the
        // stored policy by sha256; back to the default; rollback to the classic.
        let (d, v) = post(
            "/policy/install",
            wasm_body,
            &with_custom_section(&classic, 100 + round),
        );
        install.push(d);
        let sha = v["sha256"].as_str().expect("sha256").to_string();
        activation.push(activate_sha(&sha).0);
        activation.push(activate_sha(&default_sha).0);
        rollback.push(post("/policy/rollback", "", b"").0);
        activate_sha(&default_sha);
    }
    let summary = |mut v: Vec<Duration>| {
        v.sort();
        if v.is_empty() {
            "n/a".to_string()
        } else {
            format!(
                "median {:.1} ms, max {:.1} ms (n = {})",
                ms(v[v.len() / 2]),
                ms(v[v.len() - 1]),
                v.len()
            )
        }
    };
    println!(
        "hot swap over loopback HTTP, monitor following, {} B classic / {} B default component, new bytes every time:",
        classic.len(),
        DEFAULT_POLICY_WASM.len()
    );
    println!(
        "  POST /policy/activate (wasm: check + compile + store + activate) -> {classic_label}: {}",
        summary(to_classic)
    );
    println!(
        "  POST /policy/activate (wasm: check + compile + store + activate) -> {default_label}: {}",
        summary(to_default)
    );
    println!(
        "  POST /policy/install (check + compile + store, classic): {}",
        summary(install)
    );
    println!(
        "  POST /policy/activate {{\"policy\": sha256, \"at\": \"now\"}} (activation of a stored policy, alternating classic/default): {}",
        summary(activation)
    );
    println!("  POST /policy/rollback: {}", summary(rollback));
    // Compilation alone, in process, on new bytes.
    let mut load = Vec::new();
    for round in 0..swaps {
        let wasm = with_custom_section(&classic, 1000 + round);
        let t = Instant::now();
        let p = system.engine().load(&wasm).expect("load");
        load.push(t.elapsed());
        drop(p);
    }
    println!(
        "  in process: compile of the classic component (engine.load, new bytes): {}",
        summary(load)
    );

    println!("memory:");
    print_memory(&format!(
        "service after the swaps ({} components compiled and kept by the engine's cache)",
        4 * swaps + 1
    ));

    // 3. A synthetic 30-day ledger for 256 miners, held through the policy, next to the
    //    running service.
    let engine = PolicyEngine::new(
        Limits {
            fuel: u64::MAX / 4,
            memory_bytes: 1 << 30,
        },
        None,
    )
    .expect("engine");
    let policy = engine.load(DEFAULT_POLICY_WASM).expect("policy");
    let (rss0, _) = memory();
    let t = Instant::now();
    let s = sample::epoch(&policy, 256, 30).expect("sample");
    let held = policy.holdings(&s.params, &s.holdings).expect("holdings");
    let mults = policy
        .multipliers(&s.params, &s.multipliers)
        .expect("multipliers");
    let tranches: usize = s.holdings.ledgers.iter().map(|l| l.tranches.len()).sum();
    let (rss1, _) = memory();
    print_memory(&format!(
        "+ synthetic 30-day ledger (policy::sample: 256 miners, 600 epochs, {} holders, {tranches} tranches) built through the default policy and held with its holdings ({}) and multipliers ({}), {:.1} s; +{:.1} MiB over the service",
        s.holdings.ledgers.len(),
        held.len(),
        mults.len(),
        t.elapsed().as_secs_f64(),
        rss1 - rss0
    ));
    drop((s, held, mults, policy, engine));

    stop_producer.store(true, std::sync::atomic::Ordering::Relaxed);
    producing.join().expect("block producer");
    let _ = stop_api.send(());
    rt.block_on(server)
        .expect("server task")
        .expect("API server");
    system.shutdown().expect("shutdown");
    drop(system);
    if keep {
        println!("kept {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
