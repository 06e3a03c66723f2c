//! The contracts a policy may implement (`bittensor:vesting@0.1.0` and `@0.2.0`), and the
//! adapter that runs a 0.2.0 policy on the host's values, which keep the 0.1.0 shape
//! (account strings, nested ledgers).
//!
//! The adapter is the one `wit/vesting.wit` documents: every account string of an input
//! goes once into a table sorted by bytes, records carry indices into it, ledgers travel
//! flat; outputs map back through the same table. A policy's output that names an account
//! past the table, or a malformed ledger, is invalid output.

use super::bindings::v0_2::bittensor::vesting::types as v2;
use super::*;
use std::collections::HashMap;

/// A version of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contract {
    V0_1,
    V0_2,
}

impl Contract {
    /// The contract new policies implement.
    pub const NEWEST: Contract = Contract::V0_2;
    /// Every contract this host runs, newest first.
    pub const ALL: [Contract; 2] = [Contract::V0_2, Contract::V0_1];

    /// `bittensor:vesting@0.2.0`: what a policy's `info` declares.
    pub fn name(self) -> &'static str {
        match self {
            Contract::V0_1 => "bittensor:vesting@0.1.0",
            Contract::V0_2 => "bittensor:vesting@0.2.0",
        }
    }

    /// The interface a policy of this contract exports.
    pub fn export(self) -> &'static str {
        match self {
            Contract::V0_1 => "bittensor:vesting/policy@0.1.0",
            Contract::V0_2 => "bittensor:vesting/policy@0.2.0",
        }
    }

    /// The only import a policy of this contract may have: the contract's own types.
    pub fn types_import(self) -> &'static str {
        match self {
            Contract::V0_1 => "bittensor:vesting/types@0.1.0",
            Contract::V0_2 => "bittensor:vesting/types@0.2.0",
        }
    }

    pub fn of_name(name: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The account table of one input: the distinct strings sorted by bytes.
struct Table<'a> {
    names: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl<'a> Table<'a> {
    fn new(strings: impl Iterator<Item = &'a str>) -> Self {
        let mut index: HashMap<&'a str, u32> = HashMap::new();
        for s in strings {
            index.entry(s).or_insert(0);
        }
        let mut names: Vec<&'a str> = index.keys().copied().collect();
        // `str`'s order is the order of its UTF-8 bytes.
        names.sort_unstable();
        for (i, n) in names.iter().enumerate() {
            index.insert(n, i as u32);
        }
        Table { names, index }
    }

    fn id(&self, s: &str) -> u32 {
        self.index[s]
    }

    fn accounts(&self) -> Vec<String> {
        self.names.iter().map(|s| s.to_string()).collect()
    }
}

/// Names an output's account indices against the input's table.
struct Names<'a>(&'a [String]);

impl Names<'_> {
    fn get(&self, i: u32, what: &str) -> Result<String, String> {
        self.0.get(i as usize).cloned().ok_or_else(|| {
            format!(
                "{what} is account {i}, past the input's account table ({} entries)",
                self.0.len()
            )
        })
    }
}

pub fn params(p: &[Param]) -> Vec<v2::Param> {
    p.iter()
        .map(|p| v2::Param {
            name: p.name.clone(),
            value: value(&p.value),
        })
        .collect()
}

fn value(v: &ParamValue) -> v2::ParamValue {
    match v {
        ParamValue::Amount(x) => v2::ParamValue::Amount(*x),
        ParamValue::Fixed(x) => v2::ParamValue::Fixed(*x),
        ParamValue::Count(x) => v2::ParamValue::Count(*x),
        ParamValue::Flag(x) => v2::ParamValue::Flag(*x),
        ParamValue::Choice(x) => v2::ParamValue::Choice(x.clone()),
    }
}

fn value_back(v: v2::ParamValue) -> ParamValue {
    match v {
        v2::ParamValue::Amount(x) => ParamValue::Amount(x),
        v2::ParamValue::Fixed(x) => ParamValue::Fixed(x),
        v2::ParamValue::Count(x) => ParamValue::Count(x),
        v2::ParamValue::Flag(x) => ParamValue::Flag(x),
        v2::ParamValue::Choice(x) => ParamValue::Choice(x),
    }
}

pub fn params_back(p: Vec<v2::Param>) -> Vec<Param> {
    p.into_iter()
        .map(|p| Param {
            name: p.name,
            value: value_back(p.value),
        })
        .collect()
}

