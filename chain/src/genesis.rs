//! The one genesis builder, as ref-fvm's integration tester lays a genesis
//! out: the system actor (whose state names the manifest), init (the FVM's own
//! state layout), the burnt-funds account at ID 99, the EAM at ID 10, then
//! funded accounts registered through init and, for tests, user actors
//! installed from Wasm.

use anyhow::{Context, anyhow};

use crate::Explain;
use actor_interfaces::builtin::{
    BURNT_FUNDS_ACTOR_ID, BuiltinType, EAM_ACTOR_ID, INIT_ACTOR_ID, SYSTEM_ACTOR_ID,
};
use actor_interfaces::{account, init};
use cid::Cid;
use fvm::state_tree::{ActorState, StateTree};
use fvm::system_actor;
use fvm_ipld_blockstore::{Block, Blockstore};
use fvm_ipld_encoding::{CborStore, DAG_CBOR};
use fvm_ipld_hamt::Hamt;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::econ::TokenAmount;
use fvm_shared::state::StateTreeVersion;
use fvm_shared::{ActorID, HAMT_BIT_WIDTH, IPLD_RAW};
use multihash_codetable::Code;
use paych_bundle::{Bundle, Manifest};

use crate::config::NETWORK_NAME;

/// A finished genesis: its state root over a store holding every block it
/// needs (the bundle's code and manifest included).
pub struct Genesis<B> {
    pub manifest: Cid,
    pub state_root: Cid,
    pub store: B,
    /// The sum of every balance set at genesis.
    pub total_supply: TokenAmount,
}

/// Builds a genesis state over `B`.
pub struct GenesisBuilder<B: Blockstore> {
    tree: StateTree<B>,
    manifest: Manifest,
    total_supply: TokenAmount,
}

impl<B: Blockstore> GenesisBuilder<B> {
    /// The singleton actors over `bundle`, whose blocks go into `store`.
    pub fn new(bundle: &Bundle, store: B) -> anyhow::Result<Self> {
        let manifest_cid = bundle
            .load_into(&store)
            .context("cannot load the actor bundle")?;
        let manifest = Manifest::load(&store, &manifest_cid)?;
        let code = |builtin: BuiltinType| {
            manifest
                .code(builtin)
                .ok_or_else(|| anyhow!("the bundle has no {} actor", builtin.name()))
        };
        let (system, init_code, account_code, eam) = (
            code(BuiltinType::System)?,
            code(BuiltinType::Init)?,
            code(BuiltinType::Account)?,
            code(BuiltinType::Eam)?,
        );
        code(BuiltinType::PaymentChannel)?;

        let address_map = Hamt::<_, ActorID>::new_with_bit_width(&store, HAMT_BIT_WIDTH)
            .flush()
            .context("cannot create init's address map")?;
        let mut builder = Self {
            tree: StateTree::new(store, StateTreeVersion::V5)
                .explain("cannot create the state tree")?,
            manifest,
            total_supply: TokenAmount::default(),
        };
        // The system actor names the manifest's data (its list of name and
        // code pairs), as on Filecoin's chains: that is where the FVM reads
        // the built-in actors when no manifest is passed to it, as the
        // standard test-vector runner does.
        let (_version, manifest_data): (u32, Cid) = builder
            .tree
            .store()
            .get_cbor(&manifest_cid)
            .context("cannot read the manifest")?
            .ok_or_else(|| anyhow!("the manifest block is missing"))?;
        let system_state = builder.put_state(&system_actor::State {
            builtin_actors: manifest_data,
        })?;
        builder.set(
            SYSTEM_ACTOR_ID,
            system,
            system_state,
            TokenAmount::default(),
        );
        let init_state = builder.put_state(&init::State {
            address_map,
            next_id: init::FIRST_NON_SINGLETON_ID,
            network_name: NETWORK_NAME.to_string(),
        })?;
        builder.set(INIT_ACTOR_ID, init_code, init_state, TokenAmount::default());
        let burnt = builder.put_state(&account::State {
            address: Address::new_id(BURNT_FUNDS_ACTOR_ID),
        })?;
        builder.set(
            BURNT_FUNDS_ACTOR_ID,
            account_code,
            burnt,
            TokenAmount::default(),
        );
        let eam_state = builder.put_state(&[(); 0])?;
        builder.set(EAM_ACTOR_ID, eam, eam_state, TokenAmount::default());
        Ok(builder)
    }

