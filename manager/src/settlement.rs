//! Ending a channel: `settle` starts the settle delay, `collect` pays out.

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_actor::Method;
use paych_devnet::addr::show;
use paych_devnet::repo::MessageRecord;
use paych_devnet::{ChainNode, Context, Error, MessageSpec, Repo, Result, Store, json};
use serde::Serialize;

use crate::PaychManager;
use crate::channel::{Channel, OnChain};
use crate::protection::{unsubmitted, unsubmitted_error};
use crate::rules::{require_collectable, require_not_settling};

#[derive(Clone, Debug, Serialize)]
pub struct Settled {
    #[serde(serialize_with = "json::address")]
    pub channel: Address,
    /// From this epoch on, Collect is allowed and vouchers are refused.
    pub settling_at: ChainEpoch,
    pub message: MessageRecord,
}

#[derive(Clone, Debug, Serialize)]
pub struct Collected {
    #[serde(serialize_with = "json::address")]
    pub channel: Address,
    #[serde(serialize_with = "json::address")]
    pub payee: Address,
    #[serde(serialize_with = "json::address")]
    pub payer: Address,
    #[serde(serialize_with = "json::atto")]
    pub paid_to_payee: TokenAmount,
    #[serde(serialize_with = "json::atto")]
    pub returned_to_payer: TokenAmount,
    pub message: MessageRecord,
}

/// Which party a verb is sent by when none is named.
enum Preferred {
    Payer,
    Payee,
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// Starts the settle delay. Sent by `from` if given (a channel party),
    /// else by the payer if its key is here, else by the payee.
    pub fn settle(&self, channel: &Address, from: Option<&Address>) -> Result<Settled> {
        let chain = self.chain();
        chain.repo().write(|tx| {
            let (_, ch) = self.open_channel(tx, channel)?;
            let live = require_not_settling(&ch)?;
            let sender = self.party_sender(tx, &ch, live, from, Preferred::Payer, "settle")?;
            let message = chain.push(
                tx,
                &MessageSpec::call(
                    sender,
                    ch.robust,
                    Method::Settle as u64,
                    RawBytes::default(),
                ),
            )?;
            let settling_at = self
                .channel_after(tx, &message, &ch)?
                .live()?
                .state
                .settling_at;
            let mut record = ch.record_or_new(live);
            record.settle_sent = true;
            tx.put_channel(&record)?;
            Ok(Settled {
                channel: ch.robust,
                settling_at,
                message,
            })
        })
    }

    /// Pays out a settled channel and deletes it. Sent by `from` if given,
    /// else by the payee if its key is here, else by the payer. The payee is
    /// refused while stored vouchers worth more than the channel redeemed
    /// were never submitted, unless `force`.
    pub fn collect(
        &self,
        channel: &Address,
        from: Option<&Address>,
        force: bool,
    ) -> Result<Collected> {
        let chain = self.chain();
        chain.repo().write(|tx| {
            let (head, ch) = self.open_channel(tx, channel)?;
            let live = require_collectable(&ch, head)?;
            let sender = self.party_sender(tx, &ch, live, from, Preferred::Payee, "collect")?;
            if sender == live.to && !force {
                let at_risk = unsubmitted(live, &tx.vouchers(&ch.robust)?);
                if at_risk.is_positive() {
                    return Err(unsubmitted_error(live, &at_risk, head, &ch.robust));
                }
            }
            let paid = live.state.to_send.clone();
            let message = chain.push(
                tx,
                &MessageSpec::call(
                    sender,
                    ch.robust,
                    Method::Collect as u64,
                    RawBytes::default(),
                ),
            )?;
            let mut record = ch.record_or_new(live);
            record.collected_epoch = Some(message.epoch);
            tx.put_channel(&record)?;
            Ok(Collected {
                channel: ch.robust,
                payee: live.to,
                payer: live.from,
                returned_to_payer: &live.balance - &paid,
                paid_to_payee: paid,
                message,
            })
        })
    }

    /// The sender for settle/collect: `from` if given (must be a party whose
    /// key is here), else the preferred party if its key is here, else the
    /// other one.
    fn party_sender(
        &self,
        tx: &dyn Store,
        ch: &Channel,
        live: &OnChain,
        from: Option<&Address>,
        preferred: Preferred,
        verb: &str,
    ) -> Result<Address> {
        let chain = self.chain();
        if let Some(from) = from {
            let tree = chain.state(tx, &self.chain().head_in(tx)?.state_root)?;
            let key = chain.key_address(&tree, from)?;
            let id = tree.lookup_id(&key).context("cannot resolve the sender")?;
            if id != Some(live.from_id) && id != Some(live.to_id) {
                return Err(Error::invalid(format!(
                    "{} is not a party of channel {} (payer {}, payee {})",
                    show(from),
                    show(&ch.robust),
                    show(&live.from),
                    show(&live.to)
                )));
            }
            if tx.key(&key)?.is_none() {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for {}",
                    show(from)
                )));
            }
            return Ok(key);
        }
        let order = match preferred {
            Preferred::Payer => [live.from, live.to],
            Preferred::Payee => [live.to, live.from],
        };
        for candidate in order {
            if tx.key(&candidate)?.is_some() {
                return Ok(candidate);
            }
        }
        Err(Error::missing_key(format!(
            "the wallet holds neither the payer's key ({}) nor the payee's ({}), needed to {verb} channel {}",
            show(&live.from),
            show(&live.to),
            show(&ch.robust)
        )))
    }
}
