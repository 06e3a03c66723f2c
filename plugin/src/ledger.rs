//! The vesting ledger: each holder's stake as tranches of manual and earned alpha, each
//! earned tranche vesting on a schedule; new earnings, manual inflows and outflows move
//! it forward, and vesting payments fall due.
//!
//! - A tranche collects what came in during one vesting interval (its bucket), so a
//!   30-day ledger holds about one tranche a day, not one per epoch.
//! - An earned tranche of `scheduled` alpha vests in n = ceil(duration / interval)
//!   payments, the first due at the bucket's start; after k payments
//!   `floor(scheduled * k / n)` has vested, so the n payments add up to exactly
//!   `scheduled`. Earnings under `min_vesting_amount` vest at once.
//! - An outflow consumes tranches in the policy's order; from an earned tranche it takes
//!   vested alpha first, and what it takes while still locked is `sold-locked`.
//! - Tranches that are fully vested and older than the window are merged, one per kind.

use crate::accounts::Accounts;
use crate::attribution::manual_direction;
use crate::error;
use crate::fixed::{div_rem, mul_div_u64, mul_wide};
use crate::params::{ConsumeOrder, Params};
use crate::tranches::{self, HolderLedger, Tranche, TrancheKind};
use crate::types::*;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

enum Change {
    Earn(u64),
    In(u64),
    Out(u64),
}

struct Entry {
    block: u64,
    /// 0: the block's initialization (emission), 1: its extrinsics.
    phase: u8,
    index: u32,
    holder: u32,
    change: Change,
}

fn invalid(message: String) -> PolicyError {
    error(ErrorCode::InvalidInput, message)
}

fn overflow(holder: &str) -> PolicyError {
    error(
        ErrorCode::Overflow,
        format!("ledger of `{holder}` exceeds u64 alpha"),
    )
}

/// Checks a tranche's internal consistency; `holder` names its holder in the message.
pub fn check_tranche(holder: &str, t: &Tranche) -> Result<(), PolicyError> {
    let consumed = t.amount.checked_sub(t.remaining);
    let ok = consumed.is_some_and(|c| t.sold_locked <= c && c - t.sold_locked <= t.released)
        && t.scheduled <= t.amount
        && t.released <= t.amount
        && t.released >= t.amount - t.scheduled
        && t.block >= t.start;
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "tranche of `{holder}` starting at block {} is inconsistent \
             (amount {}, remaining {}, scheduled {}, released {}, sold-locked {})",
            t.start, t.amount, t.remaining, t.scheduled, t.released, t.sold_locked
        )))
    }
}

/// A vesting schedule's constants, computed once per call rather than per tranche.
#[derive(Clone, Copy)]
pub struct Schedule {
    /// Payments of a schedule ([`Params::payments`]).
    pub payments: u64,
    /// Blocks between them ([`Params::interval_blocks`]).
    pub interval: u64,
}

impl Schedule {
    pub fn of(params: &Params) -> Self {
        Schedule {
            payments: params.payments(),
            interval: params.interval_blocks(),
        }
    }

    /// Alpha of `t` vested by `block`: the immediate part plus the payments due.
    #[inline]
    pub fn vested_by(&self, t: &Tranche, block: u64) -> u64 {
        let immediate = t.amount - t.scheduled;
        if t.kind == TrancheKind::Manual || block < t.start {
            return if t.kind == TrancheKind::Manual {
                t.amount
            } else {
                immediate
            };
        }
        let n = self.payments;
        let due = ((block - t.start) / self.interval + 1).min(n);
        immediate + mul_div_u64(t.scheduled, due, n)
    }
}

/// Alpha of `t` vested by `block`: the immediate part plus the payments due.
pub fn vested_by(params: &Params, t: &Tranche, block: u64) -> u64 {
    Schedule::of(params).vested_by(t, block)
}

/// Emits the payments of `t` that fell due by `block` and marks them released.
fn release_due(sched: &Schedule, holder: u32, t: &mut Tranche, block: u64, out: &mut Vec<Release>) {
    if t.kind == TrancheKind::Manual || t.released == t.amount || block < t.start {
        return;
    }
    let n = sched.payments;
    let interval = sched.interval;
    let immediate = t.amount - t.scheduled;
    let due = ((block - t.start) / interval + 1).min(n);
    // Payments 1..=paid are already released: floor(S * k / n) <= released - immediate
    // holds exactly for k <= floor((released - immediate) * n / S) when S > 0.
    let paid = match t.scheduled {
        0 => due,
        s => mul_div_u64(t.released - immediate, n, s).min(due),
    };
    for k in paid.max(1)..=due {
        let cumulative = immediate + mul_div_u64(t.scheduled, k, n);
        if cumulative > t.released {
            out.push(Release {
                holder,
                tranche_start: t.start,
                block: t.start + (k - 1) * interval,
                alpha: cumulative - t.released,
            });
            t.released = cumulative;
        }
    }
}

