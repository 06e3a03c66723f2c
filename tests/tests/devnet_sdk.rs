//! The bittensor SDK (pip `bittensor`, pinned in `tests/python/requirements-sdk.txt`)
//! against a real `vesting devnet --scenario tiny --strict`: `tests/python/sdk_reads.py`
//! reads the metagraph (full and lite neurons), hyperparameters, subnet info, stakes,
//! delegates, the alpha price and a swap quote through the SDK and prints one JSON line;
//! this test compares it with what the devnet says through its own controls
//! (`devnet_account`, `devnet_stake`, `devnet_status`) and the scenario file. Under
//! `--strict` any storage item or runtime API the SDK needs and the devnet does not model
//! would fail the read with an error naming it. `tests/python/sdk_stake.py` stakes as a dev
//! wallet through the SDK's own `AddStake` and reads the result back.

use std::process::Command;

use serde_json::{Value, json};
use vesting_e2e::clients::{python, require_sdk};
use vesting_e2e::proc::{devnet, http};

fn rpc(port: u16, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, text) = http(port, "POST", "/", &body.to_string()).expect("devnet answers");
    assert_eq!(status, 200, "{method}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

fn acct(port: u16, name: &str) -> String {
    rpc(port, "devnet_account", json!([{ "name": name }]))
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn bittensor_sdk_reads_metagraph_stakes_and_hyperparameters() {
    require_sdk();
    // Blocks on demand only (`devnet_advance`), so every read sees the same head.
    let (_devnet, port) = devnet(0, &["--scenario", "tiny", "--strict"]);
    // Past the first epoch of subnet 1 (tempo 10).
    rpc(port, "devnet_advance", json!([{ "blocks": 12 }]));
    let head = rpc(port, "devnet_status", json!([]))["head"]
        .as_u64()
        .unwrap();

    // The coldkey `alice` as SS58 (prefix 42), for the script's stake read.
    let alice = acct(port, "alice");
    let ss58 = Command::new("python3")
        .args([
            "-c",
            "import sys; from bittensor._transport.codec import ss58_encode; \
             print(ss58_encode(bytes.fromhex(sys.argv[1][2:]), 42))",
            &alice,
        ])
        .output()
        .unwrap();
    let alice_ss58 = String::from_utf8_lossy(&ss58.stdout).trim().to_string();

    let s = python(
        "sdk_reads.py",
        &[&format!("ws://127.0.0.1:{port}"), "1", &alice_ss58],
    );
    assert_eq!(s["errors"], json!({}), "SDK reads failed: {s}");

    // The scenario's neurons, by uid (registration order), and their coldkeys.
    let neurons = [
        ("alice-v", "alice"),
        ("alice-m", "alice"),
        ("bob-m1", "bob"),
        ("bob-m2", "bob"),
    ];
    let hotkeys: Vec<String> = neurons.iter().map(|(h, _)| acct(port, h)).collect();
    let coldkeys: Vec<String> = neurons.iter().map(|(_, c)| acct(port, c)).collect();
    let mg = &s["metagraph"];
    assert_eq!(mg["n"], 4);
    assert_eq!(mg["num_uids"], 4);
    assert_eq!(mg["block"], head);
    assert_eq!(mg["tempo"], 10);
    assert_eq!(mg["hotkeys"], json!(hotkeys));
    assert_eq!(mg["coldkeys"], json!(coldkeys));
    assert_eq!(mg["owner_hotkey"], acct(port, "owner-hot"));
    assert_eq!(mg["owner_coldkey"], acct(port, "owner"));
    assert_eq!(mg["commitments"], 0);
    // After an epoch: incentive by the scenario's weights (1, 2, 1 over the miners),
    // dividends all to the validator, emission paid to every scored uid.
    let inc: Vec<f64> = serde_json::from_value(mg["incentive"].clone()).unwrap();
    assert_eq!(inc[0], 0.0);
    assert!(
        (inc[2] - 0.5).abs() < 1e-3 && (inc[1] - 0.25).abs() < 1e-3,
        "{inc:?}"
    );
    let div: Vec<f64> = serde_json::from_value(mg["dividends"].clone()).unwrap();
    assert!((div[0] - 1.0).abs() < 1e-3, "{div:?}");
    for e in mg["emission"].as_array().unwrap() {
        assert!(e.as_u64().unwrap() > 0, "{mg}");
    }
    assert_eq!(mg["active"], json!([true, true, true, true]));

    // Stakes: the metagraph's alpha stake is the hotkey's pool; alice-v's pool holds
    // alice's self-stake and nina's 50 alpha (devnet_stake, the model's own valuation).
    let stake = |h: &str, c: &str| {
        rpc(
            port,
            "devnet_stake",
            json!([{ "hotkey": h, "coldkey": c, "netuid": 1 }]),
        )
        .as_u64()
        .unwrap()
    };
    // The pool's total is its holders' values within one rao per holder (share-pool
    // rounding, host/devnet/README.md).
    let v_pool = stake("alice-v", "alice") + stake("alice-v", "nina");
    let near = |x: &Value| x.as_u64().unwrap().abs_diff(v_pool) <= 2;
    assert!(
        near(&mg["alpha_stake"][0]),
        "{} vs {v_pool}",
        mg["alpha_stake"]
    );
    let lite = s["neurons_lite"].as_array().unwrap();
    assert_eq!(lite.len(), 4);
    assert_eq!(lite[0]["stake"], mg["alpha_stake"][0]);
    for (i, h) in ["alice-m", "bob-m1", "bob-m2"].iter().enumerate() {
        let c = if i == 0 { "alice" } else { "bob" };
        assert_eq!(mg["alpha_stake"][i + 1].as_u64().unwrap(), stake(h, c));
    }
    assert!(lite[2]["incentive"].as_u64().unwrap() > 0, "{lite:?}");
    assert_eq!(lite[0]["hotkey"], json!(hotkeys[0]));
    // Full neurons carry the stake weight (`StakeWeight`, u16 parts of the subnet's
    // stake) instead, and the validator's weights: the miners, max-upscaled.
    let full = s["neurons"].as_array().unwrap();
    let weights: u64 = full.iter().map(|n| n["stake"].as_u64().unwrap()).sum();
    assert!(weights.abs_diff(65_535) <= 4, "{weights}");
    assert_eq!(
        full[0]["weights"],
        json!([[1, 32767], [2, 65535], [3, 32767]])
    );
    let positions = s["positions"].as_array().unwrap();
    let alice_v = positions
        .iter()
        .find(|p| p["hotkey"] == json!(hotkeys[0]))
        .expect("alice's position on alice-v");
    assert_eq!(alice_v["netuid"], 1);
    assert_eq!(
        alice_v["stake"].as_u64().unwrap(),
        stake("alice-v", "alice")
    );

    // Hyperparameters: the scenario's tempo, commit-reveal off, a small minimum of
    // weights, the runtime's defaults for the rest.
    let hp = &s["hyperparameters"];
    assert_eq!(hp["tempo"], 10, "{hp}");
    assert_eq!(hp["commit_reveal_weights_enabled"], false);
    assert_eq!(hp["min_allowed_weights"], 1);
    assert_eq!(hp["activity_cutoff"], 5000);
    assert_eq!(s["min_allowed_weights"], 1);
    assert_eq!(s["commit_reveal_enabled"], false);
    assert_eq!(s["subnet"], json!({"tempo": 10, "burn": 0, "n": 4}));
    assert_eq!(s["subnets"], json!([1]));
    assert_eq!(s["netuids_for_hotkey0"], json!([1]));
    assert_eq!(s["uid_of_hotkey0"], 0);
    // Price and quote: the scenario's fixed price (1 TAO per alpha by default).
    assert_eq!(s["price_rao"], 1_000_000_000u64);
    assert!(s["next_epoch_start_block"].as_u64().unwrap() > head - 10);
    assert_eq!(s["delegates"], 0, "no `Delegates` entries in the scenario");
    // What the devnet does not model is refused by name, never read as a default.
    let refusal = s["strict_refusal"].as_str().unwrap_or_default();
    assert!(
        refusal.contains("SubtensorModule.SubnetIdentitiesV3") && refusal.contains("not modelled"),
        "{refusal:?}"
    );
}

/// The SDK's own `AddStake` intent (compose, sign as //Alice, submit, wait) against a
/// devnet producing blocks, then the stake and the free balance read back with the SDK:
/// the position grows by exactly the `StakeAdded` alpha and the balance falls by the amount
/// plus the `TransactionFeePaid` fee. The hotkey is a miner's (its incentive goes to its
/// owner's position, not to a nominator's), so no epoch moves //Alice's position between
/// the reads.
#[test]
fn bittensor_sdk_adds_stake_as_a_dev_wallet_and_reads_it_back() {
    let (_devnet, port) = devnet(100, &["--scenario", "tiny", "--strict"]);
    let hotkey = acct(port, "bob-m1");
    let s = python(
        "sdk_stake.py",
        &[&format!("ws://127.0.0.1:{port}"), "1", &hotkey, "10"],
    );
    assert_eq!(s["success"], true, "{s}");
    // //Alice, the dev key (sr25519 of //Alice): the address every client derives.
    assert_eq!(
        s["signer"],
        "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    );
    assert_eq!(
        s["events"],
        json!([
            "Balances.Withdraw",
            "SubtensorModule.StakeAdded",
            "TransactionPayment.TransactionFeePaid",
            "System.ExtrinsicSuccess"
        ]),
        "{s}"
    );
    // StakeAdded(coldkey, hotkey, tao, alpha, netuid, fee).
    let added = &s["stake_added"][0];
    assert_eq!(added[0], s["signer"]);
    assert_eq!(added[1], s["hotkey"]);
    assert_eq!(added[2], 10_000_000_000u64, "{s}");
    assert_eq!(added[4], 1);
    let alpha = added[3].as_u64().unwrap();
    assert!(alpha > 0, "{s}");
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k}: {s}"));
    assert_eq!(n("stake_after") - n("stake_before"), alpha, "{s}");
    let fee = n("fee");
    assert!(fee > 0, "{s}");
    assert_eq!(
        n("free_before") - n("free_after"),
        10_000_000_000 + fee,
        "{s}"
    );
}
