//! The lite node: a second party's node. Its repository holds only its own
//! wallet, tracked channels and vouchers; everything about the chain comes
//! from a full node over Lotus's standard API, so the same lite node fronts
//! the devnet or a Lotus, Venus or Forest node:
//!
//! - head: `ChainHead`; tipsets: `ChainGetTipSet`;
//! - state: `ChainReadObj` for every block of the state tree it reads
//!   (content-addressed, so cached for good);
//! - the built-in actors: `StateNetworkVersion`, `StateActorCodeCIDs`;
//! - dry runs: `StateCall`;
//! - sending: `MpoolGetNonce`, `GasEstimateMessageGas`, signing here,
//!   `MpoolPush`, then `StateWaitMsg`.
//!
//! Its own callers get the 17 `Paych*` methods and the wallet answered here,
//! and every chain, state and pool method forwarded to the full node. Its
//! settler watches the full node's head (polling `ChainHead` every half
//! second) and redeems its inbound vouchers when a payer settles.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use cid::Cid;
use fvm::state_tree::StateTree;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::MethodNum;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use paych_bundle::Manifest;
use paych_chain::blocks::BlockSource;
use paych_chain::message::new_message;
use paych_chain::{Head, Receipt, SignedMessage};
use paych_devnet::addr::show;
use paych_devnet::repo::{MessageRecord, StoreBlocks, meta};
use paych_devnet::{
    ChainNode, Context, Error, MessageSpec, Repo, Result, SqliteRepo, StateView, Store,
};
use paych_manager::PaychManager;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::api::Node;
use crate::client::{ApiInfo, CallError, Client};
use crate::jsonrpc::RpcError;
use crate::lotus_json::{Bytes, Fields, FromLotus, ToLotus};
use crate::rpc::{Params, RpcResult};
use crate::server::Feed;

/// How often the lite node looks at its full node's head.
const HEAD_POLL: Duration = Duration::from_millis(500);

pub struct LiteNode {
    repo: SqliteRepo,
    client: Arc<Client>,
    manifest: Manifest,
    blocks: Arc<RemoteBlocks>,
    /// Nonce assignment to pushing: one message at a time, so two never
    /// take the same nonce.
    pushing: Mutex<()>,
    heads: Arc<LiteHeads>,
    settler: Mutex<()>,
}

/// Blocks read from the full node, kept (they never change).
struct RemoteBlocks {
    client: Arc<Client>,
    cache: RwLock<HashMap<Cid, Vec<u8>>>,
}

impl BlockSource for RemoteBlocks {
    fn get_block(&self, cid: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(block) = self.cache.read().expect("cache lock").get(cid) {
            return Ok(Some(block.clone()));
        }
        match self.client.call("ChainReadObj", vec![cid.to_lotus()]) {
            Ok(value) => {
                let bytes = Bytes::from_lotus(&value).map_err(anyhow::Error::msg)?.0;
                self.cache
                    .write()
                    .expect("cache lock")
                    .insert(*cid, bytes.clone());
                Ok(Some(bytes))
            }
            Err(CallError::Rpc(e)) if e.message.contains("not found") => Ok(None),
            Err(e) => Err(anyhow::anyhow!(
                "reading block {cid} from the full node: {e}"
            )),
        }
    }
}

/// The full node's head as the lite node last saw it.
pub struct LiteHeads {
    latest: Mutex<Option<Value>>,
    feed: broadcast::Sender<Value>,
}

impl Feed for LiteHeads {
    fn subscribe(&self) -> std::result::Result<(Value, broadcast::Receiver<Value>), RpcError> {
        // Under the lock `observe` moves the head and broadcasts under.
        match self.latest.lock().expect("heads lock").as_ref() {
            Some(tipset) => Ok((
                json!([{ "Type": "current", "Val": tipset }]),
                self.feed.subscribe(),
            )),
            None => Err(RpcError::method(
                "the lite node has not seen its full node's head yet",
            )),
        }
    }
}

fn call_error(e: CallError) -> Error {
    match e {
        CallError::Rpc(e) => Error::rejected(format!("the full node: {}", e.message)),
        CallError::Transport(e) => Error::repo(format!("the full node: {e}")),
    }
}

