//! Staking calls: add/remove stake (with the fee paid in alpha), root claims,
//! recycle/burn, and the stake transition under move/transfer/swap, with the runtime's
//! events (dispatch: `dispatch`; position primitives: `positions`; registration:
//! `neurons`; spec 459 calls: `calls459`).

use super::{AccountId, ChainEvent, ChainState, Exec, NetUid, TruthKind, hex32::show};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

impl ChainState {
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

    pub(super) fn remove_stake(
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
    pub(super) fn withdraw_fee_in_alpha(
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
    pub(super) fn root_claim(
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
    pub(super) fn take_alpha(
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
