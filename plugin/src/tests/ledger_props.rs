//! Properties of the ledger over random histories.
use super::*;
use crate::ledger::step;
use crate::params::{ConsumeOrder, Params};
use alloc::vec::Vec;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Earn(usize, u64),
    In(usize, u64),
    Out(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let amount = prop_oneof![1u64..200_000_000, 1u64..50 * A, Just(u64::MAX / 1_000_000)];
    (0usize..3, 0u8..3, amount).prop_map(|(h, k, a)| match k {
        0 => Op::Earn(h, a),
        1 => Op::In(h, a),
        _ => Op::Out(h, a),
    })
}

fn order() -> impl Strategy<Value = ConsumeOrder> {
    prop_oneof![
        Just(ConsumeOrder::ManualFirst),
        Just(ConsumeOrder::NewestFirst),
        Just(ConsumeOrder::OldestFirst)
    ]
}

const HOLDERS: [&str; 3] = ["c0", "c1", "c2"];

/// Runs `ops` (one per 1000 blocks) in steps of `chunk` ops.
fn run(
    params: &Params,
    ops: &[Op],
    chunk: usize,
    reverse_holders: bool,
) -> (Vec<HolderLedger>, Vec<Release>, Vec<Consumption>) {
    let mut ledgers = Vec::new();
    let (mut releases, mut consumptions) = (Vec::new(), Vec::new());
    for (c, part) in ops.chunks(chunk.max(1)).enumerate() {
        let base = (c * chunk.max(1)) as u64;
        let mut given = ledgers;
        if reverse_holders {
            given.reverse();
        }
        let mut input = ledger_input((base + part.len() as u64) * 1_000, given);
        for (i, op) in part.iter().enumerate() {
            let block = (base + i as u64 + 1) * 1_000;
            match op {
                Op::Earn(h, a) => input.earnings.push(earning("hk", HOLDERS[*h], block, *a)),
                Op::In(h, a) => {
                    input
                        .flows
                        .push(flow(block, Some(0), FlowKind::Added, "hk", HOLDERS[*h], *a))
                }
                Op::Out(h, a) => input.flows.push(flow(
                    block,
                    Some(0),
                    FlowKind::Removed,
                    "hk",
                    HOLDERS[*h],
                    *a,
                )),
            }
        }
        if reverse_holders {
            input.earnings.reverse();
            input.flows.reverse();
        }
        let out = step(params, input).unwrap();
        ledgers = unpacked(&out.ledgers);
        releases.extend(out.releases);
        consumptions.extend(out.consumptions);
    }
    (ledgers, releases, consumptions)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn released_plus_unreleased_is_earned(ops in proptest::collection::vec(op(), 1..40), chunk in 1usize..10, order in order()) {
        let params = Params { consume_order: order, blocks_per_day: 1_000, ..Params::default() };
        let (_, releases, _) = run(&params, &ops, chunk, false);
        let earned: u128 = ops.iter().map(|o| if let Op::Earn(_, a) = o { *a as u128 } else { 0 }).sum();
        let released: u128 = releases.iter().map(|r| r.alpha as u128).sum();
        prop_assert!(released <= earned);
        // Long after the last schedule ends, everything earned has been released, once.
        let later = ledger_input(10_000_000, run(&params, &ops, chunk, false).0);
        let out = step(&params, later).unwrap();
        let total: u128 = released + out.releases.iter().map(|r| r.alpha as u128).sum::<u128>();
        prop_assert_eq!(total, earned);
    }

    #[test]
    fn consumption_never_exceeds_holdings(ops in proptest::collection::vec(op(), 1..40), chunk in 1usize..10, order in order()) {
        let params = Params { consume_order: order, ..Params::default() };
        let (ledgers, _, consumptions) = run(&params, &ops, chunk, false);
        for c in &consumptions {
            prop_assert_eq!(c.from_manual + c.from_released + c.from_locked + c.unmatched, c.alpha);
        }
        for (h, holder) in HOLDERS.iter().enumerate() {
            let inflow: u128 = ops.iter().map(|o| match o { Op::Earn(x, a) | Op::In(x, a) if *x == h => *a as u128, _ => 0 }).sum();
            let matched: u128 = consumptions.iter().filter(|c| c.holder == s(holder)).map(|c| (c.alpha - c.unmatched) as u128).sum();
            let held: u128 = ledgers.iter().filter(|l| l.holder == s(holder)).flat_map(|l| &l.tranches).map(|t| t.remaining as u128).sum();
            prop_assert_eq!(held, inflow - matched);
        }
    }

    #[test]
    fn order_of_independent_holders_does_not_matter(ops in proptest::collection::vec(op(), 1..40), chunk in 1usize..10) {
        let params = Params::default();
        prop_assert_eq!(run(&params, &ops, chunk, false).0, run(&params, &ops, chunk, true).0);
    }
}
