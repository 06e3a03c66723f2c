//! Subnet-level runtime APIs: hyperparameters (`rpc_info/subnet_info.rs`), subnet info,
//! dynamic info (`rpc_info/dynamic_info.rs`), delegates (`rpc_info/delegate_info.rs`),
//! stake info for several coldkeys (`rpc_info/stake_info.rs`) and the swap API
//! (`pallets/swap/runtime-api`) over the model's fixed price.

use scale_info::TypeDef;
use scale_value::Value;

use super::{Cx, build_checked, inner, list, none, some};
use crate::encode::{account, default_value, num};
use crate::error::{DevnetError, Result};
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, ChainState, NetUid};
use crate::neuron_scores::{HYPERPARAMS, hyperparam, rows};

/// 1 TAO in rao: the unit prices are quoted in.
const RAO: u128 = 1_000_000_000;

/// The fields every subnet-level struct (metagraph, dynamic info, subnet info,
/// hyperparameters) takes from the model, by field name.
///
/// The model's price is fixed and it has no pool reserves: `alpha_out` is the subnet's
/// outstanding alpha (the sum of its `TotalHotkeyAlpha`), the reserves reported are the
/// notional `alpha_in = alpha_out` and `tao_in = alpha_in * price`, so `tao_in /
/// alpha_in` is the price, as is `moving_price`; nothing is injected into them
/// (`alpha_in_emission`, `tao_in_emission`, the TAO `emission` are 0).
pub(super) fn subnet_fields(
    md: &ChainMetadata,
    st: &ChainState,
    netuid: NetUid,
) -> Result<Vec<(&'static str, Value)>> {
    let s = st
        .subnets
        .get(&netuid)
        .ok_or_else(|| DevnetError::Chain(format!("subnet {netuid} does not exist")))?;
    let alpha_out: u128 = st
        .pools
        .iter()
        .filter(|((_, n), _)| *n == netuid)
        .map(|(_, p)| p.total_alpha as u128)
        .sum();
    let tao_in = alpha_out * s.price_rao as u128 / RAO;
    let n = s.keys.len() as u16;
    let max_validators = hyperparam(md, s, "max_validators").unwrap_or(num(0u8));
    let mut f: Vec<(&'static str, Value)> = vec![
        ("netuid", num(netuid)),
        // Genesis subnets.
        ("network_registered_at", num(0u8)),
        ("owner_hotkey", account(&s.owner_hotkey)),
        ("owner_coldkey", account(&s.owner_coldkey)),
        ("owner", account(&s.owner_coldkey)),
        ("block", num(st.block)),
        ("last_step", num(s.last_mechanism_step_block)),
        ("blocks_since_last_step", num(s.blocks_since_last_step)),
        ("emission", num(0u8)),
        ("alpha_in", num(alpha_out)),
        ("alpha_out", num(alpha_out)),
        ("tao_in", num(tao_in)),
        ("alpha_out_emission", num(s.emission_per_block)),
        ("alpha_in_emission", num(0u8)),
        ("pending_root_emission", num(0u8)),
        ("tao_in_emission", num(0u8)),
        (
            "pending_alpha_emission",
            num(s.pending_server + s.pending_validator),
        ),
        (
            "moving_price",
            Value::named_composite([(
                "bits",
                Value::i128(((s.price_rao as u128) << 32) as i128 / RAO as i128),
            )]),
        ),
        ("num_uids", num(n)),
        ("subnetwork_n", num(n)),
        ("max_uids", num(s.max_uids)),
        ("max_allowed_uids", num(s.max_uids)),
        ("max_allowed_validators", max_validators),
    ];
    for (name, _) in HYPERPARAMS {
        if let Some(v) = hyperparam(md, s, name) {
            f.push((name, v));
        }
    }
    Ok(f)
}

/// The `HyperparamValue` variant for a `SubnetHyperparamsV2` field type.
fn hyper_variant(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "bool" => "Bool",
        "Compact<u16>" => "U16",
        "Compact<u32>" => "U32",
        "Compact<u64>" => "U64",
        "Compact<u128>" => "U128",
        "Compact<TaoBalance>" => "TaoBalance",
        "I32F32" => "I32F32",
        "U64F64" => "U64F64",
        _ => return None,
    })
}