/// Where a ledger's payments stand within a step: the block of its last pass over every
/// tranche, and the tranche credited since (the only one that can owe a payment at that
/// block again: a pass leaves nothing due, and an outflow changes no payment).
#[derive(Clone, Copy, Default)]
struct Pass {
    block: Option<u64>,
    credited: Option<usize>,
}

/// Emits what fell due by `block` in `ledger` (as a call of [`release_due`] on each of its
/// tranches would, skipping the ones that cannot owe anything).
fn release_pass(
    sched: &Schedule,
    ledger: &mut HolderLedger,
    pass: &mut Pass,
    block: u64,
    out: &mut Vec<Release>,
) {
    if pass.block == Some(block) {
        if let Some(i) = pass.credited {
            release_due(sched, ledger.holder, &mut ledger.tranches[i], block, out);
        }
    } else {
        for t in ledger.tranches.iter_mut() {
            release_due(sched, ledger.holder, t, block, out);
        }
        pass.block = Some(block);
    }
    pass.credited = None;
}

/// Credits `alpha` of `kind` at `block` to the tranche of its bucket; returns its index.
fn credit(
    params: &Params,
    accounts: &Accounts,
    ledger: &mut HolderLedger,
    kind: TrancheKind,
    block: u64,
    alpha: u64,
    releases: &mut Vec<Release>,
) -> Result<usize, PolicyError> {
    let start = block - block % params.interval_blocks();
    let pos = ledger
        .tranches
        .iter()
        .position(|t| t.kind == kind && t.start == start);
    let immediate = kind == TrancheKind::Manual || alpha < params.min_vesting_amount;
    let (at, t) = match pos {
        Some(i) => (i, &mut ledger.tranches[i]),
        None => {
            let at = ledger.tranches.partition_point(|t| {
                (t.start, t.kind == TrancheKind::Earned) <= (start, kind == TrancheKind::Earned)
            });
            ledger.tranches.insert(
                at,
                Tranche {
                    kind,
                    start,
                    block,
                    amount: 0,
                    remaining: 0,
                    scheduled: 0,
                    released: 0,
                    sold_locked: 0,
                },
            );
            (at, &mut ledger.tranches[at])
        }
    };
    let amount = t
        .amount
        .checked_add(alpha)
        .ok_or_else(|| overflow(accounts.name(ledger.holder)))?;
    t.block = div_rem(
        mul_wide(t.block, t.amount) + mul_wide(block, alpha),
        amount as u128,
    )
    .0 as u64;
    t.amount = amount;
    t.remaining += alpha;
    if immediate {
        t.released += alpha;
        if kind == TrancheKind::Earned {
            releases.push(Release {
                holder: ledger.holder,
                tranche_start: start,
                block,
                alpha,
            });
        }
    } else {
        t.scheduled += alpha;
    }
    Ok(at)
}

/// The order in which an outflow visits a ledger's tranches.
fn visit_order(order: ConsumeOrder, tranches: &[Tranche]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..tranches.len()).collect();
    match order {
        ConsumeOrder::OldestFirst => {}
        ConsumeOrder::NewestFirst => idx.reverse(),
        ConsumeOrder::ManualFirst => {
            idx.reverse();
            idx.sort_by_key(|&i| tranches[i].kind == TrancheKind::Earned);
        }
    }
    idx
}

/// Consumes `alpha` of a holder's stake at `block`.
fn consume(params: &Params, ledger: &mut HolderLedger, block: u64, alpha: u64) -> Consumption {
    let mut c = Consumption {
        holder: ledger.holder,
        block,
        alpha,
        from_manual: 0,
        from_released: 0,
        from_locked: 0,
        unmatched: 0,
    };
    let mut left = alpha;
    for i in visit_order(params.consume_order, &ledger.tranches) {
        if left == 0 {
            break;
        }
        let t = &mut ledger.tranches[i];
        let take = left.min(t.remaining);
        if t.kind == TrancheKind::Manual {
            c.from_manual += take;
        } else {
            let sold_free = t.amount - t.remaining - t.sold_locked;
            let free = t.released - sold_free;
            let from_free = take.min(free);
            c.from_released += from_free;
            c.from_locked += take - from_free;
            t.sold_locked += take - from_free;
        }
        t.remaining -= take;
        left -= take;
    }
    c.unmatched = left;
    ledger.unmatched_outflow = ledger.unmatched_outflow.saturating_add(left);
    c
}

