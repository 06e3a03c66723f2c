//! Tests that read the model back through the storage it serves (`StorageView` with the
//! metadata of the runtime that executed each block): `SubnetAlphaOutEmission` bounds
//! the owner cut paid at an epoch; positions decoded from `Alpha` / `AlphaV2` and their
//! pools' totals and denominators equal ground truth under 393 and after an upgrade.

use std::collections::{BTreeMap, BTreeSet};

use scale_value::{Composite, Value, ValueDef};

use crate::chain::Chain;
use crate::encode::{KeyPart, decode, decode_storage_key, storage_key};
use crate::model::{AccountId, NetUid, Pool, SafeFloat, Share, TruthKind, named_account};
use crate::scenario::Scenario;
use crate::server::{DevnetConfig, build_chain};
use crate::storage::StorageView;

/// Reads served storage of the best chain's blocks.
pub(crate) struct Served<'a> {
    pub chain: &'a Chain,
}

impl Served<'_> {
    /// The value of `SubtensorModule.<entry>` at `parts` in block `n`, decoded with the
    /// metadata of the runtime that executed the block; None when absent.
    pub fn value(&self, n: u64, entry: &str, parts: &[KeyPart]) -> Option<scale_value::Value<u32>> {
        let c = self.chain;
        let blk = c.block(&c.hash_at(n)?)?;
        let st = c.state_at(&blk.hash).ok()?;
        let md = &blk.runtime.md;
        let view = StorageView {
            md,
            state: &st,
            block: &blk,
        };
        let info = md.storage("SubtensorModule", entry).ok()?;
        let key = storage_key(md.types(), info, parts).ok()?;
        let raw = view
            .get(&key)
            .unwrap_or_else(|e| panic!("block {n} {entry}: {e}"))?;
        Some(
            decode(md.types(), info.value_type, &mut &raw[..])
                .unwrap_or_else(|e| panic!("block {n} {entry}: {e}")),
        )
    }

    /// A `u64`-like value (absent = 0, as a ValueQuery reads it).
    pub fn num(&self, n: u64, entry: &str, parts: &[KeyPart]) -> u128 {
        self.value(n, entry, parts)
            .map(|v| {
                v.as_u128()
                    .unwrap_or_else(|| panic!("block {n} {entry}: not a number: {v}"))
            })
            .unwrap_or(0)
    }
}

/// A named field of a composite value.
fn field<'v>(v: &'v Value<u32>, name: &str) -> &'v Value<u32> {
    match &v.value {
        ValueDef::Composite(Composite::Named(fs)) => fs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, x)| x)
            .unwrap_or_else(|| panic!("no field {name} in {v}")),
        _ => panic!("not a composite with {name}: {v}"),
    }
}

fn u128_of(v: &Value<u32>) -> u128 {
    v.as_u128().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn safe_float(v: &Value<u32>) -> SafeFloat {
    let e = field(v, "exponent");
    SafeFloat {
        mantissa: u128_of(field(v, "mantissa")),
        exponent: e.as_i128().unwrap_or_else(|| panic!("exponent {e}")) as i64,
    }
}

/// A position key (hotkey, coldkey, netuid).
pub(crate) type Position = (AccountId, AccountId, NetUid);

impl Served<'_> {
    /// Every position the block serves, valued as the runtime that executed the block
    /// values it, from `Alpha` (U64F64 bits) or else `AlphaV2`, `TotalHotkeyShares` or
    /// else `TotalHotkeySharesV2`, and `TotalHotkeyAlpha`; keys found with
    /// `state_getKeysPaged`'s enumeration.
    pub fn positions(&self, n: u64) -> BTreeMap<Position, u64> {
        let c = self.chain;
        let blk = c.block(&c.hash_at(n).unwrap()).unwrap();
        let st = c.state_at(&blk.hash).unwrap();
        let md = &blk.runtime.md;
        let view = StorageView {
            md,
            state: &st,
            block: &blk,
        };
        let mut keys: BTreeSet<Position> = BTreeSet::new();
        for entry in ["Alpha", "AlphaV2"] {
            let Ok(info) = md.storage("SubtensorModule", entry) else {
                continue;
            };
            for k in view.keys(&info.prefix).unwrap() {
                let parts = decode_storage_key(md.types(), info, &k).unwrap();
                let acct = |i: usize| parts[i].as_account().unwrap();
                keys.insert((acct(0), acct(1), parts[2].as_num().unwrap() as NetUid));
            }
        }
        let legacy = blk.runtime.rules.legacy_shares;
        let mut out = BTreeMap::new();
        for (h, ck, net) in keys {
            let hn = [KeyPart::Account(h), KeyPart::Num(net as u128)];
            let hcn = [
                KeyPart::Account(h),
                KeyPart::Account(ck),
                KeyPart::Num(net as u128),
            ];
            let share = match self.value(n, "Alpha", &hcn) {
                Some(v) => Share::Legacy(u128_of(field(&v, "bits"))),
                None => Share::V2(safe_float(
                    &self.value(n, "AlphaV2", &hcn).expect("Alpha or AlphaV2"),
                )),
            };
            let mut pool = Pool {
                total_alpha: self.num(n, "TotalHotkeyAlpha", &hn) as u64,
                legacy_denominator: self
                    .value(n, "TotalHotkeyShares", &hn)
                    .map(|v| u128_of(field(&v, "bits"))),
                denominator: self
                    .value(n, "TotalHotkeySharesV2", &hn)
                    .map(|v| safe_float(&v))
                    .unwrap_or_default(),
                shares: Default::default(),
            };
            pool.shares.insert(ck, share);
            out.insert((h, ck, net), pool.value(&ck, legacy));
        }
        out
    }
}

