//! The methods a node serves, built once for the full node and the lite
//! node: the 17 `Paych*` methods and the wallet over the node's own
//! repository ([`paych`], [`wallet`]), the chain-facing Lotus methods through
//! [`Node::chain_method`] (the full node answers them from its devnet, the
//! lite node forwards them), auth, `Version` and `rpc.discover`.
//!
//! Permissions and parameter counts are Lotus's (`api/permissioned.go`,
//! `api_full.go`); v0 differs only where the reference says so.

pub mod paych;
pub mod wallet;

use std::sync::Arc;

use fvm_shared::message::Message;
use paych_chain::SignedMessage;
use paych_devnet::{ChainNode, Error};
use serde_json::{Value, json};

use crate::auth::{Perm, Secret};
use crate::jsonrpc::{METHOD_ERROR, RpcError};
use crate::lotus_json::Bytes;
use crate::rpc::{Api, Params, RpcResult};

/// What a node adds to the manager's [`ChainNode`] to serve Lotus's API.
pub trait Node: ChainNode + Send + Sync + 'static {
    /// Answers a chain-facing method of [`CHAIN_METHODS`] (v1 parameters).
    fn chain_method(&self, name: &str, params: Params) -> RpcResult;
    /// Lotus's `MpoolPushMessage`: gives `message` its sender's next nonce
    /// (after the sender's pooled messages) and, where zero, its gas fields;
    /// signs it with the wallet's key for the sender; adds it to the pool.
    /// Atomic per node: concurrent pushes never share a nonce.
    fn push_message(&self, message: Message) -> Result<SignedMessage, Error>;
}

/// A chain-facing Lotus method: its name, permission, and parameter count in
/// v1 and (where it differs) v0.
pub struct ChainMethod {
    pub name: &'static str,
    pub perm: Perm,
    pub arity: usize,
    pub v0_arity: usize,
}

const fn chain(name: &'static str, perm: Perm, arity: usize) -> ChainMethod {
    ChainMethod {
        name,
        perm,
        arity,
        v0_arity: arity,
    }
}

/// The chain, state, pool and gas methods a payment-channel client needs.
pub const CHAIN_METHODS: &[ChainMethod] = &[
    chain("ChainHead", Perm::Read, 0),
    chain("ChainGetTipSet", Perm::Read, 1),
    chain("ChainReadObj", Perm::Read, 1),
    chain("ChainHasObj", Perm::Read, 1),
    chain("StateGetActor", Perm::Read, 2),
    chain("StateReadState", Perm::Read, 2),
    chain("StateLookupID", Perm::Read, 2),
    chain("StateAccountKey", Perm::Read, 2),
    chain("StateNetworkVersion", Perm::Read, 1),
    chain("StateActorCodeCIDs", Perm::Read, 1),
    ChainMethod {
        name: "StateWaitMsg",
        perm: Perm::Read,
        arity: 4,
        v0_arity: 2,
    },
    ChainMethod {
        name: "StateSearchMsg",
        perm: Perm::Read,
        arity: 4,
        v0_arity: 1,
    },
    chain("StateCall", Perm::Read, 2),
    chain("MpoolPush", Perm::Write, 1),
    chain("MpoolGetNonce", Perm::Read, 1),
    chain("GasEstimateMessageGas", Perm::Read, 3),
    chain("WalletBalance", Perm::Read, 1),
];

/// Lotus's `Version` for v1 and v0.
pub const NODE_VERSION: &str = concat!("paych-node/", env!("CARGO_PKG_VERSION"), "+devnet");
const API_V1: u64 = (2 << 16) | (3 << 8);
const API_V0: u64 = (1 << 16) | (5 << 8);
/// Lotus's mainnet block delay, which `Version` reports.
const BLOCK_DELAY: u64 = 30;

/// The manager's errors as API errors: code 1, the message, and the kind
/// (and a shortfall, where there is one) as data for clients that want it.
pub fn method_error(e: Error) -> RpcError {
    let mut data = json!({ "Kind": e.kind().name() });
    if let Some(shortfall) = e.shortfall() {
        data["Shortfall"] = json!(shortfall.atto().to_string());
    }
    RpcError::new(METHOD_ERROR, e.message().to_string()).with_data(data)
}

