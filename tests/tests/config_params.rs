//! One configuration for every command that makes decisions, through the real binaries
//! against a `vesting devnet`: a backfill with a non-default configuration (a TOML file,
//! a flag over it) records the same ledgers and decisions as `vesting run` with that
//! configuration over the same blocks; a start with other parameters on a database with
//! history is refused, saying what differs and the ways forward; a parameter change
//! scheduled with `vesting params set` goes into force at the next epoch block.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vesting_e2e::proc::{Proc, free_port, http, spawn, wait_for};
use vesting_e2e::vesting;
use vesting_host::store::Store;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vesting-params-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn devnet() -> (Proc, String) {
    let port = free_port();
    let p = spawn(&[
        "devnet",
        "--scenario",
        "attribution",
        "--port",
        &port.to_string(),
        "--block-time-ms",
        "40",
        "--archive",
    ]);
    wait_for("the devnet", Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (p, format!("ws://127.0.0.1:{port}"))
}

fn checkpoint(db: &Path) -> Option<u64> {
    Store::open_read_only(db)
        .ok()?
        .checkpoint()
        .ok()?
        .map(|c| c.block)
}

/// Rows of `sql` (one text column), joined by newlines.
fn rows(db: &Path, sql: &str, upto: u64) -> String {
    let s = Store::open_read_only(db).unwrap();
    let mut st = s.conn().prepare(sql).unwrap();
    let out: Vec<String> = st
        .query_map([upto as i64], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    out.join("\n")
}

const DECISIONS: &str = "SELECT block || ' ' || policy_sha256 || ' ' || input_sha256 || ' ' \
    || output_sha256 || ' ' || params_json FROM decisions WHERE block <= ?1 ORDER BY block";
/// The ledger history's rows (compressed against the previous step: equal bytes mean
/// equal ledgers at every step).
const LEDGERS: &str = "SELECT block || ' ' || ifnull(base, '-') || ' ' || raw_len || ' ' || \
    hex(payload) FROM ledger_steps WHERE block <= ?1 ORDER BY block";
const MULTIPLIERS: &str = "SELECT block || ' ' || uid || ' ' || multiplier || ' ' || held_factor \
    || ' ' || duration_factor || ' ' || eligible FROM multipliers WHERE block <= ?1 \
    ORDER BY block, uid";
const PAYMENTS: &str = "SELECT step_block || ' ' || seq || ' ' || holder || ' ' || block || ' ' \
    || alpha FROM vesting_payments WHERE step_block <= ?1 ORDER BY step_block, seq";

fn decision_blocks(db: &Path) -> Vec<(u64, String)> {
    rows(
        db,
        "SELECT block || ' ' || params_json FROM decisions WHERE block <= ?1 ORDER BY block",
        i64::MAX as u64,
    )
    .lines()
    .map(|l| {
        let (b, p) = l.split_once(' ').unwrap();
        (b.parse().unwrap(), p.to_string())
    })
    .collect()
}

/// `max_multiplier` as a decision recorded it (fixed point, 9 decimals).
fn max_multiplier(params_json: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(params_json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "max_multiplier")
        .and_then(|p| {
            p["value"]["fixed"]
                .as_u64()
                .or_else(|| p["value"]["Fixed"].as_u64())
        })
        .unwrap_or_else(|| panic!("no max_multiplier in {params_json}"))
}

#[test]
fn backfill_and_run_share_one_configuration_and_the_database_keeps_its_parameters() {
    let d = dir("backfill");
    let (_devnet, url) = devnet();
    let config = d.join("vesting.toml");
    let run_db = d.join("run.db");
    std::fs::write(
        &config,
        format!(
            "netuid = 1\nchain_endpoint = \"{url}\"\ndb_path = \"{}\"\nstart_block = 1\n\
             max_multiplier = 2.0\nretention_window_days = 7\nminimum_stake = 0.5\n\
             vesting_duration_days = 3\nblocks_per_day = 40\n",
            run_db.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let upto = 60;

    // `run` with the file's configuration, until it has written past `upto`.
    let api = free_port().to_string();
    let run = spawn(&["run", "--config", cfg, "--api", &format!("127.0.0.1:{api}")]);
    wait_for("run to pass the blocks", Duration::from_secs(120), || {
        checkpoint(&run_db).is_some_and(|b| b > upto)
    });
    drop(run);

    // `backfill` with the same file (its db_path replaced by a flag) over the same blocks.
    let bf_db = d.join("backfill.db");
    let bf = bf_db.to_str().unwrap();
    let until = upto.to_string();
    let (code, _, err) = vesting(&[
        "backfill",
        "--config",
        cfg,
        "--db",
        bf,
        "--from",
        "1",
        "--until",
        &until,
        "--no-follow",
    ]);
    assert_eq!(code, 0, "backfill failed: {err}");
    assert_eq!(checkpoint(&bf_db), Some(upto));
    for (what, sql) in [
        ("decisions", DECISIONS),
        ("ledger history", LEDGERS),
        ("multipliers", MULTIPLIERS),
        ("vesting payments", PAYMENTS),
    ] {
        let (a, b) = (rows(&run_db, sql, upto), rows(&bf_db, sql, upto));
        assert!(!a.is_empty(), "no {what} up to #{upto}");
        assert_eq!(a, b, "{what} of backfill and run differ");
    }
    let decisions = decision_blocks(&bf_db);
    assert!(decisions.len() >= 3, "{decisions:?}");
    for (b, p) in &decisions {
        assert_eq!(max_multiplier(p), 2_000_000_000, "decision #{b}: {p}");
    }

    // The default configuration decides otherwise (so the file was what decided above).
    let def_db = d.join("default.db");
    let (code, _, err) = vesting(&[
        "backfill",
        "--netuid",
        "1",
        "--subtensor.chain_endpoint",
        &url,
        "--db",
        def_db.to_str().unwrap(),
        "--from",
        "1",
        "--until",
        &until,
        "--no-follow",
    ]);
    assert_eq!(code, 0, "default backfill failed: {err}");
    assert_ne!(
        rows(&def_db, DECISIONS, upto),
        rows(&bf_db, DECISIONS, upto)
    );

    // Other parameters on a database with history: refused, nothing written.
    let (code, _, err) = vesting(&[
        "ingest",
        "--netuid",
        "1",
        "--subtensor.chain_endpoint",
        &url,
        "--db",
        bf,
        "--until",
        "80",
    ]);
    assert_eq!(code, 2, "a mismatched start must be refused: {err}");
    for want in [
        "max_multiplier: recorded 2, configured 1.5",
        "retention_window_days: recorded 7, configured 30",
        "use the recorded parameters",
        "vesting params set",
        "--accept-param-change",
    ] {
        assert!(err.contains(want), "refusal lacks {want:?}:\n{err}");
    }
    assert_eq!(
        checkpoint(&bf_db),
        Some(upto),
        "a refused start wrote blocks"
    );

    // A parameter change, scheduled, goes into force at the next epoch block.
    let (code, out, err) = vesting(&[
        "params",
        "set",
        "--config",
        cfg,
        "--db",
        bf,
        "--max-multiplier",
        "3.0",
    ]);
    assert_eq!(code, 0, "params set failed: {err}");
    assert!(out.contains("max_multiplier: 2 -> 3"), "{out}");
    let (_, list, _) = vesting(&["policy", "list", "--db", bf]);
    assert!(list.contains("params-schedule"), "{list}");
    let (_, stats, _) = vesting(&["stats", "--db", bf]);
    assert!(stats.contains("max_multiplier = 2\n"), "{stats}");
    assert!(stats.contains("max_multiplier: 2 -> 3"), "{stats}");
    let (_, stats_json, _) = vesting(&["stats", "--db", bf, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats_json).unwrap();
    let hotkey = v["miners"][0]["hotkey"]
        .as_str()
        .expect("a miner")
        .to_string();
    let (code, explain, err) = vesting(&["explain", &hotkey, "--db", bf]);
    assert_eq!(code, 0, "{err}");
    assert!(
        explain.contains("parameter change at the next epoch boundary: max_multiplier 2 -> 3"),
        "{explain}"
    );

    let later = 110;
    let (code, _, err) = vesting(&[
        "backfill",
        "--config",
        cfg,
        "--db",
        bf,
        "--max-multiplier",
        "3.0",
        "--from",
        &(upto + 1).to_string(),
        "--until",
        &later.to_string(),
    ]);
    assert_eq!(
        code, 0,
        "backfill with the scheduled parameters failed: {err}"
    );
    let decisions = decision_blocks(&bf_db);
    let (first_after, _) = decisions
        .iter()
        .find(|(b, _)| *b > upto)
        .cloned()
        .expect("an epoch after the change");
    for (b, p) in &decisions {
        let want = if *b < first_after { 2 } else { 3 };
        assert_eq!(max_multiplier(p), want * 1_000_000_000, "decision #{b}");
    }
    assert!(decisions.iter().filter(|(b, _)| *b > first_after).count() >= 1);
    let (_, list, _) = vesting(&["policy", "list", "--db", bf, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let activated: Vec<u64> = v["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "params-activate")
        .map(|l| l["block"].as_u64().unwrap())
        .collect();
    assert_eq!(activated, vec![first_after], "{list}");
    let (_, stats, _) = vesting(&["stats", "--db", bf, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(v["pending_params"].is_null(), "{stats}");
    assert!(stats.contains("3000000000"), "{stats}");

    // Back on the old parameters without a change: refused, by `run` as by `ingest`.
    let (code, _, err) = vesting(&["ingest", "--config", cfg, "--db", bf, "--until", "120"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("max_multiplier: recorded 3, configured 2"),
        "{err}"
    );
    let api = format!("127.0.0.1:{}", free_port());
    let (code, _, err) = vesting(&["run", "--config", cfg, "--db", bf, "--api", &api]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("max_multiplier: recorded 3, configured 2"),
        "{err}"
    );
    assert_eq!(checkpoint(&bf_db), Some(later));

    // ... or with --accept-param-change: scheduled, in force from the next epoch block.
    let (code, _, err) = vesting(&[
        "ingest",
        "--config",
        cfg,
        "--db",
        bf,
        "--accept-param-change",
        "--until",
        "160",
    ]);
    assert_eq!(code, 0, "{err}");
    let decisions = decision_blocks(&bf_db);
    let (second, _) = decisions
        .iter()
        .find(|(b, _)| *b > later)
        .cloned()
        .expect("an epoch after the second change");
    for (b, p) in decisions.iter().filter(|(b, _)| *b >= first_after) {
        let want = if *b < second { 3 } else { 2 };
        assert_eq!(max_multiplier(p), want * 1_000_000_000, "decision #{b}");
    }
    let (_, list, _) = vesting(&["policy", "list", "--db", bf]);
    assert!(list.contains(&format!("(block #{second})")), "{list}");
}

/// `vesting params set` beside a running `vesting run`: the service puts the change in
/// force at its next epoch block, every decision before with the old parameters, every
/// one after with the new.
#[test]
fn a_change_set_while_run_serves_goes_into_force_at_its_next_epoch_block() {
    let d = dir("live");
    let (_devnet, url) = devnet();
    let config = d.join("vesting.toml");
    let db = d.join("run.db");
    std::fs::write(
        &config,
        format!(
            "netuid = 1\nchain_endpoint = \"{url}\"\ndb_path = \"{}\"\nstart_block = 1\n\
             max_multiplier = 2.0\n",
            db.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let api = free_port().to_string();
    let _run = spawn(&["run", "--config", cfg, "--api", &format!("127.0.0.1:{api}")]);
    wait_for("run to record epochs", Duration::from_secs(120), || {
        checkpoint(&db).is_some_and(|b| b > 40)
    });
    let before = checkpoint(&db).unwrap();
    let (code, out, err) = vesting(&["params", "set", "--config", cfg, "--max-multiplier", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("max_multiplier: 2 -> 3"), "{out}");
    let after = checkpoint(&db).unwrap();
    let activated = || {
        let (_, list, _) = vesting(&["policy", "list", "--db", db.to_str().unwrap(), "--json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        v["log"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["action"] == "params-activate")
            .and_then(|l| l["block"].as_u64())
    };
    wait_for("the change at an epoch", Duration::from_secs(120), || {
        activated().is_some()
    });
    let at = activated().unwrap();
    wait_for("a later epoch", Duration::from_secs(120), || {
        decision_blocks(&db).iter().any(|(b, _)| *b > at)
    });
    let decisions = decision_blocks(&db);
    assert!(
        decisions.iter().any(|(b, _)| *b == at),
        "{at}: {decisions:?}"
    );
    for (b, p) in &decisions {
        let want = if *b < at { 2 } else { 3 };
        assert_eq!(max_multiplier(p), want * 1_000_000_000, "decision #{b}");
        assert!(*b > before || want == 2, "decision #{b} before the change");
        assert!(*b <= after || want == 3, "decision #{b} after the change");
    }
    let (_, stats, _) = vesting(&["stats", "--db", db.to_str().unwrap()]);
    assert!(stats.contains("max_multiplier = 3\n"), "{stats}");
    // The HTTP API says the same: the recorded parameters, nothing pending.
    let (status, body) =
        http(api.parse().unwrap(), "GET", "/policy", "").expect("GET /policy answers");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        max_multiplier(&v["params_in_force"].to_string()),
        3_000_000_000,
        "{body}"
    );
    assert!(v["params_pending"].is_null(), "{body}");
}
