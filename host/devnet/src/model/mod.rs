//! The chain model: pure, deterministic state of subnets, neurons, hotkey ownership,
//! balances and share pools, and the block function that applies emission (block
//! initialization) and actions (extrinsics), recording events and ground truth.

pub mod action;
mod calls459;
mod collateral;
mod epoch;
mod neurons;
pub mod pool;
mod pool393;
mod signed;
mod staking;
pub mod types;
pub mod weights;
pub mod yuma;

use std::collections::{BTreeMap, BTreeSet};

use imbl::{OrdMap, Vector};
use serde::Serialize;

pub use action::Action;
pub use pool::{Pool, SafeFloat, Share};
pub use signed::SignedTx;
pub use types::*;

use crate::error::{DevnetError, Result};

/// The whole chain state at one block. Cloning is cheap (persistent maps).
#[derive(Debug, Clone, Serialize)]
pub struct ChainState {
    pub block: u64,
    /// Milliseconds since the epoch (`Timestamp.Now`).
    pub timestamp: u64,
    pub block_time_ms: u64,
    pub subnets: OrdMap<NetUid, Subnet>,
    /// hotkey -> coldkey (`Owner`).
    #[serde(skip)]
    pub owner: OrdMap<AccountId, AccountId>,
    /// coldkey -> hotkeys (`OwnedHotkeys`).
    #[serde(skip)]
    pub owned_hotkeys: OrdMap<AccountId, Vector<AccountId>>,
    /// coldkey -> hotkeys staked to (`StakingHotkeys`).
    #[serde(skip)]
    pub staking_hotkeys: OrdMap<AccountId, Vector<AccountId>>,
    /// (hotkey, netuid) -> pool.
    #[serde(skip)]
    pub pools: OrdMap<(AccountId, NetUid), Pool>,
    /// coldkey -> free TAO.
    #[serde(skip)]
    pub balances: OrdMap<AccountId, u64>,
    /// account -> `System.Account` nonce (signed extrinsics applied; `signed`).
    #[serde(skip)]
    pub nonces: OrdMap<AccountId, u32>,
    /// (coldkey, netuid) -> hotkey (`AutoStakeDestination`).
    #[serde(skip)]
    pub auto_stake: OrdMap<(AccountId, NetUid), AccountId>,
    /// hotkey -> take (u16 fraction of 65535), default 11796 (18%).
    #[serde(skip)]
    pub delegate_take: OrdMap<AccountId, u16>,
    /// (netuid, hotkey, coldkey) -> alpha claimed so far (`RootClaimed`, u128).
    #[serde(skip)]
    pub root_claimed: OrdMap<(NetUid, AccountId, AccountId), u128>,
    /// (netuid, hotkey, coldkey) -> miner collateral (`MinerCollateral`, spec 459).
    #[serde(skip)]
    pub collateral: OrdMap<(NetUid, AccountId, AccountId), MinerCollateral>,
    /// (netuid, uid) -> `Weights`: (dest uid, max-upscaled u16) set by `set_weights`.
    #[serde(skip)]
    pub weights: OrdMap<(NetUid, u16), Vec<(u16, u16)>>,
    /// (netuid, uid) -> `LastUpdate` written by `set_weights` (else the registration
    /// block: `ChainState::last_update`).
    #[serde(skip)]
    pub last_update: OrdMap<(NetUid, u16), u64>,
    /// (netuid, uid) -> `ValidatorPermit` as the last epoch run wrote it.
    #[serde(skip)]
    pub validator_permits: OrdMap<(NetUid, u16), bool>,
    /// (netuid, validator uid) -> `Bonds`: (miner uid, u16 bond) after the last Yuma run.
    #[serde(skip)]
    pub bonds: OrdMap<(NetUid, u16), Vec<(u16, u16)>>,
    /// netuid -> the terms of its last epoch run by Yuma (only subnets where some
    /// neuron has set weights; the others pay by the scenario's scores).
    #[serde(skip)]
    pub yuma: OrdMap<NetUid, yuma::YumaOutput>,
    pub max_epochs_per_block: u16,
    /// Blocks before this one use the legacy epoch rule.
    pub dynamic_tempo_from: u64,
    /// The rules of the runtime that runs the next block (`crate::runtime::Rules`, set
    /// by the chain for each block): the model's hooks for behaviour that changed between
    /// runtimes.
    #[serde(skip)]
    pub rules: crate::runtime::Rules,
    /// Whether the positions were last valued by 393's formula (`pool393`).
    #[serde(skip)]
    pub valued_393: bool,
    pub total_issuance: u64,
}

