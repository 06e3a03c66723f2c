//! Keys: sr25519 key pairs from a secret URI (`//Alice`: Substrate's `DEV_PHRASE` with a
//! hard junction, exactly what polkadot.js `keyring.addFromUri('//Alice')` and a bittensor
//! `Keypair.create_from_uri('//Alice')` derive), through `subxt-signer` (the derivation
//! of `sp_core::sr25519`); the dev accounts; scenario account names, each the key of
//! `//name`, derived once per process and cached (`named_account`); SS58 addresses.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{OnceLock, RwLock};

use subxt_signer::sr25519::Keypair;
use subxt_signer::{DEV_PHRASE, SecretUri};

use crate::model::AccountId;
use sp_crypto_hashing::{blake2_256, blake2_512};

/// The standard dev accounts funded at genesis (`sp_keyring::Sr25519Keyring`'s names).
pub const DEV_ACCOUNTS: &[&str] = &["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

/// What each dev account holds at genesis: 1,000,000 TAO (in rao).
pub const DEV_ENDOWMENT: u64 = 1_000_000 * 1_000_000_000;

/// The SS58 prefix Bittensor uses (42, generic Substrate).
pub const SS58_PREFIX: u16 = 42;

/// The secret URI of a dev account name: `//name`.
pub fn dev_uri(name: &str) -> String {
    format!("//{name}")
}

/// The sr25519 key pair of a secret URI (`//Alice`, `phrase//hard/soft///password`).
pub fn keypair(uri: &str) -> Result<Keypair, String> {
    let u = SecretUri::from_str(uri).map_err(|e| format!("secret URI {uri:?}: {e}"))?;
    Keypair::from_uri(&u).map_err(|e| format!("secret URI {uri:?}: {e}"))
}

/// The key pair of `//name`.
pub fn dev_keypair(name: &str) -> Keypair {
    keypair(&dev_uri(name)).expect("a dev URI always derives")
}

/// The account id (sr25519 public key) of `//name`.
pub fn dev_account(name: &str) -> AccountId {
    dev_keypair(name).public_key().0
}

/// The key pair of `DEV_PHRASE` itself, derived once: the phrase's seed (BIP-39
/// PBKDF2, 2,048 rounds) is most of the cost of a `//name` derivation.
fn dev_root() -> &'static Keypair {
    static ROOT: OnceLock<Keypair> = OnceLock::new();
    ROOT.get_or_init(|| keypair(DEV_PHRASE).expect("the dev phrase derives"))
}

/// Scenario names' accounts and every key pair derived here, by account id. Key pairs
/// are leaked into `'static` (one per distinct name, about 100 bytes) so signers can
/// borrow them for the life of the process.
#[derive(Default)]
struct Named {
    by_name: HashMap<String, AccountId>,
    keys: HashMap<AccountId, &'static Keypair>,
}

fn named() -> &'static RwLock<Named> {
    static NAMED: OnceLock<RwLock<Named>> = OnceLock::new();
    NAMED.get_or_init(|| {
        let mut n = Named::default();
        for name in DEV_ACCOUNTS {
            let kp: &'static Keypair = Box::leak(Box::new(dev_keypair(name)));
            n.by_name.insert(name.to_string(), kp.public_key().0);
            n.keys.insert(kp.public_key().0, kp);
        }
        RwLock::new(n)
    })
}

/// The key pair of `//name` from the cached dev root (the same key as `keypair`, whose
/// junctions `SecretUri` parses: `//7` is the number 7, a name with `/` has several),
/// or None when `//name` is no secret URI of the dev phrase (e.g. `a///b`, a password).
fn derive_named(name: &str) -> Option<Keypair> {
    let uri = SecretUri::from_str(&dev_uri(name)).ok()?;
    if uri.password.is_some() {
        return None;
    }
    Some(dev_root().derive(uri.junctions))
}

/// The account a scenario name stands for: the sr25519 public key of `//name` (what
/// polkadot.js `keyring.addFromUri('//' + name)` and bittensor
/// `Keypair.create_from_uri('//' + name)` give), derived once per process and cached
/// with its key pair, so scripted actions of the name are signed by it (`key_of`). A name
/// that is no secret URI keeps a keyless `blake2_256("devnet:" + name)`.
pub fn named_account(name: &str) -> AccountId {
    if let Some(a) = named().read().expect("keys lock").by_name.get(name) {
        return *a;
    }
    let (account, kp) = match derive_named(name) {
        Some(kp) => (kp.public_key().0, Some(kp)),
        None => (blake2_256(format!("devnet:{name}").as_bytes()), None),
    };
    let mut n = named().write().expect("keys lock");
    if let Some(kp) = kp {
        n.keys
            .entry(account)
            .or_insert_with(|| Box::leak(Box::new(kp)));
    }
    *n.by_name.entry(name.to_string()).or_insert(account)
}

