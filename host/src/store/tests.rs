//! Store tests: migrations, u64 round trips, atomic and idempotent block application,
//! gap refusal, registrations and associations with block ranges, service queries.

use super::*;
use crate::policy::{Flow, FlowKind, HolderLedger, MinerMultiplier, Tranche, TrancheKind};

fn flow(block: u64, ev: u32, kind: FlowKind, alpha: u64) -> Flow {
    Flow {
        block,
        extrinsic: Some(1),
        event_index: ev,
        kind,
        hotkey: "hk".into(),
        coldkey: "ck".into(),
        netuid: 1,
        alpha,
        counterparty: None,
    }
}

fn block(n: u64) -> BlockRecord {
    BlockRecord {
        number: n,
        hash: format!("0x{n:064x}"),
        events: 3,
        flows: vec![
            flow(n, 1, FlowKind::Added, u64::MAX),
            flow(n, 2, FlowKind::Removed, 5),
        ],
        ..Default::default()
    }
}

#[test]
fn migrations_are_valid_and_reach_the_latest_version() {
    migrations::all().validate().unwrap();
    let s = Store::in_memory().unwrap();
    let v: i64 = s
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v as usize, migrations::migrations().len());
    let tables = s.tables().unwrap();
    for t in [
        "blocks",
        "checkpoint",
        "consumptions",
        "epochs",
        "holdings",
        "hotkey_owners",
        "ledger_history",
        "ledger_steps",
        "ledgers",
        "multipliers",
        "stake_changes",
        "stake_flows",
        "stake_snapshots",
        "tracked_coldkeys",
        "tranches",
        "uid_registrations",
        "vesting_payments",
    ] {
        assert!(tables.iter().any(|x| x == t), "missing table {t}");
    }
}

#[test]
fn reopening_a_file_keeps_data_and_schema() {
    let dir = tempdir();
    let p = dir.join("a.db");
    let mut s = Store::open(&p).unwrap();
    s.apply_block(&block(10)).unwrap();
    drop(s);
    let s = Store::open(&p).unwrap();
    assert_eq!(s.checkpoint().unwrap().unwrap().block, 10);
    let r = Store::open_read_only(&p).unwrap();
    assert_eq!(r.flows(10, 10).unwrap().len(), 2);
}

#[test]
fn a_corrupt_file_is_a_clear_error() {
    let dir = tempdir();
    let p = dir.join("bad.db");
    std::fs::write(
        &p,
        b"this is not a database, just some bytes of text ............",
    )
    .unwrap();
    let e = Store::open(&p).err().expect("must fail").to_string();
    assert!(e.contains("bad.db") && e.contains("not a database"), "{e}");
}

#[test]
fn blocks_apply_once_in_order_and_u64_round_trips() {
    let mut s = Store::in_memory().unwrap();
    assert_eq!(s.apply_block(&block(5)).unwrap(), write::Applied::Written);
    // Idempotent: the same block again writes nothing.
    assert_eq!(
        s.apply_block(&block(5)).unwrap(),
        write::Applied::AlreadyApplied
    );
    assert_eq!(s.dump_table("stake_flows").unwrap().len(), 2);
    // A gap is refused and leaves nothing behind.
    let e = s.apply_block(&block(7)).unwrap_err().to_string();
    assert!(e.contains("refusing to leave a gap"), "{e}");
    assert_eq!(s.checkpoint().unwrap().unwrap().block, 5);
    s.apply_block(&block(6)).unwrap();
    // Another chain's block at a stored height is refused.
    let mut other = block(6);
    other.hash = "0xdead".into();
    assert!(
        s.apply_block(&other)
            .unwrap_err()
            .to_string()
            .contains("another chain")
    );
    let f = s.flows(5, 6).unwrap();
    assert_eq!(f.len(), 4);
    assert_eq!(f[0].flow.alpha, u64::MAX, "u64 above i64::MAX round-trips");
    assert_eq!(f[1].flow.kind, FlowKind::Removed);
    assert_eq!(
        s.checkpoint().unwrap().unwrap(),
        Checkpoint {
            block: 6,
            hash: format!("0x{:064x}", 6)
        }
    );
}