/// The default validator take (18% of u16::MAX).
pub const DEFAULT_TAKE: u16 = 11_796;

impl ChainState {
    /// An empty chain at genesis (block 0).
    pub fn genesis(timestamp: u64, block_time_ms: u64) -> Self {
        Self {
            block: 0,
            timestamp,
            block_time_ms,
            subnets: OrdMap::new(),
            owner: OrdMap::new(),
            owned_hotkeys: OrdMap::new(),
            staking_hotkeys: OrdMap::new(),
            pools: OrdMap::new(),
            balances: OrdMap::new(),
            nonces: OrdMap::new(),
            auto_stake: OrdMap::new(),
            delegate_take: OrdMap::new(),
            root_claimed: OrdMap::new(),
            collateral: OrdMap::new(),
            weights: OrdMap::new(),
            last_update: OrdMap::new(),
            validator_permits: OrdMap::new(),
            bonds: OrdMap::new(),
            yuma: OrdMap::new(),
            max_epochs_per_block: 2,
            dynamic_tempo_from: 0,
            rules: crate::runtime::Rules::default(),
            valued_393: false,
            total_issuance: 0,
        }
    }

    /// A position's alpha, as `StakeInfoRuntimeApi` reports it.
    pub fn stake(&self, hotkey: &AccountId, coldkey: &AccountId, netuid: NetUid) -> u64 {
        self.pools
            .get(&(*hotkey, netuid))
            .map(|p| p.value(coldkey, self.rules.legacy_shares))
            .unwrap_or(0)
    }

    /// Every (hotkey, netuid, alpha) a coldkey holds (non-zero only).
    pub fn stakes_of(&self, coldkey: &AccountId) -> Vec<(AccountId, NetUid, u64)> {
        let mut out = vec![];
        for hot in self
            .staking_hotkeys
            .get(coldkey)
            .cloned()
            .unwrap_or_default()
        {
            for (netuid, _) in self.subnets.iter() {
                let a = self.stake(&hot, coldkey, *netuid);
                if a > 0 {
                    out.push((hot, *netuid, a));
                }
            }
        }
        out
    }

    /// The next epoch block by `get_next_epoch_start_block`.
    pub fn next_epoch_start_block(&self, netuid: NetUid) -> Option<u64> {
        let s = self.subnets.get(&netuid)?;
        if s.tempo == 0 {
            return None;
        }
        let auto = s.last_epoch_block.saturating_add(s.tempo as u64);
        Some(if s.pending_epoch_at > 0 {
            auto.min(s.pending_epoch_at)
        } else {
            auto
        })
    }

    /// Adds a subnet (genesis set-up).
    pub fn add_subnet(&mut self, subnet: Subnet) -> Result<()> {
        if self.subnets.contains_key(&subnet.netuid) {
            return Err(DevnetError::Action(format!(
                "subnet {} already exists",
                subnet.netuid
            )));
        }
        self.associate(subnet.owner_hotkey, subnet.owner_coldkey)?;
        self.subnets.insert(subnet.netuid, subnet);
        Ok(())
    }

    /// Sets `Owner[hotkey] = coldkey` and appends to `OwnedHotkeys`, refusing a hotkey
    /// owned by another coldkey.
    pub fn associate(&mut self, hotkey: AccountId, coldkey: AccountId) -> Result<()> {
        match self.owner.get(&hotkey) {
            Some(c) if *c == coldkey => Ok(()),
            Some(c) => Err(DevnetError::Action(format!(
                "hotkey {} is owned by coldkey {}, not {}",
                hex32::show(&hotkey),
                hex32::show(c),
                hex32::show(&coldkey)
            ))),
            None => {
                self.owner.insert(hotkey, coldkey);
                self.owned_hotkeys
                    .entry(coldkey)
                    .or_default()
                    .push_back(hotkey);
                Ok(())
            }
        }
    }

    /// Credits free TAO (genesis endowment).
    pub fn endow(&mut self, coldkey: AccountId, tao: u64) {
        *self.balances.entry(coldkey).or_insert(0) += tao;
        self.total_issuance = self.total_issuance.saturating_add(tao);
    }

