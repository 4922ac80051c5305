//! `add-funds`: create a channel from `from` to `to` with Init Exec, or top
//! the active one up with a plain send; with a reservation (Lotus's
//! `PaychGet`), set funds aside for vouchers about to be created, taking them
//! from the channel's unreserved funds first and sending only the shortfall.
//!
//! The bookkeeping is Lotus's: a channel record's `amount` is what was added
//! from here (confirmed), `available` the part of it not reserved.

use actor_interfaces::BuiltinType;
use actor_interfaces::builtin::INIT_ACTOR_ID;
use actor_interfaces::init::{EXEC_METHOD, ExecParams, ExecReturn};
use cid::Cid;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::ActorID;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::econ::TokenAmount;
use paych_actor::ConstructorParams;
use paych_devnet::addr::show;
use paych_devnet::repo::{ChannelRecord, MessageRecord};
use paych_devnet::{ChainNode, Context, Error, MessageSpec, Repo, Result, Store, json};
use serde::Serialize;

use crate::PaychManager;
use crate::channel::{Channel, Phase};

/// The result of `add-funds`.
#[derive(Clone, Debug, Serialize)]
pub struct FundsAdded {
    #[serde(serialize_with = "json::address")]
    pub channel: Address,
    #[serde(serialize_with = "json::id_address")]
    pub id: ActorID,
    /// The payer's and the payee's key addresses.
    #[serde(serialize_with = "json::address")]
    pub from: Address,
    #[serde(serialize_with = "json::address")]
    pub to: Address,
    /// Whether a new channel was created (or an existing one topped up).
    pub created: bool,
    /// What was asked for.
    #[serde(serialize_with = "json::atto")]
    pub amount: TokenAmount,
    /// How much of it is reserved for vouchers (all of it with a
    /// reservation, none without).
    #[serde(serialize_with = "json::atto")]
    pub reserved: TokenAmount,
    /// What the message sent (less than `amount` when a reservation was
    /// covered by unreserved funds; zero, and no message, when fully).
    #[serde(serialize_with = "json::atto")]
    pub sent: TokenAmount,
    /// The channel's balance afterwards.
    #[serde(serialize_with = "json::atto")]
    pub balance: TokenAmount,
    /// The funds remaining unreserved afterwards (Lotus's `NonReservedAmt`).
    #[serde(serialize_with = "json::atto")]
    pub non_reserved: TokenAmount,
    pub message: Option<MessageRecord>,
}

