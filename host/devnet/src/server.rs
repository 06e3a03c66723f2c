//! Starting and stopping the devnet: configuration, the command-line arguments, the
//! jsonrpsee server (WebSocket and HTTP on one port) and the block timer.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Args;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::chain::{Chain, Pruning};
use crate::error::{DevnetError, Result};
use crate::rpc::{Shared, module};
use crate::runtime;
use crate::scenario::Scenario;

/// How to run a devnet.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    pub scenario: Scenario,
    /// Address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Milliseconds between blocks; 0 = blocks only on demand (control methods).
    pub block_time_ms: u64,
    pub finality_depth: u64,
    pub pruning: Pruning,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Blocks produced before serving.
    pub prefill_blocks: u64,
    /// Overrides the scenario's genesis runtime (spec version).
    pub runtime: Option<u32>,
    /// A storage item or runtime API the devnet does not model answers with a JSON-RPC
    /// error naming it (`crate::modelled`) rather than null. On by default here (tests,
    /// `vesting demo`); `vesting devnet` turns it on with `--strict`.
    pub strict: bool,
}

impl DevnetConfig {
    /// A configuration from a scenario's own defaults, on 127.0.0.1 with a free port.
    pub fn new(scenario: Scenario) -> Self {
        let pruning = match scenario.state_pruning {
            None | Some(0) => Pruning::Archive,
            Some(n) => Pruning::Last(n),
        };
        Self {
            block_time_ms: scenario.block_time_ms.unwrap_or(0),
            finality_depth: scenario.finality_depth.unwrap_or(2),
            pruning,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: None,
            prefill_blocks: 0,
            runtime: None,
            strict: true,
            scenario,
        }
    }
}

/// Command-line arguments of `vesting devnet`.
#[derive(Debug, Clone, Args)]
pub struct DevnetArgs {
    /// A built-in scenario (tiny, attribution, demo) or a scenario TOML file.
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    /// Interface to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port for WebSocket and HTTP JSON-RPC (0 = any free port).
    #[arg(long, default_value_t = 9944)]
    pub port: u16,
    /// Milliseconds between blocks (12000 as on mainnet; 0 = only on devnet_advance).
    #[arg(long)]
    pub block_time_ms: Option<u64>,
    /// How many blocks finality lags the head.
    #[arg(long)]
    pub finality_depth: Option<u64>,
    /// Keep every block's state (an archive node).
    #[arg(long, conflicts_with = "state_pruning")]
    pub archive: bool,
    /// Keep the last N blocks' state (a normal node keeps 256).
    #[arg(long)]
    pub state_pruning: Option<u64>,
    /// Seed of the scenario's random behaviours.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Blocks to produce before serving.
    #[arg(long, default_value_t = 0)]
    pub prefill_blocks: u64,
    /// The runtime (spec version) at genesis: 393, 424 or 459 (default: the scenario's
    /// `runtime`, else 424). The scenario's `[[upgrades]]` still apply.
    #[arg(long)]
    pub runtime: Option<String>,
    /// Answer reads of storage items and runtime APIs the devnet does not model with a
    /// JSON-RPC error naming them (code -32010) instead of null, which clients read as
    /// the metadata default.
    #[arg(long)]
    pub strict: bool,
    /// Print the accounts to sign as (the funded dev accounts `//Alice`, ... with their
    /// URI and SS58 address) and the scenario's named accounts, then exit.
    #[arg(long)]
    pub accounts: bool,
}

impl DevnetArgs {
    /// The configuration these arguments describe.
    pub fn config(&self) -> Result<DevnetConfig> {
        let mut c = DevnetConfig::new(Scenario::load(&self.scenario)?);
        c.listen = SocketAddr::new(self.host, self.port);
        c.block_time_ms = self
            .block_time_ms
            .or(c.scenario.block_time_ms)
            .unwrap_or(12_000);
        if let Some(d) = self.finality_depth {
            c.finality_depth = d;
        }
        if self.archive {
            c.pruning = Pruning::Archive;
        } else if let Some(n) = self.state_pruning {
            if n == 0 {
                return Err(DevnetError::Server(
                    "--state-pruning must be at least 1 (use --archive to keep all)".into(),
                ));
            }
            c.pruning = Pruning::Last(n);
        }
        c.seed = self.seed;
        c.prefill_blocks = self.prefill_blocks;
        c.strict = self.strict;
        c.runtime = self
            .runtime
            .as_deref()
            .map(crate::runtime::parse)
            .transpose()
            .map_err(|e| DevnetError::Server(format!("--runtime: {e}")))?;
        Ok(c)
    }
}

