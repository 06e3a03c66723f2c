//! SCALE encoding driven by the metadata's type registry: model values become
//! `scale_value::Value`s encoded against the type ids the metadata gives for storage
//! keys, storage values and runtime API outputs (events: `crate::events`).

use scale_info::{PortableRegistry, TypeDef};
use scale_value::{Value, ValueDef};

use crate::error::{DevnetError, Result};
use crate::hashing::{concat_prefix_len, hash_key_part};
use crate::metadata::StorageEntryInfo;
use crate::model::AccountId;

pub use crate::events::{UpgradeEvent, encode_events, event_value};

/// Encodes `value` as the type `ty`.
pub fn encode(types: &PortableRegistry, ty: u32, value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    scale_value::scale::encode_as_type(value, ty, types, &mut out)
        .map_err(|e| DevnetError::Encode(format!("type {ty}: {e}")))?;
    Ok(out)
}

/// Decodes bytes of type `ty` into a value.
pub fn decode(types: &PortableRegistry, ty: u32, bytes: &mut &[u8]) -> Result<Value<u32>> {
    scale_value::scale::decode_as_type(bytes, ty, types)
        .map_err(|e| DevnetError::Decode(format!("type {ty}: {e}")))
}

/// An AccountId32 value.
pub fn account(a: &AccountId) -> Value {
    Value::from_bytes(a)
}

/// An unsigned number.
pub fn num(n: impl Into<u128>) -> Value {
    Value::u128(n.into())
}

/// One key part of a storage map: a number or an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPart {
    Num(u128),
    Account(AccountId),
}

impl KeyPart {
    fn to_value(self) -> Value {
        match self {
            KeyPart::Num(n) => Value::u128(n),
            KeyPart::Account(a) => account(&a),
        }
    }

    /// The number in this part.
    pub fn as_num(&self) -> Option<u128> {
        match self {
            KeyPart::Num(n) => Some(*n),
            KeyPart::Account(_) => None,
        }
    }

    /// The account in this part.
    pub fn as_account(&self) -> Option<AccountId> {
        match self {
            KeyPart::Account(a) => Some(*a),
            KeyPart::Num(_) => None,
        }
    }

    fn from_value(v: &Value<u32>) -> Option<KeyPart> {
        if let Some(n) = v.as_u128() {
            return Some(KeyPart::Num(n));
        }
        let mut bytes = Vec::with_capacity(32);
        collect_bytes(v, &mut bytes)?;
        bytes.try_into().ok().map(KeyPart::Account)
    }
}

fn collect_bytes(v: &Value<u32>, out: &mut Vec<u8>) -> Option<()> {
    match &v.value {
        ValueDef::Primitive(_) => {
            out.push(u8::try_from(v.as_u128()?).ok()?);
            Some(())
        }
        ValueDef::Composite(c) => {
            for x in c.values() {
                collect_bytes(x, out)?;
            }
            Some(())
        }
        _ => None,
    }
}

/// The full storage key for an entry and its key parts (fewer parts give a prefix).
pub fn storage_key(
    types: &PortableRegistry,
    info: &StorageEntryInfo,
    parts: &[KeyPart],
) -> Result<Vec<u8>> {
    if parts.len() > info.hashers.len() {
        return Err(DevnetError::Encode(format!(
            "{}::{} takes {} key parts, got {}",
            info.pallet,
            info.entry,
            info.hashers.len(),
            parts.len()
        )));
    }
    let mut key = info.prefix.to_vec();
    for (i, p) in parts.iter().enumerate() {
        let enc = encode(types, info.key_types[i], &p.to_value())?;
        hash_key_part(&info.hashers[i], &enc, &mut key);
    }
    Ok(key)
}

/// Decodes the key parts of a full storage key (all hashers must keep the key).
pub fn decode_storage_key(
    types: &PortableRegistry,
    info: &StorageEntryInfo,
    key: &[u8],
) -> Result<Vec<KeyPart>> {
    let mut rest = key
        .get(32..)
        .ok_or_else(|| DevnetError::Decode("storage key shorter than its 32-byte prefix".into()))?;
    let mut parts = Vec::with_capacity(info.hashers.len());
    for (h, ty) in info.hashers.iter().zip(&info.key_types) {
        let skip = concat_prefix_len(h).ok_or_else(|| {
            DevnetError::Decode(format!(
                "{}::{}: hasher {h:?} hides the key",
                info.pallet, info.entry
            ))
        })?;
        rest = rest
            .get(skip..)
            .ok_or_else(|| DevnetError::Decode("storage key truncated".into()))?;
        let v = decode(types, *ty, &mut rest)?;
        parts.push(
            KeyPart::from_value(&v)
                .ok_or_else(|| DevnetError::Decode("unsupported key type".into()))?,
        );
    }
    if !rest.is_empty() {
        return Err(DevnetError::Decode(format!(
            "{} trailing bytes after the storage key",
            rest.len()
        )));
    }
    Ok(parts)
}