#[test]
fn a_failing_block_writes_nothing() {
    let mut s = Store::in_memory().unwrap();
    s.apply_block(&block(1)).unwrap();
    let mut b = block(2);
    // Two epoch rows with the same key: the second insert fails inside the transaction.
    let ep = EpochRecord {
        netuid: 1,
        block: 2,
        status: EpochStatus::Run,
        epoch_index: Some(1),
        tempo: Some(10),
        rule: "dynamic".into(),
        deferred_to: None,
    };
    b.epochs = vec![ep.clone(), ep];
    assert!(s.apply_block(&b).is_err());
    assert_eq!(s.checkpoint().unwrap().unwrap().block, 1);
    assert!(s.flows(2, 2).unwrap().is_empty());
    assert!(s.dump_table("blocks").unwrap().len() == 1);
}

#[test]
fn registrations_and_owners_keep_ranges_and_history() {
    let mut s = Store::in_memory().unwrap();
    let mut b = block(1);
    b.registrations.push(RegistrationSeen {
        netuid: 1,
        uid: 2,
        hotkey: "carol".into(),
        block: 1,
    });
    b.owners.push(OwnerSeen {
        hotkey: "carol".into(),
        coldkey: "c".into(),
        block: 1,
    });
    s.apply_block(&b).unwrap();
    let mut b = block(2);
    b.registrations.push(RegistrationSeen {
        netuid: 1,
        uid: 2,
        hotkey: "carol".into(),
        block: 2,
    });
    s.apply_block(&b).unwrap();
    let mut b = block(3);
    b.registrations.push(RegistrationSeen {
        netuid: 1,
        uid: 2,
        hotkey: "dave".into(),
        block: 3,
    });
    s.apply_block(&b).unwrap();
    assert_eq!(s.registrations(1).unwrap().get(&2).unwrap(), "dave");
    let rows = s.dump_table("uid_registrations").unwrap();
    assert_eq!(
        rows,
        vec![
            "1|2|'carol'|1|3".to_string(),
            "1|2|'dave'|3|NULL".to_string()
        ]
    );
    assert_eq!(s.owners().unwrap().get("carol").unwrap(), "c");
}

#[test]
fn latest_multipliers_and_holder_stats() {
    let mut s = Store::in_memory().unwrap();
    let m = |uid: u16, v: u64| MinerMultiplier {
        uid,
        hotkey: format!("h{uid}"),
        holder: "c".into(),
        multiplier: v,
        held_factor: 1,
        duration_factor: 2,
        eligible: true,
    };
    let ledger = HolderLedger {
        holder: "c".into(),
        tranches: vec![Tranche {
            kind: TrancheKind::Earned,
            start: 0,
            block: 1,
            amount: 10,
            remaining: 10,
            scheduled: 10,
            released: 0,
            sold_locked: 0,
        }],
        unmatched_outflow: 0,
    };
    for (n, v) in [(1u64, 100u64), (2, 200)] {
        let mut b = block(n);
        b.step = Some(LedgerStepRecord {
            block: n,
            ledgers: vec![ledger.clone()],
            multipliers: vec![m(0, v), m(1, v + 1)],
            ..Default::default()
        });
        s.apply_block(&b).unwrap();
    }
    let latest = s.latest_multipliers().unwrap();
    assert_eq!(
        latest
            .iter()
            .map(|r| (r.uid, r.multiplier))
            .collect::<Vec<_>>(),
        vec![(0, 200), (1, 201)]
    );
    assert_eq!(s.miner_multipliers("h1").unwrap().len(), 2);
    assert_eq!(s.ledgers().unwrap(), vec![ledger]);
    assert_eq!(s.dump_table("tranches").unwrap().len(), 1);
    assert_eq!(s.dump_table("ledger_steps").unwrap().len(), 2);
    // The query plan for the service's latest-multiplier lookup uses the index.
    let plan: String = s
        .conn()
        .query_row(
            "EXPLAIN QUERY PLAN SELECT * FROM multipliers WHERE hotkey = 'h1'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("multipliers_hotkey"), "{plan}");
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "vesting-store-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