    /// Writes a legacy position directly (`Alpha` and `TotalHotkeyShares` entries), as a
    /// chain that has not migrated the pool yet holds it.
    ///
    /// The runtime reads a pool's denominator from `TotalHotkeyShares` while that entry
    /// exists and every share from `Alpha` before `AlphaV2`, all in the same unit (the
    /// U64F64 value converted to `SafeFloat`): subtensor v3.4.9-424
    /// `pallets/subtensor/src/staking/stake_utils.rs`,
    /// `HotkeyAlphaSharePoolDataOperations::{get_share, get_denominator}`. Any write to
    /// the pool (`set_denominator`) deletes `TotalHotkeyShares`, so a pool that still has
    /// it has seen no write since the V2 upgrade and holds only `Alpha` entries whose sum
    /// is the denominator. Genesis therefore converts the pool's holders so far (e.g. a
    /// validator's self-stake) to legacy entries, makes the denominator the sum of every
    /// share, and buys the new position at the pool's share price
    /// (`share-pool` `SharePool::update_value_for_one`: `update * denominator / value`).
    pub fn seed_legacy_position(
        &mut self,
        hotkey: AccountId,
        coldkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) {
        use primitive_types::U256;
        let pool = self.pools.entry((hotkey, netuid)).or_default();
        let mut shares: OrdMap<AccountId, Share> = OrdMap::new();
        let mut denom: u128 = 0;
        for (c, s) in pool.shares.iter() {
            let bits = match s {
                Share::Legacy(b) => *b,
                Share::V2(f) => f.to_u64f64_bits(),
            };
            denom = denom.saturating_add(bits);
            shares.insert(*c, Share::Legacy(bits));
        }
        let bits = if denom == 0 || pool.total_alpha == 0 {
            (alpha as u128) << 64
        } else {
            let b = U256::from(alpha) * U256::from(denom) / U256::from(pool.total_alpha);
            if b > U256::from(u128::MAX) {
                u128::MAX
            } else {
                b.low_u128()
            }
        };
        let prev = match shares.get(&coldkey) {
            Some(Share::Legacy(b)) => *b,
            _ => 0,
        };
        shares.insert(coldkey, Share::Legacy(prev.saturating_add(bits)));
        pool.shares = shares;
        pool.legacy_denominator = Some(denom.saturating_add(bits));
        pool.denominator = SafeFloat::ZERO;
        pool.total_alpha = pool.total_alpha.saturating_add(alpha);
        self.note_staking_hotkey(coldkey, hotkey);
    }

    fn note_staking_hotkey(&mut self, coldkey: AccountId, hotkey: AccountId) {
        let list = self.staking_hotkeys.entry(coldkey).or_default();
        if !list.contains(&hotkey) {
            list.push_back(hotkey);
        }
    }

    /// Applies one block: emission in initialization, then `actions` as extrinsics
    /// (index 0 is the timestamp inherent). Invalid actions fail the whole call.
    pub fn apply_block(&self, actions: &[Action]) -> Result<BlockOutcome> {
        self.apply_block_with(actions, &[])
    }

