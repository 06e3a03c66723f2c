//! Scenario-wide invariants, checked on the chain model directly (no metadata, no RPC):
//! share pools add up at genesis and after hundreds of blocks of every built-in
//! scenario, and the `edges` scenario's flows land where they should.

use std::collections::{BTreeMap, BTreeSet};

use crate::chain::BlockDriver;
use crate::model::{
    AccountId, BlockOutcome, ChainEvent, ChainState, NetUid, Phase, Pool, SafeFloat, Share,
    TruthKind, UNIT, named_account,
};
use crate::scenario::{BUILTIN, Scenario};

/// A coldkey's alpha as a reader computes it from the storage served (chain.md):
/// `floor(TotalHotkeyAlpha * share / denominator)`, `share` = `Alpha` if present else
/// `AlphaV2`, `denominator` = `TotalHotkeyShares` if present else `TotalHotkeySharesV2`.
fn reader_value(p: &Pool, share: &Share) -> u64 {
    let share = match share {
        Share::Legacy(bits) => SafeFloat::from_u64f64_bits(*bits),
        Share::V2(f) => *f,
    };
    let denom = match p.legacy_denominator {
        Some(bits) => SafeFloat::from_u64f64_bits(bits),
        None => p.denominator,
    };
    SafeFloat::from_u64(p.total_alpha)
        .mul_div(&share, &denom)
        .unwrap_or_default()
        .to_u64()
}

/// Every (hotkey, netuid) pool: its holders' values add up to at most `TotalHotkeyAlpha`
/// and at least `TotalHotkeyAlpha - holders` (one rao of flooring per holder).
fn check_pools(st: &ChainState, what: &str) {
    for ((hot, netuid), p) in st.pools.iter() {
        let sum: u128 = p.shares.values().map(|s| reader_value(p, s) as u128).sum();
        let total = p.total_alpha as u128;
        let holders = p.shares.len() as u128;
        assert!(
            sum <= total && sum + holders >= total,
            "{what}: pool ({}, {netuid}) holders sum to {sum} of TotalHotkeyAlpha {total} \
             ({holders} holders)",
            hex::encode(&hot[..4])
        );
    }
}

/// Runs a built-in scenario on the model for `blocks` blocks (reorgs left out), calling
/// `each` with the parent state and the outcome of every block.
fn run(name: &str, blocks: u64, mut each: impl FnMut(&ChainState, &BlockOutcome)) -> ChainState {
    let sc = Scenario::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (mut st, mut driver) = sc
        .build(12_000, None)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    for n in 1..=blocks {
        let actions = driver.actions(&st, n, 0);
        let out = st
            .apply_block(&actions)
            .unwrap_or_else(|e| panic!("{name} block {n}: {e}"));
        each(&st, &out);
        st = out.state;
    }
    st
}

#[test]
fn pools_add_up_at_genesis_and_after_every_builtin_runs() {
    for (name, _) in BUILTIN {
        let sc = Scenario::builtin(name).unwrap();
        let (genesis, _) = sc.build(12_000, None).unwrap();
        check_pools(&genesis, &format!("{name} genesis"));
        let blocks = if *name == "demo" { 400 } else { 300 };
        let head = run(name, blocks, |_, out| {
            check_pools(&out.state, &format!("{name} block {}", out.state.block));
        });
        assert_eq!(head.block, blocks);
    }
}

#[test]
fn legacy_genesis_pool_holds_only_legacy_entries_summing_to_its_denominator() {
    let sc = Scenario::builtin("attribution").unwrap();
    let (st, _) = sc.build(12_000, None).unwrap();
    let p = &st.pools[&(named_account("alice-v"), 1)];
    let denom = p.legacy_denominator.expect("TotalHotkeyShares");
    let mut sum = 0u128;
    for s in p.shares.values() {
        match s {
            Share::Legacy(b) => sum += *b,
            Share::V2(_) => panic!("a V2 entry in a pool that still has TotalHotkeyShares"),
        }
    }
    assert_eq!(sum, denom);
    let av = named_account("alice-v");
    for (who, alpha) in [("alice", 100), ("bob", 200), ("erin", 30)] {
        assert_eq!(st.stake(&av, &named_account(who), 1), alpha * UNIT, "{who}");
    }
}

/// Staking calls (not registration, auto-stake settings or knobs).
const STAKING_CALLS: &[&str] = &[
    "add_stake",
    "remove_stake",
    "unstake_all",
    "move_stake",
    "transfer_stake",
    "swap_stake",
    "recycle_alpha",
    "burn_alpha",
    "claim_root",
];

