//! Tests of the default policy with hand-computed expectations, and properties of the
//! ledger (proptest).

mod attribution;
mod ledger;
mod ledger_props;
mod multipliers;
mod weights;

use crate::accounts::Accounts;
pub use crate::tranches::{HolderLedger, Tranche, TrancheKind};
use crate::types::*;
use alloc::string::String;
use alloc::vec::Vec;

pub const DAY: u64 = 7_200;
pub const A: u64 = 1_000_000_000; // one alpha

pub fn flow(block: u64, ext: Option<u32>, kind: FlowKind, hk: &str, ck: &str, alpha: u64) -> Flow {
    Flow {
        block,
        extrinsic: ext,
        event_index: ext.unwrap_or(0),
        kind,
        hotkey: s(hk),
        coldkey: s(ck),
        netuid: 1,
        alpha,
        counterparty: None,
    }
}

pub fn earning(hk: &str, ck: &str, block: u64, alpha: u64) -> Earning {
    Earning {
        hotkey: s(hk),
        coldkey: s(ck),
        block,
        alpha,
    }
}

pub fn ledger_input(block: u64, ledgers: Vec<HolderLedger>) -> LedgerInput {
    LedgerInput {
        accounts: names(),
        netuid: 1,
        block,
        ledgers: crate::tranches::pack(&ledgers),
        earnings: alloc::vec![],
        flows: alloc::vec![],
    }
}

/// Every account name the tests use, sorted by bytes: the tests' account table.
fn table() -> Vec<String> {
    let mut v: Vec<String> = [
        "", "a", "b", "c", "c0", "c1", "c2", "dest", "full", "half", "hk", "m", "n", "new",
        "nobody", "o", "old", "poor", "v", "v1", "v2",
    ]
    .iter()
    .map(|x| String::from(*x))
    .collect();
    v.extend((0..64).map(|u| alloc::format!("h{u}")));
    v.sort();
    v
}

/// The tests' account table, as an input carries it.
pub fn names() -> Vec<String> {
    table()
}

/// The index of account `x` in the tests' table.
pub fn s(x: &str) -> u32 {
    table()
        .iter()
        .position(|n| n == x)
        .unwrap_or_else(|| panic!("add `{x}` to the tests' account table")) as u32
}

/// The nested ledgers of a step's flat output.
pub fn unpacked(flat: &Ledgers) -> Vec<HolderLedger> {
    let t = table();
    crate::tranches::unpack(flat, &Accounts::trusted(&t)).unwrap()
}
