//! Scenario validation: every check a parsed scenario must pass before it is built, each
//! error naming the field and what is wrong (the runtime schedule: `scenario_runtime`;
//! mechanisms: `scenario_mech`).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Result;
use crate::model::NetUid;
use crate::scenario_spec::{BehaviourKind, Scenario, bad};

/// Checks a parsed scenario.
pub(crate) fn validate(sc: &Scenario) -> Result<()> {
    crate::runtime::validate_schedule(sc.runtime, &sc.upgrades)?;
    crate::scenario_runtime::validate_actions(sc)?;
    let mut nets = BTreeSet::new();
    for (i, s) in sc.subnets.iter().enumerate() {
        let f = |x: &str| format!("subnets[{i}].{x}");
        if !nets.insert(s.netuid) {
            return Err(bad(
                f("netuid"),
                format!("netuid {} is listed twice", s.netuid),
            ));
        }
        if s.netuid == 0 {
            return Err(bad(
                f("netuid"),
                "netuid 0 is the root network and is not simulated",
            ));
        }
        if s.tempo == 0 {
            return Err(bad(f("tempo"), "must be at least 1"));
        }
        if s.owner_cut_bps > 10_000 {
            return Err(bad(f("owner_cut_bps"), "must be at most 10000"));
        }
        if s.miner_share_bps > 10_000 {
            return Err(bad(f("miner_share_bps"), "must be at most 10000"));
        }
        if s.price_rao == 0 {
            return Err(bad(f("price_rao"), "must be positive"));
        }
        if s.stake_fee_bps >= 10_000 {
            return Err(bad(f("stake_fee_bps"), "must be below 10000"));
        }
        crate::scenario_mech::validate_subnet(s, &f)?;
    }
    let net = |n: NetUid, field: String| -> Result<()> {
        if nets.contains(&n) {
            Ok(())
        } else {
            Err(bad(field, format!("subnet {n} is not in [[subnets]]")))
        }
    };
    let mut per_net: BTreeMap<NetUid, usize> = BTreeMap::new();
    for (i, n) in sc.neurons.iter().enumerate() {
        net(n.netuid, format!("neurons[{i}].netuid"))?;
        crate::scenario_mech::validate_neuron(sc, i, n)?;
        *per_net.entry(n.netuid).or_default() += 1;
    }
    for (i, g) in sc.neuron_groups.iter().enumerate() {
        net(g.netuid, format!("neuron_groups[{i}].netuid"))?;
        if g.coldkeys == 0 {
            return Err(bad(
                format!("neuron_groups[{i}].coldkeys"),
                "must be at least 1",
            ));
        }
        *per_net.entry(g.netuid).or_default() += g.count as usize;
    }
    for (n, c) in per_net {
        let max = sc
            .subnets
            .iter()
            .find(|s| s.netuid == n)
            .map(|s| s.max_uids)
            .unwrap_or(0);
        if c > max as usize {
            return Err(bad(
                format!("subnet {n}"),
                format!("{c} neurons exceed max_uids {max}"),
            ));
        }
    }
    for (i, s) in sc.stakes.iter().enumerate() {
        net(s.netuid, format!("stakes[{i}].netuid"))?;
        if s.alpha == 0 {
            return Err(bad(format!("stakes[{i}].alpha"), "must be positive"));
        }
    }
    for (i, a) in sc.actions.iter().enumerate() {
        if a.block == 0 {
            return Err(bad(
                format!("actions[{i}].block"),
                "must be at least 1 (block 0 is genesis)",
            ));
        }
    }
    for (i, r) in sc.reorgs.iter().enumerate() {
        if r.depth == 0 || r.depth > r.after_block {
            return Err(bad(
                format!("reorgs[{i}].depth"),
                "must be between 1 and after_block",
            ));
        }
        let fd = sc.finality_depth.unwrap_or(0);
        if r.depth > fd {
            return Err(bad(
                format!("reorgs[{i}].depth"),
                format!(
                    "{} exceeds finality_depth {fd}: finalized blocks never revert",
                    r.depth
                ),
            ));
        }
    }
    for (i, b) in sc.behaviours.iter().enumerate() {
        if !(0.0..=1.0).contains(&b.probability) {
            return Err(bad(
                format!("behaviours[{i}].probability"),
                "must be within 0..=1",
            ));
        }
        if b.coldkeys.is_empty() {
            return Err(bad(format!("behaviours[{i}].coldkeys"), "lists no coldkey"));
        }
        if b.fraction_bps == 0 || b.fraction_bps > 10_000 {
            return Err(bad(
                format!("behaviours[{i}].fraction_bps"),
                "must be within 1..=10000",
            ));
        }
        if b.kind == BehaviourKind::Transferrer && b.targets.is_empty() {
            return Err(bad(
                format!("behaviours[{i}].targets"),
                "a transferrer needs targets",
            ));
        }
        if b.kind == BehaviourKind::FeePayer && b.alpha_fee == 0 {
            return Err(bad(
                format!("behaviours[{i}].alpha_fee"),
                "a fee payer needs alpha_fee > 0",
            ));
        }
    }
    Ok(())
}
