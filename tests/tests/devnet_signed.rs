//! Real transactions against a real `vesting devnet --scenario edges --strict`: polkadot.js
//! (`tests/js/devnet_signed.mjs`, npm `@polkadot/api` pinned in `tests/js/package-lock.json`)
//! signs `subtensorModule.addStake` as the dev account `//Alice` (`keyring.addFromUri`),
//! follows it `ready` -> `inBlock` -> `finalized` (`author_submitAndWatchExtrinsic`), reads
//! its events (`Balances.Withdraw`, `StakeAdded`, `TransactionFeePaid`), the stake and the
//! nonce back, and has a tampered signature, a replay (stale nonce) and an unmodelled call
//! refused with 1010. Also `vesting devnet --accounts` lists `//Alice` with her SS58, and
//! `tests/js/devnet_weights.mjs` signs `set_weights` as a dev-account validator's hotkey
//! (`tests/js/weights_scenario.toml`) and sees the next epoch pay by its weights (Yuma).
//! Needs `node` and `npm ci` in `tests/js` (CI runs it).

use vesting_e2e::clients::{field, node};
use vesting_e2e::proc::devnet;
use vesting_e2e::{repo, vesting};

const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

#[test]
fn devnet_accounts_lists_the_dev_keys() {
    let (code, out, err) = vesting(&["devnet", "--scenario", "edges", "--accounts"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let alice = out
        .lines()
        .find(|l| l.trim_start().starts_with("Alice "))
        .unwrap_or_else(|| panic!("no Alice line in {out}"));
    assert!(
        alice.contains(ALICE) && alice.contains("//Alice"),
        "{alice}"
    );
    assert!(out.contains("//Ferdie"), "{out}");
    // The scenario's keyless accounts, by name.
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("val-a ")),
        "{out}"
    );
}

#[test]
fn polkadot_js_signs_add_stake_as_alice_and_bad_transactions_are_refused() {
    let (_devnet, port) = devnet(200, &["--scenario", "edges", "--strict"]);
    let s = node("devnet_signed.mjs", &[&format!("ws://127.0.0.1:{port}")]);

    assert_eq!(field(&s, "address"), ALICE);
    assert_eq!(
        field(&s, "statuses"),
        &serde_json::json!(["Ready", "InBlock", "Finalized"])
    );
    let events = field(&s, "events");
    for ev in [
        "balances.Withdraw",
        "subtensorModule.StakeAdded",
        "transactionPayment.TransactionFeePaid",
        "system.ExtrinsicSuccess",
    ] {
        assert!(
            events.as_array().unwrap().contains(&serde_json::json!(ev)),
            "{ev} not among {events}"
        );
    }
    // The devnet's constant fee rule (host/devnet/README.md).
    assert_eq!(field(&s, "fee"), "100000");
    let stake: u64 = field(&s, "stake").as_str().unwrap().parse().unwrap();
    assert!(stake > 0, "{s}");
    assert_eq!(
        field(&s, "nonceAfter").as_u64().unwrap(),
        field(&s, "nonceBefore").as_u64().unwrap() + 1
    );
    assert_eq!(
        field(&s, "badSignature"),
        "1010: Invalid Transaction: Transaction has a bad signature"
    );
    assert_eq!(
        field(&s, "replay"),
        "1010: Invalid Transaction: Transaction is outdated"
    );
    let unmodelled = field(&s, "unmodelled").as_str().unwrap();
    assert!(
        unmodelled.starts_with("1010: Invalid Transaction: Transaction call is not expected")
            && unmodelled.contains("System::remark"),
        "{unmodelled}"
    );
}

/// A dev-account validator's weights drive Yuma: `vesting devnet` with
/// `tests/js/weights_scenario.toml` (//Alice registers and stakes at block 1) prefilled
/// past `WeightsSetRateLimit`; polkadot.js (`tests/js/devnet_weights.mjs`) signs
/// `subtensorModule.setWeights` with //Alice's hotkey favouring miner uid 3, sees
/// `WeightsSet(1, 4)`, has an immediate second call refused (`SettingWeightsTooFast`),
/// and reads the miners' `IncentiveAlphaEmittedToMiners` of the epochs before and after.
#[test]
fn polkadot_js_sets_weights_as_a_dev_validator_and_the_epoch_follows_them() {
    let scenario = repo().join("tests/js/weights_scenario.toml");
    let (_devnet, port) = devnet(
        200,
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--prefill-blocks",
            "105",
            "--strict",
        ],
    );
    let s = node("devnet_weights.mjs", &[&format!("ws://127.0.0.1:{port}")]);
    assert_eq!(field(&s, "uid"), 4);
    assert_eq!(field(&s, "weightsSet"), &serde_json::json!([1, 4]));
    let too_fast = field(&s, "tooFast").as_str().unwrap_or_default();
    assert!(
        too_fast.starts_with("1010: Invalid Transaction")
            && too_fast.contains("SubtensorModule::SettingWeightsTooFast"),
        "{too_fast}"
    );
    let before = field(&s, "m3ShareBefore").as_f64().unwrap();
    let after = field(&s, "m3ShareAfter").as_f64().unwrap();
    // Configured scores: a third each. //Alice's weights (1 : 1 : 8, 500 of ~600 permitted
    // stake, so consensus): 0.8.
    assert!((before - 1.0 / 3.0).abs() < 0.01, "{s}");
    assert!(after > 0.75 && after > before, "{s}");
    assert!(field(&s, "m1ShareAfter").as_f64().unwrap() < 0.15, "{s}");
}
