//! Tests of the policy lifecycle tables: storing, finding, activation now and at an epoch
//! block (in the block's transaction), rollback, shadow, the log and the revision.

use super::*;

fn put(s: &Store, sha: &str, name: &str) {
    s.put_policy(&NewPolicy {
        sha256: sha,
        name,
        version: "0.1.0",
        contract: "bittensor:vesting@0.1.0",
        wasm: b"\0asm fake",
        origin: "checked",
        report_json: "null",
    })
    .unwrap();
}

fn block(n: u64) -> BlockRecord {
    BlockRecord {
        number: n,
        hash: format!("0x{n:064x}"),
        ..Default::default()
    }
}

const A: &str = "aaaaaaaa11111111aaaaaaaa11111111aaaaaaaa11111111aaaaaaaa11111111";
const B: &str = "bbbbbbbb22222222bbbbbbbb22222222bbbbbbbb22222222bbbbbbbb22222222";

#[test]
fn activate_rollback_and_find() {
    let s = Store::in_memory().unwrap();
    assert_eq!(s.policy_state().unwrap(), PolicyState::default());
    put(&s, A, "default");
    put(&s, B, "classic");
    put(&s, A, "default"); // the same sha256 again: no new row, no log entry
    assert_eq!(s.policies().unwrap().len(), 2);
    assert_eq!(s.find_policy("classic").unwrap().sha256, B);
    assert_eq!(s.find_policy("bbbbbbbb2").unwrap().sha256, B);
    let e = s.find_policy("nope").unwrap_err().to_string();
    assert!(
        e.contains("no stored policy") && e.contains("policy list"),
        "{e}"
    );
    assert!(
        s.activate_policy("cccccc", "x").is_err(),
        "unknown sha refused"
    );

    let st = s.activate_policy(A, "start").unwrap();
    assert_eq!(
        (st.active.as_deref(), st.previous.as_deref()),
        (Some(A), None)
    );
    let st = s.activate_policy(B, "swap").unwrap();
    assert_eq!(
        (st.active.as_deref(), st.previous.as_deref()),
        (Some(B), Some(A))
    );
    // Activating the active one again keeps `previous`.
    let st = s.activate_policy(B, "again").unwrap();
    assert_eq!(st.previous.as_deref(), Some(A));
    let st = s.rollback_policy("back").unwrap();
    assert_eq!(
        (st.active.as_deref(), st.previous.as_deref()),
        (Some(A), Some(B))
    );
    assert!(s.find_policy(A).unwrap().activated_at.is_some());

    let log = s.policy_log(100).unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|l| l.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "install", "install", "activate", "activate", "activate", "rollback"
        ]
    );
    assert_eq!(
        st.revision,
        log.len() as u64,
        "every change bumps the revision"
    );
}

#[test]
fn rollback_without_history_is_refused() {
    let s = Store::in_memory().unwrap();
    let e = s.rollback_policy("x").unwrap_err().to_string();
    assert!(e.contains("no previous policy"), "{e}");
}

#[test]
fn scheduled_activation_commits_with_the_epoch_block() {
    let mut s = Store::in_memory().unwrap();
    put(&s, A, "default");
    put(&s, B, "classic");
    s.activate_policy(A, "start").unwrap();
    s.schedule_policy(B, "next epoch").unwrap();
    s.set_shadow_policy(Some(B), "compare").unwrap();
    let mut b = block(1);
    b.decision = Some(DecisionRecord {
        block: 1,
        policy_sha256: B.into(),
        input_sha256: "in".into(),
        output_sha256: "out".into(),
        params_json: "[]".into(),
        resolved_params_json: "[]".into(),
        miners_json: "[]".into(),
    });
    b.activation = Some(B.into());
    s.apply_block(&b).unwrap();
    let st = s.policy_state().unwrap();
    assert_eq!(
        (
            st.active.as_deref(),
            st.previous.as_deref(),
            st.pending.as_deref()
        ),
        (Some(B), Some(A), None)
    );
    let log = s.policy_log(1).unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].block),
        ("epoch-activate", Some(1))
    );
    assert_eq!(
        s.decision_at_or_before(5).unwrap().unwrap().policy_sha256,
        B
    );
    assert_eq!(s.decision_blocks().unwrap(), [1]);

    // An activation whose schedule was replaced meanwhile does nothing.
    s.schedule_policy(A, "changed my mind").unwrap();
    let mut b2 = block(2);
    b2.activation = Some(B.into());
    s.apply_block(&b2).unwrap();
    assert_eq!(s.policy_state().unwrap().pending.as_deref(), Some(A));
    assert_eq!(s.policy_state().unwrap().active.as_deref(), Some(B));
}

