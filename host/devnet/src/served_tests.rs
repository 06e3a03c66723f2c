//! Tests that read the model back through the storage it serves (`StorageView` with the
//! metadata of the runtime that executed each block): `SubnetAlphaOutEmission` bounds
//! the owner cut paid at an epoch.

use crate::chain::Chain;
use crate::encode::{KeyPart, decode, storage_key};
use crate::model::{AccountId, TruthKind, named_account};
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
