//! Block bodies: the timestamp inherent and each action as a v4 signed extrinsic whose
//! call, address, signature and transaction extensions are encoded with the metadata's
//! types, signed over the real signing payload (`crate::tx`): by the real key of a dev
//! account (`//Alice`, ...) or of a scenario name (`//name`); an account with no known key
//! (a `0x` account) gets a stand-in signature no key made, never all zeros (decoders such
//! as polkadot.js read an all-zero signature as an unsigned extrinsic).

use codec::{Compact, Encode};
use scale_value::{Composite, Value};

use crate::encode::{account, encode, num};
use crate::error::{DevnetError, Result};
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, Action};

fn call_value(md: &ChainMetadata, pallet: &str, call: &str, values: Vec<Value>) -> Result<Value> {
    let names = md
        .call_fields(pallet, call)
        .ok_or_else(|| DevnetError::Encode(format!("no call {pallet}::{call} in the metadata")))?;
    if names.len() != values.len() {
        return Err(DevnetError::Encode(format!(
            "call {pallet}::{call} takes {} arguments, the model gives {}",
            names.len(),
            values.len()
        )));
    }
    let fields = if names.iter().all(Option::is_some) {
        Composite::named(names.into_iter().flatten().zip(values))
    } else {
        Composite::unnamed(values)
    };
    Ok(Value::unnamed_variant(
        pallet,
        [Value::variant(call, fields)],
    ))
}

