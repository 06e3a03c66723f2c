//! Reads: the state the monitor resumes from (ledgers, tracked coldkeys, registrations)
//! and the queries the service needs (latest multipliers by uid, a miner's history, the
//! epochs, holder stats), each backed by an index.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;
use serde::Serialize;

use super::write::parse_flow_kind;
use super::{Result, Store, from_sql, to_sql};
use crate::policy::{Flow, HolderLedger};

/// One miner's multiplier at a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MultiplierRow {
    pub block: u64,
    pub uid: u16,
    pub hotkey: String,
    pub holder: String,
    /// Fixed point, 9 decimals (1_000_000_000 = 1.0).
    pub multiplier: u64,
    pub held_factor: u64,
    pub duration_factor: u64,
    pub eligible: bool,
}

impl MultiplierRow {
    /// The row as the contract's record (what `apply-weights` takes).
    pub fn to_policy(&self) -> crate::policy::MinerMultiplier {
        crate::policy::MinerMultiplier {
            uid: self.uid,
            hotkey: self.hotkey.clone(),
            holder: self.holder.clone(),
            multiplier: self.multiplier,
            held_factor: self.held_factor,
            duration_factor: self.duration_factor,
            eligible: self.eligible,
        }
    }
}

/// One epoch boundary as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpochRow {
    pub netuid: u16,
    pub block: u64,
    pub block_hash: String,
    pub status: String,
    pub epoch_index: Option<u64>,
    pub tempo: Option<u64>,
    pub rule: String,
    pub deferred_to: Option<u64>,
}

/// A miner hotkey's attribution at one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinerHistoryRow {
    pub epoch_block: u64,
    pub hotkey: String,
    pub coldkey: String,
    pub before: u64,
    pub after: u64,
    pub manual_in: u64,
    pub manual_out: u64,
    pub earned: u64,
    pub residue: i64,
}

/// A holder's latest holding metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderStats {
    pub block: u64,
    pub holder: String,
    pub total_stake: u64,
    pub earned_in_window: u64,
    pub held_in_window: u64,
    pub held_fraction: u64,
    pub holding_blocks: u64,
    pub holding_days: u64,
    pub vested: u64,
    pub locked: u64,
}

/// A stored flow with its position in the block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRow {
    pub block_hash: String,
    pub seq: u32,
    pub flow: Flow,
}

impl Store {
    /// Every holder's current ledger, sorted by holder.
    pub fn ledgers(&self) -> Result<Vec<HolderLedger>> {
        let mut st = self
            .conn
            .prepare("SELECT holder, ledger_json FROM ledgers ORDER BY holder")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = vec![];
        for row in rows {
            let (holder, json) = row.map_err(|e| self.err(e))?;
            let l: HolderLedger = serde_json::from_str(&json)
                .map_err(|e| self.invalid(format!("ledger of {holder} is not valid JSON: {e}")))?;
            out.push(l);
        }
        Ok(out)
    }

    /// Coldkeys whose positions are tracked.
    pub fn tracked_coldkeys(&self) -> Result<BTreeSet<String>> {
        self.strings("SELECT coldkey FROM tracked_coldkeys", [])
            .map(|v| v.into_iter().collect())
    }

