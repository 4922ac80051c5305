//! The payment-channel manager: Lotus's `paych` verbs (its `paychmgr`) over
//! the devnet's chain and repository.
//!
//! [`PaychManager`] borrows a [`ChainNode`] (the devnet, or a lite node that
//! forwards to a full node): it reads chain state through it, pushes one
//! message per on-chain step through it, and keeps its own bookkeeping
//! (tracked channels, the voucher store) in the node's repository. Every step
//! that changes anything runs in one write unit of that repository, so voucher
//! nonces are allocated under one lock, and on the devnet a message, its
//! receipt and the bookkeeping are committed together.
//!
//! - [`channel`]: finding a channel on chain and in the store, and where it is
//!   in its life ([`Phase`]);
//! - [`funding`]: `add-funds`, creating or topping up a channel;
//! - [`rules`]: the voucher rules, each in one function;
//! - [`vouchers`]: creating, checking, storing, listing, picking and
//!   submitting vouchers;
//! - [`settlement`]: `settle` and `collect`;
//! - [`status`]: what a channel holds and owes, and the checks of the local
//!   bookkeeping against the chain;
//! - [`protection`]: the payee's settler, and the value a settle puts at
//!   stake.
//!
//! Lessons from Lotus built in:
//! - #2582: `check`/`add` ignore the very voucher being checked when it is
//!   already stored, and report which side the wallet is on.
//! - #2587: best-spendable skips (and reports) vouchers that would fail.
//! - #2585: vouchers belong to one channel (its robust address), never to a
//!   from/to pair, so a new channel starts with a clean voucher history.
//! - #2295/#2187: add-funds says whether it created a channel or topped one
//!   up, and always reports the channel's address and balance.
//! - #7877: status reconciles a collected (deleted) channel instead of failing.

pub mod channel;
pub mod conditions;
pub mod funding;
pub mod json;
pub mod protection;
pub mod rules;
pub mod settlement;
pub mod status;
pub mod vouchers;

use fvm_shared::address::Address;
use paych_chain::Head;
use paych_devnet::repo::MessageRecord;
use paych_devnet::{ChainNode, Result, Store};

pub use channel::{Channel, OnChain, Phase};
pub use conditions::{Conditions, Spendable, Waiting};
pub use funding::FundsAdded;
pub use settlement::{Collected, Settled};
pub use status::{Inspected, Status};
pub use vouchers::{
    AllocatedLane, BestSpendable, CheckedVoucher, CreatedVoucher, DecodedVoucher, Pending, Skipped,
    Submitted, VoucherList,
};

/// Lotus's payment-channel manager over a chain node.
pub struct PaychManager<'a, N: ChainNode> {
    chain: &'a N,
}

impl<'a, N: ChainNode> PaychManager<'a, N> {
    pub fn new(chain: &'a N) -> Self {
        Self { chain }
    }

    /// The chain node this manager works over.
    pub fn chain(&self) -> &'a N {
        self.chain
    }

    /// Every verb's first step: the head a unit of work sees and the channel
    /// `addr` names there.
    fn open_channel(&self, store: &dyn Store, addr: &Address) -> Result<(Head, Channel)> {
        let head = self.chain().head_in(store)?;
        let channel = self.channel(store, head, addr)?;
        Ok((head, channel))
    }

    /// The channel as `message` left it.
    fn channel_after(
        &self,
        store: &dyn Store,
        message: &MessageRecord,
        channel: &Channel,
    ) -> Result<Channel> {
        let head = Head {
            epoch: message.epoch,
            state_root: message.state_root,
        };
        self.channel(store, head, &channel.robust)
    }
}
