//! A new repository's genesis: funded wallet keys, the chain's settings, and
//! the state the chain layer's genesis builder makes.

use std::sync::Arc;

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::version::NetworkVersion;
use paych_bundle::Bundle;
use paych_chain::Head;
use paych_chain::blocks::{Empty, Overlay};
use paych_chain::config::{
    DEFAULT_BASE_FEE_ATTO, DEFAULT_NETWORK_VERSION, SUPPORTED_NETWORK_VERSIONS,
};
use paych_chain::genesis::GenesisBuilder;
use paych_client::{Key, KeyType};

use crate::addr;
use crate::block::record_block;
use crate::error::{Context, Error, Result};
use crate::repo::{Store, meta};

/// Funded accounts in a new repository, and their balance in FIL.
pub const DEFAULT_ACCOUNTS: usize = 3;
pub const DEFAULT_ACCOUNT_FIL: u64 = 1000;
/// At most this many funded accounts at genesis.
const MAX_ACCOUNTS: usize = 1000;

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
    /// User actors installed at genesis (Filecoin has no way to deploy one
    /// later): tests use them as `extra` call targets.
    pub user_actors: Vec<GenesisActor>,
}

/// A user actor in a genesis: its Wasm, its DAG-CBOR state, and the robust
/// address it is reached at.
#[derive(Clone)]
pub struct GenesisActor {
    pub wasm: Vec<u8>,
    pub state: Vec<u8>,
    pub alias: Address,
    pub balance: TokenAmount,
}

impl Default for GenesisOptions {
    fn default() -> Self {
        Self {
            accounts: DEFAULT_ACCOUNTS,
            balance: TokenAmount::from_whole(DEFAULT_ACCOUNT_FIL),
            key_type: KeyType::Secp256k1,
            network_version: DEFAULT_NETWORK_VERSION,
            base_fee: TokenAmount::from_atto(DEFAULT_BASE_FEE_ATTO),
            bundle: Bundle::devnet(),
            timestamp: None,
            user_actors: Vec::new(),
        }
    }
}

/// Writes a genesis into an empty repository: the state's blocks, the head at
/// epoch 0, the funded keys (the first is the wallet's default) and the
/// chain's settings. The manifest setting is written last: its presence marks
/// the repository as initialized.
pub(crate) fn write_genesis(store: &mut dyn Store, options: &GenesisOptions) -> Result<()> {
    if options.accounts > MAX_ACCOUNTS {
        return Err(Error::invalid(format!(
            "at most {MAX_ACCOUNTS} genesis accounts"
        )));
    }
    if options.balance.is_negative() {
        return Err(Error::invalid("genesis balances cannot be negative"));
    }
    let nv = u32::from(options.network_version);
    if !SUPPORTED_NETWORK_VERSIONS.contains(&nv) {
        return Err(Error::invalid(format!(
            "network version {nv} is not supported ({} to {})",
            SUPPORTED_NETWORK_VERSIONS.start(),
            SUPPORTED_NETWORK_VERSIONS.end()
        )));
    }
    let keys: Vec<Key> = (0..options.accounts)
        .map(|_| Key::generate(options.key_type))
        .collect();
    let overlay = Arc::new(Overlay::new(Arc::new(Empty)));
    let mut builder = GenesisBuilder::new(&options.bundle, overlay.clone())
        .context("cannot build the genesis")?;
    for key in &keys {
        builder
            .account(&key.address(), options.balance.clone())
            .context("cannot fund a genesis account")?;
    }
    for actor in &options.user_actors {
        builder
            .user_actor(
                &actor.wasm,
                &actor.state,
                &actor.alias,
                actor.balance.clone(),
            )
            .context("cannot install a genesis actor")?;
    }
    let genesis = builder.finish().context("cannot build the genesis")?;
    let timestamp = options.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    store.put_blocks(&overlay.take_writes())?;
    store.set_head(&Head {
        epoch: 0,
        state_root: genesis.state_root,
    })?;
    record_block(
        store,
        0,
        genesis.state_root,
        &[],
        timestamp,
        &options.base_fee,
    )?;
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
    store.set_meta(meta::MANIFEST, &genesis.manifest.to_string())?;
    Ok(())
}
