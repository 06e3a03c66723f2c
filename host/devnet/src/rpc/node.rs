//! The rest of a Substrate node's legacy surface that clients call besides submitting
//! transactions, with the shapes of `substrate/client/rpc-api` and
//! `frame/transaction-payment/rpc`: the aliases a node registers, `state_queryStorage`,
//! `state_getStorageHash` / `Size`, `system_accountNextIndex`,
//! `payment_queryInfo` / `payment_queryFeeDetails` (and the `TransactionPaymentApi`
//! runtime calls) from the devnet's fee rule, and a lone full node's `system_peers`, `system_nodeRoles`,
//! `system_syncState`, `system_reservedPeers`, `system_localListenAddresses`.
use std::sync::Arc;

use codec::{Compact, Decode};
use jsonrpsee::RpcModule;
use scale_value::Value;

use super::*;
use crate::encode::{default_value, encode, num};
use crate::metadata::ChainMetadata;

/// The aliases a Substrate node registers (`#[method(aliases = ...)]` in
/// `substrate/client/rpc-api/src/{chain,state,system}/mod.rs`), as (alias, method).
pub(super) const ALIASES: &[(&str, &str)] = &[
    ("chain_getHead", "chain_getBlockHash"),
    ("subscribe_newHead", "chain_subscribeNewHeads"),
    ("chain_subscribeNewHead", "chain_subscribeNewHeads"),
    ("unsubscribe_newHead", "chain_unsubscribeNewHeads"),
    ("chain_unsubscribeNewHead", "chain_unsubscribeNewHeads"),
    (
        "chain_subscribeFinalisedHeads",
        "chain_subscribeFinalizedHeads",
    ),
    (
        "chain_unsubscribeFinalisedHeads",
        "chain_unsubscribeFinalizedHeads",
    ),
    (
        "chain_subscribeRuntimeVersion",
        "state_subscribeRuntimeVersion",
    ),
    (
        "chain_unsubscribeRuntimeVersion",
        "state_unsubscribeRuntimeVersion",
    ),
    ("state_callAt", "state_call"),
    ("state_getKeysPagedAt", "state_getKeysPaged"),
    ("state_getStorageHashAt", "state_getStorageHash"),
    ("state_getStorageSizeAt", "state_getStorageSize"),
    ("account_nextIndex", "system_accountNextIndex"),
];

/// The devnet's fee rule (it models no transaction fees): every extrinsic weighs
/// `FEE_WEIGHT_REF_TIME` (proof size 0, class `Normal`) and pays `FEE_WEIGHT_RAO` as its
/// adjusted weight fee, with no base, length or tip part.
pub const FEE_WEIGHT_REF_TIME: u64 = 1_000_000_000;
/// The constant weight fee, in rao (0.0001 TAO).
pub const FEE_WEIGHT_RAO: u64 = crate::tx::FEE_RAO;

/// Checks that `xt` is one SCALE-encoded extrinsic (compact length, then a v4 or v5
/// body), as `Block::Extrinsic::decode` does in a node.
fn check_extrinsic(xt: &[u8]) -> Result<(), String> {
    let mut rest = xt;
    let len = Compact::<u32>::decode(&mut rest)
        .map_err(|e| e.to_string())?
        .0 as usize;
    if rest.len() != len {
        return Err(format!(
            "Error {{ cause: None, desc: \"extrinsic length {len} does not match the {} bytes given\" }}",
            rest.len()
        ));
    }
    match rest.first().map(|v| v & 0x3f) {
        Some(4 | 5) => Ok(()),
        Some(v) => Err(format!(
            "Error {{ cause: None, desc: \"Invalid transaction version {v}\" }}"
        )),
        None => Err("Error { cause: None, desc: \"empty extrinsic\" }".into()),
    }
}

fn payment_arg(args: &[Json], desc: &'static str) -> RpcResult<Vec<u8>> {
    let xt = match arg(args, 0) {
        Json::String(x) => parse_hex(x, "extrinsic")?,
        _ => return Err(invalid_params("extrinsic must be a hex string")),
    };
    // `Error::DecodeError` = 2 in `pallet-transaction-payment-rpc`.
    check_extrinsic(&xt).map_err(|e| ErrorObject::owned(2, desc, Some(e)))?;
    Ok(xt)
}