/// The first type id whose path ends with `name` (for composite look-ups in tests).
pub fn type_by_name(types: &PortableRegistry, name: &str) -> Option<u32> {
    types
        .types
        .iter()
        .find(|t| t.ty.path.segments.last().is_some_and(|s| s == name))
        .map(|t| t.id)
}

/// Whether `ty` is a sequence type.
pub fn is_sequence(types: &PortableRegistry, ty: u32) -> bool {
    matches!(
        types.resolve(ty).map(|t| &t.type_def),
        Some(TypeDef::Sequence(_))
    )
}

/// A value of type `ty` with every field at its zero/first-variant default, except named
/// fields found in `overrides` (matched by field name at any depth).
pub fn default_value(
    types: &PortableRegistry,
    ty: u32,
    overrides: &[(&str, Value)],
) -> Result<Value> {
    default_inner(types, ty, overrides, 0)
}

fn default_inner(
    types: &PortableRegistry,
    ty: u32,
    ov: &[(&str, Value)],
    depth: usize,
) -> Result<Value> {
    use scale_info::TypeDefPrimitive as P;
    if depth > 32 {
        return Err(DevnetError::Encode(format!(
            "type {ty} nests too deeply for a default"
        )));
    }
    let t = types
        .resolve(ty)
        .ok_or_else(|| DevnetError::Encode(format!("unknown type id {ty}")))?;
    Ok(match &t.type_def {
        TypeDef::Composite(c) => {
            if c.fields.iter().all(|f| f.name.is_some()) && !c.fields.is_empty() {
                let mut vals = vec![];
                for f in &c.fields {
                    let name = f.name.clone().unwrap_or_default();
                    let v = match ov.iter().find(|(n, _)| *n == name) {
                        Some((_, v)) => v.clone(),
                        None => default_inner(types, f.ty.id, ov, depth + 1)?,
                    };
                    vals.push((name, v));
                }
                Value::named_composite(vals)
            } else {
                let mut vals = vec![];
                for f in &c.fields {
                    vals.push(default_inner(types, f.ty.id, ov, depth + 1)?);
                }
                Value::unnamed_composite(vals)
            }
        }
        TypeDef::Variant(v) => {
            let Some(first) = v.variants.iter().min_by_key(|x| x.index) else {
                return Err(DevnetError::Encode(format!("type {ty} is an empty enum")));
            };
            let mut vals = vec![];
            for f in &first.fields {
                vals.push(default_inner(types, f.ty.id, ov, depth + 1)?);
            }
            Value::unnamed_variant(first.name.clone(), vals)
        }
        TypeDef::Sequence(_) => Value::unnamed_composite([]),
        TypeDef::Array(a) => {
            let mut vals = vec![];
            for _ in 0..a.len {
                vals.push(default_inner(types, a.type_param.id, ov, depth + 1)?);
            }
            Value::unnamed_composite(vals)
        }
        TypeDef::Tuple(tt) => {
            let mut vals = vec![];
            for f in &tt.fields {
                vals.push(default_inner(types, f.id, ov, depth + 1)?);
            }
            Value::unnamed_composite(vals)
        }
        TypeDef::Primitive(p) => match p {
            P::Bool => Value::bool(false),
            P::Str => Value::string(""),
            P::Char => Value::char('0'),
            P::I8 | P::I16 | P::I32 | P::I64 | P::I128 | P::I256 => Value::i128(0),
            _ => Value::u128(0),
        },
        TypeDef::Compact(_) => Value::u128(0),
        TypeDef::BitSequence(_) => Value::bit_sequence(scale_value::BitSequence::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::ChainMetadata;

    fn md() -> std::sync::Arc<ChainMetadata> {
        ChainMetadata::finney().unwrap()
    }

    #[test]
    fn storage_keys_roundtrip() {
        let md = md();
        let info = md.storage("SubtensorModule", "AlphaV2").unwrap();
        let parts = [
            KeyPart::Account([1; 32]),
            KeyPart::Account([2; 32]),
            KeyPart::Num(5),
        ];
        let key = storage_key(md.types(), info, &parts).unwrap();
        assert_eq!(key.len(), 32 + 16 + 32 + 16 + 32 + 2);
        assert_eq!(
            decode_storage_key(md.types(), info, &key).unwrap(),
            parts.to_vec()
        );
        assert!(storage_key(md.types(), info, &[KeyPart::Num(1); 4]).is_err());
    }
}
