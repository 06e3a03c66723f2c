//! The atomic write of one processed block: every row it derives and the checkpoint, in
//! one transaction. Re-applying a block at or below the checkpoint is a no-op (after
//! checking its hash); a block that is not checkpoint + 1 is refused (no gap).

use rusqlite::{Transaction, params};

use super::{BlockRecord, Result, Store, StoreError, from_sql, to_sql};
use crate::policy::{FlowKind, HolderLedger, TrancheKind};

/// What [`Store::apply_block`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Written with the checkpoint.
    Written,
    /// Already in the store (same hash): nothing written.
    AlreadyApplied,
}

/// The contract's name of a flow kind (kebab-case, as in the WIT).
pub fn flow_kind_str(k: FlowKind) -> &'static str {
    match k {
        FlowKind::Added => "added",
        FlowKind::Removed => "removed",
        FlowKind::MovedIn => "moved-in",
        FlowKind::MovedOut => "moved-out",
        FlowKind::TransferredIn => "transferred-in",
        FlowKind::TransferredOut => "transferred-out",
        FlowKind::SwappedIn => "swapped-in",
        FlowKind::SwappedOut => "swapped-out",
        FlowKind::AlphaFee => "alpha-fee",
        FlowKind::Recycled => "recycled",
        FlowKind::Burned => "burned",
        FlowKind::Incentive => "incentive",
        FlowKind::AutoStaked => "auto-staked",
        FlowKind::Dividend => "dividend",
        FlowKind::RootClaimed => "root-claimed",
    }
}

/// The inverse of [`flow_kind_str`].
pub fn parse_flow_kind(s: &str) -> Option<FlowKind> {
    use FlowKind::*;
    [
        Added,
        Removed,
        MovedIn,
        MovedOut,
        TransferredIn,
        TransferredOut,
        SwappedIn,
        SwappedOut,
        AlphaFee,
        Recycled,
        Burned,
        Incentive,
        AutoStaked,
        Dividend,
        RootClaimed,
    ]
    .into_iter()
    .find(|k| flow_kind_str(*k) == s)
}

impl Store {
    /// Writes one processed block and moves the checkpoint to it, atomically.
    pub fn apply_block(&mut self, rec: &BlockRecord) -> Result<Applied> {
        self.apply_blocks(std::slice::from_ref(rec))
            .map(|v| v.into_iter().next().unwrap_or(Applied::AlreadyApplied))
    }

    /// Writes consecutive processed blocks and moves the checkpoint to the last, in one
    /// transaction (catch-up batches): all of them or none.
    pub fn apply_blocks(&mut self, recs: &[BlockRecord]) -> Result<Vec<Applied>> {
        let path = self.path.display().to_string();
        // IMMEDIATE: the write lock is taken at BEGIN, where the busy timeout waits for
        // another writer (a `vesting policy` command); a deferred transaction would fail
        // at once when another connection committed between its first read and write.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        let mut out = Vec::with_capacity(recs.len());
        for rec in recs {
            out.push(apply_in(&tx, &path, &mut self.last_step, rec)?);
        }
        tx.commit()
            .map_err(|source| StoreError::Sqlite { path, source })?;
        Ok(out)
    }
}

