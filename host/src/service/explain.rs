//! Why a miner got its multiplier (`vesting explain`), and the bit-for-bit replay of an
//! epoch's decision record (`vesting replay`): both read the store only.

use crate::policy::{Param, ParamValue, PolicyEngine, decision};
use crate::store::{DecisionRecord, HolderStats, MinerHistoryRow, Store};
use serde::Serialize;

/// A fixed-point value (9 decimals) as a decimal string, exactly.
pub fn fixed(v: u64) -> String {
    format!("{}.{:09}", v / 1_000_000_000, v % 1_000_000_000)
}

fn param_text(params: &[Param], name: &str) -> String {
    match params.iter().find(|p| p.name == name).map(|p| &p.value) {
        Some(ParamValue::Amount(v)) => format!("{} α", fixed(*v)),
        Some(ParamValue::Fixed(v)) => fixed(*v),
        Some(ParamValue::Count(v)) => v.to_string(),
        Some(ParamValue::Flag(b)) => b.to_string(),
        Some(ParamValue::Choice(c)) => c.clone(),
        None => "?".into(),
    }
}

/// The decision a multiplier came from.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionSummary {
    pub block: u64,
    pub policy_sha256: String,
    pub policy: Option<String>,
    pub input_sha256: String,
    pub output_sha256: String,
}

/// Why a miner has its multiplier.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub hotkey: String,
    pub uid: u16,
    pub holder: String,
    /// The block of the multiplier (an epoch, or a later block where the holder's stake moved).
    pub block: u64,
    pub multiplier: u64,
    pub held_factor: u64,
    pub duration_factor: u64,
    pub eligible: bool,
    pub holding: Option<HolderStats>,
    /// The latest epoch decision at or before `block`.
    pub decision: Option<DecisionSummary>,
    /// The parameters with the policy's defaults filled in.
    pub params: Vec<Param>,
    /// The hotkey's last epochs: earned, manual in and out.
    pub recent_epochs: Vec<MinerHistoryRow>,
    /// The formula with this miner's values.
    pub formula: Vec<String>,
    /// A parameter change pending for the next epoch boundary: (name, now, then).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_params: Vec<(String, String, String)>,
}

/// Explains `hotkey`'s latest multiplier. `params_now`: the parameters resolved by the
/// policy in service, used when no decision is recorded yet.
pub fn explain(store: &Store, hotkey: &str, params_now: Vec<Param>) -> anyhow::Result<Explanation> {
    let Some(m) = store.miner_multipliers(hotkey)?.pop() else {
        anyhow::bail!(
            "no miner with hotkey `{hotkey}` has a multiplier yet; `vesting stats` lists the miners"
        );
    };
    let holding = store.holding_at(&m.holder, m.block)?;
    let decision = store.decision_at_or_before(m.block)?;
    let params: Vec<Param> = match &decision {
        Some(d) => serde_json::from_str(&d.resolved_params_json)
            .map_err(|e| anyhow::anyhow!("decision at #{}: bad parameters: {e}", d.block))?,
        None => params_now,
    };
    let policy = match &decision {
        Some(d) => store
            .find_policy(&d.policy_sha256)
            .ok()
            .map(|p| format!("{}@{}", p.name, p.version)),
        None => None,
    };
    let mut recent = store.miner_history(hotkey)?;
    let keep = recent.len().saturating_sub(5);
    recent.drain(..keep);
    let p = |n: &str| param_text(&params, n);
    let mut formula = vec![];
    if let Some(h) = &holding {
        formula.push(format!(
            "eligible: total stake {} α >= minimum_stake {}: {}",
            fixed(h.total_stake),
            p("minimum_stake"),
            if m.eligible {
                "yes"
            } else {
                "no (multiplier 0)"
            }
        ));
        formula.push(format!(
            "held fraction = held in window / earned in window = {} / {} = {}",
            fixed(h.held_in_window),
            fixed(h.earned_in_window),
            fixed(h.held_fraction)
        ));
        formula.push(format!(
            "held factor = min(1, held fraction / retention_target) = min(1, {} / {}) = {}",
            fixed(h.held_fraction),
            p("retention_target"),
            fixed(m.held_factor)
        ));
        formula.push(format!(
            "duration factor = min(1, holding days / retention_window_days) = min(1, {} / {}) = {}",
            fixed(h.holding_days),
            p("retention_window_days"),
            fixed(m.duration_factor)
        ));
    } else {
        formula.push("no holding is recorded for this holder (it holds nothing tracked)".into());
    }
    formula.push(format!(
        "multiplier = 1 + sqrt(held factor × duration factor) × (max_multiplier - 1) = 1 + sqrt({} × {}) × ({} - 1) = {}",
        fixed(m.held_factor),
        fixed(m.duration_factor),
        p("max_multiplier"),
        fixed(m.multiplier)
    ));
    Ok(Explanation {
        hotkey: m.hotkey,
        uid: m.uid,
        holder: m.holder,
        block: m.block,
        multiplier: m.multiplier,
        held_factor: m.held_factor,
        duration_factor: m.duration_factor,
        eligible: m.eligible,
        holding,
        decision: decision.map(|d| DecisionSummary {
            block: d.block,
            policy_sha256: d.policy_sha256,
            policy,
            input_sha256: d.input_sha256,
            output_sha256: d.output_sha256,
        }),
        pending_params: match store.param_state().ok().and_then(|s| s.pending) {
            Some(next) => crate::store::params_diff(&params, &next)
                .into_iter()
                .filter(|(_, _, then)| then != "-")
                .collect(),
            None => vec![],
        },
        params,
        recent_epochs: recent,
        formula,
    })
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "miner {} (uid {})", self.hotkey, self.uid)?;
        writeln!(f, "holder {}", self.holder)?;
        writeln!(
            f,
            "multiplier {} at block #{}",
            fixed(self.multiplier),
            self.block
        )?;
        if let Some(d) = &self.decision {
            writeln!(
                f,
                "decided at epoch #{} by policy {} ({})",
                d.block,
                d.policy.as_deref().unwrap_or("?"),
                &d.policy_sha256[..12.min(d.policy_sha256.len())]
            )?;
            writeln!(f, "  input sha256  {}", d.input_sha256)?;
            writeln!(f, "  output sha256 {}", d.output_sha256)?;
        }
        if let Some(h) = &self.holding {
            writeln!(
                f,
                "holding: {} α staked; earned in window {} α, held {} α; vested {} α, locked {} α",
                fixed(h.total_stake),
                fixed(h.earned_in_window),
                fixed(h.held_in_window),
                fixed(h.vested),
                fixed(h.locked)
            )?;
        }
        writeln!(
            f,
            "why (the seeds' formula, with the values the policy reported):"
        )?;
        for line in &self.formula {
            writeln!(f, "  {line}")?;
        }
        if !self.recent_epochs.is_empty() {
            writeln!(f, "recent epochs (earned / manual in / manual out, α):")?;
            for e in &self.recent_epochs {
                writeln!(
                    f,
                    "  #{}: {} / {} / {}",
                    e.epoch_block,
                    fixed(e.earned),
                    fixed(e.manual_in),
                    fixed(e.manual_out)
                )?;
            }
        }
        write!(f, "parameters:")?;
        for p in &self.params {
            write!(f, " {}={}", p.name, param_text(&self.params, &p.name))?;
        }
        if !self.pending_params.is_empty() {
            write!(f, "\nparameter change at the next epoch boundary:")?;
            for (n, now, then) in &self.pending_params {
                write!(f, " {n} {now} -> {then}")?;
            }
        }
        Ok(())
    }
}

