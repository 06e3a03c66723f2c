//! The `devnet_*` control methods: produce blocks, submit actions, reorg, and read the
//! ground truth and the model's stakes.
use std::sync::Arc;

use jsonrpsee::RpcModule;

use super::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceParams {
    #[serde(default = "one")]
    blocks: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReorgParams {
    depth: u64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TruthParams {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    to: Option<u64>,
    #[serde(default)]
    netuid: Option<NetUid>,
    #[serde(default)]
    hotkey: Option<String>,
    #[serde(default)]
    coldkey: Option<String>,
    #[serde(default)]
    kind: Option<TruthKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StakeParams {
    hotkey: String,
    coldkey: String,
    netuid: NetUid,
    #[serde(default)]
    at: Option<String>,
}

fn object_params<T: for<'de> Deserialize<'de>>(p: &Params) -> RpcResult<T> {
    let v: Json = if p.as_str().is_none() {
        json!({})
    } else if p.is_object() {
        p.parse().map_err(|e| invalid_params(e.to_string()))?
    } else {
        let mut seq: Vec<Json> = p.parse().map_err(|e| invalid_params(e.to_string()))?;
        if seq.is_empty() {
            json!({})
        } else {
            seq.remove(0)
        }
    };
    serde_json::from_value(v).map_err(|e| invalid_params(e.to_string()))
}

fn status(c: &Chain) -> Json {
    let head = c.head();
    json!({
        "head": head.number,
        "hash": hex0x(&head.hash),
        "finalized": c.finalized_number(),
        "finalizedHash": hex0x(&c.finalized_hash()),
        "genesisHash": hex0x(&c.genesis_hash()),
        "branch": head.branch,
        "rejected": c.rejected.len(),
    })
}

/// Submits an action: checked, queued, and (without a block timer) included in a new block.
fn submit(s: &Shared, action: Action) -> RpcResult<Json> {
    let upd = {
        let mut c = s
            .chain
            .write()
            .map_err(|_| control_err("chain lock poisoned"))?;
        c.queue(action).map_err(control_err)?;
        if s.instant {
            let before = c.rejected.len();
            let upd = c.produce(1).map_err(control_err)?;
            if c.rejected.len() > before {
                let e = c.rejected.last().map(|r| r.2.clone()).unwrap_or_default();
                s.publish(upd);
                return Err(control_err(format!("action failed in its block: {e}")));
            }
            Some(upd)
        } else {
            None
        }
    };
    let included = upd.is_some();
    if let Some(u) = upd {
        s.publish(u);
    }
    let c = read(s)?;
    let mut st = status(&c);
    st["included"] = json!(included);
    Ok(st)
}

fn action_with_kind(p: &Params, kind: &str) -> RpcResult<Action> {
    let mut v: Json = object_params(p)?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| invalid_params("expected an object"))?;
    obj.insert("kind".into(), json!(kind));
    serde_json::from_value(v).map_err(|e| invalid_params(e.to_string()))
}

/// Registers the control methods.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    m.register_method("devnet_advance", |p, s, _| -> RpcResult<Json> {
        let a: AdvanceParams = object_params(&p)?;
        if a.blocks > 1_000_000 {
            return Err(invalid_params("blocks must be at most 1000000"));
        }
        s.advance(a.blocks).map_err(control_err)?;
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_reorg", |p, s, _| -> RpcResult<Json> {
        let a: ReorgParams = object_params(&p)?;
        let upd = s
            .chain
            .write()
            .map_err(|_| control_err("lock"))?
            .reorg(a.depth)
            .map_err(control_err)?;
        s.publish(upd);
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_status", |_, s, _| -> RpcResult<Json> {
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_account", |p, _, _| -> RpcResult<String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct A {
            name: String,
        }
        let a: A = object_params(&p)?;
        parse_account(&a.name)
            .map(|x| hex0x(&x))
            .map_err(invalid_params)
    })
    .map_err(reg)?;
    m.register_method("devnet_submit", |p, s, _| -> RpcResult<Json> {
        let a: Action = object_params(&p)?;
        submit(s, a)
    })
    .map_err(reg)?;
    for (name, kind) in [
        ("devnet_addStake", "add_stake"),
        ("devnet_removeStake", "remove_stake"),
        ("devnet_unstakeAll", "unstake_all"),
        ("devnet_moveStake", "move_stake"),
        ("devnet_transferStake", "transfer_stake"),
        ("devnet_swapStake", "swap_stake"),
        ("devnet_recycleAlpha", "recycle_alpha"),
        ("devnet_burnAlpha", "burn_alpha"),
        ("devnet_rootClaim", "root_claim"),
        ("devnet_register", "register"),
        ("devnet_setAutoStake", "set_auto_stake"),
        ("devnet_setScores", "set_scores"),
        ("devnet_skipEpochs", "skip_epochs"),
    ] {
        m.register_method(name, move |p, s, _| -> RpcResult<Json> {
            submit(s, action_with_kind(&p, kind)?)
        })
        .map_err(reg)?;
    }
    m.register_method("devnet_groundTruth", |p, s, _| -> RpcResult<Json> {
        let t: TruthParams = object_params(&p)?;
        let c = read(s)?;
        let from = t.from.unwrap_or(c.genesis_number());
        let to = t.to.unwrap_or(c.head().number);
        if to.saturating_sub(from) > 1_000_000 {
            return Err(invalid_params("from..to spans more than 1000000 blocks"));
        }
        let hot = t
            .hotkey
            .as_deref()
            .map(parse_account)
            .transpose()
            .map_err(invalid_params)?;
        let cold = t
            .coldkey
            .as_deref()
            .map(parse_account)
            .transpose()
            .map_err(invalid_params)?;
        let entries: Vec<_> = c
            .ground_truth(from, to)
            .into_iter()
            .filter(|e| t.netuid.is_none_or(|n| n == e.netuid))
            .filter(|e| hot.is_none_or(|h| h == e.hotkey))
            .filter(|e| cold.is_none_or(|k| k == e.coldkey))
            .filter(|e| t.kind.is_none_or(|k| k == e.kind))
            .collect();
        Ok(json!({ "from": from, "to": to, "entries": entries }))
    })
    .map_err(reg)?;
    m.register_method("devnet_stake", |p, s, _| -> RpcResult<Json> {
        let a: StakeParams = object_params(&p)?;
        let hot = parse_account(&a.hotkey).map_err(invalid_params)?;
        let cold = parse_account(&a.coldkey).map_err(invalid_params)?;
        let at = a.at.map(Json::String).unwrap_or(Json::Null);
        with_state(s, &at, false, |v| {
            Ok(json!(v.state.stake(&hot, &cold, a.netuid)))
        })
    })
    .map_err(reg)?;
    Ok(())
}
