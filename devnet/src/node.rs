//! The devnet's chain node over a repository: genesis, the head and time,
//! state reads, and messages that are estimated, signed, checked as a message
//! pool checks them ([`crate::pool`]), executed in the next epoch and
//! committed together with their receipt.

use std::str::FromStr;

use cid::Cid;
use fvm::executor::ApplyKind;
use fvm::state_tree::StateTree;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::bigint::BigInt;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::{Signature, SignatureType};
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::version::NetworkVersion;
use fvm_shared::{METHOD_SEND, MethodNum};
use paych_bundle::Manifest;
use paych_chain::config::BLOCK_GAS_LIMIT;
use paych_chain::machine::{Included, MachineOptions, execute_block, execute_next};
use paych_chain::message::{GAS_OVERESTIMATION_PERCENT, new_message};
use paych_chain::receipt::exit_code_name;
use paych_chain::trace::MessageTrace;
use paych_chain::{ChainConfig, Head, Receipt, SignedMessage};
use paych_client::amount::format_fil;

use serde::Serialize;

use crate::addr;
use crate::block::record_block;
use crate::chain_node::ChainNode;
use crate::error::{Context, Error, Result};
use crate::genesis::{GenesisOptions, write_genesis};
use crate::repo::{MessageRecord, Repo, Store, StoreBlocks, meta};

/// What a repository's chain is, read once when it is opened.
#[derive(Clone, Debug)]
pub struct ChainInfo {
    pub config: ChainConfig,
    pub genesis_root: Cid,
    pub total_supply: TokenAmount,
    pub bundle_origin: String,
    pub manifest: Manifest,
}

/// What to send.
#[derive(Clone, Debug)]
pub struct MessageSpec {
    /// The sender's key address; the wallet must hold its key.
    pub from: Address,
    pub to: Address,
    pub method: MethodNum,
    pub params: RawBytes,
    pub value: TokenAmount,
}

impl MessageSpec {
    /// A plain value transfer (method 0).
    pub fn transfer(from: Address, to: Address, value: TokenAmount) -> Self {
        Self {
            from,
            to,
            method: METHOD_SEND,
            params: RawBytes::default(),
            value,
        }
    }

    /// A call of `method` with no value attached.
    pub fn call(from: Address, to: Address, method: MethodNum, params: RawBytes) -> Self {
        Self {
            from,
            to,
            method,
            params,
            value: TokenAmount::default(),
        }
    }
}

/// The state tree at some root, read through a unit of work.
pub type StateView<'a> = StateTree<StoreBlocks<'a>>;

/// A devnet over a repository.
pub struct Devnet<R: Repo> {
    repo: R,
    info: ChainInfo,
}

impl<R: Repo> Devnet<R> {
    /// Creates the genesis in an empty repository.
    pub fn init(repo: R, options: GenesisOptions) -> Result<Self> {
        if !init_if_empty(&repo, &options)? {
            return Err(Error::repo("the repository is already initialized"));
        }
        Self::open(repo)
    }

    /// Opens an initialized repository.
    pub fn open(repo: R) -> Result<Self> {
        let info = repo.read(load_info)?;
        Ok(Self { repo, info })
    }

    /// Opens the repository, creating its genesis first if it has none.
    /// Returns whether it was created.
    pub fn open_or_init(
        repo: R,
        options: impl FnOnce() -> Result<GenesisOptions>,
    ) -> Result<(Self, bool)> {
        let initialized = repo.read(|store| Ok(store.meta(meta::MANIFEST)?.is_some()))?;
        if initialized {
            return Ok((Self::open(repo)?, false));
        }
        let created = init_if_empty(&repo, &options()?)?;
        Ok((Self::open(repo)?, created))
    }

    pub fn repo(&self) -> &R {
        &self.repo
    }

    pub fn info(&self) -> &ChainInfo {
        &self.info
    }

    pub fn head(&self) -> Result<Head> {
        self.repo.read(head_of)
    }

