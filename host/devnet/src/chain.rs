//! The block tree: headers with real parent hashes, per-block state snapshots (pruned or
//! archive), events and ground truth, finality lagging the head, and reorgs that abandon
//! a best-chain branch above the finalized block.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use codec::{Compact, Decode, Encode};
use serde_json::{Value as Json, json};

use crate::encode::encode_events;
use crate::error::{DevnetError, Result};
use crate::extrinsic::{action_call, signed, timestamp_inherent};
use crate::hashing::blake2_256;
use crate::metadata::ChainMetadata;
use crate::model::{Action, ChainState, EventRecord, TruthEntry};

/// A 32-byte block hash.
pub type Hash = [u8; 32];

/// A Substrate digest item (the subset a Subtensor block header carries).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum DigestItem {
    #[codec(index = 0)]
    Other(Vec<u8>),
    #[codec(index = 4)]
    Consensus([u8; 4], Vec<u8>),
    #[codec(index = 5)]
    Seal([u8; 4], Vec<u8>),
    #[codec(index = 6)]
    PreRuntime([u8; 4], Vec<u8>),
}

/// A block header (`sp_runtime::generic::Header<u32, BlakeTwo256>`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    pub parent_hash: Hash,
    #[codec(compact)]
    pub number: u32,
    pub state_root: Hash,
    pub extrinsics_root: Hash,
    pub digest: Vec<DigestItem>,
}

impl Header {
    /// `blake2_256` of the SCALE-encoded header.
    pub fn hash(&self) -> Hash {
        blake2_256(&self.encode())
    }

    /// The header as the legacy RPC returns it (number as a hex string).
    pub fn to_json(&self) -> Json {
        json!({
            "parentHash": hex0x(&self.parent_hash),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root),
            "extrinsicsRoot": hex0x(&self.extrinsics_root),
            "digest": { "logs": self.digest.iter().map(|d| hex0x(&d.encode())).collect::<Vec<_>>() },
        })
    }
}

/// `0x` + lower-case hex.
pub fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// One produced block.
#[derive(Debug)]
pub struct Block {
    pub hash: Hash,
    pub header: Header,
    pub number: u64,
    /// Reorg generation the block was produced in.
    pub branch: u64,
    pub events: Vec<EventRecord>,
    events_encoded: OnceLock<std::result::Result<Vec<u8>, String>>,
    /// Length-prefixed encoded extrinsics (0 = timestamp inherent).
    pub extrinsics: Vec<Vec<u8>>,
    pub actions: Vec<Action>,
    pub truth: Vec<TruthEntry>,
}

impl Block {
    /// `System.Events` of this block, encoded once.
    pub fn events_encoded(&self, md: &ChainMetadata) -> Result<&[u8]> {
        self.events_encoded
            .get_or_init(|| encode_events(md, &self.events).map_err(|e| e.to_string()))
            .as_deref()
            .map_err(|e| DevnetError::Encode(e.clone()))
    }

    /// The block as `chain_getBlock` returns it.
    pub fn to_json(&self) -> Json {
        json!({
            "block": {
                "header": self.header.to_json(),
                "extrinsics": self.extrinsics.iter().map(|x| hex0x(x)).collect::<Vec<_>>(),
            },
            "justifications": null,
        })
    }
}

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
    pub md: Arc<ChainMetadata>,
    blocks: HashMap<Hash, Arc<Block>>,
    states: HashMap<Hash, Arc<ChainState>>,
    by_number: BTreeMap<u64, Vec<Hash>>,
    best: Vec<Hash>,
    finalized: u64,
    finality_depth: u64,
    pruning: Pruning,
    branch: u64,
    queued: Vec<Action>,
    driver: Option<Box<dyn BlockDriver>>,
    /// Actions dropped because they failed when their block was built: (block, action, error).
    pub rejected: Vec<(u64, Action, String)>,
}

