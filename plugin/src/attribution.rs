//! Reward attribution: splits each position's change across an epoch into manual flows,
//! earnings that emission explains, and an unexplained residue.
//!
//! For a position: `net = after - before - manual_in + manual_out`. Earnings are the part
//! of a positive `net` that emission explains: up to the incentive credited to it (after
//! auto-stake redirection), or all of it when its hotkey's pool received dividends (pool
//! growth reaches every nominator pro rata, with no per-coldkey event), or when a root
//! claim credited it (`RootClaimed` carries no amount). What remains is `residue`, never
//! folded into earnings.

use crate::accounts::Accounts;
use crate::params::Params;
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

#[derive(Default)]
struct Acc {
    before: u64,
    after: u64,
    manual_in: u128,
    manual_out: u128,
    emission: u128,
}

/// (hotkey, coldkey): account indices, ordered as the strings are.
type Key = (u32, u32);

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

/// The accumulators of a call, one per position key, sorted by key.
struct Table {
    keys: Vec<Key>,
    acc: Vec<Acc>,
}

impl Table {
    /// The slot of `key`, which the table was built to hold.
    fn at(&mut self, key: Key) -> &mut Acc {
        let i = self
            .keys
            .binary_search(&key)
            .expect("a key the table holds");
        &mut self.acc[i]
    }
}

/// The key of the accumulator a flow in range adds to, if any.
fn flow_key(f: &Flow, accounts: &Accounts) -> Option<Key> {
    match f.kind {
        FlowKind::AlphaFee if accounts.is_none(f.hotkey) => None,
        FlowKind::Dividend | FlowKind::RootClaimed => None,
        _ => Some((f.hotkey, f.coldkey)),
    }
}

