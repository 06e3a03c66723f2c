//! The service's configuration, named as the seeds name it (`minimum_stake`,
//! `retention_window_days`, ...). Amounts and fractions are written as decimals (0.3 α,
//! 0.9) and turned into rao and fixed point exactly, never through float arithmetic.

use crate::policy::{Param, ParamValue};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Configuration of a [`super::VestingSystem`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VestingConfig {
    /// The subnet to track.
    pub netuid: u16,
    /// finney, test, local, archive, or a ws:// / wss:// URL.
    pub network: String,
    /// A node's URL; overrides `network`.
    pub chain_endpoint: Option<String>,
    /// The SQLite database.
    pub db_path: PathBuf,
    /// A policy component (.wasm); the built-in default policy otherwise.
    pub policy: Option<PathBuf>,
    /// Miners whose holder holds less alpha than this get weight 0.
    pub minimum_stake: f64,
    pub retention_window_days: u64,
    /// Held fraction for the full held factor.
    pub retention_target: f64,
    pub max_multiplier: f64,
    /// Follow the chain on a background thread (else call `update`).
    pub use_background_thread: bool,
    /// Longest wait between queries to the node: between polls far from an epoch (with
    /// `follow = "poll"`) and between reconnect attempts.
    pub query_interval_seconds: u64,
    /// `subscribe` (every finalized block as it lands) or `poll` (query the finalized head,
    /// every block near the subnet's next epoch, up to `query_interval_seconds` far from it).
    pub follow: String,
    /// The chain's block time in milliseconds (12,000 on mainnet): the shortest poll wait.
    pub block_time_ms: u64,
    /// Days of per-step ledger history kept (what `vesting replay` needs); 0 keeps all.
    /// Each epoch stores every holder's ledger: about 6 KB a holder an epoch.
    pub ledger_history_days: u64,
    pub vesting_duration_days: u64,
    pub vesting_interval_days: u64,
    /// Earnings smaller than this (alpha) vest at once.
    pub min_vesting_amount: f64,
    /// Blocks in a day (7200 on mainnet).
    pub blocks_per_day: u64,
    /// With an empty database, start at this block (default: the finalized head).
    pub start_block: Option<u64>,
    /// Bearer token of the API's policy endpoints; without one they are off.
    pub api_token: Option<String>,
    /// `/health` answers 503 (and `POST /weights/apply` refuses) when the store is more
    /// finalized blocks than this behind the node's finalized head.
    pub max_lag_blocks: u64,
    /// `/health` answers 503 (and `POST /weights/apply` refuses) when the latest epoch
    /// decision is older than this (counted in blocks of `block_time_ms` up to the
    /// finalized head, plus the time since the node last reported it).
    pub max_decision_age_seconds: u64,
    /// Connections the API keeps open at once; past it the oldest idle one is closed.
    /// Lowered to fit under the process's open-file limit.
    pub api_max_connections: usize,
    /// Requests the API works on at once; past it, 503 at once (not queued).
    pub api_max_requests: usize,
    /// Time a connection has to send a request's headers, from its opening or from its
    /// previous response (so also how long an idle keep-alive connection stays open).
    pub api_header_timeout_seconds: u64,
    /// Time to read a request's body and answer it (policy changes: 10 times this).
    pub api_request_timeout_seconds: u64,
    /// When the parameters differ from those the database's history was computed with:
    /// schedule a parameter change for the next epoch boundary instead of refusing to start.
    pub accept_param_change: bool,
}

impl Default for VestingConfig {
    fn default() -> Self {
        VestingConfig {
            netuid: 1,
            network: "finney".into(),
            chain_endpoint: None,
            db_path: "vesting.db".into(),
            policy: None,
            minimum_stake: 0.3,
            retention_window_days: 30,
            retention_target: 0.9,
            max_multiplier: 1.5,
            use_background_thread: true,
            query_interval_seconds: 300,
            follow: "subscribe".into(),
            block_time_ms: 12_000,
            ledger_history_days: 90,
            vesting_duration_days: 30,
            vesting_interval_days: 1,
            min_vesting_amount: 0.1,
            blocks_per_day: 7200,
            start_block: None,
            api_token: None,
            max_lag_blocks: 50,
            max_decision_age_seconds: 3 * 3600,
            api_max_connections: 512,
            api_max_requests: 64,
            api_header_timeout_seconds: 10,
            api_request_timeout_seconds: 30,
            accept_param_change: false,
        }
    }
}

/// A decimal (at most 9 places) as an integer of 1e-9 units: 0.3 -> 300_000_000.
pub fn nano(name: &str, x: f64) -> anyhow::Result<u64> {
    if !x.is_finite() || x < 0.0 {
        anyhow::bail!("{name} must be a finite, non-negative number, got {x}");
    }
    // Shortest decimal that round-trips, so 0.3 is "0.3", not 0.29999999999999998890.
    let text = format!("{x}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.len() > 9 {
        anyhow::bail!("{name} has more than 9 decimal places: {text}");
    }
    let whole: u64 = whole
        .parse()
        .map_err(|_| anyhow::anyhow!("{name} is too large: {text}"))?;
    let frac: u64 = format!("{frac:0<9}").parse().unwrap_or(0);
    whole
        .checked_mul(1_000_000_000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| anyhow::anyhow!("{name} is too large: {text}"))
}

impl VestingConfig {
    /// The policy parameters this configuration sets.
    pub fn params(&self) -> anyhow::Result<Vec<Param>> {
        let p = |name: &str, value| Param {
            name: name.into(),
            value,
        };
        Ok(vec![
            p(
                "minimum_stake",
                ParamValue::Amount(nano("minimum_stake", self.minimum_stake)?),
            ),
            p(
                "retention_window_days",
                ParamValue::Count(self.retention_window_days),
            ),
            p(
                "retention_target",
                ParamValue::Fixed(nano("retention_target", self.retention_target)?),
            ),
            p(
                "max_multiplier",
                ParamValue::Fixed(nano("max_multiplier", self.max_multiplier)?),
            ),
            p(
                "vesting_duration_days",
                ParamValue::Count(self.vesting_duration_days),
            ),
            p(
                "vesting_interval_days",
                ParamValue::Count(self.vesting_interval_days),
            ),
            p(
                "min_vesting_amount",
                ParamValue::Amount(nano("min_vesting_amount", self.min_vesting_amount)?),
            ),
            p("blocks_per_day", ParamValue::Count(self.blocks_per_day)),
        ])
    }

    /// Reads a TOML file.
    pub fn from_toml_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_exact_integers() {
        assert_eq!(nano("x", 0.3).unwrap(), 300_000_000);
        assert_eq!(nano("x", 1.5).unwrap(), 1_500_000_000);
        assert_eq!(nano("x", 0.9).unwrap(), 900_000_000);
        assert_eq!(nano("x", 12.0).unwrap(), 12_000_000_000);
        assert_eq!(nano("x", 0.000000001).unwrap(), 1);
        assert!(
            nano("x", -1.0)
                .unwrap_err()
                .to_string()
                .contains("non-negative")
        );
        assert!(nano("x", f64::NAN).is_err());
        assert!(
            nano("x", 0.0000000001)
                .unwrap_err()
                .to_string()
                .contains("9 decimal places")
        );
    }

    #[test]
    fn a_config_file_with_an_unknown_key_is_refused() {
        let e = toml::from_str::<VestingConfig>("netuid = 3\nmax_multipler = 2.0\n").unwrap_err();
        assert!(e.to_string().contains("max_multipler"), "{e}");
        let c: VestingConfig = toml::from_str("netuid = 3\nmax_multiplier = 2.0\n").unwrap();
        assert_eq!(
            (c.netuid, c.max_multiplier, c.retention_window_days),
            (3, 2.0, 30)
        );
    }
}
