//! The checks Lotus's message pool makes before it accepts a message: size,
//! gas bounds, fee cap against the base fee, the sender's signature and
//! nonce, and a balance that covers value plus the most gas it can burn.

use fvm_shared::address::Protocol;
use fvm_shared::crypto::signature::SignatureType;
use paych_chain::SignedMessage;
use paych_chain::config::BLOCK_GAS_LIMIT;
use paych_chain::message::MAX_MESSAGE_SIZE;
use paych_client::amount::format_fil;

use crate::addr;
use crate::chain_node::ChainNode;
use crate::error::{Context, Error, Result};
use crate::node::{Devnet, StateView};
use crate::repo::Repo;

impl<R: Repo> Devnet<R> {
    /// Refuses a message the pool would refuse, with the reason. `pending`
    /// is what the pool already holds (the sender's next nonce follows its
    /// pending messages).
    pub fn check_message(
        &self,
        tree: &StateView<'_>,
        pending: &[SignedMessage],
        signed: &SignedMessage,
    ) -> Result<()> {
        let m = &signed.message;
        let size = signed.to_bytes().len();
        if size > MAX_MESSAGE_SIZE {
            return Err(Error::rejected(format!(
                "message is too large ({size} > {MAX_MESSAGE_SIZE} bytes)"
            )));
        }
        m.check()
            .map_err(|e| Error::rejected(format!("invalid message: {e}")))?;
        if m.gas_limit > BLOCK_GAS_LIMIT {
            return Err(Error::rejected(format!(
                "gas limit {} exceeds the block gas limit {BLOCK_GAS_LIMIT}",
                m.gas_limit
            )));
        }
        let prices = fvm::gas::price_list_by_network_version(self.info().config.network_version);
        let inclusion = prices
            .on_chain_message(signed.chain_length())
            .total()
            .round_up();
        if m.gas_limit < inclusion {
            return Err(Error::rejected(format!(
                "gas limit {} is below the message's inclusion cost {inclusion}",
                m.gas_limit
            )));
        }
        if m.value.is_negative() {
            return Err(Error::rejected("message value is negative"));
        }
        let base_fee = &self.info().config.base_fee;
        if &m.gas_fee_cap < base_fee {
            return Err(Error::rejected(format!(
                "gas fee cap {} attoFIL is below the base fee {} attoFIL",
                m.gas_fee_cap.atto(),
                base_fee.atto()
            )));
        }
        if m.gas_premium > m.gas_fee_cap {
            return Err(Error::rejected("gas premium exceeds the gas fee cap"));
        }
        let (id, sender) = self.lookup(tree, &m.from)?.ok_or_else(|| {
            Error::unknown_address(format!(
                "unknown address {}: the sender has no actor on chain",
                addr::show(&m.from)
            ))
        })?;
        let signer = match m.from.protocol() {
            Protocol::Secp256k1 | Protocol::BLS => m.from,
            _ => self.account_key(tree, id)?.ok_or_else(|| {
                Error::rejected(format!(
                    "sender {} is not an account with a key",
                    addr::show(&m.from)
                ))
            })?,
        };
        let expected_type = match signer.protocol() {
            Protocol::BLS => SignatureType::BLS,
            _ => SignatureType::Secp256k1,
        };
        if signed.signature.sig_type != expected_type || !signed.is_signed_by(&signer) {
            return Err(Error::rejected(format!(
                "invalid message signature: not signed by the sender {}",
                addr::show(&signer)
            )));
        }
        let next = sender.sequence + pending_from(pending, tree, id)?;
        if m.sequence != next {
            return Err(Error::rejected(format!(
                "message nonce {} does not match the sender's next nonce {next}",
                m.sequence
            )));
        }
        let needed = &m.value + &m.gas_fee_cap * m.gas_limit;
        if sender.balance < needed {
            return Err(Error::insufficient_funds(format!(
                "insufficient funds: {} has {}, the message needs {} ({} plus at most {} of gas)",
                addr::show(&m.from),
                format_fil(&sender.balance),
                format_fil(&needed),
                format_fil(&m.value),
                format_fil(&(&m.gas_fee_cap * m.gas_limit)),
            )));
        }
        Ok(())
    }
}

/// How many of `pending` the actor `id` sent.
pub(crate) fn pending_from(
    pending: &[SignedMessage],
    tree: &StateView<'_>,
    id: fvm_shared::ActorID,
) -> Result<u64> {
    let mut count = 0;
    for message in pending {
        if tree
            .lookup_id(&message.message.from)
            .context("cannot resolve a pooled message's sender")?
            == Some(id)
        {
            count += 1;
        }
    }
    Ok(count)
}
