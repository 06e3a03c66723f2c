//! Tests of the default policy with hand-computed expectations, and properties of the
//! ledger (proptest).

mod attribution;
mod ledger;
mod ledger_props;
mod multipliers;
mod weights;

use crate::types::*;
use alloc::string::{String, ToString};

pub const DAY: u64 = 7_200;
pub const A: u64 = 1_000_000_000; // one alpha

pub fn flow(block: u64, ext: Option<u32>, kind: FlowKind, hk: &str, ck: &str, alpha: u64) -> Flow {
    Flow {
        block,
        extrinsic: ext,
        event_index: ext.unwrap_or(0),
        kind,
        hotkey: hk.to_string(),
        coldkey: ck.to_string(),
        netuid: 1,
        alpha,
        counterparty: None,
    }
}

pub fn earning(hk: &str, ck: &str, block: u64, alpha: u64) -> Earning {
    Earning {
        hotkey: hk.to_string(),
        coldkey: ck.to_string(),
        block,
        alpha,
    }
}

pub fn ledger_input(block: u64, ledgers: alloc::vec::Vec<HolderLedger>) -> LedgerInput {
    LedgerInput {
        netuid: 1,
        block,
        ledgers,
        earnings: alloc::vec![],
        flows: alloc::vec![],
    }
}

pub fn s(x: &str) -> String {
    x.to_string()
}
