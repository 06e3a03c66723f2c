//! Dev keys: sr25519 key pairs from a secret URI (`//Alice`: Substrate's `DEV_PHRASE`
//! with a hard junction, exactly what polkadot.js `keyring.addFromUri('//Alice')` and a
//! bittensor wallet's `--uri` derive), through `subxt-signer` (the derivation of
//! `sp_core::sr25519`), and SS58 addresses.

use std::str::FromStr;

use subxt_signer::SecretUri;
use subxt_signer::sr25519::Keypair;

use crate::model::AccountId;
use sp_crypto_hashing::blake2_512;

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

/// The dev accounts' key pairs (derived once per process): the key of `account`, if it
/// is one of `DEV_ACCOUNTS`.
pub fn dev_key_of(account: &AccountId) -> Option<&'static Keypair> {
    static KEYS: std::sync::OnceLock<Vec<Keypair>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| DEV_ACCOUNTS.iter().map(|n| dev_keypair(n)).collect())
        .iter()
        .find(|k| k.public_key().0 == *account)
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