/// Merges tranches that are fully vested and older than the window (one per kind) and
/// drops the empty ones: their age is capped and they count no longer in the window.
fn compact(params: &Params, ledger: &mut HolderLedger, block: u64) {
    let window = params.window_blocks();
    let settled = |t: &Tranche| t.released == t.amount && t.block.saturating_add(window) <= block;
    let mut merged: [Option<Tranche>; 2] = [None, None];
    // In place: the kept tranches move down over the dropped ones, in their order.
    let keep = &mut ledger.tranches;
    let mut kept = 0;
    for i in 0..keep.len() {
        if !settled(&keep[i]) {
            keep.swap(kept, i);
            kept += 1;
            continue;
        }
        let t = &keep[i];
        if t.remaining == 0 {
            continue;
        }
        let slot = &mut merged[(t.kind == TrancheKind::Earned) as usize];
        match slot {
            None => *slot = Some(t.clone()),
            Some(m) => {
                let remaining = m.remaining + t.remaining;
                m.block = div_rem(
                    mul_wide(m.block, m.remaining) + mul_wide(t.block, t.remaining),
                    remaining as u128,
                )
                .0 as u64;
                m.start = m.start.min(t.start);
                // Consumed alpha of a settled tranche no longer matters: keep what is held.
                m.amount = remaining;
                m.remaining = remaining;
                m.scheduled = 0;
                m.released = remaining;
                m.sold_locked = 0;
            }
        }
    }
    keep.truncate(kept);
    for m in merged.into_iter().flatten() {
        let at = keep.partition_point(|t| {
            (t.start, t.kind == TrancheKind::Earned) <= (m.start, m.kind == TrancheKind::Earned)
        });
        keep.insert(at, m);
    }
}

/// Routes flows to holders and nets each holder's flows within one extrinsic, so moving
/// stake between a holder's own hotkeys changes nothing.
fn flow_entries(
    params: &Params,
    accounts: &Accounts,
    input: &LedgerInput,
) -> Result<Vec<Entry>, PolicyError> {
    // (block, extrinsic or event, holder) -> (first event index, net alpha)
    let mut groups: BTreeMap<(u64, u64, u32), (u32, i128)> = BTreeMap::new();
    for f in input.flows.iter().filter(|f| f.netuid == input.netuid) {
        let dir = manual_direction(f.kind);
        if dir == 0 {
            continue;
        }
        let holder = params.holder_of(f.hotkey, f.coldkey);
        if accounts.is_none(holder) {
            continue;
        }
        let group = match f.extrinsic {
            Some(x) => x as u64,
            None => (1u64 << 32) + f.event_index as u64,
        };
        let g = groups
            .entry((f.block, group, holder))
            .or_insert((f.event_index, 0));
        g.0 = g.0.min(f.event_index);
        g.1 += dir as i128 * f.alpha as i128;
    }
    let mut out = Vec::with_capacity(groups.len());
    for ((block, _, holder), (index, net)) in groups {
        let change = match net {
            0 => continue,
            n if n > 0 => {
                Change::In(u64::try_from(n).map_err(|_| overflow(accounts.name(holder)))?)
            }
            n => Change::Out(u64::try_from(-n).map_err(|_| overflow(accounts.name(holder)))?),
        };
        out.push(Entry {
            block,
            phase: 1,
            index,
            holder,
            change,
        });
    }
    Ok(out)
}

/// One ledger step: applies earnings and flows in block order, pays what fell due, and
/// returns every holder's ledger (sorted by holder), the payments and the consumptions.
pub fn step(params: &Params, mut input: LedgerInput) -> Result<LedgerOutput, PolicyError> {
    let accounts = Accounts::new(&input.accounts)?;
    for f in &input.flows {
        accounts.check(f.hotkey, "a flow's hotkey")?;
        accounts.check(f.coldkey, "a flow's coldkey")?;
        if let Some(c) = f.counterparty {
            accounts.check(c, "a flow's counterparty")?;
        }
    }
    for e in &input.earnings {
        accounts.check(e.hotkey, "an earning's hotkey")?;
        accounts.check(e.coldkey, "an earning's coldkey")?;
    }
    let given = tranches::unpack(&input.ledgers, &accounts)?;
    // The flat input's buffer, read: it takes the output (no new memory to touch).
    let buf = core::mem::take(&mut input.ledgers.tranches);
    let (ledgers, releases, consumptions) = step_ledgers(params, &accounts, given, &input)?;
    Ok(LedgerOutput {
        ledgers: tranches::pack_into(&ledgers, buf),
        releases,
        consumptions,
    })
}

