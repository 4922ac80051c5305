//! The full node: the devnet behind Lotus's API. It owns the repository
//! while it runs; it produces blocks from its message pool, tells
//! `ChainNotify` subscribers and `StateWaitMsg` callers about every block,
//! and runs the settler for its own wallet on every block.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use actor_interfaces::BuiltinType;
use actor_interfaces::builtin::INIT_ACTOR_ID;
use actor_interfaces::init::{EXEC_METHOD, ExecReturn};
use cid::Cid;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::MethodNum;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::clock::ChainEpoch;
use fvm_shared::message::Message;
use paych_bundle::Manifest;
use paych_chain::state::PaychState;
use paych_chain::{Head, Receipt, SignedMessage};
use paych_devnet::addr::show;
use paych_devnet::repo::{ChainBlock, MessageRecord, SettlerAction};
use paych_devnet::{
    ChainNode, Context, Error, ErrorKind, LocalDevnet, MessageSpec, Repo, Result, SqliteRepo,
    StateView, Store, WalletOps, head_of,
};
use paych_manager::PaychManager;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::api::{Node, method_error};
use crate::chain_json;
use crate::jsonrpc::{ACTOR_NOT_FOUND, RpcError};
use crate::lotus_json::{Bytes, ToLotus};
use crate::rpc::{Params, RpcResult};
use crate::server::Feed;

/// How long `StateWaitMsg` waits for a message before giving up.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// The full node over a devnet repository.
pub struct FullNode {
    net: LocalDevnet,
    heads: Arc<Heads>,
    /// Wakes the block producer when a message is pooled.
    pooled: Arc<(Mutex<bool>, Condvar)>,
    /// One settler pass at a time.
    settler: Mutex<()>,
}

/// The head as the node last observed it: waiters wait on it, subscribers
/// get each new block.
pub struct Heads {
    /// The newest block observed.
    latest: Mutex<Option<ChainBlock>>,
    changed: Condvar,
    feed: broadcast::Sender<Value>,
}

impl Feed for Heads {
    fn subscribe(&self) -> std::result::Result<(Value, broadcast::Receiver<Value>), RpcError> {
        // Under the lock `observe` moves the head and broadcasts under.
        let latest = self.latest.lock().expect("heads lock");
        match latest.as_ref() {
            Some(block) => Ok((
                chain_json::head_change("current", block),
                self.feed.subscribe(),
            )),
            None => Err(RpcError::method("the node has not observed its head yet")),
        }
    }
}

impl FullNode {
    pub fn new(net: LocalDevnet) -> Result<Self> {
        let latest = net.repo().read(|s| s.latest_chain_block())?;
        Ok(Self {
            net,
            heads: Arc::new(Heads {
                latest: Mutex::new(latest),
                changed: Condvar::new(),
                feed: broadcast::channel(256).0,
            }),
            pooled: Arc::new((Mutex::new(false), Condvar::new())),
            settler: Mutex::new(()),
        })
    }

    pub fn devnet(&self) -> &LocalDevnet {
        &self.net
    }

    /// The feed `ChainNotify` streams.
    pub fn heads(&self) -> Arc<Heads> {
        self.heads.clone()
    }

    /// Notices blocks produced since the last look (by the producer, by a
    /// Paych* call, by a command): each goes to the subscribers as `apply`,
    /// in order, and the waiters wake. Then the settler looks at the new
    /// head.
    pub fn observe(&self) -> Result<()> {
        let newest = self.net.repo().read(|s| s.latest_chain_block())?;
        let Some(newest) = newest else {
            return Ok(());
        };
        {
            // The head moves and its blocks are broadcast under one lock:
            // two observers never interleave their blocks, and a new
            // subscriber gets each block either as `current` or as `apply`.
            let mut latest = self.heads.latest.lock().expect("heads lock");
            let from = latest.as_ref().map(|b| b.header.height).unwrap_or(-1);
            if newest.header.height <= from {
                return Ok(());
            }
            let mut applied = Vec::new();
            for epoch in from + 1..=newest.header.height {
                if let Some(block) = self.net.repo().read(|s| s.chain_block_at(epoch))? {
                    applied.push(block);
                }
            }
            *latest = Some(newest);
            for block in &applied {
                // Nobody listening is fine.
                let _ = self
                    .heads
                    .feed
                    .send(chain_json::head_change("apply", block));
            }
        }
        self.heads.changed.notify_all();
        self.protect();
        Ok(())
    }