pub fn info_back(i: v2::PolicyInfo) -> PolicyInfo {
    PolicyInfo {
        name: i.name,
        version: i.version,
        contract: i.contract,
        description: i.description,
        params: i
            .params
            .into_iter()
            .map(|s| ParamSpec {
                name: s.name,
                description: s.description,
                default_value: value_back(s.default_value),
                min: s.min,
                max: s.max,
                choices: s.choices,
            })
            .collect(),
    }
}

pub fn error_back(e: v2::PolicyError) -> (ErrorCode, String) {
    let code = match e.code {
        v2::ErrorCode::InvalidParameter => ErrorCode::InvalidParameter,
        v2::ErrorCode::InvalidInput => ErrorCode::InvalidInput,
        v2::ErrorCode::LengthMismatch => ErrorCode::LengthMismatch,
        v2::ErrorCode::DuplicateUid => ErrorCode::DuplicateUid,
        v2::ErrorCode::InvalidWeight => ErrorCode::InvalidWeight,
        v2::ErrorCode::Overflow => ErrorCode::Overflow,
    };
    (code, e.message)
}

fn kind(k: FlowKind) -> v2::FlowKind {
    match k {
        FlowKind::Added => v2::FlowKind::Added,
        FlowKind::Removed => v2::FlowKind::Removed,
        FlowKind::MovedIn => v2::FlowKind::MovedIn,
        FlowKind::MovedOut => v2::FlowKind::MovedOut,
        FlowKind::TransferredIn => v2::FlowKind::TransferredIn,
        FlowKind::TransferredOut => v2::FlowKind::TransferredOut,
        FlowKind::SwappedIn => v2::FlowKind::SwappedIn,
        FlowKind::SwappedOut => v2::FlowKind::SwappedOut,
        FlowKind::AlphaFee => v2::FlowKind::AlphaFee,
        FlowKind::Recycled => v2::FlowKind::Recycled,
        FlowKind::Burned => v2::FlowKind::Burned,
        FlowKind::Incentive => v2::FlowKind::Incentive,
        FlowKind::AutoStaked => v2::FlowKind::AutoStaked,
        FlowKind::Dividend => v2::FlowKind::Dividend,
        FlowKind::RootClaimed => v2::FlowKind::RootClaimed,
    }
}

fn flow_accounts(f: &Flow) -> impl Iterator<Item = &str> {
    [f.hotkey.as_str(), f.coldkey.as_str()]
        .into_iter()
        .chain(f.counterparty.as_deref())
}

fn flows(list: &[Flow], t: &Table) -> Vec<v2::Flow> {
    list.iter()
        .map(|f| v2::Flow {
            block: f.block,
            extrinsic: f.extrinsic,
            event_index: f.event_index,
            kind: kind(f.kind),
            hotkey: t.id(&f.hotkey),
            coldkey: t.id(&f.coldkey),
            netuid: f.netuid,
            alpha: f.alpha,
            counterparty: f.counterparty.as_deref().map(|c| t.id(c)),
        })
        .collect()
}

pub fn attribution_input(i: &AttributionInput) -> v2::AttributionInput {
    let t = Table::new(
        i.before
            .iter()
            .chain(&i.after)
            .flat_map(|p| [p.hotkey.as_str(), p.coldkey.as_str()])
            .chain(i.flows.iter().flat_map(flow_accounts)),
    );
    let positions = |list: &[Position]| {
        list.iter()
            .map(|p| v2::Position {
                hotkey: t.id(&p.hotkey),
                coldkey: t.id(&p.coldkey),
                netuid: p.netuid,
                alpha: p.alpha,
            })
            .collect()
    };
    v2::AttributionInput {
        netuid: i.netuid,
        before_block: i.before_block,
        after_block: i.after_block,
        before: positions(&i.before),
        after: positions(&i.after),
        flows: flows(&i.flows, &t),
        accounts: t.accounts(),
    }
}

pub fn attributions_back(
    out: Vec<v2::PositionAttribution>,
    accounts: &[String],
) -> Result<Vec<PositionAttribution>, String> {
    let n = Names(accounts);
    out.into_iter()
        .map(|a| {
            Ok(PositionAttribution {
                hotkey: n.get(a.hotkey, "an attribution's hotkey")?,
                coldkey: n.get(a.coldkey, "an attribution's coldkey")?,
                netuid: a.netuid,
                before: a.before,
                after: a.after,
                manual_in: a.manual_in,
                manual_out: a.manual_out,
                earned: a.earned,
                residue: a.residue,
            })
        })
        .collect()
}

