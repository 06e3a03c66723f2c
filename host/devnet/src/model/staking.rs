//! Staking extrinsics: add/remove/move/transfer/swap stake, unstake_all, alpha fees,
//! root claims, recycle/burn and auto-stake, with the runtime's events (registration:
//! `neurons`; spec 459 calls: `calls459`).

use super::{AccountId, Action, ChainEvent, ChainState, Exec, NetUid, TruthKind, hex32::show};
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

    pub(super) fn require_hotkey(&self, hotkey: &AccountId) -> Result<()> {
        if self.owner.contains_key(hotkey) {
            Ok(())
        } else {
            err(format!(
                "hotkey {} is not registered (HotKeyAccountNotExists)",
                show(hotkey)
            ))
        }
    }

    fn alpha_for_tao(&self, netuid: NetUid, tao: u64) -> Result<u64> {
        let p = self.subnet(netuid)?.price_rao.max(1);
        Ok(((tao as u128) * 1_000_000_000 / p as u128) as u64)
    }

    pub(super) fn tao_for_alpha(&self, netuid: NetUid, alpha: u64) -> Result<u64> {
        let p = self.subnet(netuid)?.price_rao;
        Ok(((alpha as u128) * p as u128 / 1_000_000_000) as u64)
    }

    /// Credits `alpha` to a position (a share-pool buy) and records why.
    pub(super) fn credit(
        &mut self,
        ex: &mut Exec,
        hotkey: AccountId,
        coldkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        kind: TruthKind,
    ) {
        ex.touch(self, hotkey, netuid);
        if alpha > 0 {
            self.note_staking_hotkey(coldkey, hotkey);
        }
        let legacy = self.rules.legacy_shares;
        let pool = self.pools.entry((hotkey, netuid)).or_default();
        if legacy {
            pool.update_value_for_one_393(&coldkey, alpha as i64);
        } else {
            pool.update_value_for_one(&coldkey, alpha as i64);
        }
        self.cleanup_pool(hotkey, netuid);
        if kind != TruthKind::Emission {
            ex.explain(hotkey, coldkey, netuid, kind, alpha as i64);
        }
    }

    /// Debits `alpha` from a position that must hold it.
    #[allow(clippy::too_many_arguments)]
    fn debit(
        &mut self,
        ex: &mut Exec,
        hotkey: AccountId,
        coldkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        kind: TruthKind,
        what: &str,
    ) -> Result<()> {
        self.subnet(netuid)?;
        if alpha == 0 {
            return err(format!("{what}: amount is 0"));
        }
        let held = self.stake(&hotkey, &coldkey, netuid);
        if held < alpha {
            return err(format!(
                "{what}: coldkey {} holds {held} alpha on hotkey {} netuid {netuid}, less than {alpha} (NotEnoughStakeToWithdraw)",
                show(&coldkey),
                show(&hotkey)
            ));
        }
        // Spec 459: alpha locked as miner collateral cannot leave the position
        // (`subnets/collateral.rs` `ensure_hotkey_covers_collateral`,
        // `available_to_unstake_from_hotkey`).
        let locked = self.collateral_locked(netuid, &hotkey, &coldkey);
        if held - alpha < locked {
            return err(format!(
                "{what}: {locked} of the {held} alpha coldkey {} holds on hotkey {} netuid {netuid} is locked as miner collateral, {alpha} cannot leave (StakeUnavailable)",
                show(&coldkey),
                show(&hotkey)
            ));
        }
        ex.touch(self, hotkey, netuid);
        let legacy = self.rules.legacy_shares;
        if let Some(p) = self.pools.get_mut(&(hotkey, netuid)) {
            if legacy {
                p.decrease_for_one_393(&coldkey, alpha);
            } else {
                p.decrease_for_one(&coldkey, alpha);
            }
        }
        self.cleanup_pool(hotkey, netuid);
        ex.explain(hotkey, coldkey, netuid, kind, -(alpha as i64));
        Ok(())
    }

    fn cleanup_pool(&mut self, hotkey: AccountId, netuid: NetUid) {
        if self
            .pools
            .get(&(hotkey, netuid))
            .is_some_and(|p| p.is_empty())
        {
            self.pools.remove(&(hotkey, netuid));
        }
    }

    /// `add_stake`; returns the alpha bought.
    pub(super) fn add_stake(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        tao: u64,
    ) -> Result<u64> {
        let fee_bps = self.subnet(netuid)?.stake_fee_bps as u128;
        self.require_hotkey(&hotkey)?;
        let bal = self.balances.get(&coldkey).copied().unwrap_or(0);
        if tao == 0 || bal < tao {
            return err(format!(
                "add_stake: coldkey {} has {bal} rao, cannot stake {tao} (NotEnoughBalanceToStake)",
                show(&coldkey)
            ));
        }
        let fee = ((tao as u128) * fee_bps / 10_000) as u64;
        let alpha = self.alpha_for_tao(netuid, tao - fee)?;
        if alpha == 0 {
            return err(format!("add_stake: {tao} rao buys no alpha (AmountTooLow)"));
        }
        let pool = self
            .pools
            .get(&(hotkey, netuid))
            .cloned()
            .unwrap_or_default();
        let mints = if self.rules.legacy_shares {
            pool.sim_update_value_for_one_393(alpha as i64)
        } else {
            pool.sim_update_value_for_one(alpha as i64)
        };
        if !mints {
            return err("add_stake: amount mints no shares (InsufficientLiquidity)".into());
        }
        self.balances.insert(coldkey, bal - tao);
        self.credit(ex, hotkey, coldkey, netuid, alpha, TruthKind::ManualIn);
        ex.emit(ChainEvent::StakeAdded {
            coldkey,
            hotkey,
            tao,
            alpha,
            netuid,
            fee,
        });
        Ok(alpha)
    }

    fn remove_stake(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) -> Result<u64> {
        self.require_hotkey(&hotkey)?;
        self.debit(
            ex,
            hotkey,
            coldkey,
            netuid,
            alpha,
            TruthKind::ManualOut,
            "remove_stake",
        )?;
        let tao = self.tao_for_alpha(netuid, alpha)?;
        *self.balances.entry(coldkey).or_insert(0) += tao;
        ex.emit(ChainEvent::StakeRemoved {
            coldkey,
            hotkey,
            tao,
            alpha,
            netuid,
            fee: 0,
        });
        Ok(tao)
    }

    /// The transaction fee paid in alpha when the coldkey's free TAO cannot pay it
    /// (subtensor v3.4.9-424 `pallets/transaction-fee/src/lib.rs`): `fees_in_alpha` takes
    /// the call's own (hotkey, netuid) (for `remove_stake`, its `hotkey` and `netuid`),
    /// and `withdraw_in_alpha` sells the fee from that position before dispatch with
    /// `unstake_from_subnet` (`staking/stake_utils.rs`), which deposits a `StakeRemoved`
    /// of the fee (its TAO goes to the block author, not the coldkey). The
    /// `TransactionFeePaidWithAlpha` event follows the call's own events
    /// (`correct_and_deposit_fee`, post-dispatch). Returns the fee's TAO.
    fn withdraw_fee_in_alpha(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha_fee: u64,
    ) -> Result<u64> {
        self.debit(
            ex,
            hotkey,
            coldkey,
            netuid,
            alpha_fee,
            TruthKind::AlphaFee,
            "alpha fee",
        )?;
        let tao_amount = self.tao_for_alpha(netuid, alpha_fee)?;
        ex.emit(ChainEvent::StakeRemoved {
            coldkey,
            hotkey,
            tao: tao_amount,
            alpha: alpha_fee,
            netuid,
            fee: 0,
        });
        Ok(tao_amount)
    }

    /// A "Keep" claim (subtensor v3.4.9-424 `pallets/subtensor/src/staking/
    /// claim_root.rs`): `try_do_root_claim` walks the coldkey's `StakingHotkeys`, and
    /// `root_claim_on_subnet` credits the alpha owed with
    /// `increase_stake_for_hotkey_and_coldkey_on_subnet(hotkey, coldkey, netuid)` (no
    /// `StakeAdded`), adds it to `RootClaimed[(netuid, hotkey, coldkey)]`, and one
    /// `RootClaimed { coldkey }` closes the claim.
    fn root_claim(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) -> Result<()> {
        self.subnet(netuid)?;
        self.require_hotkey(&hotkey)?;
        if alpha == 0 {
            return err("root claim: alpha is 0".into());
        }
        let stakes_to = self
            .staking_hotkeys
            .get(&coldkey)
            .is_some_and(|l| l.contains(&hotkey));
        if !stakes_to {
            return err(format!(
                "root claim: coldkey {} does not stake to hotkey {} (claims walk StakingHotkeys)",
                show(&coldkey),
                show(&hotkey)
            ));
        }
        if self.rules.root_claim_pays_tao {
            // Runtime hook (spec 441+, `crate::runtime::Rules`): the claim is realized as
            // TAO staked on root, never subnet alpha, and `RootClaimed` carries it
            // (RaoFoundation/subtensor `pallets/subtensor/src/staking/claim_root.rs`).
            let tao = self.tao_for_alpha(netuid, alpha)?;
            ex.emit(ChainEvent::RootClaimed { coldkey, tao });
            return Ok(());
        }
        self.credit(ex, hotkey, coldkey, netuid, alpha, TruthKind::RootClaim);
        let claimed = self
            .root_claimed
            .entry((netuid, hotkey, coldkey))
            .or_insert(0);
        *claimed = claimed.saturating_add(alpha as u128);
        ex.emit(ChainEvent::RootClaimed { coldkey, tao: 0 });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn take_alpha(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
        kind: TruthKind,
        what: &str,
    ) -> Result<()> {
        self.require_hotkey(&hotkey)?;
        self.debit(ex, hotkey, coldkey, netuid, alpha, kind, what)
    }

    /// Moves alpha between positions: StakeRemoved from the origin, StakeAdded to the
    /// destination; across subnets the alpha goes through TAO at the fixed prices.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn transition(
        &mut self,
        ex: &mut Exec,
        ocold: AccountId,
        ohot: AccountId,
        onet: NetUid,
        dcold: AccountId,
        dhot: AccountId,
        dnet: NetUid,
        alpha: u64,
    ) -> Result<u64> {
        self.subnet(dnet)?;
        self.require_hotkey(&ohot)?;
        self.debit(
            ex,
            ohot,
            ocold,
            onet,
            alpha,
            TruthKind::ManualOut,
            "stake transition",
        )?;
        let tao = self.tao_for_alpha(onet, alpha)?;
        let dalpha = if onet == dnet {
            alpha
        } else {
            self.alpha_for_tao(dnet, tao)?
        };
        if dalpha == 0 {
            return err("stake transition: destination amount is 0 (AmountTooLow)".into());
        }
        ex.emit(ChainEvent::StakeRemoved {
            coldkey: ocold,
            hotkey: ohot,
            tao,
            alpha,
            netuid: onet,
            fee: 0,
        });
        self.credit(ex, dhot, dcold, dnet, dalpha, TruthKind::ManualIn);
        ex.emit(ChainEvent::StakeAdded {
            coldkey: dcold,
            hotkey: dhot,
            tao,
            alpha: dalpha,
            netuid: dnet,
            fee: 0,
        });
        Ok(tao)
    }
}
