//! Submitted transactions: a v4 signed extrinsic decoded with the metadata the head's
//! state holds (address, signature, each transaction extension and the call by the type
//! ids of the metadata's extrinsic info), its signature verified over the real signing
//! payload, and its call mapped to the model's `Action`.
//!
//! Read in paritytech/polkadot-sdk:
//! - `substrate/primitives/runtime/src/generic/unchecked_extrinsic.rs`: the v4 signed
//!   layout (`0x84`, address, signature, extension data, call) and `check`: the payload
//!   signed is `(call, explicit, implicit)` encoded, replaced by its `blake2_256` when
//!   longer than 256 bytes (`generic/checked_extrinsic.rs` / `SignedPayload::using_encoded`),
//!   verified before any extension validates (a bad signature is `BadProof`).
//! - `substrate/primitives/runtime/src/generic/era.rs`: `Era` encoding and `birth`.
//! - `substrate/frame/system/src/extensions/*`: the implicit data: `CheckSpecVersion`
//!   (spec_version), `CheckTxVersion` (transaction_version), `CheckGenesis` (block 0's
//!   hash), `CheckMortality` (the hash of the era's birth block, `AncientBirthBlock` if
//!   unknown); `substrate/frame/metadata-hash-extension`: `CheckMetadataHash` (`None`
//!   when the mode is `Disabled`).
//! - `substrate/client/rpc-api/src/author/error.rs`: the JSON-RPC errors (`TxError`).
//! - `substrate/primitives/runtime/src/transaction_validity.rs`: the `InvalidTransaction`
//!   texts.

pub mod calls;
pub mod keys;
#[cfg(test)]
pub(crate) mod tests;

use codec::{Compact, Decode, Encode};
use scale_value::{Value, ValueDef};

use crate::chain::Hash;
use crate::encode::{decode, encode, num};
use crate::hashing::blake2_256;
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, Action, ChainState};

/// The fee every transaction pays (the devnet's fee rule, as `payment_queryInfo`
/// reports it: a constant weight fee), in rao.
pub const FEE_RAO: u64 = 100_000;

/// `InvalidTransaction::BadProof`.
pub const BAD_PROOF: &str = "Transaction has a bad signature";
/// `InvalidTransaction::Stale`.
pub const STALE: &str = "Transaction is outdated";
/// `InvalidTransaction::Future`.
pub const FUTURE: &str = "Transaction will be valid in the future";
/// `InvalidTransaction::Payment`.
pub const PAYMENT: &str = "Inability to pay some fees (e.g. account balance too low)";
/// `InvalidTransaction::AncientBirthBlock`.
pub const ANCIENT: &str = "Transaction has an ancient birth block";
/// `InvalidTransaction::Call`.
pub const CALL: &str = "Transaction call is not expected";
/// `InvalidTransaction::IndeterminateImplicit`.
pub const IMPLICIT: &str = "The implicit data was unable to be calculated";

/// Why a submission is refused, as a node's author RPC answers it.
#[derive(Debug, Clone, PartialEq)]
pub enum TxError {
    /// 1001 `Extrinsic has invalid format: {codec error}`.
    BadFormat(String),
    /// 1010 `Invalid Transaction` with the `InvalidTransaction` text as data.
    Invalid(String),
    /// 1011 `Unknown Transaction Validity` (`UnknownTransaction` as data).
    Unknown(String),
    /// 1013 `Transaction Already Imported`.
    AlreadyImported(Hash),
    /// 1014: another transaction of the same signer and nonce is in the pool.
    TooLowPriority,
}

