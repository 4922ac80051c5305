//! The payment-channel manager: Lotus's `paych` verbs over the devnet.
//!
//! Off-chain steps (voucher create/check/add/list/best-spendable) read chain
//! state and the voucher store; on-chain steps (add-funds, submit, settle,
//! collect) push one message each. Every step that changes anything runs in
//! one write unit, so the message, its receipt and the local bookkeeping are
//! committed together, and voucher nonces are allocated under the same lock.
//!
//! Lessons from Lotus built in:
//! - #2582: `check`/`add` ignore the very voucher being checked when it is
//!   already stored, and report which side the wallet is on.
//! - #2587: best-spendable skips (and reports) vouchers that would fail.
//! - #2585: vouchers belong to one channel (its robust address), never to a
//!   from/to pair, so a new channel starts with a clean voucher history.
//! - #2295/#2187: add-funds says whether it created a channel or topped one
//!   up, and always prints the channel's address and balance.
//! - #7877: status reconciles a collected (deleted) channel instead of failing.

use std::collections::BTreeMap;

use fvm_ipld_encoding::{CborStore, RawBytes};
use fvm_ipld_hamt::{BytesKey, Hamt};
use fvm_shared::address::{Address, Protocol};
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::{ActorID, HAMT_BIT_WIDTH, METHOD_SEND};
use paych_actor::ext::init::{EXEC_METHOD, ExecParams, ExecReturn, INIT_ACTOR_ID};
use paych_actor::{
    ConstructorParams, LaneState, MAX_LANE, Method, SignedVoucher, UpdateChannelStateParams,
};
use paych_client::amount::format_fil;
use paych_client::voucher;

use crate::addr::show;
use crate::devnet::{Devnet, MessageSpec, StateView, head_of};
use crate::error::{Context, Error, Result};
use crate::store::{
    AddOutcome, ChannelRecord, Head, MessageRecord, Repo, Store, VoucherOrigin, VoucherRecord,
};
use crate::vm::exit_code_name;

/// A channel as found on chain and in the local store.
#[derive(Clone, Debug)]
pub struct Channel {
    pub robust: Address,
    pub id: ActorID,
    pub record: Option<ChannelRecord>,
    /// `None` once the actor is deleted (collected).
    pub on_chain: Option<OnChain>,
}

/// A channel actor's decoded state.
#[derive(Clone, Debug)]
pub struct OnChain {
    pub state: paych_actor::State,
    pub balance: TokenAmount,
    pub from_id: ActorID,
    pub to_id: ActorID,
    /// The payer's key address (its ID address if it has no key).
    pub from: Address,
    /// The payee's key address (its ID address if it has no key).
    pub to: Address,
    pub lanes: Vec<(u64, LaneState)>,
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

    /// The on-chain state, or why there is none.
    pub fn live(&self) -> Result<&OnChain> {
        match (&self.on_chain, &self.record) {
            (Some(on_chain), _) => Ok(on_chain),
            (
                None,
                Some(ChannelRecord {
                    collected_epoch: Some(epoch),
                    ..
                }),
            ) => Err(Error::settling(format!(
                "channel {} was collected at epoch {epoch} and no longer exists",
                show(&self.robust)
            ))),
            (None, _) => Err(Error::settling(format!(
                "channel {} no longer exists on chain (it was collected)",
                show(&self.robust)
            ))),
        }
    }
}

/// Where a channel is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Open: vouchers can be created and redeemed.
    Open,
    /// Settle was called; vouchers can be redeemed until `settling_at`.
    Settling { settling_at: ChainEpoch },
    /// `settling_at` has passed: Collect can be called.
    Settled { settling_at: ChainEpoch },
    /// Collected; the actor is gone.
    Collected { epoch: Option<ChainEpoch> },
}

/// Lotus's lane view: the on-chain lanes overlaid with stored vouchers (a
/// stored voucher wins where its nonce is at least the lane's).
pub fn known_lanes<'a>(
    on_chain: &[(u64, LaneState)],
    stored: impl IntoIterator<Item = &'a SignedVoucher>,
) -> BTreeMap<u64, LaneState> {
    let mut lanes: BTreeMap<u64, LaneState> = on_chain.iter().cloned().collect();
    for v in stored {
        let lane = lanes.entry(v.lane).or_default();
        if v.nonce >= lane.nonce {
            *lane = LaneState {
                redeemed: v.amount.clone(),
                nonce: v.nonce,
            };
        }
    }
    lanes
}

fn total_redeemed(lanes: &BTreeMap<u64, LaneState>) -> TokenAmount {
    lanes
        .values()
        .fold(TokenAmount::default(), |acc, l| acc + &l.redeemed)
}

fn shortfall_error(needed: &TokenAmount, balance: &TokenAmount) -> Error {
    let shortfall = needed - balance;
    Error::insufficient_funds(format!(
        "insufficient funds in channel, shortfall: {} attoFIL ({}): the channel holds {}, vouchers would total {}",
        shortfall.atto(),
        format_fil(&shortfall),
        format_fil(balance),
        format_fil(needed)
    ))
}