struct Ran {
    /// (parent state, outcome) of every block.
    blocks: Vec<(ChainState, BlockOutcome)>,
}

impl Ran {
    fn block(&self, n: u64) -> &BlockOutcome {
        &self.blocks[n as usize - 1].1
    }
    fn epoch_blocks(&self, netuid: NetUid) -> Vec<u64> {
        self.blocks
            .iter()
            .filter(|(_, o)| {
                o.events.iter().any(|e| {
                    matches!(&e.event, ChainEvent::IncentiveAlphaEmittedToMiners { netuid: n, .. }
                        if *n == netuid)
                })
            })
            .map(|(_, o)| o.state.block)
            .collect()
    }
}

fn run_edges(blocks: u64) -> Ran {
    let mut out = vec![];
    run("edges", blocks, |parent, o| {
        out.push((parent.clone(), o.clone()))
    });
    Ran { blocks: out }
}

fn n(name: &str) -> AccountId {
    named_account(name)
}

#[test]
fn edges_epochs_mechanisms_and_flows_inside_epoch_blocks() {
    let r = run_edges(265);
    for (_, o) in &r.blocks {
        assert!(
            o.rejected.is_empty(),
            "block {}: rejected {:?}",
            o.state.block,
            o.rejected
        );
    }
    let sn1: Vec<u64> = (1..=13).map(|i| i * 20).collect();
    let sn2: Vec<u64> = (1..=8).map(|i| i * 30).collect();
    assert_eq!(r.epoch_blocks(1), sn1);
    assert_eq!(
        r.epoch_blocks(4097),
        sn1,
        "mechanism 1 reports netuid 1 + 4096"
    );
    assert_eq!(r.epoch_blocks(2), sn2);
    assert!(r.epoch_blocks(4098).is_empty(), "sn2 has one mechanism");
    let epoch: BTreeSet<u64> = sn1.iter().chain(&sn2).copied().collect();
    let in_epochs: usize = epoch
        .iter()
        .map(|b| {
            r.block(*b)
                .extrinsics
                .iter()
                .filter(|a| a.call_name().is_some_and(|c| STAKING_CALLS.contains(&c)))
                .count()
        })
        .sum();
    eprintln!("edges: {in_epochs} staking extrinsics in epoch blocks");
    assert!(
        in_epochs >= 30,
        "only {in_epochs} staking extrinsics in epoch blocks"
    );

    // A miner's incentive is the sum over both mechanisms, credited once (m-b2 and m-a2
    // have no other flow in these epoch blocks' initialization).
    for b in &sn1 {
        let o = r.block(*b);
        let per_mech: Vec<&Vec<u64>> = o
            .events
            .iter()
            .filter_map(|e| match &e.event {
                ChainEvent::IncentiveAlphaEmittedToMiners { netuid, emissions }
                    if *netuid == 1 || *netuid == 4097 =>
                {
                    Some(emissions)
                }
                _ => None,
            })
            .collect();
        assert_eq!(per_mech.len(), 2, "block {b}");
        for (hot, cold, uid) in [("m-a2", "miner-a", 3usize), ("m-b2", "miner-b", 5)] {
            let listed = per_mech[0][uid] + per_mech[1][uid];
            let got: i64 = o
                .truth
                .iter()
                .filter(|t| {
                    t.kind == TruthKind::Emission
                        && (t.hotkey, t.coldkey, t.netuid) == (n(hot), n(cold), 1)
                })
                .map(|t| t.amount)
                .sum();
            assert!(
                (got - listed as i64).abs() <= 2,
                "block {b} {hot}: credited {got}, events list {listed}"
            );
        }
        // The owner coldkey's own miners are listed but paid nothing.
        assert!(
            per_mech[0][6] + per_mech[1][6] > 0,
            "block {b}: owner-m0 listed"
        );
        assert!(o.state.pools.get(&(n("owner-m0"), 1)).is_none());
        assert!(o.state.pools.get(&(n("owner-m1"), 1)).is_none());
        // The owner cut: Emission on (owner-hot, owner) with no event naming either.
        let cut: i64 = o
            .truth
            .iter()
            .filter(|t| (t.hotkey, t.coldkey, t.netuid) == (n("owner-hot"), n("owner"), 1))
            .map(|t| {
                assert_eq!(t.kind, TruthKind::Emission);
                t.amount
            })
            .sum();
        let expect = 20 * (UNIT * 1800 / 10_000) as i64;
        assert!((cut - expect).abs() <= 1, "block {b}: owner cut {cut}");
    }
}