impl TxError {
    /// (code, message, data) as `impl From<Error> for ErrorObjectOwned` gives them.
    pub fn rpc_parts(&self) -> (i32, String, Option<String>) {
        match self {
            TxError::BadFormat(e) => (1001, format!("Extrinsic has invalid format: {e}"), None),
            TxError::Invalid(d) => (1010, "Invalid Transaction".into(), Some(d.clone())),
            TxError::Unknown(d) => (1011, "Unknown Transaction Validity".into(), Some(d.clone())),
            TxError::AlreadyImported(h) => (
                1013,
                "Transaction Already Imported".into(),
                Some(crate::chain::hex0x(h)),
            ),
            TxError::TooLowPriority => (
                1014,
                "Priority is too low: (0 vs 0)".into(),
                Some(
                    "The transaction has too low priority to replace another transaction \
                     already in the pool."
                        .into(),
                ),
            ),
        }
    }
}

/// What validation needs from the chain: the head's state and runtime, and block hashes.
pub struct Context<'a> {
    /// The metadata of the runtime the head's state holds (it validates the transaction).
    pub md: &'a ChainMetadata,
    pub state: &'a ChainState,
    pub genesis: Hash,
    /// The head's number: validation runs as block `head + 1`
    /// (`frame_executive::validate_transaction` initializes that block).
    pub head: u64,
    /// The best chain's hash at a number (`frame_system::BlockHash`).
    pub hash_at: &'a dyn Fn(u64) -> Option<Hash>,
}

/// A decoded, signature-checked transaction.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `blake2_256` of the extrinsic bytes (length prefix included): what
    /// `author_submitExtrinsic` returns.
    pub hash: Hash,
    pub bytes: Vec<u8>,
    pub signer: AccountId,
    pub nonce: u32,
    pub tip: u64,
    pub action: Action,
}

/// A `MultiSignature` as decoded.
enum Sig {
    Sr25519([u8; 64]),
    Ed25519([u8; 64]),
    /// `Ecdsa` (not verified by the devnet: refused as a bad signature) or malformed.
    Other,
}

fn variant(v: &Value<u32>) -> Option<(&str, Vec<&Value<u32>>)> {
    match &v.value {
        ValueDef::Variant(x) => Some((x.name.as_str(), x.values.values().collect())),
        _ => None,
    }
}

/// `Era::decode` and `Era::birth` (`sp_runtime::generic::Era`): None = immortal.
pub fn era_birth(era: &[u8], current: u64) -> Result<Option<u64>, String> {
    match era {
        [0] => Ok(None),
        [a, b] => {
            let encoded = *a as u64 + ((*b as u64) << 8);
            let period = 2u64 << (encoded % (1 << 4));
            let quantize = (period >> 12).max(1);
            let phase = (encoded >> 4) * quantize;
            if period < 4 || phase >= period {
                return Err("Invalid period and phase".into());
            }
            Ok(Some((current.max(phase) - phase) / period * period + phase))
        }
        _ => Err("Invalid era".into()),
    }
}

fn implicit(ctx: &Context, id: &str, ty: u32, explicit: &[u8]) -> Result<Vec<u8>, TxError> {
    let types = ctx.md.types();
    let rv = &ctx.md.runtime_version;
    let v = match id {
        "CheckSpecVersion" => num(rv.spec_version),
        "CheckTxVersion" => num(rv.transaction_version),
        "CheckGenesis" => Value::from_bytes(ctx.genesis),
        "CheckMortality" | "CheckEra" => {
            let birth = era_birth(explicit, ctx.head + 1).map_err(TxError::BadFormat)?;
            let hash = match birth {
                None => Some(ctx.genesis),
                Some(n) => (ctx.hash_at)(n),
            };
            Value::from_bytes(hash.ok_or_else(|| TxError::Invalid(ANCIENT.into()))?)
        }
        "CheckMetadataHash" => {
            // `Mode::Enabled` asks for the hash the runtime was built with; the devnet
            // has none, so (as a runtime built without it) the implicit is `None`.
            Value::unnamed_variant("None", [])
        }
        _ => Value::unnamed_composite([]),
    };
    encode(types, ty, &v).map_err(|_| TxError::Invalid(IMPLICIT.into()))
}

