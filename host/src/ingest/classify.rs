//! Turns a block's decoded events into the contract's stake flows for one subnet: each
//! `StakeAdded` / `StakeRemoved` is classified by the `StakeMoved` / `StakeTransferred` /
//! `StakeSwapped` event of the same extrinsic that explains it (moved-, transferred-,
//! swapped- in/out), the rest are plain added/removed; fees, recycle, burn, auto-stake and
//! root claims are flows of their own. Alpha amounts only, never the TAO ones. Incentive
//! and dividend flows need storage (uid -> hotkey, dividends) and are added by the block
//! processor. Also reports the subnet's epoch events and registrations.

use crate::chain::{Account, Event, Profile, Record, ss58};
use crate::policy::{Flow, FlowKind};

/// What the events say about the subnet's epoch at this block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EpochSignal {
    /// The epoch ran: index of its `IncentiveAlphaEmittedToMiners` event and the
    /// emissions by uid.
    pub run: Option<(u32, Vec<u64>)>,
    pub skipped: bool,
    /// Deferred to this block.
    pub deferred_to: Option<u64>,
}

impl EpochSignal {
    pub fn any(&self) -> bool {
        self.run.is_some() || self.skipped || self.deferred_to.is_some()
    }
}

/// One block, classified.
#[derive(Debug, Clone, Default)]
pub struct Classified {
    pub flows: Vec<Flow>,
    pub epoch: EpochSignal,
    /// (uid, hotkey) registered on the subnet in this block.
    pub registrations: Vec<(u16, Account)>,
    /// The runtime changed in this block.
    pub code_updated: bool,
    /// The subnet's owner changed (spec 459+): a uid may have a new hotkey at this block
    /// with no `NeuronRegistered`.
    pub owner_changed: bool,
    /// The subnet is being dissolved (`NetworkRemoved`) or its dissolution finished.
    pub dissolution: Option<Dissolution>,
}

/// A subnet's dissolution: stakes are settled straight to coldkey balances with no
/// `StakeRemoved` (RaoFoundation/subtensor `pallets/subtensor/src/staking/remove_stake/
/// destroy_alpha.rs`; over several blocks from spec 459), so positions fall with no flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dissolution {
    Started,
    Completed,
}

/// The subnet a mechanism's `IncentiveAlphaEmittedToMiners` is for: its `netuid` field is
/// `netuid + mechid * 4096` (subtensor `get_mechanism_storage_index`,
/// pallets/subtensor/src/subnets/mechanism.rs; emitted in `persist_epoch_terms.rs`).
pub const MECHANISM_STRIDE: u16 = 4096;

fn subnet_of_mechanism(n: u16) -> u16 {
    n % MECHANISM_STRIDE
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Added,
    Removed,
}

struct Pending {
    idx: usize,
    side: Side,
    coldkey: Account,
    hotkey: Account,
    netuid: u16,
    alpha: u64,
    extrinsic: Option<u32>,
    claimed: Option<(FlowKind, Option<String>)>,
}

