//! Spec 459 miner collateral: `add_collateral` (call 144), `set_min_collateral` (145) and
//! the settlement of a position's lock against its emission at the epoch.
//!
//! Read in RaoFoundation/subtensor (stored versions: `pallets/subtensor/src/subnets/
//! collateral.rs` at 00d2eb97, `coinbase/run_coinbase/dividend_distribution.rs` at
//! 0bb2cb30; spec 459 is 005a8dc0):
//! - Collateral is keyed by the stake position `(netuid, hotkey, coldkey)`
//!   (`MinerCollateral`, `MinerCollateralState { locked, drain_ratio, min_locked, earned }`).
//!   Locked alpha is ordinary stake of that position: locking moves nothing, and only
//!   `ensure_hotkey_covers_collateral` / `available_to_unstake_from_hotkey` keep it from
//!   leaving (`ChainState::debit`).
//! - `do_add_collateral`: the signer must own the hotkey (`NonAssociatedColdKey`), not on
//!   root; `from_stake = min(stake - locked, alpha)` is locked from the position's free
//!   stake, the shortfall is bought for `shortfall * moving price` TAO with
//!   `stake_into_subnet` (its `StakeAdded`; fill-or-kill against `limit_price`), the
//!   bought alpha is locked too (`credit_miner_collateral`, the drain-ratio snapshot kept),
//!   then `CollateralLocked { netuid, hotkey, locked: from_stake + bought, total_locked }`.
//! - `do_set_min_collateral`: sets `min_locked` (creating the entry with nothing locked,
//!   removing it when both are 0), `MinCollateralSet { netuid, hotkey, min_locked }`.
//! - `settle_miner_collateral(netuid, hotkey, owner, emission, capturable)`: nothing for
//!   zero emission or no entry; `earned += emission`; below the floor,
//!   `captured = min(capturable, min_locked - locked)` is staked to `(hotkey, owner)`
//!   itself with `increase_stake_for_hotkey_and_coldkey_on_subnet` ("staked to the
//!   hotkey itself, never an auto-stake destination") and added to `locked`, with no
//!   event; at or above the floor, `min(drain_ratio * emission, locked - min_locked)` is
//!   released (only `locked` shrinks, the stake stays) and the entry goes when nothing
//!   is locked and no floor is set. So captured alpha never leaves the miner's position:
//!   it is emission earned by that position (ground truth `Emission`).
//! - `distribute_dividends_and_incentives`: for each paid miner,
//!   `captured = settle_miner_collateral(netuid, hotkey, owner, incentive, incentive)`,
//!   `liquid = incentive - captured`; `if liquid.is_zero() { continue; }` (no
//!   `AutoStakeAdded`, nothing credited); else `AutoStakeAdded { .., incentive: liquid }`
//!   when the owner has a destination and `liquid` credited to the destination (or the
//!   hotkey). For dividends, `settle_miner_collateral(netuid, hotkey, owner, total,
//!   take)`: the whole dividend drives `earned` and the release, only the validator's take
//!   can be captured, `take - captured` is credited to (hotkey, owner).
//!
//! Not modelled: registration collateral (`pay_registration`; `CollateralLockShare`
//! defaults to 0, so a registration locks nothing), `CollateralDrainRatio` changes (the
//! default 1 is snapshotted), collateral moved by hotkey / coldkey swaps.

use super::{AccountId, ChainEvent, ChainState, DEFAULT_DRAIN_RATIO_PPB, Exec, MinerCollateral};
use super::{NetUid, TruthKind, hex32::show};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

impl ChainState {
    /// `get_miner_collateral_locked`.
    pub fn collateral_locked(
        &self,
        netuid: NetUid,
        hotkey: &AccountId,
        coldkey: &AccountId,
    ) -> u64 {
        self.collateral
            .get(&(netuid, *hotkey, *coldkey))
            .map(|c| c.locked)
            .unwrap_or(0)
    }

    /// The checks `do_add_collateral` and `do_set_min_collateral` share.
    fn collateral_call_checks(
        &self,
        call: &str,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
    ) -> Result<()> {
        if !self.rules.miner_collateral {
            return err(format!(
                "{call}: not a call of this runtime (spec 459 or later)"
            ));
        }
        if netuid == 0 {
            return err(format!(
                "{call}: not on root (RegistrationNotPermittedOnRootSubnet)"
            ));
        }
        self.subnet(netuid)?;
        self.require_hotkey(&hotkey)?;
        if self.owner.get(&hotkey) != Some(&coldkey) {
            return err(format!(
                "{call}: coldkey {} does not own hotkey {} (NonAssociatedColdKey)",
                show(&coldkey),
                show(&hotkey)
            ));
        }
        Ok(())
    }

