//! The block tree: headers with real parent hashes, per-block state snapshots (pruned or
//! archive), events and ground truth, finality lagging the head, and reorgs that abandon
//! a best-chain branch above the finalized block, and runtime upgrades: each block knows
//! the runtime that executed it and the one its state holds (`crate::runtime`).

mod block;
mod pool;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use codec::{Compact, Encode};

pub use block::{Block, DigestItem, Hash, Header, hex0x};

use crate::encode::UpgradeEvent;
use crate::error::{DevnetError, Result};
use crate::extrinsic::{action_call, set_code, signed, timestamp_inherent};
use crate::hashing::blake2_256;
use crate::metadata::ChainMetadata;
use crate::model::{Action, ChainState, Phase, TruthEntry, named_account};
use crate::runtime::RuntimeProfile;

/// How much state history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pruning {
    /// Every block's state (an archive node).
    Archive,
    /// The last N blocks' state (a normal node keeps 256).
    Last(u64),
}

/// What a call that produced blocks changed, for subscriptions.
#[derive(Debug, Default, Clone)]
pub struct ChainUpdate {
    /// New best blocks, in order (a reorg lists the new branch from its fork point).
    pub best: Vec<Arc<Block>>,
    /// Newly finalized blocks, in order.
    pub finalized: Vec<Arc<Block>>,
    /// Whether the best chain was reorganised.
    pub reorged: bool,
}

/// Supplies the actions of each block (scenario scripts and random behaviour).
pub trait BlockDriver: Send + Sync {
    /// Actions for block `number` built on `parent` in reorg generation `branch`.
    fn actions(&mut self, parent: &ChainState, number: u64, branch: u64) -> Vec<Action>;
    /// A reorg to perform right after block `number` is produced: the depth abandoned.
    fn reorg_after(&mut self, _number: u64) -> Option<u64> {
        None
    }
}

/// The block tree and its states.
pub struct Chain {
    genesis_runtime: Arc<RuntimeProfile>,
    /// Block number -> the runtime that block's `set_code` installs (it runs from the
    /// next block on).
    upgrades: BTreeMap<u64, Arc<RuntimeProfile>>,
    blocks: HashMap<Hash, Arc<Block>>,
    states: HashMap<Hash, Arc<ChainState>>,
    by_number: BTreeMap<u64, Vec<Hash>>,
    best: Vec<Hash>,
    finalized: u64,
    finality_depth: u64,
    pruning: Pruning,
    /// Block numbers up to this one have had their states dropped (`prune`).
    pruned_to: Option<u64>,
    branch: u64,
    queued: Vec<Action>,
    /// Submitted signed transactions for the next block (`pool`).
    pool: Vec<crate::tx::Checked>,
    driver: Option<Box<dyn BlockDriver>>,
    /// Actions dropped because they failed when their block was built: (block, action, error).
    pub rejected: Vec<(u64, Action, String)>,
}

impl Chain {
    /// A chain whose genesis block holds `genesis` and runs `runtime`.
    pub fn new(
        runtime: Arc<RuntimeProfile>,
        genesis: ChainState,
        finality_depth: u64,
        pruning: Pruning,
    ) -> Result<Self> {
        let number = genesis.block;
        let state_root = blake2_256(&(b"devnet-genesis", number, genesis.timestamp).encode());
        let extrinsics: Vec<Vec<u8>> = vec![];
        let header = Header {
            parent_hash: [0; 32],
            number: number as u32,
            state_root,
            extrinsics_root: blake2_256(&extrinsics.encode()),
            digest: vec![],
        };
        let hash = header.hash();
        let block = Arc::new(Block {
            hash,
            header,
            number,
            branch: 0,
            events: vec![],
            events_encoded: OnceLock::new(),
            extrinsics,
            actions: vec![],
            truth: vec![],
            runtime: runtime.clone(),
            code: runtime.clone(),
            upgrade_events: vec![],
            dropped: vec![],
        });
        let mut genesis = genesis;
        genesis.rules = runtime.rules;
        genesis.valued_393 = runtime.rules.legacy_shares;
        if runtime.rules.legacy_shares {
            // A chain that starts on 393 holds no `AlphaV2`: its genesis pools are legacy.
            genesis.make_pools_legacy();
        }
        let mut chain = Self {
            genesis_runtime: runtime,
            upgrades: BTreeMap::new(),
            blocks: HashMap::new(),
            states: HashMap::new(),
            by_number: BTreeMap::new(),
            best: vec![],
            finalized: number,
            finality_depth,
            pruning,
            pruned_to: None,
            branch: 0,
            queued: vec![],
            pool: vec![],
            driver: None,
            rejected: vec![],
        };
        chain.insert(block, Arc::new(genesis));
        chain.best.push(hash);
        Ok(chain)
    }

