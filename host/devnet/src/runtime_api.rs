//! `state_call`: the runtime APIs the devnet answers, with inputs decoded and outputs
//! encoded by the metadata's runtime API types.

use codec::Encode;
use scale_value::Value;

use crate::encode::{account, decode, default_value, encode, num};
use crate::error::{DevnetError, Result};
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, ChainState};

/// The `state_call` methods served.
pub const SERVED: &[&str] = &[
    "Core_version",
    "Metadata_metadata",
    "Metadata_metadata_versions",
    "Metadata_metadata_at_version",
    "StakeInfoRuntimeApi_get_stake_info_for_hotkey_coldkey_netuid",
    "StakeInfoRuntimeApi_get_stake_info_for_coldkey",
    "SubnetInfoRuntimeApi_get_next_epoch_start_block",
    "AccountNonceApi_account_nonce",
];

fn arg_account(v: &Value<u32>, what: &str) -> Result<AccountId> {
    let mut bytes = vec![];
    fn walk(v: &Value<u32>, out: &mut Vec<u8>) {
        match &v.value {
            scale_value::ValueDef::Composite(c) => c.values().for_each(|x| walk(x, out)),
            _ => {
                if let Some(n) = v.as_u128() {
                    out.push(n as u8)
                }
            }
        }
    }
    walk(v, &mut bytes);
    bytes
        .try_into()
        .map_err(|_| DevnetError::Decode(format!("{what} is not a 32-byte account")))
}

fn stake_info(
    md: &ChainMetadata,
    ty: u32,
    hot: &AccountId,
    cold: &AccountId,
    netuid: u16,
    stake: u64,
    reg: bool,
) -> Result<Value> {
    default_value(
        md.types(),
        ty,
        &[
            ("hotkey", account(hot)),
            ("coldkey", account(cold)),
            ("netuid", num(netuid)),
            ("stake", num(stake)),
            ("is_registered", Value::bool(reg)),
        ],
    )
}

fn option_inner(md: &ChainMetadata, ty: u32) -> Option<u32> {
    let t = md.types().resolve(ty)?;
    match &t.type_def {
        scale_info::TypeDef::Variant(v) => v
            .variants
            .iter()
            .find(|x| x.name == "Some")?
            .fields
            .first()
            .map(|f| f.ty.id),
        scale_info::TypeDef::Sequence(s) => Some(s.type_param.id),
        _ => None,
    }
}

/// Answers a runtime API call against `state`; the result is the SCALE output bytes.
pub fn call(md: &ChainMetadata, state: &ChainState, method: &str, input: &[u8]) -> Result<Vec<u8>> {
    match method {
        "Core_version" => return Ok(md.runtime_version.encoded.clone()),
        "Metadata_metadata" => {
            return Ok(md
                .encoded(14)
                .map(|b| b.to_vec())
                .unwrap_or_default()
                .encode());
        }
        "Metadata_metadata_versions" => return Ok(md.versions().encode()),
        _ => {}
    }
    let info = md
        .runtime_api(method)
        .ok_or_else(|| DevnetError::Chain(format!("Exported method {method} is not found")))?;
    let mut rest = input;
    let mut args = vec![];
    for (name, ty) in &info.inputs {
        let v = decode(md.types(), *ty, &mut rest)
            .map_err(|e| DevnetError::Decode(format!("{method}: argument {name}: {e}")))?;
        args.push(v);
    }
    if !rest.is_empty() {
        return Err(DevnetError::Decode(format!(
            "{method}: {} bytes left after the arguments",
            rest.len()
        )));
    }
    let out = info.output;
    let num_arg = |i: usize| -> Result<u128> {
        args.get(i)
            .and_then(first_number)
            .ok_or_else(|| DevnetError::Decode(format!("{method}: argument {i} is not a number")))
    };
    if let Some(v) = crate::api_info::call(md, state, method, &args, out) {
        return encode(md.types(), out, &v?);
    }
    let value = match method {
        "Metadata_metadata_at_version" => {
            let v = num_arg(0)? as u32;
            return Ok(md.encoded(v).map(|b| b.to_vec()).encode());
        }
        "StakeInfoRuntimeApi_get_stake_info_for_hotkey_coldkey_netuid" => {
            let hot = arg_account(&args[0], "hotkey_account")?;
            let cold = arg_account(&args[1], "coldkey_account")?;
            let netuid = num_arg(2)? as u16;
            let inner = option_inner(md, out)
                .ok_or_else(|| DevnetError::Metadata("StakeInfo type".into()))?;
            let reg = state
                .subnets
                .get(&netuid)
                .is_some_and(|s| s.uids.contains_key(&hot));
            let stake = state.stake(&hot, &cold, netuid);
            if state
                .pools
                .get(&(hot, netuid))
                .is_some_and(|p| p.shares.contains_key(&cold))
            {
                Value::unnamed_variant(
                    "Some",
                    [stake_info(md, inner, &hot, &cold, netuid, stake, reg)?],
                )
            } else {
                Value::unnamed_variant("None", [])
            }
        }
        "StakeInfoRuntimeApi_get_stake_info_for_coldkey" => {
            let cold = arg_account(&args[0], "coldkey_account")?;
            let inner = option_inner(md, out)
                .ok_or_else(|| DevnetError::Metadata("StakeInfo type".into()))?;
            let mut items = vec![];
            for (hot, netuid, stake) in state.stakes_of(&cold) {
                let reg = state
                    .subnets
                    .get(&netuid)
                    .is_some_and(|s| s.uids.contains_key(&hot));
                items.push(stake_info(md, inner, &hot, &cold, netuid, stake, reg)?);
            }
            Value::unnamed_composite(items)
        }
        // frame_system_rpc_runtime_api::AccountNonceApi (polkadot-sdk
        // substrate/frame/system/rpc/runtime-api/src/lib.rs): the account's `System.Account`
        // nonce at the block, pooled transactions not counted (subxt asks it for the nonce
        // of a transaction it signs; `system_accountNextIndex` counts the pool).
        "AccountNonceApi_account_nonce" => {
            let who = arg_account(&args[0], "account")?;
            num(state.nonce(&who))
        }
        "SubnetInfoRuntimeApi_get_next_epoch_start_block" => {
            let netuid = num_arg(0)? as u16;
            match state.next_epoch_start_block(netuid) {
                Some(b) => Value::unnamed_variant("Some", [num(b)]),
                None => Value::unnamed_variant("None", []),
            }
        }
        _ => {
            return Err(DevnetError::Chain(format!(
                "Execution failed: the devnet does not implement {method} (served: {})",
                SERVED.join(", ")
            )));
        }
    };
    encode(md.types(), out, &value)
}

fn first_number(v: &Value<u32>) -> Option<u128> {
    match &v.value {
        scale_value::ValueDef::Composite(c) => c.values().next().and_then(first_number),
        _ => v.as_u128(),
    }
}
