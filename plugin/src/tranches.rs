//! A holder's ledger inside the policy (tranches, oldest first) and its flat form on the
//! contract's boundary (`ledgers`: four lists of integers, 8 `u64` per tranche).
//!
//! The flat form exists so a ledger crosses the boundary as a few copies of integers, not
//! a record per tranche; the policy works on the nested form below.

use crate::accounts::Accounts;
use crate::error;
use crate::types::{ErrorCode, Ledgers, PolicyError};
use alloc::format;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// `u64`s per tranche in `ledgers.tranches`.
pub const WIDTH: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrancheKind {
    /// Stake the holder put in by hand (or held before tracking began).
    Manual,
    /// Stake earned by emission; it vests on a schedule.
    Earned,
}

/// A slice of a holder's stake, with its history (the fields of the contract's tranche).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tranche {
    pub kind: TrancheKind,
    /// First block of the bucket this tranche collects; its vesting schedule starts here.
    pub start: u64,
    /// Amount-weighted mean block at which its alpha came in: its age reference.
    pub block: u64,
    /// Alpha credited to it in total.
    pub amount: u64,
    /// Alpha of it still held.
    pub remaining: u64,
    /// The part of `amount` on the vesting schedule; the rest vested at once.
    pub scheduled: u64,
    /// Alpha released (vested) so far.
    pub released: u64,
    /// Alpha consumed by outflows while it was still locked (not yet released).
    pub sold_locked: u64,
}

/// A holder's ledger: its tranches, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderLedger {
    /// The holder's account (coldkey, or hotkey when holders are hotkeys).
    pub holder: u32,
    pub tranches: Vec<Tranche>,
    /// Outflows larger than the whole ledger: alpha the ledger could not match.
    pub unmatched_outflow: u64,
}

/// Checks a flat `ledgers` against the account table: the lists' lengths, every holder's
/// index and every tranche's kind (what [`unpack`] checks, in the same order).
pub fn check(flat: &Ledgers, accounts: &Accounts) -> Result<(), PolicyError> {
    let n = flat.holders.len();
    if flat.unmatched_outflow.len() != n || flat.tranche_counts.len() != n {
        return Err(mismatch(format!(
            "ledgers: holders, unmatched-outflow and tranche-counts must have one entry per \
             ledger: got {}, {} and {}",
            n,
            flat.unmatched_outflow.len(),
            flat.tranche_counts.len()
        )));
    }
    let total: u64 = flat.tranche_counts.iter().map(|&c| c as u64).sum();
    if !flat.tranches.len().is_multiple_of(WIDTH) || (flat.tranches.len() / WIDTH) as u64 != total {
        return Err(mismatch(format!(
            "ledgers: tranche-counts add up to {total} tranches but tranches holds {} u64 \
             ({WIDTH} per tranche)",
            flat.tranches.len()
        )));
    }
    let mut rows = flat.tranches.chunks_exact(WIDTH);
    for (&holder, &count) in flat.holders.iter().zip(&flat.tranche_counts) {
        accounts.check(holder, "a ledger's holder")?;
        for r in rows.by_ref().take(count as usize) {
            if r[0] > 1 {
                return Err(error(
                    ErrorCode::InvalidInput,
                    format!(
                        "a tranche of `{}` has kind {}: 0 is manual, 1 earned",
                        accounts.name(holder),
                        r[0]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The tranche of a row of `ledgers.tranches` whose kind is checked (0 or 1).
#[inline]
pub fn row(r: &[u64]) -> Tranche {
    Tranche {
        kind: if r[0] == 0 {
            TrancheKind::Manual
        } else {
            TrancheKind::Earned
        },
        start: r[1],
        block: r[2],
        amount: r[3],
        remaining: r[4],
        scheduled: r[5],
        released: r[6],
        sold_locked: r[7],
    }
}

/// The nested ledgers of a flat `ledgers`, in its order; every holder is checked against
/// the account table.
pub fn unpack(flat: &Ledgers, accounts: &Accounts) -> Result<Vec<HolderLedger>, PolicyError> {
    check(flat, accounts)?;
    let mut rows = flat.tranches.chunks_exact(WIDTH);
    let mut out = Vec::with_capacity(flat.holders.len());
    for (i, &holder) in flat.holders.iter().enumerate() {
        let count = flat.tranche_counts[i] as usize;
        // Room for the tranche a step's credit may open, without growing.
        let mut tranches = Vec::with_capacity(count + 1);
        tranches.extend(rows.by_ref().take(count).map(row));
        out.push(HolderLedger {
            holder,
            tranches,
            unmatched_outflow: flat.unmatched_outflow[i],
        });
    }
    Ok(out)
}

/// The flat form of `ledgers`, in their order, written into `buf` (cleared first): its
/// allocation is reused, and every list is allocated once, at its final size.
pub fn pack_into(ledgers: &[HolderLedger], mut buf: Vec<u64>) -> Ledgers {
    let total: usize = ledgers.iter().map(|l| l.tranches.len()).sum();
    buf.clear();
    buf.reserve_exact(total * WIDTH);
    let mut flat = Ledgers {
        holders: Vec::with_capacity(ledgers.len()),
        unmatched_outflow: Vec::with_capacity(ledgers.len()),
        tranche_counts: Vec::with_capacity(ledgers.len()),
        tranches: buf,
    };
    for l in ledgers {
        flat.holders.push(l.holder);
        flat.unmatched_outflow.push(l.unmatched_outflow);
        flat.tranche_counts.push(l.tranches.len() as u32);
        for t in &l.tranches {
            flat.tranches.extend_from_slice(&[
                (t.kind == TrancheKind::Earned) as u64,
                t.start,
                t.block,
                t.amount,
                t.remaining,
                t.scheduled,
                t.released,
                t.sold_locked,
            ]);
        }
    }
    flat
}

/// The flat form of `ledgers`, in their order.
pub fn pack(ledgers: &[HolderLedger]) -> Ledgers {
    pack_into(ledgers, Vec::new())
}

fn mismatch(message: alloc::string::String) -> PolicyError {
    error(ErrorCode::LengthMismatch, message)
}
