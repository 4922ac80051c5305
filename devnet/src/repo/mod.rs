//! The devnet's repository, behind traits: a [`Repo`] opens read or write
//! units of work over a [`Store`], which holds everything the devnet keeps:
//! settings, blocks, the head, the applied messages with their receipts, the
//! wallet, and the payment-channel manager's bookkeeping (tracked channels
//! and the voucher store). Blocks are written through the store and read
//! through the repo's [`BlockSource`].
//!
//! A write unit is atomic and exclusive: everything it does is committed
//! together or not at all, and no other writer (thread or process) runs
//! meanwhile. [`sqlite::SqliteRepo`] is the real one; [`memory::MemoryRepo`]
//! is for tests.

pub mod memory;
pub mod meta;
pub mod sqlite;

use std::sync::Arc;

use actor_interfaces::BuiltinType;
use anyhow::anyhow;
use cid::Cid;
use fvm_ipld_blockstore::Blockstore;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use paych_actor::SignedVoucher;
use paych_chain::blocks::BlockSource;
use paych_chain::{Head, Receipt, SignedMessage};
use paych_client::Key;

use crate::block::BlockHeader;
use crate::error::Result;

/// An applied message and its receipt.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRecord {
    /// Position in the chain's history (1-based; assigned by the store).
    pub seq: u64,
    /// The epoch the message was executed in.
    pub epoch: ChainEpoch,
    /// The message's CID (the signed message's for secp256k1 senders).
    pub cid: Cid,
    pub message: Message,
    pub signature: Signature,
    /// The built-in type of the receiving actor when the message was applied
    /// (`None` for a user actor, an address with no actor yet, or a record
    /// written before the devnet kept it).
    pub callee: Option<BuiltinType>,
    pub receipt: Receipt,
    /// The state root after this message.
    pub state_root: Cid,
}

impl MessageRecord {
    /// The method's name on the receiving actor, as Lotus prints it.
    pub fn method_name(&self) -> String {
        paych_chain::receipt::method_name(self.callee, self.message.method_num)
    }
}

/// A block the devnet produced, as its history keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainBlock {
    pub cid: Cid,
    pub header: BlockHeader,
    /// The messages it applied, in order.
    pub messages: Vec<Cid>,
}

/// What the settler did about one voucher of a settling inbound channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlerAction {
    pub channel: Address,
    /// The head the settler acted at.
    pub epoch: ChainEpoch,
    /// The channel's `settling_at`: the deadline it acted before.
    pub settling_at: ChainEpoch,
    pub lane: u64,
    pub nonce: u64,
    pub amount: TokenAmount,
    /// The UpdateChannelState message, when it was sent.
    pub message: Option<Cid>,
    /// `None` when the voucher was redeemed; else why it was not.
    pub failure: Option<String>,
}

