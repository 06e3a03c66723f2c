//! `vesting demo` tells the story (issue 13): miners with labelled behaviours whose
//! multipliers spread from 0 to near max_multiplier; on chain (issue 11 item 7), `//Alice`
//! sets the demo's weights with the multipliers off and then on, and the incentive the
//! chain's epochs paid (read from its events) moves toward the holders and away from the
//! dumpers; and the terminal views of the database it leaves (`vesting miner`'s
//! sparkline, `vesting stats`) stay plain when stdout is not a terminal.

use serde_json::Value;
use vesting_e2e::proc::free_port;
use vesting_e2e::vesting;

fn summary<'a>(out: &'a Value, behaviour: &str) -> &'a Value {
    out["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["behaviour"].as_str().unwrap().starts_with(behaviour))
        .unwrap_or_else(|| panic!("no behaviour `{behaviour}` in the summary: {out}"))
}

/// A behaviour's on-chain incentive share: (vesting off, vesting on).
fn chain_share(out: &Value, behaviour: &str) -> (f64, f64) {
    let s = out["chain_incentive"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain_incentive: {out}"))
        .iter()
        .find(|s| s["behaviour"].as_str().unwrap().starts_with(behaviour))
        .unwrap_or_else(|| panic!("no behaviour `{behaviour}` in chain_incentive: {out}"));
    (
        s["share_off"].as_f64().unwrap(),
        s["share_on"].as_f64().unwrap(),
    )
}

fn mean(out: &Value, behaviour: &str) -> f64 {
    summary(out, behaviour)["mean_multiplier"].as_f64().unwrap()
}

#[test]
fn demo_story_and_plain_terminal_views() {
    let db = std::env::temp_dir().join(format!("vesting-demo-story-{}.db", std::process::id()));
    let db_arg = db.to_str().unwrap();
    let api = format!("127.0.0.1:{}", free_port());
    let (code, stdout, err) = vesting(&[
        "--json", "demo", "--days", "14", "--exit", "--db", db_arg, "--api", &api,
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let out: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(out["params"]["retention_window_days"], 7, "{out}");
    assert_eq!(out["api_url"], format!("http://{api}"));

    // Every behaviour is there, with its miners.
    for b in [
        "full holder",
        "partial seller",
        "dumper",
        "re-buyer",
        "mover",
        "transferrer",
        "swapper",
        "under minimum_stake",
        "one coldkey with 20 hotkeys",
    ] {
        assert!(summary(&out, b)["miners"].as_u64().unwrap() > 0, "{b}");
    }
    let miners = out["miners"].as_array().unwrap();
    // //Alice, the demo's validator, is in `validator`, not among the story's miners.
    assert_eq!(miners.len(), 68, "64 miners and 4 validators");
    assert!(miners.iter().all(|m| m["behaviour"] != "unknown"), "{out}");

    // The story: holding pays, selling costs, dumping gets about 1.0, under the minimum
    // gets 0, and moving between one's own hotkeys is not selling.
    let holder = mean(&out, "full holder");
    let partial = mean(&out, "partial seller");
    let dumper = mean(&out, "dumper");
    let mover = mean(&out, "mover");
    let max = out["params"]["max_multiplier"].as_f64().unwrap();
    assert!(holder > 1.0 + 0.8 * (max - 1.0), "holder {holder}");
    assert!(holder > partial, "holder {holder} partial {partial}");
    assert!(partial > dumper, "partial {partial} dumper {dumper}");
    // About 1.0: what vests at once (1/30 of each earning) still counts as held, and the
    // dumper keeps a little between sales (it stays above minimum_stake).
    assert!((1.0..1.15).contains(&dumper), "dumper {dumper}");
    assert_eq!(mean(&out, "under minimum_stake"), 0.0);
    assert_eq!(summary(&out, "under minimum_stake")["weight_after"], 0.0);
    assert!(
        (mover - holder).abs() < 0.02,
        "mover {mover} holder {holder}"
    );
    assert!(
        summary(&out, "full holder")["weight_change"]
            .as_f64()
            .unwrap()
            > 0.0
            && summary(&out, "dumper")["weight_change"].as_f64().unwrap() < 0.0,
        "{out}"
    );

    // On chain: //Alice set the weights twice, each paid by a later epoch of subnet 1.
    assert_eq!(out["validator"]["uid"], 68, "{out}");
    assert!(miners.iter().all(|m| m["uid"] != 68), "{out}");
    let phases = out["validator"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2, "{out}");
    for (p, vesting) in phases.iter().zip([false, true]) {
        assert_eq!(p["vesting"], vesting);
        assert!(p["epoch_block"].as_u64() > p["set_block"].as_u64(), "{p}");
        let paid: u64 = p["incentive"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert!(paid > 0, "{p}");
    }
    assert!(
        phases[1]["set_block"].as_u64() > phases[0]["epoch_block"].as_u64(),
        "{out}"
    );
    // The chain's shares (from IncentiveAlphaEmittedToMiners, not the multipliers): the
    // holders' rise with vesting on, the dumpers' fall, under minimum_stake gets nothing.
    let (holder_off, holder_on) = chain_share(&out, "full holder");
    let (dumper_off, dumper_on) = chain_share(&out, "dumper");
    assert!(
        holder_on > holder_off,
        "holders {holder_off} -> {holder_on}"
    );
    assert!(
        dumper_on < dumper_off,
        "dumpers {dumper_off} -> {dumper_on}"
    );
    assert!(chain_share(&out, "under minimum_stake").0 > 0.0, "{out}");
    assert_eq!(chain_share(&out, "under minimum_stake").1, 0.0, "{out}");

    // `vesting miner`: a sparkline with one glyph per epoch, no escape codes off a TTY.
    let keep = miners.iter().find(|m| m["name"] == "keep-0").unwrap();
    let hotkey = keep["hotkey"].as_str().unwrap();
    let (code, text, err) = vesting(&["miner", hotkey, "--db", db_arg, "--netuid", "1"]);
    assert_eq!(code, 0, "{text}{err}");
    assert!(!text.contains('\x1b'), "{text}");
    let (code, json, err) = vesting(&["miner", hotkey, "--db", db_arg, "--netuid", "1", "--json"]);
    assert_eq!(code, 0, "{json}{err}");
    let json: Value = serde_json::from_str(&json).unwrap();
    // One glyph per epoch of the miner's history from its first multiplier on.
    let first = json["multipliers"][0]["block"].as_u64().unwrap();
    let epochs = json["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["epoch_block"].as_u64().unwrap())
        .filter(|b| *b >= first)
        .collect::<std::collections::BTreeSet<u64>>()
        .len();
    assert!(epochs > 10, "{json}");
    let line = text
        .lines()
        .find(|l| l.starts_with("over "))
        .unwrap_or_else(|| panic!("no sparkline: {text}"));
    let glyphs: Vec<char> = line.chars().filter(|c| ('▁'..='█').contains(c)).collect();
    assert_eq!(glyphs.len(), epochs, "{line}");
    assert!(
        line.starts_with(&format!("over {epochs} epochs: ")),
        "{line}"
    );
    // A holder's multiplier grows with its holding: the line rises.
    assert!(glyphs.last() > glyphs.first(), "{line}");

    // `vesting stats`: aligned, plain off a TTY.
    let (code, text, err) = vesting(&["stats", "--db", db_arg, "--netuid", "1"]);
    assert_eq!(code, 0, "{text}{err}");
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("uid") && text.contains("mult"), "{text}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db_arg}{suffix}"));
    }
}
