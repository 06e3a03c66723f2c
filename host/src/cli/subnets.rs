//! The start check of the writers (`run`, `ingest`, `backfill`): the subnet to track
//! exists on the chain. One read at the finalized head through the chain client: the keys
//! of `SubtensorModule.NetworksAdded` (the subnets registered) and their values.

use std::time::Duration;

use crate::chain::{ChainClient, ChainError, RpcStats};

/// How long the check waits for the node before starting anyway.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The subnets the chain has at its finalized head (`NetworksAdded[netuid] == true`).
pub async fn subnets(client: &ChainClient) -> Result<Vec<u16>, ChainError> {
    let (number, hash) = client.finalized_head().await?;
    let mut prefix = sp_crypto_hashing::twox_128(b"SubtensorModule").to_vec();
    prefix.extend_from_slice(&sp_crypto_hashing::twox_128(b"NetworksAdded"));
    let keys = client.keys(&prefix, number, &hash).await?;
    let values = client.storage_at(&keys, number, &hash).await?;
    let mut out = vec![];
    for (key, value) in keys.iter().zip(values) {
        // The key ends with the SCALE-encoded netuid (u16, little endian) under every
        // hasher a map key may use here: Identity, Twox64Concat or Blake2_128Concat.
        let hashed = key.len().checked_sub(prefix.len() + 2);
        if !matches!(hashed, Some(0 | 8 | 16)) {
            return Err(ChainError::Decode {
                what: "SubtensorModule.NetworksAdded key".into(),
                message: format!("unexpected length {} of {}", key.len(), hex::encode(key)),
            });
        }
        let netuid = u16::from_le_bytes([key[key.len() - 2], key[key.len() - 1]]);
        // A bool: 0x01 for a subnet that is added.
        if value.as_deref() == Some(&[1u8][..]) {
            out.push(netuid);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The subnets as a message lists them: `0, 1, 3-7, 9`.
pub fn ranges(netuids: &[u16]) -> String {
    let mut parts: Vec<String> = vec![];
    let mut i = 0;
    while i < netuids.len() {
        let mut j = i;
        while j + 1 < netuids.len() && netuids[j + 1] == netuids[j] + 1 {
            j += 1;
        }
        parts.push(match j - i {
            0 => netuids[i].to_string(),
            1 => format!("{}, {}", netuids[i], netuids[j]),
            _ => format!("{}-{}", netuids[i], netuids[j]),
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Refuses a netuid the chain at `url` does not have, naming the subnets it has. A node
/// that cannot be reached now is not a refusal: the monitor reconnects with backoff (the
/// check is logged as skipped).
pub async fn check_netuid(url: &str, netuid: u16) -> anyhow::Result<()> {
    let read = async {
        let client = ChainClient::connect(url, RpcStats::new()).await?;
        subnets(&client).await
    };
    let have = match tokio::time::timeout(CHECK_TIMEOUT, read).await {
        Ok(Ok(have)) => have,
        Ok(Err(e)) => {
            tracing::warn!(
                "could not check that subnet {netuid} exists on {url}: {e}; starting anyway"
            );
            return Ok(());
        }
        Err(_) => {
            tracing::warn!(
                "could not check that subnet {netuid} exists on {url}: no answer in {} s; \
                 starting anyway",
                CHECK_TIMEOUT.as_secs()
            );
            return Ok(());
        }
    };
    if have.is_empty() {
        // Nothing registered at all: not a Subtensor chain as this build knows it (or
        // the map moved); the monitor's own checks say more.
        tracing::warn!(
            "the chain at {url} lists no subnets (SubtensorModule.NetworksAdded is empty); \
             cannot check --netuid {netuid}"
        );
        return Ok(());
    }
    if !have.contains(&netuid) {
        anyhow::bail!(
            "the chain at {url} has no subnet {netuid} (--netuid {netuid}); its subnets are \
             {}. Pass --netuid with one of them (or VESTING_NETUID, or netuid in the config), \
             or point --subtensor.network / --subtensor.chain_endpoint at the chain that has \
             subnet {netuid}",
            ranges(&have)
        );
    }
    tracing::info!("subnet {netuid} exists on {url}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_are_compact() {
        assert_eq!(super::ranges(&[]), "");
        assert_eq!(super::ranges(&[1]), "1");
        assert_eq!(super::ranges(&[0, 1]), "0, 1");
        assert_eq!(super::ranges(&[0, 1, 2, 3, 5, 7, 8]), "0-3, 5, 7, 8");
    }
}
