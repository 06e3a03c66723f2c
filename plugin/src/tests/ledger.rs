use super::*;
use crate::accounts::Accounts;
use crate::holdings::holding;
use crate::ledger::step;
use crate::params::{ConsumeOrder, HolderMode, Params};
use alloc::vec;

fn earn_then(params: &Params, amount: u64, block: u64) -> LedgerOutput {
    let mut input = ledger_input(block, vec![]);
    input.earnings = vec![earning("m", "c", 0, amount)];
    step(params, input).unwrap()
}

#[test]
fn a_schedule_releases_exactly_its_amount_in_n_payments() {
    let p = Params::default();
    let amount = 1_000_000_007;
    // Day 0: the first payment is due at once.
    let out = earn_then(&p, amount, 0);
    assert_eq!(out.releases.len(), 1);
    assert_eq!(out.releases[0].alpha, amount / 30);
    // After the last payment: 30 payments that add up to the amount, no more.
    let out = earn_then(&p, amount, 29 * DAY);
    assert_eq!(out.releases.len(), 30);
    assert_eq!(out.releases.iter().map(|r| r.alpha).sum::<u64>(), amount);
    assert_eq!(out.releases[29].block, 29 * DAY);
    let late = earn_then(&p, amount, 400 * DAY);
    assert_eq!(late.releases.iter().map(|r| r.alpha).sum::<u64>(), amount);
}

#[test]
fn small_earnings_vest_at_once() {
    let out = earn_then(&Params::default(), 50_000_000, 0);
    assert_eq!(out.releases.len(), 1);
    assert_eq!(out.releases[0].alpha, 50_000_000);
    let t = &unpacked(&out.ledgers)[0].tranches[0];
    assert_eq!((t.scheduled, t.released), (0, 50_000_000));
}

#[test]
fn earnings_within_one_interval_share_a_tranche() {
    let mut input = ledger_input(DAY - 1, vec![]);
    input.earnings = vec![
        earning("m", "c", 360, 10 * A),
        earning("m", "c", 720, 30 * A),
    ];
    let out = step(&Params::default(), input).unwrap();
    let t = &unpacked(&out.ledgers)[0].tranches;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].amount, 40 * A);
    // Amount-weighted mean block: (360 * 10 + 720 * 30) / 40 = 630.
    assert_eq!(t[0].block, 630);
}

#[test]
fn manual_stake_is_consumed_first_and_selling_vested_stake_is_not_early() {
    let p = Params::default();
    let mut input = ledger_input(15 * DAY, vec![]);
    input.earnings = vec![earning("m", "c", 0, 30 * A)];
    input.flows = vec![
        flow(10, Some(1), FlowKind::Added, "m", "c", 5 * A),
        // Day 15: 16 of 30 payments are due, 16 alpha vested.
        flow(15 * DAY, Some(1), FlowKind::Removed, "m", "c", 25 * A),
    ];
    let out = step(&p, input).unwrap();
    let c = &out.consumptions[0];
    assert_eq!(
        (c.from_manual, c.from_released, c.from_locked, c.unmatched),
        (5 * A, 16 * A, 4 * A, 0)
    );
    let h = holding(
        &p,
        &Accounts::trusted(&names()),
        &unpacked(&out.ledgers)[0],
        15 * DAY,
    )
    .unwrap();
    // Held: 30 earned minus 4 sold while locked.
    assert_eq!((h.earned_in_window, h.held_in_window), (30 * A, 26 * A));
    assert_eq!(h.total_stake, 10 * A);
    // With vested sales counting as selling, held is what remains.
    let strict = Params {
        vested_counts_as_held: false,
        ..p
    };
    assert_eq!(
        holding(
            &strict,
            &Accounts::trusted(&names()),
            &unpacked(&out.ledgers)[0],
            15 * DAY
        )
        .unwrap()
        .held_in_window,
        10 * A
    );
}

#[test]
fn consumption_orders() {
    let base = |order| {
        let p = Params {
            consume_order: order,
            min_vesting_amount: u64::MAX,
            ..Params::default()
        };
        let mut input = ledger_input(3 * DAY, vec![]);
        input.earnings = vec![
            earning("m", "c", 0, 10 * A),
            earning("m", "c", 2 * DAY, 10 * A),
        ];
        input.flows = vec![
            flow(DAY, Some(0), FlowKind::Added, "m", "c", 10 * A),
            flow(3 * DAY, Some(0), FlowKind::Removed, "m", "c", 15 * A),
        ];
        let out = step(&p, input).unwrap();
        unpacked(&out.ledgers)[0]
            .tranches
            .iter()
            .map(|t| t.remaining / A)
            .collect::<alloc::vec::Vec<_>>()
    };
    // Tranches by start: earned day 0, manual day 1, earned day 2.
    assert_eq!(base(ConsumeOrder::ManualFirst), vec![10, 0, 5]);
    assert_eq!(base(ConsumeOrder::NewestFirst), vec![10, 5, 0]);
    assert_eq!(base(ConsumeOrder::OldestFirst), vec![0, 5, 10]);
}

