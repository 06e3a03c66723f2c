//! Tests of the parameters in the store: recorded, scheduled, put in force with an epoch
//! block (in its transaction), a replaced or cancelled change, the log, and the migration
//! that adds them keeping the change log.

use super::*;
use crate::policy::{Param, ParamValue};

fn params(max: u64, window: u64) -> Vec<Param> {
    vec![
        Param {
            name: "max_multiplier".into(),
            value: ParamValue::Fixed(max),
        },
        Param {
            name: "retention_window_days".into(),
            value: ParamValue::Count(window),
        },
    ]
}

fn block(n: u64) -> BlockRecord {
    BlockRecord {
        number: n,
        hash: format!("0x{n:064x}"),
        ..Default::default()
    }
}

#[test]
fn a_scheduled_change_goes_into_force_with_the_epoch_block() {
    let mut s = Store::in_memory().unwrap();
    assert_eq!(s.param_state().unwrap(), ParamState::default());
    let (a, b) = (params(1_500_000_000, 30), params(2_000_000_000, 7));
    s.record_params(&a, "first start").unwrap();
    let st = s.schedule_params(&b, "requested").unwrap();
    assert_eq!(
        (st.in_force.as_ref(), st.pending.as_ref()),
        (Some(&a), Some(&b))
    );
    let log = s.policy_log(1).unwrap();
    assert_eq!(log[0].action, "params-schedule");
    assert!(
        log[0]
            .note
            .contains("max_multiplier 1.5 -> 2; retention_window_days 30 -> 7"),
        "{}",
        log[0].note
    );
    // A block without the change leaves it pending.
    s.apply_block(&block(1)).unwrap();
    assert_eq!(s.param_state().unwrap().pending.as_ref(), Some(&b));
    let mut e = block(2);
    e.param_activation = Some(params_json(&b));
    s.apply_block(&e).unwrap();
    let st = s.param_state().unwrap();
    assert_eq!((st.in_force, st.pending), (Some(b.clone()), None));
    let log = s.policy_log(1).unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].block),
        ("params-activate", Some(2))
    );
}

#[test]
fn a_replaced_or_cancelled_change_is_not_put_in_force() {
    let mut s = Store::in_memory().unwrap();
    let (a, b, c) = (
        params(1_500_000_000, 30),
        params(2_000_000_000, 7),
        params(3_000_000_000, 7),
    );
    s.record_params(&a, "first start").unwrap();
    s.schedule_params(&b, "one").unwrap();
    s.schedule_params(&c, "another").unwrap();
    let mut e = block(1);
    e.param_activation = Some(params_json(&b));
    s.apply_block(&e).unwrap();
    let st = s.param_state().unwrap();
    assert_eq!(
        (st.in_force.as_ref(), st.pending.as_ref()),
        (Some(&a), Some(&c))
    );
    // Setting the parameters in force cancels the pending change.
    let st = s.schedule_params(&a, "never mind").unwrap();
    assert_eq!(st.pending, None);
    assert_eq!(s.policy_log(1).unwrap()[0].action, "params-cancel");
}

#[test]
fn differences_are_named_with_both_values() {
    let d = params_diff(&params(1_500_000_000, 30), &params(2_000_000_000, 30));
    assert_eq!(d, [("max_multiplier".into(), "1.5".into(), "2".into())]);
    assert_eq!(
        describe_params(&params(1_500_000_000, 30)),
        "max_multiplier = 1.5\nretention_window_days = 30"
    );
    let extra = vec![Param {
        name: "minimum_stake".into(),
        value: ParamValue::Amount(300_000_000),
    }];
    assert_eq!(
        params_diff(&[], &extra),
        [("minimum_stake".into(), "-".into(), "0.3 α".into())]
    );
}

#[test]
fn the_migration_keeps_the_change_log() {
    let dir = std::env::temp_dir().join(format!("vesting-params-mig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v3.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let m = rusqlite_migration::Migrations::new(migrations::migrations()[..3].to_vec());
        m.to_latest(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO policy_log (at, action, sha256, block, note) VALUES (1, 'shadow', NULL, NULL, 'old')",
            [],
        )
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let log = s.policy_log(5).unwrap();
    assert_eq!((log.len(), log[0].note.as_str()), (1, "old"));
    s.record_params(&params(1, 1), "after the migration")
        .unwrap();
    let log = s.policy_log(5).unwrap();
    assert_eq!((log[0].id, log[0].action.as_str()), (2, "params-record"));
    let _ = std::fs::remove_dir_all(&dir);
}