/// Checks at every block `0..=blocks` that the positions served equal genesis plus the
/// ground truth so far and the model's own stakes; returns how many blocks were checked.
pub(crate) fn positions_follow_ground_truth(c: &Chain, blocks: u64) -> u64 {
    let s = Served { chain: c };
    let genesis = s.positions(0);
    let mut truth: BTreeMap<Position, i64> = genesis.iter().map(|(k, v)| (*k, *v as i64)).collect();
    for n in 1..=blocks {
        let blk = c.block(&c.hash_at(n).unwrap()).unwrap();
        for t in &blk.truth {
            *truth.entry((t.hotkey, t.coldkey, t.netuid)).or_default() += t.amount;
        }
        let served = s.positions(n);
        let st = c.state_at(&blk.hash).unwrap();
        let all: BTreeSet<Position> = served.keys().chain(truth.keys()).copied().collect();
        for k in all {
            let got = served.get(&k).copied().unwrap_or(0);
            assert_eq!(
                got as i64,
                truth.get(&k).copied().unwrap_or(0),
                "block {n} (runtime {}): served position vs ground truth",
                blk.runtime.spec
            );
            assert_eq!(got, st.stake(&k.0, &k.1, k.2), "block {n}: served vs model");
        }
    }
    blocks
}

fn nm(name: &str) -> AccountId {
    named_account(name)
}

#[test]
fn alpha_out_emission_bounds_the_owner_cut_paid_at_each_epoch() {
    let mut c = build_chain(&DevnetConfig::new(Scenario::builtin("edges").unwrap())).unwrap();
    c.produce(100).unwrap();
    let s = Served { chain: &c };
    let net = [KeyPart::Num(1)];
    assert!(
        s.value(0, "SubnetAlphaOutEmission", &net).is_none(),
        "no coinbase has run at genesis"
    );
    let bps = c.head_state().subnets[&1].owner_cut_bps as u128;
    let mut epochs = 0;
    for b in 1..=100u64 {
        let out = s.num(b, "SubnetAlphaOutEmission", &net);
        assert_eq!(out, 1_000_000_000, "block {b}: sn1 emits 1 alpha a block");
        let before = s.num(b - 1, "PendingOwnerCut", &net);
        let after = s.num(b, "PendingOwnerCut", &net);
        let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
        let paid: i64 = blk
            .truth
            .iter()
            .filter(|t| (t.hotkey, t.coldkey, t.netuid) == (nm("owner-hot"), nm("owner"), 1))
            .map(|t| {
                assert_eq!(t.kind, TruthKind::Emission, "block {b}");
                t.amount
            })
            .sum();
        let cut = out * bps / 10_000;
        assert!(cut <= out, "block {b}: the cut is part of the alpha out");
        if b % 20 == 0 {
            // An epoch block: what accumulated before it plus this block's cut.
            epochs += 1;
            assert_eq!(after, 0, "block {b}: drained");
            let bound = before + out;
            let expect = (before + cut) as i64;
            assert!(expect as u128 <= bound);
            assert!(
                paid <= expect && paid >= expect - 1,
                "block {b}: paid {paid}, PendingOwnerCut(b-1) {before} + cut {cut}"
            );
        } else {
            assert_eq!(after, before + cut, "block {b}: accrues the cut");
            assert_eq!(paid, 0, "block {b}: no owner cut between epochs");
        }
    }
    assert_eq!(epochs, 5);
}