/// Whether `name`'s account has a key (`//name` derives): false for keyless names.
pub fn has_key(name: &str) -> bool {
    key_of(&named_account(name)).is_some()
}

/// The key pair of `account`, if it is a dev account or a scenario name's account
/// derived in this process (`named_account`); None for other accounts (`0x` accounts of
/// a scenario that are no dev key), which scripts sign with a stand-in.
pub fn key_of(account: &AccountId) -> Option<&'static Keypair> {
    named()
        .read()
        .expect("keys lock")
        .keys
        .get(account)
        .copied()
}

/// `key_of` (the name `crate::extrinsic` signs scripted actions through): dev accounts
/// and derived scenario names.
pub fn dev_key_of(account: &AccountId) -> Option<&'static Keypair> {
    key_of(account)
}

/// Signs `message` with the Substrate signing context (`b"substrate"`).
pub fn sign(kp: &Keypair, message: &[u8]) -> [u8; 64] {
    kp.sign(message).0
}

/// An account's SS58 address (`SS58PRE` checksum, `sp_core::crypto::Ss58Codec`).
pub fn ss58(account: &AccountId, prefix: u16) -> String {
    let mut data = if prefix < 64 {
        vec![prefix as u8]
    } else {
        // The two-byte form of `Ss58Codec::to_ss58check_with_version`.
        let ident = prefix & 0b0011_1111_1111_1111;
        let first = ((ident & 0b0000_0000_1111_1100) as u8) >> 2;
        let second = ((ident >> 8) as u8) | (((ident & 0b0000_0000_0000_0011) as u8) << 6);
        vec![first | 0b0100_0000, second]
    };
    data.extend_from_slice(account);
    let mut pre = b"SS58PRE".to_vec();
    pre.extend_from_slice(&data);
    let check = blake2_512(&pre);
    data.extend_from_slice(&check[..2]);
    base58(&data)
}

fn base58(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = vec![];
    for b in data {
        let mut carry = *b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = data.iter().take_while(|b| **b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_is_the_polkadot_js_alice() {
        // polkadot.js `new Keyring({type: 'sr25519'}).addFromUri('//Alice').address`.
        let alice = dev_account("Alice");
        assert_eq!(
            hex::encode(alice),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(
            ss58(&alice, SS58_PREFIX),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        // //Bob, as sp_keyring lists it.
        assert_eq!(
            ss58(&dev_account("Bob"), SS58_PREFIX),
            "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
        );
    }

    #[test]
    fn scenario_names_are_their_dev_uri_keys_cached() {
        // polkadot.js `keyring.addFromUri('//val-a').publicKey`.
        assert_eq!(
            hex::encode(named_account("val-a")),
            "b85c420c8a999bbdca97235d13ef15c63b39efc785102c2a1b01f7733b6aa433"
        );
        // The cached root derives what a full URI derivation gives, junction rules
        // included (a number, several junctions).
        for name in ["m-a2", "7", "a/b", "Alice", "owner-hot"] {
            let full = keypair(&dev_uri(name)).unwrap().public_key().0;
            assert_eq!(named_account(name), full, "{name}");
            assert_eq!(key_of(&full).unwrap().public_key().0, full, "{name}");
            assert!(has_key(name));
        }
        assert_eq!(named_account("Alice"), dev_account("Alice"));
        // Not a URI of the dev phrase (a password): keyless, as before.
        let k = named_account("x///pw");
        assert_eq!(k, blake2_256(b"devnet:x///pw"));
        assert!(key_of(&k).is_none() && !has_key("x///pw"));
        // Cached: a second lookup derives nothing (well under a derivation's cost).
        let t = std::time::Instant::now();
        for _ in 0..1_000 {
            named_account("m-a2");
        }
        assert!(t.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn signatures_verify_with_the_substrate_context() {
        let kp = dev_keypair("Alice");
        let sig = sign(&kp, b"payload");
        let pk = subxt_signer::sr25519::PublicKey(dev_account("Alice"));
        let s = subxt_signer::sr25519::Signature(sig);
        assert!(subxt_signer::sr25519::verify(&s, b"payload", &pk));
        assert!(!subxt_signer::sr25519::verify(&s, b"payloaD", &pk));
        assert!(keypair("not a uri").is_err());
    }
}