/// `TransactionPaymentApi_query_info` / `_query_fee_details` by the fee rule, encoded
/// with the metadata's output type; None for other methods.
pub(super) fn runtime_fee_call(
    md: &ChainMetadata,
    method: &str,
    input: &[u8],
) -> Option<Result<Vec<u8>, DevnetError>> {
    if !crate::modelled::RPC_RUNTIME_APIS.contains(&method) {
        return None;
    }
    let info = md.runtime_api(method)?;
    let out = info.output;
    Some((|| {
        let mut rest = input;
        let len = Compact::<u32>::decode(&mut rest)
            .map_err(|e| DevnetError::Decode(format!("{method}: uxt: {e}")))?
            .0 as usize;
        if rest.len() != len + 4 || !matches!(rest.first().map(|v| v & 0x3f), Some(4 | 5)) {
            return Err(DevnetError::Decode(format!(
                "{method}: expected an extrinsic then its u32 length"
            )));
        }
        let value = if method.ends_with("query_info") {
            let weight = Value::named_composite([
                ("ref_time", num(FEE_WEIGHT_REF_TIME)),
                ("proof_size", num(0u8)),
            ]);
            default_value(
                md.types(),
                out,
                &[("weight", weight), ("partial_fee", num(FEE_WEIGHT_RAO))],
            )?
        } else {
            let inclusion = Value::named_composite([
                ("base_fee", num(0u8)),
                ("len_fee", num(0u8)),
                ("adjusted_weight_fee", num(FEE_WEIGHT_RAO)),
            ]);
            Value::named_composite([
                ("inclusion_fee", Value::unnamed_variant("Some", [inclusion])),
                ("tip", num(0u8)),
            ])
        };
        encode(md.types(), out, &value)
    })())
}

