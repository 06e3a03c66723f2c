//! Dispatch of an action to the operation that applies it: the staking calls
//! (`staking`), registration and the owner-change knob (`neurons`), the spec 459 calls
//! (`calls459`, `collateral`), weights (`weights`) and the devnet knobs (`block`), with
//! the call-level checks and events that wrap them (alpha fees, move/transfer/swap
//! events).

use super::{Action, ChainEvent, ChainState, Exec, NetUid, TruthKind};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

impl ChainState {
    pub(super) fn apply_action(&mut self, a: &Action, ex: &mut Exec) -> Result<()> {
        match a.clone() {
            Action::AddStake {
                coldkey,
                hotkey,
                netuid,
                tao,
            } => self.add_stake(ex, coldkey, hotkey, netuid, tao).map(|_| ()),
            Action::RemoveStake {
                coldkey,
                hotkey,
                netuid,
                alpha,
                alpha_fee,
            } => {
                if alpha_fee > 0 && !self.rules.alpha_fees {
                    return err(
                        "remove_stake: alpha_fee: this runtime charges no fee in alpha (393: \
                         no TransactionFeePaidWithAlpha)"
                            .into(),
                    );
                }
                let fee = if alpha_fee > 0 {
                    Some(self.withdraw_fee_in_alpha(ex, coldkey, hotkey, netuid, alpha_fee)?)
                } else {
                    None
                };
                self.remove_stake(ex, coldkey, hotkey, netuid, alpha)?;
                if let Some(tao_amount) = fee {
                    // `correct_and_deposit_fee` (post-dispatch): after the call's events.
                    ex.emit(ChainEvent::TransactionFeePaidWithAlpha {
                        who: coldkey,
                        netuid,
                        alpha_fee,
                        tao_amount,
                    });
                }
                Ok(())
            }
            Action::UnstakeAll { coldkey, hotkey } => {
                self.require_hotkey(&hotkey)?;
                let nets: Vec<NetUid> = self.subnets.keys().copied().filter(|n| *n != 0).collect();
                for netuid in nets {
                    let held = self.stake(&hotkey, &coldkey, netuid);
                    if held > 0 {
                        self.remove_stake(ex, coldkey, hotkey, netuid, held)?;
                    }
                }
                Ok(())
            }
            Action::MoveStake {
                coldkey,
                origin_hotkey,
                dest_hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            } => {
                self.require_hotkey(&dest_hotkey)?;
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
            Action::TransferStake {
                coldkey,
                dest_coldkey,
                hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            } => {
                let tao = self.transition(
                    ex,
                    coldkey,
                    hotkey,
                    origin_netuid,
                    dest_coldkey,
                    hotkey,
                    dest_netuid,
                    alpha,
                )?;
                ex.emit(ChainEvent::StakeTransferred {
                    origin_coldkey: coldkey,
                    dest_coldkey,
                    hotkey,
                    origin_netuid,
                    dest_netuid,
                    tao,
                });
                Ok(())
            }
            Action::SwapStake {
                coldkey,
                hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            } => {
                if origin_netuid == dest_netuid {
                    return err(format!(
                        "swap_stake: origin_netuid and dest_netuid are both {origin_netuid}"
                    ));
                }
                let tao = self.transition(
                    ex,
                    coldkey,
                    hotkey,
                    origin_netuid,
                    coldkey,
                    hotkey,
                    dest_netuid,
                    alpha,
                )?;
                ex.emit(ChainEvent::StakeSwapped {
                    coldkey,
                    hotkey,
                    origin_netuid,
                    dest_netuid,
                    tao,
                });
                Ok(())
            }
            Action::RecycleAlpha {
                coldkey,
                hotkey,
                netuid,
                alpha,
            } => {
                self.take_alpha(
                    ex,
                    coldkey,
                    hotkey,
                    netuid,
                    alpha,
                    TruthKind::Recycle,
                    "recycle_alpha",
                )?;
                ex.emit(ChainEvent::AlphaRecycled {
                    coldkey,
                    hotkey,
                    amount: alpha,
                    netuid,
                });
                Ok(())
            }
            Action::BurnAlpha {
                coldkey,
                hotkey,
                netuid,
                alpha,
            } => {
                self.take_alpha(
                    ex,
                    coldkey,
                    hotkey,
                    netuid,
                    alpha,
                    TruthKind::Burn,
                    "burn_alpha",
                )?;
                ex.emit(ChainEvent::AlphaBurned {
                    coldkey,
                    hotkey,
                    amount: alpha,
                    netuid,
                });
                Ok(())
            }
            Action::RootClaim {
                coldkey,
                hotkey,
                netuid,
                alpha,
                auto: _,
            } => self.root_claim(ex, coldkey, hotkey, netuid, alpha),
            Action::Register {
                coldkey,
                hotkey,
                netuid,
                uid,
            } => self.register(ex, coldkey, hotkey, netuid, uid),
            Action::SetAutoStake {
                coldkey,
                netuid,
                hotkey,
            } => {
                self.subnet(netuid)?;
                self.require_hotkey(&hotkey)?;
                self.auto_stake.insert((coldkey, netuid), hotkey);
                Ok(())
            }
            Action::TransferStakeAndHotkey {
                coldkey,
                dest_coldkey,
                origin_hotkey,
                dest_hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            } => self.transfer_stake_and_hotkey(
                ex,
                coldkey,
                dest_coldkey,
                origin_hotkey,
                dest_hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
            ),
            Action::MoveStakeLimit {
                coldkey,
                origin_hotkey,
                dest_hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
                limit_price,
                allow_partial: _,
            } => self.move_stake_limit(
                ex,
                coldkey,
                origin_hotkey,
                dest_hotkey,
                origin_netuid,
                dest_netuid,
                alpha,
                limit_price,
            ),
            Action::AddCollateral {
                coldkey,
                hotkey,
                netuid,
                alpha,
                limit_price,
            } => self.add_collateral(ex, coldkey, hotkey, netuid, alpha, limit_price),
            Action::SetMinCollateral {
                coldkey,
                hotkey,
                netuid,
                min_locked,
            } => self.set_min_collateral(ex, coldkey, hotkey, netuid, min_locked),
            Action::SetWeights {
                hotkey,
                netuid,
                dests,
                weights,
                version_key,
            } => self.set_weights(ex, hotkey, netuid, &dests, &weights, version_key),
            Action::SetScores { .. } | Action::SkipEpochs { .. } | Action::ChangeOwner { .. } => {
                self.apply_knob(a)
            }
        }
    }
}
