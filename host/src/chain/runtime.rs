//! Owns what the tracker knows of Subtensor's runtime versions: which semantics came with
//! which spec version, and the [`Profile`] a block's spec selects. This is the one place
//! in the host that names spec numbers; layouts themselves are never assumed per spec:
//! events and storage are decoded by field name from the metadata the node serves at
//! each block (see `layouts.rs`).
//!
//! Adding a runtime: read its source (RaoFoundation/subtensor or opentensor/subtensor),
//! add a row to [`CHANGES`] for every change a stake tracker sees, give it a field in
//! [`Profile`] if it changes what the ingest does, and raise [`NEWEST_KNOWN`]
//! (checklist: `docs/runtimes.md`).

/// One change of the runtime that matters to a stake tracker.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// The first spec version with the change (as far as the source read shows).
    pub since: u32,
    pub what: &'static str,
    /// Where in the runtime's source it was read.
    pub source: &'static str,
}

/// Every change the host knows, oldest first (shared/design/chain-upgrades.md).
pub const CHANGES: &[Change] = &[
    Change {
        since: 393,
        what: "oldest known history: shares only in Alpha / TotalHotkeyShares (U64F64); the legacy epoch rule (b + netuid + 1) % (tempo + 1) == 0",
        source: "finney metadata at spec 393 (no AlphaV2, no LastEpochBlock)",
    },
    Change {
        since: 423,
        what: "dynamic tempo: LastEpochBlock, PendingEpochAt, SubnetEpochIndex, EpochDeferred, EpochSkipped",
        source: "opentensor/subtensor v3.4.9-424 pallets/subtensor/src/coinbase/run_coinbase.rs",
    },
    Change {
        since: 424,
        what: "AlphaV2 / TotalHotkeySharesV2 (SafeFloat) beside the old maps, migrated lazily, and positions valued in SafeFloat (before: U64F64 value per share, then times the share); a Keep root claim credits subnet alpha with no StakeAdded (RootClaimed {coldkey})",
        source: "opentensor/subtensor v3.4.9-424 pallets/subtensor/src/staking/claim_root.rs, stake_utils.rs",
    },
    Change {
        since: 441,
        what: "RootClaimed {coldkey, tao}: root claims pay TAO staked on root only, never subnet alpha",
        source: "RaoFoundation/subtensor pallets/subtensor/src/staking/claim_root.rs (\"Root Reborn\")",
    },
    Change {
        since: 459,
        what: "subnet owner change at the epoch drain (SubnetOwnerChanged, register_neuron without NeuronRegistered); transfer_stake_and_hotkey (StakeAndHotkeyTransferred); move_stake_limit; miner collateral (CollateralLocked, capture at the epoch with no event); root basket escrow; multi-block subnet dissolution; epoch safety net capped at tempo + 1 with a skipped epoch retried the next block",
        source: "RaoFoundation/subtensor at 005a8dc0: lock/subnet_conviction.rs, staking/move_stake.rs, subnets/collateral.rs, staking/claim_root.rs, remove_stake/destroy_alpha.rs, coinbase/run_coinbase.rs (first spec of each not confirmed: read at 459)",
    },
];

/// The newest spec version whose source the host was checked against.
pub const NEWEST_KNOWN: u32 = 459;

/// The root basket's escrow coldkey (spec 459+): basket holdings are positions of this
/// account under validators' hotkeys, changed with no stake events, so it is never a
/// holder. `PalletId(*b"subtensr").into_sub_account_truncating(*b"beta/esc")`
/// (RaoFoundation/subtensor `pallets/subtensor/src/staking/claim_root.rs`): `b"modl"`,
/// the pallet id, the sub-account seed, zero-padded to 32 bytes.
pub const BASKET_ESCROW: [u8; 32] = *b"modlsubtensrbeta/esc\0\0\0\0\0\0\0\0\0\0\0\0";

/// What the ingest does differently by runtime version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The node's spec version.
    pub spec: u32,
    /// The newest [`Change::since`] at or below `spec`: the profile in use.
    pub base: u32,
    /// A root claim credits subnet alpha (spec < 441); later claims pay TAO on root.
    pub root_claim_credits_alpha: bool,
    /// A skipped epoch is retried in the next block (poll pacing must not sleep a tempo).
    pub skip_retried_next_block: bool,
    /// Positions are valued in U64F64 (`share-pool` before SafeFloat: value per share
    /// first, then times the share), which can read one rao below the SafeFloat valuation.
    pub u64f64_share_value: bool,
}

impl Profile {
    /// The profile of runtime `spec`.
    pub fn of(spec: u32) -> Self {
        let base = CHANGES
            .iter()
            .rev()
            .find(|c| c.since <= spec)
            .map(|c| c.since)
            .unwrap_or(CHANGES[0].since);
        Profile {
            spec,
            base,
            root_claim_credits_alpha: spec < 441,
            skip_retried_next_block: spec >= 459,
            u64f64_share_value: spec < 424,
        }
    }

    /// Whether the node runs a runtime newer than any the host was checked against.
    pub fn newer_than_known(&self) -> bool {
        self.spec > NEWEST_KNOWN
    }

    /// One line for logs: the spec, the profile and what it means.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "runtime spec {} (profile {}: root claims {})",
            self.spec,
            self.base,
            if self.root_claim_credits_alpha {
                "credit subnet alpha"
            } else {
                "pay TAO on root"
            }
        );
        if self.spec < CHANGES[0].since {
            s.push_str(&format!(
                "; older than any runtime the host knows ({}): decoding by the metadata's field names",
                CHANGES[0].since
            ));
        } else if self.newer_than_known() {
            s.push_str(&format!(
                "; newer than any runtime the host was checked against ({NEWEST_KNOWN}): decoding by the metadata's field names, check the release notes"
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_follow_the_table() {
        assert!(CHANGES.windows(2).all(|w| w[0].since < w[1].since));
        let p = Profile::of(424);
        assert_eq!(p.base, 424);
        assert!(p.root_claim_credits_alpha && !p.skip_retried_next_block);
        let p = Profile::of(440);
        assert_eq!(p.base, 424);
        assert!(p.root_claim_credits_alpha);
        let p = Profile::of(441);
        assert_eq!(p.base, 441);
        assert!(!p.root_claim_credits_alpha);
        let p = Profile::of(474);
        assert_eq!(p.base, 459);
        assert!(p.skip_retried_next_block && p.newer_than_known());
        assert!(p.describe().contains("newer than any runtime"));
        assert_eq!(Profile::of(393).base, 393);
        assert!(Profile::of(393).u64f64_share_value && !Profile::of(424).u64f64_share_value);
        assert!(Profile::of(300).describe().contains("older than"));
        assert_eq!(&BASKET_ESCROW[..4], b"modl");
        assert_eq!(&BASKET_ESCROW[12..20], b"beta/esc");
        assert!(BASKET_ESCROW[20..].iter().all(|b| *b == 0));
    }
}
