//! The wallet: keys in the repository, Lotus's verbs, and what a wallet
//! address can do on any chain node (its balance, a plain send). Provided
//! for every [`ChainNode`], so a lite node's wallet works as the devnet's.

use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_client::keyinfo::{self, KeyInfo};
use paych_client::{Key, KeyType};

use serde::Serialize;

use crate::addr::{parse, show};
use crate::chain_node::ChainNode;
use crate::error::{Error, Result};
use crate::json;
use crate::node::{MessageSpec, Sent};
use crate::repo::{Repo, meta};
use fvm_shared::address::Protocol;

/// A wallet address with what the chain knows about it.
#[derive(Clone, Debug, Serialize)]
pub struct WalletEntry {
    #[serde(serialize_with = "json::address")]
    pub address: Address,
    #[serde(rename = "type", serialize_with = "key_type_name")]
    pub key_type: KeyType,
    #[serde(serialize_with = "json::opt_id_address")]
    pub id: Option<ActorID>,
    #[serde(serialize_with = "json::atto")]
    pub balance: TokenAmount,
    pub nonce: u64,
    pub default: bool,
}

fn key_type_name<S: serde::Serializer>(kind: &KeyType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.name())
}

/// The wallet verbs over a chain node's repository.
pub trait WalletOps: ChainNode {
    /// A new key; the first key becomes the default.
    fn wallet_new(&self, kind: KeyType) -> Result<Address> {
        let key = Key::generate(kind);
        self.repo().write(|tx| {
            tx.put_key(&key)?;
            if tx.meta(meta::DEFAULT_KEY)?.is_none() {
                tx.set_meta(meta::DEFAULT_KEY, &show(&key.address()))?;
            }
            Ok(key.address())
        })
    }

    fn wallet_list(&self) -> Result<Vec<WalletEntry>> {
        self.repo().read(|store| {
            let default = store
                .meta(meta::DEFAULT_KEY)?
                .map(|d| parse(&d))
                .transpose()?;
            let head = self.head_in(store)?;
            let tree = self.state(store, &head.state_root)?;
            store
                .keys()?
                .into_iter()
                .map(|key| {
                    let address = key.address();
                    let actor = self.lookup(&tree, &address)?;
                    Ok(WalletEntry {
                        address,
                        key_type: key.kind(),
                        id: actor.as_ref().map(|(id, _)| *id),
                        balance: actor
                            .as_ref()
                            .map(|(_, a)| a.balance.clone())
                            .unwrap_or_default(),
                        nonce: actor.as_ref().map(|(_, a)| a.sequence).unwrap_or(0),
                        default: Some(address) == default,
                    })
                })
                .collect()
        })
    }

    fn wallet_default(&self) -> Result<Option<Address>> {
        self.repo()
            .read(|s| s.meta(meta::DEFAULT_KEY))?
            .map(|d| parse(&d))
            .transpose()
    }

    fn wallet_set_default(&self, addr: &Address) -> Result<()> {
        self.repo().write(|tx| {
            if tx.key(addr)?.is_none() {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for {}",
                    show(addr)
                )));
            }
            tx.set_meta(meta::DEFAULT_KEY, &show(addr))
        })
    }

    /// Imports a key exported by Lotus (hex of KeyInfo JSON, or the JSON).
    /// Returns its address and whether it was new.
    fn wallet_import(&self, text: &str) -> Result<(Address, bool)> {
        let key =
            keyinfo::import(text).map_err(|e| Error::invalid(format!("cannot import key: {e}")))?;
        self.repo().write(|tx| {
            let added = tx.put_key(&key)?;
            if tx.meta(meta::DEFAULT_KEY)?.is_none() {
                tx.set_meta(meta::DEFAULT_KEY, &show(&key.address()))?;
            }
            Ok((key.address(), added))
        })
    }

    /// The key as Lotus exports it.
    fn wallet_export(&self, addr: &Address) -> Result<KeyInfo> {
        let key = self.repo().read(|s| s.key(addr))?;
        let key = key.ok_or_else(|| {
            Error::missing_key(format!("the wallet has no key for {}", show(addr)))
        })?;
        Ok(KeyInfo::from_key(&key))
    }

    /// The key for `addr`, if the wallet holds it.
    fn wallet_has(&self, addr: &Address) -> Result<bool> {
        Ok(self.repo().read(|s| s.key(addr))?.is_some())
    }

    /// An address's balance. Key addresses that have never received funds
    /// have a balance of zero; ID and actor addresses must exist.
    fn balance(&self, addr: &Address) -> Result<TokenAmount> {
        self.repo().read(|store| {
            let head = self.head_in(store)?;
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
                    show(addr)
                ))),
            }
        })
    }

    /// A plain value transfer (Lotus's `send`) from a wallet address.
    fn send(&self, from: &Address, to: &Address, amount: &TokenAmount) -> Result<Sent> {
        if !amount.is_positive() {
            return Err(Error::invalid("the amount must be positive"));
        }
        self.repo().write(|tx| {
            let head = self.head_in(tx)?;
            let from_key = self.key_address(&self.state(tx, &head.state_root)?, from)?;
            let message = self.push(tx, &MessageSpec::transfer(from_key, *to, amount.clone()))?;
            Ok(Sent { message })
        })
    }
}

impl<N: ChainNode> WalletOps for N {}