/// Whether funds added are free for any use or reserved for vouchers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Funding {
    /// Lotus's `PaychFund`: the whole amount is sent and stays unreserved.
    Available,
    /// Lotus's `PaychGet`: the amount is reserved, from unreserved funds
    /// first, and only the shortfall is sent.
    Reserved,
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// Sends `amount` to a channel: creates one (Init Exec) when there is no
    /// active from->to channel, otherwise tops the newest active one up. A
    /// settling channel is never reused.
    pub fn add_funds(
        &self,
        from: &Address,
        to: &Address,
        amount: &TokenAmount,
    ) -> Result<FundsAdded> {
        self.fund(from, to, amount, Funding::Available)
    }

    /// Reserves `amount` for vouchers about to be created: taken from the
    /// active channel's unreserved funds first; the shortfall is sent (or a
    /// channel created with all of it).
    pub fn reserve_funds(
        &self,
        from: &Address,
        to: &Address,
        amount: &TokenAmount,
    ) -> Result<FundsAdded> {
        self.fund(from, to, amount, Funding::Reserved)
    }

    fn fund(
        &self,
        from: &Address,
        to: &Address,
        amount: &TokenAmount,
        funding: Funding,
    ) -> Result<FundsAdded> {
        if !amount.is_positive() {
            return Err(Error::invalid("the amount must be positive"));
        }
        let chain = self.chain();
        chain.repo().write(|tx| {
            let head = self.chain().head_in(tx)?;
            let tree = chain.state(tx, &head.state_root)?;
            let from_key = chain.key_address(&tree, from)?;
            if tx.key(&from_key)?.is_none() {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for {}: add-funds is sent by the payer",
                    show(from)
                )));
            }
            let (from_id, _) = chain.lookup(&tree, &from_key)?.ok_or_else(|| {
                Error::unknown_address(format!(
                    "unknown address {}: it has no actor on chain (send it funds first)",
                    show(from)
                ))
            })?;
            if to.protocol() == Protocol::ID && chain.lookup(&tree, to)?.is_none() {
                return Err(Error::unknown_address(format!(
                    "unknown address {}: no actor on chain",
                    show(to)
                )));
            }
            let to_key = chain.key_address(&tree, to)?;
            let to_id = tree
                .lookup_id(&to_key)
                .context("cannot resolve the payee")?;
            drop(tree);

            match self.active_channel(tx, from_id, to_id)? {
                Some(channel) => self.top_up(tx, &from_key, &to_key, &channel, amount, funding),
                None => self.create(tx, from_key, from_id, to_key, amount, funding),
            }
        })
    }

    /// The newest tracked channel from `from_id` to `to_id` that is open: not
    /// settling on chain, Settle not sent from here, not collected.
    fn active_channel(
        &self,
        tx: &dyn Store,
        from_id: ActorID,
        to_id: Option<ActorID>,
    ) -> Result<Option<Channel>> {
        let head = self.chain().head_in(tx)?;
        for record in tx.channels()?.into_iter().rev() {
            if record.from_id != from_id || Some(record.to_id) != to_id || record.settle_sent {
                continue;
            }
            let channel = self.channel(tx, head, &record.robust)?;
            if channel.phase(head) == Phase::Open {
                return Ok(Some(channel));
            }
        }
        Ok(None)
    }

    fn top_up(
        &self,
        tx: &mut dyn Store,
        from: &Address,
        to: &Address,
        channel: &Channel,
        amount: &TokenAmount,
        funding: Funding,
    ) -> Result<FundsAdded> {
        let mut record = channel.record_or_new(channel.live()?);
        let (reserved, sent) = match funding {
            Funding::Available => (TokenAmount::default(), amount.clone()),
            Funding::Reserved => {
                let taken = record.available.clone().min(amount.clone());
                record.available -= &taken;
                (amount.clone(), amount - taken)
            }
        };
        let message = if sent.is_positive() {
            Some(self.chain().push(
                tx,
                &MessageSpec::transfer(*from, channel.robust, sent.clone()),
            )?)
        } else {
            None
        };
        record.amount += &sent;
        if funding == Funding::Available {
            record.available += &sent;
        }
        tx.put_channel(&record)?;
        let balance = match &message {
            Some(m) => self.balance_at(tx, &m.state_root, channel.id)?,
            None => channel.live()?.balance.clone(),
        };
        Ok(FundsAdded {
            channel: channel.robust,
            id: channel.id,
            from: *from,
            to: *to,
            created: false,
            amount: amount.clone(),
            reserved,
            sent,
            balance,
            non_reserved: record.available,
            message,
        })
    }

    fn create(
        &self,
        tx: &mut dyn Store,
        from: Address,
        from_id: ActorID,
        to: Address,
        amount: &TokenAmount,
        funding: Funding,
    ) -> Result<FundsAdded> {
        let chain = self.chain();
        let code_cid = chain
            .manifest()
            .code(BuiltinType::PaymentChannel)
            .ok_or_else(|| Error::internal("the bundle has no payment channel actor"))?;
        let params = ExecParams {
            code_cid,
            constructor_params: RawBytes::serialize(&ConstructorParams { from, to })
                .context("cannot encode params")?,
        };
        let message = chain.push(
            tx,
            &MessageSpec {
                from,
                to: Address::new_id(INIT_ACTOR_ID),
                method: EXEC_METHOD,
                params: RawBytes::serialize(&params).context("cannot encode params")?,
                value: amount.clone(),
            },
        )?;
        let ret: ExecReturn = fvm_ipld_encoding::from_slice(&message.receipt.return_data)
            .context("cannot decode init's Exec return")?;
        let id = ret
            .id_address
            .id()
            .map_err(|_| Error::internal("Exec returned a non-ID address"))?;
        let to_id = chain
            .state(tx, &message.state_root)?
            .lookup_id(&to)
            .context("cannot resolve the payee")?
            .ok_or_else(|| {
                Error::internal("the payee has no actor after the channel was created")
            })?;
        let (reserved, non_reserved) = match funding {
            Funding::Available => (TokenAmount::default(), amount.clone()),
            Funding::Reserved => (amount.clone(), TokenAmount::default()),
        };
        tx.put_channel(&ChannelRecord {
            robust: ret.robust_address,
            id,
            from,
            to,
            from_id,
            to_id,
            created_epoch: message.epoch,
            settle_sent: false,
            collected_epoch: None,
            amount: amount.clone(),
            available: non_reserved.clone(),
            next_lane: 0,
        })?;
        Ok(FundsAdded {
            channel: ret.robust_address,
            id,
            from,
            to,
            created: true,
            amount: amount.clone(),
            reserved,
            sent: amount.clone(),
            balance: self.balance_at(tx, &message.state_root, id)?,
            non_reserved,
            message: Some(message),
        })
    }

    fn balance_at(&self, store: &dyn Store, root: &Cid, id: ActorID) -> Result<TokenAmount> {
        let tree = self.chain().state(store, root)?;
        Ok(tree
            .get_actor(id)
            .context("cannot load an actor")?
            .map(|a| a.balance)
            .unwrap_or_default())
    }
}
