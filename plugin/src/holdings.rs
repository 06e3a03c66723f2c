//! Holding metrics per holder: what it earned in the retention window, how much of that
//! counts as held, for how long it has held (remaining-weighted age), and its stake.

use crate::accounts::Accounts;
use crate::fixed::{ONE, mul_div};
use crate::ledger::{check_tranche, vested_by};
use crate::params::Params;
use crate::tranches::{self, HolderLedger, TrancheKind};
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::vec::Vec;

/// The metrics of one ledger at `block`; `accounts` names its holder in errors.
pub fn holding(
    params: &Params,
    accounts: &Accounts,
    ledger: &HolderLedger,
    block: u64,
) -> Result<Holding, PolicyError> {
    let window = params.window_blocks();
    let (mut total, mut earned, mut held, mut vested, mut locked) =
        (0u128, 0u128, 0u128, 0u128, 0u128);
    let (mut weight, mut aged) = (0u128, 0u128);
    for t in &ledger.tranches {
        check_tranche(accounts.name(ledger.holder), t)?;
        total += t.remaining as u128;
        if t.kind == TrancheKind::Manual {
            continue;
        }
        let age = block.saturating_sub(t.block);
        if age < window {
            earned += t.amount as u128;
            held += if params.vested_counts_as_held {
                (t.amount - t.sold_locked) as u128
            } else {
                t.remaining as u128
            };
        }
        let sold_free = t.amount - t.remaining - t.sold_locked;
        let free = vested_by(params, t, block)
            .saturating_sub(sold_free)
            .min(t.remaining);
        vested += free as u128;
        locked += (t.remaining - free) as u128;
        weight += t.remaining as u128;
        aged += t.remaining as u128 * age.min(window) as u128;
    }
    let fit = |v: u128| {
        u64::try_from(v).map_err(|_| {
            error(
                ErrorCode::Overflow,
                format!(
                    "holdings of `{}` exceed u64 alpha",
                    accounts.name(ledger.holder)
                ),
            )
        })
    };
    let (earned, held) = (fit(earned)?, fit(held)?);
    let holding_blocks = aged.checked_div(weight).map_or(0, |b| b as u64);
    Ok(Holding {
        holder: ledger.holder,
        total_stake: fit(total)?,
        earned_in_window: earned,
        held_in_window: held,
        held_fraction: if earned == 0 {
            ONE
        } else {
            mul_div(held, ONE, earned) as u64
        },
        holding_blocks,
        holding_days: mul_div(holding_blocks, ONE, params.blocks_per_day) as u64,
        vested: fit(vested)?,
        locked: fit(locked)?,
    })
}

/// The metrics of every ledger, in input order; a holder may appear once.
pub fn holdings(params: &Params, input: &HoldingsInput) -> Result<Vec<Holding>, PolicyError> {
    let accounts = Accounts::new(&input.accounts)?;
    let ledgers = tranches::unpack(&input.ledgers, &accounts)?;
    holdings_of(params, &accounts, &ledgers, input.block)
}

/// [`holdings`] of nested ledgers.
pub fn holdings_of(
    params: &Params,
    accounts: &Accounts,
    ledgers: &[HolderLedger],
    block: u64,
) -> Result<Vec<Holding>, PolicyError> {
    let mut seen = BTreeSet::new();
    ledgers
        .iter()
        .map(|l| {
            if !seen.insert(l.holder) {
                return Err(error(
                    ErrorCode::InvalidInput,
                    format!("holder `{}` has two ledgers", accounts.name(l.holder)),
                ));
            }
            holding(params, accounts, l, block)
        })
        .collect()
}
