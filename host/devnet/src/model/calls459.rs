//! Staking calls new in spec 459: `transfer_stake_and_hotkey` (143) and
//! `move_stake_limit` (149), both through the same stake transition as `move_stake` /
//! `transfer_stake` (`ChainState::transition`).
//!
//! Read in RaoFoundation/subtensor (stored versions at 0bb2cb30 / e64fa7eb; spec 459 is
//! 005a8dc0):
//! - `pallets/subtensor/src/staking/move_stake.rs` `do_transfer_stake_and_hotkey`:
//!   `transition_stake_across_positions(coldkey, destination_coldkey, origin_hotkey,
//!   destination_hotkey, ...)` then `StakeAndHotkeyTransferred { origin_coldkey,
//!   destination_coldkey, origin_hotkey, destination_hotkey, origin_netuid,
//!   destination_netuid, amount }` with `amount` the TAO moved. Across subnets the
//!   transition unstakes (`unstake_from_subnet`: `StakeRemoved`), moves the TAO to the
//!   destination coldkey and stakes it (`stake_into_subnet`: `StakeAdded`); within one
//!   subnet `transfer_stake_within_subnet` (`staking/stake_utils/stake_swap.rs`) deposits
//!   `StakeRemoved` then `StakeAdded` of the same alpha. So: `StakeRemoved`, `StakeAdded`,
//!   `StakeAndHotkeyTransferred`, in that order.
//! - `pallets/subtensor/src/macros/dispatches.rs` `move_stake_limit` (call 149): "moves
//!   stake from one hotkey to another and, when the subnets differ, protects the swap
//!   with a relative price limit ... minimum acceptable destination-alpha per
//!   origin-alpha ratio, scaled by 1e9 ... `alpha_amount` of `AlphaBalance::MAX` means
//!   the live origin position"; it emits `StakeMoved` like `move_stake`
//!   (`do_move_stake_limit` itself was not found in the stored source). The limit goes
//!   through `transition_stake_across_positions` / `get_max_amount_move`, which with no
//!   slippage (the model's fixed prices) allows all or nothing: nothing is an error.

use super::{AccountId, ChainEvent, ChainState, Exec, NetUid};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

impl ChainState {
    fn require_calls_459(&self, call: &str) -> Result<()> {
        if self.rules.calls_459 {
            Ok(())
        } else {
            err(format!(
                "{call}: not a call of this runtime (spec 459 or later)"
            ))
        }
    }

    /// `do_transfer_stake_and_hotkey`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn transfer_stake_and_hotkey(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        dest_coldkey: AccountId,
        origin_hotkey: AccountId,
        dest_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
    ) -> Result<()> {
        self.require_calls_459("transfer_stake_and_hotkey")?;
        self.require_hotkey(&dest_hotkey)?;
        let tao = self.transition(
            ex,
            coldkey,
            origin_hotkey,
            origin_netuid,
            dest_coldkey,
            dest_hotkey,
            dest_netuid,
            alpha,
        )?;
        ex.emit(ChainEvent::StakeAndHotkeyTransferred {
            origin_coldkey: coldkey,
            destination_coldkey: dest_coldkey,
            origin_hotkey,
            destination_hotkey: dest_hotkey,
            origin_netuid,
            destination_netuid: dest_netuid,
            amount: tao,
        });
        Ok(())
    }

    /// `move_stake_limit`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn move_stake_limit(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        origin_hotkey: AccountId,
        dest_hotkey: AccountId,
        origin_netuid: NetUid,
        dest_netuid: NetUid,
        alpha: u64,
        limit_price: u64,
    ) -> Result<()> {
        self.require_calls_459("move_stake_limit")?;
        self.require_hotkey(&dest_hotkey)?;
        let alpha = if alpha == u64::MAX {
            self.stake(&origin_hotkey, &coldkey, origin_netuid)
        } else {
            alpha
        };
        if origin_netuid != dest_netuid {
            let (po, pd) = (
                self.subnet(origin_netuid)?.price_rao as u128,
                self.subnet(dest_netuid)?.price_rao.max(1) as u128,
            );
            let ratio = po * 1_000_000_000 / pd;
            if (limit_price as u128) > ratio {
                return err(format!(
                    "move_stake_limit: destination alpha per origin alpha is {ratio} (x 1e9), \
                     below limit_price {limit_price}: nothing can move (ZeroMaxStakeAmount)"
                ));
            }
        }
        let tao = self.transition(
            ex,
            coldkey,
            origin_hotkey,
            origin_netuid,
            coldkey,
            dest_hotkey,
            dest_netuid,
            alpha,
        )?;
        ex.emit(ChainEvent::StakeMoved {
            coldkey,
            origin_hotkey,
            origin_netuid,
            dest_hotkey,
            dest_netuid,
            tao,
        });
        Ok(())
    }
}
