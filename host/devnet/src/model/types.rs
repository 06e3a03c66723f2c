//! Plain data of the chain model: accounts, subnets, the events the runtime emits and
//! the ground-truth records of where each position's alpha came from.

use imbl::OrdMap;
use serde::{Deserialize, Serialize};

/// A 32-byte account id (AccountId32).
pub type AccountId = [u8; 32];

/// A subnet's id.
pub type NetUid = u16;

/// 1 TAO (or 1 alpha) in the smallest unit.
pub const UNIT: u64 = 1_000_000_000;

/// The largest tempo before an epoch is forced (`MAX_TEMPO`).
pub const MAX_TEMPO: u64 = 50_400;

/// One subnet's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subnet {
    pub netuid: NetUid,
    pub tempo: u16,
    pub owner_coldkey: AccountId,
    pub owner_hotkey: AccountId,
    pub max_uids: u16,
    /// Alpha emitted into the subnet each block.
    pub emission_per_block: u64,
    /// The owner's share of emission, in basis points.
    pub owner_cut_bps: u32,
    /// The miners' share of the rest, in basis points (validators get the remainder).
    pub miner_share_bps: u32,
    /// Price of 1 alpha in rao (fixed; 1e9 = 1 TAO per alpha).
    pub price_rao: u64,
    /// Swap fee on add_stake, in basis points of the TAO staked.
    pub stake_fee_bps: u32,
    pub pending_server: u64,
    pub pending_validator: u64,
    pub pending_owner_cut: u64,
    pub last_epoch_block: u64,
    pub pending_epoch_at: u64,
    pub epoch_index: u64,
    pub blocks_since_last_step: u64,
    pub last_mechanism_step_block: u64,
    /// uid -> hotkey (`Keys`).
    pub keys: OrdMap<u16, AccountId>,
    /// hotkey -> uid (`Uids`).
    pub uids: OrdMap<AccountId, u16>,
    /// Miner incentive weights by uid (mechanism 0).
    pub incentive: OrdMap<u16, u64>,
    /// `MechanismCountCurrent` (1 or 2; the runtime's `MaxMechanismCount` is 2).
    pub mechanisms: u8,
    /// `MechanismEmissionSplit`: parts of `u16::MAX` per mechanism; empty = unset (even).
    pub mechanism_split: Vec<u16>,
    /// Miner incentive weights of mechanisms 1.. by (mechanism, uid); a uid without an
    /// entry weighs as on mechanism 0.
    pub mechanism_incentive: OrdMap<(u8, u16), u64>,
    /// Validator dividend weights by uid.
    pub dividends: OrdMap<u16, u64>,
    /// Block at which each uid was (re-)registered.
    pub registered_at: OrdMap<u16, u64>,
    /// Upcoming epochs that will find inconsistent input state and be skipped.
    pub skip_next_epochs: u32,
    /// `Emission` by uid: what the last epoch run gave each uid (incentive summed over
    /// mechanisms, withheld or not, plus dividends before the take); a replaced uid reads
    /// 0 (`clear_neuron`). Pruning picks the lowest.
    pub emission: OrdMap<u16, u64>,
    /// A subnet owner change waiting for the next epoch drain: (coldkey, hotkey) of the
    /// lock-conviction leader (spec 459).
    pub pending_owner_change: Option<(AccountId, AccountId)>,
    /// Dividends per hotkey of the last epoch run after the validator's take
    /// (`AlphaDividendsPerSubnet`), replaced at each run.
    #[serde(skip)]
    pub alpha_dividends: OrdMap<AccountId, u64>,
}

impl Subnet {
    /// A uid's miner incentive weight on a mechanism.
    pub fn incentive_weight(&self, mechid: u8, uid: u16) -> u64 {
        let base = self.incentive.get(&uid).copied().unwrap_or(0);
        if mechid == 0 {
            return base;
        }
        self.mechanism_incentive
            .get(&(mechid, uid))
            .copied()
            .unwrap_or(base)
    }
}

