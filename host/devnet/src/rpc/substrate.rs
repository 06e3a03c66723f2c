//! The legacy Substrate methods: `system_*`, `chain_*`, `state_*` (storage, metadata,
//! runtime version and `state_call` per block, the block's runtime deciding).
use std::sync::Arc;

use jsonrpsee::RpcModule;

use super::*;

/// Registers the legacy Substrate methods.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    m.register_method("rpc_methods", |_, _, _| {
        let mut all: Vec<&str> = METHODS.to_vec();
        all.extend(super::node::ALIASES.iter().map(|(a, _)| *a));
        all.sort_unstable();
        json!({ "version": 1, "methods": all })
    })
    .map_err(reg)?;
    m.register_method("system_chain", |_, s, _| s.chain_name.clone())
        .map_err(reg)?;
    m.register_method("system_name", |_, _, _| "Subtensor Node (vesting devnet)")
        .map_err(reg)?;
    m.register_method("system_version", |_, _, _| env!("CARGO_PKG_VERSION"))
        .map_err(reg)?;
    m.register_method("system_chainType", |_, _, _| "Development")
        .map_err(reg)?;
    m.register_method(
        "system_properties",
        |_, _, _| json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }),
    )
    .map_err(reg)?;
    m.register_method(
        "system_health",
        |_, _, _| json!({ "peers": 0, "isSyncing": false, "shouldHavePeers": false }),
    )
    .map_err(reg)?;

    m.register_method("chain_getBlockHash", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let c = read(s)?;
        let one = |v: &Json| -> RpcResult<Json> {
            Ok(match block_number_arg(v)? {
                None => json!(hex0x(&c.head().hash)),
                Some(n) => c.hash_at(n).map(|h| json!(hex0x(&h))).unwrap_or(Json::Null),
            })
        };
        match arg(&args, 0) {
            Json::Array(list) => Ok(Json::Array(
                list.iter().map(one).collect::<RpcResult<Vec<_>>>()?,
            )),
            v => one(v),
        }
    })
    .map_err(reg)?;
    m.register_method("chain_getHeader", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let at = parse_hash(arg(&args, 0), "block hash")?;
        let c = read(s)?;
        Ok(c.resolve(at)
            .map(|b| b.header.to_json())
            .unwrap_or(Json::Null))
    })
    .map_err(reg)?;
    m.register_method("chain_getBlock", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let at = parse_hash(arg(&args, 0), "block hash")?;
        let c = read(s)?;
        Ok(c.resolve(at).map(|b| b.to_json()).unwrap_or(Json::Null))
    })
    .map_err(reg)?;
    for name in ["chain_getFinalizedHead", "chain_getFinalisedHead"] {
        m.register_method(name, |_, s, _| -> RpcResult<String> {
            Ok(hex0x(&read(s)?.finalized_hash()))
        })
        .map_err(reg)?;
    }
    for name in ["state_getRuntimeVersion", "chain_getRuntimeVersion"] {
        m.register_method(name, |p, s, _| -> RpcResult<Json> {
            let args = positional(&p)?;
            with_state(s, arg(&args, 0), true, |v| {
                Ok(runtime_version_json(v.block))
            })
        })
        .map_err(reg)?;
    }
    m.register_method("state_getMetadata", |p, s, _| -> RpcResult<String> {
        let args = positional(&p)?;
        with_state(s, arg(&args, 0), true, |v| {
            Ok(hex0x(v.block.code.md.encoded(14).unwrap_or_default()))
        })
    })
    .map_err(reg)?;
    for name in ["state_getStorage", "state_getStorageAt"] {
        m.register_method(name, |p, s, _| -> RpcResult<Json> {
            let args = positional(&p)?;
            let key = match arg(&args, 0) {
                Json::String(k) => parse_hex(k, "storage key")?,
                _ => return Err(invalid_params("storage key must be a 0x hex string")),
            };
            with_view(s, arg(&args, 1), |v| {
                Ok(get(v, &key, s.strict)?
                    .map(|b| json!(hex0x(&b)))
                    .unwrap_or(Json::Null))
            })
        })
        .map_err(reg)?;
    }
    m.register_method("state_getKeysPaged", |p, s, _| -> RpcResult<Vec<String>> {
        let args = positional(&p)?;
        let prefix = match arg(&args, 0) {
            Json::String(k) => parse_hex(k, "prefix")?,
            Json::Null => vec![],
            _ => return Err(invalid_params("prefix must be a 0x hex string")),
        };
        let count = arg(&args, 1)
            .as_u64()
            .ok_or_else(|| invalid_params("count must be a number"))?;
        if count > 1000 {
            return Err(ErrorObject::owned(
                4002,
                "count exceeds maximum value. value: 1000",
                None::<()>,
            ));
        }
        let start = match arg(&args, 2) {
            Json::String(k) => Some(parse_hex(k, "start key")?),
            _ => None,
        };
        with_view(s, arg(&args, 3), |v| {
            if s.strict
                && let Some(item) = crate::modelled::unmodelled_prefix(v.md, &prefix)
            {
                return Err(unmodelled_err(&item));
            }
            let mut all = v.keys(&prefix).map_err(client_err)?;
            all.extend(crate::runtime_storage::keys(v, &prefix).map_err(client_err)?);
            all.sort();
            Ok(all
                .into_iter()
                .filter(|k| start.as_ref().is_none_or(|st| k > st))
                .take(count as usize)
                .map(|k| hex0x(&k))
                .collect())
        })
    })
    .map_err(reg)?;
    m.register_method("state_queryStorageAt", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let keys: Vec<String> = serde_json::from_value(arg(&args, 0).clone())
            .map_err(|e| invalid_params(format!("keys: {e}")))?;
        let keys = keys
            .iter()
            .map(|k| parse_hex(k, "storage key"))
            .collect::<RpcResult<Vec<_>>>()?;
        with_view(s, arg(&args, 1), |v| {
            let mut changes = vec![];
            for k in &keys {
                changes.push(json!([hex0x(k), get(v, k, s.strict)?.map(|b| hex0x(&b))]));
            }
            Ok(json!([{ "block": hex0x(&v.block.hash), "changes": changes }]))
        })
    })
    .map_err(reg)?;
    m.register_method("state_call", |p, s, _| -> RpcResult<String> {
        let args = positional(&p)?;
        let method = arg(&args, 0)
            .as_str()
            .ok_or_else(|| invalid_params("method name must be a string"))?;
        let data = match arg(&args, 1) {
            Json::String(d) => parse_hex(d, "call data")?,
            Json::Null => vec![],
            _ => return Err(invalid_params("call data must be a hex string")),
        };
        if s.strict {
            let c = read(s)?;
            let at = parse_hash(arg(&args, 2), "block hash")?;
            if let Ok(b) = c.resolve(at)
                && let Some(what) = crate::modelled::unmodelled_runtime_api(&b.code.md, method)
            {
                return Err(unmodelled_err(&what));
            }
        }
        with_state(s, arg(&args, 2), true, |v| {
            if let Some(r) = super::node::runtime_fee_call(&v.block.code.md, method, &data) {
                return r.map(|b| hex0x(&b));
            }
            // A runtime API runs the code the state holds: in an upgrade block, the new
            // runtime's (which values positions its own way, `crate::model::pool393`).
            let code_rules = v.block.code.rules;
            let relaid;
            let state = if v.state.rules == code_rules {
                v.state
            } else {
                let mut st = v.state.clone();
                st.rules = code_rules;
                relaid = st;
                &relaid
            };
            crate::runtime_api::call(&v.block.code.md, state, method, &data).map(|b| hex0x(&b))
        })
        .map_err(|e| {
            if e.message().contains("Api called for an unknown Block")
                && !e.message().contains("State already")
                && !e.message().contains("UnknownBlock")
            {
                ErrorObject::owned(
                    4003,
                    e.message().replace("Api called for an unknown Block: ", ""),
                    None::<()>,
                )
            } else {
                e
            }
        })
    })
    .map_err(reg)?;

    Ok(())
}