    fn insert(&mut self, block: Arc<Block>, state: Arc<ChainState>) {
        self.by_number
            .entry(block.number)
            .or_default()
            .push(block.hash);
        self.states.insert(block.hash, state);
        self.blocks.insert(block.hash, block);
    }

    /// Schedules a runtime upgrade: block `number` carries `Sudo::sudo(System::set_code)`
    /// (executed by the runtime before, with `System.CodeUpdated`), and `runtime` runs
    /// from block `number + 1`. Specs only grow, as on mainnet.
    pub fn schedule_upgrade(&mut self, number: u64, runtime: Arc<RuntimeProfile>) -> Result<()> {
        let head = self.head().number;
        if number <= head {
            return Err(DevnetError::Chain(format!(
                "cannot upgrade at block {number}: the head is already #{head}"
            )));
        }
        let before = self
            .upgrades
            .range(..number)
            .next_back()
            .map(|(_, r)| r.spec)
            .unwrap_or(self.genesis_runtime.spec);
        let after = self
            .upgrades
            .range(number + 1..)
            .next()
            .map(|(_, r)| r.spec);
        if runtime.spec <= before || after.is_some_and(|a| a <= runtime.spec) {
            return Err(DevnetError::Chain(format!(
                "cannot upgrade to runtime {} at block {number}: runtime {before} runs before it{} (specs only grow)",
                runtime.spec,
                after.map(|a| format!(" and {a} after")).unwrap_or_default()
            )));
        }
        self.upgrades.insert(number, runtime);
        Ok(())
    }

    /// The runtime the chain starts on.
    pub fn genesis_runtime(&self) -> &Arc<RuntimeProfile> {
        &self.genesis_runtime
    }

    /// The scheduled upgrades: (block carrying `set_code`, runtime installed).
    pub fn upgrades(&self) -> impl Iterator<Item = (u64, &Arc<RuntimeProfile>)> {
        self.upgrades.iter().map(|(n, r)| (*n, r))
    }

    /// The metadata the head's state holds (what `state_getMetadata` answers now).
    pub fn md(&self) -> Arc<ChainMetadata> {
        self.head().code.md.clone()
    }

    /// Sets the driver that supplies each block's actions.
    pub fn set_driver(&mut self, driver: Box<dyn BlockDriver>) {
        self.driver = Some(driver);
    }

    /// The number of the first block (genesis).
    pub fn genesis_number(&self) -> u64 {
        self.blocks[&self.best[0]].number
    }

    pub fn genesis_hash(&self) -> Hash {
        self.best[0]
    }

    pub fn head(&self) -> Arc<Block> {
        self.blocks[self.best.last().expect("best chain is never empty")].clone()
    }

    pub fn head_state(&self) -> Arc<ChainState> {
        self.states[&self.head().hash].clone()
    }

    pub fn finalized_number(&self) -> u64 {
        self.finalized
    }

    pub fn finalized_hash(&self) -> Hash {
        self.best[(self.finalized - self.genesis_number()) as usize]
    }

    /// The best-chain block hash at `number`.
    pub fn hash_at(&self, number: u64) -> Option<Hash> {
        let g = self.genesis_number();
        if number < g {
            return None;
        }
        self.best.get((number - g) as usize).copied()
    }

    pub fn block(&self, hash: &Hash) -> Option<Arc<Block>> {
        self.blocks.get(hash).cloned()
    }

    /// The state at a block, or the error a pruned node gives.
    pub fn state_at(&self, hash: &Hash) -> Result<Arc<ChainState>> {
        if !self.blocks.contains_key(hash) {
            return Err(DevnetError::Chain(format!(
                "UnknownBlock: Header was not found in the database: {}",
                hex0x(hash)
            )));
        }
        self.states.get(hash).cloned().ok_or_else(|| {
            DevnetError::Chain(format!("State already discarded for {}", hex0x(hash)))
        })
    }

