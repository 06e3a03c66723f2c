//! polkadot.js (npm `@polkadot/api`, pinned in `tests/js/package-lock.json`) against a real
//! `vesting devnet --scenario edges --strict`: it connects, follows new heads
//! (`chain_subscribeNewHead`), decodes every block's events at its hash over ~30 blocks
//! (epoch block 20 and its staking extrinsics among them), keeps a storage subscription
//! and a `queryMulti` open (`state_subscribeStorage`), asks `system_accountNextIndex`,
//! calls runtime APIs through `api.call` and a fee estimate. The script
//! (`tests/js/devnet_client.mjs`) checks what it reads and prints a JSON summary that this
//! test checks again. Also every block across the 393 -> 424 -> 459 upgrades
//! (`tests/js/devnet_upgrades.mjs`). Needs `node` and `npm ci` in `tests/js` (CI runs it).

use vesting_e2e::clients::{field, node};
use vesting_e2e::proc::devnet;

const BLOCKS: u64 = 30;

#[test]
fn polkadot_js_follows_decodes_and_subscribes_on_the_edges_scenario() {
    let (_devnet, port) = devnet(200, &["--scenario", "edges", "--strict"]);
    let s = node(
        "devnet_client.mjs",
        &[&format!("ws://127.0.0.1:{port}"), &BLOCKS.to_string()],
    );

    assert_eq!(field(&s, "chain"), "Bittensor");
    assert_eq!(field(&s, "specVersion"), 424);
    assert_eq!(field(&s, "heads"), BLOCKS);
    let first = field(&s, "firstHead").as_u64().unwrap();
    let last = field(&s, "lastHead").as_u64().unwrap();
    assert_eq!(last - first + 1, BLOCKS, "consecutive new heads");
    // Events decoded at every block from 1 to the last head (epoch blocks 20 and 30
    // among them); each block has at least the timestamp inherent's ExtrinsicSuccess.
    assert_eq!(field(&s, "eventBlocks"), last);
    assert!(last >= BLOCKS, "{s}");
    assert_eq!(field(&s, "blocksWithEvents"), last);
    assert!(field(&s, "events").as_u64().unwrap() >= last, "{s}");
    // Every block's body decodes (`chain_getBlock`): the scripted staking extrinsics are
    // signed ones to polkadot.js (a non-zero signature; all zeros reads as unsigned).
    assert_eq!(field(&s, "extrinsicErrors"), 0, "{s}");
    assert!(
        field(&s, "extrinsicsDecoded").as_u64().unwrap() > last,
        "{s}"
    );
    let counts = field(&s, "eventCounts");
    for ev in [
        "system.ExtrinsicSuccess",
        "subtensorModule.IncentiveAlphaEmittedToMiners",
        "subtensorModule.StakeRemoved",
        "subtensorModule.TransactionFeePaidWithAlpha",
    ] {
        assert!(counts.get(ev).is_some(), "no {ev} decoded: {counts}");
    }
    // The storage subscription saw the epoch change val-a's alpha; queryMulti saw every
    // block (Timestamp.Now changes each block).
    assert!(
        field(&s, "alphaNotifications").as_u64().unwrap() >= 2,
        "{s}"
    );
    assert!(
        field(&s, "queryMultiNotifications").as_u64().unwrap() >= BLOCKS - 2,
        "{s}"
    );
    assert_eq!(field(&s, "accountNextIndex"), 0);
    assert!(field(&s, "stakeInfos").as_u64().unwrap() >= 1);
    assert!(field(&s, "nextEpochStartBlock").as_u64().unwrap() > 0);
    assert_eq!(field(&s, "pendingExtrinsics"), 0);
    // The devnet's constant fee rule (host/devnet/README.md), by runtime call and by RPC.
    assert_eq!(field(&s, "partialFee"), "100000", "{s}");
    assert_eq!(field(&s, "rpcPartialFee"), "100000");
    assert_eq!(field(&s, "rpcClass"), "normal");
    assert_eq!(
        field(&s, "rpcWeight"),
        &serde_json::json!({"ref_time": 1_000_000_000u64, "proof_size": 0})
    );
    assert_eq!(field(&s, "rpcAdjustedWeightFee"), "100000");
}

/// polkadot.js reads every block of the `upgrades` scenario (393 -> 424 at block 61 -> 459
/// at block 141) as an explorer would. A client nobody here wrote checks the devnet's
/// upgrade blocks and old runtimes: the state at the set_code block already reports the
/// new spec while the block itself ran (and is decoded) with the old one, as on a node;
/// every event and extrinsic decodes with its runtime's metadata; and the events each era
/// emits are the ones its runtime has (the scenario file's own account of them: alpha fees
/// only from 424, collateral and `transfer_stake_and_hotkey` only on 459).
#[test]
fn polkadot_js_reads_every_block_across_the_393_424_459_upgrades() {
    let (_devnet, port) = devnet(20, &["--scenario", "upgrades", "--strict"]);
    let s = node(
        "devnet_upgrades.mjs",
        &[&format!("ws://127.0.0.1:{port}"), "160"],
    );
    use serde_json::json;
    assert_eq!(field(&s, "errors"), &json!([]), "{s}");
    // The code in the state after each block.
    assert_eq!(
        field(&s, "specs"),
        &json!([[1, 60, 393], [61, 140, 424], [141, 160, 459]])
    );
    // The runtime each block ran with (its parent's code).
    assert_eq!(
        field(&s, "ranWith"),
        &json!([[1, 61, 393], [62, 141, 424], [142, 160, 459]])
    );
    assert_eq!(field(&s, "codeUpdated"), &json!([61, 141]));
    assert_eq!(field(&s, "lastRuntimeUpgrade"), 459);
    assert_eq!(
        field(&s, "extrinsics"),
        &field(&s, "eventCounts")["system.ExtrinsicSuccess"]
    );
    let by_run = field(&s, "byRun");
    let count = |run: &str, ev: &str| by_run[run][ev].as_u64().unwrap_or(0);
    // sn1 and sn2 epochs per era (the scenario's header): 19, 28, 40, 59, 61 on 393;
    // 81, 89, 101, 119, 121, 141 on 424; 149 on 459 up to block 160.
    assert_eq!(
        count("393", "subtensorModule.IncentiveAlphaEmittedToMiners"),
        5
    );
    assert_eq!(
        count("424", "subtensorModule.IncentiveAlphaEmittedToMiners"),
        6
    );
    assert_eq!(
        count("459", "subtensorModule.IncentiveAlphaEmittedToMiners"),
        1
    );
    // Alpha fees from 424 only (81, 101, 141); Keep root claims on 424 (70, 95, 110) and
    // a TAO claim on 459 (145); collateral and transfer_stake_and_hotkey only on 459.
    assert_eq!(
        count("393", "subtensorModule.TransactionFeePaidWithAlpha"),
        0
    );
    assert_eq!(
        count("424", "subtensorModule.TransactionFeePaidWithAlpha"),
        3
    );
    assert_eq!(count("424", "subtensorModule.RootClaimed"), 3);
    assert_eq!(count("459", "subtensorModule.RootClaimed"), 1);
    for ev in [
        "subtensorModule.CollateralLocked",
        "subtensorModule.StakeAndHotkeyTransferred",
    ] {
        assert_eq!(count("393", ev) + count("424", ev), 0, "{ev} before 459");
        assert_eq!(count("459", ev), 1, "{ev} on 459");
    }
}
