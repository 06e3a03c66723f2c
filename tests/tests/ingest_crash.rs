//! Crash safety through the real binaries: `vesting ingest` is killed with SIGKILL at many
//! random points while following a `vesting devnet`, restarted each time, and its final
//! store equals, table by table and row for row, that of an uninterrupted run.

use std::process::{Command, Stdio};
use std::time::Duration;

use vesting_e2e::vesting_bin;
use vesting_host::store::Store;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vesting-crash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("v.db")
}

fn ingest(port: u16, db: &std::path::Path, until: u64) -> Command {
    let mut c = Command::new(vesting_bin());
    c.args([
        "ingest",
        "--netuid",
        "1",
        "--subtensor.chain_endpoint",
        &format!("ws://127.0.0.1:{port}"),
        "--db",
        db.to_str().unwrap(),
        "--from",
        "1",
        "--until",
        &until.to_string(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

#[test]
fn sigkill_at_random_points_then_restart_equals_an_uninterrupted_run() {
    let (_devnet, port) = vesting_e2e::proc::devnet(30, &["--scenario", "attribution"]);
    let until = 160;
    // Crash loop: start, kill -9 after a random delay, again; then let it finish.
    let crashed = tmp("crashed");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rand = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let mut kills = 0;
    for _ in 0..12 {
        let mut child = ingest(port, &crashed, until).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(150 + rand() % 600));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    let st = ingest(port, &crashed, until).status().unwrap();
    assert!(st.success(), "final ingest failed: {st}");
    assert!(kills >= 8, "only {kills} kills landed while ingesting");
    // The uninterrupted run.
    let clean = tmp("clean");
    let st = ingest(port, &clean, until).status().unwrap();
    assert!(st.success());
    let a = Store::open(&crashed).unwrap();
    let b = Store::open(&clean).unwrap();
    assert_eq!(a.checkpoint().unwrap().unwrap().block, until);
    let tables = b.tables().unwrap();
    assert!(tables.len() >= 16);
    for t in tables {
        // The policy rows carry wall-clock install and change times, not chain history.
        if t == "policies" || t == "policy_log" {
            continue;
        }
        let (x, y) = (a.dump_table(&t).unwrap(), b.dump_table(&t).unwrap());
        assert_eq!(x.len(), y.len(), "table {t}: row counts differ");
        assert_eq!(x, y, "table {t} differs");
    }
    assert_eq!(
        b.dump_table("blocks").unwrap().len() as u64,
        until,
        "every block exactly once"
    );
    assert!(!b.dump_table("stake_changes").unwrap().is_empty());
}
