//! The runtimes the devnet serves, in one place: each known spec version with its
//! metadata (real or built) and the rules the chain model follows while it runs.
//! A chain starts on one runtime and upgrades at scripted blocks (`chain::Chain`).
//!
//! Adding a runtime: the checklist is in the crate's README ("Runtimes").

use std::sync::{Arc, OnceLock};

use crate::error::{DevnetError, Result};
use crate::metadata::{ChainMetadata, FINNEY_METADATA};

/// The finney metadata at spec 393 (V16), `shared/chain/finney-metadata-393.scale`.
pub const FINNEY_393_METADATA: &[u8] = include_bytes!("../metadata/finney-metadata-393.scale");

/// What the chain model does differently under a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Epochs by the legacy rule `(b + netuid + 1) % (tempo + 1) == 0` (spec < 423:
    /// opentensor/subtensor v3.3.13-393 `pallets/subtensor/src/coinbase/run_coinbase.rs`,
    /// `should_run_epoch` / `blocks_until_next_epoch`); dynamic tempo from 423
    /// (v3.4.8-423, same file).
    pub legacy_epoch: bool,
    /// A root claim pays TAO staked on root and credits no subnet alpha; `RootClaimed`
    /// carries `tao` (spec 441+, "Root Reborn": RaoFoundation/subtensor
    /// `pallets/subtensor/src/staking/claim_root.rs`, `macros/events.rs` `RootClaimed`).
    /// Before, a claim could credit subnet alpha with `RootClaimed { coldkey }` only
    /// (v3.4.9-424 `staking/claim_root.rs`).
    pub root_claim_pays_tao: bool,
    /// Position writes keep `Alpha` / `TotalHotkeyShares` (U64F64) with the 393 share-pool
    /// arithmetic (`crate::model::pool393`); the runtime has no `AlphaV2` /
    /// `TotalHotkeySharesV2` (opentensor/subtensor v3.3.13-393
    /// `pallets/subtensor/src/staking/stake_utils.rs`, `HotkeyAlphaSharePoolDataOperations`).
    /// From 424 a write deletes the legacy entries and writes V2 (v3.4.9-424, same file).
    pub legacy_shares: bool,
    /// A transaction fee can be paid in alpha (`TransactionFeePaidWithAlpha`). At 393 the
    /// fallback is commented out of `withdraw_fee` / `can_withdraw_fee` and the event does
    /// not exist (v3.3.13-393 `pallets/transaction-fee/src/lib.rs`).
    pub alpha_fees: bool,
    /// Subnet ownership moves to the lock-conviction leader at the epoch drain, before the
    /// epoch runs (RaoFoundation/subtensor `pallets/subtensor/src/coinbase/run_coinbase/
    /// drain_pending_emissions.rs` calls `change_subnet_owner_if_needed` from
    /// `staking/lock/subnet_conviction.rs`); in 424 the call is commented out.
    pub subnet_owner_change: bool,
    /// The calls `transfer_stake_and_hotkey` (143) and `move_stake_limit` (149)
    /// (RaoFoundation/subtensor `pallets/subtensor/src/macros/dispatches.rs`).
    pub calls_459: bool,
    /// Miner collateral (`add_collateral` 144, `set_min_collateral` 145, and at the
    /// epoch `settle_miner_collateral` before a miner's incentive is credited; an
    /// incentive that leaves nothing after capture is skipped, `AutoStakeAdded` with it):
    /// RaoFoundation/subtensor `pallets/subtensor/src/subnets/collateral.rs`,
    /// `coinbase/run_coinbase/dividend_distribution.rs`
    /// `distribute_dividends_and_incentives` (`crate::model::collateral`).
    pub miner_collateral: bool,
}

impl Default for Rules {
    /// The default runtime's (424) rules, for a model state no chain has set up.
    fn default() -> Self {
        KNOWN
            .iter()
            .find(|k| k.spec == DEFAULT_SPEC)
            .map(|k| k.rules)
            .unwrap_or(Rules {
                legacy_epoch: false,
                root_claim_pays_tao: false,
                legacy_shares: false,
                alpha_fees: true,
                subnet_owner_change: false,
                calls_459: false,
                miner_collateral: false,
            })
    }
}