    /// As `apply_block`, then the submitted signed transactions `signed` (after the
    /// scripted actions, in order): each pays its fee, bumps its signer's nonce and
    /// applies its action, or is left out (`BlockOutcome::signed`).
    pub fn apply_block_with(
        &self,
        actions: &[Action],
        signed: &[SignedTx],
    ) -> Result<BlockOutcome> {
        let mut st = self.clone();
        st.block += 1;
        st.timestamp += st.block_time_ms;
        let mut ex = Exec::default();
        st.revalue(&mut ex.truth);
        st.on_initialize(&mut ex);
        let mut applied = vec![];
        let mut rejected = vec![];
        // `block_step` runs the auto root claims after the coinbase (subtensor
        // v3.4.9-424 `pallets/subtensor/src/coinbase/block_step.rs`, step 8).
        for a in actions.iter().filter(|a| a.in_initialization()) {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            match st.apply_action(a, &mut ex) {
                Ok(()) => applied.push(a.clone()),
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    rejected.push((a.clone(), e.to_string()));
                }
            }
        }
        ex.close_phase(&st, true);
        // The timestamp inherent.
        ex.phase = Phase::ApplyExtrinsic(0);
        ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: true });
        let mut included = vec![];
        let mut idx = 1u32;
        for a in actions.iter().filter(|a| !a.in_initialization()) {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            ex.phase = Phase::ApplyExtrinsic(idx);
            let r = if a.is_knob() {
                st.apply_knob(a)
            } else {
                st.apply_action(a, &mut ex)
            };
            match r {
                Ok(()) => {
                    applied.push(a.clone());
                    if !a.is_knob() {
                        ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: false });
                        included.push(a.clone());
                        idx += 1;
                        // A scripted extrinsic is signed too: it uses its signer's nonce
                        // (`CheckNonce`; it pays no fee: the model has no fee rules).
                        if let Some(s) = a.signer() {
                            *st.nonces.entry(s).or_insert(0) += 1;
                        }
                    }
                }
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    rejected.push((a.clone(), e.to_string()));
                }
            }
        }
        let mut signed_out = vec![];
        for tx in signed {
            let (bk_st, bk_ex) = (st.clone(), ex.clone());
            ex.phase = Phase::ApplyExtrinsic(idx);
            match st.apply_signed(tx, &mut ex) {
                Ok(()) => {
                    ex.emit(ChainEvent::ExtrinsicSuccess { mandatory: false });
                    signed_out.push(Ok(idx));
                    idx += 1;
                }
                Err(e) => {
                    st = bk_st;
                    ex = bk_ex;
                    signed_out.push(Err(e.to_string()));
                }
            }
        }
        ex.close_phase(&st, false);
        Ok(BlockOutcome {
            state: st,
            events: ex.events,
            truth: ex.truth,
            extrinsics: included,
            applied,
            rejected,
            signed: signed_out,
        })
    }

    /// Checks an action against this state without keeping the result.
    pub fn check_action(&self, a: &Action) -> Result<()> {
        let mut st = self.clone();
        if a.is_knob() {
            return st.apply_knob(a);
        }
        let mut ex = Exec::default();
        st.apply_action(a, &mut ex)
    }

    /// Applies an action outside any block (genesis set-up), without events.
    pub fn apply_now(&mut self, a: &Action) -> Result<()> {
        if a.is_knob() {
            return self.apply_knob(a);
        }
        let mut ex = Exec::default();
        self.apply_action(a, &mut ex)
    }

    fn apply_knob(&mut self, a: &Action) -> Result<()> {
        match a {
            Action::SetScores {
                netuid,
                incentive,
                dividends,
                mechanism,
            } => {
                let s = self.subnet_mut(*netuid)?;
                if *mechanism >= s.mechanisms.max(1) {
                    return Err(DevnetError::Action(format!(
                        "set_scores: netuid {netuid} has {} mechanism(s), no mechanism {mechanism}",
                        s.mechanisms.max(1)
                    )));
                }
                match (incentive, *mechanism) {
                    (Some(v), 0) => {
                        s.incentive = v.iter().enumerate().map(|(i, w)| (i as u16, *w)).collect();
                    }
                    (Some(v), m) => {
                        let uids: Vec<u16> = s.keys.keys().copied().collect();
                        for uid in uids {
                            let w = v.get(uid as usize).copied().unwrap_or(0);
                            s.mechanism_incentive.insert((m, uid), w);
                        }
                    }
                    (None, _) => {}
                }
                if let Some(v) = dividends {
                    s.dividends = v.iter().enumerate().map(|(i, w)| (i as u16, *w)).collect();
                }
                Ok(())
            }
            Action::SkipEpochs { netuid, count } => {
                self.subnet_mut(*netuid)?.skip_next_epochs += count;
                Ok(())
            }
            Action::ChangeOwner {
                netuid,
                coldkey,
                hotkey,
            } => self.schedule_owner_change(*netuid, *coldkey, *hotkey),
            _ => Err(DevnetError::Action("not a devnet knob".into())),
        }
    }

    pub(crate) fn subnet_mut(&mut self, netuid: NetUid) -> Result<&mut Subnet> {
        self.subnets
            .get_mut(&netuid)
            .ok_or_else(|| DevnetError::Action(format!("subnet {netuid} does not exist")))
    }

    pub(crate) fn subnet(&self, netuid: NetUid) -> Result<&Subnet> {
        self.subnets
            .get(&netuid)
            .ok_or_else(|| DevnetError::Action(format!("subnet {netuid} does not exist")))
    }
}

/// The result of applying a block.
#[derive(Debug, Clone)]
pub struct BlockOutcome {
    pub state: ChainState,
    pub events: Vec<EventRecord>,
    pub truth: Vec<TruthEntry>,
    /// The actions included as extrinsics 1.. (knobs left out).
    pub extrinsics: Vec<Action>,
    /// Every action that applied, knobs included, in order.
    pub applied: Vec<Action>,
    /// Actions that failed and were left out, with why.
    pub rejected: Vec<(Action, String)>,
    /// Per submitted transaction (`apply_block_with`): its extrinsic index, or why it
    /// was left out.
    pub signed: Vec<std::result::Result<u32, String>>,
}