/// The result of `add-funds`.
#[derive(Clone, Debug)]
pub struct FundsAdded {
    pub channel: Address,
    pub id: ActorID,
    /// Whether a new channel was created (or an existing one topped up).
    pub created: bool,
    pub amount: TokenAmount,
    pub balance: TokenAmount,
    pub message: MessageRecord,
}

/// A voucher created by `voucher create`.
#[derive(Clone, Debug)]
pub struct CreatedVoucher {
    pub channel: Address,
    pub voucher: SignedVoucher,
    /// What this voucher adds to the lane's previous best.
    pub delta: TokenAmount,
}

/// What `voucher check` / `voucher add` established.
#[derive(Clone, Debug)]
pub struct CheckedVoucher {
    pub channel: Address,
    pub voucher: SignedVoucher,
    /// How much more the payee can redeem with this voucher than with what
    /// was already known for its lane.
    pub delta: TokenAmount,
    pub payee: Address,
    pub payer: Address,
    pub payee_in_wallet: bool,
    pub payer_in_wallet: bool,
    /// How this voucher is already stored here, if it is.
    pub already_stored: Option<VoucherOrigin>,
    /// Set while the channel is settling: the last epoch to redeem.
    pub settling_at: Option<ChainEpoch>,
    /// For `add`: whether it was stored now (false for a duplicate).
    pub added: bool,
}

/// A stored voucher that best-spendable skipped, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub voucher: SignedVoucher,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct BestSpendable {
    pub channel: Address,
    /// Per lane, the highest-amount voucher that would succeed now.
    pub vouchers: Vec<SignedVoucher>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug)]
pub struct Submitted {
    pub channel: Address,
    pub voucher: SignedVoucher,
    pub message: MessageRecord,
    /// Stored vouchers newly marked as submitted (this one and lower nonces
    /// on its lane).
    pub marked: usize,
    pub to_send: TokenAmount,
}

#[derive(Clone, Debug)]
pub struct Settled {
    pub channel: Address,
    pub settling_at: ChainEpoch,
    pub message: MessageRecord,
}

#[derive(Clone, Debug)]
pub struct Collected {
    pub channel: Address,
    pub payee: Address,
    pub payer: Address,
    pub paid_to_payee: TokenAmount,
    pub returned_to_payer: TokenAmount,
    pub message: MessageRecord,
}

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
    /// Redeemed on chain so far.
    pub to_send: TokenAmount,
    /// On-chain lanes overlaid with stored vouchers.
    pub voucher_redeemed: TokenAmount,
    /// What new vouchers can still promise.
    pub available: TokenAmount,
    pub vouchers: usize,
    pub lanes: usize,
    pub created_epoch: Option<ChainEpoch>,
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

