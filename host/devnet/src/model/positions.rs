//! Position primitives the staking calls and the epoch share: whether a hotkey exists,
//! the fixed alpha/TAO prices, and crediting or debiting a position's alpha in its share
//! pool (with the ground truth of why, and the spec 459 collateral lock on debits).

use super::{AccountId, ChainState, Exec, NetUid, TruthKind, hex32::show};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

impl ChainState {
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

    pub(super) fn alpha_for_tao(&self, netuid: NetUid, tao: u64) -> Result<u64> {
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
    pub(super) fn debit(
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
}
