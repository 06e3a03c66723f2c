//! Shadow mode in the ingest: a candidate policy keeps a ledger chain of its own beside the
//! active one (its own attribution and ledger steps, on the same chain data, seeded from
//! the active policy's ledgers when shadowing starts), and at every epoch its multipliers
//! and weights are compared with the active policy's. A candidate never affects service:
//! its failure is recorded with the next epoch's run and its chain is seeded again.

use std::collections::{BTreeMap, BTreeSet};

use crate::policy::{
    AttributionInput, CallError, Earning, Flow, HolderLedger, LedgerInput, Miner, MinerMultiplier,
    Param, Policy, PositionAttribution, decision,
};
use crate::store::{ShadowDiff, ShadowRecord, ShadowRun};

/// The candidate's own ledgers.
#[derive(Debug, Clone)]
pub struct ShadowChain {
    pub sha256: [u8; 32],
    pub ledgers: BTreeMap<String, HolderLedger>,
    /// The block its chain was seeded at.
    pub since: u64,
    /// Why the candidate failed since the last epoch (reported there, then seeded again).
    pub error: Option<String>,
}

impl ShadowChain {
    /// The chain to keep at `block`: the current one if it belongs to `candidate`, else a
    /// new one seeded from the active policy's ledgers; none without a candidate.
    pub fn follow(
        current: Option<ShadowChain>,
        candidate: Option<&Policy>,
        active_ledgers: &BTreeMap<String, HolderLedger>,
        block: u64,
    ) -> Option<ShadowChain> {
        let c = candidate?;
        match current {
            Some(chain) if chain.sha256 == c.sha256() => Some(chain),
            _ => Some(ShadowChain {
                sha256: c.sha256(),
                ledgers: active_ledgers.clone(),
                since: block,
                error: None,
            }),
        }
    }

    fn fail(&mut self, what: &str, block: u64, e: CallError) {
        tracing::warn!("shadow policy, {what} at #{block}: {e}");
        self.error.get_or_insert(format!("{what} at #{block}: {e}"));
    }

    /// The candidate's attribution of the epoch (None once it failed).
    pub fn attribute(
        &mut self,
        c: &Policy,
        params: &[Param],
        input: &AttributionInput,
    ) -> Option<Vec<PositionAttribution>> {
        if self.error.is_some() {
            return None;
        }
        c.attribute(params, input)
            .map_err(|e| self.fail("attribute", input.after_block, e))
            .ok()
    }

    /// The candidate's ledger step on the same flows, with its own earnings.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        c: &Policy,
        params: &[Param],
        netuid: u16,
        block: u64,
        is_epoch: bool,
        earnings: Vec<Earning>,
        flows: &[Flow],
    ) {
        if self.error.is_some() || !(is_epoch || !flows.is_empty() || !earnings.is_empty()) {
            return;
        }
        let holders: BTreeSet<&String> = flows
            .iter()
            .map(|f| &f.coldkey)
            .chain(earnings.iter().map(|e| &e.coldkey))
            .collect();
        let given: Vec<HolderLedger> = self
            .ledgers
            .values()
            .filter(|l| is_epoch || holders.contains(&l.holder))
            .cloned()
            .collect();
        let input = LedgerInput {
            netuid,
            block,
            ledgers: given,
            earnings,
            flows: flows.to_vec(),
        };
        match c.ledger_step(params, &input) {
            Ok(out) => {
                for l in out.ledgers {
                    self.ledgers.insert(l.holder.clone(), l);
                }
            }
            Err(e) => self.fail("ledger-step", block, e),
        }
    }
}

/// Compares the candidate with the active policy at an epoch: the candidate's holdings and
/// multipliers on its own ledgers, and the weights each policy gives from equal base
/// weights. A failure (now or since the last epoch) is recorded, never raised.
pub fn compare(
    active: &Policy,
    candidate: &Policy,
    chain: &ShadowChain,
    params: &[Param],
    block: u64,
    miners: Vec<Miner>,
    active_decision: &decision::Decision,
) -> ShadowRecord {
    let mut rec = ShadowRecord {
        run: ShadowRun {
            block,
            candidate: candidate.sha256_hex(),
            active: active.sha256_hex(),
            error: chain.error.clone(),
            ..Default::default()
        },
        diffs: vec![],
    };
    if rec.run.error.is_some() {
        return rec;
    }
    let weights = |p: &Policy, m: &[MinerMultiplier]| {
        if m.is_empty() {
            return Ok(vec![]);
        }
        p.apply_weights(params, &decision::equal_base_input(m))
            .map(|o| o.weights)
    };
    let ledgers = chain.ledgers.values().cloned().collect();
    let run = || -> Result<_, CallError> {
        let c = decision::run(candidate, params, block, ledgers, miners)?;
        let cw = weights(candidate, &c.multipliers)?;
        let aw = weights(active, &active_decision.multipliers)?;
        Ok((c, cw, aw))
    };
    match run() {
        Err(e) => {
            tracing::warn!("shadow policy at #{block}: {e}");
            rec.run.error = Some(e.to_string());
        }
        Ok((c, cw, aw)) => {
            let by_uid: BTreeMap<u16, (u64, u64)> = c
                .multipliers
                .iter()
                .zip(cw)
                .map(|(m, w)| (m.uid, (m.multiplier, w)))
                .collect();
            for (m, aw) in active_decision.multipliers.iter().zip(aw) {
                let (cm, cw) = by_uid.get(&m.uid).copied().unwrap_or((0, 0));
                let diff = aw.abs_diff(cw);
                rec.run.total_weight_diff += diff;
                rec.run.max_weight_diff = rec.run.max_weight_diff.max(diff);
                if diff > 0 || cm != m.multiplier {
                    rec.run.miners_changed += 1;
                }
                rec.diffs.push(ShadowDiff {
                    uid: m.uid,
                    hotkey: m.hotkey.clone(),
                    active_multiplier: m.multiplier,
                    candidate_multiplier: cm,
                    active_weight: aw,
                    candidate_weight: cw,
                });
            }
        }
    }
    rec
}