#[test]
fn shadow_runs_round_trip() {
    let mut s = Store::in_memory().unwrap();
    let mut b = block(1);
    b.shadow = Some(ShadowRecord {
        run: ShadowRun {
            block: 1,
            candidate: B.into(),
            active: A.into(),
            total_weight_diff: 20,
            max_weight_diff: 10,
            miners_changed: 2,
            error: None,
        },
        diffs: vec![
            ShadowDiff {
                uid: 0,
                hotkey: "h0".into(),
                active_multiplier: 1,
                candidate_multiplier: 2,
                active_weight: u64::MAX,
                candidate_weight: 10,
            },
            ShadowDiff {
                uid: 1,
                hotkey: "h1".into(),
                ..Default::default()
            },
        ],
    });
    s.apply_block(&b).unwrap();
    let runs = s.shadow_runs(5).unwrap();
    assert_eq!(runs, [b.shadow.clone().unwrap().run]);
    assert_eq!(s.shadow_diffs(1, B).unwrap(), b.shadow.unwrap().diffs);
}

/// A `vesting policy` command writing while the monitor writes: the monitor waits for the
/// lock instead of failing (a deferred transaction failed at once when the other
/// connection committed between its first read and its first write).
#[test]
fn the_monitor_waits_for_another_writer() {
    let dir = std::env::temp_dir().join(format!("vesting-two-writers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.db");
    let mut monitor = Store::open(&path).unwrap();
    monitor.apply_block(&block(1)).unwrap();
    let other = Store::open(&path).unwrap();
    other
        .conn()
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('k', 'v');")
        .unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        other.conn().execute_batch("COMMIT").unwrap();
        put(&other, A, "default");
    });
    monitor.apply_block(&block(2)).unwrap();
    holder.join().unwrap();
    assert_eq!(monitor.checkpoint().unwrap().unwrap().block, 2);
    assert_eq!(monitor.meta("k").unwrap().as_deref(), Some("v"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ledger history older than the configured window is deleted with an epoch's block, and
/// the store says from which block replays are possible.
#[test]
fn ledger_history_is_pruned_to_the_window() {
    let mut s = Store::in_memory().unwrap();
    let ledger = crate::policy::HolderLedger {
        holder: "c".into(),
        tranches: vec![],
        unmatched_outflow: 0,
    };
    for n in 1..=5u64 {
        let mut b = block(n);
        b.step = Some(LedgerStepRecord {
            block: n,
            ledgers: vec![ledger.clone()],
            ..Default::default()
        });
        if n == 5 {
            b.prune_ledger_history_before = Some(3);
        }
        s.apply_block(&b).unwrap();
    }
    assert!(s.ledgers_at(2).unwrap().is_empty(), "pruned");
    assert_eq!(s.ledgers_at(3).unwrap().len(), 1, "kept");
    assert_eq!(s.ledgers_at(5).unwrap().len(), 1);
    assert_eq!(s.meta("ledger_history_from").unwrap().as_deref(), Some("3"));
    assert_eq!(
        s.ledgers().unwrap().len(),
        1,
        "the current ledgers are never pruned"
    );
}
