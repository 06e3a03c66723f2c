//! The contract's invariants on policy outputs, checked by the host: at install, in dry
//! runs and in service. A policy that breaks them is treated like one that failed.

use super::*;
use std::collections::HashSet;

/// Weights: one per input uid in input order, summing to exactly 1.0 (or all zero), and
/// a chain vector of known uids.
pub fn weights(input: &WeightsInput, out: &WeightsOutput) -> Result<(), String> {
    if out.uids != input.uids {
        return Err("uids differ from the input's".into());
    }
    if out.weights.len() != input.uids.len() || out.multipliers.len() != input.uids.len() {
        return Err(format!(
            "{} weights and {} multipliers for {} uids",
            out.weights.len(),
            out.multipliers.len(),
            input.uids.len()
        ));
    }
    let sum: u128 = out.weights.iter().map(|w| *w as u128).sum();
    if sum != ONE as u128 && sum != 0 {
        return Err(format!("weights sum to {sum}, not {ONE} (1.0)"));
    }
    if out.chain_uids.len() != out.chain_weights.len() {
        return Err("chain-uids and chain-weights differ in length".into());
    }
    let known: HashSet<u16> = input.uids.iter().copied().collect();
    if let Some(u) = out.chain_uids.iter().find(|u| !known.contains(u)) {
        return Err(format!(
            "chain vector names uid {u}, which is not in the input"
        ));
    }
    Ok(())
}

/// Multipliers: one per miner, each within [0, max_multiplier].
pub fn multipliers(
    input: &MultipliersInput,
    out: &[MinerMultiplier],
    max_multiplier: u64,
) -> Result<(), String> {
    let mut want: Vec<u16> = input.miners.iter().map(|m| m.uid).collect();
    let mut got: Vec<u16> = out.iter().map(|m| m.uid).collect();
    want.sort_unstable();
    got.sort_unstable();
    if want != got {
        return Err(format!(
            "{} multipliers for {} miners, or for other uids",
            got.len(),
            want.len()
        ));
    }
    if let Some(m) = out.iter().find(|m| m.multiplier > max_multiplier) {
        return Err(format!(
            "uid {} has multiplier {} above max_multiplier {max_multiplier}",
            m.uid, m.multiplier
        ));
    }
    Ok(())
}

/// The `max_multiplier` among resolved parameters (1.0 if a policy has none).
pub fn max_multiplier(params: &[Param]) -> u64 {
    params
        .iter()
        .find_map(|p| match (&p.name[..], &p.value) {
            ("max_multiplier", ParamValue::Fixed(v)) => Some(*v),
            _ => None,
        })
        .unwrap_or(ONE)
}