    /// Queues an action for the next block after checking it against the head state.
    pub fn queue(&mut self, a: Action) -> Result<()> {
        let mut st = (*self.head_state()).clone();
        st.rules = self.head().code.rules;
        // Checked as the block it will go into, as the pool validates (`submit_extrinsic`).
        st.block = self.head().number + 1;
        st.check_action(&a)?;
        self.queued.push(a);
        Ok(())
    }

    /// Whether actions wait for the next block.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Produces `n` blocks on the best chain.
    pub fn produce(&mut self, n: u64) -> Result<ChainUpdate> {
        let mut upd = ChainUpdate::default();
        for _ in 0..n {
            let b = self.produce_one()?;
            let number = b.number;
            upd.best.push(b);
            let reorg = self.driver.as_mut().and_then(|d| d.reorg_after(number));
            if let Some(depth) = reorg {
                let r = self.reorg(depth)?;
                upd.best.extend(r.best);
                upd.reorged = true;
            }
            upd.finalized.extend(self.advance_finality());
        }
        Ok(upd)
    }

    fn produce_one(&mut self) -> Result<Arc<Block>> {
        let parent = self.head();
        let pstate = self.states.get(&parent.hash).cloned().ok_or_else(|| {
            DevnetError::Chain(format!(
                "state of the head {} is missing",
                hex0x(&parent.hash)
            ))
        })?;
        let number = parent.number + 1;
        // The block runs the runtime its parent's state holds.
        let rt = parent.code.clone();
        let pstate = if pstate.rules == rt.rules {
            pstate
        } else {
            let mut p = (*pstate).clone();
            p.rules = rt.rules;
            Arc::new(p)
        };
        let mut actions = match self.driver.as_mut() {
            Some(d) => d.actions(&pstate, number, self.branch),
            None => vec![],
        };
        actions.append(&mut self.queued);
        let pool = std::mem::take(&mut self.pool);
        let txs: Vec<_> = pool.iter().map(pool::signed_tx).collect();
        let out = pstate.apply_block_with(&actions, &txs)?;
        for (a, e) in &out.rejected {
            tracing::debug!("block {number}: dropped {a:?}: {e}");
            self.rejected.push((number, a.clone(), e.clone()));
        }
        let md = &rt.md;
        let mut extrinsics = vec![timestamp_inherent(md, out.state.timestamp)?];
        // Each scripted extrinsic carries its signer's nonce (the model counts them:
        // `ChainState::nonces`).
        let genesis = self.genesis_hash();
        let mut nonces: HashMap<[u8; 32], u32> = HashMap::new();
        for a in &out.extrinsics {
            let call = action_call(md, a)?;
            let signer = a.signer().unwrap_or([0; 32]);
            let nonce = nonces
                .entry(signer)
                .or_insert_with(|| pstate.nonce(&signer));
            extrinsics.push(signed(md, &genesis, &signer, *nonce, &call)?);
            *nonce += 1;
        }
        // Submitted transactions after the scripted ones, as the model applied them.
        let mut dropped = vec![];
        for (c, r) in pool.iter().zip(&out.signed) {
            match r {
                Ok(_) => extrinsics.push(c.bytes.clone()),
                Err(e) => {
                    tracing::debug!(
                        "block {number}: dropped transaction {}: {e}",
                        hex0x(&c.hash)
                    );
                    dropped.push((c.hash, e.clone()));
                }
            }
        }
        let mut digest = vec![];
        let mut upgrade_events = vec![];
        let code = match self.upgrades.get(&number).cloned() {
            Some(new) => {
                // `frame_system::Pallet::set_code` -> `update_code_in_storage`: writes
                // `:code`, deposits the `RuntimeEnvironmentUpdated` digest and
                // `System.CodeUpdated`; the new code runs from the next block, whose
                // `Executive::initialize_block` updates `System.LastRuntimeUpgrade`.
                let sudo = named_account("sudo");
                let nonce = nonces.entry(sudo).or_insert(0);
                let phase = Phase::ApplyExtrinsic(extrinsics.len() as u32);
                extrinsics.push(signed(
                    md,
                    &genesis,
                    &sudo,
                    *nonce,
                    &set_code(md, &new.code)?,
                )?);
                upgrade_events = vec![
                    (phase, UpgradeEvent::CodeUpdated),
                    (phase, UpgradeEvent::Sudid),
                    (phase, UpgradeEvent::ExtrinsicSuccess),
                ];
                digest.push(DigestItem::RuntimeEnvironmentUpdated);
                new
            }
            None => rt.clone(),
        };
        let extrinsics_root = blake2_256(&extrinsics.encode());
        let state_root = blake2_256(
            &(
                parent.header.state_root,
                number,
                self.branch,
                extrinsics_root,
            )
                .encode(),
        );
        let slot = out.state.timestamp / 12_000;
        let header = Header {
            parent_hash: parent.hash,
            number: number as u32,
            state_root,
            extrinsics_root,
            digest: std::iter::once(DigestItem::PreRuntime(*b"aura", slot.encode()))
                .chain(digest)
                .collect(),
        };
        let hash = header.hash();
        let block = Arc::new(Block {
            hash,
            header,
            number,
            branch: self.branch,
            events: out.events,
            events_encoded: OnceLock::new(),
            extrinsics,
            actions: out.applied,
            truth: out.truth,
            runtime: rt,
            code,
            upgrade_events,
            dropped,
        });
        self.insert(block.clone(), Arc::new(out.state));
        self.best.push(hash);
        self.prune();
        Ok(block)
    }