/// What [`step_ledgers`] returns: the ledgers (sorted by holder), payments, consumptions.
pub type Stepped = (Vec<HolderLedger>, Vec<Release>, Vec<Consumption>);

/// [`step`] on nested ledgers (`input.ledgers` is ignored: `given` replaces it); indices
/// are already checked against `accounts`.
pub fn step_ledgers(
    params: &Params,
    accounts: &Accounts,
    given: Vec<HolderLedger>,
    input: &LedgerInput,
) -> Result<Stepped, PolicyError> {
    // Ledgers in a list, found through `slot` (indexed by account: the position in
    // `ledgers`, or NONE); sorted by holder at the end.
    const NONE: u32 = u32::MAX;
    let mut slot: Vec<u32> = vec![NONE; accounts.len()];
    let mut ledgers: Vec<HolderLedger> = Vec::with_capacity(given.len());
    for l in given {
        for t in &l.tranches {
            check_tranche(accounts.name(l.holder), t)?;
        }
        let holder = l.holder as usize;
        if holder >= slot.len() {
            slot.resize(holder + 1, NONE);
        }
        if slot[holder] != NONE {
            return Err(invalid(format!(
                "holder `{}` has two ledgers",
                accounts.name(l.holder)
            )));
        }
        slot[holder] = ledgers.len() as u32;
        ledgers.push(l);
    }
    let mut passes = vec![Pass::default(); ledgers.len()];
    let mut entries = flow_entries(params, accounts, input)?;
    for (i, e) in input.earnings.iter().enumerate() {
        if e.alpha > 0 {
            entries.push(Entry {
                block: e.block,
                phase: 0,
                index: i as u32,
                holder: params.holder_of(e.hotkey, e.coldkey),
                change: Change::Earn(e.alpha),
            });
        }
    }
    if let Some(late) = entries.iter().find(|e| e.block > input.block) {
        return Err(invalid(format!(
            "a change of `{}` at block {} is after the step's block {}",
            accounts.name(late.holder),
            late.block,
            input.block
        )));
    }
    entries.sort_by_key(|e| (e.block, e.phase, e.index, e.holder));

    let sched = Schedule::of(params);
    let mut releases = Vec::new();
    let mut consumptions = Vec::new();
    for e in entries {
        let holder = e.holder as usize;
        if holder >= slot.len() {
            slot.resize(holder + 1, NONE);
        }
        if slot[holder] == NONE {
            slot[holder] = ledgers.len() as u32;
            ledgers.push(HolderLedger {
                holder: e.holder,
                tranches: Vec::new(),
                unmatched_outflow: 0,
            });
            passes.push(Pass::default());
        }
        let k = slot[holder] as usize;
        let (ledger, pass) = (&mut ledgers[k], &mut passes[k]);
        release_pass(&sched, ledger, pass, e.block, &mut releases);
        pass.credited = match e.change {
            Change::Earn(a) => Some(credit(
                params,
                accounts,
                ledger,
                TrancheKind::Earned,
                e.block,
                a,
                &mut releases,
            )?),
            Change::In(a) => Some(credit(
                params,
                accounts,
                ledger,
                TrancheKind::Manual,
                e.block,
                a,
                &mut releases,
            )?),
            Change::Out(a) => {
                consumptions.push(consume(params, ledger, e.block, a));
                None
            }
        };
    }
    // Holder order, as the final payments are emitted in it.
    let sorted = ledgers.is_sorted_by_key(|l| l.holder);
    let mut order: Vec<usize> = (0..ledgers.len()).collect();
    if !sorted {
        order.sort_unstable_by_key(|&k| ledgers[k].holder);
    }
    for &k in &order {
        let ledger = &mut ledgers[k];
        release_pass(&sched, ledger, &mut passes[k], input.block, &mut releases);
        compact(params, ledger, input.block);
    }
    let ledgers = if sorted {
        ledgers
    } else {
        let mut taken: Vec<Option<HolderLedger>> = ledgers.into_iter().map(Some).collect();
        order.iter().filter_map(|&k| taken[k].take()).collect()
    };
    Ok((ledgers, releases, consumptions))
}
