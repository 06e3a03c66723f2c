//! Neurons taking uids: `burned_register` (with its `NeuronRegistered`), and the spec 459
//! subnet owner change: the `change_owner` knob names the lock-conviction leader, and at
//! the subnet's next epoch drain (before the epoch runs) ownership moves to it,
//! registering its hotkey on a uid with no `NeuronRegistered`.
//!
//! Read in RaoFoundation/subtensor (stored versions at 0bb2cb30; spec 459 is 005a8dc0):
//! - `pallets/subtensor/src/coinbase/run_coinbase/drain_pending_emissions.rs`
//!   `drain_pending_subnet_emissions`: a subnet whose epoch runs has its pending pots
//!   (owner cut included) drained, then `change_subnet_owner_if_needed(netuid)`; a
//!   skipped or deferred epoch changes nothing. `distribute_emissions_to_subnets` runs
//!   the epochs afterwards.
//! - `pallets/subtensor/src/staking/lock/subnet_conviction.rs`
//!   `change_subnet_owner_if_needed`: the leader's owning coldkey must exist and differ
//!   from `SubnetOwner` (else nothing changes); the leader is registered with
//!   `register_neuron` unless it has a uid (a failure leaves the owner unchanged); then
//!   `SubnetOwner` and `SubnetOwnerHotkey` are overwritten and
//!   `SubnetOwnerChanged { netuid, old_coldkey, new_coldkey }` is deposited. (The gates on
//!   `SubnetAlphaOut`, subnet age and conviction are what the knob stands for.)
//! - `pallets/subtensor/src/subnets/registration.rs` `register_neuron` (appends a uid when
//!   `SubnetworkN < MaxAllowedUids`, else replaces `get_neuron_to_prune`; it deposits no
//!   event, only `do_register` does), `get_neuron_to_prune`, `immune_owner_uid_hotkey_pairs`;
//!   `pallets/subtensor/src/subnets/uids.rs` `append_neuron`, `replace_neuron`,
//!   `clear_neuron` (a replaced uid's `Emission` is 0 and the weights set for it are
//!   zeroed, so it earns no incentive until validators weigh it again).
//!
//! What the new owner then earns follows `distribute_dividends_and_incentives`
//! (`coinbase/run_coinbase/dividend_distribution.rs`), which reads `SubnetOwner` /
//! `SubnetOwnerHotkey` when it pays: the drained owner cut goes to the new owner, the new
//! owner coldkey's hotkeys (the leader included) have their incentive withheld, and the
//! old owner's miners are paid again (`crate::model::epoch`).

use super::{AccountId, ChainEvent, ChainState, Exec, NetUid, hex32::show};
use crate::error::{DevnetError, Result};

fn err<T>(msg: String) -> Result<T> {
    Err(DevnetError::Action(msg))
}

/// `DefaultImmuneOwnerUidsLimit` (pallets/subtensor/src/lib.rs).
const IMMUNE_OWNER_UIDS_LIMIT: usize = 1;
/// `DefaultMinNonImmuneUids` (pallets/subtensor/src/lib.rs).
const MIN_NON_IMMUNE_UIDS: u16 = 10;
/// `SubtensorInitialImmunityPeriod` (runtime/src/lib.rs; opentensor/subtensor v3.4.9-424).
const IMMUNITY_PERIOD: u64 = 4096;