    /// The state tree at `root`, read through `store` (which sees its own
    /// uncommitted blocks).
    pub fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>> {
        StateTree::new_from_root(StoreBlocks::new(store), root)
            .context("cannot load the state tree")
    }

    /// Moves time forward without messages.
    pub fn advance(&self, epochs: ChainEpoch) -> Result<Head> {
        if !(1..=1_000_000_000).contains(&epochs) {
            return Err(Error::invalid(format!(
                "epochs must be between 1 and 1000000000, got {epochs}"
            )));
        }
        self.repo.write(|store| {
            let head = head_of(store)?;
            let next = Head {
                epoch: head.epoch + epochs,
                state_root: head.state_root,
            };
            // The epochs in between are null rounds; the new head has an
            // empty block.
            record_block(
                store,
                next.epoch,
                next.state_root,
                &[],
                self.info.config.timestamp(next.epoch),
                &self.info.config.base_fee,
            )?;
            store.set_head(&next)?;
            Ok(next)
        })
    }

    /// Estimates, signs and applies a message inside the write unit `tx`
    /// (in a block with whatever the pool held). Nothing is written unless
    /// it succeeds.
    pub fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord> {
        let signed = self.sign_new(tx, spec)?;
        self.submit(tx, &signed)
    }

    /// A message from a wallet address, with the sender's next nonce (after
    /// its pooled messages), a gas limit from a dry run on top of the pool,
    /// and the base fee as fee cap, signed by the wallet: what Lotus's
    /// `MpoolPushMessage` builds.
    pub fn sign_new(&self, tx: &dyn Store, spec: &MessageSpec) -> Result<SignedMessage> {
        let key = tx.key(&spec.from)?.ok_or_else(|| {
            Error::missing_key(format!(
                "the wallet has no key for {}",
                addr::show(&spec.from)
            ))
        })?;
        let head = head_of(tx)?;
        let sender = {
            let tree = self.state(tx, &head.state_root)?;
            let (_, sender) = self.lookup(&tree, &spec.from)?.ok_or_else(|| {
                Error::unknown_address(format!(
                    "unknown address {}: it has no actor on chain (send it funds first)",
                    addr::show(&spec.from)
                ))
            })?;
            sender
        };
        if spec.value.is_negative() {
            return Err(Error::invalid("a message cannot send a negative amount"));
        }
        if sender.balance < spec.value {
            return Err(Error::insufficient_funds(format!(
                "insufficient funds: {} has {}, cannot send {} (plus gas)",
                addr::show(&spec.from),
                format_fil(&sender.balance),
                format_fil(&spec.value)
            )));
        }
        let mut message = new_message(
            spec.from,
            spec.to,
            self.next_nonce(tx, &spec.from)?,
            spec.method,
            spec.params.clone(),
            spec.value.clone(),
        );
        message.gas_limit = 0;
        self.fill_gas(tx, &mut message, signature_type(&key))?;
        Ok(SignedMessage::sign(message, &key))
    }

    /// The nonce of `addr`'s next message: its actor's, after the messages
    /// it has waiting in the pool (Lotus's `MpoolGetNonce`).
    pub fn next_nonce(&self, store: &dyn Store, addr: &Address) -> Result<u64> {
        let head = head_of(store)?;
        let tree = self.state(store, &head.state_root)?;
        let Some((id, actor)) = self.lookup(&tree, addr)? else {
            return Ok(0);
        };
        Ok(actor.sequence + crate::pool::pending_from(&store.pool()?, &tree, id)?)
    }

    /// Lotus's `GasEstimateMessageGas`: a zero fee cap becomes the base fee
    /// (or the premium, if that is higher), a zero gas limit the estimate
    /// for a sender signing with `sig_type`.
    pub fn fill_gas(
        &self,
        store: &dyn Store,
        message: &mut fvm_shared::message::Message,
        sig_type: SignatureType,
    ) -> Result<()> {
        if message.gas_fee_cap.is_zero() {
            message.gas_fee_cap = self
                .info
                .config
                .base_fee
                .clone()
                .max(message.gas_premium.clone());
        }
        if message.gas_limit == 0 {
            message.gas_limit = self.estimate_gas(store, message, sig_type)?;
        }
        Ok(())
    }

