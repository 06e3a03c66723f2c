//! The earning flows that storage, not events, tells at an epoch block: each uid's
//! incentive (summed over the subnet's mechanisms by the classifier) to its hotkey and
//! owner coldkey, the subnet owner's cut (credited with no event), and the hotkeys whose
//! pools received dividends. Nothing here fails on a uid it cannot place: incentive for a
//! uid without a hotkey is logged and left out (the position's change then shows as
//! residue), never a reason to stop following the chain.

use std::collections::{BTreeMap, BTreeSet};

use super::IngestError;
use crate::chain::positions::{self, At};
use crate::chain::{Account, ChainClient, ChainMeta, ss58};
use crate::policy::{Flow, FlowKind};

/// Where the epoch at `now` found its neurons: uid -> hotkey at b-1, and the uids that got
/// a new hotkey inside block b's initialization without a `NeuronRegistered` (a subnet
/// owner change registers the new owner's hotkey at the epoch drain, before the epoch
/// runs: RaoFoundation/subtensor `pallets/subtensor/src/lock/subnet_conviction.rs`), whose
/// incentive the new hotkey receives.
pub struct EpochNeurons<'a> {
    pub pre: &'a BTreeMap<u16, Account>,
    pub silent: &'a BTreeMap<u16, Account>,
}

impl EpochNeurons<'_> {
    fn hotkey(&self, uid: u16) -> Option<&Account> {
        self.silent.get(&uid).or_else(|| self.pre.get(&uid))
    }
}

/// The epoch's incentive, owner-cut and dividend flows, all at the place of its first
/// `IncentiveAlphaEmittedToMiners` event (`event_index`).
#[allow(clippy::too_many_arguments)]
pub async fn epoch_flows(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    pre: At,
    now: At,
    event_index: u32,
    emissions: &[u64],
    neurons: EpochNeurons<'_>,
) -> Result<Vec<Flow>, IngestError> {
    let pre_hks: BTreeSet<Account> = neurons.pre.values().copied().collect();
    let silent_hks: BTreeSet<Account> = neurons.silent.values().copied().collect();
    let all: BTreeSet<Account> = pre_hks.union(&silent_hks).copied().collect();
    let (owners_pre, owners_now, divs, cut) = futures::try_join!(
        positions::owners(c, meta, &pre_hks, pre),
        positions::owners(c, meta, &silent_hks, now),
        positions::dividends(c, meta, netuid, &all, now),
        positions::owner_cut(c, meta, netuid, pre, now),
    )?;
    let flow = |kind, hotkey: &Account, coldkey: String, alpha| Flow {
        block: now.number,
        extrinsic: None,
        event_index,
        kind,
        hotkey: ss58(hotkey),
        coldkey,
        netuid,
        alpha,
        counterparty: None,
    };
    let mut out = vec![];
    for (uid, alpha) in emissions.iter().enumerate() {
        if *alpha == 0 {
            continue;
        }
        let Some(h) = u16::try_from(uid).ok().and_then(|u| neurons.hotkey(u)) else {
            tracing::warn!(
                block = now.number,
                netuid,
                uid,
                alpha,
                "incentive for a uid with no hotkey at #{} or #{}: left out (it shows as residue)",
                pre.number,
                now.number
            );
            continue;
        };
        let owner = owners_now.get(h).or_else(|| owners_pre.get(h));
        out.push(flow(
            FlowKind::Incentive,
            h,
            owner.map(ss58).unwrap_or_default(),
            *alpha,
        ));
    }
    if let Some(cut) = cut.filter(|c| c.at_most > 0) {
        out.push(flow(
            FlowKind::Incentive,
            &cut.hotkey,
            ss58(&cut.coldkey),
            cut.at_most,
        ));
    }
    for (h, d) in &divs {
        out.push(flow(FlowKind::Dividend, h, String::new(), *d));
    }
    Ok(out)
}