#[test]
fn edges_fees_come_from_the_calls_hotkey_and_follow_its_events() {
    let r = run_edges(265);
    let mut from_second = 0;
    let mut fees = 0;
    for (_, o) in &r.blocks {
        for (i, e) in o.events.iter().enumerate() {
            let ChainEvent::TransactionFeePaidWithAlpha {
                who,
                netuid,
                alpha_fee,
                ..
            } = &e.event
            else {
                continue;
            };
            fees += 1;
            let phase = e.phase;
            assert!(matches!(phase, Phase::ApplyExtrinsic(_)));
            // The extrinsic's events: the fee's StakeRemoved, the call's, then the fee event.
            let ext: Vec<&ChainEvent> = o.events[..i]
                .iter()
                .filter(|x| x.phase == phase)
                .map(|x| &x.event)
                .collect();
            let removed: Vec<(AccountId, AccountId, u64)> = ext
                .iter()
                .filter_map(|x| match x {
                    ChainEvent::StakeRemoved {
                        coldkey,
                        hotkey,
                        alpha,
                        netuid: nn,
                        ..
                    } if nn == netuid => Some((*coldkey, *hotkey, *alpha)),
                    _ => None,
                })
                .collect();
            assert_eq!(removed.len(), 2, "block {}", o.state.block);
            assert_eq!(removed[0].0, *who);
            assert_eq!(
                removed[0].2, *alpha_fee,
                "the fee's StakeRemoved comes first"
            );
            assert_eq!(removed[0].1, removed[1].1, "fee and call on one hotkey");
            let hot = removed[0].1;
            let fee_truth: Vec<_> = o
                .truth
                .iter()
                .filter(|t| t.kind == TruthKind::AlphaFee)
                .collect();
            assert!(
                fee_truth
                    .iter()
                    .any(|t| (t.hotkey, t.coldkey, t.amount) == (hot, *who, -(*alpha_fee as i64)))
            );
            // Is the fee's hotkey the coldkey's first position on the subnet in byte order?
            let parent = &r.blocks[o.state.block as usize - 1].0;
            let first = parent
                .stakes_of(who)
                .into_iter()
                .filter(|(_, nn, _)| nn == netuid)
                .map(|(h, _, _)| h)
                .min();
            if first != Some(hot) {
                from_second += 1;
            }
        }
    }
    assert!(fees >= 10, "{fees} fees");
    assert!(
        from_second >= 8,
        "{from_second} fees from a second position"
    );
}

#[test]
fn edges_every_position_change_is_explained_and_claims_are_stored() {
    let r = run_edges(265);
    let mut kinds = BTreeSet::new();
    let mut claimed: BTreeMap<(NetUid, AccountId, AccountId), i64> = BTreeMap::new();
    let mut init_claims = 0;
    for (prev, o) in &r.blocks {
        let cur = &o.state;
        let mut positions = BTreeSet::new();
        for s in [prev, cur] {
            for ((h, net), p) in s.pools.iter() {
                for ck in p.shares.keys() {
                    positions.insert((*h, *ck, *net));
                }
            }
        }
        let mut explained: BTreeMap<_, i64> = BTreeMap::new();
        for t in &o.truth {
            *explained
                .entry((t.hotkey, t.coldkey, t.netuid))
                .or_default() += t.amount;
            kinds.insert(t.kind);
            if t.kind == TruthKind::RootClaim {
                *claimed.entry((t.netuid, t.hotkey, t.coldkey)).or_default() += t.amount;
            }
        }
        for (h, ck, net) in positions {
            let d = cur.stake(&h, &ck, net) as i64 - prev.stake(&h, &ck, net) as i64;
            assert_eq!(
                d,
                explained.get(&(h, ck, net)).copied().unwrap_or(0),
                "block {} position on {net}",
                cur.block
            );
        }
        init_claims += o
            .events
            .iter()
            .filter(|e| {
                e.phase == Phase::Initialization
                    && matches!(e.event, ChainEvent::RootClaimed { .. })
            })
            .count();
    }
    for k in [
        TruthKind::Emission,
        TruthKind::ManualIn,
        TruthKind::ManualOut,
        TruthKind::AlphaFee,
        TruthKind::RootClaim,
        TruthKind::Recycle,
        TruthKind::Burn,
    ] {
        assert!(kinds.contains(&k), "no {k:?} in the ground truth");
    }
    assert_eq!(init_claims, 5, "auto-claims in block initialization");
    let head = &r.blocks.last().unwrap().1.state;
    let stored: BTreeMap<_, i64> = head
        .root_claimed
        .iter()
        .map(|(k, v)| (*k, *v as i64))
        .collect();
    assert_eq!(stored, claimed);
    // miner-c's incentive went to val-a until the switch at 160, then to m-c1.
    let (mc, va, mc1) = (n("miner-c"), n("val-a"), n("m-c1"));
    let dest = |b: u64| {
        r.block(b).events.iter().find_map(|e| match &e.event {
            ChainEvent::AutoStakeAdded {
                hotkey,
                destination,
                owner,
                ..
            } if *hotkey == mc1 && *owner == mc => Some(*destination),
            _ => None,
        })
    };
    assert_eq!(dest(160), Some(va));
    assert_eq!(dest(180), Some(mc1));
    assert!(head.stake(&va, &mc, 1) > 0);
    // The new miner (uid 9 from 107) earns from its scores at 108: listed at 120 and
    // auto-staked, like m-c1's, to val-a.
    let mnew = n("m-new");
    assert_eq!(head.subnets[&1].uids.get(&mnew), Some(&9));
    let o = r.block(120);
    assert!(
        o.events.iter().any(|e| matches!(&e.event,
        ChainEvent::IncentiveAlphaEmittedToMiners { netuid: 4097, emissions } if emissions[9] > 0))
    );
    assert!(o.events.iter().any(|e| matches!(&e.event,
        ChainEvent::AutoStakeAdded { hotkey, destination, incentive, .. }
            if *hotkey == mnew && *destination == va && *incentive > 0)));
}

