use super::*;
use crate::policy::{HolderLedger, Tranche, TrancheKind};
use crate::store::{BlockRecord, LedgerStepRecord};

/// `holders` ledgers after `step` epochs: each earns a tranche per epoch, and the older
/// tranches vest a little at each step (as the default policy's do).
fn ledgers(holders: usize, step: u64) -> Vec<HolderLedger> {
    (0..holders)
        .map(|h| HolderLedger {
            holder: format!("5Holder{h:04}"),
            tranches: (0..=step)
                .map(|t| Tranche {
                    kind: if t % 7 == 3 {
                        TrancheKind::Manual
                    } else {
                        TrancheKind::Earned
                    },
                    start: t * 360,
                    block: t * 360,
                    amount: 1_000_000_000 + (h as u64) * 7_919 + t * 104_729,
                    remaining: 1_000_000_000 - (step - t) * 33_333_333 % 1_000_000_000,
                    scheduled: 1_000_000_000,
                    released: (step - t) * 33_333_333 % 1_000_000_000,
                    sold_locked: 0,
                })
                .collect(),
            unmatched_outflow: (h as u64 * step) % 5,
        })
        .collect()
}

fn epoch(n: u64, ledgers: Vec<HolderLedger>) -> BlockRecord {
    BlockRecord {
        number: n,
        hash: format!("0x{n:064x}"),
        step: Some(LedgerStepRecord {
            block: n,
            ledgers,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn payload_bytes(s: &Store) -> (i64, i64) {
    s.conn()
        .query_row(
            "SELECT SUM(LENGTH(payload)), SUM(raw_len) FROM ledger_steps",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn every_step_reads_back_exactly_and_is_much_smaller_than_its_json() {
    let mut s = Store::in_memory().unwrap();
    let steps = 2 * KEYFRAME_EVERY as u64 + 5;
    for n in 1..=steps {
        s.apply_block(&epoch(n, ledgers(64, n))).unwrap();
    }
    for n in 1..=steps {
        assert_eq!(s.ledgers_at(n).unwrap(), ledgers(64, n), "step #{n}");
    }
    let keyframes: i64 = s
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM ledger_steps WHERE base IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keyframes, 3, "steps 1, 17 and 33 are keyframes");
    let (stored, raw) = payload_bytes(&s);
    assert!(
        stored * 20 < raw,
        "{stored} bytes stored for {raw} bytes of JSON"
    );
    assert!(s.ledgers_at(steps + 1).unwrap().is_empty(), "no step there");
}

/// A writer that restarts (no cached previous step) writes the same bytes as one that
/// did not, so replicas and resumed ingests stay table-for-table identical.
#[test]
fn a_restarted_writer_writes_the_same_bytes() {
    let dir = std::env::temp_dir().join(format!("vesting-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.db"), dir.join("b.db"));
    let mut one = Store::open(&a).unwrap();
    for n in 1..=20 {
        one.apply_block(&epoch(n, ledgers(8, n))).unwrap();
    }
    // Reopened for every step: the cache is empty and each dictionary is decompressed
    // from the database.
    for n in 1..=20 {
        Store::open(&b)
            .unwrap()
            .apply_block(&epoch(n, ledgers(8, n)))
            .unwrap();
    }
    let two = Store::open(&b).unwrap();
    assert_eq!(
        one.dump_table("ledger_steps").unwrap(),
        two.dump_table("ledger_steps").unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pruning_keeps_whole_chains_and_serves_from_the_cut() {
    let mut s = Store::in_memory().unwrap();
    for n in 1..=40u64 {
        let mut b = epoch(n, ledgers(4, n));
        if n == 40 {
            b.prune_ledger_history_before = Some(20);
        }
        s.apply_block(&b).unwrap();
    }
    // Keyframes at 1, 17, 33: rows before 17 go, 17..=19 stay (the chain of 20 needs them).
    let first: i64 = s
        .conn()
        .query_row("SELECT MIN(block) FROM ledger_steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first, 17);
    assert_eq!(
        s.meta("ledger_history_from").unwrap().as_deref(),
        Some("20")
    );
    assert!(s.ledgers_at(19).unwrap().is_empty(), "before the cut");
    for n in 20..=40 {
        assert_eq!(s.ledgers_at(n).unwrap(), ledgers(4, n), "step #{n}");
    }
}

#[test]
fn old_layout_rows_are_still_read_and_pruned() {
    let mut s = Store::in_memory().unwrap();
    let l = ledgers(3, 2);
    for x in &l {
        s.conn()
            .execute(
                "INSERT INTO ledger_history (block, holder, ledger_json) VALUES (5, ?1, ?2)",
                rusqlite::params![x.holder, serde_json::to_string(x).unwrap()],
            )
            .unwrap();
    }
    assert_eq!(s.ledgers_at(5).unwrap(), l);
    let mut b = epoch(9, ledgers(3, 3));
    b.prune_ledger_history_before = Some(6);
    s.apply_block(&b).unwrap();
    assert!(s.dump_table("ledger_history").unwrap().is_empty());
    assert_eq!(s.ledgers_at(9).unwrap(), ledgers(3, 3));
}

#[test]
fn a_damaged_step_is_an_error_naming_the_block() {
    let mut s = Store::in_memory().unwrap();
    for n in 1..=3 {
        s.apply_block(&epoch(n, ledgers(2, n))).unwrap();
    }
    s.conn()
        .execute(
            "UPDATE ledger_steps SET payload = X'00112233' WHERE block = 2",
            [],
        )
        .unwrap();
    let e = s.ledgers_at(3).unwrap_err().to_string();
    assert!(e.contains("#2") && e.contains("decompress"), "{e}");
    s.conn()
        .execute("DELETE FROM ledger_steps WHERE block = 2", [])
        .unwrap();
    let e = s.ledgers_at(3).unwrap_err().to_string();
    assert!(e.contains("needs the step at #2"), "{e}");
}