/// Classifies `records` of block `block` for subnet `netuid` on runtime `profile`.
pub fn classify(block: u64, netuid: u16, profile: &Profile, records: &[Record]) -> Classified {
    let mut out = Classified::default();
    // Stake added/removed events, to be claimed by the transition events after them.
    let mut pend: Vec<Pending> = vec![];
    // Fee events whose amount a `StakeRemoved` of the same extrinsic already carries.
    let mut fee_paid_by_removal = std::collections::BTreeSet::new();
    for (i, r) in records.iter().enumerate() {
        let x = r.phase.extrinsic();
        match &r.event {
            Event::StakeAdded {
                coldkey,
                hotkey,
                netuid: n,
                alpha,
                ..
            } => pend.push(Pending {
                idx: i,
                side: Side::Added,
                coldkey: *coldkey,
                hotkey: *hotkey,
                netuid: *n,
                alpha: *alpha,
                extrinsic: x,
                claimed: None,
            }),
            Event::StakeRemoved {
                coldkey,
                hotkey,
                netuid: n,
                alpha,
                ..
            } => pend.push(Pending {
                idx: i,
                side: Side::Removed,
                coldkey: *coldkey,
                hotkey: *hotkey,
                netuid: *n,
                alpha: *alpha,
                extrinsic: x,
                claimed: None,
            }),
            Event::StakeMoved {
                coldkey,
                origin_hotkey,
                origin_netuid,
                dest_hotkey,
                dest_netuid,
            } => {
                claim(
                    &mut pend,
                    x,
                    Side::Removed,
                    coldkey,
                    origin_hotkey,
                    *origin_netuid,
                    FlowKind::MovedOut,
                    Some(ss58(dest_hotkey)),
                );
                claim(
                    &mut pend,
                    x,
                    Side::Added,
                    coldkey,
                    dest_hotkey,
                    *dest_netuid,
                    FlowKind::MovedIn,
                    Some(ss58(origin_hotkey)),
                );
            }
            Event::StakeTransferred {
                origin_coldkey,
                dest_coldkey,
                hotkey,
                origin_netuid,
                dest_netuid,
            } => {
                claim(
                    &mut pend,
                    x,
                    Side::Removed,
                    origin_coldkey,
                    hotkey,
                    *origin_netuid,
                    FlowKind::TransferredOut,
                    Some(ss58(dest_coldkey)),
                );
                claim(
                    &mut pend,
                    x,
                    Side::Added,
                    dest_coldkey,
                    hotkey,
                    *dest_netuid,
                    FlowKind::TransferredIn,
                    Some(ss58(origin_coldkey)),
                );
            }
            Event::StakeAndHotkeyTransferred {
                origin_coldkey,
                destination_coldkey,
                origin_hotkey,
                destination_hotkey,
                origin_netuid,
                destination_netuid,
            } => {
                claim(
                    &mut pend,
                    x,
                    Side::Removed,
                    origin_coldkey,
                    origin_hotkey,
                    *origin_netuid,
                    FlowKind::TransferredOut,
                    Some(ss58(destination_coldkey)),
                );
                claim(
                    &mut pend,
                    x,
                    Side::Added,
                    destination_coldkey,
                    destination_hotkey,
                    *destination_netuid,
                    FlowKind::TransferredIn,
                    Some(ss58(origin_coldkey)),
                );
            }
            Event::StakeSwapped {
                coldkey,
                hotkey,
                origin_netuid,
                dest_netuid,
            } => {
                claim(
                    &mut pend,
                    x,
                    Side::Removed,
                    coldkey,
                    hotkey,
                    *origin_netuid,
                    FlowKind::SwappedOut,
                    None,
                );
                claim(
                    &mut pend,
                    x,
                    Side::Added,
                    coldkey,
                    hotkey,
                    *dest_netuid,
                    FlowKind::SwappedIn,
                    None,
                );
            }
            // The fee was sold from the call's own position before dispatch, with a
            // `StakeRemoved` of the fee in the same extrinsic (subtensor v3.4.9-424
            // pallets/transaction-fee/src/lib.rs `withdraw_in_alpha` ->
            // `unstake_from_subnet`); this post-dispatch event names only the coldkey.
            // That removal becomes the fee flow, with its hotkey; the event adds none.
            Event::TransactionFeePaidWithAlpha {
                who,
                netuid: n,
                alpha_fee,
            } => {
                if let Some(p) = pend.iter_mut().find(|p| {
                    p.claimed.is_none()
                        && p.side == Side::Removed
                        && p.extrinsic == x
                        && p.coldkey == *who
                        && p.netuid == *n
                        && p.alpha == *alpha_fee
                }) {
                    p.claimed = Some((FlowKind::AlphaFee, None));
                    fee_paid_by_removal.insert(i);
                }
            }
            _ => {}
        }
    }
    let mut by_idx: std::collections::BTreeMap<usize, (FlowKind, Option<String>)> =
        Default::default();
    for p in pend {
        let kind = p.claimed.unwrap_or(match p.side {
            Side::Added => (FlowKind::Added, None),
            Side::Removed => (FlowKind::Removed, None),
        });
        by_idx.insert(p.idx, kind);
    }
    for (i, r) in records.iter().enumerate() {
        let flow = |kind, hotkey: String, coldkey: String, n: u16, alpha: u64, counterparty| Flow {
            block,
            extrinsic: r.phase.extrinsic(),
            event_index: r.index,
            kind,
            hotkey,
            coldkey,
            netuid: n,
            alpha,
            counterparty,
        };
        let f = match &r.event {
            Event::StakeAdded {
                coldkey,
                hotkey,
                alpha,
                netuid: n,
                ..
            }
            | Event::StakeRemoved {
                coldkey,
                hotkey,
                alpha,
                netuid: n,
                ..
            } => {
                let (kind, cp) = by_idx.remove(&i).unwrap_or((FlowKind::Added, None));
                Some(flow(kind, ss58(hotkey), ss58(coldkey), *n, *alpha, cp))
            }
            Event::AutoStakeAdded {
                netuid: n,
                destination,
                hotkey,
                owner,
                incentive,
            } => Some(flow(
                FlowKind::AutoStaked,
                ss58(destination),
                ss58(owner),
                *n,
                *incentive,
                Some(ss58(hotkey)),
            )),
            // A fee with no removal of its own (a runtime that charged it otherwise) names
            // no hotkey: the policy charges it to the coldkey's unexplained decreases.
            Event::TransactionFeePaidWithAlpha {
                who,
                netuid: n,
                alpha_fee,
            } if !fee_paid_by_removal.contains(&i) => Some(flow(
                FlowKind::AlphaFee,
                String::new(),
                ss58(who),
                *n,
                *alpha_fee,
                None,
            )),
            Event::AlphaRecycled {
                coldkey,
                hotkey,
                amount,
                netuid: n,
            } => Some(flow(
                FlowKind::Recycled,
                ss58(hotkey),
                ss58(coldkey),
                *n,
                *amount,
                None,
            )),
            Event::AlphaBurned {
                coldkey,
                hotkey,
                amount,
                netuid: n,
            } => Some(flow(
                FlowKind::Burned,
                ss58(hotkey),
                ss58(coldkey),
                *n,
                *amount,
                None,
            )),
            // Up to spec 440 a Keep claim credits subnet alpha, and the event names no
            // subnet, hotkey or amount: the processor reads the claiming coldkey's
            // positions to measure it. From 441 claims pay TAO on root: no subnet flow.
            Event::RootClaimed { coldkey, .. } if profile.root_claim_credits_alpha => Some(flow(
                FlowKind::RootClaimed,
                String::new(),
                ss58(coldkey),
                netuid,
                0,
                None,
            )),
            Event::IncentiveAlphaEmittedToMiners {
                netuid: n,
                emissions,
            } if subnet_of_mechanism(*n) == netuid => {
                // One event per mechanism: incentive is summed per uid.
                let (_, sum) = out.epoch.run.get_or_insert((r.index, vec![]));
                if sum.len() < emissions.len() {
                    sum.resize(emissions.len(), 0);
                }
                for (s, e) in sum.iter_mut().zip(emissions) {
                    *s = s.saturating_add(*e);
                }
                None
            }
            Event::SubnetOwnerChanged { netuid: n } if *n == netuid => {
                out.owner_changed = true;
                None
            }
            Event::EpochSkipped { netuid: n, .. } if *n == netuid => {
                out.epoch.skipped = true;
                None
            }
            Event::EpochDeferred {
                netuid: n,
                to_block,
                ..
            } if *n == netuid => {
                out.epoch.deferred_to = Some(*to_block);
                None
            }
            Event::NeuronRegistered {
                netuid: n,
                uid,
                hotkey,
            } if *n == netuid => {
                out.registrations.push((*uid, *hotkey));
                None
            }
            Event::NetworkRemoved { netuid: n } if *n == netuid => {
                out.dissolution = Some(Dissolution::Started);
                None
            }
            Event::NetworkDissolveCleanupCompleted { netuid: n } if *n == netuid => {
                out.dissolution = Some(Dissolution::Completed);
                None
            }
            Event::CodeUpdated => {
                out.code_updated = true;
                None
            }
            _ => None,
        };
        if let Some(f) = f
            && f.netuid == netuid
        {
            out.flows.push(f);
        }
    }
    out
}

/// Claims the nearest earlier unclaimed add/remove of the same extrinsic matching the
/// transition's (coldkey, hotkey, netuid).
#[allow(clippy::too_many_arguments)]
fn claim(
    pend: &mut [Pending],
    extrinsic: Option<u32>,
    side: Side,
    coldkey: &Account,
    hotkey: &Account,
    netuid: u16,
    kind: FlowKind,
    counterparty: Option<String>,
) {
    if let Some(p) = pend.iter_mut().rev().find(|p| {
        p.claimed.is_none()
            && p.side == side
            && p.extrinsic == extrinsic
            && p.coldkey == *coldkey
            && p.hotkey == *hotkey
            && p.netuid == netuid
    }) {
        p.claimed = Some((kind, counterparty));
    }
}