    /// Lotus's gas estimate: the gas a dry run of the message uses (at the
    /// block gas limit, on top of the pooled messages, nothing committed),
    /// times 1.25.
    pub fn estimate_gas(
        &self,
        store: &dyn Store,
        message: &fvm_shared::message::Message,
        sig_type: SignatureType,
    ) -> Result<u64> {
        let mut trial = message.clone();
        trial.gas_limit = BLOCK_GAS_LIMIT;
        trial.gas_fee_cap = TokenAmount::default();
        // The inclusion cost counts the signature's length, not its bytes.
        let length = SignedMessage {
            message: trial.clone(),
            signature: Signature {
                sig_type,
                bytes: vec![0; signature_length(sig_type)],
            },
        }
        .chain_length();
        let mut messages = included(&store.pool()?);
        messages.push(Included {
            message: trial,
            kind: ApplyKind::Explicit,
            inclusion_length: length,
        });
        let block = execute_block(
            &self.info.config,
            self.repo.blocks(),
            head_of(store)?,
            messages,
            MachineOptions::default(),
        )
        .context("cannot estimate the message's gas")?;
        let receipt = &block
            .applied
            .last()
            .ok_or_else(|| Error::internal("the estimate applied nothing"))?
            .receipt;
        check_receipt(receipt)?;
        let estimate = receipt
            .gas_used
            .saturating_mul(GAS_OVERESTIMATION_PERCENT)
            .div_ceil(100);
        Ok(estimate.min(BLOCK_GAS_LIMIT))
    }

    /// Checks a signed message as a message pool would and applies it now, in
    /// a block with whatever the pool held, written into `tx`; a message that
    /// would fail on chain is refused (nothing is written).
    pub fn submit(&self, tx: &mut dyn Store, signed: &SignedMessage) -> Result<MessageRecord> {
        self.check_pooled(tx, signed)?;
        let cid = signed.cid();
        let records = self.produce_block(tx, Some(signed))?;
        let record = records
            .into_iter()
            .find(|r| r.cid == cid)
            .ok_or_else(|| Error::internal("the block did not apply the message"))?;
        check_receipt(&record.receipt)?;
        Ok(record)
    }

    /// Lotus's `MpoolPushMessage`, in `tx`: gives `message` its sender's
    /// next nonce and, where zero, a fee cap (the base fee) and a gas limit
    /// (estimated); signs it with the wallet's key for the sender; pools it.
    pub fn pool_message(
        &self,
        tx: &mut dyn Store,
        mut message: fvm_shared::message::Message,
    ) -> Result<SignedMessage> {
        let head = head_of(tx)?;
        let from_key = self.key_address(&self.state(tx, &head.state_root)?, &message.from)?;
        let key = tx.key(&from_key)?.ok_or_else(|| {
            Error::missing_key(format!(
                "the wallet has no key for the sender {}",
                addr::show(&message.from)
            ))
        })?;
        message.sequence = self.next_nonce(tx, &message.from)?;
        self.fill_gas(tx, &mut message, signature_type(&key))?;
        let signed = SignedMessage::sign(message, &key);
        self.pool_push(tx, &signed)?;
        Ok(signed)
    }

    /// Checks a signed message as a message pool would and adds it to the
    /// pool (Lotus's `MpoolPush`): the next block applies it.
    pub fn pool_push(&self, tx: &mut dyn Store, signed: &SignedMessage) -> Result<Cid> {
        self.check_pooled(tx, signed)?;
        if tx.message_by_cid(&signed.cid())?.is_some() {
            return Err(Error::rejected("the message is already on chain"));
        }
        tx.pool_push(signed)?;
        Ok(signed.cid())
    }

