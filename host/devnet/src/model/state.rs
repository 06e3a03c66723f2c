//! The chain state at one block (`ChainState`): subnets, hotkey ownership, balances,
//! share pools and the runtime's other maps, with its read accessors and the genesis
//! set-up (subnets, endowments, hotkey association, legacy positions). Stepping it by a
//! block is `block`.

use imbl::{OrdMap, Vector};
use serde::Serialize;

use super::{AccountId, MinerCollateral, NetUid, Pool, SafeFloat, Share, Subnet, hex32, yuma};
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

    pub(super) fn note_staking_hotkey(&mut self, coldkey: AccountId, hotkey: AccountId) {
        let list = self.staking_hotkeys.entry(coldkey).or_default();
        if !list.contains(&hotkey) {
            list.push_back(hotkey);
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