fn load(
    acc: &mut Table,
    list: &[Position],
    accounts: &Accounts,
    netuid: u16,
    which: &str,
    set: fn(&mut Acc, u64),
) -> Result<(), PolicyError> {
    for p in list {
        accounts.check(p.hotkey, "a position's hotkey")?;
        accounts.check(p.coldkey, "a position's coldkey")?;
    }
    let mut seen = vec![false; acc.keys.len()];
    for p in list.iter().filter(|p| p.netuid == netuid) {
        let key = (p.hotkey, p.coldkey);
        let i = acc.keys.binary_search(&key).expect("a key the table holds");
        if core::mem::replace(&mut seen[i], true) {
            return Err(error(
                ErrorCode::InvalidInput,
                format!(
                    "position ({}, {}) appears twice in `{which}`",
                    accounts.name(p.hotkey),
                    accounts.name(p.coldkey)
                ),
            ));
        }
        set(&mut acc.acc[i], p.alpha);
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
    let accounts = Accounts::new(&input.accounts)?;
    for f in &input.flows {
        accounts.check(f.hotkey, "a flow's hotkey")?;
        accounts.check(f.coldkey, "a flow's coldkey")?;
        if let Some(c) = f.counterparty {
            accounts.check(c, "a flow's counterparty")?;
        }
    }
    let netuid = input.netuid;
    let in_range = |f: &&Flow| {
        f.netuid == netuid && f.block > input.before_block && f.block <= input.after_block
    };
    // Every key an accumulator is made for: the positions' and the flows' in range.
    let mut keys: Vec<Key> = input
        .before
        .iter()
        .chain(&input.after)
        .filter(|p| p.netuid == netuid)
        .map(|p| (p.hotkey, p.coldkey))
        .chain(
            input
                .flows
                .iter()
                .filter(in_range)
                .filter_map(|f| flow_key(f, &accounts)),
        )
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut acc = Table {
        acc: keys.iter().map(|_| Acc::default()).collect(),
        keys,
    };
    load(
        &mut acc,
        &input.before,
        &accounts,
        netuid,
        "before",
        |a, v| a.before = v,
    )?;
    load(
        &mut acc,
        &input.after,
        &accounts,
        netuid,
        "after",
        |a, v| a.after = v,
    )?;

    let mut redirected: BTreeMap<Key, u128> = BTreeMap::new();
    let mut dividend_hotkeys: BTreeSet<u32> = BTreeSet::new();
    let mut coldkey_fees: BTreeMap<u32, u128> = BTreeMap::new();
    // (hotkey or the empty account, coldkey) of root claims: the empty account stands for
    // every hotkey of the coldkey.
    let mut root_claims: BTreeSet<Key> = BTreeSet::new();
    for f in input.flows.iter().filter(in_range) {
        let key = || (f.hotkey, f.coldkey);
        let alpha = f.alpha as u128;
        match f.kind {
            FlowKind::AlphaFee if accounts.is_none(f.hotkey) => {
                *coldkey_fees.entry(f.coldkey).or_default() += alpha;
            }
            FlowKind::Incentive => acc.at(key()).emission += alpha,
            FlowKind::AutoStaked => {
                acc.at(key()).emission += alpha;
                if let Some(miner) = f.counterparty {
                    *redirected.entry((miner, f.coldkey)).or_default() += alpha;
                }
            }
            FlowKind::Dividend => {
                dividend_hotkeys.insert(f.hotkey);
            }
            FlowKind::RootClaimed => {
                root_claims.insert((f.hotkey, f.coldkey));
            }
            kind => match manual_direction(kind) {
                1 => acc.at(key()).manual_in += alpha,
                _ => acc.at(key()).manual_out += alpha,
            },
        }
    }
    // Incentive that auto-stake sent elsewhere did not reach the miner's own position.
    for (key, alpha) in redirected {
        if let Ok(i) = acc.keys.binary_search(&key) {
            let a = &mut acc.acc[i];
            a.emission = a.emission.saturating_sub(alpha);
        }
    }
    let net =
        |a: &Acc| a.after as i128 - a.before as i128 - a.manual_in as i128 + a.manual_out as i128;
    // Fees that name no hotkey explain unexplained decreases of that coldkey's positions,
    // in hotkey order; what is left goes to its first position.
    for (coldkey, mut fee) in coldkey_fees {
        let mut first = None;
        let rows = acc.keys.iter().zip(acc.acc.iter_mut());
        for (key, a) in rows.filter(|(k, _)| k.1 == coldkey) {
            first.get_or_insert(*key);
            let take = (-net(a)).clamp(0, fee as i128) as u128;
            a.manual_out += take;
            fee -= take;
        }
        if let Some(key) = first {
            acc.at(key).manual_out += fee;
        }
    }

    let overflow = |what: &str, hotkey: u32, coldkey: u32| {
        error(
            ErrorCode::Overflow,
            format!(
                "{what} of position ({}, {}) does not fit its type",
                accounts.name(hotkey),
                accounts.name(coldkey)
            ),
        )
    };
    let every_hotkey = accounts.none();
    let mut out = Vec::with_capacity(acc.keys.len());
    for (&(hotkey, coldkey), a) in acc.keys.iter().zip(acc.acc) {
        let n = net(&a);
        let explained = match cap {
            EarnedCap::AnyGain => i128::MAX,
            EarnedCap::Explained if dividend_hotkeys.contains(&hotkey) => i128::MAX,
            EarnedCap::Explained
                if every_hotkey.is_some_and(|e| root_claims.contains(&(e, coldkey)))
                    || root_claims.contains(&(hotkey, coldkey)) =>
            {
                i128::MAX
            }
            EarnedCap::Explained => a.emission as i128,
        };
        let earned = n.clamp(0, explained);
        let residue = n - earned;
        let fit = |v: u128, what| u64::try_from(v).map_err(|_| overflow(what, hotkey, coldkey));
        out.push(PositionAttribution {
            netuid,
            before: a.before,
            after: a.after,
            manual_in: fit(a.manual_in, "manual-in")?,
            manual_out: fit(a.manual_out, "manual-out")?,
            earned: fit(earned as u128, "earned")?,
            residue: i64::try_from(residue).map_err(|_| overflow("residue", hotkey, coldkey))?,
            hotkey,
            coldkey,
        });
    }
    Ok(out)
}