/// A running devnet.
pub struct DevnetHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: ServerHandle,
    timer: Option<JoinHandle<()>>,
}

impl DevnetHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://host:port`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `http://host:port`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The in-process chain (read it under the lock; do not hold across awaits).
    pub fn chain(&self) -> &RwLock<Chain> {
        &self.shared.chain
    }

    /// Produces `n` blocks now and notifies subscribers.
    pub fn advance(&self, n: u64) -> Result<()> {
        self.shared.advance(n)
    }

    /// Stops the server and the block timer.
    pub async fn stop(self) {
        if let Some(t) = self.timer {
            t.abort();
        }
        let _ = self.server.stop();
        self.server.stopped().await;
    }
}

/// Builds the chain for a configuration (no server).
pub fn build_chain(config: &DevnetConfig) -> Result<Chain> {
    let sc = &config.scenario;
    let spec = config
        .runtime
        .or(sc.runtime.map(|r| r.0))
        .unwrap_or(runtime::DEFAULT_SPEC);
    let genesis_rt = runtime::profile(spec)?;
    let mut upgrades = vec![];
    for (i, u) in sc.upgrades.iter().enumerate() {
        let rt = runtime::profile(u.runtime.0)
            .map_err(|e| DevnetError::Scenario(format!("upgrades[{i}].runtime: {e}")))?;
        upgrades.push((u.block, rt));
    }
    let (mut genesis, driver) = sc.build(config.block_time_ms, config.seed)?;
    // The standard dev accounts (`//Alice`, ...) are funded at genesis, so a user signs
    // as them with polkadot.js's keyring or a bittensor wallet (`crate::tx::keys`).
    for name in crate::tx::keys::DEV_ACCOUNTS {
        genesis.endow(
            crate::tx::keys::dev_account(name),
            crate::tx::keys::DEV_ENDOWMENT,
        );
    }
    // The legacy epoch rule holds while a pre-423 runtime runs.
    genesis.dynamic_tempo_from = genesis
        .dynamic_tempo_from
        .max(runtime::first_dynamic_block(&genesis_rt, &upgrades));
    let mut chain = Chain::new(genesis_rt, genesis, config.finality_depth, config.pruning)?;
    for (i, (n, rt)) in upgrades.into_iter().enumerate() {
        chain
            .schedule_upgrade(n, rt)
            .map_err(|e| DevnetError::Scenario(format!("upgrades[{i}]: {e}")))?;
    }
    chain.set_driver(Box::new(driver));
    if config.prefill_blocks > 0 {
        chain.produce(config.prefill_blocks)?;
    }
    Ok(chain)
}

/// Starts a devnet: builds the chain, serves JSON-RPC, runs the block timer.
pub async fn start(config: DevnetConfig) -> Result<DevnetHandle> {
    let chain = build_chain(&config)?;
    let (best_tx, _) = broadcast::channel(1024);
    let (finalized_tx, _) = broadcast::channel(1024);
    let shared = Arc::new(Shared {
        chain: RwLock::new(chain),
        best_tx,
        finalized_tx,
        instant: config.block_time_ms == 0,
        chain_name: "Bittensor".into(),
        strict: config.strict,
    });
    let server_config = ServerConfig::builder()
        .max_connections(1024)
        .max_response_body_size(64 * 1024 * 1024)
        .build();
    let server = Server::builder()
        .set_config(server_config)
        .build(config.listen)
        .await
        .map_err(|e| DevnetError::Server(format!("cannot bind {}: {e}", config.listen)))?;
    let addr = server
        .local_addr()
        .map_err(|e| DevnetError::Server(e.to_string()))?;
    let handle = server.start(module(shared.clone())?);
    let timer = (config.block_time_ms > 0).then(|| {
        let s = shared.clone();
        let period = Duration::from_millis(config.block_time_ms);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = s.advance(1) {
                    tracing::error!("block production stopped: {e}");
                    return;
                }
            }
        })
    });
    tracing::info!("devnet {} serving on ws://{addr}", config.scenario.name);
    Ok(DevnetHandle {
        addr,
        shared,
        server: handle,
        timer,
    })
}

/// Runs `vesting devnet` until Ctrl-C.
pub async fn run(args: DevnetArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    if args.accounts {
        print!("{}", crate::accounts::render(&config.scenario));
        return Ok(());
    }
    let name = config.scenario.name.clone();
    let bt = config.block_time_ms;
    let handle = start(config).await?;
    println!(
        "devnet '{name}' on {} (block time {bt} ms); Ctrl-C to stop",
        handle.ws_url()
    );
    tokio::signal::ctrl_c().await?;
    handle.stop().await;
    Ok(())
}
