//! Processes one finalized block into a [`BlockRecord`]: classifies its events, detects
//! the tracked subnet's epoch (events, with storage as the cross-check), reads positions
//! at b-1 and b at epoch blocks, calls the policy (attribute -> ledger step -> holdings ->
//! multipliers) and, between epochs, steps the ledgers of holders whose stake moved.
//! State it needs across blocks ([`Tracker`]) is rebuilt from the store on start and only
//! replaced after the block's transaction commits.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::IngestError;
use super::classify::{Classified, Dissolution, classify};
use super::emission::{self, EpochNeurons};
use super::epoch_rule::check_epoch;
use super::shadow::{self, ShadowChain};
use super::window::{Window, read_positions, snapshots};
use crate::chain::events::BlockEvents;
use crate::chain::positions::{self, At};
use crate::chain::runtime::BASKET_ESCROW;
use crate::chain::{Account, ChainClient, ChainMeta, Hash, hex0x, ss58};
use crate::policy::{
    Earning, Flow, FlowKind, HolderLedger, LedgerInput, Miner, Param, Policy, PositionAttribution,
    decision,
};
use crate::registry::Registry;
use crate::store::{
    BlockRecord, DecisionRecord, EpochRecord, EpochStatus, LedgerStepRecord, OwnerSeen,
    RegistrationSeen, SnapshotPhase, Store,
};

/// What the processor keeps between blocks (a mirror of the store).
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    pub ledgers: BTreeMap<String, HolderLedger>,
    /// Tracked coldkeys: SS58 -> bytes.
    pub tracked: BTreeMap<String, Account>,
    /// uid -> hotkey of the subnet's neurons.
    pub neurons: BTreeMap<u16, Account>,
    /// hotkey -> owner coldkey.
    pub owners: BTreeMap<Account, Account>,
    pub last_epoch_index: Option<u64>,
    pub pending_deferral: Option<u64>,
    pub started: bool,
    /// The shadow candidate's own ledgers (memory only: seeded again after a restart).
    pub shadow: Option<ShadowChain>,
}

fn parse_account(s: &str) -> Result<Account, IngestError> {
    use std::str::FromStr;
    subxt::utils::AccountId32::from_str(s)
        .map(|a| a.0)
        .map_err(|e| IngestError::Corrupt(format!("account {s:?} in the store is not SS58: {e}")))
}

impl Tracker {
    /// Rebuilds the tracker from the store.
    pub fn load(store: &Store, netuid: u16) -> Result<Self, IngestError> {
        let mut t = Tracker {
            started: store.checkpoint()?.is_some(),
            ..Default::default()
        };
        for l in store.ledgers()? {
            t.ledgers.insert(l.holder.clone(), l);
        }
        for c in store.tracked_coldkeys()? {
            let a = parse_account(&c)?;
            t.tracked.insert(c, a);
        }
        for (uid, h) in store.registrations(netuid)? {
            t.neurons.insert(uid, parse_account(&h)?);
        }
        for (h, c) in store.owners()? {
            t.owners.insert(parse_account(&h)?, parse_account(&c)?);
        }
        t.last_epoch_index = store.last_epoch(netuid)?.and_then(|e| e.epoch_index);
        t.pending_deferral = store.pending_deferral(netuid)?.and_then(|e| e.deferred_to);
        Ok(t)
    }
}

/// Everything the processor needs that does not change per block.
pub struct Context {
    pub netuid: u16,
    pub policy: Arc<ArcSwap<Policy>>,
    pub params: Vec<Param>,
    /// Coldkeys tracked from the first block besides the neurons' owners.
    pub extra_coldkeys: Vec<Account>,
    /// The policy lifecycle (pending activation at the next epoch, shadow runs); None for
    /// plain ingest with one fixed policy.
    pub registry: Option<Arc<Registry>>,
}

fn is_manual(k: FlowKind) -> bool {
    !matches!(
        k,
        FlowKind::Incentive | FlowKind::AutoStaked | FlowKind::Dividend | FlowKind::RootClaimed
    )
}