/// Where a runtime's metadata comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A real metadata file (SCALE `RuntimeMetadataPrefixed`, V16).
    File(&'static [u8]),
    /// Built from another runtime's metadata with the changes its source shows.
    Built(fn() -> Result<Vec<u8>>),
}

/// One known runtime.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    pub spec: u32,
    pub rules: Rules,
    /// Where the metadata was read or how it was built.
    pub provenance: &'static str,
    source: Source,
}

/// Every runtime the devnet serves, oldest first.
pub const KNOWN: &[Known] = &[
    Known {
        spec: 393,
        rules: Rules {
            legacy_epoch: true,
            root_claim_pays_tao: false,
            legacy_shares: true,
            alpha_fees: false,
            subnet_owner_change: false,
            calls_459: false,
            miner_collateral: false,
        },
        provenance: "real finney metadata (CortexLM/bittensor-rs metadata/finney.scale at 46857473)",
        source: Source::File(FINNEY_393_METADATA),
    },
    Known {
        spec: 424,
        rules: Rules {
            legacy_epoch: false,
            root_claim_pays_tao: false,
            legacy_shares: false,
            alpha_fees: true,
            subnet_owner_change: false,
            calls_459: false,
            miner_collateral: false,
        },
        provenance: "real finney metadata (0xKheops/taohop .papi/metadata/bittensor.scale at 028da9b1)",
        source: Source::File(FINNEY_METADATA),
    },
    Known {
        spec: 459,
        rules: Rules {
            legacy_epoch: false,
            root_claim_pays_tao: true,
            legacy_shares: false,
            alpha_fees: true,
            subnet_owner_change: true,
            calls_459: true,
            miner_collateral: true,
        },
        provenance: "built from the 424 registry with the RaoFoundation/subtensor 459 changes (src/spec459.rs)",
        source: Source::Built(crate::spec459::build),
    },
];

/// The runtime a chain starts on unless a scenario or `--runtime` says otherwise.
pub const DEFAULT_SPEC: u32 = 424;

/// A loaded runtime: its spec, rules and metadata.
#[derive(Debug)]
pub struct RuntimeProfile {
    pub spec: u32,
    pub rules: Rules,
    pub md: Arc<ChainMetadata>,
    /// The bytes `System.set_code` writes for it (a placeholder, not a wasm blob).
    pub code: Vec<u8>,
}

static LOADED: [OnceLock<std::result::Result<Arc<RuntimeProfile>, String>>; 3] =
    [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// The spec versions the devnet knows, for messages.
pub fn known_specs() -> String {
    KNOWN
        .iter()
        .map(|k| k.spec.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The loaded runtime of `spec` (metadata decoded or built once per process).
pub fn profile(spec: u32) -> Result<Arc<RuntimeProfile>> {
    let Some(i) = KNOWN.iter().position(|k| k.spec == spec) else {
        return Err(DevnetError::Scenario(format!(
            "runtime {spec} is not known (known: {})",
            known_specs()
        )));
    };
    let k = KNOWN[i];
    LOADED[i]
        .get_or_init(|| {
            let bytes = match k.source {
                Source::File(b) => b.to_vec(),
                Source::Built(f) => f().map_err(|e| e.to_string())?,
            };
            let md = ChainMetadata::from_bytes(&bytes).map_err(|e| e.to_string())?;
            if md.runtime_version.spec_version != spec {
                return Err(format!(
                    "the metadata of runtime {spec} says spec_version {}",
                    md.runtime_version.spec_version
                ));
            }
            Ok(Arc::new(RuntimeProfile {
                spec,
                rules: k.rules,
                md: Arc::new(md),
                code: format!("devnet:node-subtensor:{spec}").into_bytes(),
            }))
        })
        .clone()
        .map_err(|e| DevnetError::Metadata(format!("runtime {spec}: {e}")))
}

/// Parses a runtime name as given in a scenario or on the command line (`"459"`).
pub fn parse(name: &str) -> Result<u32> {
    let spec: u32 = name.trim().parse().map_err(|_| {
        DevnetError::Scenario(format!(
            "runtime {name:?} is not a spec version (known: {})",
            known_specs()
        ))
    })?;
    profile(spec)?;
    Ok(spec)
}

/// A runtime as a scenario names it: `runtime = "459"` or `runtime = 459`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeName(pub u32);

impl<'de> serde::Deserialize<'de> for RuntimeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u32),
            Text(String),
        }
        let spec = match Raw::deserialize(d)? {
            Raw::Num(n) => n,
            Raw::Text(t) => t.trim().parse().map_err(|_| {
                serde::de::Error::custom(format!(
                    "runtime {t:?} is not a spec version (known: {})",
                    known_specs()
                ))
            })?,
        };
        Ok(RuntimeName(spec))
    }
}

