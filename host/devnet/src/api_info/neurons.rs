//! `NeuronInfoRuntimeApi` (`rpc_info/neuron_info.rs`) and the metagraph
//! (`rpc_info/metagraph.rs` `get_metagraph` / `get_mechagraph`), from
//! `crate::neuron_scores::rows`.

use scale_value::Value;

use super::subnets::subnet_fields;
use super::{Cx, build_checked, field_type, inner, list, none, some};
use crate::encode::{account, default_value, num};
use crate::error::Result;
use crate::model::NetUid;
use crate::neuron_scores::{NeuronRow, rows};

fn pairs(l: &[(u16, u16)]) -> Value {
    list(
        l.iter()
            .map(|(a, b)| Value::unnamed_composite([num(*a), num(*b)])),
    )
}

/// One `NeuronInfo` / `NeuronInfoLite` (the type decides which fields exist), as
/// `rpc_info/neuron_info.rs` builds them: `stake` is `[(owner coldkey,
/// TotalHotkeyAlpha)]` in the lite form (`get_neuron_lite_subnet_exists`) and `[(owner
/// coldkey, StakeWeight[uid])]` in the full one (`get_neuron_subnet_exists`); weights and
/// bonds list the non-zero entries.
fn neuron(cx: &Cx, ty: u32, netuid: NetUid, r: &NeuronRow) -> Result<Value> {
    let stake = if super::type_name(cx.md, ty) == "NeuronInfoLite" {
        r.alpha_stake
    } else {
        r.stake_weight as u64
    };
    let f = [
        ("hotkey", account(&r.hotkey)),
        ("coldkey", account(&r.coldkey)),
        ("uid", num(r.uid)),
        ("netuid", num(netuid)),
        ("active", Value::bool(r.active)),
        (
            "stake",
            list([Value::unnamed_composite([account(&r.coldkey), num(stake)])]),
        ),
        ("rank", num(r.rank)),
        ("emission", num(r.emission)),
        ("incentive", num(r.incentive)),
        ("consensus", num(r.consensus)),
        ("trust", num(r.trust)),
        ("validator_trust", num(r.validator_trust)),
        ("dividends", num(r.dividends)),
        ("last_update", num(r.last_update)),
        ("validator_permit", Value::bool(r.validator_permit)),
        ("weights", pairs(&r.weights)),
        ("bonds", pairs(&r.weights)),
        ("pruning_score", num(r.pruning_score)),
    ];
    build_checked(cx.md, ty, &f)
}

pub(super) fn neuron_api(cx: &Cx, out: u32) -> Result<Value> {
    let netuid = cx.num(0)? as NetUid;
    let all = rows(cx.md, cx.st, netuid, 0).unwrap_or_default();
    let ty = inner(cx.md, out)?;
    if cx.method.ends_with("_get_neurons") || cx.method.ends_with("_get_neurons_lite") {
        let items = all
            .iter()
            .map(|r| neuron(cx, ty, netuid, r))
            .collect::<Result<Vec<_>>>()?;
        return Ok(list(items));
    }
    let uid = cx.num(1)? as u16;
    Ok(match all.iter().find(|r| r.uid == uid) {
        Some(r) => some(neuron(cx, ty, netuid, r)?),
        None => none(),
    })
}