    /// An account for a key (f1/f3) address, registered through init.
    pub fn account(&mut self, key: &Address, balance: TokenAmount) -> anyhow::Result<ActorID> {
        if !matches!(key.protocol(), Protocol::Secp256k1 | Protocol::BLS) {
            return Err(anyhow!("an account needs a key address, not {key}"));
        }
        let code = self
            .manifest
            .code(BuiltinType::Account)
            .ok_or_else(|| anyhow!("the bundle has no account actor"))?;
        let id = self
            .tree
            .register_new_address(key)
            .explain("cannot register a genesis account")?;
        let state = self.put_state(&account::State { address: *key })?;
        self.set(id, code, state, balance);
        Ok(id)
    }

    /// A user actor running `wasm`, reachable at the robust address `alias`,
    /// with the DAG-CBOR `state` as its state (tests install their probes
    /// this way).
    pub fn user_actor(
        &mut self,
        wasm: &[u8],
        state: &[u8],
        alias: &Address,
        balance: TokenAmount,
    ) -> anyhow::Result<ActorID> {
        let store = self.tree.store();
        let code = store
            .put(Code::Blake2b256, &Block::new(IPLD_RAW, wasm))
            .context("cannot store actor code")?;
        let state = store
            .put(Code::Blake2b256, &Block::new(DAG_CBOR, state))
            .context("cannot store the actor's state")?;
        self.actor_with_state(code, state, alias, balance)
    }

    /// An actor running `code` (already in the store: a bundle's, say),
    /// reachable at `address`, with `state` as its state. A delegated (f4)
    /// address is also recorded as the actor's delegated address, as the FVM
    /// records it for actors it creates at one. Tests install actors the
    /// chain could not create by messages this way: an EthAccount, or a
    /// payment channel with a state of their making.
    pub fn actor(
        &mut self,
        code: Cid,
        state: &impl serde::Serialize,
        address: &Address,
        balance: TokenAmount,
    ) -> anyhow::Result<ActorID> {
        let state = self.put_state(state)?;
        self.actor_with_state(code, state, address, balance)
    }

    fn actor_with_state(
        &mut self,
        code: Cid,
        state: Cid,
        address: &Address,
        balance: TokenAmount,
    ) -> anyhow::Result<ActorID> {
        let id = self
            .tree
            .register_new_address(address)
            .explain("cannot register the actor's address")?;
        let delegated = (address.protocol() == Protocol::Delegated).then_some(*address);
        self.set_with_delegated(id, code, state, balance, delegated);
        Ok(id)
    }

    /// The state tree being built.
    pub fn tree(&self) -> &StateTree<B> {
        &self.tree
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Flushes the state tree.
    pub fn finish(mut self) -> anyhow::Result<Genesis<B>> {
        let state_root = self
            .tree
            .flush()
            .explain("cannot flush the genesis state")?;
        Ok(Genesis {
            manifest: self.manifest.cid,
            state_root,
            store: self.tree.into_store(),
            total_supply: self.total_supply,
        })
    }

    fn put_state<T: serde::Serialize>(&self, state: &T) -> anyhow::Result<Cid> {
        self.tree
            .store()
            .put_cbor(state, Code::Blake2b256)
            .context("cannot store genesis state")
    }

    fn set(&mut self, id: ActorID, code: Cid, state: Cid, balance: TokenAmount) {
        self.set_with_delegated(id, code, state, balance, None);
    }

    fn set_with_delegated(
        &mut self,
        id: ActorID,
        code: Cid,
        state: Cid,
        balance: TokenAmount,
        delegated_address: Option<Address>,
    ) {
        self.total_supply += &balance;
        self.tree.set_actor(
            id,
            ActorState {
                code,
                state,
                sequence: 0,
                balance,
                delegated_address,
            },
        );
    }
}