    /// Abandons the top `depth` best blocks and grows `depth + 1` new ones in their place.
    pub fn reorg(&mut self, depth: u64) -> Result<ChainUpdate> {
        let head = self.head().number;
        if depth == 0 || head < depth || head - depth < self.finalized {
            return Err(DevnetError::Chain(format!(
                "cannot reorg {depth} blocks: head is #{head} and #{} is finalized (finalized blocks never revert)",
                self.finalized
            )));
        }
        let base = head - depth;
        let keep = (base - self.genesis_number() + 1) as usize;
        self.best.truncate(keep);
        self.branch += 1;
        let mut upd = ChainUpdate {
            reorged: true,
            ..Default::default()
        };
        for _ in 0..=depth {
            upd.best.push(self.produce_one()?);
        }
        upd.finalized = self.advance_finality();
        Ok(upd)
    }

    fn advance_finality(&mut self) -> Vec<Arc<Block>> {
        let head = self.head().number;
        let target = head
            .saturating_sub(self.finality_depth)
            .max(self.genesis_number());
        let mut out = vec![];
        while self.finalized < target {
            self.finalized += 1;
            if let Some(h) = self.hash_at(self.finalized) {
                out.push(self.blocks[&h].clone());
            }
        }
        out
    }

    fn prune(&mut self) {
        let Pruning::Last(keep) = self.pruning else {
            return;
        };
        let head = self.head().number;
        let Some(cut) = head.checked_sub(keep) else {
            return;
        };
        // Only the numbers not pruned yet: revisiting every old number at each block made
        // production slow down as the chain grew.
        let from = self.pruned_to.map_or(0, |p| p + 1);
        if from > cut {
            return;
        }
        for (_, hashes) in self.by_number.range(from..=cut) {
            for h in hashes {
                self.states.remove(h);
            }
        }
        self.pruned_to = Some(cut);
    }

    /// The ground truth of the best chain between two block numbers (inclusive).
    pub fn ground_truth(&self, from: u64, to: u64) -> Vec<TruthEntry> {
        let mut out = vec![];
        for n in from..=to {
            if let Some(h) = self.hash_at(n) {
                out.extend(self.blocks[&h].truth.iter().cloned());
            }
        }
        out
    }

    /// Resolves an optional block hash to a block on the tree (default: best head).
    pub fn resolve(&self, at: Option<Hash>) -> Result<Arc<Block>> {
        match at {
            None => Ok(self.head()),
            Some(h) => self.block(&h).ok_or_else(|| {
                DevnetError::Chain(format!(
                    "UnknownBlock: Header was not found in the database: {}",
                    hex0x(&h)
                ))
            }),
        }
    }

    /// The header number of a block as the SCALE compact the header carries.
    pub fn encoded_number(n: u32) -> Vec<u8> {
        Compact(n).encode()
    }
}

#[cfg(test)]
mod tests;
