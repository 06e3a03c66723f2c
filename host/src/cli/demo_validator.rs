//! The demo's validator, the Rust twin of `examples/python/validator_loop.py`: `//Alice`
//! (a dev key; the demo scenario registers her hotkey on subnet 1 and stakes to it, so
//! the epochs give her a validator permit and most of the active stake) sets weights on
//! the devnet's demo subnet over its real WebSocket JSON-RPC (subxt, the call encoded
//! and the events decoded with the metadata the node serves), has the devnet produce
//! blocks up to the subnet's next epoch (`devnet_advance`), and reads what the chain's
//! Yuma epoch paid each uid (`SubtensorModule.IncentiveAlphaEmittedToMiners`). The demo
//! runs it twice, base weights and then the same weights adjusted by the vesting
//! multipliers, so the on-chain effect of the multipliers shows. Also the weights' u16
//! form as the runtime stores it (`max_upscale_to_u16`).

use crate::chain::events::{number, numbers};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use subxt::backend::LegacyBackend;
use subxt::config::DefaultExtrinsicParamsBuilder;
use subxt::dynamic::{self, Value};
use subxt::ext::scale_value::ValueDef;
use subxt::rpcs::client::{RpcClient, rpc_params};
use subxt::transactions::TransactionStatus;
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{Keypair, dev};

/// The adjusted weights' fixed point: 1.0 is 1e9 (the contract's `fixed`).
const ONE: u64 = 1_000_000_000;

/// Blocks a `set_weights` stays valid for (its mortal era).
const MORTALITY: u64 = 64;

/// Epochs waited for after a `set_weights` before giving up (one is enough unless the
/// chain skips or defers the subnet's epoch).
const MAX_EPOCH_WAITS: usize = 3;

/// `vec_max_upscale_to_u16` as the runtime computes it on I32F32 (opentensor/subtensor
/// `pallets/subtensor/src/epoch/math.rs`, called by `vec_u16_max_upscale_to_u16` when
/// `do_set_weights` in `pallets/subtensor/src/subnets/weights.rs` stores a validator's
/// weights; the devnet's `model/weights.rs` `max_upscale` is the same rule): the largest
/// entry becomes 65535; if it is above 32768 every entry is `e * (65535 / max)`, else
/// `e * 65535 / max`, each I32F32 division truncating and the result rounded to
/// nearest (half up); an all-zero vector stays zero. The entries are integers (u16
/// weights, or fixed-point weights up to 1e9), all within I32F32's integer range.
pub fn max_upscale_to_u16(values: &[u64]) -> Vec<u16> {
    let max = values.iter().copied().max().unwrap_or(0) as u128;
    if max == 0 {
        return vec![0; values.len()];
    }
    let round = |bits: u128| ((bits + (1 << 31)) >> 32).min(u16::MAX as u128) as u16;
    if max > 32_768 {
        let q = ((u16::MAX as u128) << 32) / max;
        values.iter().map(|e| round(*e as u128 * q)).collect()
    } else {
        values
            .iter()
            .map(|e| round(((*e as u128 * u16::MAX as u128) << 32) / max))
            .collect()
    }
}

/// Non-negative weights as fixed point (1.0 = 1e9) over their sum; all zero when the sum
/// is not positive.
pub fn to_fixed(weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    weights
        .iter()
        .map(|w| {
            if sum > 0.0 && w.is_finite() && *w > 0.0 {
                (w / sum * ONE as f64).round() as u64
            } else {
                0
            }
        })
        .collect()
}

/// One `set_weights` and the epoch that paid by it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Phase {
    /// Whether the weights were adjusted by the vesting multipliers.
    pub vesting: bool,
    /// The block that included the `set_weights`.
    pub set_block: u64,
    /// The subnet's first epoch after it.
    pub epoch_block: u64,
    /// The weights as sent: uids and their u16 values (max-upscaled).
    pub uids: Vec<u16>,
    pub weights: Vec<u16>,
    /// The epoch's `IncentiveAlphaEmittedToMiners` by uid, in rao of alpha.
    pub incentive: Vec<u64>,
}

