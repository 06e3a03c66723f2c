//! The transaction pool: submitted signed extrinsics, validated against the head as a
//! node's pool does (`tx::check`, then the nonce, the payment and the call against the
//! head's state, run as block `head + 1` as `validate_transaction` runs), kept in
//! submission order and taken whole into the next block.

use super::{Chain, Hash};
use crate::model::{AccountId, SignedTx};
use crate::tx::{self, Checked, Context, TxError};

impl Chain {
    /// The transactions waiting for the next block, in order.
    pub fn pool(&self) -> &[Checked] {
        &self.pool
    }

    /// The next nonce of `who`: its `System.Account` nonce at the head, past any of its
    /// transactions in the pool (`system_accountNextIndex`).
    pub fn next_index(&self, who: &AccountId) -> u32 {
        let have = self.head_state().nonce(who);
        self.pool
            .iter()
            .filter(|t| t.signer == *who)
            .map(|t| t.nonce + 1)
            .fold(have, u32::max)
    }

    /// Validates a submitted extrinsic and adds it to the pool: its hash, or the error a
    /// node gives. Nonces must follow the account's (and its pooled transactions'):
    /// below is `Stale`, a pooled (signer, nonce) again is a too-low-priority
    /// replacement, above is refused as `Future` (a node would park it in its future
    /// queue; the devnet has none).
    pub fn submit_extrinsic(&mut self, xt: &[u8]) -> Result<Hash, TxError> {
        let hash = crate::hashing::blake2_256(xt);
        if self.pool.iter().any(|t| t.hash == hash) {
            return Err(TxError::AlreadyImported(hash));
        }
        let head = self.head();
        let mut state = (*self.head_state()).clone();
        state.rules = head.code.rules;
        // A node validates as the next block: paritytech/polkadot-sdk
        // `substrate/frame/executive/src/lib.rs` `Executive::validate_transaction`
        // initializes block `block_number() + 1` (no hooks run) before the extensions
        // validate, so what reads the block number sees `head + 1`: e.g. the `set_weights`
        // rate limit, opentensor/subtensor v3.4.9-424 `pallets/subtensor/src/guards/
        // check_rate_limits.rs` `CheckRateLimits::check_weights_rate_limit` ->
        // `subnets/weights.rs` `check_rate_limit(.., get_current_block_as_u64())`
        // (`current - LastUpdate >= WeightsSetRateLimit`), also run by `do_set_weights`
        // at dispatch in that same block.
        state.block = head.number + 1;
        let hash_at = |n: u64| self.hash_at(n);
        let ctx = Context {
            md: &head.code.md,
            state: &state,
            genesis: self.genesis_hash(),
            head: head.number,
            hash_at: &hash_at,
        };
        let c = tx::check(&ctx, xt)?;
        let have = state.nonce(&c.signer);
        if c.nonce < have {
            return Err(TxError::Invalid(tx::STALE.into()));
        }
        let pending: Vec<&Checked> = self.pool.iter().filter(|t| t.signer == c.signer).collect();
        if pending.iter().any(|t| t.nonce == c.nonce) {
            return Err(TxError::TooLowPriority);
        }
        if c.nonce > have + pending.len() as u32 {
            return Err(TxError::Invalid(tx::FUTURE.into()));
        }
        // The call against the head's state after the signer's pooled transactions.
        for t in &pending {
            let _ = state.apply_now(&t.action);
            if let Some(b) = state.balances.get_mut(&t.signer) {
                *b = b.saturating_sub(tx::FEE_RAO + t.tip);
            }
            *state.nonces.entry(t.signer).or_insert(0) += 1;
        }
        state
            .check_signed(&signed_tx(&c))
            .map_err(|_| TxError::Invalid(tx::PAYMENT.into()))?;
        state
            .check_action(&c.action)
            .map_err(|e| TxError::Invalid(format!("Custom error: {e}")))?;
        self.pool.push(c);
        Ok(hash)
    }
}

/// A pooled transaction as the block applies it, paying the devnet's fee rule.
pub(super) fn signed_tx(c: &Checked) -> SignedTx {
    SignedTx {
        signer: c.signer,
        nonce: c.nonce,
        fee: tx::FEE_RAO,
        tip: c.tip,
        action: c.action.clone(),
    }
}
