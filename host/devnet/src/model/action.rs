//! The actions that change the chain: the staking extrinsics a coldkey signs, and the
//! devnet-only knobs (scores, skipped epochs). Accounts are given as `0x` hex or a name.

use serde::{Deserialize, Serialize};

use super::types::{AccountId, NetUid};
use crate::model::account;

/// One extrinsic (or devnet knob) to apply in a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// `add_stake(hotkey, netuid, amount_staked)`: `tao` in rao.
    AddStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        tao: u64,
    },
    /// `remove_stake(hotkey, netuid, amount_unstaked)`: `alpha` in its smallest unit;
    /// `alpha_fee` > 0 pays the transaction fee in alpha from the same position.
    RemoveStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        #[serde(default)]
        alpha_fee: u64,
    },
    /// `unstake_all(hotkey)`: every non-root subnet.
    UnstakeAll {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
    },
    /// `move_stake(origin_hotkey, destination_hotkey, origin_netuid, destination_netuid, alpha)`.
    MoveStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        origin_hotkey: AccountId,
        #[serde(with = "account")]
        dest_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
    },
    /// `transfer_stake(destination_coldkey, hotkey, origin_netuid, destination_netuid, alpha)`.
    TransferStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        dest_coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
    },
    /// `swap_stake(hotkey, origin_netuid, destination_netuid, alpha)`.
    SwapStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
    },
    /// `recycle_alpha(hotkey, amount, netuid)`.
    RecycleAlpha {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    },
    /// `burn_alpha(hotkey, amount, netuid)`.
    BurnAlpha {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    },
    /// A "Keep" root-dividend claim (`claim_root({netuid})`) crediting the `alpha` owed
    /// to (hotkey, coldkey, netuid), where `hotkey` is one the coldkey stakes to (on
    /// root); its `RootClaimed` event has no amount. `auto = true`: the claim is made by
    /// `run_auto_claim_root_divs` in block initialization, after the epochs, not as an
    /// extrinsic.
    RootClaim {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        #[serde(default)]
        auto: bool,
    },
    /// `burned_register(netuid, hotkey)`: takes a free uid, or replaces `uid` (or the
    /// lowest-incentive neuron) when the subnet is full.
    Register {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        #[serde(default)]
        uid: Option<u16>,
    },
    /// `set_coldkey_auto_stake_hotkey(netuid, hotkey)`.
    SetAutoStake {
        #[serde(with = "account")]
        coldkey: AccountId,
        netuid: NetUid,
        #[serde(with = "account")]
        hotkey: AccountId,
    },
    /// `transfer_stake_and_hotkey(destination_coldkey, origin_hotkey, destination_hotkey,
    /// origin_netuid, destination_netuid, alpha_amount)` (spec 459, call 143): a transfer
    /// to another coldkey that lands on another hotkey.
    TransferStakeAndHotkey {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        dest_coldkey: AccountId,
        #[serde(with = "account")]
        origin_hotkey: AccountId,
        #[serde(with = "account")]
        dest_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
    },
    /// `move_stake_limit(origin_hotkey, destination_hotkey, origin_netuid,
    /// destination_netuid, alpha_amount, limit_price, allow_partial)` (spec 459, call
    /// 149): `move_stake` refused when, across subnets, the destination alpha per origin
    /// alpha (x 1e9) is below `limit_price`; `alpha = 18446744073709551615` (u64::MAX)
    /// moves the whole origin position.
    MoveStakeLimit {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        origin_hotkey: AccountId,
        #[serde(with = "account")]
        dest_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
        #[serde(default)]
        limit_price: u64,
        #[serde(default)]
        allow_partial: bool,
    },
    /// `add_collateral(netuid, hotkey, alpha, limit_price)` (spec 459, call 144): locks
    /// `alpha` of miner collateral on the signer's own (hotkey, netuid) position, first
    /// from its free stake, buying the rest with TAO (`StakeAdded`) refused when the
    /// price is above `limit_price` (rao per alpha, default u64::MAX: no limit);
    /// `CollateralLocked`.
    AddCollateral {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        #[serde(default = "no_limit")]
        limit_price: u64,
    },
    /// `set_min_collateral(netuid, hotkey, min_locked)` (spec 459, call 145): the floor
    /// below which the position's incentive is captured into the lock at the epoch;
    /// `MinCollateralSet`.
    SetMinCollateral {
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        min_locked: u64,
    },
    /// `set_weights(netuid, dests, weights, version_key)`, signed by the validator's
    /// `hotkey` (`crate::model::weights`).
    SetWeights {
        #[serde(with = "account")]
        hotkey: AccountId,
        netuid: NetUid,
        dests: Vec<u16>,
        weights: Vec<u16>,
        #[serde(default)]
        version_key: u64,
    },
    /// Devnet knob (spec 459): `hotkey` (owned by `coldkey`) becomes the subnet's
    /// lock-conviction leader; at the subnet's next epoch drain, before the epoch runs,
    /// ownership moves to it (`SubnetOwnerChanged`, no `NeuronRegistered` if it takes a
    /// uid). The lock extrinsics that would build the conviction are not simulated.
    ChangeOwner {
        netuid: NetUid,
        #[serde(with = "account")]
        coldkey: AccountId,
        #[serde(with = "account")]
        hotkey: AccountId,
    },
    /// Devnet knob: per-uid miner incentive weights (of `mechanism`, default 0) and
    /// validator dividend weights.
    SetScores {
        netuid: NetUid,
        #[serde(default)]
        incentive: Option<Vec<u64>>,
        #[serde(default)]
        dividends: Option<Vec<u64>>,
        #[serde(default)]
        mechanism: u8,
    },
    /// Devnet knob: the next `count` epochs of the subnet find inconsistent state.
    SkipEpochs { netuid: NetUid, count: u32 },
}