#[test]
fn moving_between_own_hotkeys_is_not_selling() {
    let mut input = ledger_input(DAY, vec![]);
    input.earnings = vec![earning("a", "c", 0, 10 * A)];
    input.flows = vec![
        flow(5, Some(3), FlowKind::MovedOut, "a", "c", 4 * A),
        flow(5, Some(3), FlowKind::MovedIn, "b", "c", 4 * A),
    ];
    let out = step(&Params::default(), input.clone()).unwrap();
    assert!(out.consumptions.is_empty());
    assert_eq!(unpacked(&out.ledgers)[0].tranches[0].remaining, 10 * A);
    // Per hotkey, the same move is an outflow of `a` and an inflow of `b`.
    let per_hotkey = Params {
        holder: HolderMode::Hotkey,
        ..Params::default()
    };
    let out = step(&per_hotkey, input).unwrap();
    assert_eq!(out.consumptions.len(), 1);
    assert_eq!(out.consumptions[0].holder, s("a"));
    assert_eq!(
        unpacked(&out.ledgers)
            .iter()
            .find(|l| l.holder == s("b"))
            .unwrap()
            .tranches[0]
            .kind,
        TrancheKind::Manual
    );
}

#[test]
fn outflows_beyond_the_ledger_are_unmatched() {
    let mut input = ledger_input(10, vec![]);
    input.earnings = vec![earning("m", "c", 0, 3 * A)];
    input.flows = vec![flow(10, Some(0), FlowKind::TransferredOut, "m", "c", 5 * A)];
    let out = step(&Params::default(), input).unwrap();
    assert_eq!(out.consumptions[0].unmatched, 2 * A);
    assert_eq!(unpacked(&out.ledgers)[0].unmatched_outflow, 2 * A);
    assert_eq!(unpacked(&out.ledgers)[0].tranches[0].remaining, 0);
}

#[test]
fn old_settled_tranches_merge_and_sold_out_ones_go() {
    let p = Params::default();
    let mut input = ledger_input(100 * DAY, vec![]);
    input.earnings = (0..40)
        .map(|d| earning("m", "c", d * DAY, 10 * A))
        .collect();
    input.flows = vec![flow(
        5 * DAY + 1,
        Some(0),
        FlowKind::Removed,
        "m",
        "c",
        10 * A,
    )];
    let out = step(&p, input).unwrap();
    // Everything is older than the window and vested: one tranche holds it all.
    let t = &unpacked(&out.ledgers)[0].tranches;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].remaining, 390 * A);
    let h = holding(
        &p,
        &Accounts::trusted(&names()),
        &unpacked(&out.ledgers)[0],
        100 * DAY,
    )
    .unwrap();
    assert_eq!(h.holding_blocks, p.window_blocks());
}

#[test]
fn inconsistent_or_duplicate_ledgers_and_late_changes_are_refused() {
    let bad = HolderLedger {
        holder: s("c"),
        tranches: vec![Tranche {
            kind: TrancheKind::Earned,
            start: 0,
            block: 0,
            amount: 5,
            remaining: 6,
            scheduled: 5,
            released: 0,
            sold_locked: 0,
        }],
        unmatched_outflow: 0,
    };
    let e = step(&Params::default(), ledger_input(1, vec![bad])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let ok = HolderLedger {
        holder: s("c"),
        tranches: vec![],
        unmatched_outflow: 0,
    };
    let e = step(&Params::default(), ledger_input(1, vec![ok.clone(), ok])).unwrap_err();
    assert!(e.message.contains("two ledgers"));
    let mut input = ledger_input(1, vec![]);
    input.earnings = vec![earning("m", "c", 2, A)];
    assert!(
        step(&Params::default(), input)
            .unwrap_err()
            .message
            .contains("after the step's block")
    );
}

#[test]
fn holdings_past_u64_are_an_overflow_and_just_below_are_exact() {
    let p = Params::default();
    let half = u64::MAX / 2;
    let tranche = |amount: u64| Tranche {
        kind: TrancheKind::Earned,
        start: 0,
        block: 0,
        amount,
        remaining: amount,
        scheduled: 0,
        released: amount,
        sold_locked: 0,
    };
    let ledger = |amounts: &[u64]| HolderLedger {
        holder: 0,
        tranches: amounts.iter().map(|&a| tranche(a)).collect(),
        unmatched_outflow: 0,
    };
    let t = names();
    let accounts = Accounts::trusted(&t);
    let fits = holding(&p, &accounts, &ledger(&[half, half + 1]), 10).unwrap();
    assert_eq!(
        (fits.total_stake, fits.vested, fits.locked),
        (u64::MAX, u64::MAX, 0)
    );
    assert_eq!(
        (fits.earned_in_window, fits.held_fraction),
        (u64::MAX, crate::fixed::ONE)
    );
    assert_eq!(fits.holding_blocks, 10);
    let e = holding(&p, &accounts, &ledger(&[half, half + 1, 1]), 10).unwrap_err();
    assert_eq!(e.code, ErrorCode::Overflow);
    assert!(e.message.contains("exceed u64 alpha"), "{}", e.message);
}