    /// One settler pass; what it did goes to the log (and the repository).
    pub fn protect(&self) -> Vec<SettlerAction> {
        let _pass = self.settler.lock().expect("settler lock");
        match PaychManager::new(self).protect() {
            Ok(actions) => {
                log_actions(&actions);
                actions
            }
            Err(e) => {
                eprintln!("settler: {e}");
                Vec::new()
            }
        }
    }

    /// Produces one block from the pool (empty if the pool is).
    pub fn produce_block(&self) -> Result<Vec<MessageRecord>> {
        self.net.repo().write(|tx| self.net.produce_block(tx, None))
    }

    /// Whether messages wait in the pool.
    pub fn pool_is_empty(&self) -> Result<bool> {
        Ok(self.net.repo().read(|s| s.pool())?.is_empty())
    }

    /// Waits (up to `timeout`) for a message to be pooled.
    pub fn wait_pooled(&self, timeout: Duration) {
        let (flag, signal) = &*self.pooled;
        let guard = flag.lock().expect("pool signal lock");
        let (mut guard, _) = signal
            .wait_timeout_while(guard, timeout, |pooled| !*pooled)
            .expect("pool signal lock");
        *guard = false;
    }

    fn signal_pooled(&self) {
        let (flag, signal) = &*self.pooled;
        *flag.lock().expect("pool signal lock") = true;
        signal.notify_all();
    }

    /// Moves the chain `epochs` forward one block at a time, each observed
    /// (and so seen by the settler) before the next: a jump past a
    /// channel's `settling_at` never skips the payee's chance to redeem.
    pub fn advance(&self, epochs: ChainEpoch) -> Result<Head> {
        if !(1..=1_000_000).contains(&epochs) {
            return Err(Error::invalid(format!(
                "epochs must be between 1 and 1000000 on a node (blocks are produced one by one), got {epochs}"
            )));
        }
        let target = self.net.head()?.epoch + epochs;
        loop {
            let head = self.net.head()?;
            if head.epoch >= target {
                return Ok(head);
            }
            self.produce_block()?;
            self.observe()?;
        }
    }

    /// Waits until the message `cid` is in a block.
    fn wait_message(&self, cid: &Cid) -> Result<(MessageRecord, Option<ChainBlock>)> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            if let Some(found) = self.find_message(cid)? {
                return Ok(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::internal(format!(
                    "timed out waiting for message {cid}"
                )));
            }
            let latest = self.heads.latest.lock().expect("heads lock");
            let _ = self
                .heads
                .changed
                .wait_timeout(latest, (deadline - now).min(Duration::from_millis(500)))
                .expect("heads lock");
        }
    }

    fn find_message(&self, cid: &Cid) -> Result<Option<(MessageRecord, Option<ChainBlock>)>> {
        self.net.repo().read(|s| {
            let Some(record) = s.message_by_cid(cid)? else {
                return Ok(None);
            };
            let block = s.chain_block_at(record.epoch)?;
            Ok(Some((record, block)))
        })
    }

    /// The head a `TipSetKey` names: the current one for `[]`/null.
    fn head_at(&self, store: &dyn Store, key: &[Cid]) -> Result<Head> {
        match key {
            [] => head_of(store),
            [cid] => match store.chain_block(cid)? {
                Some(block) => Ok(Head {
                    epoch: block.header.height,
                    state_root: block.header.parent_state_root,
                }),
                None => Err(Error::invalid(format!("loading tipset [{cid}]: not found"))),
            },
            _ => Err(Error::invalid(
                "loading tipset: the devnet's tipsets have one block",
            )),
        }
    }

    /// Runs `f` over the state at the tipset `p[i]` names.
    fn with_state<T>(
        &self,
        p: &Params,
        i: usize,
        f: impl FnOnce(&StateView<'_>) -> Result<T>,
    ) -> std::result::Result<T, RpcError> {
        let key: Vec<Cid> = p.opt(i)?.unwrap_or_default();
        self.net
            .repo()
            .read(|store| {
                let head = self.head_at(store, &key)?;
                let tree = self.net.state(store, &head.state_root)?;
                f(&tree)
            })
            .map_err(method_error)
    }

    fn state_call(&self, message: Message, key: Vec<Cid>) -> RpcResult {
        let head = self
            .net
            .repo()
            .read(|s| self.head_at(s, &key))
            .map_err(method_error)?;
        let started = Instant::now();
        let receipt = self
            .net
            .call(
                head,
                &message.from,
                &message.to,
                message.method_num,
                message.params.clone(),
            )
            .map_err(method_error)?;
        Ok(invoc_result(&message, &receipt, started.elapsed()))
    }
}