    fn check_pooled(&self, tx: &dyn Store, signed: &SignedMessage) -> Result<()> {
        let head = head_of(tx)?;
        let pending = tx.pool()?;
        if pending.iter().any(|m| m.cid() == signed.cid()) {
            return Err(Error::rejected("the message is already in the pool"));
        }
        self.check_message(&self.state(tx, &head.state_root)?, &pending, signed)
    }

    /// Produces the next block, in `tx`: every pooled message (and `extra`)
    /// applied in order in the epoch after the head, each with its receipt
    /// (a failing message is included and charged, as on chain), trace and
    /// the state root it left; the pool emptied; the head moved. With nothing
    /// to apply the block is empty and only time moves.
    pub fn produce_block(
        &self,
        tx: &mut dyn Store,
        extra: Option<&SignedMessage>,
    ) -> Result<Vec<MessageRecord>> {
        let head = head_of(tx)?;
        let mut messages = tx.pool()?;
        messages.extend(extra.cloned());
        if messages.is_empty() {
            // Nothing to execute: the state stays as it is (the devnet has no
            // cron), only time moves.
            let epoch = head.epoch + 1;
            record_block(
                tx,
                epoch,
                head.state_root,
                &[],
                self.info.config.timestamp(epoch),
                &self.info.config.base_fee,
            )?;
            tx.set_head(&Head {
                epoch,
                state_root: head.state_root,
            })?;
            return Ok(Vec::new());
        }
        let callees = {
            let tree = self.state(tx, &head.state_root)?;
            let mut callees = Vec::with_capacity(messages.len());
            for m in &messages {
                callees.push(
                    self.lookup(&tree, &m.message.to)?
                        .and_then(|(_, actor)| self.builtin_type(&actor.code)),
                );
            }
            callees
        };
        let block = execute_block(
            &self.info.config,
            self.repo.blocks(),
            head,
            included(&messages),
            // The trace is kept with each message (`paych chain trace`);
            // tracing changes no receipt or gas.
            MachineOptions {
                tracing: true,
                ..MachineOptions::default()
            },
        )
        .context("cannot execute the block")?;
        tx.put_blocks(&block.blocks)?;
        let mut records = Vec::with_capacity(messages.len());
        for ((signed, callee), applied) in messages.iter().zip(callees).zip(block.applied) {
            let trace = MessageTrace::from_events(&applied.trace)
                .and_then(|t| t.encode())
                .context("cannot encode the execution trace")?;
            let mut record = MessageRecord {
                seq: 0,
                epoch: block.epoch,
                cid: signed.cid(),
                message: signed.message.clone(),
                signature: signed.signature.clone(),
                callee,
                receipt: applied.receipt,
                state_root: applied.state_root,
            };
            record.seq = tx.record_message(&record)?;
            tx.put_trace(record.seq, &trace)?;
            records.push(record);
        }
        let cids: Vec<Cid> = records.iter().map(|r| r.cid).collect();
        tx.pool_remove(&cids)?;
        record_block(
            tx,
            block.epoch,
            block.state_root,
            &cids,
            self.info.config.timestamp(block.epoch),
            &self.info.config.base_fee,
        )?;
        tx.set_head(&Head {
            epoch: block.epoch,
            state_root: block.state_root,
        })?;
        Ok(records)
    }

