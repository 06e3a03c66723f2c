//! Scenario rules for subnet mechanisms: the count, the emission split and per-mechanism
//! incentive weights, validated as subtensor v3.4.9-424
//! `pallets/subtensor/src/subnets/mechanism.rs` (`do_set_mechanism_count`,
//! `do_set_emission_split`) accepts them.

use crate::error::Result;
use crate::scenario_spec::{NeuronSpec, Scenario, SubnetSpec, bad};

/// `DefaultMaxMechanismCount` (`MaxMechanismCount` unless root changes it).
pub const MAX_MECHANISMS: u8 = 2;

/// `SubtensorInitialMaxAllowedUids` (runtime/src/lib.rs): uids over all mechanisms.
pub const MAX_UIDS_OVER_MECHANISMS: u32 = 256;

/// Basis points to `MechanismEmissionSplit` parts of `u16::MAX` (floored; the rounding
/// residue goes to the first part so the parts sum to 65535 as the runtime demands).
pub fn split_parts(bps: &[u32]) -> Vec<u16> {
    if bps.is_empty() {
        return vec![];
    }
    let mut parts: Vec<u16> = bps
        .iter()
        .map(|b| ((*b as u64) * (u16::MAX as u64) / 10_000) as u16)
        .collect();
    let sum: u64 = parts.iter().map(|p| *p as u64).sum();
    parts[0] = parts[0].saturating_add((u16::MAX as u64).saturating_sub(sum) as u16);
    parts
}

/// `mechanisms` and `mechanism_split_bps` of one subnet.
pub fn validate_subnet(s: &SubnetSpec, f: &dyn Fn(&str) -> String) -> Result<()> {
    if s.mechanisms == 0 || s.mechanisms > MAX_MECHANISMS {
        return Err(bad(
            f("mechanisms"),
            format!("must be 1 or {MAX_MECHANISMS} (MaxMechanismCount)"),
        ));
    }
    if s.max_uids as u32 * s.mechanisms as u32 > MAX_UIDS_OVER_MECHANISMS {
        return Err(bad(
            f("mechanisms"),
            format!(
                "{} mechanisms x max_uids {} exceed {MAX_UIDS_OVER_MECHANISMS} uids \
                 (TooManyUIDsPerMechanism); lower max_uids",
                s.mechanisms, s.max_uids
            ),
        ));
    }
    if !s.mechanism_split_bps.is_empty() {
        if s.mechanism_split_bps.len() > s.mechanisms as usize {
            return Err(bad(
                f("mechanism_split_bps"),
                format!(
                    "{} parts for {} mechanism(s)",
                    s.mechanism_split_bps.len(),
                    s.mechanisms
                ),
            ));
        }
        let sum: u64 = s.mechanism_split_bps.iter().map(|b| *b as u64).sum();
        if sum != 10_000 {
            return Err(bad(
                f("mechanism_split_bps"),
                format!("parts sum to {sum}, must sum to 10000"),
            ));
        }
    }
    Ok(())
}

/// `incentive_by_mechanism` of `neurons[i]`: one weight per mechanism of its subnet, and
/// not together with `incentive`.
pub fn validate_neuron(sc: &Scenario, i: usize, n: &NeuronSpec) -> Result<()> {
    if n.incentive_by_mechanism.is_empty() {
        return Ok(());
    }
    let field = format!("neurons[{i}].incentive_by_mechanism");
    if n.incentive != 0 {
        return Err(bad(
            field,
            "give either incentive or incentive_by_mechanism",
        ));
    }
    let count = sc
        .subnets
        .iter()
        .find(|s| s.netuid == n.netuid)
        .map(|s| s.mechanisms)
        .unwrap_or(1);
    if n.incentive_by_mechanism.len() != count as usize {
        return Err(bad(
            field,
            format!(
                "{} weights for {count} mechanism(s) of subnet {}",
                n.incentive_by_mechanism.len(),
                n.netuid
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_sum_to_u16_max() {
        assert_eq!(split_parts(&[6000, 4000]), vec![39_321, 26_214]);
        assert_eq!(split_parts(&[3333, 6667]), vec![21_843, 43_692]);
        assert_eq!(split_parts(&[10_000]), vec![u16::MAX]);
        assert!(split_parts(&[]).is_empty());
    }

    #[test]
    fn bad_mechanism_fields_are_named() {
        let base = "name = \"x\"\n[[subnets]]\nnetuid = 1\nowner = \"o\"\nowner_hotkey = \"oh\"\n";
        let e = Scenario::from_toml(&format!("{base}mechanisms = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("subnets[0].mechanisms"), "{e}");
        let e = Scenario::from_toml(&format!("{base}mechanisms = 2\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("subnets[0].mechanisms") && e.contains("max_uids"),
            "{e}"
        );
        let e = Scenario::from_toml(&format!(
            "{base}mechanisms = 2\nmax_uids = 64\nmechanism_split_bps = [5000, 4000]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("subnets[0].mechanism_split_bps"), "{e}");
        let e = Scenario::from_toml(&format!(
            "{base}mechanisms = 2\nmax_uids = 64\n[[neurons]]\nnetuid = 1\nhotkey = \"h\"\n\
             coldkey = \"c\"\nincentive_by_mechanism = [1, 2, 3]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("neurons[0].incentive_by_mechanism"), "{e}");
    }
}
