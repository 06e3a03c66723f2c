//! A real validator loop in Python: `examples/python/validator_loop.py` drives the
//! bittensor SDK (pinned in `tests/python/requirements-sdk.txt`) against `vesting devnet
//! --strict` with `tests/python/validator_loop_scenario.toml` (//Alice a registered
//! validator; a holder, a dumper and a partial seller as miners) and `vesting run` with
//! short days, so the miners' vesting multipliers have spread by the time the loop starts.
//! The loop runs twice on the same chain, base weights only (`--no-vesting`) and then
//! with the service's adjustment (`POST /weights/apply` through `VestingSystem`): every
//! tempo it syncs the metagraph, sets weights as //Alice's hotkey (the SDK's `SetWeights`
//! intent), waits for the epoch and reads the incentive back with the SDK. Checked: the
//! weights read back are the ones set, Yuma pays by them, and with vesting on the holder's
//! share of incentive is larger (and the dumper's smaller) than with it off.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vesting_e2e::proc::{Proc, devnet, free_port, http, run_service, wait_for};
use vesting_e2e::repo;

const PIP: &str = "pip install -r tests/python/requirements-sdk.txt";
/// The scenario's miners by uid.
const KEEP: &str = "1";
const DUMP: &str = "2";
/// Epochs per run.
const EPOCHS: &str = "2";

/// `vesting run` against `chain` with short days (2 epochs of 120 blocks a day, a 2-day
/// window), from block 1; its files removed when dropped.
struct Run {
    api: u16,
    files: Vec<PathBuf>,
    _proc: Proc,
}

impl Run {
    fn start(chain: u16) -> Run {
        let api = free_port();
        let base = std::env::temp_dir().join(format!("vesting-vloop-{}", std::process::id()));
        let (db, config) = (base.with_extension("db"), base.with_extension("toml"));
        std::fs::write(
            &config,
            "start_block = 1\nblocks_per_day = 240\nretention_window_days = 2\n\
             vesting_duration_days = 2\nblock_time_ms = 50\n",
        )
        .unwrap();
        let proc = run_service(chain, api, &db, &config, Stdio::null());
        let mut files = vec![config];
        for suffix in ["", "-wal", "-shm", ".lock"] {
            files.push(PathBuf::from(format!("{}{suffix}", db.display())));
        }
        Run {
            api,
            files,
            _proc: proc,
        }
    }

