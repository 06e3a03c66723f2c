//! Owns which fields of which events the ingest reads, and the check of a runtime's
//! metadata against them. Fields are found by name where the metadata names them (new
//! runtimes), else by position (the tuple events of older runtimes). An appended or
//! unknown field, or an unknown event, never stops the ingest; only a field the ingest
//! needs that is missing or of another shape does, with an error that names the event,
//! the field and the spec version.

use std::collections::BTreeMap;

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

use super::ChainError;

/// The shape of a field as the ingest reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A 32-byte account (`AccountId32`, or a newtype of `[u8; 32]`).
    Account,
    /// An unsigned or signed integer, or a newtype of one (`NetUid(u16)`, `AlphaCurrency(u64)`).
    Number,
    /// A sequence of numbers.
    Numbers,
    /// Anything else (the ingest never reads such a field).
    Other,
}

/// One field the ingest reads: name, shape, and whether the event is unusable without it.
pub type FieldSpec = (&'static str, Shape, bool);

use Shape::{Account as A, Number as N, Numbers as V};

/// Fields, in their positional order (for unnamed metadata fields), of the events the
/// ingest reads. Only what is read is listed; fields after them may come and go.
pub const LAYOUTS: &[(&str, &[FieldSpec])] = &[
    (
        "StakeAdded",
        &[
            ("coldkey", A, true),
            ("hotkey", A, true),
            ("tao", N, true),
            ("alpha", N, true),
            ("netuid", N, true),
        ],
    ),
    (
        "StakeRemoved",
        &[
            ("coldkey", A, true),
            ("hotkey", A, true),
            ("tao", N, true),
            ("alpha", N, true),
            ("netuid", N, true),
        ],
    ),
    (
        "StakeMoved",
        &[
            ("coldkey", A, true),
            ("origin_hotkey", A, true),
            ("origin_netuid", N, true),
            ("dest_hotkey", A, true),
            ("dest_netuid", N, true),
        ],
    ),
    (
        "StakeTransferred",
        &[
            ("origin_coldkey", A, true),
            ("dest_coldkey", A, true),
            ("hotkey", A, true),
            ("origin_netuid", N, true),
            ("dest_netuid", N, true),
        ],
    ),
    (
        "StakeSwapped",
        &[
            ("coldkey", A, true),
            ("hotkey", A, true),
            ("origin_netuid", N, true),
            ("dest_netuid", N, true),
        ],
    ),
    (
        "AutoStakeAdded",
        &[
            ("netuid", N, true),
            ("destination", A, true),
            ("hotkey", A, true),
            ("owner", A, true),
            ("incentive", N, true),
        ],
    ),
    (
        "IncentiveAlphaEmittedToMiners",
        &[("netuid", N, true), ("emissions", V, true)],
    ),
    (
        "TransactionFeePaidWithAlpha",
        &[
            ("who", A, true),
            ("netuid", N, true),
            ("alpha_fee", N, true),
        ],
    ),
    (
        "AlphaRecycled",
        &[
            ("coldkey", A, true),
            ("hotkey", A, true),
            ("amount", N, true),
            ("netuid", N, true),
        ],
    ),
    (
        "AlphaBurned",
        &[
            ("coldkey", A, true),
            ("hotkey", A, true),
            ("amount", N, true),
            ("netuid", N, true),
        ],
    ),
    (
        "EpochDeferred",
        &[
            ("netuid", N, true),
            ("from_block", N, true),
            ("to_block", N, true),
        ],
    ),
    ("EpochSkipped", &[("netuid", N, true), ("block", N, true)]),
    // `{coldkey}` up to spec 440, `{coldkey, tao}` from 441.
    ("RootClaimed", &[("coldkey", A, true), ("tao", N, false)]),
    (
        "NeuronRegistered",
        &[("netuid", N, true), ("uid", N, true), ("hotkey", A, true)],
    ),
    // `NetworkRemoved(NetUid)` (unnamed); the 459 cleanup event is named.
    ("NetworkRemoved", &[("netuid", N, true)]),
    ("NetworkDissolveCleanupCompleted", &[("netuid", N, true)]),
    (
        "SubnetOwnerChanged",
        &[
            ("netuid", N, true),
            ("old_coldkey", A, false),
            ("new_coldkey", A, false),
        ],
    ),
    (
        "StakeAndHotkeyTransferred",
        &[
            ("origin_coldkey", A, true),
            ("destination_coldkey", A, true),
            ("origin_hotkey", A, true),
            ("destination_hotkey", A, true),
            ("origin_netuid", N, true),
            ("destination_netuid", N, true),
            ("amount", N, false),
        ],
    ),
];

/// Events without which the ingest cannot tell flows or epochs apart.
const REQUIRED: &[&str] = &[
    "StakeAdded",
    "StakeRemoved",
    "StakeMoved",
    "StakeTransferred",
    "StakeSwapped",
    "IncentiveAlphaEmittedToMiners",
    "NeuronRegistered",
];

/// An event's fields as the metadata declares them: (name, shape).
pub type MetaFields = Vec<(Option<String>, Shape)>;

/// The layout the ingest reads an event with: field name -> (position, shape).
pub fn layout(name: &str) -> Option<&'static [FieldSpec]> {
    LAYOUTS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// The shape of metadata type `id`.
pub fn shape_of(types: &PortableRegistry, id: u32) -> Shape {
    shape_at(types, id, 0)
}

fn shape_at(types: &PortableRegistry, id: u32, depth: u8) -> Shape {
    let Some(ty) = types.resolve(id) else {
        return Shape::Other;
    };
    if depth > 8 {
        return Shape::Other;
    }
    match &ty.type_def {
        TypeDef::Composite(c) if c.fields.len() == 1 => {
            shape_at(types, c.fields[0].ty.id, depth + 1)
        }
        TypeDef::Array(a)
            if a.len == 32
                && matches!(
                    types.resolve(a.type_param.id).map(|t| &t.type_def),
                    Some(TypeDef::Primitive(TypeDefPrimitive::U8))
                ) =>
        {
            Shape::Account
        }
        TypeDef::Primitive(p) => match p {
            TypeDefPrimitive::Bool | TypeDefPrimitive::Char | TypeDefPrimitive::Str => Shape::Other,
            TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => Shape::Other,
            _ => Shape::Number,
        },
        TypeDef::Compact(c) => match shape_at(types, c.type_param.id, depth + 1) {
            Shape::Number => Shape::Number,
            _ => Shape::Other,
        },
        TypeDef::Sequence(s) => match shape_at(types, s.type_param.id, depth + 1) {
            Shape::Number => Shape::Numbers,
            _ => Shape::Other,
        },
        _ => Shape::Other,
    }
}

/// Which events of this runtime the ingest can read, checked against `fields` (the
/// metadata's events by name). Errors only when a field the ingest needs changed.
pub fn check(fields: &BTreeMap<String, MetaFields>, spec: u32) -> Result<(), ChainError> {
    for (name, layout) in LAYOUTS {
        let Some(have) = fields.get(*name) else {
            if REQUIRED.contains(name) {
                return Err(ChainError::MissingMetadata(format!(
                    "event SubtensorModule.{name} (runtime spec {spec})"
                )));
            }
            continue;
        };
        let named = have.iter().any(|(n, _)| n.is_some());
        for (pos, (field, want, needed)) in layout.iter().enumerate() {
            let found = if named {
                have.iter().find(|(n, _)| n.as_deref() == Some(*field))
            } else {
                have.get(pos)
            };
            let what_to_do = "this runtime changed an event the tracker reads: update vesting \
                 (docs/runtimes.md says how a runtime is added)";
            match found {
                None if !*needed => {}
                None => {
                    return Err(ChainError::Metadata(format!(
                        "event {name} in runtime spec {spec} has no field `{field}` ({} fields: {}); {what_to_do}",
                        have.len(),
                        describe(have)
                    )));
                }
                Some((_, got)) if got != want => {
                    return Err(ChainError::Metadata(format!(
                        "event {name} in runtime spec {spec}: field `{field}` is {got:?}, the tracker reads it as {want:?}; {what_to_do}"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

fn describe(have: &MetaFields) -> String {
    have.iter()
        .enumerate()
        .map(|(i, (n, s))| match n {
            Some(n) => format!("{n}: {s:?}"),
            None => format!("#{i}: {s:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unnamed(shapes: &[Shape]) -> MetaFields {
        shapes.iter().map(|s| (None, *s)).collect()
    }

    fn named(f: &[(&str, Shape)]) -> MetaFields {
        f.iter().map(|(n, s)| (Some(n.to_string()), *s)).collect()
    }

    fn base() -> BTreeMap<String, MetaFields> {
        let mut m = BTreeMap::new();
        for (name, layout) in LAYOUTS {
            if REQUIRED.contains(name) {
                m.insert(
                    name.to_string(),
                    unnamed(&layout.iter().map(|f| f.1).collect::<Vec<_>>()),
                );
            }
        }
        m
    }

    #[test]
    fn appended_fields_and_new_events_are_accepted() {
        let mut m = base();
        // Spec 441: RootClaimed gained `tao`.
        m.insert("RootClaimed".into(), named(&[("coldkey", A), ("tao", N)]));
        // A field appended to a positional event, and an event nobody reads.
        m.get_mut("StakeAdded").unwrap().push((None, N));
        m.get_mut("StakeAdded").unwrap().push((None, Shape::Other));
        m.insert(
            "BasketAlphaWrittenOff".into(),
            named(&[("x", Shape::Other)]),
        );
        check(&m, 459).unwrap();
        // Spec 424's one-field RootClaimed too.
        m.insert("RootClaimed".into(), named(&[("coldkey", A)]));
        check(&m, 424).unwrap();
    }

    #[test]
    fn a_needed_field_missing_or_reshaped_is_named() {
        let mut m = base();
        m.insert("RootClaimed".into(), named(&[("tao", N)]));
        let e = check(&m, 460).unwrap_err().to_string();
        assert!(
            e.contains("RootClaimed") && e.contains("`coldkey`") && e.contains("spec 460"),
            "{e}"
        );
        let mut m = base();
        m.insert("IncentiveAlphaEmittedToMiners".into(), unnamed(&[N, N]));
        let e = check(&m, 470).unwrap_err().to_string();
        assert!(e.contains("`emissions`") && e.contains("Number"), "{e}");
        let mut m = base();
        m.remove("StakeMoved");
        let e = check(&m, 470).unwrap_err().to_string();
        assert!(e.contains("StakeMoved") && e.contains("470"), "{e}");
    }
}
