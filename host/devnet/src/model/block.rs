//! Stepping the chain by a block: emission in block initialization, then the scripted
//! actions and submitted signed transactions as extrinsics, each rejected action rolled
//! back (`BlockOutcome`); the devnet knobs; checking or applying one action outside a
//! block.

use super::{Action, ChainEvent, ChainState, EventRecord, Exec, Phase, SignedTx, TruthEntry};
use crate::error::{DevnetError, Result};

impl ChainState {
    /// Applies one block: emission in initialization, then `actions` as extrinsics
    /// (index 0 is the timestamp inherent). Invalid actions fail the whole call.
    pub fn apply_block(&self, actions: &[Action]) -> Result<BlockOutcome> {
        self.apply_block_with(actions, &[])
    }

    /// As `apply_block`, then the submitted signed transactions `signed` (after the
    /// scripted actions, in order): each pays its fee, bumps its signer's nonce and
    /// applies its action, or is left out (`BlockOutcome::signed`).
    pub fn apply_block_with(
        &self,
        actions: &[Action],
        signed: &[SignedTx],
    ) -> Result<BlockOutcome> {
        let mut st = self.clone();
        st.block += 1;
        st.timestamp += st.block_time_ms;
        let mut ex = Exec::default();
        st.revalue(&mut ex.truth);
        st.on_initialize(&mut ex);
        let mut applied = vec![];
        let mut rejected = vec![];
        // `block_step` runs the auto root claims after the coinbase (subtensor
        // v3.4.9-424 `pallets/subtensor/src/coinbase/block_step.rs`, step 8).
        for a in actions.iter().filter(|a| a.in_initialization()) {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            match st.apply_action(a, &mut ex) {
                Ok(()) => applied.push(a.clone()),
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    rejected.push((a.clone(), e.to_string()));
                }
            }
        }
        ex.close_phase(&st, true);
        // The timestamp inherent.
        ex.phase = Phase::ApplyExtrinsic(0);
        ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: true });
        let mut included = vec![];
        let mut idx = 1u32;
        for a in actions.iter().filter(|a| !a.in_initialization()) {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            ex.phase = Phase::ApplyExtrinsic(idx);
            let r = if a.is_knob() {
                st.apply_knob(a)
            } else {
                st.apply_action(a, &mut ex)
            };
            match r {
                Ok(()) => {
                    applied.push(a.clone());
                    if !a.is_knob() {
                        ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: false });
                        included.push(a.clone());
                        idx += 1;
                        // A scripted extrinsic is signed too: it uses its signer's nonce
                        // (`CheckNonce`; it pays no fee: the model has no fee rules).
                        if let Some(s) = a.signer() {
                            *st.nonces.entry(s).or_insert(0) += 1;
                        }
                    }
                }
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    rejected.push((a.clone(), e.to_string()));
                }
            }
        }
        let mut signed_out = vec![];
        for tx in signed {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            ex.phase = Phase::ApplyExtrinsic(idx);
            match st.apply_signed(tx, &mut ex) {
                Ok(()) => {
                    ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: false });
                    signed_out.push(Ok(idx));
                    idx += 1;
                }
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    signed_out.push(Err(e.to_string()));
                }
            }
        }
        ex.close_phase(&st, false);
        Ok(BlockOutcome {
            state: st,
            events: ex.events,
            truth: ex.truth,
            extrinsics: included,
            applied,
            rejected,
            signed: signed_out,
        })
    }

    /// Checks an action against this state without keeping the result.
    pub fn check_action(&self, a: &Action) -> Result<()> {
        let mut st = self.clone();
        if a.is_knob() {
            return st.apply_knob(a);
        }
        let mut ex = Exec::default();
        st.apply_action(a, &mut ex)
    }

    /// Applies an action outside any block (genesis set-up), without events.
    pub fn apply_now(&mut self, a: &Action) -> Result<()> {
        if a.is_knob() {
            return self.apply_knob(a);
        }
        let mut ex = Exec::default();
        self.apply_action(a, &mut ex)
    }

    pub(super) fn apply_knob(&mut self, a: &Action) -> Result<()> {
        match a {
            Action::SetScores {
                netuid,
                incentive,
                dividends,
                mechanism,
            } => {
                let s = self.subnet_mut(*netuid)?;
                if *mechanism >= s.mechanisms.max(1) {
                    return Err(DevnetError::Action(format!(
                        "set_scores: netuid {netuid} has {} mechanism(s), no mechanism {mechanism}",
                        s.mechanisms.max(1)
                    )));
                }
                match (incentive, *mechanism) {
                    (Some(v), 0) => {
                        s.incentive = v.iter().enumerate().map(|(i, w)| (i as u16, *w)).collect();
                    }
                    (Some(v), m) => {
                        let uids: Vec<u16> = s.keys.keys().copied().collect();
                        for uid in uids {
                            let w = v.get(uid as usize).copied().unwrap_or(0);
                            s.mechanism_incentive.insert((m, uid), w);
                        }
                    }
                    (None, _) => {}
                }
                if let Some(v) = dividends {
                    s.dividends = v.iter().enumerate().map(|(i, w)| (i as u16, *w)).collect();
                }
                Ok(())
            }
            Action::SkipEpochs { netuid, count } => {
                self.subnet_mut(*netuid)?.skip_next_epochs += count;
                Ok(())
            }
            Action::ChangeOwner {
                netuid,
                coldkey,
                hotkey,
            } => self.schedule_owner_change(*netuid, *coldkey, *hotkey),
            _ => Err(DevnetError::Action("not a devnet knob".into())),
        }
    }
}

/// The result of applying a block.
#[derive(Debug, Clone)]
pub struct BlockOutcome {
    pub state: ChainState,
    pub events: Vec<EventRecord>,
    pub truth: Vec<TruthEntry>,
    /// The actions included as extrinsics 1.. (knobs left out).
    pub extrinsics: Vec<Action>,
    /// Every action that applied, knobs included, in order.
    pub applied: Vec<Action>,
    /// Actions that failed and were left out, with why.
    pub rejected: Vec<(Action, String)>,
    /// Per submitted transaction (`apply_block_with`): its extrinsic index, or why it
    /// was left out.
    pub signed: Vec<std::result::Result<u32, String>>,
}