/// Processes block `number` (`hash`, its `System.Events` decoded with `meta`): returns what
/// to write and the tracker after it. `fallback` replaces the policy in service for this block (after it
/// failed on it).
#[allow(clippy::too_many_arguments)]
pub async fn process(
    c: &ChainClient,
    meta: &ChainMeta,
    ctx: &Context,
    tracker: &Tracker,
    number: u64,
    hash: Hash,
    parent: Option<Hash>,
    decoded: &BlockEvents,
    fallback: Option<Arc<Policy>>,
) -> Result<(BlockRecord, Tracker, bool), IngestError> {
    let netuid = ctx.netuid;
    let Classified {
        mut flows,
        epoch,
        mut registrations,
        code_updated,
        owner_changed,
        dissolution,
    } = classify(number, netuid, &meta.profile, &decoded.records);
    if let Some(d) = dissolution {
        tracing::error!(
            block = number,
            netuid,
            "subnet {netuid} {} at block #{number}: the runtime settles every stake on it \
             straight to coldkey balances with no StakeRemoved, so positions fall with no \
             flow; any loss measured from here is dissolution, not selling (it shows as \
             residue). Weights for this subnet are meaningless from now on.",
            match d {
                Dissolution::Started => "is being dissolved (NetworkRemoved)",
                Dissolution::Completed => "finished dissolving (NetworkDissolveCleanupCompleted)",
            }
        );
    }
    let mut t = tracker.clone();
    // A policy scheduled for the next epoch boundary serves from this epoch block on (the
    // monitor swaps it in once the block is written).
    let pending = ctx
        .registry
        .as_ref()
        .and_then(|r| r.pending())
        .filter(|_| epoch.run.is_some());
    // After a failure the pending policy is not promoted: it tries again next epoch.
    let pending = pending.filter(|_| fallback.is_none());
    let policy = fallback
        .or_else(|| pending.clone())
        .unwrap_or_else(|| ctx.policy.load_full());
    // A candidate that is already in service has nothing to compare.
    let candidate = ctx
        .registry
        .as_ref()
        .and_then(|r| r.shadow())
        .filter(|c| c.sha256() != policy.sha256());
    t.shadow = ShadowChain::follow(t.shadow.take(), candidate.as_deref(), &t.ledgers, number);
    let mut rec = BlockRecord {
        number,
        hash: hex0x(&hash),
        events: decoded.total,
        activation: pending.map(|p| p.sha256_hex()),
        ..Default::default()
    };
    let prev_hash = match parent {
        Some(p) => Some(p),
        None if number > 0 => c
            .block_hashes(number - 1, number - 1)
            .await?
            .pop()
            .flatten(),
        None => None,
    };
    // b-1 (epoch blocks, registrations and the first block read state there).
    let prev = |what: &str| -> Result<At, IngestError> {
        prev_hash
            .map(|h| At {
                number: number - 1,
                hash: h,
            })
            .ok_or_else(|| {
                IngestError::Epoch(format!("block #{number}: no parent block for {what}"))
            })
    };
    let now = At { number, hash };
    // A subnet owner change registers the new owner's hotkey in this block's
    // initialization without a `NeuronRegistered`: `Keys` at b tells which uids changed.
    let mut silent: BTreeMap<u16, Account> = BTreeMap::new();
    if owner_changed && t.started {
        let (at_b, _) = positions::neurons(c, meta, netuid, now).await?;
        let evented: BTreeSet<u16> = registrations.iter().map(|(u, _)| *u).collect();
        for (uid, h) in at_b {
            if t.neurons.get(&uid) != Some(&h) && !evented.contains(&uid) {
                tracing::info!(block = number, netuid, uid, hotkey = %ss58(&h), "subnet owner change: uid has a new hotkey with no NeuronRegistered");
                silent.insert(uid, h);
            }
        }
        registrations.extend(silent.iter().map(|(u, h)| (*u, *h)));
    }
    let mut seeds: Vec<Flow> = vec![];
    let mut new_coldkeys: BTreeSet<Account> = BTreeSet::new();

    // First block: who is tracked, and their stake before tracking began (manual tranches).
    if !t.started {
        let at = prev("reading the starting state")?;
        let (neurons, _) = positions::neurons(c, meta, netuid, at).await?;
        let hks: BTreeSet<Account> = neurons.values().copied().collect();
        let owners = positions::owners(c, meta, &hks, at).await?;
        for (uid, h) in &neurons {
            rec.registrations.push(RegistrationSeen {
                netuid,
                uid: *uid,
                hotkey: ss58(h),
                block: at.number,
            });
        }
        for (h, ck) in &owners {
            rec.owners.push(OwnerSeen {
                hotkey: ss58(h),
                coldkey: ss58(ck),
                block: at.number,
            });
            new_coldkeys.insert(*ck);
        }
        new_coldkeys.extend(ctx.extra_coldkeys.iter().copied());
        t.neurons = neurons;
        t.owners = owners;
        t.started = true;
    }
    // Registrations in this block: the new hotkey's owner becomes tracked.
    if !registrations.is_empty() {
        let hks: BTreeSet<Account> = registrations.iter().map(|(_, h)| *h).collect();
        let owners = positions::owners(c, meta, &hks, now).await?;
        for (uid, h) in &registrations {
            rec.registrations.push(RegistrationSeen {
                netuid,
                uid: *uid,
                hotkey: ss58(h),
                block: number,
            });
            t.neurons.insert(*uid, *h);
            if let Some(ck) = owners.get(h) {
                rec.owners.push(OwnerSeen {
                    hotkey: ss58(h),
                    coldkey: ss58(ck),
                    block: number,
                });
                t.owners.insert(*h, *ck);
                if !t.tracked.contains_key(&ss58(ck)) {
                    new_coldkeys.insert(*ck);
                }
            }
        }
    }
    // The root basket's escrow holds positions with no stake events: never a holder.
    new_coldkeys.retain(|ck| !t.tracked.contains_key(&ss58(ck)) && *ck != BASKET_ESCROW);
    if !new_coldkeys.is_empty() {
        let at = prev("seeding new coldkeys")?;
        let pos = read_positions(c, meta, netuid, &new_coldkeys, &[at])
            .await?
            .remove(0);
        rec.snapshots.extend(snapshots(
            number,
            SnapshotPhase::Seed,
            at.number,
            netuid,
            &pos,
        ));
        for (i, ((h, ck), a)) in pos.iter().filter(|(_, a)| **a > 0).enumerate() {
            seeds.push(Flow {
                block: at.number,
                extrinsic: None,
                event_index: u32::MAX - i as u32,
                kind: FlowKind::Added,
                hotkey: ss58(h),
                coldkey: ss58(ck),
                netuid,
                alpha: *a,
                counterparty: None,
            });
        }
        for ck in &new_coldkeys {
            rec.new_tracked.push(ss58(ck));
            t.tracked.insert(ss58(ck), *ck);
        }
    }

    // Epoch detection: events first, storage as the cross-check.
    if let Some(to) = t.pending_deferral
        && to == number
        && !epoch.any()
    {
        return Err(IngestError::Epoch(format!(
            "subnet {netuid}'s epoch was deferred to block #{number}, but that block has no epoch event: refusing to miss an epoch"
        )));
    }
    let mut attributed = None;
    let mut shadow_attributed = None;
    if epoch.run.is_some() || epoch.skipped {
        let pre = prev("reading the epoch's pre-state")?;
        let ((neurons_pre, st_pre), st) = futures::try_join!(
            positions::neurons(c, meta, netuid, pre),
            positions::epoch_state(c, meta, netuid, now)
        )?;
        let rule = check_epoch(netuid, number, &st_pre, &st, t.last_epoch_index)?;
        rec.epochs.push(EpochRecord {
            netuid,
            block: number,
            status: if epoch.run.is_some() {
                EpochStatus::Run
            } else {
                EpochStatus::Skipped
            },
            epoch_index: st.epoch_index,
            tempo: Some(st.tempo),
            rule,
            deferred_to: None,
        });
        t.last_epoch_index = st.epoch_index;
        t.pending_deferral = None;
        if let Some((event_index, emissions)) = &epoch.run {
            let extra = emission::epoch_flows(
                c,
                meta,
                netuid,
                pre,
                now,
                *event_index,
                emissions,
                EpochNeurons {
                    pre: &neurons_pre,
                    silent: &silent,
                },
            )
            .await?;
            // Keep block order: the epoch's flows come at its event's place.
            flows.extend(extra);
            flows.sort_by_key(|f| f.event_index);
            let coldkeys: BTreeSet<Account> = t.tracked.values().copied().collect();
            let window = Window { pre, now, netuid };
            let input = window
                .input(c, meta, &coldkeys, &flows, &t.tracked, &mut rec)
                .await?;
            attributed = Some(policy.attribute(&ctx.params, &input)?);
            if let (Some(c), Some(chain)) = (&candidate, t.shadow.as_mut()) {
                shadow_attributed = chain.attribute(c, &ctx.params, &input);
            }
        }
    } else if let Some(to) = epoch.deferred_to {
        rec.epochs.push(EpochRecord {
            netuid,
            block: number,
            status: EpochStatus::Deferred,
            epoch_index: None,
            tempo: None,
            rule: "deferred".into(),
            deferred_to: Some(to),
        });
        t.pending_deferral = Some(to);
    }
    // Between epochs, a Keep root claim (spec < 441) credits subnet alpha to the claiming
    // coldkey's positions with no amount in its event: attribute that block for them.
    if attributed.is_none() {
        let claimers: BTreeSet<Account> = flows
            .iter()
            .filter(|f| f.kind == FlowKind::RootClaimed)
            .filter_map(|f| t.tracked.get(&f.coldkey).copied())
            .collect();
        if !claimers.is_empty() {
            let window = Window {
                pre: prev("reading a root claim's pre-state")?,
                now,
                netuid,
            };
            let input = window
                .input(c, meta, &claimers, &flows, &t.tracked, &mut rec)
                .await?;
            attributed = Some(policy.attribute(&ctx.params, &input)?);
            if let (Some(c), Some(chain)) = (&candidate, t.shadow.as_mut()) {
                shadow_attributed = chain.attribute(c, &ctx.params, &input);
            }
        }
    }

    // The ledger: earnings at epochs, manual flows of tracked holders every block.
    let tracked_names: BTreeSet<&String> = t.tracked.keys().collect();
    let manual: Vec<Flow> = flows
        .iter()
        .filter(|f| is_manual(f.kind) && tracked_names.contains(&f.coldkey))
        .cloned()
        .collect();
    let earned = |attributed: &Option<Vec<PositionAttribution>>| -> Vec<Earning> {
        attributed
            .iter()
            .flatten()
            .filter(|a| a.earned > 0 && tracked_names.contains(&a.coldkey))
            .map(|a| Earning {
                hotkey: a.hotkey.clone(),
                coldkey: a.coldkey.clone(),
                block: number,
                alpha: a.earned,
            })
            .collect()
    };
    let earnings = earned(&attributed);
    let shadow_earnings = earned(&shadow_attributed);
    let is_epoch = epoch.run.is_some();
    let neurons_changed = !rec.registrations.is_empty();
    if is_epoch
        || !manual.is_empty()
        || !seeds.is_empty()
        || neurons_changed
        || !earnings.is_empty()
    {
        let mut step_flows = seeds;
        step_flows.extend(manual);
        let holders: BTreeSet<String> = step_flows
            .iter()
            .map(|f| f.coldkey.clone())
            .chain(earnings.iter().map(|e| e.coldkey.clone()))
            .collect();
        let given: Vec<HolderLedger> = t
            .ledgers
            .values()
            .filter(|l| is_epoch || holders.contains(&l.holder))
            .cloned()
            .collect();
        let mut step = LedgerStepRecord {
            block: number,
            ..Default::default()
        };
        if let (Some(c), Some(chain)) = (&candidate, t.shadow.as_mut()) {
            chain.step(
                c,
                &ctx.params,
                netuid,
                number,
                is_epoch,
                shadow_earnings,
                &step_flows,
            );
        }
        if is_epoch || !step_flows.is_empty() || !earnings.is_empty() {
            let out = policy.ledger_step(
                &ctx.params,
                &LedgerInput {
                    netuid,
                    block: number,
                    ledgers: given,
                    earnings,
                    flows: step_flows,
                },
            )?;
            for l in &out.ledgers {
                t.ledgers.insert(l.holder.clone(), l.clone());
            }
            step.ledgers = out.ledgers;
            step.releases = out.releases;
            step.consumptions = out.consumptions;
        }
        // At epochs, registrations and the first block every holder and miner is
        // recomputed; between epochs only those whose ledger changed (the others' rows stand).
        let full = is_epoch || neurons_changed;
        let changed: BTreeSet<String> = step.ledgers.iter().map(|l| l.holder.clone()).collect();
        let ledgers: Vec<HolderLedger> = t
            .ledgers
            .values()
            .filter(|l| full || changed.contains(&l.holder))
            .cloned()
            .collect();
        let miners: Vec<Miner> = t
            .neurons
            .iter()
            .map(|(uid, h)| Miner {
                uid: *uid,
                hotkey: ss58(h),
                coldkey: t.owners.get(h).map(ss58).unwrap_or_default(),
            })
            .filter(|m| full || changed.contains(&m.coldkey) || changed.contains(&m.hotkey))
            .collect();
        let input_sha256 =
            is_epoch.then(|| decision::input_hash(number, &ctx.params, &ledgers, &miners));
        let d = decision::run(&policy, &ctx.params, number, ledgers, miners.clone())?;
        if let Some(input_sha256) = input_sha256 {
            rec.decision = Some(DecisionRecord {
                block: number,
                policy_sha256: policy.sha256_hex(),
                input_sha256,
                output_sha256: decision::output_hash(&d),
                params_json: json(&ctx.params),
                resolved_params_json: json(&policy.resolve_params(&ctx.params)?),
                miners_json: json(&miners),
            });
        }
        if is_epoch && let (Some(c), Some(chain)) = (&candidate, t.shadow.as_mut()) {
            rec.shadow = Some(shadow::compare(
                &policy,
                c,
                chain,
                &ctx.params,
                number,
                miners,
                &d,
            ));
            // After a failure, the candidate starts again from the active ledgers.
            if chain.error.is_some() {
                t.shadow = None;
            }
        }
        step.holdings = d.holdings;
        step.multipliers = d.multipliers;
        rec.step = Some(step);
    }
    rec.attributions = attributed.unwrap_or_default();
    rec.flows = flows;
    Ok((rec, t, code_updated))
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