    /// Open registrations of a subnet: uid -> hotkey.
    pub fn registrations(&self, netuid: u16) -> Result<BTreeMap<u16, String>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT uid, hotkey FROM uid_registrations WHERE netuid = ?1 AND to_block IS NULL",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([netuid], |r| {
                Ok((r.get::<_, u16>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Open hotkey -> coldkey associations.
    pub fn owners(&self) -> Result<BTreeMap<String, String>> {
        let mut st = self
            .conn
            .prepare("SELECT hotkey, coldkey FROM hotkey_owners WHERE to_block IS NULL")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The last run or skipped epoch of a subnet (deferrals excluded).
    pub fn last_epoch(&self, netuid: u16) -> Result<Option<EpochRow>> {
        self.epochs_where(
            "WHERE netuid = ?1 AND status != 'deferred' ORDER BY block DESC LIMIT 1",
            netuid,
        )
        .map(|mut v| v.pop())
    }

    /// A pending deferral of a subnet's epoch (the last row, if it is a deferral).
    pub fn pending_deferral(&self, netuid: u16) -> Result<Option<EpochRow>> {
        let last = self
            .epochs_where(
                "WHERE netuid = ?1 ORDER BY block DESC, status DESC LIMIT 1",
                netuid,
            )?
            .pop();
        Ok(last.filter(|e| e.status == "deferred"))
    }

    /// Every epoch boundary of a subnet, oldest first.
    pub fn epochs(&self, netuid: u16) -> Result<Vec<EpochRow>> {
        self.epochs_where("WHERE netuid = ?1 ORDER BY block, status", netuid)
    }

    fn epochs_where(&self, tail: &str, netuid: u16) -> Result<Vec<EpochRow>> {
        let sql = format!(
            "SELECT netuid, block, block_hash, status, epoch_index, tempo, rule, deferred_to FROM epochs {tail}"
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([netuid], |r| {
                Ok(EpochRow {
                    netuid: r.get(0)?,
                    block: from_sql(r.get(1)?),
                    block_hash: r.get(2)?,
                    status: r.get(3)?,
                    epoch_index: r.get::<_, Option<i64>>(4)?.map(from_sql),
                    tempo: r.get::<_, Option<i64>>(5)?.map(from_sql),
                    rule: r.get(6)?,
                    deferred_to: r.get::<_, Option<i64>>(7)?.map(from_sql),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The latest multiplier of every uid, sorted by uid (empty before the first step).
    /// Between epochs only changed uids get a new row, so this is the newest row per uid.
    pub fn latest_multipliers(&self) -> Result<Vec<MultiplierRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                // One index seek per uid (skip-scan by hand): a GROUP BY over the index
                // reads every row of history and slows down as it grows.
                "WITH RECURSIVE u(uid) AS (
                     SELECT MIN(uid) FROM multipliers
                     UNION ALL
                     SELECT (SELECT MIN(uid) FROM multipliers WHERE uid > u.uid) FROM u
                     WHERE u.uid IS NOT NULL)
                 SELECT m.block, m.uid, hotkey, holder, multiplier, held_factor, duration_factor, eligible
                 FROM u JOIN multipliers m ON m.uid = u.uid
                 AND m.block = (SELECT MAX(block) FROM multipliers WHERE uid = u.uid)
                 ORDER BY m.uid",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], multiplier_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The multipliers written at one block, sorted by uid.
    pub fn multipliers_at(&self, block: u64) -> Result<Vec<MultiplierRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT block, uid, hotkey, holder, multiplier, held_factor, duration_factor, eligible
                 FROM multipliers WHERE block = ?1 ORDER BY uid",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([to_sql(block)], multiplier_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// A miner hotkey's multipliers over time, oldest first.
    pub fn miner_multipliers(&self, hotkey: &str) -> Result<Vec<MultiplierRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT block, uid, hotkey, holder, multiplier, held_factor, duration_factor, eligible
                 FROM multipliers WHERE hotkey = ?1 ORDER BY block",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([hotkey], multiplier_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// A miner hotkey's attributions (earned, manual, residue) per epoch, oldest first.
    pub fn miner_history(&self, hotkey: &str) -> Result<Vec<MinerHistoryRow>> {
        self.changes_where("WHERE hotkey = ?1 ORDER BY epoch_block, coldkey", hotkey)
    }

    /// Every attribution of a coldkey's positions, oldest first.
    pub fn coldkey_history(&self, coldkey: &str) -> Result<Vec<MinerHistoryRow>> {
        self.changes_where("WHERE coldkey = ?1 ORDER BY epoch_block, hotkey", coldkey)
    }

    /// Every attribution at one epoch block.
    pub fn changes_at(&self, epoch_block: u64) -> Result<Vec<MinerHistoryRow>> {
        self.changes_where(
            "WHERE epoch_block = ?1 ORDER BY hotkey, coldkey",
            to_sql(epoch_block),
        )
    }

    fn changes_where(&self, tail: &str, arg: impl rusqlite::ToSql) -> Result<Vec<MinerHistoryRow>> {
        let sql = format!(
            "SELECT epoch_block, hotkey, coldkey, before, after, manual_in, manual_out, earned, residue
             FROM stake_changes {tail}"
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([arg], |r| {
                Ok(MinerHistoryRow {
                    epoch_block: from_sql(r.get(0)?),
                    hotkey: r.get(1)?,
                    coldkey: r.get(2)?,
                    before: from_sql(r.get(3)?),
                    after: from_sql(r.get(4)?),
                    manual_in: from_sql(r.get(5)?),
                    manual_out: from_sql(r.get(6)?),
                    earned: from_sql(r.get(7)?),
                    residue: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Every holder's latest holding metrics, sorted by holder.
    pub fn holder_stats(&self) -> Result<Vec<HolderStats>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT h.block, h.holder, total_stake, earned_in_window, held_in_window, held_fraction,
                 holding_blocks, holding_days, vested, locked FROM holdings h
                 JOIN (SELECT holder, MAX(block) AS block FROM holdings GROUP BY holder) m
                 ON h.holder = m.holder AND h.block = m.block ORDER BY h.holder",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], holder_stats_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// A holder's holding metrics at `block` (the latest row at or before it).
    pub fn holding_at(&self, holder: &str, block: u64) -> Result<Option<HolderStats>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT block, holder, total_stake, earned_in_window, held_in_window, held_fraction,
                 holding_blocks, holding_days, vested, locked FROM holdings
                 WHERE holder = ?1 AND block <= ?2 ORDER BY block DESC LIMIT 1",
                params![holder, to_sql(block)],
                holder_stats_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The stored flows of blocks `from..=to`, in block and event order.
    pub fn flows(&self, from: u64, to: u64) -> Result<Vec<FlowRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT block, block_hash, extrinsic, event_index, seq, kind, hotkey, coldkey, netuid,
                 alpha, counterparty FROM stake_flows WHERE block BETWEEN ?1 AND ?2
                 ORDER BY block, event_index, seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![to_sql(from), to_sql(to)], |r| {
                let kind: String = r.get(5)?;
                Ok((
                    kind,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(4)?,
                    Flow {
                        block: from_sql(r.get(0)?),
                        extrinsic: r.get(2)?,
                        event_index: r.get(3)?,
                        kind: crate::policy::FlowKind::Added,
                        hotkey: r.get(6)?,
                        coldkey: r.get(7)?,
                        netuid: r.get(8)?,
                        alpha: from_sql(r.get(9)?),
                        counterparty: r.get(10)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = vec![];
        for row in rows {
            let (kind, block_hash, seq, mut flow) = row.map_err(|e| self.err(e))?;
            flow.kind = parse_flow_kind(&kind)
                .ok_or_else(|| self.invalid(format!("unknown flow kind {kind:?}")))?;
            out.push(FlowRow {
                block_hash,
                seq,
                flow,
            });
        }
        Ok(out)
    }

    /// Every row of a table as text, in a canonical order (audits and crash-safety tests).
    pub fn dump_table(&self, table: &str) -> Result<Vec<String>> {
        if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.invalid(format!("{table:?} is not a table name")));
        }
        let cols: Vec<String> = self.strings(
            "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            [table],
        )?;
        if cols.is_empty() {
            return Err(self.invalid(format!("no table {table}")));
        }
        let expr = cols
            .iter()
            .map(|c| format!("quote({c})"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let sql = format!("SELECT {expr} FROM {table} ORDER BY 1");
        let mut rows = self.strings(&sql, [])?;
        rows.sort();
        Ok(rows)
    }

    /// The names of the store's tables (migration bookkeeping excluded).
    pub fn tables(&self) -> Result<Vec<String>> {
        self.strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            [],
        )
    }

    fn strings<P: rusqlite::Params>(&self, sql: &str, p: P) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = st.query_map(p, |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

fn multiplier_row(r: &rusqlite::Row) -> rusqlite::Result<MultiplierRow> {
    Ok(MultiplierRow {
        block: from_sql(r.get(0)?),
        uid: r.get(1)?,
        hotkey: r.get(2)?,
        holder: r.get(3)?,
        multiplier: from_sql(r.get(4)?),
        held_factor: from_sql(r.get(5)?),
        duration_factor: from_sql(r.get(6)?),
        eligible: r.get(7)?,
    })
}

fn holder_stats_row(r: &rusqlite::Row) -> rusqlite::Result<HolderStats> {
    Ok(HolderStats {
        block: from_sql(r.get(0)?),
        holder: r.get(1)?,
        total_stake: from_sql(r.get(2)?),
        earned_in_window: from_sql(r.get(3)?),
        held_in_window: from_sql(r.get(4)?),
        held_fraction: from_sql(r.get(5)?),
        holding_blocks: from_sql(r.get(6)?),
        holding_days: from_sql(r.get(7)?),
        vested: from_sql(r.get(8)?),
        locked: from_sql(r.get(9)?),
    })
}
