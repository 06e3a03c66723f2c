//! The policy lifecycle in the store: policy components by sha256, the policy state (active,
//! previous, pending for the next epoch boundary, shadow), the change log, each epoch's
//! decision record and shadow runs. Every state change bumps `revision` and is logged in
//! the same transaction, so a running service sees changes made by another process.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, from_sql, to_sql};

/// A stored policy (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRow {
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub contract: String,
    pub size_bytes: u64,
    pub installed_at: u64,
    pub origin: String,
    /// When it last went into service (None: never).
    pub activated_at: Option<u64>,
}

/// Which policies are in which role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyState {
    pub active: Option<String>,
    pub previous: Option<String>,
    /// Goes into service at the next epoch boundary.
    pub pending: Option<String>,
    pub shadow: Option<String>,
    pub revision: u64,
}

/// One lifecycle change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyLogRow {
    pub id: u64,
    pub at: u64,
    pub action: String,
    pub sha256: Option<String>,
    pub block: Option<u64>,
    pub note: String,
}

/// A policy component to store.
pub struct NewPolicy<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub contract: &'a str,
    pub wasm: &'a [u8],
    pub origin: &'a str,
    pub report_json: &'a str,
}

/// One epoch's decision (the holdings and multipliers steps).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub block: u64,
    pub policy_sha256: String,
    /// sha256 of the canonical JSON of {block, params, ledgers, miners}.
    pub input_sha256: String,
    /// sha256 of the canonical JSON of {holdings, multipliers}.
    pub output_sha256: String,
    /// The parameters as configured (what the policy was called with).
    pub params_json: String,
    /// The same, with the policy's defaults filled in.
    pub resolved_params_json: String,
    pub miners_json: String,
}

/// A candidate policy run beside the active one at an epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShadowRun {
    pub block: u64,
    pub candidate: String,
    pub active: String,
    pub total_weight_diff: u64,
    pub max_weight_diff: u64,
    pub miners_changed: u64,
    pub error: Option<String>,
}

/// One miner in a shadow run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShadowDiff {
    pub uid: u16,
    pub hotkey: String,
    pub active_multiplier: u64,
    pub candidate_multiplier: u64,
    pub active_weight: u64,
    pub candidate_weight: u64,
}

/// A shadow run and its per-miner rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShadowRecord {
    pub run: ShadowRun,
    pub diffs: Vec<ShadowDiff>,
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

const POLICY_COLUMNS: &str = "p.sha256, p.name, p.version, p.contract, length(p.wasm),
    p.installed_at, p.origin,
    (SELECT MAX(at) FROM policy_log l WHERE l.sha256 = p.sha256
     AND l.action IN ('activate', 'rollback', 'epoch-activate'))";

fn policy_row(r: &rusqlite::Row) -> rusqlite::Result<PolicyRow> {
    Ok(PolicyRow {
        sha256: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        contract: r.get(3)?,
        size_bytes: from_sql(r.get(4)?),
        installed_at: from_sql(r.get(5)?),
        origin: r.get(6)?,
        activated_at: r.get::<_, Option<i64>>(7)?.map(from_sql),
    })
}

/// Logs a lifecycle change and bumps the state's revision (inside the caller's transaction).
pub(crate) fn log_change(
    conn: &rusqlite::Connection,
    action: &str,
    sha256: Option<&str>,
    block: Option<u64>,
    note: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO policy_log (at, action, sha256, block, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![to_sql(now()), action, sha256, block.map(to_sql), note],
    )?;
    conn.execute(
        "UPDATE policy_state SET revision = revision + 1 WHERE id = 1",
        [],
    )?;
    Ok(())
}