impl ChainState {
    /// The `change_owner` knob: checked now, applied at the subnet's next epoch drain.
    pub(super) fn schedule_owner_change(
        &mut self,
        netuid: NetUid,
        coldkey: AccountId,
        hotkey: AccountId,
    ) -> Result<()> {
        if !self.rules.subnet_owner_change {
            return Err(DevnetError::Action(
                "change_owner: this runtime does not move subnet ownership (spec 459 or later)"
                    .into(),
            ));
        }
        let s = self.subnet(netuid)?;
        match self.owner.get(&hotkey) {
            Some(c) if *c == coldkey => {}
            Some(c) => {
                return Err(DevnetError::Action(format!(
                    "change_owner: hotkey {} is owned by coldkey {}, not {}",
                    show(&hotkey),
                    show(c),
                    show(&coldkey)
                )));
            }
            None => {
                return Err(DevnetError::Action(format!(
                    "change_owner: hotkey {} has no owner (list it under the coldkey's hotkeys)",
                    show(&hotkey)
                )));
            }
        }
        if s.owner_coldkey == coldkey {
            return Err(DevnetError::Action(format!(
                "change_owner: coldkey {} already owns netuid {netuid}",
                show(&coldkey)
            )));
        }
        self.subnet_mut(netuid)?.pending_owner_change = Some((coldkey, hotkey));
        Ok(())
    }

    /// `change_subnet_owner_if_needed`, at the drain of an epoch that runs.
    pub(super) fn change_owner_at_drain(&mut self, ex: &mut Exec, netuid: NetUid) {
        let block = self.block;
        let Some(s) = self.subnets.get_mut(&netuid) else {
            return;
        };
        let Some((coldkey, hotkey)) = s.pending_owner_change.take() else {
            return;
        };
        if self.owner.get(&hotkey) != Some(&coldkey) || s.owner_coldkey == coldkey {
            return;
        }
        if !s.uids.contains_key(&hotkey) {
            let n = s.keys.len() as u16;
            let uid = if n < s.max_uids {
                n
            } else {
                match self.neuron_to_prune(netuid) {
                    Some(u) => u,
                    None => return,
                }
            };
            self.clear_weights_of(netuid, uid);
            let Some(s) = self.subnets.get_mut(&netuid) else {
                return;
            };
            if let Some(old) = s.keys.get(&uid).copied() {
                // `replace_neuron` + `clear_neuron`.
                s.uids.remove(&old);
                s.incentive.insert(uid, 0);
                s.dividends.insert(uid, 0);
                for m in 1..s.mechanisms.max(1) {
                    s.mechanism_incentive.insert((m, uid), 0);
                }
            }
            // `append_neuron` / `replace_neuron`: Keys, Uids, BlockAtRegistration,
            // Emission 0.
            s.keys.insert(uid, hotkey);
            s.uids.insert(hotkey, uid);
            s.registered_at.insert(uid, block);
            s.emission.insert(uid, 0);
        }
        let Some(s) = self.subnets.get_mut(&netuid) else {
            return;
        };
        let old_coldkey = s.owner_coldkey;
        s.owner_coldkey = coldkey;
        s.owner_hotkey = hotkey;
        ex.emit(ChainEvent::SubnetOwnerChanged {
            netuid,
            old_coldkey,
            new_coldkey: coldkey,
        });
    }

    /// `immune_owner_uid_hotkey_pairs`: the owner coldkey's hotkeys with a uid, earliest
    /// registration first (then uid), cut to `ImmuneOwnerUidsLimit`, with the owner hotkey
    /// put first if it has a uid.
    fn immune_owner_hotkeys(&self, netuid: NetUid) -> Vec<AccountId> {
        let Some(s) = self.subnets.get(&netuid) else {
            return vec![];
        };
        let mut triples: Vec<(u64, u16, AccountId)> = self
            .owned_hotkeys
            .get(&s.owner_coldkey)
            .map(|hs| {
                hs.iter()
                    .filter_map(|h| {
                        let uid = *s.uids.get(h)?;
                        Some((s.registered_at.get(&uid).copied().unwrap_or(0), uid, *h))
                    })
                    .collect()
            })
            .unwrap_or_default();
        triples.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        triples.truncate(IMMUNE_OWNER_UIDS_LIMIT);
        let mut out: Vec<AccountId> = triples.into_iter().map(|(_, _, h)| h).collect();
        if s.uids.contains_key(&s.owner_hotkey) && !out.contains(&s.owner_hotkey) {
            out.insert(0, s.owner_hotkey);
            out.truncate(IMMUNE_OWNER_UIDS_LIMIT);
        }
        out
    }

