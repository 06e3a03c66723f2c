//! `vesting devnet --accounts`: every account a user can sign as, with the secret URI to
//! give polkadot.js's keyring or a bittensor wallet: the funded dev accounts and the
//! scenario's named accounts (each the sr25519 key of `//name`, `tx::keys::named_account`).

use std::collections::BTreeSet;

use crate::model::named_account;
use crate::scenario::Scenario;
use crate::tx::keys::{
    DEV_ACCOUNTS, DEV_ENDOWMENT, SS58_PREFIX, dev_account, dev_uri, has_key, ss58,
};

/// One listed account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLine {
    pub name: String,
    pub ss58: String,
    /// The secret URI to sign with (`//name`); None for a name that is no URI (keyless).
    pub uri: Option<String>,
    /// A dev account (funded at genesis) rather than a scenario account.
    pub dev: bool,
}

/// The scenario's account names (subnet owners, coldkeys and their hotkeys, neurons,
/// neuron groups, stakes), sorted.
pub fn scenario_names(sc: &Scenario) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in &sc.subnets {
        out.insert(s.owner.clone());
        out.insert(s.owner_hotkey.clone());
    }
    for c in &sc.coldkeys {
        out.insert(c.name.clone());
        out.extend(c.hotkeys.iter().cloned());
    }
    for n in &sc.neurons {
        out.insert(n.hotkey.clone());
        out.insert(n.coldkey.clone());
    }
    for g in &sc.neuron_groups {
        for i in 0..g.count {
            out.insert(format!("{}-{}", g.prefix, i));
            out.insert(format!("{}-ck-{}", g.prefix, i % g.coldkeys.max(1)));
        }
    }
    for s in &sc.stakes {
        out.insert(s.coldkey.clone());
        out.insert(s.hotkey.clone());
    }
    out.retain(|n| !n.starts_with("0x"));
    out
}

/// The dev accounts, then the scenario's named accounts.
pub fn accounts(sc: &Scenario) -> Vec<AccountLine> {
    let mut out: Vec<AccountLine> = DEV_ACCOUNTS
        .iter()
        .map(|n| AccountLine {
            name: n.to_string(),
            ss58: ss58(&dev_account(n), SS58_PREFIX),
            uri: Some(dev_uri(n)),
            dev: true,
        })
        .collect();
    out.extend(scenario_names(sc).into_iter().map(|n| AccountLine {
        ss58: ss58(&named_account(&n), SS58_PREFIX),
        uri: has_key(&n).then(|| dev_uri(&n)),
        name: n,
        dev: false,
    }));
    out
}

/// The listing `--accounts` prints.
pub fn render(sc: &Scenario) -> String {
    let mut s = format!(
        "Accounts of devnet scenario '{}' (SS58 prefix {SS58_PREFIX}).\n\
         Dev accounts, funded with {} TAO each at genesis: sign with the URI \
         (polkadot.js `keyring.addFromUri(uri)`, bittensor `Keypair.create_from_uri(uri)`):\n",
        sc.name,
        DEV_ENDOWMENT / 1_000_000_000
    );
    let lines = accounts(sc);
    for a in lines.iter().filter(|a| a.dev) {
        s.push_str(&format!(
            "  {:<10} {}  {}\n",
            a.name,
            a.ss58,
            a.uri.as_deref().unwrap_or_default()
        ));
    }
    s.push_str(
        "Scenario accounts (the sr25519 key of //name; the scenario's scripts sign as them, \
         and so can you, with the URI):\n",
    );
    for a in lines.iter().filter(|a| !a.dev) {
        s.push_str(&format!(
            "  {:<16} {}  {}\n",
            a.name,
            a.ss58,
            a.uri.as_deref().unwrap_or("(no key)")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_dev_accounts_with_uris_and_scenario_names() {
        let sc = Scenario::builtin("edges").unwrap();
        let a = accounts(&sc);
        assert_eq!(a[0].name, "Alice");
        assert_eq!(
            a[0].ss58,
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(a[0].uri.as_deref(), Some("//Alice"));
        let val_a = a.iter().find(|x| x.name == "val-a").unwrap();
        assert_eq!(val_a.uri.as_deref(), Some("//val-a"));
        assert!(!val_a.dev);
        // polkadot.js `keyring.addFromUri('//val-a').address`.
        assert_eq!(
            val_a.ss58,
            "5GES5GC3HcSKcsWqWKQ9Jk8XYknYe4HoJZfXfVEH2m9vaDbk"
        );
        let text = render(&sc);
        assert!(text.contains("//Bob"), "{text}");
        assert!(text.contains("//val-a"), "{text}");
    }
}
