//! A submitted signed transaction as the block applies it: the nonce check
//! (`CheckNonce`), the fee taken before dispatch (`ChargeTransactionPayment`), the call
//! through the same path as scripted actions, then the fee event.
//!
//! Read in paritytech/polkadot-sdk: `substrate/frame/system/src/extensions/check_nonce.rs`
//! (`validate`: a nonce below the account's is `Stale`, above it `Future`; `prepare`
//! increments it), `substrate/frame/transaction-payment/src/lib.rs`
//! (`ChargeTransactionPayment::withdraw_fee` before dispatch, `post_dispatch` deposits
//! `TransactionFeePaid { who, actual_fee, tip }`), and opentensor/subtensor
//! `pallets/transaction-fee/src/lib.rs` (subtensor's `OnChargeTransaction`: the fee is a
//! `fungible::Balanced::withdraw` from the signer, which deposits `Balances.Withdraw`).

use super::{AccountId, Action, ChainEvent, ChainState, Exec};
use crate::error::{DevnetError, Result};

/// A signed transaction taken from the pool into a block.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedTx {
    pub signer: AccountId,
    pub nonce: u32,
    /// The fee charged (the devnet's fee rule), in rao, tip excluded.
    pub fee: u64,
    pub tip: u64,
    /// The call as the model applies it (its `coldkey` is `signer`).
    pub action: Action,
}

impl ChainState {
    /// The account's nonce (`System.Account.nonce`).
    pub fn nonce(&self, who: &AccountId) -> u32 {
        self.nonces.get(who).copied().unwrap_or(0)
    }

    /// Checks what the transaction extensions check before dispatch: the nonce is the
    /// account's and the signer can pay `fee + tip`. Errors carry the node's
    /// `InvalidTransaction` text (`substrate/primitives/runtime/src/transaction_validity.rs`).
    pub fn check_signed(&self, tx: &SignedTx) -> Result<()> {
        let have = self.nonce(&tx.signer);
        if tx.nonce < have {
            return Err(DevnetError::Action("Transaction is outdated".into()));
        }
        if tx.nonce > have {
            return Err(DevnetError::Action(
                "Transaction will be valid in the future".into(),
            ));
        }
        let bal = self.balances.get(&tx.signer).copied().unwrap_or(0);
        if bal < tx.fee.saturating_add(tx.tip) {
            return Err(DevnetError::Action(
                "Inability to pay some fees (e.g. account balance too low)".into(),
            ));
        }
        Ok(())
    }

    pub(super) fn apply_signed(&mut self, tx: &SignedTx, ex: &mut Exec) -> Result<()> {
        self.check_signed(tx)?;
        let total = tx.fee.saturating_add(tx.tip);
        let bal = self.balances.get(&tx.signer).copied().unwrap_or(0);
        self.balances.insert(tx.signer, bal - total);
        // The withdrawn credit is dropped (burned): issuance falls by the fee.
        self.total_issuance = self.total_issuance.saturating_sub(total);
        ex.emit(ChainEvent::Withdraw {
            who: tx.signer,
            amount: total,
        });
        *self.nonces.entry(tx.signer).or_insert(0) += 1;
        if tx.action.signer() != Some(tx.signer) {
            return Err(DevnetError::Action(
                "the call's coldkey is not the signer".into(),
            ));
        }
        self.apply_action(&tx.action, ex)?;
        ex.emit(ChainEvent::TransactionFeePaid {
            who: tx.signer,
            actual_fee: total,
            tip: tx.tip,
        });
        Ok(())
    }
}
