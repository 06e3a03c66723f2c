//! The chain model: pure, deterministic state of subnets, neurons, hotkey ownership,
//! balances and share pools (`state`), and the block function that applies emission
//! (block initialization) and actions (extrinsics), recording events and ground truth
//! (`block`, `exec`). This file declares the model's modules and re-exports their public
//! types, and holds the account-id helpers (serde, names).

pub mod action;
mod block;
mod calls459;
mod collateral;
mod dispatch;
mod epoch;
mod exec;
mod neurons;
pub mod pool;
mod pool393;
mod positions;
mod signed;
mod staking;
mod state;
pub mod types;
pub mod weights;
pub mod yuma;

pub use action::Action;
pub use block::BlockOutcome;
use exec::Exec;
pub use pool::{Pool, SafeFloat, Share};
pub use signed::SignedTx;
pub use state::{ChainState, DEFAULT_TAKE};
pub use types::*;

/// Serde for account ids: `0x` hex out, `0x` hex or a name in.
pub mod account {
    use super::AccountId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &AccountId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(a)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AccountId, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_account(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde for 32-byte ids as `0x` hex (serialize only).
pub mod hex32 {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(a: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&show(a))
    }

    /// `0x` + hex.
    pub fn show(a: &[u8; 32]) -> String {
        format!("0x{}", hex::encode(a))
    }
}

/// The account a name stands for: the sr25519 key of `//name`, cached
/// (`crate::tx::keys::named_account`).
pub fn named_account(name: &str) -> AccountId {
    crate::tx::keys::named_account(name)
}

/// Parses `0x` + 64 hex digits, or takes any other non-empty string as a name.
pub fn parse_account(s: &str) -> std::result::Result<AccountId, String> {
    if let Some(h) = s.strip_prefix("0x") {
        let bytes = hex::decode(h).map_err(|e| format!("account {s:?} is not valid hex: {e}"))?;
        return bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("account {s:?} has {} bytes, expected 32", b.len()));
    }
    if s.is_empty() {
        return Err("account name is empty".into());
    }
    Ok(named_account(s))
}
