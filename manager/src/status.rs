//! What a channel holds and owes, reconciled with the chain (a collected
//! channel reports as collected, not as an error: lotus #7877), and the check
//! of the local bookkeeping against the chain.

use actor_interfaces::BuiltinType;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_chain::Head;
use paych_chain::state::builtin_actor;
use paych_devnet::addr::show;
use paych_devnet::repo::SettlerAction;
use paych_devnet::{ChainNode, Context, Error, Repo, Result, Store};

use crate::PaychManager;
use crate::channel::{Channel, OnChain, Phase};
use crate::protection::{deadline, unsubmitted};
use crate::rules::{known_lanes, owed};

/// Everything `status` shows.
#[derive(Clone, Debug)]
pub struct Status {
    pub channel: Address,
    pub id: ActorID,
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub payer_in_wallet: bool,
    pub payee_in_wallet: bool,
    pub phase: Phase,
    pub head: ChainEpoch,
    /// The actor's balance (zero once collected).
    pub balance: TokenAmount,
    /// Funds added from here, confirmed (Lotus's `ConfirmedAmt`).
    pub confirmed: TokenAmount,
    /// The part of `confirmed` not reserved for vouchers (Lotus's
    /// `NonReservedAmt`).
    pub non_reserved: TokenAmount,
    /// Redeemed on chain so far.
    pub to_send: TokenAmount,
    /// What the channel owes with every known voucher redeemed (Lotus's
    /// `VoucherReedeemedAmt`: on-chain lanes overlaid with stored vouchers,
    /// merges counted as the actor counts them).
    pub voucher_redeemed: TokenAmount,
    /// What new vouchers can still promise: the balance less
    /// `voucher_redeemed`.
    pub available: TokenAmount,
    pub vouchers: usize,
    pub lanes: usize,
    pub created_epoch: Option<ChainEpoch>,
    /// What stored vouchers never submitted would add to what the channel
    /// redeemed: the payee's value at stake if the channel settles.
    pub unsubmitted: TokenAmount,
    /// While settling: the epoch by which vouchers must be redeemed.
    pub deadline: Option<ChainEpoch>,
    /// What the settler did for this channel.
    pub settler: Vec<SettlerAction>,
}

/// `inspect`: the decoded on-chain state.
#[derive(Clone, Debug)]
pub struct Inspected {
    pub channel: Address,
    pub id: ActorID,
    pub head: ChainEpoch,
    pub on_chain: Option<OnChain>,
    pub collected_epoch: Option<ChainEpoch>,
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// The channel's status.
    pub fn status(&self, channel: &Address) -> Result<Status> {
        self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            self.status_of(store, head, &ch)
        })
    }

    fn status_of(&self, store: &dyn Store, head: Head, ch: &Channel) -> Result<Status> {
        let vouchers = store.vouchers(&ch.robust)?;
        let (from, to) = (ch.from(), ch.to());
        let in_wallet = |a: Option<Address>| -> Result<bool> {
            Ok(match a {
                Some(a) => store.key(&a)?.is_some(),
                None => false,
            })
        };
        let phase = ch.phase(head);
        let unsubmitted = ch
            .on_chain
            .as_ref()
            .map(|live| unsubmitted(live, &vouchers))
            .unwrap_or_default();
        let stored = vouchers.iter().map(|r| &r.voucher);
        let (balance, to_send, lanes, voucher_redeemed) = match &ch.on_chain {
            Some(live) => (
                live.balance.clone(),
                live.state.to_send.clone(),
                live.lanes.clone(),
                owed(live, stored.clone()),
            ),
            None => Default::default(),
        };
        let known = known_lanes(&lanes, stored);
        let available = (&balance - &voucher_redeemed).max(TokenAmount::default());
        let (confirmed, non_reserved) = ch
            .record
            .as_ref()
            .map(|r| (r.amount.clone(), r.available.clone()))
            .unwrap_or_default();
        Ok(Status {
            channel: ch.robust,
            id: ch.id,
            from,
            to,
            payer_in_wallet: in_wallet(from)?,
            payee_in_wallet: in_wallet(to)?,
            phase,
            head: head.epoch,
            balance,
            confirmed,
            non_reserved,
            to_send,
            voucher_redeemed,
            available,
            vouchers: vouchers.len(),
            lanes: known.len(),
            created_epoch: ch.record.as_ref().map(|r| r.created_epoch),
            unsubmitted,
            deadline: deadline(phase),
            settler: store.settler_actions(&ch.robust)?,
        })
    }

    /// The newest tracked channel from `from` to `to`, preferring one that
    /// is still open; `None` if there is none.
    pub fn status_by_from_to(&self, from: &Address, to: &Address) -> Result<Option<Status>> {
        let chain = self.chain();
        chain.repo().read(|store| {
            let head = self.chain().head_in(store)?;
            let tree = chain.state(store, &head.state_root)?;
            let (Some(from_id), Some(to_id)) = (
                tree.lookup_id(from).context("cannot resolve the payer")?,
                tree.lookup_id(to).context("cannot resolve the payee")?,
            ) else {
                return Ok(None);
            };
            let mut statuses = Vec::new();
            for record in store
                .channels()?
                .into_iter()
                .filter(|r| r.from_id == from_id && r.to_id == to_id)
            {
                let ch = self.channel(store, head, &record.robust)?;
                statuses.push(self.status_of(store, head, &ch)?);
            }
            let open = statuses
                .iter()
                .rposition(|s| matches!(s.phase, Phase::Open));
            Ok(match open {
                Some(i) => Some(statuses.swap_remove(i)),
                None => statuses.pop(),
            })
        })
    }

    /// Every tracked channel's status, oldest first.
    pub fn list(&self) -> Result<Vec<Status>> {
        self.chain().repo().read(|store| {
            let head = self.chain().head_in(store)?;
            let mut out = Vec::new();
            for record in store.channels()? {
                let ch = self.channel(store, head, &record.robust)?;
                out.push(self.status_of(store, head, &ch)?);
            }
            Ok(out)
        })
    }

    /// The channel's decoded on-chain state.
    pub fn inspect(&self, channel: &Address) -> Result<Inspected> {
        self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            Ok(Inspected {
                channel: ch.robust,
                id: ch.id,
                head: head.epoch,
                collected_epoch: ch.collected_epoch(),
                on_chain: ch.on_chain,
            })
        })
    }

    /// The local bookkeeping was committed with the messages: every tracked
    /// channel not collected here is a live channel on chain, and every
    /// collected one is gone. Returns how many channels are tracked.
    pub fn check_channels(&self) -> Result<u64> {
        let chain = self.chain();
        chain.repo().read(|store| {
            let head = self.chain().head_in(store)?;
            let tree = chain.state(store, &head.state_root)?;
            let channels = store.channels()?;
            for channel in &channels {
                let live = builtin_actor(
                    &tree,
                    chain.manifest(),
                    channel.id,
                    BuiltinType::PaymentChannel,
                )
                .context("cannot load a channel actor")?
                .is_some();
                if live == channel.collected_epoch.is_some() {
                    return Err(Error::repo(format!(
                        "channel {} is {} locally but {} on chain",
                        show(&channel.robust),
                        if live { "collected" } else { "open" },
                        if live { "still exists" } else { "missing" },
                    )));
                }
            }
            Ok(channels.len() as u64)
        })
    }
}