/// The outcome of replaying one decision.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    pub block: u64,
    pub policy_sha256: String,
    /// The stored inputs still hash to the recorded input hash.
    pub input_matches: bool,
    /// Running the policy again gives the recorded output hash.
    pub output_matches: bool,
    /// The outputs also equal the stored holdings and multipliers rows.
    pub rows_match: bool,
    /// The ledgers of this epoch were pruned (older than `ledger_history_days`): it
    /// cannot be replayed.
    pub pruned: bool,
}

impl Replay {
    pub fn identical(&self) -> bool {
        self.input_matches && self.output_matches && self.rows_match
    }
}

/// Replays the decision at `block` with the policy that made it (from the store).
pub fn replay(store: &Store, engine: &PolicyEngine, d: &DecisionRecord) -> anyhow::Result<Replay> {
    let pruned_before: Option<u64> = store
        .meta("ledger_history_from")?
        .and_then(|v| v.parse().ok());
    if pruned_before.is_some_and(|b| d.block < b) {
        return Ok(Replay {
            block: d.block,
            policy_sha256: d.policy_sha256.clone(),
            input_matches: false,
            output_matches: false,
            rows_match: false,
            pruned: true,
        });
    }
    let params: Vec<Param> = serde_json::from_str(&d.params_json)?;
    let miners: Vec<crate::policy::Miner> = serde_json::from_str(&d.miners_json)?;
    let ledgers = store.ledgers_at(d.block)?;
    let input = decision::input_hash(d.block, &params, &ledgers, &miners);
    let policy = engine.load(&store.policy_wasm(&d.policy_sha256)?)?;
    let out = decision::run(&policy, &params, d.block, ledgers, miners)?;
    let stored_mults = store.multipliers_at(d.block)?;
    let rows_match = stored_mults.len() == out.multipliers.len()
        && stored_mults.iter().zip(&out.multipliers).all(|(s, o)| {
            (
                s.uid,
                &s.hotkey,
                s.multiplier,
                s.held_factor,
                s.duration_factor,
                s.eligible,
            ) == (
                o.uid,
                &o.hotkey,
                o.multiplier,
                o.held_factor,
                o.duration_factor,
                o.eligible,
            )
        })
        && out.holdings.iter().all(|h| {
            store
                .holding_at(&h.holder, d.block)
                .ok()
                .flatten()
                .is_some_and(|s| {
                    s.block == d.block
                        && (s.total_stake, s.held_fraction, s.holding_blocks)
                            == (h.total_stake, h.held_fraction, h.holding_blocks)
                })
        });
    Ok(Replay {
        block: d.block,
        policy_sha256: d.policy_sha256.clone(),
        input_matches: input == d.input_sha256,
        output_matches: decision::output_hash(&out) == d.output_sha256,
        rows_match,
        pruned: false,
    })
}
