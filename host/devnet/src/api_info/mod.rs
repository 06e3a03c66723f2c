//! The runtime APIs behind the bittensor SDK's metagraph, neurons, subnet, hyperparameter,
//! delegate, stake and price reads (`state_call`, dispatched from `crate::runtime_api`).
//! Every output is built as a `scale_value::Value` against the metadata's own return
//! type and encoded with it: fields are filled by name from the model
//! (`crate::neuron_scores`); a field the model has nothing for (axon and prometheus
//! info, identities, names) keeps its zero / `None` default, listed in `DEFAULTED` and
//! checked by the tests.
//!
//! Shapes: subtensor v3.4.9-424 `pallets/subtensor/src/rpc_info/` (`neuron_info.rs`,
//! `metagraph.rs`, `subnet_info.rs`, `dynamic_info.rs`, `delegate_info.rs`,
//! `stake_info.rs`) and `pallets/swap/runtime-api`, as the metadata declares them.

mod neurons;
mod subnets;

use scale_info::TypeDef;
use scale_value::{Value, ValueDef};

use crate::encode::default_value;
use crate::error::{DevnetError, Result};
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, ChainState};

/// The `state_call` methods answered here.
pub const SERVED: &[&str] = &[
    "NeuronInfoRuntimeApi_get_neurons",
    "NeuronInfoRuntimeApi_get_neuron",
    "NeuronInfoRuntimeApi_get_neurons_lite",
    "NeuronInfoRuntimeApi_get_neuron_lite",
    "SubnetInfoRuntimeApi_get_metagraph",
    "SubnetInfoRuntimeApi_get_all_metagraphs",
    "SubnetInfoRuntimeApi_get_mechagraph",
    "SubnetInfoRuntimeApi_get_all_mechagraphs",
    "SubnetInfoRuntimeApi_get_dynamic_info",
    "SubnetInfoRuntimeApi_get_all_dynamic_info",
    "SubnetInfoRuntimeApi_get_subnet_info",
    "SubnetInfoRuntimeApi_get_subnets_info",
    "SubnetInfoRuntimeApi_get_subnet_info_v2",
    "SubnetInfoRuntimeApi_get_subnets_info_v2",
    "SubnetInfoRuntimeApi_get_subnet_hyperparams",
    "SubnetInfoRuntimeApi_get_subnet_hyperparams_v2",
    "SubnetInfoRuntimeApi_get_subnet_hyperparams_v3",
    "DelegateInfoRuntimeApi_get_delegates",
    "DelegateInfoRuntimeApi_get_delegate",
    "DelegateInfoRuntimeApi_get_delegated",
    "StakeInfoRuntimeApi_get_stake_info_for_coldkeys",
    "SwapRuntimeApi_current_alpha_price",
    "SwapRuntimeApi_current_alpha_price_all",
    "SwapRuntimeApi_sim_swap_tao_for_alpha",
    "SwapRuntimeApi_sim_swap_alpha_for_tao",
];

/// Output fields left at their type's zero / `None` default (the model has no data for
/// them), by type name.
pub const DEFAULTED: &[(&str, &[&str])] = &[
    ("NeuronInfo", &["axon_info", "prometheus_info"]),
    ("NeuronInfoLite", &["axon_info", "prometheus_info"]),
    (
        "Metagraph",
        &["name", "symbol", "identity", "subnet_volume"],
    ),
    (
        "DynamicInfo",
        &[
            "subnet_name",
            "token_symbol",
            "subnet_identity",
            "subnet_volume",
        ],
    ),
    (
        "SubnetInfo",
        &[
            "scaling_law_power",
            "network_modality",
            "network_connect",
            "emission_values",
        ],
    ),
    (
        "SubnetInfov2",
        &[
            "scaling_law_power",
            "network_modality",
            "network_connect",
            "emission_value",
            "identity",
        ],
    ),
];

/// Answers `method` if it is served here: `Some(value of type out)`.
pub fn call(
    md: &ChainMetadata,
    st: &ChainState,
    method: &str,
    args: &[Value<u32>],
    out: u32,
) -> Option<Result<Value>> {
    if !SERVED.contains(&method) {
        return None;
    }
    let cx = Cx {
        md,
        st,
        args,
        method,
    };
    Some(match method {
        m if m.starts_with("NeuronInfoRuntimeApi_") => neurons::neuron_api(&cx, out),
        "SubnetInfoRuntimeApi_get_metagraph"
        | "SubnetInfoRuntimeApi_get_all_metagraphs"
        | "SubnetInfoRuntimeApi_get_mechagraph"
        | "SubnetInfoRuntimeApi_get_all_mechagraphs" => neurons::metagraph_api(&cx, out),
        _ => subnets::call(&cx, out),
    })
}

/// One call's context.
pub(crate) struct Cx<'a> {
    pub md: &'a ChainMetadata,
    pub st: &'a ChainState,
    pub args: &'a [Value<u32>],
    pub method: &'a str,
}