fn apply_in(
    tx: &Transaction,
    path: &str,
    last: &mut super::history::LastStep,
    rec: &BlockRecord,
) -> Result<Applied> {
    let path = path.to_string();
    let e = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    {
        let cp: Option<(i64, String)> = {
            use rusqlite::OptionalExtension;
            tx.query_row("SELECT block, hash FROM checkpoint WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(e)?
        };
        if let Some((cb, _)) = &cp {
            let cb = from_sql(*cb);
            if rec.number <= cb {
                let stored: Option<String> = {
                    use rusqlite::OptionalExtension;
                    tx.query_row(
                        "SELECT hash FROM blocks WHERE number = ?1",
                        [to_sql(rec.number)],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(e)?
                };
                return match stored {
                    Some(h) if h == rec.hash => Ok(Applied::AlreadyApplied),
                    Some(h) => Err(StoreError::Invalid {
                        path,
                        message: format!(
                            "finalized block #{} has hash {} but the store holds {h}: this database belongs to another chain",
                            rec.number, rec.hash
                        ),
                    }),
                    None => Err(StoreError::Invalid {
                        path,
                        message: format!(
                            "block #{} is before the store's first block; it cannot be inserted into history",
                            rec.number
                        ),
                    }),
                };
            }
            if rec.number != cb + 1 {
                return Err(StoreError::Invalid {
                    path,
                    message: format!(
                        "block #{} does not follow the checkpoint #{cb}: refusing to leave a gap",
                        rec.number
                    ),
                });
            }
        }
        write_rows(tx, rec).map_err(e)?;
        if let Some(step) = &rec.step {
            super::history::write(tx, &path, last, step.block, &step.ledgers)?;
        }
        if let Some(before) = rec.prune_ledger_history_before {
            super::history::prune(tx, before).map_err(e)?;
        }
        tx.execute(
            "INSERT INTO checkpoint (id, block, hash) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET block = excluded.block, hash = excluded.hash",
            params![to_sql(rec.number), rec.hash],
        )
        .map_err(e)?;
        Ok(Applied::Written)
    }
}

fn write_rows(tx: &Transaction, rec: &BlockRecord) -> rusqlite::Result<()> {
    let b = to_sql(rec.number);
    tx.execute(
        "INSERT INTO blocks (number, hash, events, flows) VALUES (?1, ?2, ?3, ?4)",
        params![b, rec.hash, rec.events, rec.flows.len() as i64],
    )?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO stake_flows (block, block_hash, extrinsic, event_index, seq, kind, hotkey,
             coldkey, netuid, alpha, counterparty) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
        )?;
        let mut last: Option<u32> = None;
        let mut seq = 0u32;
        for f in &rec.flows {
            seq = if last == Some(f.event_index) {
                seq + 1
            } else {
                0
            };
            last = Some(f.event_index);
            st.execute(params![
                to_sql(f.block),
                rec.hash,
                f.extrinsic,
                f.event_index,
                seq,
                flow_kind_str(f.kind),
                f.hotkey,
                f.coldkey,
                f.netuid,
                to_sql(f.alpha),
                f.counterparty
            ])?;
        }
    }
    for ep in &rec.epochs {
        tx.execute(
            "INSERT INTO epochs (netuid, block, block_hash, status, epoch_index, tempo, rule, deferred_to)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
            params![
                ep.netuid,
                to_sql(ep.block),
                rec.hash,
                ep.status.as_str(),
                ep.epoch_index.map(to_sql),
                ep.tempo.map(to_sql),
                ep.rule,
                ep.deferred_to.map(to_sql)
            ],
        )?;
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO stake_snapshots (epoch_block, phase, at_block, hotkey, coldkey, netuid, alpha)
             VALUES (?1,?2,?3,?4,?5,?6,?7)",
        )?;
        for s in &rec.snapshots {
            st.execute(params![
                to_sql(s.epoch_block),
                s.phase.as_str(),
                to_sql(s.at_block),
                s.hotkey,
                s.coldkey,
                s.netuid,
                to_sql(s.alpha)
            ])?;
        }
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO stake_changes (epoch_block, hotkey, coldkey, netuid, before, after, manual_in,
             manual_out, earned, residue) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
        )?;
        for a in &rec.attributions {
            st.execute(params![
                b,
                a.hotkey,
                a.coldkey,
                a.netuid,
                to_sql(a.before),
                to_sql(a.after),
                to_sql(a.manual_in),
                to_sql(a.manual_out),
                to_sql(a.earned),
                a.residue
            ])?;
        }
    }
    for o in &rec.owners {
        let open: Option<String> = {
            use rusqlite::OptionalExtension;
            tx.query_row(
                "SELECT coldkey FROM hotkey_owners WHERE hotkey = ?1 AND to_block IS NULL",
                [&o.hotkey],
                |r| r.get(0),
            )
            .optional()?
        };
        if open.as_deref() == Some(o.coldkey.as_str()) {
            continue;
        }
        if open.is_some() {
            tx.execute(
                "UPDATE hotkey_owners SET to_block = ?2 WHERE hotkey = ?1 AND to_block IS NULL",
                params![o.hotkey, to_sql(o.block)],
            )?;
        }
        tx.execute(
            "INSERT INTO hotkey_owners (hotkey, coldkey, from_block) VALUES (?1, ?2, ?3)",
            params![o.hotkey, o.coldkey, to_sql(o.block)],
        )?;
    }
    for r in &rec.registrations {
        let open: Option<String> = {
            use rusqlite::OptionalExtension;
            tx.query_row(
                "SELECT hotkey FROM uid_registrations WHERE netuid = ?1 AND uid = ?2 AND to_block IS NULL",
                params![r.netuid, r.uid],
                |row| row.get(0),
            )
            .optional()?
        };
        if open.as_deref() == Some(r.hotkey.as_str()) {
            continue;
        }
        if open.is_some() {
            tx.execute(
                "UPDATE uid_registrations SET to_block = ?3 WHERE netuid = ?1 AND uid = ?2 AND to_block IS NULL",
                params![r.netuid, r.uid, to_sql(r.block)],
            )?;
        }
        tx.execute(
            "INSERT INTO uid_registrations (netuid, uid, hotkey, from_block) VALUES (?1, ?2, ?3, ?4)",
            params![r.netuid, r.uid, r.hotkey, to_sql(r.block)],
        )?;
    }
    for c in &rec.new_tracked {
        tx.execute(
            "INSERT OR IGNORE INTO tracked_coldkeys (coldkey, since_block) VALUES (?1, ?2)",
            params![c, b],
        )?;
    }
    if let Some(step) = &rec.step {
        write_step(tx, step)?;
    }
    super::policies::write_lifecycle(
        tx,
        rec.number,
        rec.decision.as_ref(),
        rec.shadow.as_ref(),
        rec.activation.as_deref(),
    )?;
    super::params::write_activation(tx, rec.number, rec.param_activation.as_deref())?;
    Ok(())
}