    /// `get_neuron_to_prune`: outside the owner's immune hotkeys, the lowest `Emission`,
    /// then the earliest registration, then the lowest uid; a non-immune uid while more
    /// than `MinNonImmuneUids` are non-immune, else an immune one.
    fn neuron_to_prune(&self, netuid: NetUid) -> Option<u16> {
        let s = self.subnets.get(&netuid)?;
        let immortal = self.immune_owner_hotkeys(netuid);
        let mut free = 0u16;
        let mut best_non_immune: Option<(u64, u64, u16)> = None;
        let mut best_immune: Option<(u64, u64, u16)> = None;
        for (uid, hk) in s.keys.iter() {
            if immortal.contains(hk) {
                continue;
            }
            let reg = s.registered_at.get(uid).copied().unwrap_or(0);
            let cand = (s.emission.get(uid).copied().unwrap_or(0), reg, *uid);
            let immune = self.block.saturating_sub(reg) < IMMUNITY_PERIOD;
            let best = if immune {
                &mut best_immune
            } else {
                free += 1;
                &mut best_non_immune
            };
            if best.is_none_or(|b| cand < b) {
                *best = Some(cand);
            }
        }
        if free > MIN_NON_IMMUNE_UIDS
            && let Some((_, _, uid)) = best_non_immune
        {
            return Some(uid);
        }
        best_immune.map(|(_, _, uid)| uid)
    }

    pub(super) fn register(
        &mut self,
        ex: &mut Exec,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        uid: Option<u16>,
    ) -> Result<()> {
        let block = self.block;
        let s = self.subnet(netuid)?;
        if s.uids.contains_key(&hotkey) {
            return err(format!(
                "register: hotkey {} already registered on netuid {netuid}",
                show(&hotkey)
            ));
        }
        if let Some(c) = self.owner.get(&hotkey)
            && *c != coldkey
        {
            return err(format!(
                "register: hotkey {} is owned by another coldkey",
                show(&hotkey)
            ));
        }
        let n = s.keys.len() as u16;
        let slot = match uid {
            Some(u) if u < n => u,
            Some(u) => {
                return err(format!(
                    "register: uid {u} is not in use on netuid {netuid} ({n} neurons)"
                ));
            }
            None if n < s.max_uids => n,
            None => {
                // Prune the neuron with the lowest incentive, oldest first.
                s.keys
                    .keys()
                    .min_by_key(|u| {
                        (
                            s.incentive.get(u).copied().unwrap_or(0),
                            s.registered_at.get(u).copied().unwrap_or(0),
                        )
                    })
                    .copied()
                    .ok_or_else(|| {
                        DevnetError::Action(format!("register: netuid {netuid} has max_uids 0"))
                    })?
            }
        };
        self.associate(hotkey, coldkey)?;
        // `clear_neuron`: the replaced uid's weights, bonds, permit and `LastUpdate`.
        self.clear_weights_of(netuid, slot);
        let s = self.subnet_mut(netuid)?;
        if let Some(old) = s.keys.get(&slot).copied() {
            s.uids.remove(&old);
            s.incentive.remove(&slot);
            s.dividends.remove(&slot);
            let stale: Vec<(u8, u16)> = s
                .mechanism_incentive
                .keys()
                .filter(|(_, u)| *u == slot)
                .copied()
                .collect();
            for k in stale {
                s.mechanism_incentive.remove(&k);
            }
        }
        s.keys.insert(slot, hotkey);
        s.uids.insert(hotkey, slot);
        s.registered_at.insert(slot, block);
        ex.emit(ChainEvent::NeuronRegistered {
            netuid,
            uid: slot,
            hotkey,
        });
        Ok(())
    }
}