impl Chain {
    /// A chain whose genesis block holds `genesis`.
    pub fn new(
        md: Arc<ChainMetadata>,
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
        });
        let mut chain = Self {
            md,
            blocks: HashMap::new(),
            states: HashMap::new(),
            by_number: BTreeMap::new(),
            best: vec![],
            finalized: number,
            finality_depth,
            pruning,
            branch: 0,
            queued: vec![],
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
        self.head_state().check_action(&a)?;
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
        let mut actions = match self.driver.as_mut() {
            Some(d) => d.actions(&pstate, number, self.branch),
            None => vec![],
        };
        actions.append(&mut self.queued);
        let out = pstate.apply_block(&actions)?;
        for (a, e) in &out.rejected {
            tracing::debug!("block {number}: dropped {a:?}: {e}");
            self.rejected.push((number, a.clone(), e.clone()));
        }
        let mut extrinsics = vec![timestamp_inherent(&self.md, out.state.timestamp)?];
        let mut nonces: HashMap<[u8; 32], u32> = HashMap::new();
        for a in &out.extrinsics {
            let call = action_call(&self.md, a)?;
            let signer = a.signer().unwrap_or([0; 32]);
            let nonce = nonces.entry(signer).or_insert(0);
            extrinsics.push(signed(&self.md, &signer, *nonce, &call)?);
            *nonce += 1;
        }
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
            digest: vec![DigestItem::PreRuntime(*b"aura", slot.encode())],
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
        let old: Vec<u64> = self.by_number.range(..=cut).map(|(n, _)| *n).collect();
        for n in old {
            if let Some(hashes) = self.by_number.get(&n) {
                for h in hashes {
                    self.states.remove(h);
                }
            }
        }
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
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::model::{ChainEvent, Phase, Share, TruthKind, named_account};
    use crate::scenario::Scenario;
    use crate::server::{DevnetConfig, build_chain};

    fn attribution(pruning: Pruning) -> Chain {
        let mut cfg = DevnetConfig::new(Scenario::builtin("attribution").unwrap());
        cfg.pruning = pruning;
        build_chain(&cfg).unwrap()
    }

    fn events_at(c: &Chain, n: u64) -> Vec<EventRecord> {
        c.block(&c.hash_at(n).unwrap()).unwrap().events.clone()
    }

    #[test]
    fn attribution_epochs_follow_legacy_then_dynamic_rules() {
        let mut c = attribution(Pruning::Archive);
        c.produce(50).unwrap();
        let ran = |n: u64, net: u16| {
            events_at(&c, n).iter().any(|e| {
                matches!(&e.event, ChainEvent::IncentiveAlphaEmittedToMiners { netuid, .. } if *netuid == net)
                    && e.phase == Phase::Initialization
            })
        };
        // Legacy rule: (b + netuid + 1) % (tempo + 1) == 0.
        assert!(ran(9, 1) && ran(3, 2) && ran(9, 2));
        assert!(!ran(10, 1) && !ran(8, 2));
        // Dynamic from 12: netuid 2 at 9 + 5.
        assert!(ran(14, 2));
        // Dynamic: both due at 19, cap 1 defers netuid 2 to 20.
        assert!(ran(19, 1) && !ran(19, 2) && ran(20, 2));
        assert!(events_at(&c, 19).iter().any(|e| e.event
            == ChainEvent::EpochDeferred {
                netuid: 2,
                from_block: 19,
                to_block: 20
            }));
        // Skipped at 29, pending emission paid at 39.
        assert!(events_at(&c, 29).iter().any(|e| e.event
            == ChainEvent::EpochSkipped {
                netuid: 1,
                block: 29
            }));
        assert!(!ran(29, 1) && ran(39, 1));
        let st = c.state_at(&c.hash_at(39).unwrap()).unwrap();
        assert_eq!(st.subnets[&1].last_epoch_block, 39);
        assert_eq!(st.subnets[&1].pending_server, 0);
        let st29 = c.state_at(&c.hash_at(29).unwrap()).unwrap();
        assert!(
            st29.subnets[&1].pending_server > 0,
            "skipped epoch keeps pending emission"
        );
    }

    #[test]
    fn ground_truth_explains_every_position_change() {
        let mut c = attribution(Pruning::Archive);
        c.produce(60).unwrap();
        let mut kinds = BTreeSet::new();
        for n in 1..=c.head().number {
            let prev = c.state_at(&c.hash_at(n - 1).unwrap()).unwrap();
            let cur = c.state_at(&c.hash_at(n).unwrap()).unwrap();
            let mut positions = BTreeSet::new();
            for s in [&prev, &cur] {
                for ((h, net), p) in s.pools.iter() {
                    for ck in p.shares.keys() {
                        positions.insert((*h, *ck, *net));
                    }
                }
            }
            let mut explained: BTreeMap<_, i64> = BTreeMap::new();
            for e in &c.block(&c.hash_at(n).unwrap()).unwrap().truth {
                *explained
                    .entry((e.hotkey, e.coldkey, e.netuid))
                    .or_default() += e.amount;
                kinds.insert(e.kind);
            }
            for (h, ck, net) in positions {
                let d = cur.stake(&h, &ck, net) as i64 - prev.stake(&h, &ck, net) as i64;
                assert_eq!(
                    d,
                    explained.get(&(h, ck, net)).copied().unwrap_or(0),
                    "block {n} position {net}"
                );
            }
        }
        for k in [
            TruthKind::Emission,
            TruthKind::ManualIn,
            TruthKind::ManualOut,
            TruthKind::AlphaFee,
            TruthKind::RootClaim,
            TruthKind::Recycle,
            TruthKind::Burn,
        ] {
            assert!(kinds.contains(&k), "no {k:?} in the ground truth");
        }
    }

    #[test]
    fn legacy_positions_migrate_lazily_and_uid_is_reregistered() {
        let mut c = attribution(Pruning::Archive);
        c.produce(40).unwrap();
        let (bob, erin, av) = (
            named_account("bob"),
            named_account("erin"),
            named_account("alice-v"),
        );
        let at14 = c.state_at(&c.hash_at(14).unwrap()).unwrap();
        assert!(matches!(
            at14.pools[&(av, 1)].shares.get(&bob),
            Some(Share::Legacy(_))
        ));
        let at16 = c.state_at(&c.hash_at(16).unwrap()).unwrap();
        assert!(matches!(
            at16.pools[&(av, 1)].shares.get(&bob),
            Some(Share::V2(_))
        ));
        assert!(matches!(
            at16.pools[&(av, 1)].shares.get(&erin),
            Some(Share::Legacy(_))
        ));
        assert!(at16.pools[&(av, 1)].legacy_denominator.is_none());
        let head = c.head_state();
        assert_eq!(head.subnets[&1].keys[&2], named_account("dave-new"));
        assert!(
            !head.subnets[&1]
                .uids
                .contains_key(&named_account("carol-m"))
        );
        assert_eq!(at14.subnets[&1].keys[&2], named_account("carol-m"));
    }

    #[test]
    fn reorg_abandons_a_branch_but_never_finalized_blocks() {
        let mut c = attribution(Pruning::Last(64));
        c.produce(44).unwrap();
        let abandoned = c.hash_at(44).unwrap();
        assert!(
            c.block(&abandoned)
                .unwrap()
                .actions
                .iter()
                .any(|a| matches!(a, Action::AddStake { .. }))
        );
        let upd = c.produce(1).unwrap(); // block 45, then the scripted reorg of depth 2
        assert!(upd.reorged);
        assert_eq!(c.head().number, 46);
        let new44 = c.hash_at(44).unwrap();
        assert_ne!(new44, abandoned);
        assert!(
            c.block(&abandoned).is_some(),
            "abandoned blocks stay readable by hash"
        );
        assert!(
            !c.block(&new44)
                .unwrap()
                .actions
                .iter()
                .any(|a| matches!(a, Action::AddStake { .. }))
        );
        assert_eq!(
            c.block(&new44).unwrap().header.parent_hash,
            c.hash_at(43).unwrap()
        );
        // Finalized blocks never revert.
        let fin = c.finalized_number();
        assert!(c.reorg(c.head().number - fin + 1).is_err());
        // Ground truth follows the best chain only.
        assert!(
            c.ground_truth(44, 44)
                .iter()
                .all(|e| e.kind != TruthKind::ManualIn)
        );
    }

    #[test]
    fn pruned_state_answers_like_a_node() {
        let mut c = attribution(Pruning::Last(10));
        c.produce(30).unwrap();
        let old = c.hash_at(5).unwrap();
        let e = c.state_at(&old).unwrap_err().to_string();
        assert!(e.contains("State already discarded for 0x"), "{e}");
        assert!(c.state_at(&c.hash_at(25).unwrap()).is_ok());
        let e = c.state_at(&[9; 32]).unwrap_err().to_string();
        assert!(e.contains("UnknownBlock"), "{e}");
        // Headers chain by blake2_256 of the SCALE header.
        let b = c.head();
        let parent = c.block(&b.header.parent_hash).unwrap();
        assert_eq!(parent.header.hash(), b.header.parent_hash);
        assert_eq!(c.finalized_number(), c.head().number - 3);
    }
}
