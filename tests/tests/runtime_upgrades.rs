//! Runtime upgrades through the real binaries: `vesting ingest` follows a `vesting devnet`
//! that starts on spec 393 and upgrades to 424 and then 459 in blocks that are also epoch
//! blocks (the `upgrades` scenario), says which runtime and profile it decodes with at
//! start and after each `System.CodeUpdated`, and every recorded decision replays
//! bit-identical. The same against the edges scenario on runtime 459 from genesis.
//! (Ground truth to the rao for both runs: `host/src/ingest/tests/{upgrades,edges}.rs`.)

use vesting_e2e::proc::devnet;
use vesting_e2e::vesting;

fn tmp_db(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("vesting-upg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("v.db").to_string_lossy().into_owned()
}

/// `vesting ingest` from block 1 to `until`; its log (stderr).
fn ingest(port: u16, db: &str, until: u64) -> String {
    let (code, _, err) = vesting(&[
        "ingest",
        "--netuid",
        "1",
        "--subtensor.chain_endpoint",
        &format!("ws://127.0.0.1:{port}"),
        "--db",
        db,
        "--from",
        "1",
        "--until",
        &until.to_string(),
    ]);
    assert_eq!(code, 0, "ingest failed: {err}");
    err
}

fn replay_all(db: &str) -> usize {
    let (code, out, err) = vesting(&["replay", "--all", "--db", db]);
    assert_eq!(code, 0, "replay failed: {out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains("replayed,"))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(n.len() >= 2, "{line}");
    assert_eq!(n[0], n[1], "not every decision is bit-identical: {line}");
    n[0]
}

#[test]
fn ingest_follows_393_to_424_to_459_and_replays_bit_identical() {
    let (_devnet, port) = devnet(15, &["--scenario", "upgrades"]);
    let db = tmp_db("upgrades");
    let log = ingest(port, &db, 250);
    for spec in [
        "runtime spec 393 (profile 393",
        "runtime spec 424 (profile 424",
        "runtime spec 459 (profile 459",
    ] {
        assert!(log.contains(spec), "the log never says {spec:?}:\n{log}");
    }
    let replayed = replay_all(&db);
    assert!(
        replayed >= 12,
        "only {replayed} decisions across the upgrades"
    );
}

#[test]
fn ingest_runs_on_459_from_genesis() {
    let (_devnet, port) = devnet(15, &["--scenario", "edges", "--runtime", "459"]);
    let db = tmp_db("edges-459");
    let log = ingest(port, &db, 265);
    assert!(
        log.contains("runtime spec 459 (profile 459: root claims pay TAO on root)"),
        "{log}"
    );
    assert!(!log.contains("runtime spec 424"), "{log}");
    let replayed = replay_all(&db);
    assert!(replayed >= 12, "only {replayed} decisions");
}