impl Phase {
    /// The incentive paid to `uid` (rao).
    pub fn incentive_of(&self, uid: u16) -> u64 {
        self.incentive.get(uid as usize).copied().unwrap_or(0)
    }

    /// The incentive paid to every uid (rao).
    pub fn total(&self) -> u64 {
        self.incentive.iter().sum()
    }
}

/// A connection to the devnet signing as `//Alice`.
pub struct Validator {
    rpc: RpcClient,
    api: OnlineClient<SubstrateConfig>,
    signer: Keypair,
    netuid: u16,
    /// The signer's uid on the subnet.
    pub uid: u16,
}

/// `//Alice`'s SS58 address (her hotkey is her account).
pub fn alice_ss58() -> String {
    crate::chain::ss58(&dev::alice().public_key().0)
}

impl Validator {
    /// Connects to `url` (a devnet) and finds `//Alice`'s uid on `netuid`.
    pub async fn connect(url: &str, netuid: u16) -> anyhow::Result<Self> {
        let rpc = RpcClient::from_insecure_url(url)
            .await
            .with_context(|| format!("cannot connect to the devnet at {url}"))?;
        let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc.clone());
        let api = OnlineClient::from_backend(Arc::new(backend))
            .await
            .with_context(|| format!("cannot read the metadata of {url}"))?;
        let signer = dev::alice();
        let mut v = Validator {
            rpc,
            api,
            signer,
            netuid,
            uid: 0,
        };
        let head = v.head().await?;
        let at = v.api.at_block(head).await?;
        let uids = dynamic::storage::<(u16, [u8; 32]), u16>("SubtensorModule", "Uids");
        let hotkey = v.signer.public_key().0;
        v.uid = at
            .storage()
            .try_fetch(uids, (netuid, hotkey))
            .await
            .context("reading SubtensorModule.Uids")?
            .ok_or_else(|| {
                anyhow!(
                    "//Alice ({}) is not registered on netuid {netuid}: the demo scenario \
                     registers her (host/devnet/scenarios/demo.toml, [[actions]])",
                    alice_ss58()
                )
            })?
            .decode()
            .context("decoding SubtensorModule.Uids")?;
        Ok(v)
    }

    /// The best block's number.
    async fn head(&self) -> anyhow::Result<u64> {
        let status: serde_json::Value = self
            .rpc
            .request("devnet_status", rpc_params![])
            .await
            .context("devnet_status (the demo's chain is a vesting devnet)")?;
        status["head"]
            .as_u64()
            .ok_or_else(|| anyhow!("devnet_status has no head: {status}"))
    }

    /// Produces `blocks` blocks now; the new head.
    async fn advance(&self, blocks: u64) -> anyhow::Result<u64> {
        let status: serde_json::Value = self
            .rpc
            .request(
                "devnet_advance",
                rpc_params![serde_json::json!({ "blocks": blocks })],
            )
            .await
            .with_context(|| format!("devnet_advance of {blocks} blocks"))?;
        status["head"]
            .as_u64()
            .ok_or_else(|| anyhow!("devnet_advance answered no head: {status}"))
    }

    /// A `u64` storage value of the subnet at `block` (None if the metadata lacks it).
    async fn subnet_u64(&self, block: u64, entry: &str) -> anyhow::Result<Option<u64>> {
        let at = self.api.at_block(block).await?;
        if at
            .metadata_ref()
            .pallet_by_name("SubtensorModule")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(entry))
            .is_none()
        {
            return Ok(None);
        }
        let addr = dynamic::storage::<(u16,), Value>("SubtensorModule", entry);
        let v = at
            .storage()
            .fetch(addr, (self.netuid,))
            .await
            .with_context(|| format!("reading SubtensorModule.{entry}({})", self.netuid))?
            .decode()
            .with_context(|| format!("decoding SubtensorModule.{entry}"))?;
        let n = number(&v).ok_or_else(|| anyhow!("SubtensorModule.{entry} is not a number"))?;
        Ok(Some(u64::try_from(n)?))
    }

    /// The block of the subnet's last epoch as of `block`.
    async fn last_epoch(&self, block: u64) -> anyhow::Result<u64> {
        for entry in ["LastMechansimStepBlock", "LastEpochBlock"] {
            if let Some(b) = self.subnet_u64(block, entry).await? {
                return Ok(b);
            }
        }
        bail!("the metadata has neither SubtensorModule.LastMechansimStepBlock nor LastEpochBlock")
    }

    /// Signs `SubtensorModule.set_weights(netuid, uids, weights, version_key 0)` as
    /// `//Alice`, submits it and waits for it in a block; that block's number. A refusal
    /// (the runtime's error, e.g. `SettingWeightsTooFast`) is an error.
    pub async fn set_weights(&self, uids: &[u16], weights: &[u16]) -> anyhow::Result<u64> {
        let call = dynamic::transaction(
            "SubtensorModule",
            "set_weights",
            (self.netuid, uids.to_vec(), weights.to_vec(), 0u64),
        );
        // The nonce from the node's `system_accountNextIndex`, which counts the signer's
        // transactions already in the pool (subxt's own read, `AccountNonceApi_account_nonce`,
        // does not); mortal from the best block.
        let nonce: u64 = self
            .rpc
            .request("system_accountNextIndex", rpc_params![alice_ss58()])
            .await
            .context("system_accountNextIndex of //Alice")?;
        let at = self.api.at_block(self.head().await?).await?;
        let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
            .nonce(nonce)
            .mortal_from_unchecked(MORTALITY, at.block_number(), at.block_hash())
            .build();
        let mut progress = at
            .transactions()
            .create_signable_offline(&call, params)
            .context("encoding set_weights with the node's metadata")?
            .sign(&self.signer)
            .context("signing set_weights as //Alice")?
            .submit_and_watch()
            .await
            .context("submitting set_weights")?;
        while let Some(status) = progress.next().await {
            match status.context("watching set_weights")? {
                TransactionStatus::InBestBlock(b) | TransactionStatus::InFinalizedBlock(b) => {
                    b.wait_for_success()
                        .await
                        .context("set_weights failed in its block")?;
                    return Ok(b.at().await?.block_number());
                }
                TransactionStatus::Error { message }
                | TransactionStatus::Invalid { message }
                | TransactionStatus::Dropped { message } => {
                    bail!("set_weights was not included: {message}")
                }
                _ => continue,
            }
        }
        bail!("the devnet closed set_weights' status stream before a block held it")
    }

    /// `IncentiveAlphaEmittedToMiners` of the subnet in `block`'s events, by uid (rao),
    /// summed over its mechanisms' events (mechanism 0's netuid field is the netuid).
    async fn incentive_at(&self, block: u64) -> anyhow::Result<Vec<u64>> {
        let at = self.api.at_block(block).await?;
        let events = at
            .events()
            .fetch()
            .await
            .with_context(|| format!("reading the events of block {block}"))?;
        let mut out: Option<Vec<u64>> = None;
        for ev in events.iter() {
            let ev = ev.with_context(|| format!("decoding an event of block {block}"))?;
            if ev.pallet_name() != "SubtensorModule"
                || ev.event_name() != "IncentiveAlphaEmittedToMiners"
            {
                continue;
            }
            let fields: Value = ev
                .decode_fields_unchecked_as()
                .context("decoding IncentiveAlphaEmittedToMiners")?;
            let ValueDef::Composite(c) = &fields.value else {
                bail!("IncentiveAlphaEmittedToMiners has no fields");
            };
            let vals: Vec<&Value> = c.values().collect();
            let (Some(net), Some(em)) = (vals.first().and_then(|v| number(v)), vals.get(1)) else {
                bail!("IncentiveAlphaEmittedToMiners is not (netuid, emissions): {fields}");
            };
            if net != self.netuid as u128 {
                continue;
            }
            let em = numbers(em)
                .ok_or_else(|| anyhow!("IncentiveAlphaEmittedToMiners' emissions: {fields}"))?;
            let sum = out.get_or_insert_with(|| vec![0; em.len()]);
            if sum.len() < em.len() {
                sum.resize(em.len(), 0);
            }
            for (s, e) in sum.iter_mut().zip(em) {
                *s += e;
            }
        }
        out.ok_or_else(|| {
            anyhow!(
                "block {block} has no IncentiveAlphaEmittedToMiners for netuid {}",
                self.netuid
            )
        })
    }

    /// Sets `weights` (fixed point, by `uids`) on chain, max-upscaled to u16, then has the
    /// devnet produce blocks up to the subnet's next epoch and reads what it paid.
    pub async fn phase(
        &self,
        vesting: bool,
        uids: &[u16],
        weights: &[u64],
    ) -> anyhow::Result<Phase> {
        let values = max_upscale_to_u16(weights);
        let set_block = self.set_weights(uids, &values).await?;
        let tempo = self
            .subnet_u64(set_block, "Tempo")
            .await?
            .ok_or_else(|| anyhow!("the metadata has no SubtensorModule.Tempo"))?;
        for _ in 0..MAX_EPOCH_WAITS {
            let head = self.advance(tempo + 1).await?;
            let epoch_block = self.last_epoch(head).await?;
            if epoch_block > set_block {
                return Ok(Phase {
                    vesting,
                    set_block,
                    epoch_block,
                    uids: uids.to_vec(),
                    weights: values,
                    incentive: self.incentive_at(epoch_block).await?,
                });
            }
        }
        bail!(
            "netuid {} ran no epoch in the {} blocks after set_weights at block {set_block}",
            self.netuid,
            MAX_EPOCH_WAITS as u64 * (tempo + 1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: max 4 <= 32768, so `e * 65535 / 4` rounded: 16383.75 -> 16384,
    /// 32767.5 -> 32768 (half up), 65535.
    #[test]
    fn small_vectors_upscale_by_multiply_then_divide() {
        assert_eq!(max_upscale_to_u16(&[1, 2, 4]), vec![16_384, 32_768, 65_535]);
        assert_eq!(max_upscale_to_u16(&[3]), vec![65_535]);
        // 1 * 65535 / 3 = 21845 exactly; 2 * 65535 / 3 = 43690.
        assert_eq!(max_upscale_to_u16(&[1, 2, 3]), vec![21_845, 43_690, 65_535]);
        assert_eq!(max_upscale_to_u16(&[0, 7]), vec![0, 65_535]);
    }

    /// Hand-computed: max 1e9 > 32768, so `q = 65535 / 1e9` in I32F32, truncated:
    /// floor(65535 * 2^32 / 1e9) = 281470 bits; then `e * q` rounded at 32 fractional
    /// bits: 5e8 * 281470 / 2^32 = 32767.42 -> 32767 (the exact half would be 32767.5),
    /// 2.5e8 -> 16383.71 -> 16384, 1e9 -> 65534.84 -> 65535.
    #[test]
    fn large_vectors_upscale_by_the_truncated_ratio() {
        let q: u128 = (65_535u128 << 32) / 1_000_000_000;
        assert_eq!(q, 281_470);
        assert_eq!(
            max_upscale_to_u16(&[1_000_000_000, 500_000_000, 250_000_000, 0]),
            vec![65_535, 32_767, 16_384, 0]
        );
        assert_eq!(max_upscale_to_u16(&[65_535, 1]), vec![65_535, 1]);
    }

    #[test]
    fn zero_and_empty_vectors_stay_zero() {
        assert_eq!(max_upscale_to_u16(&[0, 0]), vec![0, 0]);
        assert!(max_upscale_to_u16(&[]).is_empty());
    }

    #[test]
    fn base_weights_become_fixed_point_over_their_sum() {
        assert_eq!(
            to_fixed(&[1.0, 3.0, 0.0]),
            vec![250_000_000, 750_000_000, 0]
        );
        assert_eq!(to_fixed(&[0.0, f64::NAN]), vec![0, 0]);
    }

    #[test]
    fn alice_is_the_dev_account() {
        assert_eq!(
            alice_ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
    }
}
