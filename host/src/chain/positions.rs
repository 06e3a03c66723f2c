//! Batched reads at one block: the subnet's neurons (uid -> hotkey), hotkey owners, the
//! hotkeys each coldkey stakes to, epoch storage, dividends, and positions computed from
//! the share pools (`Alpha` and `AlphaV2`, `TotalHotkeyShares` and `...V2`). Each read is
//! one `state_queryStorageAt` per batch of keys, never one request per hotkey.

use std::collections::{BTreeMap, BTreeSet};

use subxt::ext::scale_value::{Composite, Value, ValueDef};

use super::client::ChainClient;
use super::events::{Account, account, number, signed};
use super::metadata::{ChainMeta, KeyPart};
use super::shares::{SafeFloat, Shares, alpha_of, alpha_of_u64f64};
use super::{ChainError, Hash};

const SM: &str = "SubtensorModule";

/// A block to read at.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub number: u64,
    pub hash: Hash,
}

/// Epoch storage of a subnet at a block (None where the runtime lacks the item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EpochState {
    pub tempo: u64,
    pub last_epoch_block: Option<u64>,
    pub epoch_index: Option<u64>,
}

fn field<'a>(v: &'a Value<u32>, name: &str) -> Option<&'a Value<u32>> {
    match &v.value {
        ValueDef::Composite(Composite::Named(fs)) => fs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .or_else(|| fs.iter().find_map(|(_, v)| field(v, name))),
        ValueDef::Composite(Composite::Unnamed(fs)) if fs.len() == 1 => field(&fs[0], name),
        _ => None,
    }
}

fn safe_float(v: &Value<u32>, what: &str) -> Result<SafeFloat, ChainError> {
    let m = field(v, "mantissa").and_then(number);
    let e = field(v, "exponent").and_then(signed);
    match (m, e) {
        (Some(m), Some(e)) => SafeFloat::new(m, e as i64)
            .ok_or_else(|| ChainError::decode(what, "SafeFloat out of range")),
        _ => Err(ChainError::decode(what, format!("not a SafeFloat: {v}"))),
    }
}

fn u64_value(meta: &ChainMeta, entry: &str, bytes: &[u8]) -> Result<u64, ChainError> {
    let v = meta.decode(SM, entry, bytes)?;
    number(&v)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| ChainError::decode(format!("{SM}.{entry}"), format!("not a u64: {v}")))
}

fn account_value(meta: &ChainMeta, entry: &str, bytes: &[u8]) -> Result<Account, ChainError> {
    let v = meta.decode(SM, entry, bytes)?;
    account(&v)
        .ok_or_else(|| ChainError::decode(format!("{SM}.{entry}"), format!("not an account: {v}")))
}

