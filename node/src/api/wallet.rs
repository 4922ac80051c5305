//! The `Wallet*` methods over the node's own keys, and `MpoolPushMessage`,
//! which signs with them. A lite node's wallet is its own: the full node
//! never sees its keys.

use std::sync::Arc;

use fvm_shared::address::Address;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::message::Message;
use paych_chain::SignedMessage;
use paych_client::keyinfo::KeyInfo;
use paych_client::{Key, KeyType};
use paych_devnet::addr::show;
use paych_devnet::{Error, Repo, WalletOps};
use serde_json::{Value, json};

use super::{Node, bytes_param, method_error};
use crate::auth::Perm;
use crate::jsonrpc::RpcError;
use crate::lotus_json::{Fields, FromLotus, ToLotus};
use crate::rpc::Api;

/// `types.KeyType`: a name, or the deprecated numbers.
struct LotusKeyType(KeyType);

impl FromLotus for LotusKeyType {
    fn from_lotus(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) if s == "secp256k1" => Ok(Self(KeyType::Secp256k1)),
            Value::String(s) if s == "bls" => Ok(Self(KeyType::Bls)),
            Value::Number(n) if n.as_u64() == Some(1) => Ok(Self(KeyType::Secp256k1)),
            Value::Number(n) if n.as_u64() == Some(2) => Ok(Self(KeyType::Bls)),
            other => Err(format!("unsupported key type {other} (secp256k1 or bls)")),
        }
    }
}

pub fn register<N: Node>(api: &mut Api, node: &Arc<N>) {
    let n = node.clone();
    api.method("WalletNew", Perm::Write, 1, move |p| {
        let kind: LotusKeyType = p.get(0)?;
        Ok(n.wallet_new(kind.0).map_err(method_error)?.to_lotus())
    });
    let n = node.clone();
    api.method("WalletList", Perm::Write, 0, move |_| {
        let keys = n.repo().read(|s| s.keys()).map_err(method_error)?;
        Ok(Value::Array(
            keys.iter().map(|k| k.address().to_lotus()).collect(),
        ))
    });
    let n = node.clone();
    api.method("WalletHas", Perm::Write, 1, move |p| {
        let addr: Address = p.get(0)?;
        Ok(json!(key_for(&*n, &addr)?.is_some()))
    });
    let n = node.clone();
    api.method("WalletDefaultAddress", Perm::Write, 0, move |_| {
        Ok(match n.wallet_default().map_err(method_error)? {
            Some(addr) => addr.to_lotus(),
            None => json!("<empty>"),
        })
    });
    let n = node.clone();
    api.method("WalletSetDefault", Perm::Write, 1, move |p| {
        let addr: Address = p.get(0)?;
        n.wallet_set_default(&addr).map_err(method_error)?;
        Ok(Value::Null)
    });
    let n = node.clone();
    api.method("WalletSign", Perm::Sign, 2, move |p| {
        let addr: Address = p.get(0)?;
        let data = bytes_param(&p, 1)?;
        let key = require_key(&*n, &addr)?;
        Ok(key.sign(&data).to_lotus())
    });
    let n = node.clone();
    api.method("WalletSignMessage", Perm::Sign, 2, move |p| {
        let addr: Address = p.get(0)?;
        let message: Message = p.get(1)?;
        let key = require_key(&*n, &addr)?;
        Ok(SignedMessage::sign(message, &key).to_lotus())
    });
    let n = node.clone();
    api.method("WalletVerify", Perm::Read, 3, move |p| {
        let addr: Address = p.get(0)?;
        let data = bytes_param(&p, 1)?;
        let signature: Signature = p.get(2)?;
        let signer = key_address(&*n, &addr)?;
        Ok(json!(paych_client::keys::verify(
            &signature, &signer, &data
        )))
    });
    let n = node.clone();
    api.method("WalletExport", Perm::Admin, 1, move |p| {
        let addr: Address = p.get(0)?;
        let info = n.wallet_export(&addr).map_err(method_error)?;
        Ok(serde_json::to_value(&info).expect("key info serializes"))
    });
    let n = node.clone();
    api.method("WalletImport", Perm::Admin, 1, move |p| {
        let f = Fields::of(p.values().first().unwrap_or(&Value::Null), "KeyInfo")
            .map_err(|e| p.decode_error(0, e))?;
        let info = KeyInfo {
            key_type: f.get("Type").map_err(|e| p.decode_error(0, e))?,
            private_key: f.get("PrivateKey").map_err(|e| p.decode_error(0, e))?,
        };
        let (addr, _) = n.wallet_import(&info.to_json()).map_err(method_error)?;
        Ok(addr.to_lotus())
    });
    let n = node.clone();
    api.method("MpoolPushMessage", Perm::Sign, 2, move |p| {
        let message: Message = p.get(0)?;
        if message.sequence != 0 {
            return Err(RpcError::method(format!(
                "MpoolPushMessage expects message nonce to be 0, was {}",
                message.sequence
            )));
        }
        let signed = n.push_message(message).map_err(method_error)?;
        Ok(signed.to_lotus())
    });
}

/// The key address behind `addr` (an ID address of an account resolves to
/// its key).
fn key_address<N: Node>(node: &N, addr: &Address) -> Result<Address, RpcError> {
    node.repo()
        .read(|store| {
            let head = node.head_in(store)?;
            let tree = node.state(store, &head.state_root)?;
            node.key_address(&tree, addr)
        })
        .map_err(method_error)
}

fn key_for<N: Node>(node: &N, addr: &Address) -> Result<Option<Key>, RpcError> {
    let key_addr = match addr.protocol() {
        fvm_shared::address::Protocol::Secp256k1 | fvm_shared::address::Protocol::BLS => *addr,
        _ => key_address(node, addr)?,
    };
    node.repo().read(|s| s.key(&key_addr)).map_err(method_error)
}

fn require_key<N: Node>(node: &N, addr: &Address) -> Result<Key, RpcError> {
    key_for(node, addr)?.ok_or_else(|| {
        method_error(Error::missing_key(format!(
            "key not found for {}",
            show(addr)
        )))
    })
}