    /// uid -> multiplier (fixed point) served at `GET /multipliers`.
    fn multipliers(&self) -> BTreeMap<u64, u64> {
        let Some((200, body)) = http(self.api, "GET", "/multipliers", "") else {
            return BTreeMap::new();
        };
        let rows: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
        rows.iter()
            .filter_map(|r| Some((r["uid"].as_u64()?, r["multiplier"].as_u64()?)))
            .collect()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Runs the loop; its JSON lines.
fn validator_loop(chain: u16, api: u16, extra: &[&str]) -> Vec<Value> {
    let t0 = Instant::now();
    let out = Command::new("python3")
        .arg(repo().join("examples/python/validator_loop.py"))
        .args(["--chain", &format!("ws://127.0.0.1:{chain}")])
        .args(["--api", &format!("http://127.0.0.1:{api}")])
        .args([
            "--netuid",
            "1",
            "--wallet-uri",
            "//Alice",
            "--epochs",
            EPOCHS,
        ])
        .args(extra)
        .env(
            "HOME",
            std::env::temp_dir().join(format!("sdk-home-{chain}")),
        )
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "validator_loop.py {extra:?} failed after {:?}:\nstdout: {stdout}\nstderr: {stderr}",
        t0.elapsed()
    );
    eprintln!(
        "validator_loop.py {extra:?} ({:?}):\n{stdout}",
        t0.elapsed()
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    lines
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// A miner's share of the incentive paid to the loop's miners, in an epoch's line.
fn share(line: &Value, uid: &str) -> f64 {
    let inc = line["incentive"].as_object().unwrap();
    let total: f64 = inc.values().map(f).sum();
    assert!(total > 0.0, "no incentive paid: {line}");
    f(&inc[uid]) / total
}

/// Every line: the weights read back (the SDK's normalized row) are those set, and the
/// epoch after paid the miners' incentive by them (//Alice holds most of the stake).
fn check_line(line: &Value) {
    let uids = line["chain_uids"].as_array().unwrap();
    let w = line["weights"].as_array().unwrap();
    let total: f64 = w.iter().map(f).sum();
    let back = line["read_back"].as_object().unwrap();
    assert_eq!(back.len(), uids.len(), "{line}");
    for (u, x) in uids.iter().zip(w) {
        let got = f(&back[&u.to_string()]);
        assert!((got - f(x) / total).abs() < 1e-4, "read back {got}: {line}");
        let inc = share(line, &u.to_string());
        assert!(
            (inc - got).abs() < 0.01,
            "incentive {inc} vs weight {got}: {line}"
        );
    }
    assert!(
        line["epoch_block"].as_u64().unwrap() > line["set_block"].as_u64().unwrap(),
        "{line}"
    );
}

#[test]
fn a_python_validator_loop_sets_vesting_adjusted_weights_and_incentive_follows() {
    let probe = Command::new("python3")
        .args(["-c", "import bittensor, sys; print(bittensor.__file__)"])
        .output()
        .expect("python3 must be on PATH");
    assert!(
        probe.status.success(),
        "the bittensor SDK is not installed: run `{PIP}` ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    let t0 = Instant::now();
    let scenario = repo().join("tests/python/validator_loop_scenario.toml");
    // 600 blocks (5 epochs of 120) at once, then a block every 50 ms.
    let (_devnet, chain) = devnet(
        50,
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--prefill-blocks",
            "600",
            "--strict",
        ],
    );
    let run = Run::start(chain);
    // The multipliers have spread: the holder's is above the dumper's.
    wait_for(
        "the holder's multiplier above the dumper's",
        Duration::from_secs(60),
        || {
            let m = run.multipliers();
            matches!((m.get(&1), m.get(&2)), (Some(k), Some(d)) if k > d)
        },
    );
    eprintln!("multipliers spread after {:?}", t0.elapsed());

    let off = validator_loop(chain, run.api, &["--no-vesting"]);
    let on = validator_loop(chain, run.api, &[]);
    for line in off.iter().chain(&on) {
        check_line(line);
    }
    // Off: the base weights, uniform over the three miners: a third each.
    let last_off = off.last().unwrap();
    assert_eq!(last_off["vesting"], false);
    assert_eq!(
        last_off["weights"],
        serde_json::json!([65535, 65535, 65535])
    );
    for uid in ["1", "2", "3"] {
        assert!(
            (share(last_off, uid) - 1.0 / 3.0).abs() < 0.01,
            "{last_off}"
        );
    }
    // On: weights by multiplier; the holder earns more, the dumper less.
    let last_on = on.last().unwrap();
    assert_eq!(last_on["vesting"], true);
    let m = &last_on["multipliers"];
    assert!(f(&m[KEEP]) > f(&m[DUMP]), "{last_on}");
    let (keep_off, keep_on) = (share(last_off, KEEP), share(last_on, KEEP));
    let (dump_off, dump_on) = (share(last_off, DUMP), share(last_on, DUMP));
    eprintln!(
        "incentive shares, vesting off -> on: holder {keep_off:.4} -> {keep_on:.4}, \
         dumper {dump_off:.4} -> {dump_on:.4}; total {:?}",
        t0.elapsed()
    );
    assert!(keep_on > keep_off + 0.01, "{last_off}\n{last_on}");
    assert!(dump_on < dump_off - 0.01, "{last_off}\n{last_on}");
}