/// `get_subnet_hyperparams_v3`: one `{ name, value }` per `SubnetHyperparamsV2` field,
/// in its order, tagged by the field's type.
fn hyperparams_v3(cx: &Cx, netuid: NetUid) -> Result<Value> {
    let v2 = cx
        .md
        .runtime_api("SubnetInfoRuntimeApi_get_subnet_hyperparams_v2")
        .ok_or_else(|| DevnetError::Metadata("get_subnet_hyperparams_v2".into()))?;
    let ty = inner(cx.md, v2.output)?;
    let Some(TypeDef::Composite(c)) = cx.md.types().resolve(ty).map(|t| &t.type_def) else {
        return Err(DevnetError::Metadata("SubnetHyperparamsV2".into()));
    };
    let s = &cx.st.subnets[&netuid];
    let mut out = vec![];
    for f in &c.fields {
        let name = f.name.clone().unwrap_or_default();
        let tn = f.type_name.clone().unwrap_or_default();
        let variant = hyper_variant(&tn)
            .ok_or_else(|| DevnetError::Metadata(format!("hyperparameter {name}: type {tn}")))?;
        let value = hyperparam(cx.md, s, &name).ok_or_else(|| {
            DevnetError::Chain(format!("the devnet does not model hyperparameter {name}"))
        })?;
        out.push(Value::named_composite([
            ("name", Value::from_bytes(name.as_bytes())),
            ("value", Value::unnamed_variant(variant, [value])),
        ]));
    }
    Ok(list(out))
}

/// `DelegateInfo` of a hotkey in `Delegates` (`delegate_info.rs`
/// `get_delegate_by_existing_account`): nominators with their alpha per subnet (skipped
/// for `get_delegated`), registrations, permits, `total_daily_return` = the sum over its
/// uids of `Emission * 7200 / tempo`, and `return_per_1000` = that after the take per
/// 1000 TAO of the hotkey's root stake: 0, root stake is not modelled.
fn delegate(cx: &Cx, ty: u32, hot: &AccountId, take: u16, skip_nominators: bool) -> Result<Value> {
    let st = cx.st;
    let mut nominators: std::collections::BTreeMap<AccountId, Vec<(NetUid, u64)>> =
        Default::default();
    for ((h, n), p) in st.pools.iter() {
        if h != hot || skip_nominators {
            continue;
        }
        for c in p.shares.keys() {
            let a = p.value(c, st.rules.legacy_shares);
            if a > 0 {
                nominators.entry(*c).or_default().push((*n, a));
            }
        }
    }
    let root_stake: u128 = 0;
    let mut registrations = vec![];
    let mut permits = vec![];
    let mut per_day: u128 = 0;
    for (n, s) in st.subnets.iter() {
        let Some(uid) = s.uids.get(hot) else {
            continue;
        };
        registrations.push(num(*n));
        if let Some(r) = rows(cx.md, st, *n, 0).and_then(|r| r.into_iter().find(|r| r.uid == *uid))
        {
            if r.validator_permit {
                permits.push(num(*n));
            }
            if s.tempo > 0 {
                per_day += r.emission as u128 * 7200 / s.tempo as u128;
            }
        }
    }
    let return_per_1000 = (per_day * (u16::MAX - take) as u128 / u16::MAX as u128)
        .checked_div(root_stake / (1000 * RAO))
        .unwrap_or(0);
    let f = [
        ("delegate_ss58", account(hot)),
        ("take", num(take)),
        (
            "nominators",
            list(nominators.iter().map(|(c, l)| {
                Value::unnamed_composite([
                    account(c),
                    list(
                        l.iter()
                            .map(|(n, a)| Value::unnamed_composite([num(*n), num(*a)])),
                    ),
                ])
            })),
        ),
        ("owner_ss58", account(st.owner.get(hot).unwrap_or(hot))),
        ("registrations", list(registrations)),
        ("validator_permits", list(permits)),
        ("return_per_1000", num(return_per_1000)),
        ("total_daily_return", num(per_day)),
    ];
    build_checked(cx.md, ty, &f)
}

fn stake_info(
    cx: &Cx,
    ty: u32,
    hot: &AccountId,
    cold: &AccountId,
    n: NetUid,
    a: u64,
) -> Result<Value> {
    let reg = cx
        .st
        .subnets
        .get(&n)
        .is_some_and(|s| s.uids.contains_key(hot));
    default_value(
        cx.md.types(),
        ty,
        &[
            ("hotkey", account(hot)),
            ("coldkey", account(cold)),
            ("netuid", num(n)),
            ("stake", num(a)),
            ("is_registered", Value::bool(reg)),
        ],
    )
}

fn price(st: &ChainState, netuid: NetUid) -> u128 {
    if netuid == 0 {
        return RAO;
    }
    st.subnets
        .get(&netuid)
        .map(|s| s.price_rao as u128)
        .unwrap_or(0)
}

