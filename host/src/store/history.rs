//! Ledger history: every ledger step's result (all holders' ledgers after the step at an
//! epoch block), kept so that any decision can be replayed exactly.
//!
//! Layout (table `ledger_steps`, one row per step): the payload is the step's ledgers as
//! JSON (a list of `HolderLedger`, sorted by holder), compressed with zstd. Most of one
//! epoch's ledgers are the previous epoch's with a tranche appended and a few amounts
//! changed, so a step is compressed with the previous step's JSON as the dictionary
//! (`base` names that step); every [`KEYFRAME_EVERY`]-th step, and the first, is
//! compressed alone (`base` NULL). Reading a step decompresses forward from the keyframe
//! before it (at most `KEYFRAME_EVERY` payloads). Pruning keeps whole chains: rows before
//! the last keyframe at or before the cut are deleted, and `meta.ledger_history_from`
//! says from which block history is served.
//!
//! Databases written before this layout keep their rows in `ledger_history` (JSON per
//! holder); those are still read and pruned.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store, StoreError, from_sql, to_sql};
use crate::policy::HolderLedger;

/// A step is a keyframe (compressed without a dictionary) at least this often.
pub const KEYFRAME_EVERY: usize = 16;

/// zstd level: 3 is zstd's default (fast, and the dictionary does most of the work).
const LEVEL: i32 = 3;

/// The last step's JSON, kept by the writer so the next step needs no decompression.
#[derive(Default)]
pub(crate) struct LastStep(Option<(u64, Vec<u8>)>);

fn invalid(path: &str, message: String) -> StoreError {
    StoreError::Invalid {
        path: path.to_string(),
        message,
    }
}

/// The window (log2 bytes) zstd needs to reach back over the dictionary and the payload.
fn window_log(len: usize) -> u32 {
    let bits = usize::BITS - len.max(1).leading_zeros();
    bits.clamp(20, 30)
}

fn compress(raw: &[u8], dict: Option<&[u8]>) -> std::io::Result<Vec<u8>> {
    use zstd::zstd_safe::CParameter;
    let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL, dict.unwrap_or_default())?;
    let reach = raw.len() + dict.map_or(0, <[u8]>::len);
    c.set_parameter(CParameter::WindowLog(window_log(reach)))?;
    c.compress(raw)
}

fn decompress(payload: &[u8], raw_len: usize, dict: Option<&[u8]>) -> std::io::Result<Vec<u8>> {
    use zstd::zstd_safe::DParameter;
    let mut d = zstd::bulk::Decompressor::with_dictionary(dict.unwrap_or_default())?;
    d.set_parameter(DParameter::WindowLogMax(30))?;
    d.decompress(payload, raw_len)
}

/// The step's JSON: ledgers sorted by holder (the order `ledgers_at` returns).
fn encode(ledgers: &[HolderLedger]) -> Vec<u8> {
    let mut sorted: Vec<&HolderLedger> = ledgers.iter().collect();
    sorted.sort_by(|a, b| a.holder.cmp(&b.holder));
    serde_json::to_vec(&sorted).unwrap_or_default()
}

/// One stored row: its base (None for a keyframe), raw length and payload.
type Row = (Option<u64>, usize, Vec<u8>);

fn row(conn: &rusqlite::Connection, block: u64) -> rusqlite::Result<Option<Row>> {
    conn.query_row(
        "SELECT base, raw_len, payload FROM ledger_steps WHERE block = ?1",
        [to_sql(block)],
        |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?.map(from_sql),
                from_sql(r.get(1)?) as usize,
                r.get(2)?,
            ))
        },
    )
    .optional()
}

/// The JSON of the step at `block`, decompressed forward from its keyframe; None when no
/// step was stored at `block`.
fn raw_at(conn: &rusqlite::Connection, path: &str, block: u64) -> Result<Option<Vec<u8>>> {
    let sql = |source| StoreError::Sqlite {
        path: path.to_string(),
        source,
    };
    let Some(first) = row(conn, block).map_err(sql)? else {
        return Ok(None);
    };
    // Walk back to the keyframe, then decompress forward.
    let mut chain = vec![(block, first)];
    while let Some(base) = chain.last().and_then(|(_, r)| r.0) {
        let r = row(conn, base).map_err(sql)?.ok_or_else(|| {
            invalid(
                path,
                format!(
                    "ledger history of #{block} needs the step at #{base}, which is missing; \
                     the history before #{block} cannot be read (run `vesting replay` from a later block)"
                ),
            )
        })?;
        if chain.len() > 4 * KEYFRAME_EVERY {
            return Err(invalid(
                path,
                format!("ledger history of #{block}: base chain does not end"),
            ));
        }
        chain.push((base, r));
    }
    let mut raw: Option<Vec<u8>> = None;
    for (b, (_, len, payload)) in chain.into_iter().rev() {
        let next = decompress(&payload, len, raw.as_deref()).map_err(|e| {
            invalid(
                path,
                format!("ledger history of #{b} does not decompress: {e}"),
            )
        })?;
        raw = Some(next);
    }
    Ok(raw)
}