#[test]
fn edges_genesis_keeps_a_legacy_entry_in_a_migrated_pool() {
    let sc = Scenario::builtin("edges").unwrap();
    let (st, _) = sc.build(12_000, None).unwrap();
    let p = &st.pools[&(n("val-a"), 1)];
    assert!(matches!(p.shares.get(&n("nom-1")), Some(Share::Legacy(_))));
    assert!(matches!(p.shares.get(&n("miner-a")), Some(Share::V2(_))));
    assert!(p.legacy_denominator.is_none());
    assert_eq!(st.stake(&n("val-a"), &n("nom-1"), 1), 200 * UNIT);
    assert_eq!(st.stake(&n("val-a"), &n("vala"), 1), 500 * UNIT);
    assert_eq!(st.stake(&n("val-a"), &n("miner-a"), 1), 20 * UNIT);
    assert_eq!(st.subnets[&1].mechanisms, 2);
    assert_eq!(st.subnets[&1].mechanism_split, vec![39_321, 26_214]);
}

#[test]
fn edges_serves_mechanisms_and_root_claimed_and_encodes_every_block() {
    use crate::encode::{KeyPart, decode, storage_key};
    use crate::server::{DevnetConfig, build_chain};
    use crate::storage::StorageView;

    let mut c = build_chain(&DevnetConfig::new(Scenario::builtin("edges").unwrap())).unwrap();
    c.produce(245).unwrap();
    for b in 1..=245 {
        let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
        blk.events_encoded(&blk.runtime.md)
            .unwrap_or_else(|e| panic!("block {b}: {e}"));
    }
    let blk = c.head();
    let st = c.state_at(&blk.hash).unwrap();
    let md = &blk.runtime.md;
    let view = StorageView {
        md,
        state: &st,
        block: &blk,
    };
    let read = |entry: &str, parts: &[KeyPart]| {
        let info = md.storage("SubtensorModule", entry).unwrap();
        let key = storage_key(md.types(), info, parts).unwrap();
        view.get(&key)
            .unwrap()
            .map(|v| decode(md.types(), info.value_type, &mut &v[..]).unwrap())
    };
    let count = read("MechanismCountCurrent", &[KeyPart::Num(1)]).expect("served for sn1");
    assert_eq!(count.as_u128(), Some(2));
    assert!(read("MechanismCountCurrent", &[KeyPart::Num(2)]).is_none());
    assert!(read("MechanismEmissionSplit", &[KeyPart::Num(1)]).is_some());
    let claimed = read(
        "RootClaimed",
        &[
            KeyPart::Num(1),
            KeyPart::Account(n("val-b")),
            KeyPart::Account(n("nom-2")),
        ],
    )
    .expect("nom-2 claimed on val-b");
    assert_eq!(
        claimed.as_u128(),
        Some(200_000_000 + 120_000_000 + 180_000_000 + 60_000_000)
    );
    assert!(read("RootClaimType", &[KeyPart::Account(n("nom-2"))]).is_some());
    let info = md.storage("SubtensorModule", "RootClaimed").unwrap();
    let keys = view.keys(&info.prefix).unwrap();
    assert_eq!(keys.len(), st.root_claimed.len());
}
