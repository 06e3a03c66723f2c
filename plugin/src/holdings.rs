//! Holding metrics per holder: what it earned in the retention window, how much of that
//! counts as held, for how long it has held (remaining-weighted age), and its stake.

use crate::accounts::Accounts;
use crate::fixed::{ONE, div_rem, mul_div, mul_wide};
use crate::ledger::{Schedule, check_tranche};
use crate::params::Params;
use crate::tranches::{self, HolderLedger, Tranche, TrancheKind, WIDTH};
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// The metrics of one ledger at `block`; `accounts` names its holder in errors.
pub fn holding(
    params: &Params,
    accounts: &Accounts,
    ledger: &HolderLedger,
    block: u64,
) -> Result<Holding, PolicyError> {
    holding_of(
        params,
        accounts,
        ledger.holder,
        ledger.tranches.iter().cloned(),
        block,
    )
}

/// [`holding`] of `holder`'s tranches, oldest first.
fn holding_of(
    params: &Params,
    accounts: &Accounts,
    holder: u32,
    tranches: impl Iterator<Item = Tranche>,
    block: u64,
) -> Result<Holding, PolicyError> {
    let window = params.window_blocks();
    let sched = Schedule::of(params);
    // Sums of u64s in u64s, with one flag for any that overflowed: a holding whose sums
    // fit has `weight <= total`, and every overflow gets the same error.
    let (mut total, mut earned, mut held, mut vested, mut locked, mut weight) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut aged = 0u128;
    let mut wide = false;
    let add = |sum: &mut u64, v: u64, wide: &mut bool| {
        let (s, o) = sum.overflowing_add(v);
        *sum = s;
        *wide |= o;
    };
    let name = accounts.name(holder);
    for t in tranches {
        let t = &t;
        check_tranche(name, t)?;
        add(&mut total, t.remaining, &mut wide);
        if t.kind == TrancheKind::Manual {
            continue;
        }
        let age = block.saturating_sub(t.block);
        if age < window {
            add(&mut earned, t.amount, &mut wide);
            let h = if params.vested_counts_as_held {
                t.amount - t.sold_locked
            } else {
                t.remaining
            };
            add(&mut held, h, &mut wide);
        }
        let sold_free = t.amount - t.remaining - t.sold_locked;
        let free = sched
            .vested_by(t, block)
            .saturating_sub(sold_free)
            .min(t.remaining);
        add(&mut vested, free, &mut wide);
        add(&mut locked, t.remaining - free, &mut wide);
        weight = weight.wrapping_add(t.remaining);
        aged += mul_wide(t.remaining, age.min(window));
    }
    if wide {
        return Err(error(
            ErrorCode::Overflow,
            format!("holdings of `{name}` exceed u64 alpha"),
        ));
    }
    let holding_blocks = match weight {
        0 => 0,
        w => div_rem(aged, w as u128).0 as u64,
    };
    Ok(Holding {
        holder,
        total_stake: total,
        earned_in_window: earned,
        held_in_window: held,
        held_fraction: if earned == 0 {
            ONE
        } else {
            mul_div(held, ONE, earned) as u64
        },
        holding_blocks,
        holding_days: mul_div(holding_blocks, ONE, params.blocks_per_day) as u64,
        vested,
        locked,
    })
}

/// The metrics of every ledger, in input order; a holder may appear once.
pub fn holdings(params: &Params, input: &HoldingsInput) -> Result<Vec<Holding>, PolicyError> {
    let accounts = Accounts::new(&input.accounts)?;
    let flat = &input.ledgers;
    // The flat ledgers as they are: the same checks as `tranches::unpack`, then each
    // ledger's rows read in place, one tranche at a time.
    tranches::check(flat, &accounts)?;
    let mut seen = vec![false; accounts.len()];
    let mut rows = flat.tranches.chunks_exact(WIDTH);
    let mut out = Vec::with_capacity(flat.holders.len());
    for (&holder, &count) in flat.holders.iter().zip(&flat.tranche_counts) {
        if core::mem::replace(&mut seen[holder as usize], true) {
            return Err(two_ledgers(&accounts, holder));
        }
        let each = rows.by_ref().take(count as usize).map(tranches::row);
        out.push(holding_of(params, &accounts, holder, each, input.block)?);
    }
    Ok(out)
}

/// [`holdings`] of nested ledgers.
pub fn holdings_of(
    params: &Params,
    accounts: &Accounts,
    ledgers: &[HolderLedger],
    block: u64,
) -> Result<Vec<Holding>, PolicyError> {
    let mut seen = vec![false; accounts.len()];
    ledgers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            // A holder past the table (an unchecked caller's) is looked for by scanning.
            let first = match seen.get_mut(l.holder as usize) {
                Some(s) => !core::mem::replace(s, true),
                None => !ledgers[..i].iter().any(|m| m.holder == l.holder),
            };
            if !first {
                return Err(two_ledgers(accounts, l.holder));
            }
            holding(params, accounts, l, block)
        })
        .collect()
}

fn two_ledgers(accounts: &Accounts, holder: u32) -> PolicyError {
    error(
        ErrorCode::InvalidInput,
        format!("holder `{}` has two ledgers", accounts.name(holder)),
    )
}