fn no_limit() -> u64 {
    u64::MAX
}

impl Action {
    /// Whether this is a devnet knob rather than an extrinsic (no extrinsic in the block).
    pub fn is_knob(&self) -> bool {
        matches!(
            self,
            Action::SetScores { .. } | Action::SkipEpochs { .. } | Action::ChangeOwner { .. }
        )
    }

    /// Whether the runtime applies this in block initialization (an auto root claim)
    /// rather than as an extrinsic.
    pub fn in_initialization(&self) -> bool {
        matches!(self, Action::RootClaim { auto: true, .. })
    }

    /// The call's name in the `SubtensorModule` pallet.
    pub fn call_name(&self) -> Option<&'static str> {
        Some(match self {
            Action::AddStake { .. } => "add_stake",
            Action::RemoveStake { .. } => "remove_stake",
            Action::UnstakeAll { .. } => "unstake_all",
            Action::MoveStake { .. } => "move_stake",
            Action::TransferStake { .. } => "transfer_stake",
            Action::SwapStake { .. } => "swap_stake",
            Action::RecycleAlpha { .. } => "recycle_alpha",
            Action::BurnAlpha { .. } => "burn_alpha",
            Action::RootClaim { .. } => "claim_root",
            Action::Register { .. } => "burned_register",
            Action::SetAutoStake { .. } => "set_coldkey_auto_stake_hotkey",
            Action::TransferStakeAndHotkey { .. } => "transfer_stake_and_hotkey",
            Action::MoveStakeLimit { .. } => "move_stake_limit",
            Action::AddCollateral { .. } => "add_collateral",
            Action::SetMinCollateral { .. } => "set_min_collateral",
            Action::SetWeights { .. } => "set_weights",
            Action::SetScores { .. } | Action::SkipEpochs { .. } | Action::ChangeOwner { .. } => {
                return None;
            }
        })
    }

    /// The signer, for extrinsics.
    pub fn signer(&self) -> Option<AccountId> {
        match self {
            Action::AddStake { coldkey, .. }
            | Action::RemoveStake { coldkey, .. }
            | Action::UnstakeAll { coldkey, .. }
            | Action::MoveStake { coldkey, .. }
            | Action::TransferStake { coldkey, .. }
            | Action::SwapStake { coldkey, .. }
            | Action::RecycleAlpha { coldkey, .. }
            | Action::BurnAlpha { coldkey, .. }
            | Action::RootClaim { coldkey, .. }
            | Action::Register { coldkey, .. }
            | Action::SetAutoStake { coldkey, .. }
            | Action::TransferStakeAndHotkey { coldkey, .. }
            | Action::MoveStakeLimit { coldkey, .. }
            | Action::AddCollateral { coldkey, .. }
            | Action::SetMinCollateral { coldkey, .. } => Some(*coldkey),
            // `set_weights` is signed by the hotkey.
            Action::SetWeights { hotkey, .. } => Some(*hotkey),
            _ => None,
        }
    }
}