fn ledgers(list: &[HolderLedger], t: &Table) -> v2::Ledgers {
    let tranches: usize = list.iter().map(|l| l.tranches.len()).sum();
    let mut flat = v2::Ledgers {
        holders: Vec::with_capacity(list.len()),
        unmatched_outflow: Vec::with_capacity(list.len()),
        tranche_counts: Vec::with_capacity(list.len()),
        tranches: Vec::with_capacity(tranches * 8),
    };
    for l in list {
        flat.holders.push(t.id(&l.holder));
        flat.unmatched_outflow.push(l.unmatched_outflow);
        flat.tranche_counts.push(l.tranches.len() as u32);
        for x in &l.tranches {
            flat.tranches.extend_from_slice(&[
                (x.kind == TrancheKind::Earned) as u64,
                x.start,
                x.block,
                x.amount,
                x.remaining,
                x.scheduled,
                x.released,
                x.sold_locked,
            ]);
        }
    }
    flat
}

fn ledgers_back(flat: v2::Ledgers, n: &Names) -> Result<Vec<HolderLedger>, String> {
    let count = flat.holders.len();
    if flat.unmatched_outflow.len() != count || flat.tranche_counts.len() != count {
        return Err(format!(
            "ledgers: {} holders, {} unmatched-outflow and {} tranche-counts",
            count,
            flat.unmatched_outflow.len(),
            flat.tranche_counts.len()
        ));
    }
    let total: u64 = flat.tranche_counts.iter().map(|&c| c as u64).sum();
    if flat.tranches.len() as u64 != total * 8 {
        return Err(format!(
            "ledgers: tranche-counts add up to {total} tranches but tranches holds {} u64",
            flat.tranches.len()
        ));
    }
    let mut rows = flat.tranches.chunks_exact(8);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let holder = n.get(flat.holders[i], "a ledger's holder")?;
        let mut tranches = Vec::with_capacity(flat.tranche_counts[i] as usize);
        for r in rows.by_ref().take(flat.tranche_counts[i] as usize) {
            let kind = match r[0] {
                0 => TrancheKind::Manual,
                1 => TrancheKind::Earned,
                k => return Err(format!("a tranche of `{holder}` has kind {k}")),
            };
            tranches.push(Tranche {
                kind,
                start: r[1],
                block: r[2],
                amount: r[3],
                remaining: r[4],
                scheduled: r[5],
                released: r[6],
                sold_locked: r[7],
            });
        }
        out.push(HolderLedger {
            holder,
            tranches,
            unmatched_outflow: flat.unmatched_outflow[i],
        });
    }
    Ok(out)
}

pub fn ledger_input(i: &LedgerInput) -> v2::LedgerInput {
    let t = Table::new(
        i.ledgers
            .iter()
            .map(|l| l.holder.as_str())
            .chain(
                i.earnings
                    .iter()
                    .flat_map(|e| [e.hotkey.as_str(), e.coldkey.as_str()]),
            )
            .chain(i.flows.iter().flat_map(flow_accounts)),
    );
    v2::LedgerInput {
        netuid: i.netuid,
        block: i.block,
        ledgers: ledgers(&i.ledgers, &t),
        earnings: i
            .earnings
            .iter()
            .map(|e| v2::Earning {
                hotkey: t.id(&e.hotkey),
                coldkey: t.id(&e.coldkey),
                block: e.block,
                alpha: e.alpha,
            })
            .collect(),
        flows: flows(&i.flows, &t),
        accounts: t.accounts(),
    }
}

