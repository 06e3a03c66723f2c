//! The dashboard in a real browser: `vesting devnet` (the demo subnet, two weeks of
//! history prefilled) and `vesting run` with the demo's short days, a shadow policy set from
//! another process, then Debian's Chromium headless on `GET /`: every chart marks that it
//! drew data (`data-series`, `data-points` > 0) and every miner has a row. A second run
//! saves a screenshot to `target/dashboard.png` (and, with `VESTING_UPDATE_SCREENSHOT=1`,
//! to `docs/dashboard.png`, the README's picture).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vesting_e2e::proc::{Proc, devnet, free_port, http, run_service, wait_for};
use vesting_e2e::{CLASSIC_POLICY_WASM, repo, vesting};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHARTS: [&str; 6] = [
    "chart-history",
    "chart-current",
    "chart-flows",
    "chart-holders",
    "chart-lag",
    "chart-shadow",
];
/// Two weeks of the demo subnet's 720-block days (28 epochs of tempo 360) before the
/// service starts: enough for the multipliers to spread, as in `vesting demo`.
const PREFILL: &str = "10080";

/// `vesting run` against `chain` with the demo's parameters, from block 1; its log kept.
struct Run {
    api: u16,
    db: PathBuf,
    log: PathBuf,
    config: PathBuf,
    _proc: Proc,
}

impl Run {
    fn start(chain: u16) -> Run {
        let api = free_port();
        let base = std::env::temp_dir().join(format!("vesting-dashboard-{}", std::process::id()));
        let (db, log, config) = (
            base.with_extension("db"),
            base.with_extension("log"),
            base.with_extension("toml"),
        );
        std::fs::write(
            &config,
            "start_block = 1\nblocks_per_day = 720\nretention_window_days = 7\n\
             block_time_ms = 100\n",
        )
        .unwrap();
        let proc = run_service(
            chain,
            api,
            &db,
            &config,
            std::fs::File::create(&log).unwrap().into(),
        );
        Run {
            api,
            db,
            log,
            config,
            _proc: proc,
        }
    }

    fn db_arg(&self) -> &str {
        self.db.to_str().unwrap()
    }

    fn data(&self) -> Option<Value> {
        let (status, body) = http(self.api, "GET", "/dashboard/data", "")?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- vesting run's log (last lines, newest first):\n{}",
                tail.join("\n")
            );
        }
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.config);
    }
}

/// `vesting <args> --db <db>`, which must succeed.
fn cli(db: &str, args: &[&str]) {
    let mut a = args.to_vec();
    a.extend(["--db", db]);
    let (code, out, err) = vesting(&a);
    assert_eq!(code, 0, "vesting {a:?} failed:\n{out}{err}");
}

/// Headless Chromium on `url` with a fresh profile and `extra` flags; its stdout (the DOM
/// with `--dump-dom`). Killed after two minutes.
fn chromium(url: &str, extra: &[String]) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the dashboard test needs Debian's Chromium \
         (run `apt-get install -y chromium`)"
    );
    let profile =
        std::env::temp_dir().join(format!("vesting-chromium-{}-{}", std::process::id(), {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        }));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let out_path = profile.with_extension("out");
    let mut child = Proc(
        Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--virtual-time-budget=8000")
            .args(extra)
            .arg(url)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromium"),
    );
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "chromium did not finish within 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    let _ = std::fs::remove_file(&out_path);
    assert!(status.success(), "chromium failed ({status}):\n{out}");
    out
}

/// The value of `attr` on the element with id `id` in a dumped DOM.
fn attr(dom: &str, id: &str, attr: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let start = dom[..at].rfind('<')?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let v = tag.split(&format!(" {attr}=\"")).nth(1)?;
    Some(v.split('"').next()?.to_string())
}

#[test]
fn dashboard_draws_every_chart_in_chromium() {
    let (_chain, chain) = devnet(100, &["--scenario", "demo", "--prefill-blocks", PREFILL]);
    let run = Run::start(chain);
    wait_for("the API", Duration::from_secs(120), || {
        http(run.api, "GET", "/health", "").is_some()
    });
    // A candidate policy in shadow from another process: the service runs it beside the
    // policy in service at every epoch it ingests from now on.
    cli(run.db_arg(), &["policy", "install", CLASSIC_POLICY_WASM]);
    cli(run.db_arg(), &["policy", "shadow", "classic"]);
    let mut data = Value::Null;
    wait_for(
        "the service to catch up (epochs, flows, holders, a shadow run on /dashboard/data)",
        Duration::from_secs(300),
        || {
            data = run.data().unwrap_or_default();
            data["epochs"].as_array().is_some_and(|e| e.len() >= 20)
                && data["health"]["status"] == "ok"
                && data["holders"].as_array().is_some_and(|h| !h.is_empty())
                && data["shadow"]["miners"]
                    .as_array()
                    .is_some_and(|m| !m.is_empty())
                && data["flows"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|e| e["earned"].as_f64() > Some(0.0)))
                && data["flows"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|e| e["manual_out"].as_f64() > Some(0.0)))
        },
    );
    let miners = data["miners"].as_array().unwrap().len();
    assert!(miners >= 64, "{miners} miners on the demo subnet");

    let url = format!("http://127.0.0.1:{}/", run.api);
    let started = Instant::now();
    let dom = chromium(&url, &["--dump-dom".into()]);
    eprintln!(
        "chromium --dump-dom: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for c in CHARTS {
        let series: u64 = attr(&dom, c, "data-series")
            .unwrap_or_else(|| panic!("#{c} has no data-series: it drew nothing\n{dom}"))
            .parse()
            .unwrap();
        let points: u64 = attr(&dom, c, "data-points").unwrap().parse().unwrap();
        assert!(
            series > 0 && points > 0,
            "#{c} drew {series} series, {points} points"
        );
    }
    // The multiplier history has a series per miner, over the epochs.
    let history: u64 = attr(&dom, "chart-history", "data-series")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        history as usize >= miners / 2,
        "{history} of {miners} miners drawn"
    );
    let rows = dom.matches("<tr class=\"miner").count();
    assert!(rows >= miners, "{rows} miner rows for {miners} miners");
    assert!(
        attr(&dom, "health", "class").is_some_and(|c| c.contains("ok") || c.contains("unavail")),
        "the health badge was never filled in"
    );
    assert!(
        attr(&dom, "error", "hidden").is_some(),
        "the page shows an error"
    );

    // The screenshot: an artifact, and the README's picture when asked for.
    let png = repo().join("target").join("dashboard.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &url,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,1800".into(),
        ],
    );
    let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        bytes.len() > 50_000,
        "a {} byte screenshot is blank",
        bytes.len()
    );
    eprintln!("screenshot: {}", png.display());
    if std::env::var("VESTING_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = repo().join("docs").join("dashboard.png");
        std::fs::copy(&png, &docs).unwrap();
        eprintln!("updated {}", docs.display());
    }
}
