//! An epoch's decision: the holdings and multipliers steps over every holder's ledger, with
//! the hashes that make it replayable (`input_hash` over block, parameters, ledgers and
//! miners; `output_hash` over holdings and multipliers), the comparison of two policies'
//! decisions (shadow mode) and the invariants an install dry run checks. One code path for
//! ingest, replay, shadow runs and install checks.

use super::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a decision computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub holdings: Vec<Holding>,
    pub multipliers: Vec<MinerMultiplier>,
}

fn sha256_json(v: &impl Serialize) -> String {
    // Serialising plain records (no maps, no floats) cannot fail; an empty string would
    // only make a hash mismatch, never a false match.
    hex::encode(Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

/// sha256 of the canonical JSON of a decision's inputs.
pub fn input_hash(
    block: u64,
    params: &[Param],
    ledgers: &[HolderLedger],
    miners: &[Miner],
) -> String {
    #[derive(Serialize)]
    struct Input<'a> {
        block: u64,
        params: &'a [Param],
        ledgers: &'a [HolderLedger],
        miners: &'a [Miner],
    }
    sha256_json(&Input {
        block,
        params,
        ledgers,
        miners,
    })
}

/// sha256 of the canonical JSON of a decision's outputs.
pub fn output_hash(d: &Decision) -> String {
    sha256_json(d)
}

/// Runs holdings then multipliers (no multipliers call without miners).
pub fn run(
    policy: &Policy,
    params: &[Param],
    block: u64,
    ledgers: Vec<HolderLedger>,
    miners: Vec<Miner>,
) -> Result<Decision, CallError> {
    let holdings = policy.holdings(params, &HoldingsInput { block, ledgers })?;
    let multipliers = if miners.is_empty() {
        Vec::new()
    } else {
        policy.multipliers(
            params,
            &MultipliersInput {
                block,
                holdings: holdings.clone(),
                miners,
            },
        )?
    };
    Ok(Decision {
        holdings,
        multipliers,
    })
}

/// Equal base weights for every miner with multipliers (how shadow runs and install dry
/// runs see the effect of multipliers on weights).
pub fn equal_base_input(multipliers: &[MinerMultiplier]) -> WeightsInput {
    WeightsInput {
        uids: multipliers.iter().map(|m| m.uid).collect(),
        weights: vec![1.0; multipliers.len()],
        hotkeys: multipliers.iter().map(|m| m.hotkey.clone()).collect(),
        multipliers: multipliers.to_vec(),
    }
}

/// The checks of a dry run on real state: one multiplier per miner within
/// [0, max_multiplier], and equal base weights that sum to exactly 1.0.
pub fn check_invariants(
    policy: &Policy,
    params: &[Param],
    block: u64,
    miners: &[Miner],
    d: &Decision,
) -> Result<(), String> {
    let resolved = policy.resolve_params(params).map_err(|e| e.to_string())?;
    let input = MultipliersInput {
        block,
        holdings: d.holdings.clone(),
        miners: miners.to_vec(),
    };
    invariants::multipliers(
        &input,
        &d.multipliers,
        invariants::max_multiplier(&resolved),
    )?;
    if d.multipliers.is_empty() {
        return Ok(());
    }
    let input = equal_base_input(&d.multipliers);
    let out = policy
        .apply_weights(params, &input)
        .map_err(|e| e.to_string())?;
    invariants::weights(&input, &out)?;
    Ok(())
}