/// Lotus's `InvocResult` for a dry run.
fn invoc_result(message: &Message, receipt: &Receipt, took: Duration) -> Value {
    let error = if receipt.exit_code.is_success() {
        String::new()
    } else {
        format!(
            "message execution failed: exit {}, reason: {}",
            receipt.exit_code.value(),
            receipt.failure.clone().unwrap_or_default()
        )
    };
    json!({
        "MsgCid": paych_chain::message::message_cid(message).to_lotus(),
        "Msg": message.to_lotus(),
        "MsgRct": chain_json::receipt(receipt),
        "GasCost": null,
        "ExecutionTrace": null,
        "Error": error,
        "Duration": took.as_nanos() as u64,
    })
}

/// `ReturnDec` for `StateWaitMsg`: Init's Exec return decoded.
fn return_dec(record: &MessageRecord) -> Value {
    let to_init = record.message.to == Address::new_id(INIT_ACTOR_ID);
    if !(to_init
        && record.message.method_num == EXEC_METHOD
        && record.receipt.exit_code.is_success())
    {
        return Value::Null;
    }
    match fvm_ipld_encoding::from_slice::<ExecReturn>(&record.receipt.return_data) {
        Ok(ret) => json!({
            "IDAddress": ret.id_address.to_lotus(),
            "RobustAddress": ret.robust_address.to_lotus(),
        }),
        Err(_) => Value::Null,
    }
}

pub(crate) fn log_actions(actions: &[SettlerAction]) {
    for action in actions {
        eprintln!("settler: {}", action.describe());
    }
}

impl ChainNode for FullNode {
    type Repo = SqliteRepo;

    fn repo(&self) -> &SqliteRepo {
        self.net.repo()
    }

    fn manifest(&self) -> &Manifest {
        self.net.manifest()
    }

    fn head_in(&self, store: &dyn Store) -> Result<Head> {
        self.net.head_in(store)
    }

    fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>> {
        self.net.state(store, root)
    }

    fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord> {
        self.net.push(tx, spec)
    }

    fn call(
        &self,
        head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Receipt> {
        ChainNode::call(&self.net, head, from, to, method, params)
    }
}

impl Node for FullNode {
    fn push_message(&self, message: Message) -> Result<SignedMessage> {
        let signed = self
            .net
            .repo()
            .write(|tx| self.net.pool_message(tx, message))?;
        self.signal_pooled();
        Ok(signed)
    }

