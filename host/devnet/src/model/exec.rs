//! Per-block scratch (`Exec`): the events emitted so far in the current phase, and the
//! ground truth of every position change, from position values captured before a pool's
//! first write in a phase.

use std::collections::{BTreeMap, BTreeSet};

use super::{AccountId, ChainEvent, ChainState, EventRecord, NetUid, Phase, TruthEntry, TruthKind};

/// Per-block scratch: events, and position values captured before the first write to a
/// pool in the current phase, so every change is accounted for.
#[derive(Default, Clone)]
pub(super) struct Exec {
    pub(super) phase: Phase,
    pub(super) events: Vec<EventRecord>,
    pub(super) truth: Vec<TruthEntry>,
    before: BTreeMap<(AccountId, NetUid), BTreeMap<AccountId, u64>>,
    explained: BTreeMap<(AccountId, AccountId, NetUid), Vec<(TruthKind, i64)>>,
    /// netuid -> epoch index, for the epochs run this block.
    pub(super) epochs: BTreeMap<NetUid, u64>,
    pub(super) block: u64,
}

impl Exec {
    pub(super) fn emit(&mut self, event: ChainEvent) {
        self.events.push(EventRecord {
            phase: self.phase,
            event,
        });
    }

    /// Captures a pool's position values before its first change in this phase.
    pub(super) fn touch(&mut self, st: &ChainState, hotkey: AccountId, netuid: NetUid) {
        self.block = st.block;
        self.before.entry((hotkey, netuid)).or_insert_with(|| {
            st.pools
                .get(&(hotkey, netuid))
                .map(|p| {
                    p.shares
                        .keys()
                        .map(|c| (*c, p.value(c, st.rules.legacy_shares)))
                        .collect()
                })
                .unwrap_or_default()
        });
    }

    pub(super) fn explain(
        &mut self,
        hotkey: AccountId,
        coldkey: AccountId,
        netuid: NetUid,
        kind: TruthKind,
        amount: i64,
    ) {
        self.explained
            .entry((hotkey, coldkey, netuid))
            .or_default()
            .push((kind, amount));
    }

    /// Turns the phase's value changes into ground-truth entries.
    pub(super) fn close_phase(&mut self, st: &ChainState, emission: bool) {
        let before = std::mem::take(&mut self.before);
        let mut explained = std::mem::take(&mut self.explained);
        for ((hot, netuid), prev) in before {
            let after: BTreeMap<AccountId, u64> = st
                .pools
                .get(&(hot, netuid))
                .map(|p| {
                    p.shares
                        .keys()
                        .map(|c| (*c, p.value(c, st.rules.legacy_shares)))
                        .collect()
                })
                .unwrap_or_default();
            let coldkeys: BTreeSet<AccountId> = prev.keys().chain(after.keys()).copied().collect();
            for cold in coldkeys {
                let delta =
                    *after.get(&cold).unwrap_or(&0) as i64 - *prev.get(&cold).unwrap_or(&0) as i64;
                let mut rest = delta;
                if let Some(list) = explained.remove(&(hot, cold, netuid)) {
                    for (kind, amount) in list {
                        rest -= amount;
                        self.truth.push(TruthEntry {
                            block: self.block,
                            netuid,
                            hotkey: hot,
                            coldkey: cold,
                            kind,
                            amount,
                            epoch_index: None,
                        });
                    }
                }
                if rest != 0 {
                    let (kind, epoch_index) = if emission {
                        (TruthKind::Emission, self.epochs.get(&netuid).copied())
                    } else {
                        (TruthKind::Rounding, None)
                    };
                    self.truth.push(TruthEntry {
                        block: self.block,
                        netuid,
                        hotkey: hot,
                        coldkey: cold,
                        kind,
                        amount: rest,
                        epoch_index,
                    });
                }
            }
        }
    }
}
