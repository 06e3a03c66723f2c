//! Scenarios: loading a scenario file (TOML) or a built-in one by name, parsed and
//! validated. The file's shape is `scenario_spec` (re-exported here), its checks
//! `scenario_validate` (errors name the field and what is wrong), the genesis state and
//! block driver it builds `scenario_genesis` and `scenario_driver`. Built-in scenarios
//! are embedded in the crate.

use crate::error::{DevnetError, Result};
pub use crate::scenario_driver::ScenarioDriver;
pub use crate::scenario_spec::{
    BehaviourKind, BehaviourSpec, ColdkeySpec, NeuronGroup, NeuronSpec, ReorgSpec, Scenario,
    ScriptedAction, StakeSpec, SubnetSpec,
};

/// The built-in scenarios: (name, TOML).
pub const BUILTIN: &[(&str, &str)] = &[
    ("tiny", include_str!("../scenarios/tiny.toml")),
    ("attribution", include_str!("../scenarios/attribution.toml")),
    ("demo", include_str!("../scenarios/demo.toml")),
    ("edges", include_str!("../scenarios/edges.toml")),
    ("upgrades", include_str!("../scenarios/upgrades.toml")),
];

impl Scenario {
    /// Parses and validates a TOML scenario.
    pub fn from_toml(text: &str) -> Result<Self> {
        let s: Scenario = toml::from_str(text).map_err(|e| DevnetError::Scenario(e.to_string()))?;
        crate::scenario_validate::validate(&s)?;
        Ok(s)
    }

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Result<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            DevnetError::Scenario(format!(
                "no built-in scenario {name:?} (have: {})",
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        Self::from_toml(text)
    }

    /// A scenario from a built-in name or a file path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Self::builtin(name_or_path);
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| DevnetError::Scenario(format!("cannot read {name_or_path}: {e}")))?;
        Self::from_toml(&text).map_err(|e| DevnetError::Scenario(format!("{name_or_path}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_build() {
        for (name, _) in BUILTIN {
            let s = Scenario::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            s.build(12_000, None)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn bad_files_name_the_field() {
        let e = Scenario::from_toml("name = \"x\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        let e = Scenario::from_toml(
            "name = \"x\"\n[[subnets]]\nnetuid = 1\ntempo = 0\nowner = \"o\"\nowner_hotkey = \"oh\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("subnets[0].tempo"), "{e}");
        let e = Scenario::from_toml(
            "name = \"x\"\n[[stakes]]\ncoldkey = \"a\"\nhotkey = \"b\"\nnetuid = 9\nalpha = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("stakes[0].netuid") && e.contains("subnet 9"),
            "{e}"
        );
        let e = Scenario::from_toml(
            "name = \"x\"\n[[subnets]]\nnetuid = \"one\"\nowner = \"o\"\nowner_hotkey = \"oh\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("netuid"), "{e}");
        assert!(
            Scenario::builtin("nope")
                .unwrap_err()
                .to_string()
                .contains("tiny")
        );
    }
}