impl Store {
    /// A write transaction that takes the write lock at BEGIN (waiting up to the busy
    /// timeout for another writer, such as the running monitor).
    fn write_tx(&self) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))
    }

    /// Stores a policy component; true if it was new (an existing sha256 is left as is).
    pub fn put_policy(&self, p: &NewPolicy) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO policies (sha256, name, version, contract, wasm,
                 installed_at, origin, report_json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![
                    p.sha256,
                    p.name,
                    p.version,
                    p.contract,
                    p.wasm,
                    to_sql(now()),
                    p.origin,
                    p.report_json
                ],
            )
            .map_err(|e| self.err(e))?;
        if n > 0 {
            log_change(&tx, "install", Some(p.sha256), None, p.origin).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Every stored policy, oldest first.
    pub fn policies(&self) -> Result<Vec<PolicyRow>> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {POLICY_COLUMNS} FROM policies p ORDER BY p.installed_at, p.rowid"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], policy_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// A stored policy by its sha256, a prefix of it (at least 6 hex digits), or its name
    /// (the latest installed of that name). Errors name what matched.
    pub fn find_policy(&self, key: &str) -> Result<PolicyRow> {
        let all = self.policies()?;
        let key_l = key.to_ascii_lowercase();
        let by_hash: Vec<&PolicyRow> = if key_l.len() >= 6 {
            all.iter()
                .filter(|p| p.sha256.starts_with(&key_l))
                .collect()
        } else {
            vec![]
        };
        match by_hash.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => {
                return Err(self.invalid(format!(
                    "`{key}` matches {} stored policies; give more of the sha256",
                    many.len()
                )));
            }
        }
        if let Some(p) = all.iter().rev().find(|p| p.name == key) {
            return Ok(p.clone());
        }
        Err(self.invalid(format!(
            "no stored policy has sha256 or name `{key}`; `vesting policy list` shows them, `vesting policy install <file.wasm>` adds one"
        )))
    }

    /// The component bytes of a stored policy.
    pub fn policy_wasm(&self, sha256: &str) -> Result<Vec<u8>> {
        self.conn
            .query_row(
                "SELECT wasm FROM policies WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| self.invalid(format!("no stored policy has sha256 {sha256}")))
    }

    /// The install report of a stored policy (JSON).
    pub fn policy_report(&self, sha256: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT report_json FROM policies WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn policy_state(&self) -> Result<PolicyState> {
        self.conn
            .query_row(
                "SELECT active, previous, pending, shadow, revision FROM policy_state WHERE id = 1",
                [],
                |r| {
                    Ok(PolicyState {
                        active: r.get(0)?,
                        previous: r.get(1)?,
                        pending: r.get(2)?,
                        shadow: r.get(3)?,
                        revision: from_sql(r.get(4)?),
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Puts a stored policy in service now; the one before becomes `previous`. A pending
    /// activation is cancelled.
    pub fn activate_policy(&self, sha256: &str, note: &str) -> Result<PolicyState> {
        self.policy_wasm(sha256)?;
        self.change(|tx| {
            tx.execute(
                "UPDATE policy_state SET previous = CASE WHEN active IS ?1 THEN previous ELSE active END,
                 active = ?1, pending = NULL WHERE id = 1",
                [sha256],
            )?;
            log_change(tx, "activate", Some(sha256), None, note)
        })
    }

    /// Schedules a stored policy to go into service at the next epoch boundary.
    pub fn schedule_policy(&self, sha256: &str, note: &str) -> Result<PolicyState> {
        self.policy_wasm(sha256)?;
        self.change(|tx| {
            tx.execute(
                "UPDATE policy_state SET pending = ?1 WHERE id = 1",
                [sha256],
            )?;
            log_change(tx, "schedule", Some(sha256), None, note)
        })
    }

    /// Puts the previous policy back in service (the active one becomes previous).
    pub fn rollback_policy(&self, note: &str) -> Result<PolicyState> {
        let st = self.policy_state()?;
        let Some(prev) = st.previous else {
            return Err(self.invalid(
                "there is no previous policy to roll back to (no activation is recorded)".into(),
            ));
        };
        self.change(|tx| {
            tx.execute(
                "UPDATE policy_state SET previous = active, active = ?1, pending = NULL WHERE id = 1",
                [&prev],
            )?;
            log_change(tx, "rollback", Some(&prev), None, note)
        })
    }

    /// Runs a stored policy in shadow at every epoch (None stops shadowing).
    pub fn set_shadow_policy(&self, sha256: Option<&str>, note: &str) -> Result<PolicyState> {
        if let Some(s) = sha256 {
            self.policy_wasm(s)?;
        }
        self.change(|tx| {
            tx.execute("UPDATE policy_state SET shadow = ?1 WHERE id = 1", [sha256])?;
            log_change(
                tx,
                if sha256.is_some() {
                    "shadow"
                } else {
                    "unshadow"
                },
                sha256,
                None,
                note,
            )
        })
    }

    fn change(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<()>,
    ) -> Result<PolicyState> {
        let tx = self.write_tx()?;
        f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        self.policy_state()
    }

    /// The lifecycle log, newest first.
    pub fn policy_log(&self, limit: usize) -> Result<Vec<PolicyLogRow>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, at, action, sha256, block, note FROM policy_log ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(PolicyLogRow {
                    id: from_sql(r.get(0)?),
                    at: from_sql(r.get(1)?),
                    action: r.get(2)?,
                    sha256: r.get(3)?,
                    block: r.get::<_, Option<i64>>(4)?.map(from_sql),
                    note: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The decision at `block`, or the latest at or before it.
    pub fn decision_at_or_before(&self, block: u64) -> Result<Option<DecisionRecord>> {
        self.conn
            .query_row(
                "SELECT block, policy_sha256, input_sha256, output_sha256, params_json,
                 resolved_params_json, miners_json FROM decisions WHERE block <= ?1
                 ORDER BY block DESC LIMIT 1",
                [to_sql(block)],
                |r| {
                    Ok(DecisionRecord {
                        block: from_sql(r.get(0)?),
                        policy_sha256: r.get(1)?,
                        input_sha256: r.get(2)?,
                        output_sha256: r.get(3)?,
                        params_json: r.get(4)?,
                        resolved_params_json: r.get(5)?,
                        miners_json: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The blocks that have a decision record, oldest first.
    pub fn decision_blocks(&self) -> Result<Vec<u64>> {
        let mut st = self
            .conn
            .prepare("SELECT block FROM decisions ORDER BY block")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| r.get::<_, i64>(0).map(from_sql))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Shadow runs, newest first.
    pub fn shadow_runs(&self, limit: usize) -> Result<Vec<ShadowRun>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT block, candidate, active, total_weight_diff, max_weight_diff,
                 miners_changed, error FROM shadow_runs ORDER BY block DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(ShadowRun {
                    block: from_sql(r.get(0)?),
                    candidate: r.get(1)?,
                    active: r.get(2)?,
                    total_weight_diff: from_sql(r.get(3)?),
                    max_weight_diff: from_sql(r.get(4)?),
                    miners_changed: from_sql(r.get(5)?),
                    error: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The per-miner rows of one shadow run, by uid.
    pub fn shadow_diffs(&self, block: u64, candidate: &str) -> Result<Vec<ShadowDiff>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT uid, hotkey, active_multiplier, candidate_multiplier, active_weight,
                 candidate_weight FROM shadow_diffs WHERE block = ?1 AND candidate = ?2 ORDER BY uid",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![to_sql(block), candidate], |r| {
                Ok(ShadowDiff {
                    uid: r.get(0)?,
                    hotkey: r.get(1)?,
                    active_multiplier: from_sql(r.get(2)?),
                    candidate_multiplier: from_sql(r.get(3)?),
                    active_weight: from_sql(r.get(4)?),
                    candidate_weight: from_sql(r.get(5)?),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

/// Writes a block's decision, shadow run and epoch-boundary activation (inside the block's
/// transaction).
pub(crate) fn write_lifecycle(
    tx: &rusqlite::Connection,
    block: u64,
    decision: Option<&DecisionRecord>,
    shadow: Option<&ShadowRecord>,
    activation: Option<&str>,
) -> rusqlite::Result<()> {
    if let Some(d) = decision {
        tx.execute(
            "INSERT OR REPLACE INTO decisions (block, policy_sha256, input_sha256, output_sha256,
             params_json, resolved_params_json, miners_json) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![
                to_sql(d.block),
                d.policy_sha256,
                d.input_sha256,
                d.output_sha256,
                d.params_json,
                d.resolved_params_json,
                d.miners_json
            ],
        )?;
    }
    if let Some(s) = shadow {
        let r = &s.run;
        tx.execute(
            "INSERT OR REPLACE INTO shadow_runs (block, candidate, active, total_weight_diff,
             max_weight_diff, miners_changed, error) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![
                to_sql(r.block),
                r.candidate,
                r.active,
                to_sql(r.total_weight_diff),
                to_sql(r.max_weight_diff),
                to_sql(r.miners_changed),
                r.error
            ],
        )?;
        let mut st = tx.prepare_cached(
            "INSERT OR REPLACE INTO shadow_diffs (block, candidate, uid, hotkey, active_multiplier,
             candidate_multiplier, active_weight, candidate_weight) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        )?;
        for d in &s.diffs {
            st.execute(params![
                to_sql(r.block),
                r.candidate,
                d.uid,
                d.hotkey,
                to_sql(d.active_multiplier),
                to_sql(d.candidate_multiplier),
                to_sql(d.active_weight),
                to_sql(d.candidate_weight)
            ])?;
        }
    }
    if let Some(sha) = activation {
        let n = tx.execute(
            "UPDATE policy_state SET previous = active, active = ?1, pending = NULL
             WHERE id = 1 AND pending IS ?1",
            [sha],
        )?;
        if n > 0 {
            log_change(
                tx,
                "epoch-activate",
                Some(sha),
                Some(block),
                "at the epoch boundary",
            )?;
        }
    }
    Ok(())
}