/// The `RuntimeCall` of an action (positional arguments as the pallet declares them).
pub fn action_call(md: &ChainMetadata, a: &Action) -> Result<Value> {
    let u = |x: u16| num(x);
    let (call, args) = match a {
        Action::AddStake {
            hotkey,
            netuid,
            tao,
            ..
        } => ("add_stake", vec![account(hotkey), u(*netuid), num(*tao)]),
        Action::RemoveStake {
            hotkey,
            netuid,
            alpha,
            ..
        } => (
            "remove_stake",
            vec![account(hotkey), u(*netuid), num(*alpha)],
        ),
        Action::UnstakeAll { hotkey, .. } => ("unstake_all", vec![account(hotkey)]),
        Action::MoveStake {
            origin_hotkey,
            dest_hotkey,
            origin_netuid,
            dest_netuid,
            alpha,
            ..
        } => (
            "move_stake",
            vec![
                account(origin_hotkey),
                account(dest_hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                num(*alpha),
            ],
        ),
        Action::TransferStake {
            dest_coldkey,
            hotkey,
            origin_netuid,
            dest_netuid,
            alpha,
            ..
        } => (
            "transfer_stake",
            vec![
                account(dest_coldkey),
                account(hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                num(*alpha),
            ],
        ),
        Action::SwapStake {
            hotkey,
            origin_netuid,
            dest_netuid,
            alpha,
            ..
        } => (
            "swap_stake",
            vec![
                account(hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                num(*alpha),
            ],
        ),
        Action::RecycleAlpha {
            hotkey,
            netuid,
            alpha,
            ..
        } => (
            "recycle_alpha",
            vec![account(hotkey), num(*alpha), u(*netuid)],
        ),
        Action::BurnAlpha {
            hotkey,
            netuid,
            alpha,
            ..
        } => ("burn_alpha", vec![account(hotkey), num(*alpha), u(*netuid)]),
        Action::RootClaim { netuid, .. } => {
            ("claim_root", vec![Value::unnamed_composite([u(*netuid)])])
        }
        Action::Register { hotkey, netuid, .. } => {
            ("burned_register", vec![u(*netuid), account(hotkey)])
        }
        Action::SetAutoStake { netuid, hotkey, .. } => (
            "set_coldkey_auto_stake_hotkey",
            vec![u(*netuid), account(hotkey)],
        ),
        Action::TransferStakeAndHotkey {
            dest_coldkey,
            origin_hotkey,
            dest_hotkey,
            origin_netuid,
            dest_netuid,
            alpha,
            ..
        } => (
            "transfer_stake_and_hotkey",
            vec![
                account(dest_coldkey),
                account(origin_hotkey),
                account(dest_hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                num(*alpha),
            ],
        ),
        Action::MoveStakeLimit {
            origin_hotkey,
            dest_hotkey,
            origin_netuid,
            dest_netuid,
            alpha,
            limit_price,
            allow_partial,
            ..
        } => (
            "move_stake_limit",
            vec![
                account(origin_hotkey),
                account(dest_hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                num(*alpha),
                num(*limit_price),
                Value::bool(*allow_partial),
            ],
        ),
        Action::AddCollateral {
            hotkey,
            netuid,
            alpha,
            limit_price,
            ..
        } => (
            "add_collateral",
            vec![u(*netuid), account(hotkey), num(*alpha), num(*limit_price)],
        ),
        Action::SetMinCollateral {
            hotkey,
            netuid,
            min_locked,
            ..
        } => (
            "set_min_collateral",
            vec![u(*netuid), account(hotkey), num(*min_locked)],
        ),
        Action::SetWeights {
            netuid,
            dests,
            weights,
            version_key,
            ..
        } => (
            "set_weights",
            vec![
                u(*netuid),
                Value::unnamed_composite(dests.iter().map(|x| num(*x))),
                Value::unnamed_composite(weights.iter().map(|x| num(*x))),
                num(*version_key),
            ],
        ),
        Action::SetScores { .. } | Action::SkipEpochs { .. } | Action::ChangeOwner { .. } => {
            return Err(DevnetError::Encode(
                "devnet knobs are not extrinsics".into(),
            ));
        }
    };
    call_value(md, "SubtensorModule", call, args)
}

/// `Sudo::sudo(System::set_code { code })`: how a runtime upgrade is submitted. `code` is
/// the devnet's placeholder for the wasm blob (`RuntimeProfile::code`).
pub fn set_code(md: &ChainMetadata, code: &[u8]) -> Result<Value> {
    let inner = call_value(md, "System", "set_code", vec![Value::from_bytes(code)])?;
    call_value(md, "Sudo", "sudo", vec![inner])
}

fn with_length(body: Vec<u8>) -> Vec<u8> {
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    out
}

/// The `Timestamp.set(now)` inherent as a bare v4 extrinsic.
pub fn timestamp_inherent(md: &ChainMetadata, now: u64) -> Result<Vec<u8>> {
    let call = call_value(md, "Timestamp", "set", vec![num(now)])?;
    let mut body = vec![0x04];
    body.extend(encode(md.types(), md.call_enum_type(), &call)?);
    Ok(with_length(body))
}

/// A v4 signed extrinsic from `signer` with `nonce`, carrying `call`, immortal, on the
/// chain whose genesis hash is `genesis`.
pub fn signed(
    md: &ChainMetadata,
    genesis: &[u8; 32],
    signer: &AccountId,
    nonce: u32,
    call: &Value,
) -> Result<Vec<u8>> {
    let call = encode(md.types(), md.call_enum_type(), call)?;
    let key = crate::tx::keys::dev_key_of(signer);
    crate::tx::sign_extrinsic_with(md, *genesis, *signer, nonce, &call, |payload| {
        let sig = match key {
            Some(kp) => crate::tx::keys::sign(kp, payload),
            None => {
                // No key: blake2_512 of the payload and signer, which no verifier accepts.
                let mut m = b"devnet: no key for this account".to_vec();
                m.extend_from_slice(signer);
                m.extend_from_slice(payload);
                sp_crypto_hashing::blake2_512(&m)
            }
        };
        ("Sr25519", sig)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_encode_as_signed_extrinsics() {
        let md = ChainMetadata::finney().unwrap();
        let a = Action::MoveStake {
            coldkey: [1; 32],
            origin_hotkey: [2; 32],
            dest_hotkey: [3; 32],
            origin_netuid: 1,
            dest_netuid: 2,
            alpha: 5,
        };
        let call = action_call(&md, &a).unwrap();
        let x = signed(&md, &[9; 32], &[1; 32], 7, &call).unwrap();
        // Compact length prefix, then the signed v4 marker; the signature is not zeros.
        assert_eq!(x[2], 0x84);
        assert!(x[3 + 33 + 1..3 + 33 + 1 + 64].iter().any(|b| *b != 0));
        // A dev account's extrinsic is signed for real: the devnet's check takes it.
        let alice = crate::tx::keys::dev_account("Alice");
        let y = signed(&md, &[9; 32], &alice, 0, &call).unwrap();
        let st = crate::model::ChainState::genesis(0, 12_000);
        let hash_at = |_: u64| Some([9u8; 32]);
        let ctx = crate::tx::Context {
            md: &md,
            state: &st,
            genesis: [9; 32],
            head: 5,
            hash_at: &hash_at,
        };
        let checked = crate::tx::check(&ctx, &y).unwrap();
        assert_eq!((checked.signer, checked.nonce), (alice, 0));
        let z = signed(&md, &[9; 32], &[1; 32], 0, &call).unwrap();
        assert_eq!(
            crate::tx::check(&ctx, &z).unwrap_err(),
            crate::tx::TxError::Invalid(crate::tx::BAD_PROOF.into())
        );
        let t = timestamp_inherent(&md, 1_700_000_000_000).unwrap();
        assert_eq!(t[1], 0x04);
        assert_eq!(t[2], md.pallet_index("Timestamp").unwrap());
        assert!(
            action_call(
                &md,
                &Action::SkipEpochs {
                    netuid: 1,
                    count: 1
                }
            )
            .is_err()
        );
    }
}