fn ledger_json(l: &HolderLedger) -> String {
    serde_json::to_string(l).unwrap_or_default()
}

fn write_step(tx: &Transaction, step: &super::LedgerStepRecord) -> rusqlite::Result<()> {
    let sb = to_sql(step.block);
    for l in &step.ledgers {
        let json = ledger_json(l);
        tx.execute(
            "INSERT INTO ledgers (holder, block, unmatched_outflow, ledger_json) VALUES (?1,?2,?3,?4)
             ON CONFLICT (holder) DO UPDATE SET block = excluded.block,
             unmatched_outflow = excluded.unmatched_outflow, ledger_json = excluded.ledger_json",
            params![l.holder, sb, to_sql(l.unmatched_outflow), json],
        )?;
        tx.execute("DELETE FROM tranches WHERE holder = ?1", [&l.holder])?;
        let mut st = tx.prepare_cached(
            "INSERT INTO tranches (holder, idx, kind, start, block, amount, remaining, scheduled,
             released, sold_locked) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
        )?;
        for (i, t) in l.tranches.iter().enumerate() {
            st.execute(params![
                l.holder,
                i as i64,
                match t.kind {
                    TrancheKind::Manual => "manual",
                    TrancheKind::Earned => "earned",
                },
                to_sql(t.start),
                to_sql(t.block),
                to_sql(t.amount),
                to_sql(t.remaining),
                to_sql(t.scheduled),
                to_sql(t.released),
                to_sql(t.sold_locked)
            ])?;
        }
    }
    let next_seq = |table: &str| -> rusqlite::Result<i64> {
        tx.query_row(
            &format!("SELECT COALESCE(MAX(seq) + 1, 0) FROM {table} WHERE step_block = ?1"),
            [sb],
            |r| r.get(0),
        )
    };
    let base = next_seq("vesting_payments")?;
    for (i, r) in step.releases.iter().enumerate() {
        tx.execute(
            "INSERT INTO vesting_payments (step_block, seq, holder, tranche_start, block, alpha)
             VALUES (?1,?2,?3,?4,?5,?6)",
            params![
                sb,
                base + i as i64,
                r.holder,
                to_sql(r.tranche_start),
                to_sql(r.block),
                to_sql(r.alpha)
            ],
        )?;
    }
    let base = next_seq("consumptions")?;
    for (i, c) in step.consumptions.iter().enumerate() {
        tx.execute(
            "INSERT INTO consumptions (step_block, seq, holder, block, alpha, from_manual,
             from_released, from_locked, unmatched) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            params![
                sb,
                base + i as i64,
                c.holder,
                to_sql(c.block),
                to_sql(c.alpha),
                to_sql(c.from_manual),
                to_sql(c.from_released),
                to_sql(c.from_locked),
                to_sql(c.unmatched)
            ],
        )?;
    }
    for h in &step.holdings {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO holdings (block, holder, total_stake, earned_in_window,
             held_in_window, held_fraction, holding_blocks, holding_days, vested, locked)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
        )?
        .execute(params![
            sb,
            h.holder,
            to_sql(h.total_stake),
            to_sql(h.earned_in_window),
            to_sql(h.held_in_window),
            to_sql(h.held_fraction),
            to_sql(h.holding_blocks),
            to_sql(h.holding_days),
            to_sql(h.vested),
            to_sql(h.locked)
        ])?;
    }
    tx.execute("DELETE FROM multipliers WHERE block = ?1", [sb])?;
    for m in &step.multipliers {
        tx.prepare_cached(
            "INSERT INTO multipliers (block, uid, hotkey, holder, multiplier, held_factor,
             duration_factor, eligible) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        )?
        .execute(params![
            sb,
            m.uid,
            m.hotkey,
            m.holder,
            to_sql(m.multiplier),
            to_sql(m.held_factor),
            to_sql(m.duration_factor),
            m.eligible
        ])?;
    }
    Ok(())
}
