//! Storage hashers (the metadata's `StorageHasher` kinds) and block hashing.

pub use sp_crypto_hashing::{blake2_128, blake2_256, twox_64, twox_128, twox_256};

use crate::metadata::StorageHasher;

/// Hashes one encoded key part the way `hasher` does, appending to `out`.
pub fn hash_key_part(hasher: &StorageHasher, encoded: &[u8], out: &mut Vec<u8>) {
    match hasher {
        StorageHasher::Blake2_128 => out.extend_from_slice(&blake2_128(encoded)),
        StorageHasher::Blake2_256 => out.extend_from_slice(&blake2_256(encoded)),
        StorageHasher::Blake2_128Concat => {
            out.extend_from_slice(&blake2_128(encoded));
            out.extend_from_slice(encoded);
        }
        StorageHasher::Twox128 => out.extend_from_slice(&twox_128(encoded)),
        StorageHasher::Twox256 => out.extend_from_slice(&twox_256(encoded)),
        StorageHasher::Twox64Concat => {
            out.extend_from_slice(&twox_64(encoded));
            out.extend_from_slice(encoded);
        }
        StorageHasher::Identity => out.extend_from_slice(encoded),
    }
}

/// The length of the hash that precedes the encoded key for a concat hasher, or None
/// for hashers that do not keep the key (the key cannot be recovered).
pub fn concat_prefix_len(hasher: &StorageHasher) -> Option<usize> {
    match hasher {
        StorageHasher::Blake2_128Concat => Some(16),
        StorageHasher::Twox64Concat => Some(8),
        StorageHasher::Identity => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twox128_of_system_matches_substrate() {
        // The well-known prefix of the System pallet.
        assert_eq!(
            hex::encode(twox_128(b"System")),
            "26aa394eea5630e07c48ae0c9558cef7"
        );
        assert_eq!(
            hex::encode(twox_128(b"Events")),
            "80d41e5e16056765bc8461851072c9d7"
        );
    }

    #[test]
    fn concat_hashers_keep_the_key() {
        let mut out = vec![];
        hash_key_part(&StorageHasher::Blake2_128Concat, &[1, 2], &mut out);
        assert_eq!(out.len(), 18);
        assert_eq!(&out[16..], &[1, 2]);
        let mut out = vec![];
        hash_key_part(&StorageHasher::Identity, &[7, 0], &mut out);
        assert_eq!(out, vec![7, 0]);
        assert_eq!(concat_prefix_len(&StorageHasher::Twox64Concat), Some(8));
        assert_eq!(concat_prefix_len(&StorageHasher::Blake2_128), None);
    }
}
