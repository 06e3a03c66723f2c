//! The parameters the store's history was computed with: the parameters in force and a
//! change waiting for the next epoch boundary (columns of the policy state), each change
//! logged in the policy change log (`params-record`, `params-schedule`, `params-cancel`,
//! `params-activate`) in the same transaction. A scheduled change goes into force at an
//! epoch block, written with that block (like a policy scheduled for the next epoch).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::policies::log_change;
use super::{Result, Store};
use crate::policy::{Param, ParamValue};

/// The parameters in force and the change waiting for the next epoch boundary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParamState {
    /// What the history was computed with (None: nothing recorded yet).
    pub in_force: Option<Vec<Param>>,
    /// Goes into force at the next epoch block.
    pub pending: Option<Vec<Param>>,
}

/// The parameters as the store records them (JSON, in the given order).
pub fn params_json(params: &[Param]) -> String {
    serde_json::to_string(params).unwrap_or_default()
}

fn value_text(v: &ParamValue) -> String {
    let dec = |x: u64| {
        let s = format!("{}.{:09}", x / 1_000_000_000, x % 1_000_000_000);
        let s = s.trim_end_matches('0');
        s.strip_suffix('.').unwrap_or(s).to_string()
    };
    match v {
        ParamValue::Amount(x) => format!("{} α", dec(*x)),
        ParamValue::Fixed(x) => dec(*x),
        ParamValue::Count(x) => x.to_string(),
        ParamValue::Flag(b) => b.to_string(),
        ParamValue::Choice(c) => c.clone(),
    }
}

/// `name = value` for every parameter, one line each.
pub fn describe_params(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| format!("{} = {}", p.name, value_text(&p.value)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every parameter that differs: (name, recorded value, new value); a missing one is "-".
pub fn params_diff(recorded: &[Param], new: &[Param]) -> Vec<(String, String, String)> {
    let find = |ps: &[Param], name: &str| {
        ps.iter()
            .find(|p| p.name == name)
            .map(|p| value_text(&p.value))
    };
    let mut names: Vec<&str> = recorded.iter().map(|p| p.name.as_str()).collect();
    for p in new {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    names
        .into_iter()
        .filter_map(|n| {
            let (a, b) = (find(recorded, n), find(new, n));
            (a != b).then(|| {
                (
                    n.to_string(),
                    a.unwrap_or_else(|| "-".into()),
                    b.unwrap_or_else(|| "-".into()),
                )
            })
        })
        .collect()
}

fn diff_note(recorded: &[Param], new: &[Param]) -> String {
    let d = params_diff(recorded, new);
    if d.is_empty() {
        return "no change".into();
    }
    d.iter()
        .map(|(n, a, b)| format!("{n} {a} -> {b}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse(json: Option<String>) -> Option<Vec<Param>> {
    json.and_then(|j| serde_json::from_str(&j).ok())
}

impl Store {
    fn params_tx(&self) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(self.conn(), rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))
    }

    /// The parameters in force and the pending change.
    pub fn param_state(&self) -> Result<ParamState> {
        let (a, p): (Option<String>, Option<String>) = self
            .conn()
            .query_row(
                "SELECT params_json, pending_params_json FROM policy_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or((None, None));
        Ok(ParamState {
            in_force: parse(a),
            pending: parse(p),
        })
    }

    /// The parameters of the latest recorded epoch decision (databases written before the
    /// parameters were recorded in the policy state).
    pub fn latest_decision_params(&self) -> Result<Option<Vec<Param>>> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT params_json FROM decisions ORDER BY block DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(parse(json))
    }

    /// Records the parameters the history is computed with (a database's first start, or
    /// one written before they were recorded); logged as `params-record`.
    pub fn record_params(&self, params: &[Param], note: &str) -> Result<()> {
        let tx = self.params_tx()?;
        (|| {
            tx.execute(
                "UPDATE policy_state SET params_json = ?1 WHERE id = 1",
                [params_json(params)],
            )?;
            log_change(&tx, "params-record", None, None, note)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Schedules a parameter change for the next epoch boundary (replacing one pending);
    /// logged as `params-schedule` with what changes. Setting the parameters in force
    /// cancels a pending change instead (`params-cancel`).
    pub fn schedule_params(&self, params: &[Param], note: &str) -> Result<ParamState> {
        let state = self.param_state()?;
        let in_force = state.in_force.clone().unwrap_or_default();
        let tx = self.params_tx()?;
        (|| {
            if in_force.as_slice() == params {
                tx.execute(
                    "UPDATE policy_state SET pending_params_json = NULL WHERE id = 1",
                    [],
                )?;
                if state.pending.is_some() {
                    log_change(&tx, "params-cancel", None, None, note)?;
                }
                return Ok(());
            }
            tx.execute(
                "UPDATE policy_state SET pending_params_json = ?1 WHERE id = 1",
                [params_json(params)],
            )?;
            let what = format!(
                "at the next epoch boundary: {}; {note}",
                diff_note(&in_force, params)
            );
            log_change(&tx, "params-schedule", None, None, &what)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        self.param_state()
    }
}

/// Puts the pending parameters (as JSON) in force at an epoch block (inside the block's
/// transaction); nothing if the pending change was replaced or cancelled meanwhile.
pub(crate) fn write_activation(
    tx: &rusqlite::Connection,
    block: u64,
    json: Option<&str>,
) -> rusqlite::Result<()> {
    let Some(json) = json else { return Ok(()) };
    let old: Option<String> = tx
        .query_row(
            "SELECT params_json FROM policy_state WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let n = tx.execute(
        "UPDATE policy_state SET params_json = ?1, pending_params_json = NULL
         WHERE id = 1 AND pending_params_json IS ?1",
        params![json],
    )?;
    if n > 0 {
        let new = parse(Some(json.to_string())).unwrap_or_default();
        let note = format!(
            "at the epoch boundary: {}",
            diff_note(&parse(old).unwrap_or_default(), &new)
        );
        log_change(tx, "params-activate", None, Some(block), &note)?;
    }
    Ok(())
}