fn accounts_value(meta: &ChainMeta, entry: &str, bytes: &[u8]) -> Result<Vec<Account>, ChainError> {
    let v = meta.decode(SM, entry, bytes)?;
    let list = match &v.value {
        ValueDef::Composite(c) => c.values().map(account).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    list.ok_or_else(|| {
        ChainError::decode(
            format!("{SM}.{entry}"),
            format!("not a list of accounts: {v}"),
        )
    })
}

/// uid -> hotkey of a subnet (`Keys`), with its epoch storage: two requests.
pub async fn neurons(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    at: At,
) -> Result<(BTreeMap<u16, Account>, EpochState), ChainError> {
    let prefix = meta.key(SM, "Keys", &[KeyPart::U16(netuid)])?;
    let keys = c.keys(&prefix, at.number, &at.hash).await?;
    let mut all = keys.clone();
    all.extend(epoch_keys(meta, netuid)?);
    let values = c.storage_at(&all, at.number, &at.hash).await?;
    let mut out = BTreeMap::new();
    for (k, v) in keys.iter().zip(&values) {
        let Some(v) = v else { continue };
        let tail = k
            .get(prefix.len()..prefix.len() + 2)
            .ok_or_else(|| ChainError::decode(format!("{SM}.Keys key"), "too short for a uid"))?;
        let uid = u16::from_le_bytes([tail[0], tail[1]]);
        out.insert(uid, account_value(meta, "Keys", v)?);
    }
    Ok((out, epoch_decode(meta, &values[keys.len()..])?))
}

/// Epoch storage only (one request).
pub async fn epoch_state(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    at: At,
) -> Result<EpochState, ChainError> {
    let keys = epoch_keys(meta, netuid)?;
    let v = c.storage_at(&keys, at.number, &at.hash).await?;
    epoch_decode(meta, &v)
}

/// The epoch storage keys of a subnet: `Tempo`, then `LastEpochBlock` and
/// `SubnetEpochIndex` where the node's metadata has them.
fn epoch_keys(meta: &ChainMeta, netuid: u16) -> Result<Vec<Vec<u8>>, ChainError> {
    let mut keys = vec![meta.key(SM, "Tempo", &[KeyPart::U16(netuid)])?];
    for e in ["LastEpochBlock", "SubnetEpochIndex"] {
        if meta.has(SM, e) {
            keys.push(meta.key(SM, e, &[KeyPart::U16(netuid)])?);
        }
    }
    Ok(keys)
}

/// Decodes the values read for [`epoch_keys`], in the same order.
fn epoch_decode(meta: &ChainMeta, v: &[Option<Vec<u8>>]) -> Result<EpochState, ChainError> {
    let get = |i: usize, e: &str| -> Result<Option<u64>, ChainError> {
        v.get(i)
            .cloned()
            .flatten()
            .map(|b| u64_value(meta, e, &b))
            .transpose()
    };
    let mut st = EpochState {
        tempo: get(0, "Tempo")?.unwrap_or(0),
        ..Default::default()
    };
    let mut i = 1;
    if meta.has(SM, "LastEpochBlock") {
        st.last_epoch_block = Some(get(i, "LastEpochBlock")?.unwrap_or(0));
        i += 1;
    }
    if meta.has(SM, "SubnetEpochIndex") {
        st.epoch_index = Some(get(i, "SubnetEpochIndex")?.unwrap_or(0));
    }
    Ok(st)
}

/// Owner coldkeys of hotkeys (`Owner`), one request per batch.
pub async fn owners(
    c: &ChainClient,
    meta: &ChainMeta,
    hotkeys: &BTreeSet<Account>,
    at: At,
) -> Result<BTreeMap<Account, Account>, ChainError> {
    let list: Vec<Account> = hotkeys.iter().copied().collect();
    let keys = list
        .iter()
        .map(|h| meta.key(SM, "Owner", &[KeyPart::Account(*h)]))
        .collect::<Result<Vec<_>, _>>()?;
    let values = c.storage_at(&keys, at.number, &at.hash).await?;
    let mut out = BTreeMap::new();
    for (h, v) in list.iter().zip(values) {
        if let Some(v) = v {
            out.insert(*h, account_value(meta, "Owner", &v)?);
        }
    }
    Ok(out)
}

/// The hotkeys each coldkey stakes to or owns (`StakingHotkeys` and `OwnedHotkeys`).
pub async fn hotkeys_of(
    c: &ChainClient,
    meta: &ChainMeta,
    coldkeys: &BTreeSet<Account>,
    at: At,
) -> Result<BTreeMap<Account, BTreeSet<Account>>, ChainError> {
    let list: Vec<Account> = coldkeys.iter().copied().collect();
    let mut keys = vec![];
    for ck in &list {
        keys.push(meta.key(SM, "StakingHotkeys", &[KeyPart::Account(*ck)])?);
        keys.push(meta.key(SM, "OwnedHotkeys", &[KeyPart::Account(*ck)])?);
    }
    let values = c.storage_at(&keys, at.number, &at.hash).await?;
    let mut out: BTreeMap<Account, BTreeSet<Account>> = BTreeMap::new();
    for (i, ck) in list.iter().enumerate() {
        let set = out.entry(*ck).or_default();
        for (j, entry) in ["StakingHotkeys", "OwnedHotkeys"].iter().enumerate() {
            if let Some(v) = &values[2 * i + j] {
                set.extend(accounts_value(meta, entry, v)?);
            }
        }
    }
    Ok(out)
}

/// `AlphaDividendsPerSubnet` of hotkeys on a subnet at a block (empty if the runtime lacks it).
pub async fn dividends(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    hotkeys: &BTreeSet<Account>,
    at: At,
) -> Result<BTreeMap<Account, u64>, ChainError> {
    if !meta.has(SM, "AlphaDividendsPerSubnet") {
        return Ok(BTreeMap::new());
    }
    let list: Vec<Account> = hotkeys.iter().copied().collect();
    let keys = list
        .iter()
        .map(|h| {
            meta.key(
                SM,
                "AlphaDividendsPerSubnet",
                &[KeyPart::U16(netuid), KeyPart::Account(*h)],
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let values = c.storage_at(&keys, at.number, &at.hash).await?;
    let mut out = BTreeMap::new();
    for (h, v) in list.iter().zip(values) {
        if let Some(v) = v {
            let d = u64_value(meta, "AlphaDividendsPerSubnet", &v)?;
            if d > 0 {
                out.insert(*h, d);
            }
        }
    }
    Ok(out)
}

/// Alpha of each (hotkey, coldkey) position on `netuid` at a block, from the share pools
/// (one request per batch of keys). Positions without a share are left out.
pub async fn positions(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    pairs: &BTreeSet<(Account, Account)>,
    at: At,
) -> Result<BTreeMap<(Account, Account), u64>, ChainError> {
    let hotkeys: BTreeSet<Account> = pairs.iter().map(|(h, _)| *h).collect();
    let pool_items: Vec<&str> = [
        "TotalHotkeyAlpha",
        "TotalHotkeyShares",
        "TotalHotkeySharesV2",
    ]
    .into_iter()
    .filter(|e| meta.has(SM, e))
    .collect();
    let share_items: Vec<&str> = ["Alpha", "AlphaV2"]
        .into_iter()
        .filter(|e| meta.has(SM, e))
        .collect();
    let mut keys = vec![];
    for h in &hotkeys {
        for e in &pool_items {
            keys.push(meta.key(SM, e, &[KeyPart::Account(*h), KeyPart::U16(netuid)])?);
        }
    }
    for (h, ck) in pairs {
        for e in &share_items {
            keys.push(meta.key(
                SM,
                e,
                &[
                    KeyPart::Account(*h),
                    KeyPart::Account(*ck),
                    KeyPart::U16(netuid),
                ],
            )?);
        }
    }
    let values = c.storage_at(&keys, at.number, &at.hash).await?;
    let mut it = values.into_iter();
    let mut pools: BTreeMap<Account, (u64, Option<Shares>)> = BTreeMap::new();
    for h in &hotkeys {
        let mut total = 0;
        let mut legacy = None;
        let mut v2 = None;
        for e in &pool_items {
            let Some(b) = it.next().flatten() else {
                continue;
            };
            match *e {
                "TotalHotkeyAlpha" => total = u64_value(meta, e, &b)?,
                "TotalHotkeyShares" => {
                    let v = meta.decode(SM, e, &b)?;
                    legacy = Some(Shares::Legacy(number(&v).ok_or_else(|| {
                        ChainError::decode(format!("{SM}.{e}"), format!("not U64F64: {v}"))
                    })?));
                }
                _ => {
                    let v = meta.decode(SM, e, &b)?;
                    v2 = Some(Shares::V2(safe_float(&v, "TotalHotkeySharesV2")?));
                }
            }
        }
        pools.insert(*h, (total, legacy.or(v2)));
    }
    let mut out = BTreeMap::new();
    for (h, ck) in pairs {
        let mut legacy = None;
        let mut v2 = None;
        for e in &share_items {
            let Some(b) = it.next().flatten() else {
                continue;
            };
            let v = meta.decode(SM, e, &b)?;
            if *e == "Alpha" {
                let bits = number(&v).ok_or_else(|| {
                    ChainError::decode("SubtensorModule.Alpha", format!("not U64F64: {v}"))
                })?;
                if bits > 0 {
                    legacy = Some(Shares::Legacy(bits));
                }
            } else {
                let s = safe_float(&v, "AlphaV2")?;
                if s.mantissa > 0 {
                    v2 = Some(Shares::V2(s));
                }
            }
        }
        let share = legacy.or(v2);
        if share.is_none() {
            continue;
        }
        let (total, denom) = pools.get(h).copied().unwrap_or((0, None));
        let alpha = match (share, denom) {
            (Some(Shares::Legacy(s)), Some(Shares::Legacy(d)))
                if meta.profile.u64f64_share_value =>
            {
                alpha_of_u64f64(total, s, d)
            }
            _ => alpha_of(total, share, denom),
        };
        out.insert((*h, *ck), alpha);
    }
    Ok(out)
}

/// What an epoch paid the subnet owner with no event: the owner cut, credited to
/// (`SubnetOwnerHotkey`, `SubnetOwner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerCut {
    pub hotkey: Account,
    pub coldkey: Account,
    /// An upper bound on the cut paid at the epoch block, in rao.
    pub at_most: u64,
}

/// The owner cut an epoch at `now` paid. Each block's `run_coinbase` adds that block's cut
/// (a share of its alpha out) to `PendingOwnerCut`, and the epoch's drain pays the sum and
/// zeroes it (subtensor v3.4.9-424 `pallets/subtensor/src/coinbase/run_coinbase.rs`,
/// `emit_to_subnets` / `drain_pending`; credited by
/// `increase_stake_for_hotkey_and_coldkey_on_subnet`, no event). So the payout is
/// `PendingOwnerCut` at b-1 plus block b's cut, which is at most block b's
/// `SubnetAlphaOutEmission`. None if the runtime lacks these items or the subnet has no
/// owner hotkey.
pub async fn owner_cut(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    pre: At,
    now: At,
) -> Result<Option<OwnerCut>, ChainError> {
    let items = [
        "SubnetOwner",
        "SubnetOwnerHotkey",
        "PendingOwnerCut",
        "SubnetAlphaOutEmission",
    ];
    if !items.iter().all(|e| meta.has(SM, e)) {
        return Ok(None);
    }
    let key = |e: &str| meta.key(SM, e, &[KeyPart::U16(netuid)]);
    // The owner is read at b: an owner change (spec 459+) takes effect at the epoch drain
    // of b, before the cut is paid to the new owner.
    let pre_keys = vec![key("PendingOwnerCut")?];
    let now_keys = vec![
        key("SubnetOwner")?,
        key("SubnetOwnerHotkey")?,
        key("SubnetAlphaOutEmission")?,
    ];
    let (pre_v, now_v) = futures::try_join!(
        c.storage_at(&pre_keys, pre.number, &pre.hash),
        c.storage_at(&now_keys, now.number, &now.hash)
    )?;
    let get = |v: &[Option<Vec<u8>>], i: usize| v.get(i).cloned().flatten();
    let (Some(ck), Some(hk)) = (get(&now_v, 0), get(&now_v, 1)) else {
        return Ok(None);
    };
    let pending = get(&pre_v, 0)
        .map(|b| u64_value(meta, "PendingOwnerCut", &b))
        .transpose()?
        .unwrap_or(0);
    let block = get(&now_v, 2)
        .map(|b| u64_value(meta, "SubnetAlphaOutEmission", &b))
        .transpose()?
        .unwrap_or(0);
    Ok(Some(OwnerCut {
        hotkey: account_value(meta, "SubnetOwnerHotkey", &hk)?,
        coldkey: account_value(meta, "SubnetOwner", &ck)?,
        at_most: pending.saturating_add(block),
    }))
}
