//! Scenario checks that depend on the runtime schedule (`runtime`, `[[upgrades]]`): an
//! action the runtime of its block does not have is a scenario error naming the action,
//! not a silently dropped extrinsic.

use crate::error::{DevnetError, Result};
use crate::model::Action;
use crate::runtime::{Rules, rules_of, spec_running};
use crate::scenario_spec::Scenario;

/// What an action needs from the runtime of its block: (what, minimum spec, rule).
type Need = (&'static str, u32, fn(&Rules) -> bool);

fn needs(a: &Action) -> Option<Need> {
    Some(match a {
        Action::ChangeOwner { .. } => ("change_owner (subnet owner change)", 459, |r| {
            r.subnet_owner_change
        }),
        Action::TransferStakeAndHotkey { .. } => {
            ("transfer_stake_and_hotkey", 459, |r| r.calls_459)
        }
        Action::MoveStakeLimit { .. } => ("move_stake_limit", 459, |r| r.calls_459),
        Action::AddCollateral { .. } => ("add_collateral (miner collateral)", 459, |r| {
            r.miner_collateral
        }),
        Action::SetMinCollateral { .. } => ("set_min_collateral (miner collateral)", 459, |r| {
            r.miner_collateral
        }),
        Action::RemoveStake { alpha_fee, .. } if *alpha_fee > 0 => {
            ("remove_stake with alpha_fee (fees in alpha)", 424, |r| {
                r.alpha_fees
            })
        }
        _ => return None,
    })
}

/// Every scripted action against the runtime that executes its block.
pub fn validate_actions(sc: &Scenario) -> Result<()> {
    for (i, a) in sc.actions.iter().enumerate() {
        let Some((what, min, has)) = needs(&a.action) else {
            continue;
        };
        let spec = spec_running(sc.runtime, &sc.upgrades, a.block);
        if !rules_of(spec).is_some_and(|r| has(&r)) {
            return Err(DevnetError::Scenario(format!(
                "actions[{i}].action: {what} needs runtime {min} or later; block {} runs \
                 runtime {spec}",
                a.block
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(runtime: &str, upgrades: &str, action: &str) -> String {
        let tiny = crate::scenario::BUILTIN
            .iter()
            .find(|(n, _)| *n == "tiny")
            .unwrap()
            .1;
        Scenario::from_toml(&format!(
            "runtime = \"{runtime}\"\n{tiny}\n{upgrades}\n[[actions]]\nblock = 20\naction = {action}\n"
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    }

    #[test]
    fn actions_a_runtime_lacks_are_scenario_errors() {
        let owner = r#"{ kind = "change_owner", netuid = 1, coldkey = "bob", hotkey = "bob-m1" }"#;
        let e = with("424", "", owner);
        assert!(
            e.contains("actions[0].action")
                && e.contains("change_owner")
                && e.contains("runtime 424"),
            "{e}"
        );
        // Block 20 runs the runtime installed at 19 (459), not the one at 20.
        assert_eq!(
            with("424", "[[upgrades]]\nblock = 19\nruntime = \"459\"", owner),
            ""
        );
        let e = with("424", "[[upgrades]]\nblock = 20\nruntime = \"459\"", owner);
        assert!(e.contains("block 20 runs runtime 424"), "{e}");
        let t = r#"{ kind = "transfer_stake_and_hotkey", coldkey = "alice", dest_coldkey = "nina", origin_hotkey = "alice-v", dest_hotkey = "bob-m1", origin_netuid = 1, dest_netuid = 1, alpha = 1 }"#;
        assert!(with("424", "", t).contains("transfer_stake_and_hotkey"));
        assert_eq!(with("459", "", t), "");
        let lock = r#"{ kind = "add_collateral", coldkey = "bob", hotkey = "bob-m1", netuid = 1, alpha = 1 }"#;
        let e = with("424", "", lock);
        assert!(
            e.contains("add_collateral") && e.contains("needs runtime 459"),
            "{e}"
        );
        assert_eq!(with("459", "", lock), "");
        let floor = r#"{ kind = "set_min_collateral", coldkey = "bob", hotkey = "bob-m1", netuid = 1, min_locked = 1 }"#;
        assert!(with("424", "", floor).contains("set_min_collateral"));
        assert_eq!(with("459", "", floor), "");
        let fee = r#"{ kind = "remove_stake", coldkey = "alice", hotkey = "alice-v", netuid = 1, alpha = 5, alpha_fee = 1 }"#;
        let e = with("393", "", fee);
        assert!(e.contains("alpha_fee") && e.contains("runtime 393"), "{e}");
        assert_eq!(with("424", "", fee), "");
    }
}