    fn chain_method(&self, name: &str, p: Params) -> RpcResult {
        match name {
            "ChainHead" => {
                let block = self
                    .net
                    .repo()
                    .read(|s| s.latest_chain_block())
                    .map_err(method_error)?
                    .ok_or_else(|| RpcError::method("the chain has no blocks"))?;
                Ok(chain_json::tipset(&block))
            }
            "ChainGetTipSet" => {
                let key: Vec<Cid> = p.opt(0)?.unwrap_or_default();
                let block = self
                    .net
                    .repo()
                    .read(|s| match key.as_slice() {
                        [] => s.latest_chain_block(),
                        [cid] => s.chain_block(cid),
                        _ => Ok(None),
                    })
                    .map_err(method_error)?;
                match block {
                    Some(block) => Ok(chain_json::tipset(&block)),
                    None => Err(RpcError::method(format!(
                        "loading tipset {}: not found",
                        Value::from(key.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                    ))),
                }
            }
            "ChainReadObj" => {
                let cid: Cid = p.get(0)?;
                match self.net.repo().blocks().get_block(&cid) {
                    Ok(Some(bytes)) => Ok(Bytes(bytes).to_lotus()),
                    Ok(None) => Err(RpcError::method(format!(
                        "blockstore: block not found: {cid}"
                    ))),
                    Err(e) => Err(RpcError::method(format!("reading {cid}: {e}"))),
                }
            }
            "ChainHasObj" => {
                let cid: Cid = p.get(0)?;
                let has = self
                    .net
                    .repo()
                    .blocks()
                    .get_block(&cid)
                    .map_err(|e| RpcError::method(e.to_string()))?
                    .is_some();
                Ok(json!(has))
            }
            "StateGetActor" => {
                let addr: Address = p.get(0)?;
                let actor = self.with_state(&p, 1, |tree| self.lookup(tree, &addr))?;
                match actor {
                    Some((_, actor)) => Ok(chain_json::actor(&actor)),
                    None => Err(RpcError::method(format!(
                        "actor not found: {}",
                        show(&addr)
                    ))),
                }
            }
            "StateReadState" => {
                let addr: Address = p.get(0)?;
                self.with_state(&p, 1, |tree| {
                    let Some((id, actor)) = self.lookup(tree, &addr)? else {
                        return Err(Error::unknown_address(format!(
                            "actor not found: {}",
                            show(&addr)
                        )));
                    };
                    let state = match self.builtin_type(&actor.code) {
                        Some(BuiltinType::PaymentChannel) => {
                            let paych = PaychState::decode(
                                tree.store(),
                                &actor.state,
                                actor.balance.clone(),
                            )
                            .context("cannot decode the channel state")?;
                            chain_json::paych_state(&paych)
                        }
                        Some(BuiltinType::Account) => match self.account_key(tree, id)? {
                            Some(key) => chain_json::account_state(&key),
                            None => Value::Null,
                        },
                        _ => Value::Null,
                    };
                    Ok(json!({
                        "Balance": actor.balance.to_lotus(),
                        "Code": actor.code.to_lotus(),
                        "State": state,
                    }))
                })
            }
            "StateLookupID" => {
                let addr: Address = p.get(0)?;
                let found = self.with_state(&p, 1, |tree| self.lookup(tree, &addr))?;
                match found {
                    Some((id, _)) => Ok(Address::new_id(id).to_lotus()),
                    None => Err(RpcError::new(ACTOR_NOT_FOUND, "actor not found")),
                }
            }
            "StateAccountKey" => {
                let addr: Address = p.get(0)?;
                if matches!(addr.protocol(), Protocol::Secp256k1 | Protocol::BLS) {
                    return Ok(addr.to_lotus());
                }
                let key = self.with_state(&p, 1, |tree| {
                    let Some((id, _)) = self.lookup(tree, &addr)? else {
                        return Err(Error::unknown_address(format!(
                            "actor not found: {}",
                            show(&addr)
                        )));
                    };
                    self.account_key(tree, id)?.ok_or_else(|| {
                        Error::invalid(format!("{} is not an account actor", show(&addr)))
                    })
                })?;
                Ok(key.to_lotus())
            }
            "StateNetworkVersion" => {
                let _: Option<Vec<Cid>> = p.opt(0)?;
                Ok(json!(u32::from(self.net.info().config.network_version)))
            }
            "StateActorCodeCIDs" => {
                let _: u64 = p.get(0)?;
                let codes: serde_json::Map<String, Value> = self
                    .manifest()
                    .entries
                    .iter()
                    .map(|(name, code)| (name.clone(), code.to_lotus()))
                    .collect();
                Ok(Value::Object(codes))
            }
            "StateWaitMsg" => {
                let cid: Cid = p.get(0)?;
                let (_confidence, _limit, _replaced): (u64, i64, bool) =
                    (p.get(1)?, p.get(2)?, p.get(3)?);
                let (record, block) = self.wait_message(&cid).map_err(method_error)?;
                Ok(chain_json::msg_lookup(
                    &record,
                    block.as_ref(),
                    return_dec(&record),
                ))
            }
            "StateSearchMsg" => {
                let _: Option<Vec<Cid>> = p.opt(0)?;
                let cid: Cid = p.get(1)?;
                Ok(match self.find_message(&cid).map_err(method_error)? {
                    Some((record, block)) => {
                        chain_json::msg_lookup(&record, block.as_ref(), Value::Null)
                    }
                    None => Value::Null,
                })
            }
            "StateCall" => {
                let message: Message = p.get(0)?;
                let key: Vec<Cid> = p.opt(1)?.unwrap_or_default();
                self.state_call(message, key)
            }
            "MpoolPush" => {
                let signed: SignedMessage = p.get(0)?;
                let cid = self
                    .net
                    .repo()
                    .write(|tx| self.net.pool_push(tx, &signed))
                    .map_err(method_error)?;
                self.signal_pooled();
                Ok(cid.to_lotus())
            }
            "MpoolGetNonce" => {
                let addr: Address = p.get(0)?;
                let nonce = self
                    .net
                    .repo()
                    .read(|s| self.net.next_nonce(s, &addr))
                    .map_err(method_error)?;
                Ok(json!(nonce))
            }
            "GasEstimateMessageGas" => {
                // The send spec (a fee limit) changes nothing here: the
                // devnet's fee cap is its constant base fee. The estimate runs
                // on the head, whatever tipset is named.
                let mut message: Message = p.get(0)?;
                let _tipset: Option<Vec<Cid>> = p.opt(2)?;
                let sig_type = match message.from.protocol() {
                    Protocol::BLS => fvm_shared::crypto::signature::SignatureType::BLS,
                    _ => fvm_shared::crypto::signature::SignatureType::Secp256k1,
                };
                self.net
                    .repo()
                    .read(|s| self.net.fill_gas(s, &mut message, sig_type))
                    .map_err(method_error)?;
                Ok(message.to_lotus())
            }
            "WalletBalance" => {
                let addr: Address = p.get(0)?;
                match self.net.balance(&addr) {
                    Ok(balance) => Ok(balance.to_lotus()),
                    Err(e) if e.kind() == ErrorKind::UnknownAddress => Ok(json!("0")),
                    Err(e) => Err(method_error(e)),
                }
            }
            other => Err(RpcError::new(
                crate::jsonrpc::METHOD_NOT_FOUND,
                format!("method 'Filecoin.{other}' not found"),
            )),
        }
    }
}

/// How the full node produces blocks.
#[derive(Clone, Copy, Debug)]
pub enum BlockTime {
    /// A block every interval, empty or not (a Lotus 2k devnet: 4 s).
    Every(Duration),
    /// A block as soon as a message is pooled.
    OnDemand,
}

/// The full node ready to serve: head observation and block production in
/// the background, and the devnet's own methods (`Devnet.*`) unless
/// `devnet_api` is off.
pub fn served(
    node: Arc<FullNode>,
    block_time: BlockTime,
    devnet_api: bool,
    mut extra: crate::rpc::Api,
) -> crate::daemon::Served<FullNode> {
    if devnet_api {
        devnet_methods(&mut extra, &node);
    }
    let observer = node.clone();
    let producer = node.clone();
    let mut next_block = Instant::now();
    crate::daemon::Served {
        heads: node.heads(),
        node,
        extra,
        loops: vec![
            (
                "heads",
                Box::new(move || {
                    if let Err(e) = observer.observe() {
                        eprintln!("observing the head: {e}");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }),
            ),
            (
                "blocks",
                Box::new(move || {
                    let due = match block_time {
                        BlockTime::Every(interval) => {
                            let now = Instant::now();
                            if now < next_block {
                                std::thread::sleep(
                                    (next_block - now).min(Duration::from_millis(200)),
                                );
                                return;
                            }
                            next_block = now + interval;
                            true
                        }
                        BlockTime::OnDemand => {
                            producer.wait_pooled(Duration::from_millis(200));
                            !producer.pool_is_empty().unwrap_or(true)
                        }
                    };
                    if due && let Err(e) = producer.produce_block() {
                        eprintln!("producing a block: {e}");
                    }
                }),
            ),
        ],
    }
}

/// `Devnet.*`: what only a devnet can do, under its own name.
fn devnet_methods(api: &mut crate::rpc::Api, node: &Arc<FullNode>) {
    let n = node.clone();
    api.method("Devnet.Advance", crate::auth::Perm::Write, 1, move |p| {
        let epochs: i64 = p.get(0)?;
        let head = n.advance(epochs).map_err(method_error)?;
        Ok(json!({ "Height": head.epoch, "StateRoot": head.state_root.to_lotus() }))
    });
    let n = node.clone();
    api.method("Devnet.Info", crate::auth::Perm::Read, 0, move |_| {
        let head = n.devnet().head().map_err(method_error)?;
        let info = n.devnet().info();
        Ok(json!({
            "Height": head.epoch,
            "StateRoot": head.state_root.to_lotus(),
            "NetworkVersion": u32::from(info.config.network_version),
            "Bundle": info.bundle_origin,
            "BaseFee": info.config.base_fee.to_lotus(),
        }))
    });
}