/// A scripted runtime upgrade (`[[upgrades]]`): block `block` carries
/// `Sudo::sudo(System::set_code)` and `runtime` runs from block `block + 1`.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeSpec {
    pub block: u64,
    pub runtime: RuntimeName,
}

/// Checks a scenario's runtime keys: every runtime known, upgrade blocks after genesis
/// and strictly increasing, specs strictly increasing from the genesis runtime.
pub fn validate_schedule(genesis: Option<RuntimeName>, upgrades: &[UpgradeSpec]) -> Result<()> {
    let bad = |field: String, what: String| DevnetError::Scenario(format!("{field}: {what}"));
    let mut spec = match genesis {
        Some(RuntimeName(s)) => {
            if !KNOWN.iter().any(|k| k.spec == s) {
                return Err(bad(
                    "runtime".into(),
                    format!("runtime {s} is not known (known: {})", known_specs()),
                ));
            }
            s
        }
        None => DEFAULT_SPEC,
    };
    let mut last_block = 0;
    for (i, u) in upgrades.iter().enumerate() {
        let f = |x: &str| format!("upgrades[{i}].{x}");
        if u.block <= last_block {
            return Err(bad(
                f("block"),
                format!("must be after block {last_block} (genesis is 0; upgrades in block order)"),
            ));
        }
        let RuntimeName(s) = u.runtime;
        if !KNOWN.iter().any(|k| k.spec == s) {
            return Err(bad(
                f("runtime"),
                format!("runtime {s} is not known (known: {})", known_specs()),
            ));
        }
        if s <= spec {
            return Err(bad(
                f("runtime"),
                format!("runtime {s} does not follow runtime {spec} (specs only grow)"),
            ));
        }
        spec = s;
        last_block = u.block;
    }
    Ok(())
}

/// The spec of the runtime that executes block `block` of a scenario's schedule: the
/// genesis runtime (default 424) until the first upgrade block, which the old runtime
/// still executes; the new one runs from the block after it.
pub fn spec_running(genesis: Option<RuntimeName>, upgrades: &[UpgradeSpec], block: u64) -> u32 {
    upgrades
        .iter()
        .filter(|u| u.block < block)
        .map(|u| u.runtime.0)
        .next_back()
        .unwrap_or(genesis.map(|g| g.0).unwrap_or(DEFAULT_SPEC))
}

/// The rules of a known spec.
pub fn rules_of(spec: u32) -> Option<Rules> {
    KNOWN.iter().find(|k| k.spec == spec).map(|k| k.rules)
}