    /// Runs a message against the state at `head` without committing anything
    /// (Lotus's `StateCall`): no signature, nonce or gas payment involved.
    pub fn call(
        &self,
        head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Receipt> {
        let message = new_message(*from, *to, 0, method, params, TokenAmount::default());
        Ok(self.execute(head, message, ApplyKind::Implicit, 0)?.receipt)
    }

    fn execute(
        &self,
        head: Head,
        message: fvm_shared::message::Message,
        kind: ApplyKind,
        inclusion_length: usize,
    ) -> Result<paych_chain::machine::Executed> {
        execute_next(
            &self.info.config,
            self.repo.blocks(),
            head,
            message,
            kind,
            inclusion_length,
            MachineOptions::default(),
        )
        .context("cannot execute the message")
    }

    /// The most recent messages, oldest first.
    pub fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>> {
        self.repo.read(|s| s.messages(limit))
    }

    /// How many messages the chain has applied.
    pub fn message_count(&self) -> Result<u64> {
        self.repo.read(|s| s.message_count())
    }

    /// Checks the repository's chain for consistency: the storage engine's
    /// own check passes, the head's state loads, it is the state the last
    /// receipt produced, and no FIL was created or lost (every actor's balance
    /// adds up to the genesis supply).
    pub fn verify(&self) -> Result<Verified> {
        self.repo.check_integrity()?;
        let (head, last, count) = self
            .repo
            .read(|s| Ok((head_of(s)?, s.messages(1)?.pop(), s.message_count()?)))?;
        let expected_root = last
            .as_ref()
            .map(|m| m.state_root)
            .unwrap_or(self.info.genesis_root);
        if head.state_root != expected_root {
            return Err(Error::repo(format!(
                "head state root {} is not the last receipt's state root {expected_root}",
                head.state_root
            )));
        }
        if let Some(last) = &last
            && last.epoch > head.epoch
        {
            return Err(Error::repo(format!(
                "head epoch {} is before the last message's epoch {}",
                head.epoch, last.epoch
            )));
        }
        let (total, actors) = self.repo.read(|store| {
            let tree = self.state(store, &head.state_root)?;
            let mut total = TokenAmount::default();
            let mut actors = 0u64;
            tree.for_each(|_, actor| {
                total += &actor.balance;
                actors += 1;
                Ok(())
            })
            .context("cannot walk the state tree")?;
            Ok((total, actors))
        })?;
        if total != self.info.total_supply {
            return Err(Error::repo(format!(
                "balances add up to {}, not the genesis supply {}",
                format_fil(&total),
                format_fil(&self.info.total_supply)
            )));
        }
        Ok(Verified {
            head,
            messages: count,
            actors,
            total_balance: total,
        })
    }
}

/// The result of [`Devnet::send`].
#[derive(Clone, Debug, Serialize)]
pub struct Sent {
    pub message: MessageRecord,
}

/// What [`Devnet::verify`] found.
#[derive(Clone, Debug)]
pub struct Verified {
    pub head: Head,
    pub messages: u64,
    pub actors: u64,
    pub total_balance: TokenAmount,
}

impl<R: Repo> ChainNode for Devnet<R> {
    type Repo = R;

    fn repo(&self) -> &R {
        &self.repo
    }

    fn manifest(&self) -> &Manifest {
        &self.info.manifest
    }

    fn head_in(&self, store: &dyn Store) -> Result<Head> {
        head_of(store)
    }

    fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>> {
        Devnet::state(self, store, root)
    }

    fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord> {
        Devnet::push(self, tx, spec)
    }

    fn call(
        &self,
        head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Receipt> {
        Devnet::call(self, head, from, to, method, params)
    }
}

/// A devnet in a repository directory on disk.
pub type LocalDevnet = Devnet<crate::SqliteRepo>;

impl LocalDevnet {
    /// Opens the initialized repository in `dir`.
    pub fn open_dir(dir: &std::path::Path) -> Result<Self> {
        Self::open(devnet_repo(dir)?)
    }

    /// Creates the repository in `dir` with a new genesis.
    pub fn init_dir(dir: &std::path::Path, options: GenesisOptions) -> Result<Self> {
        Self::init(devnet_repo(dir)?, options)
    }