/// An SS58 address (any prefix) or `0x` hex as an account id.
fn parse_ss58(s: &str) -> Result<[u8; 32], String> {
    if s.starts_with("0x") {
        return crate::model::parse_account(s);
    }
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes: Vec<u8> = vec![];
    for c in s.bytes() {
        let mut carry = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or_else(|| format!("{s:?} is not an SS58 address (bad character)"))?
            as u32;
        for b in bytes.iter_mut().rev() {
            carry += (*b as u32) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|c| *c == b'1').count();
    let mut data = vec![0u8; zeros];
    data.extend(bytes);
    let prefix_len = match data.first() {
        Some(0..=63) => 1,
        Some(64..=127) => 2,
        _ => return Err(format!("{s:?} is not an SS58 address (prefix)")),
    };
    if data.len() != prefix_len + 32 + 2 {
        return Err(format!("{s:?} is not a 32-byte SS58 address"));
    }
    let body = &data[..prefix_len + 32];
    let mut pre = b"SS58PRE".to_vec();
    pre.extend_from_slice(body);
    if sp_crypto_hashing::blake2_512(&pre)[..2] != data[prefix_len + 32..] {
        return Err(format!("{s:?} is not an SS58 address (checksum)"));
    }
    Ok(body[prefix_len..].try_into().expect("32 bytes"))
}

/// The storage key list of `state_queryStorage(At)`.
fn keys_arg(v: &Json) -> RpcResult<Vec<Vec<u8>>> {
    let keys: Vec<String> =
        serde_json::from_value(v.clone()).map_err(|e| invalid_params(format!("keys: {e}")))?;
    keys.iter().map(|k| parse_hex(k, "storage key")).collect()
}

/// `StateError::InvalidBlockRange` (code 4001).
fn range_err(from: &Hash, to: &Hash, details: &str) -> ErrorObjectOwned {
    ErrorObject::owned(
        4001,
        format!(
            "Cannot resolve a block range ['{}' ... '{}]. {details}",
            hex0x(from),
            hex0x(to)
        ),
        None::<()>,
    )
}

/// `state_queryStorage`: from `from` to `to` (default best) along `to`'s ancestry, the
/// first block with every key, then each block where a key changed, with those keys
/// (`query_storage_unfiltered` in `substrate/client/rpc/src/state/state_full.rs`).
fn query_storage(s: &Shared, args: &[Json]) -> RpcResult<Json> {
    let keys = keys_arg(arg(args, 0))?;
    let from = parse_hash(arg(args, 1), "from block hash")?
        .ok_or_else(|| invalid_params("from block hash is required"))?;
    let to = parse_hash(arg(args, 2), "to block hash")?;
    let chain = read(s)?;
    let to_block = chain.resolve(to).map_err(client_err)?;
    let Some(from_block) = chain.block(&from) else {
        return Err(range_err(&from, &to_block.hash, "UnknownBlock: from block"));
    };
    if from_block.number > to_block.number {
        return Err(range_err(
            &from,
            &to_block.hash,
            &format!(
                "from number > to number: {} > {}",
                from_block.number, to_block.number
            ),
        ));
    }
    let mut range = vec![to_block.clone()];
    while range.last().is_some_and(|b| b.number > from_block.number) {
        let parent = range
            .last()
            .map(|b| b.header.parent_hash)
            .unwrap_or_default();
        let b = chain
            .block(&parent)
            .ok_or_else(|| range_err(&from, &to_block.hash, "UnknownBlock: parent"))?;
        range.push(b);
    }
    if range.last().map(|b| b.hash) != Some(from) {
        return Err(range_err(
            &from,
            &to_block.hash,
            "from block is not an ancestor of to block",
        ));
    }
    range.reverse();
    let mut last: Vec<Option<Option<Vec<u8>>>> = vec![None; keys.len()];
    let mut out = vec![];
    for b in range {
        let state = chain.state_at(&b.hash).map_err(client_err)?;
        let view = StorageView {
            md: &b.runtime.md,
            state: &state,
            block: &b,
        };
        let mut changes = vec![];
        for (i, k) in keys.iter().enumerate() {
            let now = get(&view, k, s.strict)?;
            if last[i].as_ref() != Some(&now) {
                changes.push(json!([hex0x(k), now.as_ref().map(|v| hex0x(v))]));
                last[i] = Some(now);
            }
        }
        if !changes.is_empty() {
            out.push(json!({ "block": hex0x(&b.hash), "changes": changes }));
        }
    }
    Ok(Json::Array(out))
}

/// Registers the methods.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    // A lone full node: no peers, synced to its own head.
    for name in [
        "system_peers",
        "system_reservedPeers",
        "system_localListenAddresses",
    ] {
        m.register_method(name, |_, _, _| Vec::<String>::new())
            .map_err(reg)?;
    }
    m.register_method("system_nodeRoles", |_, _, _| vec!["Full"])
        .map_err(reg)?;
    m.register_method("system_syncState", |_, s, _| -> RpcResult<Json> {
        let head = read(s)?.head().number;
        Ok(json!({ "startingBlock": 0, "currentBlock": head, "highestBlock": head }))
    })
    .map_err(reg)?;
    m.register_method("system_accountNextIndex", |p, s, _| -> RpcResult<u32> {
        let args = positional(&p)?;
        let who = match arg(&args, 0) {
            Json::String(a) => parse_ss58(a).map_err(invalid_params)?,
            _ => return Err(invalid_params("account must be an SS58 address")),
        };
        // The nonce in `System.Account` at the best block (`AccountNonceApi`), past
        // the account's transactions in the pool (`substrate/utils/frame/rpc/system`).
        Ok(read(s)?.next_index(&who))
    })
    .map_err(reg)?;
    m.register_method("payment_queryInfo", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        payment_arg(&args, "Unable to query dispatch info.")?;
        with_view(s, arg(&args, 1), |_| {
            // `RuntimeDispatchInfo` serialized: camelCase, `partialFee` a decimal
            // string, `Weight` with its own snake_case fields.
            Ok(json!({
                "weight": { "ref_time": FEE_WEIGHT_REF_TIME, "proof_size": 0 },
                "class": "normal",
                "partialFee": FEE_WEIGHT_RAO.to_string(),
            }))
        })
    })
    .map_err(reg)?;
    m.register_method("payment_queryFeeDetails", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        payment_arg(&args, "Unable to query fee details.")?;
        with_view(s, arg(&args, 1), |_| {
            // `FeeDetails<NumberOrHex>`: u64 balances are JSON numbers, `tip` skipped.
            Ok(json!({
                "inclusionFee": {
                    "baseFee": 0,
                    "lenFee": 0,
                    "adjustedWeightFee": FEE_WEIGHT_RAO,
                }
            }))
        })
    })
    .map_err(reg)?;
    m.register_method("state_queryStorage", |p, s, _| {
        query_storage(s, &positional(&p)?)
    })
    .map_err(reg)?;
    m.register_method("state_getStorageHash", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let key = keys_arg(&json!([arg(&args, 0)]))?.remove(0);
        with_view(s, arg(&args, 1), |v| {
            Ok(get(v, &key, s.strict)?
                .map(|b| json!(hex0x(&sp_crypto_hashing::blake2_256(&b))))
                .unwrap_or(Json::Null))
        })
    })
    .map_err(reg)?;
    m.register_method("state_getStorageSize", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let key = keys_arg(&json!([arg(&args, 0)]))?.remove(0);
        with_view(s, arg(&args, 1), |v| {
            Ok(get(v, &key, s.strict)?
                .map(|b| json!(b.len()))
                .unwrap_or(Json::Null))
        })
    })
    .map_err(reg)?;
    Ok(())
}

/// Registers `ALIASES` (after the methods they name).
pub(super) fn register_aliases(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    for (alias, method) in ALIASES {
        m.register_alias(alias, method).map_err(reg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss58_round_trip_of_alice() {
        // //Alice, generic prefix 42.
        let a = parse_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap();
        assert_eq!(
            hex::encode(a),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert!(parse_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ").is_err());
    }

    #[test]
    fn extrinsic_check() {
        assert!(check_extrinsic(&[0x08, 0x04, 0x00]).is_ok());
        assert!(check_extrinsic(&[0x08, 0x04]).is_err());
        assert!(check_extrinsic(&[0x04, 0x03]).is_err());
    }
}
