//! The policy lifecycle end to end, through the real binaries: `vesting run` follows the
//! devnet's demo subnet while `vesting policy install|shadow|activate` change the stored
//! policy state from another process; the service picks the changes up, shadow runs record
//! how the weights would differ, a scheduled activation takes effect exactly at an epoch
//! block, every epoch's decision replays bit for bit, `explain` names the policy, and an API
//! rollback puts the previous policy back.

use serde_json::Value;
use std::time::Duration;
use vesting_e2e::proc::{Service, http, http_raw, wait_for};
use vesting_e2e::{CLASSIC_POLICY_WASM, vesting};

/// `vesting <args> --db <db> --json`, which must succeed; its JSON output.
fn json(db: &str, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--db", db, "--json"]);
    let (code, out, err) = vesting(&a);
    assert_eq!(code, 0, "vesting {a:?} failed:\n{out}{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("vesting {a:?}: not JSON ({e}):\n{out}"))
}

/// `GET path` on the service's API, which must answer 200 with JSON.
fn get(api: u16, path: &str) -> Value {
    let (status, body) = http(api, "GET", path, "").expect("the API answers");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
}

fn sha_of(list: &Value, name: &str) -> String {
    list["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no stored policy named {name}: {list}"))["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn install_shadow_activate_at_epoch_replay_explain_rollback() {
    let service = Service::start_with("lifecycle", "demo", 5, Some("tok"));
    let (api, db) = (service.api, service.db_arg());
    wait_for("multipliers", Duration::from_secs(180), || {
        http(api, "GET", "/multipliers", "")
            .is_some_and(|(s, b)| s == 200 && b.len() > 2 && b != "[]")
    });

    // A policy that breaks the invariants is refused with the reason and not stored.
    let bad = env!("MISBEHAVING_INVALID_WASM");
    let (code, out, _) = vesting(&["policy", "install", bad, "--db", db]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("refused"), "{out}");
    let list = json(db, &["policy", "list"]);
    assert_eq!(list["policies"].as_array().unwrap().len(), 1, "{list}");
    let default = sha_of(&list, "default");
    assert_eq!(list["state"]["active"], default.as_str());

    // A good one passes every install check, including the stored-state dry run.
    let installed = json(db, &["policy", "install", CLASSIC_POLICY_WASM]);
    let checks = installed["report"]["checks"].as_array().unwrap();
    for want in ["conformance vectors", "dry run on the stored state"] {
        assert!(
            checks
                .iter()
                .any(|c| c[0].as_str().unwrap().contains(want) && c[1].get("Ok").is_some()),
            "no passing `{want}` check: {installed}"
        );
    }
    let classic = installed["installed"].as_str().unwrap().to_string();
    assert_eq!(sha_of(&json(db, &["policy", "list"]), "classic"), classic);

    // Shadow: the running service runs classic beside default at every epoch.
    json(db, &["policy", "shadow", "classic"]);
    let mut runs = Value::Null;
    wait_for(
        "a shadow run where weights differ",
        Duration::from_secs(240),
        || {
            // The API while polling: a CLI process per poll would compete with the service.
            runs = get(api, "/policy/shadow");
            runs.as_array()
                .unwrap()
                .iter()
                .any(|r| r["run"]["miners_changed"].as_u64() > Some(0))
        },
    );
    let cli = json(db, &["policy", "shadow"]);
    assert!(!cli.as_array().unwrap().is_empty(), "{cli}");
    for r in runs.as_array().unwrap() {
        let (run, diffs) = (&r["run"], r["miners"].as_array().unwrap());
        assert_eq!(run["candidate"], classic.as_str());
        assert_eq!(run["active"], default.as_str());
        assert!(run["error"].is_null(), "{run}");
        assert!(diffs.len() >= 64, "{} miners in the run", diffs.len());
        let total: u64 = diffs
            .iter()
            .map(|d| {
                d["active_weight"]
                    .as_u64()
                    .unwrap()
                    .abs_diff(d["candidate_weight"].as_u64().unwrap())
            })
            .sum();
        assert_eq!(run["total_weight_diff"].as_u64(), Some(total), "{run}");
        for side in ["active_weight", "candidate_weight"] {
            let sum: u64 = diffs.iter().map(|d| d[side].as_u64().unwrap()).sum();
            assert_eq!(sum, 1_000_000_000, "{side} of a shadow run sum to 1.0");
        }
    }

    // Scheduled for the next epoch boundary: it serves from an epoch block on.
    let st = json(db, &["policy", "activate", "classic", "--at-next-epoch"]);
    assert_eq!(st["pending"], classic.as_str());
    assert_eq!(st["active"], default.as_str());
    let mut list = Value::Null;
    wait_for(
        "the epoch-boundary activation",
        Duration::from_secs(240),
        || {
            list = get(api, "/policies");
            list["state"]["active"] == classic.as_str()
        },
    );
    assert!(list["state"]["pending"].is_null(), "{list}");
    assert_eq!(list["state"]["previous"], default.as_str());
    let at = list["log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "epoch-activate")
        .and_then(|l| l["block"].as_u64())
        .expect("the log records the activation's block");
    let (_, epochs) = http(api, "GET", "/epochs", "").unwrap();
    let epochs: Value = serde_json::from_str(&epochs).unwrap();
    assert!(
        epochs
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["block"] == at && e["status"] == "run"),
        "activation block #{at} is not an epoch run"
    );
    wait_for(
        "the service to report classic",
        Duration::from_secs(30),
        || http(api, "GET", "/stats", "").is_some_and(|(_, b)| b.contains("\"policy\":\"classic@")),
    );

    // Every recorded decision (both policies') replays bit for bit.
    let replays = json(db, &["replay", "--all"]);
    let replays = replays.as_array().unwrap();
    assert!(replays.len() >= 3, "{} decisions", replays.len());
    for r in replays {
        assert_eq!(r["input_matches"], true, "{r}");
        assert_eq!(r["output_matches"], true, "{r}");
        assert_eq!(r["rows_match"], true, "{r}");
    }
    let by = |sha: &str| replays.iter().filter(|r| r["policy_sha256"] == sha).count();
    assert!(
        by(&default) > 0 && by(&classic) > 0,
        "decisions by both policies"
    );
    assert!(
        replays.iter().all(|r| {
            let b = r["block"].as_u64().unwrap();
            (b >= at) == (r["policy_sha256"] == classic.as_str())
        }),
        "classic decides exactly from block #{at} on"
    );

    // explain: the decision, its policy, and the formula's values.
    let mults: Value =
        serde_json::from_str(&http(api, "GET", "/multipliers", "").unwrap().1).unwrap();
    let hotkey = mults[0]["hotkey"].as_str().unwrap().to_string();
    wait_for("a decision by classic", Duration::from_secs(60), || {
        get(api, &format!("/explain/{hotkey}"))["decision"]["policy_sha256"] == classic.as_str()
    });
    let e = json(db, &["explain", &hotkey]);
    assert!(
        e["decision"]["policy"]
            .as_str()
            .unwrap()
            .starts_with("classic@"),
        "{e}"
    );
    assert!(
        e["formula"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("multiplier = 1 + sqrt("))
    );
    let (code, text, _) = vesting(&["explain", &hotkey, "--db", db]);
    assert_eq!(code, 0);
    assert!(
        text.contains("held factor = min(1,") && text.contains("decided at epoch #"),
        "{text}"
    );

    // Rollback over the API (bearer token): default serves again at once.
    let (status, body) = http_raw(
        api,
        "POST",
        "/policy/rollback",
        "Authorization: Bearer tok\r\n",
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(db, &["policy", "list"])["state"]["active"],
        default.as_str()
    );
    let (status, body) = http_raw(api, "POST", "/policy/rollback", "", b"").unwrap();
    assert_eq!(status, 401, "{body}");
}