/// Verifies `sig` by `signer` over `payload` (`MultiSignature::verify`).
fn verify(sig: &Sig, signer: &AccountId, payload: &[u8]) -> bool {
    match sig {
        Sig::Sr25519(s) => subxt_signer::sr25519::verify(
            &subxt_signer::sr25519::Signature(*s),
            payload,
            &subxt_signer::sr25519::PublicKey(*signer),
        ),
        Sig::Ed25519(s) => ed25519_zebra::VerificationKey::try_from(*signer)
            .and_then(|k| k.verify(&ed25519_zebra::Signature::from_bytes(s), payload))
            .is_ok(),
        Sig::Other => false,
    }
}

/// The signing payload: `(call, explicit, implicit)`, hashed when over 256 bytes.
pub fn signing_payload(call: &[u8], explicit: &[u8], implicit: &[u8]) -> Vec<u8> {
    let mut p = call.to_vec();
    p.extend_from_slice(explicit);
    p.extend_from_slice(implicit);
    if p.len() > 256 {
        blake2_256(&p).to_vec()
    } else {
        p
    }
}

fn decode_err(what: &str) -> impl Fn(crate::DevnetError) -> TxError + '_ {
    move |e| TxError::BadFormat(format!("Could not decode `{what}`: {e}"))
}

/// Decodes a submitted extrinsic, verifies its signature and maps its call (not the
/// nonce against the pool, nor the payment: `crate::chain` does that).
pub fn check(ctx: &Context, xt: &[u8]) -> Result<Checked, TxError> {
    let md = ctx.md;
    let types = md.types();
    let mut rest = xt;
    let len = Compact::<u32>::decode(&mut rest)
        .map_err(|e| TxError::BadFormat(e.to_string()))?
        .0 as usize;
    if rest.len() != len {
        return Err(TxError::BadFormat(format!(
            "Input buffer has {} bytes after the length prefix, the prefix says {len}",
            rest.len()
        )));
    }
    let Some((&version, body)) = rest.split_first() else {
        return Err(TxError::BadFormat("Not enough data to fill buffer".into()));
    };
    rest = body;
    match version {
        0x84 => {}
        // A bare extrinsic that is no inherent: no `ValidateUnsigned` takes it.
        0x04 => return Err(TxError::Unknown("NoUnsignedValidator".into())),
        v => {
            return Err(TxError::BadFormat(format!(
                "Invalid transaction version: {v:#04x} (the devnet takes v4 signed)"
            )));
        }
    }
    let ext = &md.v16.extrinsic;
    let address = decode(types, ext.address_ty.id, &mut rest).map_err(decode_err("Address"))?;
    let signer: AccountId = match variant(&address) {
        Some(("Id", f)) if f.len() == 1 => calls::bytes_of(f[0])
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| TxError::BadFormat("Could not decode `AccountId32`".into()))?,
        // `MultiAddress::Index` etc. need a lookup the devnet does not have.
        _ => return Err(TxError::Unknown("CannotLookup".into())),
    };
    let signature =
        decode(types, ext.signature_ty.id, &mut rest).map_err(decode_err("Signature"))?;
    let sig = match variant(&signature) {
        Some((name, f)) if f.len() == 1 => {
            let b: Option<[u8; 64]> = calls::bytes_of(f[0]).and_then(|b| b.try_into().ok());
            match (name, b) {
                ("Sr25519", Some(b)) => Sig::Sr25519(b),
                ("Ed25519", Some(b)) => Sig::Ed25519(b),
                _ => Sig::Other,
            }
        }
        _ => Sig::Other,
    };
    let mut explicit = vec![];
    let mut implicit_bytes = vec![];
    let mut nonce = None;
    let mut tip = 0u64;
    for (id, ty, imp) in md.transaction_extension_types() {
        let before = rest;
        let v = decode(types, ty, &mut rest).map_err(decode_err(&id))?;
        let own = &before[..before.len() - rest.len()];
        explicit.extend_from_slice(own);
        let inner = match &v.value {
            ValueDef::Composite(c) => c.values().next().and_then(|x| x.as_u128()),
            _ => v.as_u128(),
        };
        match id.as_str() {
            "CheckNonce" => nonce = inner.and_then(|n| u32::try_from(n).ok()),
            "ChargeTransactionPayment" => {
                tip = inner.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
            }
            _ => {}
        }
        let era_bytes = if matches!(id.as_str(), "CheckMortality" | "CheckEra") {
            own
        } else {
            &[][..]
        };
        implicit_bytes.extend(implicit(ctx, &id, imp, era_bytes)?);
    }
    let call_bytes = rest;
    let mut call_rest = rest;
    let call =
        decode(types, md.call_enum_type(), &mut call_rest).map_err(decode_err("RuntimeCall"))?;
    if !call_rest.is_empty() {
        return Err(TxError::BadFormat(
            "Input buffer has still data left after decoding!".into(),
        ));
    }
    let payload = signing_payload(call_bytes, &explicit, &implicit_bytes);
    if !verify(&sig, &signer, &payload) {
        return Err(TxError::Invalid(BAD_PROOF.into()));
    }
    let nonce = nonce.ok_or_else(|| TxError::BadFormat("no CheckNonce extension".into()))?;
    let action = calls::call_action(ctx.state, signer, &call)
        .map_err(|e| TxError::Invalid(format!("{CALL}: {e}")))?;
    Ok(Checked {
        hash: blake2_256(xt),
        bytes: xt.to_vec(),
        signer,
        nonce,
        tip,
        action,
    })
}

