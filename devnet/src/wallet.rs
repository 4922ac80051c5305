//! The wallet: keys in the repository, Lotus's verbs.

use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_client::keyinfo::{self, KeyInfo};
use paych_client::{Key, KeyType};

use crate::addr::{parse, show};
use crate::devnet::{Devnet, head_of};
use crate::error::{Error, Result};
use crate::meta;
use crate::store::Repo;

/// A wallet address with what the chain knows about it.
#[derive(Clone, Debug)]
pub struct WalletEntry {
    pub address: Address,
    pub key_type: KeyType,
    pub id: Option<ActorID>,
    pub balance: TokenAmount,
    pub nonce: u64,
    pub default: bool,
}

impl<R: Repo> Devnet<R> {
    /// A new key; the first key becomes the default.
    pub fn wallet_new(&self, kind: KeyType) -> Result<Address> {
        let key = Key::generate(kind);
        self.repo().write(|tx| {
            tx.put_key(&key)?;
            if tx.meta(meta::DEFAULT_KEY)?.is_none() {
                tx.set_meta(meta::DEFAULT_KEY, &show(&key.address()))?;
            }
            Ok(key.address())
        })
    }

    pub fn wallet_list(&self) -> Result<Vec<WalletEntry>> {
        self.repo().read(|store| {
            let default = store
                .meta(meta::DEFAULT_KEY)?
                .map(|d| parse(&d))
                .transpose()?;
            let head = head_of(store)?;
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

    pub fn wallet_default(&self) -> Result<Option<Address>> {
        self.repo()
            .read(|s| s.meta(meta::DEFAULT_KEY))?
            .map(|d| parse(&d))
            .transpose()
    }

    pub fn wallet_set_default(&self, addr: &Address) -> Result<()> {
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
    pub fn wallet_import(&self, text: &str) -> Result<(Address, bool)> {
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
    pub fn wallet_export(&self, addr: &Address) -> Result<KeyInfo> {
        let key = self.repo().read(|s| s.key(addr))?;
        let key = key.ok_or_else(|| {
            Error::missing_key(format!("the wallet has no key for {}", show(addr)))
        })?;
        Ok(KeyInfo::from_key(&key))
    }

    /// The key for `addr`, if the wallet holds it.
    pub fn wallet_has(&self, addr: &Address) -> Result<bool> {
        Ok(self.repo().read(|s| s.key(addr))?.is_some())
    }
}