/// Both API versions for `node`, with `extra` methods (a namespace of the
/// node's own) added to each.
pub fn build<N: Node>(node: Arc<N>, secret: Secret, extra: &Api) -> (Api, Api) {
    let mut v1 = Api::new();
    common(&mut v1, &secret, API_V1);
    paych::register(&mut v1, &node, false);
    wallet::register(&mut v1, &node);
    for m in CHAIN_METHODS {
        let node = node.clone();
        let name = m.name;
        v1.method(name, m.perm, m.arity, move |p| node.chain_method(name, p));
    }
    v1.channel("ChainNotify", Perm::Read);

    let mut v0 = Api::new();
    common(&mut v0, &secret, API_V0);
    paych::register(&mut v0, &node, true);
    wallet::register(&mut v0, &node);
    for m in CHAIN_METHODS {
        let node = node.clone();
        let name = m.name;
        v0.method(name, m.perm, m.v0_arity, move |p| {
            node.chain_method(name, v0_to_v1(name, p))
        });
    }
    v0.channel("ChainNotify", Perm::Read);

    for (name, _) in extra.names() {
        if let Some(method) = extra.get(&name) {
            v1.insert(&name, method.clone());
            v0.insert(&name, method.clone());
        }
    }
    add_discover(&mut v1);
    add_discover(&mut v0);
    (v1, v0)
}

/// v0's shorter parameter lists, completed with v1's defaults.
fn v0_to_v1(name: &str, params: Params) -> Params {
    let mut values = params.into_values();
    match name {
        // StateWaitMsg(cid, confidence) -> (cid, confidence, no limit, replaced ok)
        "StateWaitMsg" => values.extend([json!(-1), json!(true)]),
        // StateSearchMsg(cid) -> (head, cid, no limit, replaced ok)
        "StateSearchMsg" => {
            values.insert(0, json!([]));
            values.extend([json!(-1), json!(true)]);
        }
        _ => {}
    }
    Params::new(format!("Filecoin.{name}"), values)
}

fn common(api: &mut Api, secret: &Secret, version: u64) {
    api.method("Version", Perm::Read, 0, move |_| {
        Ok(json!({
            "Version": NODE_VERSION,
            "APIVersion": version,
            "BlockDelay": BLOCK_DELAY,
            "Agent": "lotus",
        }))
    });
    let minting = secret.clone();
    api.method("AuthNew", Perm::Admin, 1, move |p| {
        let names: Vec<String> = p.get(0)?;
        let token = minting.token_with_names(&names);
        // Go's []byte: the JWT's bytes, base64-encoded.
        Ok(json!(data_encoding::BASE64.encode(token.as_bytes())))
    });
    let verifying = secret.clone();
    api.method("AuthVerify", Perm::Read, 1, move |p| {
        let token: String = p.get(0)?;
        match verifying.verify(&token) {
            Some(perms) => Ok(json!(perms.iter().map(|p| p.name()).collect::<Vec<_>>())),
            None => Err(RpcError::method("JWT Verification failed: invalid token")),
        }
    });
}

/// `rpc.discover`: an OpenRPC document naming every served method.
fn add_discover(api: &mut Api) {
    let mut names = api.names();
    names.push(("Discover".into(), Perm::Read));
    names.sort();
    let methods: Vec<Value> = names
        .iter()
        .map(|(name, perm)| {
            let full = if name.contains('.') {
                name.clone()
            } else {
                format!("Filecoin.{name}")
            };
            json!({ "name": full, "x-permission": perm.name() })
        })
        .collect();
    let document = json!({
        "openrpc": "1.2.6",
        "info": { "title": "paych node", "version": NODE_VERSION },
        "methods": methods,
    });
    api.method("Discover", Perm::Read, 0, move |_| Ok(document.clone()));
}

/// A `[]byte` parameter that must be empty (Lotus's unsupported `proof`).
pub(crate) fn require_no_proof(p: &Params, i: usize) -> Result<(), RpcError> {
    let proof: Option<Bytes> = p.opt(i)?;
    if proof.is_some_and(|b| !b.0.is_empty()) {
        return Err(RpcError::method(
            "payment channel proof parameter is not supported",
        ));
    }
    Ok(())
}

/// Decodes a parameter that is a Go `[]byte`, empty when null.
pub(crate) fn bytes_param(p: &Params, i: usize) -> Result<Vec<u8>, RpcError> {
    Ok(p.opt::<Bytes>(i)?.map(|b| b.0).unwrap_or_default())
}