impl Cx<'_> {
    /// Argument `i` as a number.
    pub fn num(&self, i: usize) -> Result<u128> {
        self.args.get(i).and_then(first_number).ok_or_else(|| {
            DevnetError::Decode(format!("{}: argument {i} is not a number", self.method))
        })
    }

    /// Argument `i` as a 32-byte account.
    pub fn account(&self, i: usize) -> Result<AccountId> {
        let mut bytes = vec![];
        if let Some(v) = self.args.get(i) {
            collect(v, &mut bytes);
        }
        bytes.try_into().map_err(|_| {
            DevnetError::Decode(format!("{}: argument {i} is not an account", self.method))
        })
    }

    /// Argument `i` as a list of accounts.
    pub fn accounts(&self, i: usize) -> Result<Vec<AccountId>> {
        let Some(ValueDef::Composite(c)) = self.args.get(i).map(|v| &v.value) else {
            return Err(DevnetError::Decode(format!(
                "{}: argument {i} is not a list",
                self.method
            )));
        };
        c.values()
            .map(|v| {
                let mut b = vec![];
                collect(v, &mut b);
                b.try_into()
                    .map_err(|_| DevnetError::Decode(format!("{}: not an account", self.method)))
            })
            .collect()
    }
}

fn collect(v: &Value<u32>, out: &mut Vec<u8>) {
    match &v.value {
        ValueDef::Composite(c) => c.values().for_each(|x| collect(x, out)),
        _ => {
            if let Some(n) = v.as_u128() {
                out.push(n as u8)
            }
        }
    }
}

fn first_number(v: &Value<u32>) -> Option<u128> {
    match &v.value {
        ValueDef::Composite(c) => c.values().next().and_then(first_number),
        _ => v.as_u128(),
    }
}

/// The type inside `Option<T>` or `Vec<T>`.
pub(crate) fn inner(md: &ChainMetadata, ty: u32) -> Result<u32> {
    let t = md
        .types()
        .resolve(ty)
        .ok_or_else(|| DevnetError::Metadata(format!("type {ty}")))?;
    match &t.type_def {
        TypeDef::Variant(v) => v
            .variants
            .iter()
            .find(|x| x.name == "Some")
            .and_then(|x| x.fields.first())
            .map(|f| f.ty.id),
        TypeDef::Sequence(s) => Some(s.type_param.id),
        _ => None,
    }
    .ok_or_else(|| DevnetError::Metadata(format!("type {ty} is not an Option or a Vec")))
}

/// The type of field `name` of composite `ty`.
pub(crate) fn field_type(md: &ChainMetadata, ty: u32, name: &str) -> Option<u32> {
    match &md.types().resolve(ty)?.type_def {
        TypeDef::Composite(c) => c
            .fields
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .map(|f| f.ty.id),
        _ => None,
    }
}

/// The last path segment of a type (its Rust name).
pub(crate) fn type_name(md: &ChainMetadata, ty: u32) -> String {
    md.types()
        .resolve(ty)
        .and_then(|t| t.path.segments.last().cloned())
        .unwrap_or_default()
}

/// Builds the composite `ty` with its named fields from `fields` (top level only; the
/// last entry of a name wins); a field not given takes its type's default and is
/// reported in the second value.
pub(crate) fn build(
    md: &ChainMetadata,
    ty: u32,
    fields: &[(&str, Value)],
) -> Result<(Value, Vec<String>)> {
    let t = md
        .types()
        .resolve(ty)
        .ok_or_else(|| DevnetError::Metadata(format!("type {ty}")))?;
    let TypeDef::Composite(c) = &t.type_def else {
        return Err(DevnetError::Metadata(format!("type {ty} is not a struct")));
    };
    let mut vals = vec![];
    let mut defaulted = vec![];
    for f in &c.fields {
        let name = f.name.clone().unwrap_or_default();
        // The last entry of a name wins (callers extend shared field lists).
        let v = match fields.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => v.clone(),
            None => {
                defaulted.push(name.clone());
                default_value(md.types(), f.ty.id, &[])?
            }
        };
        vals.push((name, v));
    }
    Ok((Value::named_composite(vals), defaulted))
}

/// `build`, checking that only the fields `DEFAULTED` lists for the type were left at
/// their defaults (a field the model should fill never silently reads zero).
pub(crate) fn build_checked(
    md: &ChainMetadata,
    ty: u32,
    fields: &[(&str, Value)],
) -> Result<Value> {
    let (v, defaulted) = build(md, ty, fields)?;
    let name = type_name(md, ty);
    let allowed: &[&str] = DEFAULTED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, l)| *l)
        .unwrap_or(&[]);
    let missing: Vec<&String> = defaulted
        .iter()
        .filter(|d| !allowed.contains(&d.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(DevnetError::Chain(format!(
            "the devnet does not model {name} fields {missing:?}"
        )));
    }
    Ok(v)
}

/// `Some(v)` / `None` values.
pub(crate) fn some(v: Value) -> Value {
    Value::unnamed_variant("Some", [v])
}

pub(crate) fn none() -> Value {
    Value::unnamed_variant("None", [])
}

/// A list value.
pub(crate) fn list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::unnamed_composite(items)
}

#[cfg(test)]
mod tests;