/// Writes the step at `block` (inside the block's transaction).
pub(crate) fn write(
    tx: &Transaction,
    path: &str,
    last: &mut LastStep,
    block: u64,
    ledgers: &[HolderLedger],
) -> Result<()> {
    let sql = |source| StoreError::Sqlite {
        path: path.to_string(),
        source,
    };
    let raw = encode(ledgers);
    // The steps since the last keyframe, newest first.
    let mut recent = tx
        .prepare_cached("SELECT block, base IS NULL FROM ledger_steps WHERE block < ?1 ORDER BY block DESC LIMIT ?2")
        .map_err(sql)?;
    let recent: Vec<(u64, bool)> = recent
        .query_map(params![to_sql(block), KEYFRAME_EVERY as i64], |r| {
            Ok((from_sql(r.get(0)?), r.get(1)?))
        })
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)?;
    let since_keyframe = recent.iter().position(|(_, key)| *key);
    let base = match (recent.first(), since_keyframe) {
        (Some((prev, _)), Some(n)) if n + 1 < KEYFRAME_EVERY => Some(*prev),
        _ => None,
    };
    // The dictionary: the writer's copy of the previous step, else read back (a restart).
    let read_back;
    let dict: Option<&[u8]> = match base {
        None => None,
        Some(prev) => match &last.0 {
            Some((b, raw)) if *b == prev => Some(raw),
            _ => {
                read_back = raw_at(tx, path, prev)?;
                read_back.as_deref()
            }
        },
    };
    let payload = compress(&raw, dict)
        .map_err(|e| invalid(path, format!("compressing the ledgers of #{block}: {e}")))?;
    tx.execute(
        "INSERT INTO ledger_steps (block, base, raw_len, payload) VALUES (?1, ?2, ?3, ?4)",
        params![to_sql(block), base.map(to_sql), raw.len() as i64, payload],
    )
    .map_err(sql)?;
    last.0 = Some((block, raw));
    Ok(())
}

/// Deletes history before `before` (inside the block's transaction): old-layout rows
/// before it, compact rows before the last keyframe at or before it (so every step from
/// `before` on stays readable). Records `ledger_history_from` when anything was pruned.
pub(crate) fn prune(tx: &Transaction, before: u64) -> rusqlite::Result<()> {
    let old = tx.execute(
        "DELETE FROM ledger_history WHERE block < ?1",
        [to_sql(before)],
    )?;
    let cut: Option<i64> = tx.query_row(
        "SELECT MAX(block) FROM ledger_steps WHERE base IS NULL AND block <= ?1",
        [to_sql(before)],
        |r| r.get(0),
    )?;
    let compact = match cut {
        Some(cut) => tx.execute("DELETE FROM ledger_steps WHERE block < ?1", [cut])?,
        None => 0,
    };
    let older: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM ledger_steps WHERE block < ?1)",
        [to_sql(before)],
        |r| r.get(0),
    )?;
    if old + compact > 0 || older {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('ledger_history_from', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [before.to_string()],
        )?;
    }
    Ok(())
}

impl Store {
    /// The ledgers a step at `block` returned (every holder at an epoch), sorted by holder;
    /// empty when no step was stored there or its history was pruned.
    pub fn ledgers_at(&self, block: u64) -> Result<Vec<HolderLedger>> {
        let from: Option<u64> = self
            .meta("ledger_history_from")?
            .and_then(|v| v.parse().ok());
        if from.is_some_and(|f| block < f) {
            return Ok(vec![]);
        }
        let path = self.path.display().to_string();
        if let Some(raw) = raw_at(&self.conn, &path, block)? {
            return serde_json::from_slice(&raw).map_err(|e| {
                self.invalid(format!("ledger history of #{block} is not valid JSON: {e}"))
            });
        }
        self.ledgers_at_old_layout(block)
    }

    /// Rows of databases written before the compact layout (one JSON row per holder).
    fn ledgers_at_old_layout(&self, block: u64) -> Result<Vec<HolderLedger>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT holder, ledger_json FROM ledger_history WHERE block = ?1 ORDER BY holder",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([to_sql(block)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = vec![];
        for row in rows {
            let (holder, json) = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&json).map_err(|e| {
                self.invalid(format!(
                    "ledger of {holder} at #{block} is not valid JSON: {e}"
                ))
            })?);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
