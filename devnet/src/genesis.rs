//! The devnet's genesis state, built the way ref-fvm's integration tester
//! builds it: the system actor (whose state names the manifest), init (the
//! FVM's own state layout), the burnt-funds account at ID 99, the EAM at ID
//! 10, and funded secp256k1 (or BLS) accounts registered through init.

use std::sync::Arc;

use cid::Cid;
use fvm::machine::BURNT_FUNDS_ACTOR_ID;
use fvm::state_tree::{ActorState, StateTree};
use fvm::{account_actor, init_actor, system_actor};
use fvm_ipld_encoding::CborStore;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::state::StateTreeVersion;
use multihash_codetable::Code;
use paych_bundle::Bundle;
use paych_client::Key;

use crate::blocks::{Empty, Overlay};
use crate::error::{Context, Error, Result};

/// The EAM's ID on every Filecoin network.
pub const EAM_ACTOR_ID: ActorID = 10;
/// The network name recorded in init's state.
pub const NETWORK_NAME: &str = "paych-devnet";

/// A genesis: its state root and every block it needs (bundle included).
pub struct Genesis {
    pub manifest: Cid,
    pub state_root: Cid,
    pub blocks: Vec<(Cid, Vec<u8>)>,
    /// The funded accounts, with their IDs.
    pub accounts: Vec<(Key, ActorID)>,
    pub total_supply: TokenAmount,
}

/// Builds a genesis state with `keys` funded with `balance` each.
pub fn build(bundle: &Bundle, keys: &[Key], balance: &TokenAmount) -> Result<Genesis> {
    let store = Arc::new(Overlay::new(Arc::new(Empty)));
    let manifest = bundle
        .load_into(&store)
        .context("cannot load the actor bundle")?;
    let code = |name: &str| {
        bundle
            .code(name)
            .ok_or_else(|| Error::invalid(format!("the bundle has no {name} actor")))
    };
    let (system, init, account, eam) = (
        code("system")?,
        code("init")?,
        code("account")?,
        code("eam")?,
    );
    code("paymentchannel")?;

    let mut init_state = init_actor::State::new_test(&store);
    init_state.network_name = NETWORK_NAME.to_string();
    let mut tree = StateTree::new(store.clone(), StateTreeVersion::V5)
        .context("cannot create the state tree")?;

    let put_actor = |tree: &mut StateTree<Arc<Overlay>>,
                     id: ActorID,
                     code: Cid,
                     state: Cid,
                     balance: TokenAmount| {
        tree.set_actor(
            id,
            ActorState {
                code,
                state,
                sequence: 0,
                balance,
                delegated_address: None,
            },
        );
    };

    let system_state = put_state(
        &store,
        &system_actor::State {
            builtin_actors: manifest,
        },
    )?;
    put_actor(
        &mut tree,
        system_actor::SYSTEM_ACTOR_ID,
        system,
        system_state,
        TokenAmount::default(),
    );
    let init_root = put_state(&store, &init_state)?;
    put_actor(
        &mut tree,
        init_actor::INIT_ACTOR_ID,
        init,
        init_root,
        TokenAmount::default(),
    );
    let burnt = put_state(
        &store,
        &account_actor::State {
            address: Address::new_id(BURNT_FUNDS_ACTOR_ID),
        },
    )?;
    put_actor(
        &mut tree,
        BURNT_FUNDS_ACTOR_ID,
        account,
        burnt,
        TokenAmount::default(),
    );
    let eam_state = put_state(&store, &[(); 0])?;
    put_actor(
        &mut tree,
        EAM_ACTOR_ID,
        eam,
        eam_state,
        TokenAmount::default(),
    );

    let mut accounts = Vec::new();
    let mut total_supply = TokenAmount::default();
    for key in keys {
        let id = tree
            .register_new_address(&key.address())
            .context("cannot register a genesis account")?;
        let state = put_state(
            &store,
            &account_actor::State {
                address: key.address(),
            },
        )?;
        put_actor(&mut tree, id, account, state, balance.clone());
        total_supply += balance;
        accounts.push((key.clone(), id));
    }
    let state_root = tree.flush().context("cannot flush the genesis state")?;
    drop(tree);
    Ok(Genesis {
        manifest,
        state_root,
        blocks: store.take_writes(),
        accounts,
        total_supply,
    })
}

fn put_state<T: serde::Serialize>(store: &Arc<Overlay>, state: &T) -> Result<Cid> {
    store
        .put_cbor(state, Code::Blake2b256)
        .context("cannot store genesis state")
}
