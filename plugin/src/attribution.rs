//! Reward attribution: splits each position's change across an epoch into manual flows,
//! earnings that emission explains, and an unexplained residue.
//!
//! For a position: `net = after - before - manual_in + manual_out`. Earnings are the part
//! of a positive `net` that emission explains: up to the incentive credited to it (after
//! auto-stake redirection), or all of it when its hotkey's pool received dividends (pool
//! growth reaches every nominator pro rata, with no per-coldkey event), or when a root
//! claim credited it (`RootClaimed` carries no amount). What remains is `residue`, never
//! folded into earnings.

use crate::params::Params;
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Default)]
struct Acc {
    before: u64,
    after: u64,
    manual_in: u128,
    manual_out: u128,
    emission: u128,
}

type Key = (String, String);

/// Whether a flow kind moves alpha in (+1), out (-1) by hand, or is not manual (0).
pub fn manual_direction(kind: FlowKind) -> i8 {
    match kind {
        FlowKind::Added | FlowKind::MovedIn | FlowKind::TransferredIn | FlowKind::SwappedIn => 1,
        FlowKind::Removed
        | FlowKind::MovedOut
        | FlowKind::TransferredOut
        | FlowKind::SwappedOut
        | FlowKind::AlphaFee
        | FlowKind::Recycled
        | FlowKind::Burned => -1,
        FlowKind::Incentive | FlowKind::AutoStaked | FlowKind::Dividend | FlowKind::RootClaimed => {
            0
        }
    }
}

fn load(
    acc: &mut BTreeMap<Key, Acc>,
    list: &[Position],
    netuid: u16,
    which: &str,
    set: fn(&mut Acc, u64),
) -> Result<(), PolicyError> {
    let mut seen = BTreeSet::new();
    for p in list.iter().filter(|p| p.netuid == netuid) {
        let key = (p.hotkey.clone(), p.coldkey.clone());
        if !seen.insert(key.clone()) {
            return Err(error(
                ErrorCode::InvalidInput,
                format!(
                    "position ({}, {}) appears twice in `{which}`",
                    p.hotkey, p.coldkey
                ),
            ));
        }
        set(acc.entry(key).or_default(), p.alpha);
    }
    Ok(())
}

/// How the earned part of a position's net change is bounded.
pub enum EarnedCap {
    /// Earnings are only what emission explains (the default policy).
    Explained,
    /// Any net gain counts as earned (residue is only ever negative).
    AnyGain,
}

/// Attribution with the default policy's rule ([`EarnedCap::Explained`]).
pub fn attribute(
    params: &Params,
    input: &AttributionInput,
) -> Result<Vec<PositionAttribution>, PolicyError> {
    attribute_with(params, input, EarnedCap::Explained)
}

/// Attribution with a chosen bound on earnings.
pub fn attribute_with(
    _params: &Params,
    input: &AttributionInput,
    cap: EarnedCap,
) -> Result<Vec<PositionAttribution>, PolicyError> {
    if input.after_block < input.before_block {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "after-block {} is before before-block {}",
                input.after_block, input.before_block
            ),
        ));
    }
    let netuid = input.netuid;
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    load(&mut acc, &input.before, netuid, "before", |a, v| {
        a.before = v
    })?;
    load(&mut acc, &input.after, netuid, "after", |a, v| a.after = v)?;

    let mut redirected: BTreeMap<Key, u128> = BTreeMap::new();
    let mut dividend_hotkeys: BTreeSet<&str> = BTreeSet::new();
    let mut coldkey_fees: BTreeMap<&str, u128> = BTreeMap::new();
    // (hotkey or "", coldkey) of root claims: "" stands for every hotkey of the coldkey.
    let mut root_claims: BTreeSet<(&str, &str)> = BTreeSet::new();
    let in_range = |f: &&Flow| {
        f.netuid == netuid && f.block > input.before_block && f.block <= input.after_block
    };
    for f in input.flows.iter().filter(in_range) {
        let key = || (f.hotkey.clone(), f.coldkey.clone());
        let alpha = f.alpha as u128;
        match f.kind {
            FlowKind::AlphaFee if f.hotkey.is_empty() => {
                *coldkey_fees.entry(f.coldkey.as_str()).or_default() += alpha;
            }
            FlowKind::Incentive => acc.entry(key()).or_default().emission += alpha,
            FlowKind::AutoStaked => {
                acc.entry(key()).or_default().emission += alpha;
                if let Some(miner) = &f.counterparty {
                    *redirected
                        .entry((miner.clone(), f.coldkey.clone()))
                        .or_default() += alpha;
                }
            }
            FlowKind::Dividend => {
                dividend_hotkeys.insert(f.hotkey.as_str());
            }
            FlowKind::RootClaimed => {
                root_claims.insert((f.hotkey.as_str(), f.coldkey.as_str()));
            }
            kind => match manual_direction(kind) {
                1 => acc.entry(key()).or_default().manual_in += alpha,
                _ => acc.entry(key()).or_default().manual_out += alpha,
            },
        }
    }
    // Incentive that auto-stake sent elsewhere did not reach the miner's own position.
    for (key, alpha) in redirected {
        if let Some(a) = acc.get_mut(&key) {
            a.emission = a.emission.saturating_sub(alpha);
        }
    }
    let net =
        |a: &Acc| a.after as i128 - a.before as i128 - a.manual_in as i128 + a.manual_out as i128;
    // Fees that name no hotkey explain unexplained decreases of that coldkey's positions,
    // in hotkey order; what is left goes to its first position.
    for (coldkey, mut fee) in coldkey_fees {
        let mut first = None;
        for (key, a) in acc.iter_mut().filter(|(k, _)| k.1 == coldkey) {
            first.get_or_insert(key.clone());
            let take = (-net(a)).clamp(0, fee as i128) as u128;
            a.manual_out += take;
            fee -= take;
        }
        if let Some(a) = first.and_then(|key| acc.get_mut(&key)) {
            a.manual_out += fee;
        }
    }

    let overflow = |what: &str, hotkey: &str, coldkey: &str| {
        error(
            ErrorCode::Overflow,
            format!("{what} of position ({hotkey}, {coldkey}) does not fit its type"),
        )
    };
    let mut out = Vec::with_capacity(acc.len());
    for ((hotkey, coldkey), a) in acc {
        let n = net(&a);
        let explained = match cap {
            EarnedCap::AnyGain => i128::MAX,
            EarnedCap::Explained if dividend_hotkeys.contains(hotkey.as_str()) => i128::MAX,
            EarnedCap::Explained
                if root_claims.contains(&("", coldkey.as_str()))
                    || root_claims.contains(&(hotkey.as_str(), coldkey.as_str())) =>
            {
                i128::MAX
            }
            EarnedCap::Explained => a.emission as i128,
        };
        let earned = n.clamp(0, explained);
        let residue = n - earned;
        let fit = |v: u128, what| u64::try_from(v).map_err(|_| overflow(what, &hotkey, &coldkey));
        out.push(PositionAttribution {
            netuid,
            before: a.before,
            after: a.after,
            manual_in: fit(a.manual_in, "manual-in")?,
            manual_out: fit(a.manual_out, "manual-out")?,
            earned: fit(earned as u128, "earned")?,
            residue: i64::try_from(residue).map_err(|_| overflow("residue", &hotkey, &coldkey))?,
            hotkey,
            coldkey,
        });
    }
    Ok(out)
}