pub fn ledger_output_back(
    o: v2::LedgerOutput,
    accounts: &[String],
) -> Result<LedgerOutput, String> {
    let n = Names(accounts);
    Ok(LedgerOutput {
        ledgers: ledgers_back(o.ledgers, &n)?,
        releases: o
            .releases
            .into_iter()
            .map(|r| {
                Ok(Release {
                    holder: n.get(r.holder, "a release's holder")?,
                    tranche_start: r.tranche_start,
                    block: r.block,
                    alpha: r.alpha,
                })
            })
            .collect::<Result<_, String>>()?,
        consumptions: o
            .consumptions
            .into_iter()
            .map(|c| {
                Ok(Consumption {
                    holder: n.get(c.holder, "a consumption's holder")?,
                    block: c.block,
                    alpha: c.alpha,
                    from_manual: c.from_manual,
                    from_released: c.from_released,
                    from_locked: c.from_locked,
                    unmatched: c.unmatched,
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

/// A holding of one contract as the other's: the same fields, `holder` given.
macro_rules! holding {
    ($h:expr, $holder:expr, $($ty:ident)::+) => {
        $($ty)::+ {
            holder: $holder,
            total_stake: $h.total_stake,
            earned_in_window: $h.earned_in_window,
            held_in_window: $h.held_in_window,
            held_fraction: $h.held_fraction,
            holding_blocks: $h.holding_blocks,
            holding_days: $h.holding_days,
            vested: $h.vested,
            locked: $h.locked,
        }
    };
}

/// A miner's multiplier of one contract as the other's, `hotkey` and `holder` given.
macro_rules! multiplier {
    ($m:expr, $hotkey:expr, $holder:expr, $($ty:ident)::+) => {
        $($ty)::+ {
            uid: $m.uid,
            hotkey: $hotkey,
            holder: $holder,
            multiplier: $m.multiplier,
            held_factor: $m.held_factor,
            duration_factor: $m.duration_factor,
            eligible: $m.eligible,
        }
    };
}

pub fn holdings_input(i: &HoldingsInput) -> v2::HoldingsInput {
    let t = Table::new(i.ledgers.iter().map(|l| l.holder.as_str()));
    v2::HoldingsInput {
        block: i.block,
        ledgers: ledgers(&i.ledgers, &t),
        accounts: t.accounts(),
    }
}

pub fn holdings_back(out: Vec<v2::Holding>, accounts: &[String]) -> Result<Vec<Holding>, String> {
    let n = Names(accounts);
    out.into_iter()
        .map(|h| Ok(holding!(h, n.get(h.holder, "a holding's holder")?, Holding)))
        .collect()
}

pub fn multipliers_input(i: &MultipliersInput) -> v2::MultipliersInput {
    let t = Table::new(
        i.holdings.iter().map(|h| h.holder.as_str()).chain(
            i.miners
                .iter()
                .flat_map(|m| [m.hotkey.as_str(), m.coldkey.as_str()]),
        ),
    );
    v2::MultipliersInput {
        block: i.block,
        holdings: i
            .holdings
            .iter()
            .map(|h| holding!(h, t.id(&h.holder), v2::Holding))
            .collect(),
        miners: i
            .miners
            .iter()
            .map(|m| v2::Miner {
                uid: m.uid,
                hotkey: t.id(&m.hotkey),
                coldkey: t.id(&m.coldkey),
            })
            .collect(),
        accounts: t.accounts(),
    }
}

pub fn multipliers_back(
    out: Vec<v2::MinerMultiplier>,
    accounts: &[String],
) -> Result<Vec<MinerMultiplier>, String> {
    let n = Names(accounts);
    out.into_iter()
        .map(|m| {
            Ok(multiplier!(
                m,
                n.get(m.hotkey, "a multiplier's hotkey")?,
                n.get(m.holder, "a multiplier's holder")?,
                MinerMultiplier
            ))
        })
        .collect()
}

pub fn weights_input(i: &WeightsInput) -> v2::WeightsInput {
    let t = Table::new(
        i.hotkeys.iter().map(String::as_str).chain(
            i.multipliers
                .iter()
                .flat_map(|m| [m.hotkey.as_str(), m.holder.as_str()]),
        ),
    );
    v2::WeightsInput {
        uids: i.uids.clone(),
        weights: i.weights.clone(),
        hotkeys: i.hotkeys.iter().map(|h| t.id(h)).collect(),
        multipliers: i
            .multipliers
            .iter()
            .map(|m| multiplier!(m, t.id(&m.hotkey), t.id(&m.holder), v2::MinerMultiplier))
            .collect(),
        accounts: t.accounts(),
    }
}

pub fn weights_back(o: v2::WeightsOutput) -> WeightsOutput {
    WeightsOutput {
        uids: o.uids,
        weights: o.weights,
        multipliers: o.multipliers,
        chain_uids: o.chain_uids,
        chain_weights: o.chain_weights,
    }
}

#[cfg(test)]
#[path = "contract_tests.rs"]
mod tests;
