//! The chain: genesis, head, time, state reads, and messages that are
//! estimated, signed, checked as a message pool checks them, executed in the
//! next epoch and committed together with their receipt.

use std::str::FromStr;

use cid::Cid;
use fvm::executor::ApplyKind;
use fvm::state_tree::{ActorState, StateTree};
use fvm_ipld_encoding::{CborStore, RawBytes};
use fvm_shared::address::{Address, Payload, Protocol};
use fvm_shared::bigint::BigInt;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::SignatureType;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use fvm_shared::version::NetworkVersion;
use fvm_shared::{ActorID, MethodNum};
use paych_bundle::Bundle;
use paych_client::amount::format_fil;
use paych_client::{Key, KeyType};

use crate::blocks::{ReadOnly, StoreBlocks};
use crate::error::{Context, Error, Result};
use crate::genesis;
use crate::message::{
    BLOCK_GAS_LIMIT, GAS_OVERESTIMATION_PERCENT, MAX_MESSAGE_SIZE, SignedMessage,
};
use crate::store::{Head, MessageRecord, Repo, Store};
use crate::vm::{ChainConfig, Outcome, Vm, exit_code_name};
use crate::{addr, meta};

/// The devnet's fixed base fee: 100 attoFIL per unit of gas, the minimum
/// base fee on Filecoin (and ref-fvm's integration tester's default).
pub const DEFAULT_BASE_FEE_ATTO: u64 = 100;
/// The network version new repositories run (the harness uses the same).
pub const DEFAULT_NETWORK_VERSION: u32 = 27;
/// Funded accounts in a new repository, and their balance in FIL.
pub const DEFAULT_ACCOUNTS: usize = 3;
pub const DEFAULT_ACCOUNT_FIL: u64 = 1000;

/// How to build a genesis.
#[derive(Clone)]
pub struct GenesisOptions {
    pub accounts: usize,
    pub balance: TokenAmount,
    pub key_type: KeyType,
    pub network_version: NetworkVersion,
    pub base_fee: TokenAmount,
    pub bundle: Bundle,
    /// UNIX time of epoch 0; now when `None`.
    pub timestamp: Option<u64>,
}

impl Default for GenesisOptions {
    fn default() -> Self {
        Self {
            accounts: DEFAULT_ACCOUNTS,
            balance: TokenAmount::from_whole(DEFAULT_ACCOUNT_FIL),
            key_type: KeyType::Secp256k1,
            network_version: NetworkVersion::new(DEFAULT_NETWORK_VERSION),
            base_fee: TokenAmount::from_atto(DEFAULT_BASE_FEE_ATTO),
            bundle: Bundle::devnet(),
            timestamp: None,
        }
    }
}

/// What a repository's chain is, read once when it is opened.
#[derive(Clone, Debug)]
pub struct ChainInfo {
    pub config: ChainConfig,
    pub genesis_root: Cid,
    pub total_supply: TokenAmount,
    pub bundle_origin: String,
    /// The manifest's entries: actor type name and code CID.
    pub codes: Vec<(String, Cid)>,
}

impl ChainInfo {
    pub fn code(&self, name: &str) -> Option<Cid> {
        self.codes.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
    }

    pub fn code_name(&self, code: &Cid) -> Option<&str> {
        self.codes
            .iter()
            .find(|(_, c)| c == code)
            .map(|(n, _)| n.as_str())
    }
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

/// A devnet over a repository.
pub struct Devnet<R: Repo> {
    repo: R,
    vm: Vm,
    info: ChainInfo,
}

/// The state tree at some root, read through a unit of work.
pub type StateView<'a> = StateTree<StoreBlocks<'a>>;

impl<R: Repo> Devnet<R> {
    /// Creates the genesis in an empty repository.
    pub fn init(repo: R, options: GenesisOptions) -> Result<Self> {
        let created = repo.write(|store| {
            if store.meta(meta::MANIFEST)?.is_some() {
                return Ok(false);
            }
            write_genesis(store, &options)?;
            Ok(true)
        })?;
        if !created {
            return Err(Error::repo("the repository is already initialized"));
        }
        Self::open(repo)
    }

