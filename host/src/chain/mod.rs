//! Chain access: owns talking to a Subtensor node (subxt's RPC client over the legacy
//! JSON-RPC, decoding with the metadata the node serves): endpoints by network name,
//! finalized heads, one `System.Events` read per block, batched position reads at epoch
//! blocks, share-pool maths, and errors that say what to do (pruned state: use an
//! archive endpoint; a storage item or event missing from the metadata: named).

pub mod client;
pub mod endpoint;
mod error;
pub mod events;
pub mod layouts;
pub mod metadata;
pub mod positions;
pub mod rpc;
pub mod runtime;
pub mod shares;
#[cfg(test)]
mod tests;

pub use client::{ChainClient, Header, header_hash, hex0x, parse_hash};
pub use error::ChainError;
pub use events::{Account, BlockEvents, Event, Phase, Record};
pub use metadata::{ChainMeta, KeyPart};
pub use rpc::RpcStats;
pub use runtime::Profile;

/// A 32-byte block hash.
pub type Hash = [u8; 32];

/// An account as SS58 (prefix 42), as the store and the policy name accounts.
pub fn ss58(a: &Account) -> String {
    subxt::utils::AccountId32(*a).to_string()
}