impl<R: Repo> Devnet<R> {
    /// Finds a channel by its robust or ID address.
    pub fn channel(&self, store: &dyn Store, head: Head, addr: &Address) -> Result<Channel> {
        let tree = self.state(store, &head.state_root)?;
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
            Some(actor) if self.info().code_name(&actor.code) == Some("paymentchannel") => {
                Some(self.decode_channel(&tree, &actor.state, actor.balance)?)
            }
            Some(actor) => {
                let kind = self.info().code_name(&actor.code).unwrap_or("non-built-in");
                return Err(Error::unknown_channel(format!(
                    "{} is not a payment channel (it is an actor of type {kind})",
                    show(addr)
                )));
            }
            None if record.is_some() => None,
            None => return Err(unknown()),
        };
        let robust = match (&record, addr.protocol()) {
            (Some(r), _) => r.robust,
            (None, Protocol::Actor) => *addr,
            (None, _) => self.robust_address(&tree, id)?.unwrap_or(*addr),
        };
        Ok(Channel {
            robust,
            id,
            record,
            on_chain,
        })
    }

    fn decode_channel(
        &self,
        tree: &StateView<'_>,
        state: &cid::Cid,
        balance: TokenAmount,
    ) -> Result<OnChain> {
        let blocks = tree.store();
        let state: paych_actor::State = blocks
            .get_cbor(state)
            .context("cannot load the channel state")?
            .ok_or_else(|| Error::internal("the channel state is missing"))?;
        let from_id = state
            .from
            .id()
            .map_err(|_| Error::internal("channel payer is not an ID address"))?;
        let to_id = state
            .to
            .id()
            .map_err(|_| Error::internal("channel payee is not an ID address"))?;
        let from = self.account_key(tree, from_id)?.unwrap_or(state.from);
        let to = self.account_key(tree, to_id)?.unwrap_or(state.to);
        let lanes = state
            .lanes(blocks)
            .context("cannot load the channel's lanes")?;
        Ok(OnChain {
            state,
            balance,
            from_id,
            to_id,
            from,
            to,
            lanes,
        })
    }

    /// The f2 address init assigned to actor `id`, by walking init's map.
    fn robust_address(&self, tree: &StateView<'_>, id: ActorID) -> Result<Option<Address>> {
        let Some(init) = tree.get_actor(INIT_ACTOR_ID).context("cannot load init")? else {
            return Ok(None);
        };
        let blocks = tree.store();
        let state: fvm::init_actor::State = blocks
            .get_cbor(&init.state)
            .context("cannot load init's state")?
            .ok_or_else(|| Error::internal("init's state is missing"))?;
        let map =
            Hamt::<_, ActorID>::load_with_bit_width(&state.address_map, blocks, HAMT_BIT_WIDTH)
                .context("cannot load init's address map")?;
        let mut found = None;
        map.for_each(|key: &BytesKey, value: &ActorID| {
            if *value == id
                && let Ok(addr) = Address::from_bytes(&key.0)
                && addr.protocol() == Protocol::Actor
            {
                found = Some(addr);
            }
            Ok(())
        })
        .context("cannot walk init's address map")?;
        Ok(found)
    }

    /// A key address for `addr` if it names an account (or is a key
    /// address), else `addr` itself.
    fn key_of(&self, tree: &StateView<'_>, addr: &Address) -> Result<Address> {
        if matches!(addr.protocol(), Protocol::Secp256k1 | Protocol::BLS) {
            return Ok(*addr);
        }
        match tree.lookup_id(addr).context("cannot resolve an address")? {
            Some(id) => Ok(self.account_key(tree, id)?.unwrap_or(*addr)),
            None => Ok(*addr),
        }
    }

    /// Sends `amount` to a channel: creates one (Init Exec) when there is no
    /// active from->to channel, otherwise tops the newest active one up. A
    /// settling channel is never reused.
    pub fn add_funds(
        &self,
        from: &Address,
        to: &Address,
        amount: &TokenAmount,
    ) -> Result<FundsAdded> {
        if !amount.is_positive() {
            return Err(Error::invalid("the amount must be positive"));
        }
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let tree = self.state(tx, &head.state_root)?;
            let from_key = self.key_of(&tree, from)?;
            if tx.key(&from_key)?.is_none() {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for {}: add-funds is sent by the payer",
                    show(from)
                )));
            }
            let (from_id, _) = self.lookup(&tree, &from_key)?.ok_or_else(|| {
                Error::unknown_address(format!(
                    "unknown address {}: it has no actor on chain (send it funds first)",
                    show(from)
                ))
            })?;
            if to.protocol() == Protocol::ID && self.lookup(&tree, to)?.is_none() {
                return Err(Error::unknown_address(format!(
                    "unknown address {}: no actor on chain",
                    show(to)
                )));
            }
            let to_key = self.key_of(&tree, to)?;
            let to_id = tree
                .lookup_id(&to_key)
                .context("cannot resolve the payee")?;
            drop(tree);

            let mut active = None;
            for record in tx.channels()?.into_iter().rev() {
                if record.from_id != from_id || Some(record.to_id) != to_id || record.settling {
                    continue;
                }
                if record.collected_epoch.is_some() {
                    continue;
                }
                let channel = self.channel(tx, head, &record.robust)?;
                if channel
                    .on_chain
                    .as_ref()
                    .is_some_and(|c| c.state.settling_at == 0)
                {
                    active = Some(channel);
                    break;
                }
            }

            match active {
                Some(channel) => {
                    let message = self.push(
                        tx,
                        &MessageSpec {
                            from: from_key,
                            to: channel.robust,
                            method: METHOD_SEND,
                            params: RawBytes::default(),
                            value: amount.clone(),
                        },
                    )?;
                    let balance = self.balance_at(tx, &message.state_root, channel.id)?;
                    Ok(FundsAdded {
                        channel: channel.robust,
                        id: channel.id,
                        created: false,
                        amount: amount.clone(),
                        balance,
                        message,
                    })
                }
                None => {
                    let code_cid = self.info().code("paymentchannel").ok_or_else(|| {
                        Error::internal("the bundle has no payment channel actor")
                    })?;
                    let constructor = ConstructorParams {
                        from: from_key,
                        to: to_key,
                    };
                    let params = ExecParams {
                        code_cid,
                        constructor_params: RawBytes::serialize(&constructor)
                            .context("cannot encode params")?,
                    };
                    let message = self.push(
                        tx,
                        &MessageSpec {
                            from: from_key,
                            to: Address::new_id(INIT_ACTOR_ID),
                            method: EXEC_METHOD,
                            params: RawBytes::serialize(&params).context("cannot encode params")?,
                            value: amount.clone(),
                        },
                    )?;
                    let ret: ExecReturn = fvm_ipld_encoding::from_slice(&message.return_data)
                        .context("cannot decode init's Exec return")?;
                    let id = ret
                        .id_address
                        .id()
                        .map_err(|_| Error::internal("Exec returned a non-ID address"))?;
                    let to_id = self
                        .state(tx, &message.state_root)?
                        .lookup_id(&to_key)
                        .context("cannot resolve the payee")?
                        .ok_or_else(|| {
                            Error::internal("the payee has no actor after the channel was created")
                        })?;
                    tx.put_channel(&ChannelRecord {
                        robust: ret.robust_address,
                        id,
                        from: from_key,
                        to: to_key,
                        from_id,
                        to_id,
                        created_epoch: message.epoch,
                        settling: false,
                        collected_epoch: None,
                    })?;
                    let balance = self.balance_at(tx, &message.state_root, id)?;
                    Ok(FundsAdded {
                        channel: ret.robust_address,
                        id,
                        created: true,
                        amount: amount.clone(),
                        balance,
                        message,
                    })
                }
            }
        })
    }

    fn balance_at(&self, store: &dyn Store, root: &cid::Cid, id: ActorID) -> Result<TokenAmount> {
        let tree = self.state(store, root)?;
        Ok(tree
            .get_actor(id)
            .context("cannot load an actor")?
            .map(|a| a.balance)
            .unwrap_or_default())
    }

    /// A plain value transfer (Lotus's `send`).
    pub fn send(
        &self,
        from: &Address,
        to: &Address,
        amount: &TokenAmount,
    ) -> Result<MessageRecord> {
        if !amount.is_positive() {
            return Err(Error::invalid("the amount must be positive"));
        }
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let from_key = self.key_of(&self.state(tx, &head.state_root)?, from)?;
            self.push(
                tx,
                &MessageSpec {
                    from: from_key,
                    to: *to,
                    method: METHOD_SEND,
                    params: RawBytes::default(),
                    value: amount.clone(),
                },
            )
        })
    }

    /// Creates a voucher for `amount` (cumulative) on `lane`, signed by the
    /// payer, with the next nonce for the lane; stores it.
    pub fn voucher_create(
        &self,
        channel: &Address,
        amount: &TokenAmount,
        lane: u64,
    ) -> Result<CreatedVoucher> {
        if !amount.is_positive() {
            return Err(Error::invalid("the voucher amount must be positive"));
        }
        if lane > MAX_LANE {
            return Err(Error::invalid(format!(
                "lane {lane} is too large (max 2^63-1)"
            )));
        }
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let ch = self.channel(tx, head, channel)?;
            let live = ch.live()?;
            if live.state.settling_at != 0 || ch.record.as_ref().is_some_and(|r| r.settling) {
                return Err(Error::settling(format!(
                    "channel {} is settling (settling_at {}): no new vouchers can be created",
                    show(&ch.robust),
                    live.state.settling_at
                )));
            }
            let key = tx.key(&live.from)?.ok_or_else(|| {
                Error::missing_key(format!(
                    "the wallet has no key for the channel's payer {}: only the payer creates vouchers",
                    show(&live.from)
                ))
            })?;
            let stored = tx.vouchers(&ch.robust)?;
            let lanes = known_lanes(&live.lanes, stored.iter().map(|r| &r.voucher));
            let current = lanes.get(&lane).cloned().unwrap_or_default();
            if *amount <= current.redeemed {
                return Err(Error::invalid(format!(
                    "voucher amount {} is not above lane {lane}'s current {} (amounts are cumulative per lane)",
                    format_fil(amount),
                    format_fil(&current.redeemed)
                )));
            }
            let needed = total_redeemed(&lanes) - &current.redeemed + amount;
            if needed > live.balance {
                return Err(shortfall_error(&needed, &live.balance));
            }
            let nonce = current
                .nonce
                .checked_add(1)
                .filter(|n| *n <= i64::MAX as u64)
                .ok_or_else(|| Error::invalid(format!("lane {lane} has no nonces left")))?;
            let mut sv = SignedVoucher::new(ch.robust, lane, nonce, amount.clone());
            voucher::sign(&mut sv, &key);
            let record = VoucherRecord { channel: ch.robust, voucher: sv.clone(), origin: VoucherOrigin::Created, submitted: false };
            match tx.add_voucher(&record)? {
                AddOutcome::Inserted => {}
                other => return Err(Error::internal(format!("nonce {nonce} on lane {lane} is taken: {other:?}"))),
            }
            if ch.record.is_none() {
                tx.put_channel(&record_for(&ch, live))?;
            }
            Ok(CreatedVoucher { channel: ch.robust, voucher: sv, delta: amount - &current.redeemed })
        })
    }

    /// The payee's checks of a voucher (see [`Self::voucher_add`]).
    pub fn voucher_check(&self, channel: &Address, text: &str) -> Result<CheckedVoucher> {
        let sv = decode_voucher(text)?;
        self.repo().read(|store| {
            let head = head_of(store)?;
            let ch = self.channel(store, head, channel)?;
            self.validate(store, head, &ch, &sv)
        })
    }

    /// Checks a voucher as the payee and stores it. A voucher already stored
    /// is a no-op. The wallet must hold the payee's key.
    pub fn voucher_add(&self, channel: &Address, text: &str) -> Result<CheckedVoucher> {
        let sv = decode_voucher(text)?;
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let ch = self.channel(tx, head, channel)?;
            let mut checked = self.validate(tx, head, &ch, &sv)?;
            if checked.already_stored.is_some() {
                checked.delta = TokenAmount::default();
                return Ok(checked);
            }
            if !checked.payee_in_wallet {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for the channel's payee {}: `voucher add` stores vouchers for the payee",
                    show(&checked.payee)
                )));
            }
            let record = VoucherRecord { channel: ch.robust, voucher: sv.clone(), origin: VoucherOrigin::Received, submitted: false };
            match tx.add_voucher(&record)? {
                AddOutcome::Inserted => {}
                AddOutcome::Duplicate => checked.delta = TokenAmount::default(),
                AddOutcome::Conflict(_) => {
                    return Err(Error::stale_nonce(format!(
                        "another voucher with lane {} nonce {} is already stored",
                        sv.lane, sv.nonce
                    )));
                }
            }
            if ch.record.is_none() {
                tx.put_channel(&record_for(&ch, ch.live()?))?;
            }
            checked.added = true;
            Ok(checked)
        })
    }

    /// Lotus's receiver-side checks, then a dry run of UpdateChannelState
    /// from the payee against the current state. The voucher itself, if
    /// already stored, does not count against itself (lotus #2582).
    fn validate(
        &self,
        store: &dyn Store,
        head: Head,
        ch: &Channel,
        sv: &SignedVoucher,
    ) -> Result<CheckedVoucher> {
        let live = ch.live()?;
        let voucher_channel = self
            .state(store, &head.state_root)?
            .lookup_id(&sv.channel_addr)
            .context("cannot resolve the voucher's channel")?;
        if voucher_channel != Some(ch.id) {
            return Err(Error::bad_voucher(format!(
                "voucher is for channel {}, not {}",
                show(&sv.channel_addr),
                show(&ch.robust)
            )));
        }
        if sv.extra.is_some() {
            return Err(Error::bad_voucher(
                "vouchers with an extra verification call are not supported",
            ));
        }
        if sv.time_lock_min != 0 || sv.time_lock_max != 0 {
            return Err(Error::bad_voucher(
                "vouchers with time locks are not supported",
            ));
        }
        if !sv.secret_pre_image.is_empty() {
            return Err(Error::bad_voucher(
                "vouchers with a secret hash are not supported",
            ));
        }
        if !sv.merges.is_empty() {
            return Err(Error::bad_voucher(
                "vouchers with lane merges are not supported",
            ));
        }
        check_signer(sv, &live.from, &live.to, "payer")?;
        let settling_at = (live.state.settling_at != 0).then_some(live.state.settling_at);
        if let Some(at) = settling_at
            && head.epoch + 1 >= at
        {
            return Err(Error::settling(format!(
                "channel {} settled at epoch {at}: vouchers can no longer be redeemed (collect instead)",
                show(&ch.robust)
            )));
        }

        let stored = store.vouchers(&ch.robust)?;
        let already_stored = stored.iter().find(|r| r.voucher == *sv).map(|r| r.origin);
        let others = stored
            .iter()
            .filter(|r| r.voucher != *sv)
            .map(|r| &r.voucher);
        let lanes = known_lanes(&live.lanes, others);
        if let Some(known) = lanes.get(&sv.lane) {
            if sv.nonce <= known.nonce {
                return Err(Error::stale_nonce(format!(
                    "stale nonce: lane {} is already at nonce {} ({}); this voucher has nonce {}",
                    sv.lane,
                    known.nonce,
                    format_fil(&known.redeemed),
                    sv.nonce
                )));
            }
            if sv.amount <= known.redeemed {
                return Err(Error::stale_nonce(format!(
                    "voucher amount {} is not above the {} already known for lane {}",
                    format_fil(&sv.amount),
                    format_fil(&known.redeemed),
                    sv.lane
                )));
            }
        }
        let known = lanes.get(&sv.lane).cloned().unwrap_or_default();
        let needed = total_redeemed(&lanes) - &known.redeemed + &sv.amount;
        if needed > live.balance {
            return Err(shortfall_error(&needed, &live.balance));
        }
        self.dry_run_update(head, ch, live, sv).map_err(|reason| {
            Error::rejected(format!("voucher would be rejected on chain: {reason}"))
        })?;
        Ok(CheckedVoucher {
            channel: ch.robust,
            voucher: sv.clone(),
            delta: &sv.amount - &known.redeemed,
            payee: live.to,
            payer: live.from,
            payee_in_wallet: store.key(&live.to)?.is_some(),
            payer_in_wallet: store.key(&live.from)?.is_some(),
            already_stored,
            settling_at,
            added: false,
        })
    }

    /// Runs UpdateChannelState from the payee without committing; `Err` is
    /// the chain's reason for refusing.
    fn dry_run_update(
        &self,
        head: Head,
        ch: &Channel,
        live: &OnChain,
        sv: &SignedVoucher,
    ) -> Result<(), String> {
        let params = UpdateChannelStateParams {
            sv: sv.clone(),
            secret: Vec::new(),
        };
        let params =
            RawBytes::serialize(&params).map_err(|e| format!("cannot encode the voucher: {e}"))?;
        let outcome = self
            .call(
                head,
                &Address::new_id(live.to_id),
                &Address::new_id(ch.id),
                Method::UpdateChannelState as u64,
                params,
            )
            .map_err(|e| e.to_string())?;
        if outcome.exit_code.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                exit_code_name(outcome.exit_code),
                outcome.failure.unwrap_or_default()
            ))
        }
    }

    /// The channel's stored vouchers, by lane then nonce.
    pub fn voucher_list(&self, channel: &Address) -> Result<(Channel, Vec<VoucherRecord>)> {
        self.repo().read(|store| {
            let head = head_of(store)?;
            let ch = self.channel(store, head, channel)?;
            let vouchers = store.vouchers(&ch.robust)?;
            Ok((ch, vouchers))
        })
    }

    /// For each lane, the highest-amount stored voucher (not yet submitted)
    /// that would succeed now; vouchers that would fail are skipped and
    /// reported (lotus #2587).
    pub fn best_spendable(&self, channel: &Address) -> Result<BestSpendable> {
        let (head, ch, stored) = self.repo().read(|store| {
            let head = head_of(store)?;
            let ch = self.channel(store, head, channel)?;
            let stored = store.vouchers(&ch.robust)?;
            Ok((head, ch, stored))
        })?;
        let live = ch.live()?;
        let mut best: BTreeMap<u64, SignedVoucher> = BTreeMap::new();
        let mut skipped = Vec::new();
        for record in stored.into_iter().filter(|r| !r.submitted) {
            match self.dry_run_update(head, &ch, live, &record.voucher) {
                Ok(()) => {
                    let slot = best
                        .entry(record.voucher.lane)
                        .or_insert_with(|| record.voucher.clone());
                    if record.voucher.amount > slot.amount {
                        *slot = record.voucher;
                    }
                }
                Err(reason) => skipped.push(Skipped {
                    voucher: record.voucher,
                    reason,
                }),
            }
        }
        Ok(BestSpendable {
            channel: ch.robust,
            vouchers: best.into_values().collect(),
            skipped,
        })
    }

    /// Redeems a voucher on chain: UpdateChannelState from the party that did
    /// not sign it (normally the payee). Marks it and lower nonces on its lane
    /// as submitted.
    pub fn voucher_submit(&self, channel: &Address, text: &str) -> Result<Submitted> {
        let sv = decode_voucher(text)?;
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let ch = self.channel(tx, head, channel)?;
            let live = ch.live()?;
            if self
                .state(tx, &head.state_root)?
                .lookup_id(&sv.channel_addr).context("cannot resolve the voucher's channel")? != Some(ch.id) {
                return Err(Error::bad_voucher(format!(
                    "voucher is for channel {}, not {}",
                    show(&sv.channel_addr),
                    show(&ch.robust)
                )));
            }
            let stored = tx.vouchers(&ch.robust)?;
            let existing = stored.iter().find(|r| r.voucher == sv);
            if existing.is_some_and(|r| r.submitted) {
                return Err(Error::rejected(format!(
                    "voucher (lane {}, nonce {}) was already submitted",
                    sv.lane, sv.nonce
                )));
            }
            let sender = match sv.signature {
                None => return Err(Error::bad_voucher("voucher is not signed")),
                Some(_) if voucher::is_signed_by(&sv, &live.from).unwrap_or(false) => live.to,
                Some(_) if voucher::is_signed_by(&sv, &live.to).unwrap_or(false) => live.from,
                Some(_) => return Err(wrong_signer(&sv, &live.from, "payer or payee")),
            };
            if tx.key(&sender)?.is_none() {
                let role = if sender == live.to { "payee" } else { "payer" };
                return Err(Error::missing_key(format!(
                    "the wallet has no key for the channel's {role} {}, who submits this voucher",
                    show(&sender)
                )));
            }
            if live.state.settling_at != 0 && head.epoch + 1 >= live.state.settling_at {
                return Err(Error::settling(format!(
                    "channel {} settled at epoch {}: vouchers can no longer be submitted (collect instead)",
                    show(&ch.robust),
                    live.state.settling_at
                )));
            }
            let on_chain_lane = live.lanes.iter().find(|(l, _)| *l == sv.lane).map(|(_, s)| s.clone());
            if let Some(lane) = &on_chain_lane
                && lane.nonce >= sv.nonce
            {
                return Err(Error::stale_nonce(format!(
                    "stale nonce: lane {} on chain is already at nonce {} ({} redeemed); this voucher has nonce {}",
                    sv.lane,
                    lane.nonce,
                    format_fil(&lane.redeemed),
                    sv.nonce
                )));
            }
            let redeemed = on_chain_lane.map(|l| l.redeemed).unwrap_or_default();
            let to_send = &live.state.to_send - &redeemed + &sv.amount;
            if to_send > live.balance {
                return Err(shortfall_error(&to_send, &live.balance));
            }
            let params = UpdateChannelStateParams { sv: sv.clone(), secret: Vec::new() };
            let message = self.push(
                tx,
                &MessageSpec {
                    from: sender,
                    to: ch.robust,
                    method: Method::UpdateChannelState as u64,
                    params: RawBytes::serialize(&params).context("cannot encode params")?,
                    value: TokenAmount::default(),
                },
            )?;
            if existing.is_none() {
                let record = VoucherRecord { channel: ch.robust, voucher: sv.clone(), origin: VoucherOrigin::Submitted, submitted: true };
                if let AddOutcome::Conflict(_) = tx.add_voucher(&record)? {
                    // A different voucher holds this lane and nonce locally;
                    // the chain has spoken, so it is marked below as well.
                }
            }
            let marked = tx.mark_submitted(&ch.robust, sv.lane, sv.nonce)?;
            if ch.record.is_none() {
                tx.put_channel(&record_for(&ch, live))?;
            }
            let after = self.channel(tx, Head { epoch: message.epoch, state_root: message.state_root }, &ch.robust)?;
            let to_send = after.on_chain.map(|c| c.state.to_send).unwrap_or_default();
            Ok(Submitted { channel: ch.robust, voucher: sv, message, marked, to_send })
        })
    }

    /// Starts the settle delay. Sent by `from` if given (a channel party),
    /// else by the payer if its key is here, else by the payee.
    pub fn settle(&self, channel: &Address, from: Option<&Address>) -> Result<Settled> {
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let ch = self.channel(tx, head, channel)?;
            let live = ch.live()?;
            if live.state.settling_at != 0 {
                return Err(Error::settling(format!(
                    "channel {} is already settling (settling_at {})",
                    show(&ch.robust),
                    live.state.settling_at
                )));
            }
            let sender = self.party_sender(tx, &ch, live, from, [live.from, live.to], "settle")?;
            let message = self.push(
                tx,
                &MessageSpec {
                    from: sender,
                    to: ch.robust,
                    method: Method::Settle as u64,
                    params: RawBytes::default(),
                    value: TokenAmount::default(),
                },
            )?;
            let after = self.channel(
                tx,
                Head {
                    epoch: message.epoch,
                    state_root: message.state_root,
                },
                &ch.robust,
            )?;
            let settling_at = after.live()?.state.settling_at;
            let mut record = ch.record.clone().unwrap_or_else(|| record_for(&ch, live));
            record.settling = true;
            tx.put_channel(&record)?;
            Ok(Settled {
                channel: ch.robust,
                settling_at,
                message,
            })
        })
    }

    /// Pays out a settled channel and deletes it. Sent by `from` if given,
    /// else by the payee if its key is here, else by the payer.
    pub fn collect(&self, channel: &Address, from: Option<&Address>) -> Result<Collected> {
        self.repo().write(|tx| {
            let head = head_of(tx)?;
            let ch = self.channel(tx, head, channel)?;
            let live = ch.live()?;
            let settling_at = live.state.settling_at;
            if settling_at == 0 {
                return Err(Error::collect_too_early(format!(
                    "cannot collect channel {}: it is not settling (run `paych settle` first)",
                    show(&ch.robust)
                )));
            }
            if head.epoch + 1 < settling_at {
                let wait = settling_at - 1 - head.epoch;
                return Err(Error::collect_too_early(format!(
                    "collect too early: channel {} can be collected from epoch {settling_at} (head is at epoch {}; \
                     run `paych chain advance {wait}`)",
                    show(&ch.robust),
                    head.epoch
                )));
            }
            let sender = self.party_sender(tx, &ch, live, from, [live.to, live.from], "collect")?;
            let paid = live.state.to_send.clone();
            let message = self.push(
                tx,
                &MessageSpec {
                    from: sender,
                    to: ch.robust,
                    method: Method::Collect as u64,
                    params: RawBytes::default(),
                    value: TokenAmount::default(),
                },
            )?;
            let mut record = ch.record.clone().unwrap_or_else(|| record_for(&ch, live));
            record.settling = true;
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
    /// key is here), else the first of `preference` whose key is here.
    fn party_sender(
        &self,
        tx: &dyn Store,
        ch: &Channel,
        live: &OnChain,
        from: Option<&Address>,
        preference: [Address; 2],
        verb: &str,
    ) -> Result<Address> {
        if let Some(from) = from {
            let tree = self.state(tx, &head_of(tx)?.state_root)?;
            let key = self.key_of(&tree, from)?;
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
        for candidate in preference {
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

    /// The channel's status, reconciled with the chain: a collected channel
    /// reports as collected, not as an error (lotus #7877).
    pub fn status(&self, channel: &Address) -> Result<Status> {
        self.repo().read(|store| {
            let head = head_of(store)?;
            let ch = self.channel(store, head, channel)?;
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
        let (phase, balance, to_send, lanes) = match &ch.on_chain {
            Some(live) => {
                let at = live.state.settling_at;
                let phase = match at {
                    0 => Phase::Open,
                    at if head.epoch + 1 >= at => Phase::Settled { settling_at: at },
                    at => Phase::Settling { settling_at: at },
                };
                (
                    phase,
                    live.balance.clone(),
                    live.state.to_send.clone(),
                    live.lanes.clone(),
                )
            }
            None => (
                Phase::Collected {
                    epoch: ch.record.as_ref().and_then(|r| r.collected_epoch),
                },
                TokenAmount::default(),
                TokenAmount::default(),
                Vec::new(),
            ),
        };
        let known = known_lanes(&lanes, vouchers.iter().map(|r| &r.voucher));
        let voucher_redeemed = total_redeemed(&known);
        let available = if matches!(phase, Phase::Collected { .. }) {
            TokenAmount::default()
        } else {
            (&balance - &voucher_redeemed).max(TokenAmount::default())
        };
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
            to_send,
            voucher_redeemed,
            available,
            vouchers: vouchers.len(),
            lanes: known.len(),
            created_epoch: ch.record.as_ref().map(|r| r.created_epoch),
        })
    }

    /// The newest tracked channel from `from` to `to`, preferring one that
    /// is still open; `None` if there is none.
    pub fn status_by_from_to(&self, from: &Address, to: &Address) -> Result<Option<Status>> {
        self.repo().read(|store| {
            let head = head_of(store)?;
            let tree = self.state(store, &head.state_root)?;
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
        self.repo().read(|store| {
            let head = head_of(store)?;
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
        self.repo().read(|store| {
            let head = head_of(store)?;
            let ch = self.channel(store, head, channel)?;
            Ok(Inspected {
                channel: ch.robust,
                id: ch.id,
                head: head.epoch,
                collected_epoch: ch.record.as_ref().and_then(|r| r.collected_epoch),
                on_chain: ch.on_chain,
            })
        })
    }
}

/// The local record for a channel first seen on chain.
fn record_for(ch: &Channel, live: &OnChain) -> ChannelRecord {
    ChannelRecord {
        robust: ch.robust,
        id: ch.id,
        from: live.from,
        to: live.to,
        from_id: live.from_id,
        to_id: live.to_id,
        created_epoch: 0,
        settling: live.state.settling_at != 0,
        collected_epoch: None,
    }
}

/// Decodes Lotus's voucher text; bad text is a `bad_voucher` error.
pub fn decode_voucher(text: &str) -> Result<SignedVoucher> {
    voucher::decode(text).map_err(|e| Error::bad_voucher(format!("bad voucher text: {e}")))
}

/// Who signed a voucher, when it can be told from the signature alone
/// (secp256k1 signatures recover their signer).
pub fn recover_signer(sv: &SignedVoucher) -> Option<Address> {
    let sig = sv.signature.as_ref()?;
    if sig.sig_type != fvm_shared::crypto::signature::SignatureType::Secp256k1 {
        return None;
    }
    let bytes = sv.signing_bytes().ok()?;
    paych_client::keys::recover_secp256k1(&sig.bytes, &bytes)
}

fn wrong_signer(sv: &SignedVoucher, expected: &Address, role: &str) -> Error {
    match recover_signer(sv) {
        Some(signer) => Error::wrong_signer(format!(
            "wrong signer: the voucher is signed by {}, not by the channel's {role} {}",
            show(&signer),
            show(expected)
        )),
        None => Error::wrong_signer(format!(
            "wrong signer: the voucher's signature is not the channel's {role}'s ({})",
            show(expected)
        )),
    }
}

fn check_signer(sv: &SignedVoucher, payer: &Address, payee: &Address, role: &str) -> Result<()> {
    if sv.signature.is_none() {
        return Err(Error::bad_voucher("voucher is not signed"));
    }
    if voucher::is_signed_by(sv, payer).unwrap_or(false) {
        return Ok(());
    }
    if voucher::is_signed_by(sv, payee).unwrap_or(false) {
        return Err(Error::wrong_signer(format!(
            "wrong signer: the voucher is signed by the payee {}, not by the payer {}",
            show(payee),
            show(payer)
        )));
    }
    Err(wrong_signer(sv, payer, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(redeemed: u64, nonce: u64) -> LaneState {
        LaneState {
            redeemed: TokenAmount::from_atto(redeemed),
            nonce,
        }
    }

    fn voucher(lane: u64, nonce: u64, amount: u64) -> SignedVoucher {
        SignedVoucher::new(
            Address::new_id(100),
            lane,
            nonce,
            TokenAmount::from_atto(amount),
        )
    }

    #[test]
    fn stored_vouchers_overlay_on_chain_lanes_by_nonce() {
        let on_chain = [(0, lane(5, 3)), (1, lane(2, 1))];
        let stored = [voucher(0, 2, 4), voucher(0, 4, 9), voucher(2, 1, 1)];
        let lanes = known_lanes(&on_chain, stored.iter());
        assert_eq!(lanes[&0], lane(9, 4), "a higher stored nonce wins");
        assert_eq!(
            lanes[&1],
            lane(2, 1),
            "untouched lanes keep the chain's view"
        );
        assert_eq!(lanes[&2], lane(1, 1), "a lane only known locally appears");
        assert_eq!(total_redeemed(&lanes), TokenAmount::from_atto(12));
    }

    #[test]
    fn an_older_stored_voucher_never_lowers_a_lane() {
        let lanes = known_lanes(&[(0, lane(5, 3))], [voucher(0, 2, 4)].iter());
        assert_eq!(lanes[&0], lane(5, 3));
    }

    #[test]
    fn shortfall_is_reported_in_attofil() {
        let err = shortfall_error(&TokenAmount::from_whole(12), &TokenAmount::from_whole(10));
        assert!(
            err.message().starts_with(
                "insufficient funds in channel, shortfall: 2000000000000000000 attoFIL"
            )
        );
        assert_eq!(err.kind(), crate::ErrorKind::InsufficientFunds);
    }
}
