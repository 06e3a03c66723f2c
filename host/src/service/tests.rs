//! `VestingSystem` in process against the devnet: seed 001's initialize / apply / stats /
//! shutdown, seed 000's start / stop, and `update` without a background thread.

use super::*;
use std::time::{Duration, Instant};
use vesting_devnet::{DevnetConfig, Pruning, Scenario};

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn start_apply_stop_then_update_without_a_thread() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut dc = DevnetConfig::new(Scenario::builtin("tiny").unwrap());
    dc.pruning = Pruning::Archive;
    dc.block_time_ms = 10;
    let devnet = rt.block_on(vesting_devnet::start(dc)).unwrap();
    let dir = std::env::temp_dir().join(format!("vesting-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = VestingConfig {
        netuid: 1,
        chain_endpoint: Some(devnet.ws_url()),
        db_path: dir.join("v.db"),
        start_block: Some(1),
        ..VestingConfig::default()
    };
    let system = VestingSystem::new(config.clone()).unwrap();
    system.start().unwrap();
    wait_for("multipliers", Duration::from_secs(120), || {
        system.multipliers().is_ok_and(|m| !m.is_empty())
    });
    let stats = system.get_vesting_stats().unwrap();
    assert!(stats.monitor_running);
    assert_eq!(stats.policy_sha256.len(), 64);
    assert_eq!(stats.contract, "bittensor:vesting@0.2.0");
    // The parameters in force, resolved: the configured ones (max_multiplier 1.5 by
    // default) and the policy's defaults for the rest.
    let param = |name: &str| {
        stats
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    };
    assert_eq!(
        param("max_multiplier"),
        Some(&crate::policy::ParamValue::Fixed(1_500_000_000))
    );
    assert!(param("consume_order").is_some(), "{:?}", stats.params);
    let uids: Vec<u16> = stats.miners.iter().map(|m| m.uid).collect();
    let hotkeys: Vec<String> = stats.miners.iter().map(|m| m.hotkey.clone()).collect();
    let weights = vec![1.0; uids.len()];
    let out = system
        .apply_vesting_multipliers(&weights, &uids, &hotkeys)
        .unwrap();
    assert_eq!(out.weights.iter().sum::<u64>(), 1_000_000_000);
    system.stop().unwrap();
    let stopped = system.get_vesting_stats().unwrap();
    assert!(!stopped.monitor_running, "the monitor thread stopped");
    let last = stopped.last_block.unwrap();

    // Without a background thread, `update` catches up to the finalized head and returns.
    std::thread::sleep(Duration::from_millis(300));
    let manual = VestingSystem::new(VestingConfig {
        use_background_thread: false,
        ..config
    })
    .unwrap();
    manual.initialize().unwrap();
    assert!(!manual.get_vesting_stats().unwrap().monitor_running);
    manual.update().unwrap();
    let after = manual.get_vesting_stats().unwrap().last_block.unwrap();
    assert!(after > last, "update ingested past #{last} (now #{after})");
    drop(manual);
    rt.block_on(devnet.stop());
    let _ = std::fs::remove_dir_all(&dir);
}