impl SettlerAction {
    /// One line on what the settler did, for logs and `status`.
    pub fn describe(&self) -> String {
        let what = format!(
            "lane {} nonce {} ({}) of channel {}",
            self.lane,
            self.nonce,
            paych_client::amount::format_fil(&self.amount),
            crate::addr::show(&self.channel)
        );
        match (&self.message, &self.failure) {
            (Some(cid), _) => format!(
                "at epoch {} redeemed {what} before epoch {}: message {cid}",
                self.epoch, self.settling_at
            ),
            (None, failure) => format!(
                "at epoch {} could not redeem {what}: {}",
                self.epoch,
                failure.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

/// A payment channel this repository tracks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRecord {
    /// The robust (f2/t2) address, the channel's name.
    pub robust: Address,
    pub id: ActorID,
    /// The payer's key (or other non-ID) address.
    pub from: Address,
    /// The payee's key (or other non-ID) address.
    pub to: Address,
    pub from_id: ActorID,
    pub to_id: ActorID,
    pub created_epoch: ChainEpoch,
    /// Settle was sent from this repository (the chain's own `settling_at`
    /// says whether anyone settled it).
    pub settle_sent: bool,
    /// The epoch the channel was collected (and its actor deleted), if known.
    pub collected_epoch: Option<ChainEpoch>,
    /// Funds added to the channel from here, confirmed on chain (Lotus's
    /// `ConfirmedAmt`).
    pub amount: TokenAmount,
    /// The part of `amount` not reserved for vouchers about to be created
    /// (Lotus's `NonReservedAmt`).
    pub available: TokenAmount,
    /// The next lane `lane allocate` hands out.
    pub next_lane: u64,
}

/// How a voucher came to be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoucherOrigin {
    /// Created (and signed) by this wallet as the payer.
    Created,
    /// Received and accepted with `voucher add`.
    Received,
    /// First seen when submitted from here.
    Submitted,
}

impl VoucherOrigin {
    pub fn name(self) -> &'static str {
        match self {
            VoucherOrigin::Created => "created",
            VoucherOrigin::Received => "received",
            VoucherOrigin::Submitted => "submitted",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "created" => Some(VoucherOrigin::Created),
            "received" => Some(VoucherOrigin::Received),
            "submitted" => Some(VoucherOrigin::Submitted),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VoucherRecord {
    /// The channel's robust address.
    pub channel: Address,
    pub voucher: SignedVoucher,
    pub origin: VoucherOrigin,
    pub submitted: bool,
}

impl VoucherRecord {
    /// A voucher stored as it arrives: submitted only if that is how it
    /// arrived.
    pub fn new(channel: Address, voucher: SignedVoucher, origin: VoucherOrigin) -> Self {
        Self {
            channel,
            voucher,
            origin,
            submitted: origin == VoucherOrigin::Submitted,
        }
    }
}

/// What storing a voucher did.
#[derive(Clone, Debug, PartialEq)]
pub enum AddOutcome {
    Inserted,
    /// This exact voucher was already stored.
    Duplicate,
    /// A different voucher with the same lane and nonce is stored.
    Conflict(Box<SignedVoucher>),
}

/// One unit of work's view of the repository.
pub trait Store {
    fn meta(&self, key: &str) -> Result<Option<String>>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;

    /// A block, including those written in this unit.
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>>;
    /// Stores blocks (already keyed by their CIDs). Existing blocks are kept.
    fn put_blocks(&mut self, blocks: &[(Cid, Vec<u8>)]) -> Result<()>;

    fn head(&self) -> Result<Option<Head>>;
    fn set_head(&mut self, head: &Head) -> Result<()>;

    /// Appends a message; returns its sequence number.
    fn record_message(&mut self, record: &MessageRecord) -> Result<u64>;
    /// The most recent `limit` messages, oldest first.
    fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>>;
    fn message_count(&self) -> Result<u64>;
    /// The applied message with this CID.
    fn message_by_cid(&self, cid: &Cid) -> Result<Option<MessageRecord>>;
    /// Keeps a message's encoded execution trace (see
    /// `paych_chain::trace::MessageTrace::encode`), by its sequence number.
    fn put_trace(&mut self, seq: u64, trace: &[u8]) -> Result<()>;

    /// Adds a signed message to the message pool (it waits there for the
    /// next block).
    fn pool_push(&mut self, message: &SignedMessage) -> Result<()>;
    /// The pool, oldest first.
    fn pool(&self) -> Result<Vec<SignedMessage>>;
    /// Takes messages (by CID) out of the pool.
    fn pool_remove(&mut self, cids: &[Cid]) -> Result<()>;

    /// Records a block the devnet produced.
    fn put_chain_block(&mut self, block: &ChainBlock) -> Result<()>;
    /// The block at `epoch`, if one was produced there.
    fn chain_block_at(&self, epoch: ChainEpoch) -> Result<Option<ChainBlock>>;
    fn chain_block(&self, cid: &Cid) -> Result<Option<ChainBlock>>;
    /// The newest block.
    fn latest_chain_block(&self) -> Result<Option<ChainBlock>>;
    /// The encoded execution trace of message `seq`, if it was kept.
    fn trace(&self, seq: u64) -> Result<Option<Vec<u8>>>;

    /// Stores a key; `false` if it was already there.
    fn put_key(&mut self, key: &Key) -> Result<bool>;
    fn key(&self, addr: &Address) -> Result<Option<Key>>;
    /// Every key, in the order they were added.
    fn keys(&self) -> Result<Vec<Key>>;

    /// Inserts or replaces the channel with this robust address.
    fn put_channel(&mut self, channel: &ChannelRecord) -> Result<()>;
    fn channel_by_id(&self, id: ActorID) -> Result<Option<ChannelRecord>>;
    /// Every tracked channel, in the order they were first stored.
    fn channels(&self) -> Result<Vec<ChannelRecord>>;

    fn add_voucher(&mut self, record: &VoucherRecord) -> Result<AddOutcome>;
    /// The channel's vouchers, by lane then nonce.
    fn vouchers(&self, channel: &Address) -> Result<Vec<VoucherRecord>>;
    /// Marks every voucher on `lane` with a nonce up to `nonce` submitted;
    /// returns how many changed.
    fn mark_submitted(&mut self, channel: &Address, lane: u64, nonce: u64) -> Result<usize>;

    /// Records what the settler did.
    fn record_settler_action(&mut self, action: &SettlerAction) -> Result<()>;
    /// What the settler did for `channel`, oldest first.
    fn settler_actions(&self, channel: &Address) -> Result<Vec<SettlerAction>>;
}

/// A repository: units of work over a [`Store`], and committed blocks.
pub trait Repo: Send + Sync {
    /// Runs `f` over a consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T>;
    /// Runs `f` exclusively; commits if it returns `Ok`, rolls back otherwise.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T>;
    /// Committed blocks.
    fn blocks(&self) -> Arc<dyn BlockSource>;
    /// The storage engine's own consistency check.
    fn check_integrity(&self) -> Result<()>;
}

/// The blocks a unit of work sees (its own writes included), for decoding
/// state inside that unit.
pub struct StoreBlocks<'a> {
    store: &'a dyn Store,
    /// Where blocks the store lacks come from (a lite node's full node).
    fallback: Option<Arc<dyn BlockSource>>,
}

impl<'a> StoreBlocks<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Self {
            store,
            fallback: None,
        }
    }

    /// Reads `store` first, then `fallback`.
    pub fn with_fallback(store: &'a dyn Store, fallback: Arc<dyn BlockSource>) -> Self {
        Self {
            store,
            fallback: Some(fallback),
        }
    }
}

impl Blockstore for StoreBlocks<'_> {
    fn get(&self, k: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        match self.store.get_block(k).map_err(anyhow::Error::new)? {
            Some(block) => Ok(Some(block)),
            None => match &self.fallback {
                Some(source) => source.get_block(k),
                None => Ok(None),
            },
        }
    }

    fn put_keyed(&self, k: &Cid, _block: &[u8]) -> anyhow::Result<()> {
        Err(anyhow!("state views are read-only: refusing to write {k}"))
    }
}

/// SQLite integers are signed; lanes and nonces above i64::MAX are refused
/// before they reach the store.
pub fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| {
        crate::error::Error::invalid(format!("{what} {value} is too large (max 2^63-1)"))
    })
}
