//! Synthetic epochs for dry runs and benchmarks: a subnet of `miners` miners (two hotkeys
//! per coldkey) with `days` of history at 20 epochs a day, where a quarter of the miners
//! hold, a quarter sell part of what they earn, a quarter sold everything once, and a
//! quarter move stake between their own hotkeys. Deterministic.

use super::*;

/// Epoch length of the sample subnet (20 epochs a day at 7200 blocks a day).
pub const EPOCH_BLOCKS: u64 = 360;

/// The inputs of every contract function for one epoch, consistent with each other.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SampleEpoch {
    pub params: Vec<Param>,
    pub attribution: AttributionInput,
    pub ledger: LedgerInput,
    pub holdings: HoldingsInput,
    pub multipliers: MultipliersInput,
    pub weights: WeightsInput,
}

fn hotkey(i: usize) -> String {
    format!("5Hotkey{i:04}")
}

fn coldkey(i: usize) -> String {
    format!("5Coldkey{:04}", i / 2)
}

fn earned(i: usize, epoch: u64) -> u64 {
    1_000_000_000 + ((i as u64 * 7_919 + epoch * 104_729) % 1_000) * 1_000_000
}

fn flow(block: u64, extrinsic: u32, kind: FlowKind, hk: String, ck: String, alpha: u64) -> Flow {
    Flow {
        block,
        extrinsic: Some(extrinsic),
        event_index: extrinsic,
        kind,
        hotkey: hk,
        coldkey: ck,
        netuid: 1,
        alpha,
        counterparty: None,
    }
}

/// Manual flows of miner `i` at `epoch` (which ends at `block`).
fn behaviour(i: usize, epoch: u64, block: u64, out: &mut Vec<Flow>) {
    let x = i as u32;
    match i % 4 {
        1 if epoch % 20 == 19 => out.push(flow(
            block,
            x,
            FlowKind::Removed,
            hotkey(i),
            coldkey(i),
            10 * earned(i, epoch),
        )),
        2 if epoch == 200 => out.push(flow(
            block,
            x,
            FlowKind::Removed,
            hotkey(i),
            coldkey(i),
            150 * earned(i, 0),
        )),
        3 if epoch % 40 == 39 => {
            let other = i ^ 1;
            out.push(flow(
                block,
                x,
                FlowKind::MovedOut,
                hotkey(i),
                coldkey(i),
                earned(i, epoch),
            ));
            out.push(flow(
                block,
                x,
                FlowKind::MovedIn,
                hotkey(other),
                coldkey(i),
                earned(i, epoch),
            ));
        }
        _ => {}
    }
}

/// Epoch `e` of the sample's history (its block is `EPOCH_BLOCKS * (e + 1)`): every
/// miner's earning and the manual flows of the block after it, appended to the lists.
pub fn activity(miners: usize, e: u64, earnings: &mut Vec<Earning>, flows: &mut Vec<Flow>) {
    let block = EPOCH_BLOCKS * (e + 1);
    for i in 0..miners {
        earnings.push(Earning {
            hotkey: hotkey(i),
            coldkey: coldkey(i),
            block,
            alpha: earned(i, e),
        });
        behaviour(i, e, block + 1, flows);
    }
}

/// Builds the sample: the history goes through `policy`'s own ledger step, so the ledgers
/// have the shape that policy keeps.
pub fn epoch(policy: &Policy, miners: usize, days: u64) -> Result<SampleEpoch, CallError> {
    let params = policy.resolve_params(&[])?;
    let epochs = days * 20;
    let now = EPOCH_BLOCKS * (epochs + 1);
    let mut earnings = Vec::new();
    let mut flows = Vec::new();
    for e in 0..epochs {
        activity(miners, e, &mut earnings, &mut flows);
    }
    let history = policy.ledger_step(
        &params,
        &LedgerInput {
            netuid: 1,
            block: now - 1,
            ledgers: Vec::new(),
            earnings,
            flows,
        },
    )?;
    let stake_of = |ck: &str| {
        history
            .ledgers
            .iter()
            .find(|l| l.holder == ck)
            .map_or(0, |l| l.tranches.iter().map(|t| t.remaining).sum::<u64>())
    };
    // This epoch: every miner earns; positions before and after the epoch block.
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut epoch_flows = Vec::new();
    for i in 0..miners {
        let stake = stake_of(&coldkey(i)) / 2;
        let e = earned(i, epochs);
        before.push(Position {
            hotkey: hotkey(i),
            coldkey: coldkey(i),
            netuid: 1,
            alpha: stake,
        });
        after.push(Position {
            hotkey: hotkey(i),
            coldkey: coldkey(i),
            netuid: 1,
            alpha: stake + e,
        });
        let mut inc = flow(now, 0, FlowKind::Incentive, hotkey(i), coldkey(i), e);
        inc.extrinsic = None;
        inc.event_index = i as u32;
        epoch_flows.push(inc);
    }
    let attribution = AttributionInput {
        netuid: 1,
        before_block: now - 1,
        after_block: now,
        before,
        after,
        flows: epoch_flows,
    };
    let attributed = policy.attribute(&params, &attribution)?;
    let ledger = LedgerInput {
        netuid: 1,
        block: now,
        ledgers: history.ledgers,
        earnings: attributed
            .iter()
            .map(|a| Earning {
                hotkey: a.hotkey.clone(),
                coldkey: a.coldkey.clone(),
                block: now,
                alpha: a.earned,
            })
            .collect(),
        flows: Vec::new(),
    };
    let stepped = policy.ledger_step(&params, &ledger)?;
    let holdings = HoldingsInput {
        block: now,
        ledgers: stepped.ledgers,
    };
    let held = policy.holdings(&params, &holdings)?;
    let miners_list: Vec<Miner> = (0..miners)
        .map(|i| Miner {
            uid: i as u16,
            hotkey: hotkey(i),
            coldkey: coldkey(i),
        })
        .collect();
    let multipliers = MultipliersInput {
        block: now,
        holdings: held,
        miners: miners_list,
    };
    let mults = policy.multipliers(&params, &multipliers)?;
    let weights = WeightsInput {
        uids: (0..miners as u16).collect(),
        weights: (0..miners).map(|i| 1.0 + (i % 7) as f64 / 7.0).collect(),
        hotkeys: (0..miners).map(hotkey).collect(),
        multipliers: mults,
    };
    Ok(SampleEpoch {
        params,
        attribution,
        ledger,
        holdings,
        multipliers,
        weights,
    })
}
