//! A channel as this repository knows it: what the chain holds (while the
//! actor exists) and the local record, and where it is in its life.

use actor_interfaces::BuiltinType;
use fvm_shared::ActorID;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::clock::ChainEpoch;
use paych_chain::Head;
use paych_chain::state::{PaychState, robust_address};
use paych_devnet::addr::show;
use paych_devnet::repo::ChannelRecord;
use paych_devnet::{ChainNode, Context, Error, Result, StateView, Store};

use crate::PaychManager;

/// A channel as found on chain and in the local store.
#[derive(Clone, Debug)]
pub struct Channel {
    pub robust: Address,
    pub id: ActorID,
    pub record: Option<ChannelRecord>,
    /// `None` once the actor is deleted (collected).
    pub on_chain: Option<OnChain>,
}

/// A channel actor as the chain holds it ([`PaychState`]: state, balance,
/// lanes), with its parties' IDs and key addresses.
#[derive(Clone, Debug)]
pub struct OnChain {
    pub paych: PaychState,
    pub from_id: ActorID,
    pub to_id: ActorID,
    /// The payer's key address (its ID address if it has no key).
    pub from: Address,
    /// The payee's key address (its ID address if it has no key).
    pub to: Address,
}

impl std::ops::Deref for OnChain {
    type Target = PaychState;

    fn deref(&self) -> &PaychState {
        &self.paych
    }
}

/// Where a channel is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Open: vouchers can be created and redeemed.
    Open,
    /// Settle was called; vouchers can be redeemed until `settling_at`.
    Settling { settling_at: ChainEpoch },
    /// `settling_at` has been reached (by the next epoch): Collect can be
    /// called and no voucher is accepted any more.
    Settled { settling_at: ChainEpoch },
    /// Collected; the actor is gone.
    Collected { epoch: Option<ChainEpoch> },
}

impl Channel {
    pub fn from(&self) -> Option<Address> {
        self.on_chain
            .as_ref()
            .map(|c| c.from)
            .or(self.record.as_ref().map(|r| r.from))
    }

    pub fn to(&self) -> Option<Address> {
        self.on_chain
            .as_ref()
            .map(|c| c.to)
            .or(self.record.as_ref().map(|r| r.to))
    }

    /// The epoch this repository saw the channel collected at, if it did.
    pub fn collected_epoch(&self) -> Option<ChainEpoch> {
        self.record.as_ref().and_then(|r| r.collected_epoch)
    }

    /// Where the channel is when the next message executes (in the epoch
    /// after `head`).
    pub fn phase(&self, head: Head) -> Phase {
        match &self.on_chain {
            None => Phase::Collected {
                epoch: self.collected_epoch(),
            },
            Some(live) => match live.state.settling_at {
                0 => Phase::Open,
                at if head.epoch + 1 >= at => Phase::Settled { settling_at: at },
                at => Phase::Settling { settling_at: at },
            },
        }
    }

    /// The on-chain state; an error once the channel was collected.
    pub fn live(&self) -> Result<&OnChain> {
        self.on_chain
            .as_ref()
            .ok_or_else(|| match self.collected_epoch() {
                Some(epoch) => Error::collected(format!(
                    "channel {} was collected at epoch {epoch} and no longer exists",
                    show(&self.robust)
                )),
                None => Error::collected(format!(
                    "channel {} no longer exists on chain (it was collected)",
                    show(&self.robust)
                )),
            })
    }

    /// The local record for this channel: the stored one, or a new one for a
    /// channel first seen on chain.
    pub(crate) fn record_or_new(&self, live: &OnChain) -> ChannelRecord {
        self.record.clone().unwrap_or(ChannelRecord {
            robust: self.robust,
            id: self.id,
            from: live.from,
            to: live.to,
            from_id: live.from_id,
            to_id: live.to_id,
            created_epoch: 0,
            settle_sent: false,
            collected_epoch: None,
            amount: Default::default(),
            available: Default::default(),
            next_lane: 0,
        })
    }

    /// Stores the record of a channel first seen on chain (after a voucher
    /// for it was created, added or submitted here).
    pub(crate) fn track(&self, tx: &mut dyn Store, live: &OnChain) -> Result<()> {
        if self.record.is_none() {
            tx.put_channel(&self.record_or_new(live))?;
        }
        Ok(())
    }
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// Finds a channel by its robust or ID address.
    pub fn channel(&self, store: &dyn Store, head: Head, addr: &Address) -> Result<Channel> {
        let chain = self.chain();
        let tree = chain.state(store, &head.state_root)?;
        let unknown = || {
            Error::unknown_channel(format!(
                "unknown channel {}: no such payment channel on chain or in the local store",
                show(addr)
            ))
        };
        let id = tree
            .lookup_id(addr)
            .context("cannot resolve the channel address")?
            .ok_or_else(unknown)?;
        let record = store.channel_by_id(id)?;
        let on_chain = match tree
            .get_actor(id)
            .context("cannot load the channel actor")?
        {
            Some(actor) => match chain.builtin_type(&actor.code) {
                Some(BuiltinType::PaymentChannel) => {
                    let decoded = PaychState::decode(tree.store(), &actor.state, actor.balance)
                        .context("cannot decode the channel")?;
                    Some(self.on_chain(&tree, decoded)?)
                }
                other => {
                    let kind = other.map(BuiltinType::name).unwrap_or("non-built-in");
                    return Err(Error::unknown_channel(format!(
                        "{} is not a payment channel (it is an actor of type {kind})",
                        show(addr)
                    )));
                }
            },
            None if record.is_some() => None,
            None => return Err(unknown()),
        };
        let robust = match (&record, addr.protocol()) {
            (Some(r), _) => r.robust,
            (None, Protocol::Actor) => *addr,
            (None, _) => robust_address(&tree, id)
                .context("cannot find the channel's robust address")?
                .unwrap_or(*addr),
        };
        Ok(Channel {
            robust,
            id,
            record,
            on_chain,
        })
    }

    /// A decoded channel with its parties' key addresses.
    fn on_chain(&self, tree: &StateView<'_>, paych: PaychState) -> Result<OnChain> {
        let from_id = paych.from_id().context("corrupt channel state")?;
        let to_id = paych.to_id().context("corrupt channel state")?;
        let chain = self.chain();
        let from = chain
            .account_key(tree, from_id)?
            .unwrap_or(paych.state.from);
        let to = chain.account_key(tree, to_id)?.unwrap_or(paych.state.to);
        Ok(OnChain {
            paych,
            from_id,
            to_id,
            from,
            to,
        })
    }
}