/// Builds a v4 signed extrinsic of `call` (encoded) from `kp` with `nonce`, immortal,
/// tip 0, metadata hash disabled, signed over the real payload: how the devnet signs
/// (tests, scripted actions of dev accounts).
pub fn sign_extrinsic(
    md: &ChainMetadata,
    genesis: Hash,
    kp: &subxt_signer::sr25519::Keypair,
    nonce: u32,
    call: &[u8],
) -> crate::error::Result<Vec<u8>> {
    sign_extrinsic_with(md, genesis, kp.public_key().0, nonce, call, |p| {
        ("Sr25519", keys::sign(kp, p))
    })
}

/// As `sign_extrinsic` for any signer: `sign` gives the `MultiSignature` variant and
/// the 64 signature bytes over the payload.
pub fn sign_extrinsic_with(
    md: &ChainMetadata,
    genesis: Hash,
    signer: AccountId,
    nonce: u32,
    call: &[u8],
    sign: impl FnOnce(&[u8]) -> (&'static str, [u8; 64]),
) -> crate::error::Result<Vec<u8>> {
    let types = md.types();
    let mut explicit = vec![];
    let mut imp = vec![];
    for (id, ty, implicit_ty) in md.transaction_extension_types() {
        let v = match id.as_str() {
            "CheckNonce" => Value::unnamed_composite([num(nonce)]),
            _ => crate::encode::default_value(types, ty, &[])?,
        };
        let own = encode(types, ty, &v)?;
        let ctx_v = match id.as_str() {
            "CheckSpecVersion" => num(md.runtime_version.spec_version),
            "CheckTxVersion" => num(md.runtime_version.transaction_version),
            "CheckGenesis" | "CheckMortality" | "CheckEra" => Value::from_bytes(genesis),
            "CheckMetadataHash" => Value::unnamed_variant("None", []),
            _ => Value::unnamed_composite([]),
        };
        imp.extend(encode(types, implicit_ty, &ctx_v)?);
        explicit.extend(own);
    }
    let (scheme, sig) = sign(&signing_payload(call, &explicit, &imp));
    let ext = &md.v16.extrinsic;
    let mut body = vec![0x84];
    body.extend(encode(
        types,
        ext.address_ty.id,
        &Value::unnamed_variant("Id", [Value::from_bytes(signer)]),
    )?);
    body.extend(encode(
        types,
        ext.signature_ty.id,
        &Value::unnamed_variant(scheme, [Value::from_bytes(sig)]),
    )?);
    body.extend(explicit);
    body.extend_from_slice(call);
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    Ok(out)
}