/// The metagraph of mechanism `mechid` of `netuid` (type `ty`, the `Metagraph` struct);
/// None if the subnet or mechanism does not exist.
fn metagraph(cx: &Cx, ty: u32, netuid: NetUid, mechid: u8) -> Result<Option<Value>> {
    let Some(s) = cx.st.subnets.get(&netuid) else {
        return Ok(None);
    };
    if mechid >= s.mechanisms.max(1) {
        return Ok(None);
    }
    // `get_mechagraph` is the subnet's metagraph with the mechanism's `LastUpdate` and
    // `Incentive` (and its storage index as `netuid`).
    let r = rows(cx.md, cx.st, netuid, 0).unwrap_or_default();
    let rm = rows(cx.md, cx.st, netuid, mechid).unwrap_or_default();
    let n = r.len();
    let col = |f: &dyn Fn(&NeuronRow) -> Value| list(r.iter().map(f));
    let col_m = |f: &dyn Fn(&NeuronRow) -> Value| list(rm.iter().map(f));
    let repeat = |name: &str| -> Result<Value> {
        let elem = field_type(cx.md, ty, name)
            .map(|t| inner(cx.md, t))
            .transpose()?;
        match elem {
            Some(e) => {
                let d = default_value(cx.md.types(), e, &[])?;
                Ok(list(std::iter::repeat_n(d, n)))
            }
            None => Ok(list([])),
        }
    };
    let mut f = subnet_fields(cx.md, cx.st, netuid)?;
    // The mechanism's storage index (`get_mechagraph` reports it as `netuid`).
    f.push((
        "netuid",
        num(netuid + mechid as u16 * crate::neuron_scores::MECH_STRIDE),
    ));
    // `metagraph.rs`: `current_block - LastMechansimStepBlock`; the deprecated subnet
    // emission and the pending root emission are 0.
    f.push((
        "blocks_since_last_step",
        num(cx.st.block.saturating_sub(s.last_mechanism_step_block)),
    ));
    f.push(("subnet_emission", num(0u8)));
    f.push(("pending_root_emission", num(0u8)));
    f.extend([
        ("hotkeys", col(&|x| account(&x.hotkey))),
        ("coldkeys", col(&|x| account(&x.coldkey))),
        // No identities or axons are modelled: one `None` / unserved axon per uid.
        ("identities", repeat("identities")?),
        ("axons", repeat("axons")?),
        ("active", col(&|x| Value::bool(x.active))),
        (
            "validator_permit",
            col(&|x| Value::bool(x.validator_permit)),
        ),
        ("pruning_score", col(&|x| num(x.pruning_score))),
        ("last_update", col_m(&|x| num(x.last_update))),
        ("emission", col(&|x| num(x.emission))),
        ("dividends", col(&|x| num(x.dividends))),
        ("incentives", col_m(&|x| num(x.incentive))),
        ("consensus", col(&|x| num(x.consensus))),
        ("trust", col(&|x| num(x.trust))),
        ("rank", col(&|x| num(x.rank))),
        ("block_at_registration", col(&|x| num(x.registered_at))),
        ("alpha_stake", col(&|x| num(x.alpha_stake))),
        // Root (TAO) stake is not modelled: 0, so total stake is the alpha stake.
        ("tao_stake", col(&|_| num(0u8))),
        ("total_stake", col(&|x| num(x.alpha_stake))),
        // "Tao dividends were removed": 0 per hotkey.
        (
            "tao_dividends_per_hotkey",
            col(&|x| Value::unnamed_composite([account(&x.hotkey), num(0u8)])),
        ),
        (
            "alpha_dividends_per_hotkey",
            col(&|x| {
                Value::unnamed_composite([
                    account(&x.hotkey),
                    num(s.alpha_dividends.get(&x.hotkey).copied().unwrap_or(0)),
                ])
            }),
        ),
    ]);
    build_checked(cx.md, ty, &f).map(Some)
}

pub(super) fn metagraph_api(cx: &Cx, out: u32) -> Result<Value> {
    let all = cx.method.contains("_get_all_");
    let opt = if all { inner(cx.md, out)? } else { out };
    let ty = inner(cx.md, opt)?;
    let wrap = |v: Option<Value>| v.map(some).unwrap_or_else(none);
    if all {
        let mut items = vec![];
        for (n, s) in cx.st.subnets.iter() {
            let mechs = if cx.method.ends_with("mechagraphs") {
                s.mechanisms.max(1)
            } else {
                1
            };
            for m in 0..mechs {
                items.push(wrap(metagraph(cx, ty, *n, m)?));
            }
        }
        return Ok(list(items));
    }
    let netuid = cx.num(0)? as NetUid;
    let mechid = if cx.method.ends_with("_get_mechagraph") {
        cx.num(1)? as u8
    } else {
        0
    };
    Ok(wrap(metagraph(cx, ty, netuid, mechid)?))
}