/// Per-block scratch: events, and position values captured before the first write to a
/// pool in the current phase, so every change is accounted for.
#[derive(Default, Clone)]
struct Exec {
    phase: Phase,
    events: Vec<EventRecord>,
    truth: Vec<TruthEntry>,
    before: BTreeMap<(AccountId, NetUid), BTreeMap<AccountId, u64>>,
    explained: BTreeMap<(AccountId, AccountId, NetUid), Vec<(TruthKind, i64)>>,
    /// netuid -> epoch index, for the epochs run this block.
    epochs: BTreeMap<NetUid, u64>,
    block: u64,
}

impl Exec {
    fn emit(&mut self, event: ChainEvent) {
        self.events.push(EventRecord {
            phase: self.phase,
            event,
        });
    }

    /// Captures a pool's position values before its first change in this phase.
    fn touch(&mut self, st: &ChainState, hotkey: AccountId, netuid: NetUid) {
        self.block = st.block;
        self.before.entry((hotkey, netuid)).or_insert_with(|| {
            st.pools
                .get(&(hotkey, netuid))
                .map(|p| {
                    p.shares
                        .keys()
                        .map(|c| (*c, p.value(c, st.rules.legacy_shares)))
                        .collect()
                })
                .unwrap_or_default()
        });
    }

    fn explain(
        &mut self,
        hotkey: AccountId,
        coldkey: AccountId,
        netuid: NetUid,
        kind: TruthKind,
        amount: i64,
    ) {
        self.explained
            .entry((hotkey, coldkey, netuid))
            .or_default()
            .push((kind, amount));
    }

    /// Turns the phase's value changes into ground-truth entries.
    fn close_phase(&mut self, st: &ChainState, emission: bool) {
        let before = std::mem::take(&mut self.before);
        let mut explained = std::mem::take(&mut self.explained);
        for ((hot, netuid), prev) in before {
            let after: BTreeMap<AccountId, u64> = st
                .pools
                .get(&(hot, netuid))
                .map(|p| {
                    p.shares
                        .keys()
                        .map(|c| (*c, p.value(c, st.rules.legacy_shares)))
                        .collect()
                })
                .unwrap_or_default();
            let coldkeys: BTreeSet<AccountId> = prev.keys().chain(after.keys()).copied().collect();
            for cold in coldkeys {
                let delta =
                    *after.get(&cold).unwrap_or(&0) as i64 - *prev.get(&cold).unwrap_or(&0) as i64;
                let mut rest = delta;
                if let Some(list) = explained.remove(&(hot, cold, netuid)) {
                    for (kind, amount) in list {
                        rest -= amount;
                        self.truth.push(TruthEntry {
                            block: self.block,
                            netuid,
                            hotkey: hot,
                            coldkey: cold,
                            kind,
                            amount,
                            epoch_index: None,
                        });
                    }
                }
                if rest != 0 {
                    let (kind, epoch_index) = if emission {
                        (TruthKind::Emission, self.epochs.get(&netuid).copied())
                    } else {
                        (TruthKind::Rounding, None)
                    };
                    self.truth.push(TruthEntry {
                        block: self.block,
                        netuid,
                        hotkey: hot,
                        coldkey: cold,
                        kind,
                        amount: rest,
                        epoch_index,
                    });
                }
            }
        }
    }
}

/// Serde for account ids: `0x` hex out, `0x` hex or a name in.
pub mod account {
    use super::AccountId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &AccountId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(a)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AccountId, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_account(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde for 32-byte ids as `0x` hex (serialize only).
pub mod hex32 {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(a: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&show(a))
    }

    /// `0x` + hex.
    pub fn show(a: &[u8; 32]) -> String {
        format!("0x{}", hex::encode(a))
    }
}

/// The account a name stands for: the sr25519 key of `//name`, cached
/// (`crate::tx::keys::named_account`).
pub fn named_account(name: &str) -> AccountId {
    crate::tx::keys::named_account(name)
}

/// Parses `0x` + 64 hex digits, or takes any other non-empty string as a name.
pub fn parse_account(s: &str) -> std::result::Result<AccountId, String> {
    if let Some(h) = s.strip_prefix("0x") {
        let bytes = hex::decode(h).map_err(|e| format!("account {s:?} is not valid hex: {e}"))?;
        return bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("account {s:?} has {} bytes, expected 32", b.len()));
    }
    if s.is_empty() {
        return Err("account name is empty".into());
    }
    Ok(named_account(s))
}