    /// Opens an initialized repository.
    pub fn open(repo: R) -> Result<Self> {
        let info = repo.read(|store| load_info(store))?;
        let blocks = ReadOnly(repo.blocks());
        let codes = load_manifest(&blocks, &info.config.manifest)?;
        let info = ChainInfo { codes, ..info };
        let vm = Vm::new(info.config.clone())?;
        Ok(Self { repo, vm, info })
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
        let options = options()?;
        let created = repo.write(|store| {
            if store.meta(meta::MANIFEST)?.is_some() {
                return Ok(false);
            }
            write_genesis(store, &options)?;
            Ok(true)
        })?;
        Ok((Self::open(repo)?, created))
    }

    pub fn repo(&self) -> &R {
        &self.repo
    }

    pub fn info(&self) -> &ChainInfo {
        &self.info
    }

    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    pub fn blocks(&self) -> ReadOnly {
        ReadOnly(self.repo.blocks())
    }

    pub fn head(&self) -> Result<Head> {
        self.repo.read(head_of)
    }

    /// The state tree at `root`, read through `store` (which sees its own
    /// uncommitted blocks).
    pub fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>> {
        StateTree::new_from_root(StoreBlocks(store), root).context("cannot load the state tree")
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
            store.set_head(&next)?;
            Ok(next)
        })
    }

    /// The actor an address names, if it exists.
    pub fn lookup(
        &self,
        tree: &StateView<'_>,
        addr: &Address,
    ) -> Result<Option<(ActorID, ActorState)>> {
        let Some(id) = tree.lookup_id(addr).context("cannot resolve an address")? else {
            return Ok(None);
        };
        Ok(tree
            .get_actor(id)
            .context("cannot load an actor")?
            .map(|actor| (id, actor)))
    }

    /// The key address behind an account actor.
    pub fn account_key(&self, tree: &StateView<'_>, id: ActorID) -> Result<Option<Address>> {
        let Some(actor) = tree.get_actor(id).context("cannot load an actor")? else {
            return Ok(None);
        };
        if self.info.code_name(&actor.code) != Some("account") {
            return Ok(None);
        }
        let state: Option<fvm::account_actor::State> = tree
            .store()
            .get_cbor(&actor.state)
            .context("cannot load an account's state")?;
        Ok(state
            .map(|s| s.address)
            .filter(|a| matches!(a.protocol(), Protocol::Secp256k1 | Protocol::BLS)))
    }

    /// An address's balance. Key addresses that have never received funds
    /// have a balance of zero; ID and actor addresses must exist.
    pub fn balance(&self, addr: &Address) -> Result<TokenAmount> {
        self.repo.read(|store| self.balance_in(store, addr))
    }

    /// [`Self::balance`] inside a unit of work.
    pub fn balance_in(&self, store: &dyn Store, addr: &Address) -> Result<TokenAmount> {
        let head = head_of(store)?;
        let tree = self.state(store, &head.state_root)?;
        match self.lookup(&tree, addr)? {
            Some((_, actor)) => Ok(actor.balance),
            None if matches!(
                addr.protocol(),
                Protocol::Secp256k1 | Protocol::BLS | Protocol::Delegated
            ) =>
            {
                Ok(TokenAmount::default())
            }
            None => Err(Error::unknown_address(format!(
                "unknown address {}: no actor on chain",
                addr::show(addr)
            ))),
        }
    }

    /// Estimates, signs and applies a message inside the write unit `tx`.
    /// Nothing is written unless it succeeds.
    pub fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord> {
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
        let mut message = Message {
            version: 0,
            from: spec.from,
            to: spec.to,
            sequence: sender.sequence,
            value: spec.value.clone(),
            method_num: spec.method,
            params: spec.params.clone(),
            gas_limit: BLOCK_GAS_LIMIT,
            gas_fee_cap: TokenAmount::default(),
            gas_premium: TokenAmount::default(),
        };
        message.gas_limit = self.estimate_gas(head, &message, &key)?;
        message.gas_fee_cap = self.info.config.base_fee.clone();
        let signed = SignedMessage::sign(message, &key);
        self.submit(tx, &signed)
    }

    /// Lotus's gas estimate: the gas a dry run of the message uses (at the
    /// block gas limit, on a throwaway copy of the state), times 1.25.
    pub fn estimate_gas(&self, head: Head, message: &Message, key: &Key) -> Result<u64> {
        let mut trial = message.clone();
        trial.gas_limit = BLOCK_GAS_LIMIT;
        trial.gas_fee_cap = TokenAmount::default();
        let length = SignedMessage::sign(trial.clone(), key).chain_length();
        let executed =
            self.vm
                .execute(self.repo.blocks(), head, trial, ApplyKind::Explicit, length)?;
        check_outcome(&executed.outcome)?;
        let estimate = executed
            .outcome
            .gas_used
            .saturating_mul(GAS_OVERESTIMATION_PERCENT)
            .div_ceil(100);
        Ok(estimate.min(BLOCK_GAS_LIMIT))
    }

    /// Checks a signed message as a message pool would, applies it in the
    /// next epoch and writes the blocks, head and receipt into `tx`.
    pub fn submit(&self, tx: &mut dyn Store, signed: &SignedMessage) -> Result<MessageRecord> {
        let head = head_of(tx)?;
        self.check_message(&self.state(tx, &head.state_root)?, signed)?;
        let executed = self.vm.execute(
            self.repo.blocks(),
            head,
            signed.message.clone(),
            ApplyKind::Explicit,
            signed.chain_length(),
        )?;
        check_outcome(&executed.outcome)?;
        let outcome = executed.outcome;
        let mut record = MessageRecord {
            seq: 0,
            epoch: executed.epoch,
            cid: signed.cid(),
            message: signed.message.clone(),
            signature: signed.signature.clone(),
            exit_code: outcome.exit_code.value(),
            return_data: outcome.return_data,
            gas_used: outcome.gas_used,
            base_fee_burn: outcome.base_fee_burn,
            over_estimation_burn: outcome.over_estimation_burn,
            miner_tip: outcome.miner_tip,
            refund: outcome.refund,
            state_root: executed.state_root,
        };
        tx.put_blocks(&executed.blocks)?;
        tx.set_head(&Head {
            epoch: executed.epoch,
            state_root: executed.state_root,
        })?;
        record.seq = tx.record_message(&record)?;
        Ok(record)
    }

    /// The checks Lotus's message pool makes before accepting a message.
    pub fn check_message(&self, tree: &StateView<'_>, signed: &SignedMessage) -> Result<()> {
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
        let prices = fvm::gas::price_list_by_network_version(self.info.config.network_version);
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
        let base_fee = &self.info.config.base_fee;
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
        if m.sequence != sender.sequence {
            return Err(Error::rejected(format!(
                "message nonce {} does not match the sender's next nonce {}",
                m.sequence, sender.sequence
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

    /// Runs a message against the current state without committing anything
    /// (Lotus's `StateCall`): no signature, nonce or gas payment involved.
    pub fn call(
        &self,
        head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Outcome> {
        let message = Message {
            version: 0,
            from: *from,
            to: *to,
            sequence: 0,
            value: TokenAmount::default(),
            method_num: method,
            params,
            gas_limit: BLOCK_GAS_LIMIT,
            gas_fee_cap: TokenAmount::default(),
            gas_premium: TokenAmount::default(),
        };
        Ok(self
            .vm
            .execute(self.repo.blocks(), head, message, ApplyKind::Implicit, 0)?
            .outcome)
    }

    /// The most recent messages, oldest first.
    pub fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>> {
        self.repo.read(|s| s.messages(limit))
    }

    /// Checks the repository's chain for consistency: the head's state
    /// loads, it is the state the last receipt produced, and no FIL was
    /// created or lost (every actor's balance adds up to the genesis supply).
    pub fn verify(&self) -> Result<Verified> {
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
        // The local bookkeeping was committed with the messages: every
        // tracked channel not collected here is a live channel on chain, and
        // every collected one is gone.
        let channels = self.repo.read(|store| {
            let tree = self.state(store, &head.state_root)?;
            let channels = store.channels()?;
            for channel in &channels {
                let actor = tree
                    .get_actor(channel.id)
                    .context("cannot load a channel actor")?;
                let live = actor
                    .as_ref()
                    .is_some_and(|a| self.info.code_name(&a.code) == Some("paymentchannel"));
                if live == channel.collected_epoch.is_some() {
                    return Err(Error::repo(format!(
                        "channel {} is {} locally but {} on chain",
                        addr::show(&channel.robust),
                        if live { "collected" } else { "open" },
                        if live { "still exists" } else { "missing" },
                    )));
                }
            }
            Ok(channels.len() as u64)
        })?;
        Ok(Verified {
            head,
            messages: count,
            actors,
            channels,
            total_balance: total,
        })
    }
}

/// What [`Devnet::verify`] found.
#[derive(Clone, Debug)]
pub struct Verified {
    pub head: Head,
    pub messages: u64,
    pub actors: u64,
    /// Tracked channels, each consistent with the chain.
    pub channels: u64,
    pub total_balance: TokenAmount,
}

/// A failed execution as one error line.
fn check_outcome(outcome: &Outcome) -> Result<()> {
    if outcome.exit_code == ExitCode::OK {
        return Ok(());
    }
    let why = outcome
        .failure
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("no details");
    Err(Error::rejected(format!(
        "message would fail on chain with {}: {why}",
        exit_code_name(outcome.exit_code)
    )))
}

pub(crate) fn head_of(store: &dyn Store) -> Result<Head> {
    store
        .head()?
        .ok_or_else(|| Error::repo("the repository has no head (not initialized)"))
}

fn write_genesis(store: &mut dyn Store, options: &GenesisOptions) -> Result<()> {
    if options.accounts > 1000 {
        return Err(Error::invalid("at most 1000 genesis accounts"));
    }
    if options.balance.is_negative() {
        return Err(Error::invalid("genesis balances cannot be negative"));
    }
    let nv = u32::from(options.network_version);
    if !(21..=29).contains(&nv) {
        return Err(Error::invalid(format!(
            "network version {nv} is not supported (21 to 29)"
        )));
    }
    let keys: Vec<Key> = (0..options.accounts)
        .map(|_| Key::generate(options.key_type))
        .collect();
    let genesis = genesis::build(&options.bundle, &keys, &options.balance)?;
    let timestamp = options.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    store.put_blocks(&genesis.blocks)?;
    store.set_head(&Head {
        epoch: 0,
        state_root: genesis.state_root,
    })?;
    for key in &keys {
        store.put_key(key)?;
    }
    if let Some(first) = keys.first() {
        store.set_meta(meta::DEFAULT_KEY, &addr::show(&first.address()))?;
    }
    store.set_meta(meta::NETWORK_VERSION, &nv.to_string())?;
    store.set_meta(meta::BASE_FEE, &options.base_fee.atto().to_string())?;
    store.set_meta(meta::GENESIS_TIMESTAMP, &timestamp.to_string())?;
    store.set_meta(meta::GENESIS_ROOT, &genesis.state_root.to_string())?;
    store.set_meta(meta::TOTAL_SUPPLY, &genesis.total_supply.atto().to_string())?;
    store.set_meta(meta::BUNDLE_ORIGIN, options.bundle.origin())?;
    // Written last: its presence marks the repository as initialized.
    store.set_meta(meta::MANIFEST, &genesis.manifest.to_string())?;
    Ok(())
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
        codes: Vec::new(),
    })
}

fn load_manifest(blocks: &ReadOnly, manifest: &Cid) -> Result<Vec<(String, Cid)>> {
    let (version, data): (u32, Cid) = blocks
        .get_cbor(manifest)
        .context("cannot read the actor manifest")?
        .ok_or_else(|| Error::repo("the actor manifest is missing from the repository"))?;
    if version != 1 {
        return Err(Error::repo(format!(
            "unsupported manifest version {version}"
        )));
    }
    blocks
        .get_cbor(&data)
        .context("cannot read the actor manifest")?
        .ok_or_else(|| Error::repo("the actor manifest data is missing from the repository"))
}

/// Whether an address is an ID address.
pub fn is_id(addr: &Address) -> bool {
    matches!(addr.payload(), Payload::ID(_))
}