/// The staking and emission events the model emits (a subset of `RuntimeEvent`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event")]
pub enum ChainEvent {
    StakeAdded {
        coldkey: AccountId,
        hotkey: AccountId,
        tao: u64,
        alpha: u64,
        netuid: NetUid,
        fee: u64,
    },
    StakeRemoved {
        coldkey: AccountId,
        hotkey: AccountId,
        tao: u64,
        alpha: u64,
        netuid: NetUid,
        fee: u64,
    },
    StakeMoved {
        coldkey: AccountId,
        origin_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_hotkey: AccountId,
        dest_netuid: NetUid,
        tao: u64,
    },
    StakeTransferred {
        origin_coldkey: AccountId,
        dest_coldkey: AccountId,
        hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        tao: u64,
    },
    StakeSwapped {
        coldkey: AccountId,
        hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        tao: u64,
    },
    AutoStakeAdded {
        netuid: NetUid,
        destination: AccountId,
        hotkey: AccountId,
        owner: AccountId,
        incentive: u64,
    },
    /// One per mechanism: `netuid` is the storage index `netuid + mechid * 4096`.
    IncentiveAlphaEmittedToMiners {
        netuid: NetUid,
        emissions: Vec<u64>,
    },
    TransactionFeePaidWithAlpha {
        who: AccountId,
        netuid: NetUid,
        alpha_fee: u64,
        tao_amount: u64,
    },
    AlphaRecycled {
        coldkey: AccountId,
        hotkey: AccountId,
        amount: u64,
        netuid: NetUid,
    },
    AlphaBurned {
        coldkey: AccountId,
        hotkey: AccountId,
        amount: u64,
        netuid: NetUid,
    },
    EpochDeferred {
        netuid: NetUid,
        from_block: u64,
        to_block: u64,
    },
    EpochSkipped {
        netuid: NetUid,
        block: u64,
    },
    /// Spec 459: ownership moved at the epoch drain.
    SubnetOwnerChanged {
        netuid: NetUid,
        old_coldkey: AccountId,
        new_coldkey: AccountId,
    },
    /// Spec 459 `transfer_stake_and_hotkey`; `amount` is the TAO the transition moved.
    StakeAndHotkeyTransferred {
        origin_coldkey: AccountId,
        destination_coldkey: AccountId,
        origin_hotkey: AccountId,
        destination_hotkey: AccountId,
        origin_netuid: NetUid,
        destination_netuid: NetUid,
        amount: u64,
    },
    /// Spec 459 `add_collateral` (and a collateralised registration): `locked` is what
    /// this call locked, `total_locked` the position's lock after it.
    CollateralLocked {
        netuid: NetUid,
        hotkey: AccountId,
        locked: u64,
        total_locked: u64,
    },
    /// Spec 459 `set_min_collateral`.
    MinCollateralSet {
        netuid: NetUid,
        hotkey: AccountId,
        min_locked: u64,
    },
    /// `tao` is what a claim paid on root (spec 441+); 0 before, when the event has no
    /// such field (the encoder drops it: `crate::encode`).
    RootClaimed {
        coldkey: AccountId,
        tao: u64,
    },
    NeuronRegistered {
        netuid: NetUid,
        uid: u16,
        hotkey: AccountId,
    },
    /// `WeightsSet(netuid, uid)` (`set_weights`).
    WeightsSet {
        netuid: NetUid,
        uid: u16,
    },
    /// `System.ExtrinsicSuccess` (mandatory = inherent).
    ExtrinsicSuccess {
        mandatory: bool,
    },
    /// `Balances.Withdraw { who, amount }`: the transaction fee taken before dispatch
    /// (`pallet_transaction_payment` `withdraw_fee` through subtensor's fee handler).
    Withdraw {
        who: AccountId,
        amount: u64,
    },
    /// `TransactionPayment.TransactionFeePaid { who, actual_fee, tip }` (post-dispatch).
    TransactionFeePaid {
        who: AccountId,
        actual_fee: u64,
        tip: u64,
    },
}

/// A stake position's miner collateral (spec 459 `MinerCollateralState`, keyed by
/// `(netuid, hotkey, coldkey)`; RaoFoundation/subtensor
/// `pallets/subtensor/src/subnets/collateral.rs`). The locked alpha stays in the
/// position as stake: the lock only limits what can leave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinerCollateral {
    /// Alpha locked in the position.
    pub locked: u64,
    /// `drain_ratio` (U64F64, `CollateralDrainRatio` when the entry was made; default 1)
    /// in parts of 1e9: alpha released per alpha of emission earned above the floor.
    pub drain_ratio_ppb: u64,
    /// The miner-set floor: below it, emission is captured into the lock.
    pub min_locked: u64,
    /// Lifetime emission settled against the entry.
    pub earned: u64,
}

/// `DefaultCollateralDrainRatio` (`U64F64::from_num(1)`), in parts of 1e9.
pub const DEFAULT_DRAIN_RATIO_PPB: u64 = 1_000_000_000;

/// Where in the block an event was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Phase {
    #[default]
    Initialization,
    ApplyExtrinsic(u32),
    Finalization,
}

/// An event with its phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub phase: Phase,
    pub event: ChainEvent,
}

/// What moved a position's alpha, as the model knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruthKind {
    /// Earned at an epoch (incentive summed over mechanisms, take, dividends, the owner
    /// cut which has no event), including pool rounding then.
    Emission,
    /// Added by a manual action (the `alpha` of a StakeAdded).
    ManualIn,
    /// Removed by a manual action (the `alpha` of a StakeRemoved).
    ManualOut,
    /// Taken as a transaction fee (TransactionFeePaidWithAlpha).
    AlphaFee,
    /// Credited by a "Keep" root claim, as an extrinsic or an auto-claim in block
    /// initialization (RootClaimed carries no amount).
    RootClaim,
    Recycle,
    Burn,
    /// Share-pool rounding outside epochs, no event explains it.
    Rounding,
}

/// One ground-truth record: a signed alpha change of one position in one block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthEntry {
    pub block: u64,
    pub netuid: NetUid,
    #[serde(with = "crate::model::hex32")]
    pub hotkey: AccountId,
    #[serde(with = "crate::model::hex32")]
    pub coldkey: AccountId,
    pub kind: TruthKind,
    pub amount: i64,
    /// The subnet's epoch index after this epoch, for emission entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch_index: Option<u64>,
}
