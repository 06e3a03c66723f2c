use super::*;
use crate::fixed::ONE;
use crate::multipliers::multipliers;
use crate::params::Params;
use alloc::vec;

fn holding(holder: &str, total: u64, held_fraction: u64, days_x10: u64) -> Holding {
    Holding {
        holder: s(holder),
        total_stake: total,
        earned_in_window: 0,
        held_in_window: 0,
        held_fraction,
        holding_blocks: days_x10 * DAY / 10,
        holding_days: days_x10 * ONE / 10,
        vested: 0,
        locked: 0,
    }
}

fn miner(uid: u16, hk: &str, ck: &str) -> Miner {
    Miner {
        uid,
        hotkey: s(hk),
        coldkey: s(ck),
    }
}

#[test]
fn the_seed_formula_in_fixed_point() {
    let input = MultipliersInput {
        accounts: names(),
        block: 0,
        holdings: vec![
            holding("full", A, 900_000_000, 300),   // pf 1, df 1 -> 1.5
            holding("half", A, 450_000_000, 150),   // pf .5, df .5 -> 1 + .5 * .5 = 1.25
            holding("poor", 299_999_999, ONE, 300), // under minimum_stake -> 0
            holding("new", A, ONE, 0),              // df 0 -> 1.0
        ],
        miners: vec![
            miner(3, "h3", "new"),
            miner(0, "h0", "full"),
            miner(1, "h1", "half"),
            miner(2, "h2", "poor"),
            miner(4, "h4", "nobody"),
        ],
    };
    let out = multipliers(&Params::default(), &input).unwrap();
    let m: alloc::vec::Vec<(u16, u64, bool)> = out
        .iter()
        .map(|m| (m.uid, m.multiplier, m.eligible))
        .collect();
    assert_eq!(
        m,
        vec![
            (0, 1_500_000_000, true),
            (1, 1_250_000_000, true),
            (2, 0, false),
            (3, ONE, true),
            (4, 0, false)
        ]
    );
    assert_eq!(
        (out[1].held_factor, out[1].duration_factor),
        (500_000_000, 500_000_000)
    );
}

#[test]
fn hotkeys_of_one_coldkey_share_its_holding() {
    let input = MultipliersInput {
        accounts: names(),
        block: 0,
        holdings: vec![holding("c", A, ONE, 300)],
        miners: vec![miner(0, "a", "c"), miner(1, "b", "c")],
    };
    let out = multipliers(&Params::default(), &input).unwrap();
    assert!(
        out.iter()
            .all(|m| m.multiplier == 1_500_000_000 && m.holder == s("c"))
    );
}

#[test]
fn duplicate_uids_and_holders_are_refused() {
    let input = MultipliersInput {
        accounts: names(),
        block: 0,
        holdings: vec![],
        miners: vec![miner(0, "a", "c"), miner(0, "b", "c")],
    };
    assert_eq!(
        multipliers(&Params::default(), &input).unwrap_err().code,
        ErrorCode::DuplicateUid
    );
    let input = MultipliersInput {
        accounts: names(),
        block: 0,
        holdings: vec![holding("c", 1, 1, 1), holding("c", 1, 1, 1)],
        miners: vec![],
    };
    assert_eq!(
        multipliers(&Params::default(), &input).unwrap_err().code,
        ErrorCode::InvalidInput
    );
}