    /// Opens the repository in `dir`, creating it first if needed; returns
    /// whether it was created.
    pub fn open_or_init_dir(
        dir: &std::path::Path,
        options: impl FnOnce() -> Result<GenesisOptions>,
    ) -> Result<(Self, bool)> {
        Self::open_or_init(devnet_repo(dir)?, options)
    }
}

/// The repository in `dir`, refused if it is a lite node's (which has no
/// chain of its own: a genesis there would be a second, unrelated chain).
fn devnet_repo(dir: &std::path::Path) -> Result<crate::SqliteRepo> {
    let repo = crate::SqliteRepo::open(dir)?;
    if let Some(full) = repo.read(|s| s.meta(meta::LITE_FULL_NODE))? {
        return Err(Error::repo(format!(
            "the repo at {} is a lite node's (its full node is {full}): start it with `paych daemon --lite --repo {}` and run commands through it",
            dir.display(),
            dir.display()
        )));
    }
    Ok(repo)
}

/// Messages as a block includes them: explicit, inclusion gas on their
/// chain length.
fn included(messages: &[SignedMessage]) -> Vec<Included> {
    messages
        .iter()
        .map(|m| Included {
            message: m.message.clone(),
            kind: ApplyKind::Explicit,
            inclusion_length: m.chain_length(),
        })
        .collect()
}

/// A failed execution as one error line.
fn check_receipt(receipt: &Receipt) -> Result<()> {
    if receipt.exit_code == ExitCode::OK {
        return Ok(());
    }
    let why = receipt
        .failure
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("no details");
    Err(Error::rejected(format!(
        "message would fail on chain with {}: {why}",
        exit_code_name(receipt.exit_code)
    )))
}

/// The head of the chain a unit of work sees.
pub fn head_of(store: &dyn Store) -> Result<Head> {
    store
        .head()?
        .ok_or_else(|| Error::repo("the repository has no head (not initialized)"))
}

/// Writes the genesis unless the repository already has one; returns whether
/// it wrote it.
fn init_if_empty<R: Repo>(repo: &R, options: &GenesisOptions) -> Result<bool> {
    repo.write(|store| {
        if store.meta(meta::MANIFEST)?.is_some() {
            return Ok(false);
        }
        write_genesis(store, options)?;
        Ok(true)
    })
}

fn load_info(store: &dyn Store) -> Result<ChainInfo> {
    let get = |key: &str| -> Result<String> {
        store.meta(key)?.ok_or_else(|| {
            Error::repo("the repository is not initialized (run `paych devnet init`)".to_string())
        })
    };
    let corrupt = |key: &str| Error::repo(format!("corrupt repository setting {key}"));
    let manifest = Cid::from_str(&get(meta::MANIFEST)?).map_err(|_| corrupt(meta::MANIFEST))?;
    let nv: u32 = get(meta::NETWORK_VERSION)?
        .parse()
        .map_err(|_| corrupt(meta::NETWORK_VERSION))?;
    let amount = |key: &str| -> Result<TokenAmount> {
        Ok(TokenAmount::from_atto(
            BigInt::from_str(&get(key)?).map_err(|_| corrupt(key))?,
        ))
    };
    Ok(ChainInfo {
        config: ChainConfig {
            network_version: NetworkVersion::new(nv),
            manifest,
            base_fee: amount(meta::BASE_FEE)?,
            genesis_timestamp: get(meta::GENESIS_TIMESTAMP)?
                .parse()
                .map_err(|_| corrupt(meta::GENESIS_TIMESTAMP))?,
        },
        genesis_root: Cid::from_str(&get(meta::GENESIS_ROOT)?)
            .map_err(|_| corrupt(meta::GENESIS_ROOT))?,
        total_supply: amount(meta::TOTAL_SUPPLY)?,
        bundle_origin: get(meta::BUNDLE_ORIGIN)?,
        manifest: Manifest::load(&StoreBlocks::new(store), &manifest)
            .context("cannot read the actor manifest")?,
    })
}

/// The length of a signature of `sig_type` (secp256k1 with its recovery
/// byte; BLS).
pub fn signature_length(sig_type: SignatureType) -> usize {
    match sig_type {
        SignatureType::Secp256k1 => 65,
        SignatureType::BLS => 96,
    }
}

/// The signature type a wallet key signs with.
pub fn signature_type(key: &paych_client::Key) -> SignatureType {
    match key.kind() {
        paych_client::KeyType::Secp256k1 => SignatureType::Secp256k1,
        paych_client::KeyType::Bls => SignatureType::BLS,
    }
}