    /// `credit_miner_collateral` (the drain ratio of a new entry is the subnet's, 1).
    fn lock_collateral(
        &mut self,
        netuid: NetUid,
        hotkey: AccountId,
        coldkey: AccountId,
        alpha: u64,
    ) {
        let e = self
            .collateral
            .entry((netuid, hotkey, coldkey))
            .or_insert(MinerCollateral {
                locked: 0,
                drain_ratio_ppb: DEFAULT_DRAIN_RATIO_PPB,
                min_locked: 0,
                earned: 0,
            });
        e.locked = e.locked.saturating_add(alpha);
    }

    /// `do_add_collateral`.
    pub(super) fn add_collateral(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        limit_price: u64,
    ) -> Result<()> {
        self.collateral_call_checks("add_collateral", coldkey, hotkey, netuid)?;
        if alpha == 0 {
            return err("add_collateral: alpha is 0 (AmountTooLow)".into());
        }
        let stake = self.stake(&hotkey, &coldkey, netuid);
        let free = stake.saturating_sub(self.collateral_locked(netuid, &hotkey, &coldkey));
        let from_stake = free.min(alpha);
        let shortfall = alpha - from_stake;
        // `shortfall * get_moving_alpha_price` (the model's price is fixed).
        let tao_to_buy = self.tao_for_alpha(netuid, shortfall)?;
        let mut added = 0u64;
        if from_stake > 0 {
            self.lock_collateral(netuid, hotkey, coldkey, from_stake);
            added += from_stake;
        }
        if tao_to_buy > 0 {
            let price = self.subnet(netuid)?.price_rao;
            if limit_price < price {
                return err(format!(
                    "add_collateral: price {price} rao per alpha is above limit_price {limit_price} (SlippageTooHigh)"
                ));
            }
            // `stake_into_subnet`: `StakeAdded`, ground truth `ManualIn`.
            let bought = self.add_stake(ex, coldkey, hotkey, netuid, tao_to_buy)?;
            self.lock_collateral(netuid, hotkey, coldkey, bought);
            added += bought;
        }
        if added == 0 {
            return err("add_collateral: nothing locked (AmountTooLow)".into());
        }
        ex.emit(ChainEvent::CollateralLocked {
            netuid,
            hotkey,
            locked: added,
            total_locked: self.collateral_locked(netuid, &hotkey, &coldkey),
        });
        Ok(())
    }

    /// `do_set_min_collateral`.
    pub(super) fn set_min_collateral(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        min_locked: u64,
    ) -> Result<()> {
        self.collateral_call_checks("set_min_collateral", coldkey, hotkey, netuid)?;
        let key = (netuid, hotkey, coldkey);
        match self.collateral.get_mut(&key) {
            Some(e) => {
                e.min_locked = min_locked;
                if e.locked == 0 && e.min_locked == 0 {
                    self.collateral.remove(&key);
                }
            }
            None if min_locked > 0 => {
                self.collateral.insert(
                    key,
                    MinerCollateral {
                        locked: 0,
                        drain_ratio_ppb: DEFAULT_DRAIN_RATIO_PPB,
                        min_locked,
                        earned: 0,
                    },
                );
            }
            None => {}
        }
        ex.emit(ChainEvent::MinCollateralSet {
            netuid,
            hotkey,
            min_locked,
        });
        Ok(())
    }

    /// `settle_miner_collateral`: returns the alpha captured into the lock, already
    /// staked to `(hotkey, owner)` (no event; ground truth `Emission`, the epoch's).
    pub(super) fn settle_collateral(
        &mut self,
        ex: &mut Exec,
        netuid: NetUid,
        hotkey: AccountId,
        owner: AccountId,
        emission: u64,
        capturable: u64,
    ) -> u64 {
        if emission == 0 || !self.rules.miner_collateral {
            return 0;
        }
        let key = (netuid, hotkey, owner);
        let Some(mut e) = self.collateral.get(&key).copied() else {
            return 0;
        };
        e.earned = e.earned.saturating_add(emission);
        let shortfall = e.min_locked.saturating_sub(e.locked);
        let mut captured = 0;
        if shortfall > 0 {
            captured = capturable.min(shortfall);
            if captured > 0 {
                e.locked = e.locked.saturating_add(captured);
            }
            self.collateral.insert(key, e);
        } else {
            let release = ((emission as u128) * (e.drain_ratio_ppb as u128) / 1_000_000_000) as u64;
            let releasable = e.locked.saturating_sub(e.min_locked);
            e.locked = e.locked.saturating_sub(releasable.min(release));
            if e.locked == 0 && e.min_locked == 0 {
                self.collateral.remove(&key);
            } else {
                self.collateral.insert(key, e);
            }
        }
        if captured > 0 {
            self.credit(ex, hotkey, owner, netuid, captured, TruthKind::Emission);
        }
        captured
    }
}