/// The first block the dynamic-tempo epoch rule applies to, for a chain starting on
/// `genesis` with `upgrades` (block carrying `set_code`, runtime): 0 when the genesis
/// runtime already has it, else the block after the first upgrade to a runtime that has
/// it, else never (`u64::MAX`).
pub fn first_dynamic_block(
    genesis: &RuntimeProfile,
    upgrades: &[(u64, Arc<RuntimeProfile>)],
) -> u64 {
    if !genesis.rules.legacy_epoch {
        return 0;
    }
    upgrades
        .iter()
        .find(|(_, r)| !r.rules.legacy_epoch)
        .map(|(n, _)| n + 1)
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{decode, encode_events};
    use crate::model::{ChainEvent, EventRecord, Phase};

    #[test]
    fn every_known_runtime_loads_with_its_spec_and_three_metadata_versions() {
        for k in KNOWN {
            let p = profile(k.spec).unwrap_or_else(|e| panic!("{}: {e}", k.spec));
            assert_eq!(p.md.runtime_version.spec_version, k.spec);
            assert_eq!(p.md.versions(), vec![14, 15, 16]);
            for v in [14u32, 15, 16] {
                let bytes = p.md.encoded(v).unwrap();
                let m = frame_metadata::RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
                assert_eq!(m.1.version(), v, "spec {} V{v}", k.spec);
            }
        }
        assert!(KNOWN.windows(2).all(|w| w[0].spec < w[1].spec));
        assert!(
            profile(400)
                .unwrap_err()
                .to_string()
                .contains("393, 424, 459")
        );
        assert!(parse("latest").is_err());
        assert_eq!(parse("459").unwrap(), 459);
    }

    use codec::Decode;

    #[test]
    fn storage_follows_the_runtime() {
        let (p393, p424, p459) = (
            profile(393).unwrap(),
            profile(424).unwrap(),
            profile(459).unwrap(),
        );
        for item in ["AlphaV2", "LastEpochBlock", "TotalHotkeySharesV2"] {
            assert!(p393.md.storage("SubtensorModule", item).is_err(), "{item}");
            assert!(p424.md.storage("SubtensorModule", item).is_ok(), "{item}");
        }
        assert!(
            p424.md
                .storage("SubtensorModule", "SubnetEpochConsensus")
                .is_err()
        );
        let ec = p459
            .md
            .storage("SubtensorModule", "SubnetEpochConsensus")
            .unwrap();
        assert_eq!(ec.default, vec![0]);
        // Everything 424 serves is still there in 459.
        assert!(p459.md.storage("SubtensorModule", "AlphaV2").is_ok());
    }

    #[test]
    fn built_459_events_calls_and_version() {
        let md = &profile(459).unwrap().md;
        let f = |v: &str| md.event_fields("SubtensorModule", v).unwrap();
        assert_eq!(
            f("RootClaimed"),
            vec![Some("coldkey".into()), Some("tao".into())]
        );
        assert_eq!(f("StakeAndHotkeyTransferred").len(), 7);
        assert!(
            md.event_fields("SubtensorModule", "RootClaimTypeSet")
                .is_none()
        );
        assert!(
            md.event_fields("SubtensorModule", "CollateralLocked")
                .is_some()
        );
        assert!(
            md.event_fields("SubtensorModule", "SubnetOwnerChanged")
                .is_some()
        );
        // Indices: declaration order (BasketAlphaWrittenOff pinned at 148 by the source's
        // own regression test), 146 left free.
        let idx = |v: &str| {
            let p = md
                .v16
                .pallets
                .iter()
                .find(|p| p.name == "SubtensorModule")
                .unwrap();
            let t = md.types().resolve(p.event.as_ref().unwrap().ty.id).unwrap();
            let scale_info::TypeDef::Variant(e) = &t.type_def else {
                panic!()
            };
            e.variants.iter().find(|x| x.name == v).map(|x| x.index)
        };
        assert_eq!(idx("StakeAdded"), Some(2));
        assert_eq!(idx("RootClaimed"), Some(115));
        assert_eq!(idx("StakeAndHotkeyTransferred"), Some(143));
        assert_eq!(idx("BetaBaselineStamped"), Some(147));
        assert_eq!(idx("BasketAlphaWrittenOff"), Some(148));
        for (call, n) in [
            ("transfer_stake_and_hotkey", 6),
            ("add_collateral", 4),
            ("move_stake_limit", 7),
            ("claim_root", 1),
        ] {
            assert_eq!(
                md.call_fields("SubtensorModule", call).map(|f| f.len()),
                Some(n),
                "{call}"
            );
        }
        assert_eq!(md.runtime_version.spec_version, 459);
        assert_eq!(md.runtime_version.spec_name, "node-subtensor");
        // A RootClaimed with both fields encodes and decodes back.
        let recs = [EventRecord {
            phase: Phase::ApplyExtrinsic(1),
            event: ChainEvent::RootClaimed {
                coldkey: [5; 32],
                tao: 77,
            },
        }];
        let bytes = encode_events(md, &recs, &[]).unwrap();
        let info = md.storage("System", "Events").unwrap();
        let v = decode(md.types(), info.value_type, &mut &bytes[..]).unwrap();
        assert!(v.to_string().contains("tao: 77"), "{v}");
    }
}