impl LiteNode {
    /// Opens (creating if needed) the lite node's repository in `dir`, bound
    /// to the full node at `full`.
    pub fn open(dir: &Path, full: ApiInfo) -> Result<Self> {
        let repo = SqliteRepo::open(dir)?;
        let bound = repo.read(|s| s.meta(meta::LITE_FULL_NODE))?;
        let chain_here = repo.read(|s| s.meta(meta::MANIFEST))?.is_some();
        if chain_here {
            return Err(Error::repo(format!(
                "the repo at {} holds a devnet; a lite node needs a repo of its own",
                dir.display()
            )));
        }
        if bound.is_none() {
            repo.write(|tx| tx.set_meta(meta::LITE_FULL_NODE, &full.url))?;
        }
        let client = Arc::new(Client::with_timeout(full, Duration::from_secs(900)));
        let version = client
            .call("StateNetworkVersion", vec![json!([])])
            .map_err(call_error)?;
        let codes = client
            .call("StateActorCodeCIDs", vec![version])
            .map_err(call_error)?;
        let mut entries = Vec::new();
        for builtin in actor_interfaces::BuiltinType::ALL {
            if let Some(code) = codes.get(builtin.name()) {
                let code = Cid::from_lotus(code).map_err(Error::internal)?;
                entries.push((builtin.name().to_string(), code));
            }
        }
        let manifest = Manifest {
            cid: Cid::default(),
            entries,
        };
        Ok(Self {
            repo,
            blocks: Arc::new(RemoteBlocks {
                client: client.clone(),
                cache: RwLock::new(HashMap::new()),
            }),
            client,
            manifest,
            pushing: Mutex::new(()),
            heads: Arc::new(LiteHeads {
                latest: Mutex::new(None),
                feed: broadcast::channel(256).0,
            }),
            settler: Mutex::new(()),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn heads(&self) -> Arc<LiteHeads> {
        self.heads.clone()
    }

    fn remote(&self, method: &str, params: Vec<Value>) -> Result<Value> {
        self.client.call(method, params).map_err(call_error)
    }

    /// Looks at the full node's head; on a new one, tells subscribers and
    /// runs the settler.
    pub fn observe(&self) -> Result<()> {
        let tipset = self.remote("ChainHead", vec![])?;
        let changed = {
            let mut latest = self.heads.latest.lock().expect("heads lock");
            let changed = latest.as_ref().map(|t| &t["Cids"]) != Some(&tipset["Cids"]);
            if changed {
                *latest = Some(tipset.clone());
                // Broadcast under the lock a new subscriber reads `current`
                // under: it gets this head once, one way or the other.
                let _ = self
                    .heads
                    .feed
                    .send(json!([{ "Type": "apply", "Val": tipset }]));
            }
            changed
        };
        if changed {
            let _pass = self.settler.lock().expect("settler lock");
            match PaychManager::new(self).protect() {
                Ok(actions) => crate::full::log_actions(&actions),
                Err(e) => eprintln!("settler: {e}"),
            }
        }
        Ok(())
    }

    /// Signs `message` with the wallet's key for its sender, after giving it
    /// the sender's next nonce and the full node's gas estimate, and pushes
    /// it to the full node's pool.
    fn sign_and_push(&self, store: &dyn Store, mut message: Message) -> Result<SignedMessage> {
        let _one_at_a_time = self.pushing.lock().expect("push lock");
        let key = store.key(&message.from)?.ok_or_else(|| {
            Error::missing_key(format!(
                "the wallet has no key for the sender {}",
                show(&message.from)
            ))
        })?;
        let nonce = self.remote("MpoolGetNonce", vec![message.from.to_lotus()])?;
        message.sequence = u64::from_lotus(&nonce).map_err(Error::internal)?;
        message.gas_limit = 0;
        let estimated = self.remote(
            "GasEstimateMessageGas",
            vec![message.to_lotus(), Value::Null, json!([])],
        )?;
        let message = Message::from_lotus(&estimated).map_err(Error::internal)?;
        let signed = SignedMessage::sign(message, &key);
        self.remote("MpoolPush", vec![signed.to_lotus()])?;
        Ok(signed)
    }

    /// The state root a tipset's execution left (its parent state root: the
    /// messages of the tipset before it applied).
    fn tipset_state(tipset: &Value) -> Result<Head> {
        let block = &tipset["Blocks"][0];
        Ok(Head {
            epoch: tipset["Height"]
                .as_i64()
                .ok_or_else(|| Error::internal("the full node's tipset has no height"))?,
            state_root: Cid::from_lotus(&block["ParentStateRoot"]).map_err(Error::internal)?,
        })
    }
}

impl ChainNode for LiteNode {
    type Repo = SqliteRepo;

    fn repo(&self) -> &SqliteRepo {
        &self.repo
    }

    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn head_in(&self, _store: &dyn Store) -> Result<Head> {
        Self::tipset_state(&self.remote("ChainHead", vec![])?)
    }

    fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>> {
        StateTree::new_from_root(StoreBlocks::with_fallback(store, self.blocks.clone()), root)
            .context("cannot load the state tree from the full node")
    }

    fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord> {
        let callee = {
            let tree = self.state(tx, &self.head_in(tx)?.state_root)?;
            self.lookup(&tree, &spec.to)?
                .and_then(|(_, actor)| self.builtin_type(&actor.code))
        };
        let message = new_message(
            spec.from,
            spec.to,
            0,
            spec.method,
            spec.params.clone(),
            spec.value.clone(),
        );
        let signed = self.sign_and_push(tx, message)?;
        let cid = signed.cid();
        let lookup = self.remote(
            "StateWaitMsg",
            vec![cid.to_lotus(), json!(0), json!(-1), json!(true)],
        )?;
        let f = Fields::of(&lookup, "MsgLookup").map_err(Error::internal)?;
        let receipt = Fields::of(&lookup["Receipt"], "MessageReceipt").map_err(Error::internal)?;
        let exit_code =
            ExitCode::new(receipt.get::<u64>("ExitCode").map_err(Error::internal)? as u32);
        let return_data = receipt.get::<Bytes>("Return").map_err(Error::internal)?.0;
        let gas_used = receipt.get::<u64>("GasUsed").map_err(Error::internal)?;
        let tipset_key = lookup["TipSet"].clone();
        let tipset = self.remote("ChainGetTipSet", vec![tipset_key])?;
        let after = Self::tipset_state(&tipset)?;
        // What the sender paid, from the receipt and the base fee in force
        // (a Lotus receipt carries only the gas used).
        let base_fee =
            TokenAmount::from_lotus(&tipset["Blocks"][0]["ParentBaseFee"]).unwrap_or_default();
        let fees = fvm::gas::GasOutputs::compute(
            gas_used,
            signed.message.gas_limit,
            &base_fee,
            &signed.message.gas_fee_cap,
            &signed.message.gas_premium,
        );
        let record = MessageRecord {
            seq: 0,
            epoch: f.get("Height").map_err(Error::internal)?,
            cid,
            message: signed.message,
            signature: signed.signature,
            callee,
            receipt: Receipt {
                exit_code,
                return_data,
                gas_used,
                base_fee_burn: fees.base_fee_burn,
                over_estimation_burn: fees.over_estimation_burn,
                miner_tip: fees.miner_tip,
                refund: fees.refund,
                failure: None,
            },
            state_root: after.state_root,
        };
        if !exit_code.is_success() {
            return Err(Error::rejected(format!(
                "message {cid} failed on chain with exit code {}",
                exit_code.value()
            )));
        }
        Ok(record)
    }

    fn call(
        &self,
        _head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Receipt> {
        let message = new_message(*from, *to, 0, method, params, TokenAmount::default());
        let result = self.remote("StateCall", vec![message.to_lotus(), json!([])])?;
        let receipt = Fields::of(&result["MsgRct"], "MessageReceipt").map_err(Error::internal)?;
        let error = result["Error"].as_str().unwrap_or_default();
        Ok(Receipt {
            exit_code: ExitCode::new(
                receipt.get::<u64>("ExitCode").map_err(Error::internal)? as u32
            ),
            return_data: receipt.get::<Bytes>("Return").map_err(Error::internal)?.0,
            gas_used: receipt.get::<u64>("GasUsed").map_err(Error::internal)?,
            base_fee_burn: TokenAmount::default(),
            over_estimation_burn: TokenAmount::default(),
            miner_tip: TokenAmount::default(),
            refund: TokenAmount::default(),
            failure: (!error.is_empty()).then(|| error.to_string()),
        })
    }
}

impl Node for LiteNode {
    fn chain_method(&self, name: &str, params: Params) -> RpcResult {
        match self.client.call(name, params.into_values()) {
            Ok(value) => Ok(value),
            Err(CallError::Rpc(e)) => Err(e),
            Err(CallError::Transport(e)) => Err(RpcError::method(format!("the full node: {e}"))),
        }
    }

    fn push_message(&self, message: Message) -> Result<SignedMessage> {
        self.repo.read(|store| {
            let tree = self.state(store, &self.head_in(store)?.state_root)?;
            let from = self.key_address(&tree, &message.from)?;
            let message = Message { from, ..message };
            self.sign_and_push(store, message)
        })
    }
}

/// The lite node ready to serve: the head watch (and settler) in the
/// background.
pub fn served(node: Arc<LiteNode>, extra: crate::rpc::Api) -> crate::daemon::Served<LiteNode> {
    let watcher = node.clone();
    crate::daemon::Served {
        heads: node.heads(),
        node,
        extra,
        loops: vec![(
            "heads",
            Box::new(move || {
                if let Err(e) = watcher.observe() {
                    eprintln!("watching the full node's head: {e}");
                }
                std::thread::sleep(HEAD_POLL);
            }),
        )],
    }
}