pub(super) fn call(cx: &Cx, out: u32) -> Result<Value> {
    let st = cx.st;
    let m = cx.method.split_once('_').map(|x| x.1).unwrap_or(cx.method);
    let per_subnet = |f: &dyn Fn(NetUid) -> Result<Value>| -> Result<Value> {
        let netuid = cx.num(0)? as NetUid;
        if st.subnets.contains_key(&netuid) {
            f(netuid).map(some)
        } else {
            Ok(none())
        }
    };
    let all_subnets = |f: &dyn Fn(NetUid) -> Result<Value>| -> Result<Value> {
        let items = st
            .subnets
            .keys()
            .map(|n| f(*n).map(some))
            .collect::<Result<Vec<_>>>()?;
        Ok(list(items))
    };
    let fields_of = |ty: u32| {
        move |n: NetUid| -> Result<Value> {
            build_checked(cx.md, ty, &subnet_fields(cx.md, st, n)?)
        }
    };
    match m {
        "get_subnet_hyperparams_v3" => per_subnet(&|n| hyperparams_v3(cx, n)),
        "get_subnet_hyperparams"
        | "get_subnet_hyperparams_v2"
        | "get_subnet_info"
        | "get_subnet_info_v2"
        | "get_dynamic_info" => per_subnet(&fields_of(inner(cx.md, out)?)),
        "get_subnets_info" | "get_subnets_info_v2" | "get_all_dynamic_info" => {
            all_subnets(&fields_of(inner(cx.md, inner(cx.md, out)?)?))
        }
        "get_delegates" => {
            let ty = inner(cx.md, out)?;
            let items = st
                .delegate_take
                .iter()
                .map(|(h, t)| delegate(cx, ty, h, *t, false))
                .collect::<Result<Vec<_>>>()?;
            Ok(list(items))
        }
        "get_delegate" => {
            let hot = cx.account(0)?;
            match st.delegate_take.get(&hot) {
                Some(t) => Ok(some(delegate(cx, inner(cx.md, out)?, &hot, *t, false)?)),
                None => Ok(none()),
            }
        }
        "get_delegated" => {
            let cold = cx.account(0)?;
            let pair = inner(cx.md, out)?;
            let Some(TypeDef::Tuple(t)) = cx.md.types().resolve(pair).map(|t| &t.type_def) else {
                return Err(DevnetError::Metadata("get_delegated output".into()));
            };
            let ty = t.fields[0].id;
            let mut items = vec![];
            for (hot, n, a) in st.stakes_of(&cold) {
                if let Some(take) = st.delegate_take.get(&hot) {
                    items.push(Value::unnamed_composite([
                        delegate(cx, ty, &hot, *take, true)?,
                        Value::unnamed_composite([num(n), num(a)]),
                    ]));
                }
            }
            Ok(list(items))
        }
        "get_stake_info_for_coldkeys" => {
            let ty = inner(
                cx.md,
                inner(cx.md, out).and_then(|p| {
                    match cx.md.types().resolve(p).map(|t| &t.type_def) {
                        Some(TypeDef::Tuple(t)) => Ok(t.fields[1].id),
                        _ => Err(DevnetError::Metadata("stake info pair".into())),
                    }
                })?,
            )?;
            let mut items = vec![];
            for cold in cx.accounts(0)? {
                let infos = st
                    .stakes_of(&cold)
                    .into_iter()
                    .map(|(h, n, a)| stake_info(cx, ty, &h, &cold, n, a))
                    .collect::<Result<Vec<_>>>()?;
                items.push(Value::unnamed_composite([account(&cold), list(infos)]));
            }
            Ok(list(items))
        }
        // The model's fixed price, in rao per alpha (root: 1 TAO per TAO).
        "current_alpha_price" => Ok(num(price(st, cx.num(0)? as NetUid))),
        "current_alpha_price_all" => {
            let ty = inner(cx.md, out)?;
            let items = st
                .subnets
                .keys()
                .map(|n| {
                    build_checked(
                        cx.md,
                        ty,
                        &[("netuid", num(*n)), ("price", num(price(st, *n)))],
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(list(items))
        }
        // `add_stake` in the model: a fee of `stake_fee_bps` of the TAO, the rest bought
        // at the fixed price (no slippage); `remove_stake`: no fee (`model::staking`).
        "sim_swap_tao_for_alpha" | "sim_swap_alpha_for_tao" => {
            let netuid = cx.num(0)? as NetUid;
            let amount = cx.num(1)?;
            let p = price(st, netuid).max(1);
            let bps = st
                .subnets
                .get(&netuid)
                .map(|s| s.stake_fee_bps as u128)
                .unwrap_or(0);
            let (tao, alpha, tao_fee) = if m == "sim_swap_tao_for_alpha" {
                let fee = amount * bps / 10_000;
                (amount, (amount - fee) * RAO / p, fee)
            } else {
                (amount * p / RAO, amount, 0)
            };
            build_checked(
                cx.md,
                out,
                &[
                    ("tao_amount", num(tao)),
                    ("alpha_amount", num(alpha)),
                    ("tao_fee", num(tao_fee)),
                    ("alpha_fee", num(0u8)),
                    ("tao_slippage", num(0u8)),
                    ("alpha_slippage", num(0u8)),
                ],
            )
        }
        _ => Err(DevnetError::Chain(format!(
            "Execution failed: the devnet does not implement {}",
            cx.method
        ))),
    }
}