/// `tiny` on 393 with flows before and after `set_code` to 424 in block 12: epochs by the
/// legacy rule at 9 (then dynamic: 19, 29).
const TINY_393: &str = r#"
[[upgrades]]
block = 12
runtime = "424"

[[actions]]
block = 3
action = { kind = "add_stake", coldkey = "nina", hotkey = "alice-v", netuid = 1, tao = 10_000_000_000 }

[[actions]]
block = 5
action = { kind = "remove_stake", coldkey = "alice", hotkey = "alice-v", netuid = 1, alpha = 5_000_000_000 }

[[actions]]
block = 9
action = { kind = "add_stake", coldkey = "bob", hotkey = "alice-v", netuid = 1, tao = 7_000_000_000 }

[[actions]]
block = 10
action = { kind = "move_stake", coldkey = "bob", origin_hotkey = "bob-m1", dest_hotkey = "bob-m2", origin_netuid = 1, dest_netuid = 1, alpha = 1_000_000_000 }

[[actions]]
block = 11
action = { kind = "transfer_stake", coldkey = "nina", dest_coldkey = "bob", hotkey = "alice-v", origin_netuid = 1, dest_netuid = 1, alpha = 3_000_000_000 }

[[actions]]
block = 14
action = { kind = "add_stake", coldkey = "nina", hotkey = "alice-v", netuid = 1, tao = 2_000_000_000 }

[[actions]]
block = 19
action = { kind = "remove_stake", coldkey = "bob", hotkey = "bob-m2", netuid = 1, alpha = 500_000_000, alpha_fee = 10_000_000 }

[[actions]]
block = 22
action = { kind = "remove_stake", coldkey = "alice", hotkey = "alice-v", netuid = 1, alpha = 1_000_000_000 }
"#;

fn tiny_393() -> Scenario {
    let tiny = crate::scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "tiny")
        .unwrap()
        .1;
    Scenario::from_toml(&format!("runtime = \"393\"\n{tiny}\n{TINY_393}")).unwrap()
}

#[test]
fn positions_written_under_393_are_legacy_and_read_right_across_the_upgrade() {
    let mut cfg = DevnetConfig::new(tiny_393());
    cfg.pruning = crate::chain::Pruning::Archive;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(30).unwrap();
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let st = |n: u64| c.state_at(&c.hash_at(n).unwrap()).unwrap();
    let (av, nina, bob, alice) = (nm("alice-v"), nm("nina"), nm("bob"), nm("alice"));
    // Blocks 0..=12 run 393: every entry legacy, every pool's TotalHotkeyShares the sum
    // of its shares.
    for n in 0..=12 {
        for ((_, net), p) in st(n).pools.iter() {
            assert_eq!(*net, 1);
            let mut sum = 0u128;
            for s in p.shares.values() {
                let Share::Legacy(b) = s else {
                    panic!("block {n}: an AlphaV2 entry under 393")
                };
                sum += b;
            }
            assert_eq!(p.legacy_denominator, Some(sum), "block {n}");
        }
    }
    // nina's 393 purchase is a legacy entry; at 14 (424) it becomes AlphaV2 and the
    // pool's denominator TotalHotkeySharesV2, while bob's 393 entry stays in Alpha.
    assert!(matches!(
        st(13).pools[&(av, 1)].shares.get(&nina),
        Some(Share::Legacy(_))
    ));
    let p = &st(14).pools[&(av, 1)];
    assert!(matches!(p.shares.get(&nina), Some(Share::V2(_))));
    assert!(matches!(p.shares.get(&bob), Some(Share::Legacy(_))));
    assert!(p.legacy_denominator.is_none() && !p.denominator.is_zero());
    let s = Served { chain: &c };
    let key = [KeyPart::Account(av), KeyPart::Account(bob), KeyPart::Num(1)];
    assert!(s.value(14, "Alpha", &key).is_some());
    assert!(s.value(14, "AlphaV2", &key).is_none());
    assert!(
        s.value(12, "AlphaV2", &key).is_none(),
        "393 serves no AlphaV2"
    );
    // The first 424 block revalues 393's positions (393 floors the value per share).
    let b13 = c.block(&c.hash_at(13).unwrap()).unwrap();
    let rounding: Vec<_> = b13
        .truth
        .iter()
        .filter(|t| t.kind == TruthKind::Rounding)
        .collect();
    assert!(
        !rounding.is_empty(),
        "no revaluation at the first 424 block"
    );
    assert!(rounding.iter().all(|t| t.amount > 0));
    assert!(st(30).stake(&av, &alice, 1) > 0);
    assert_eq!(positions_follow_ground_truth(&c, 30), 30);
}
