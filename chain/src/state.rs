//! Readers of a state tree: actors by address, an account's key address, the
//! robust address init assigned an actor, and a payment channel's decoded
//! state and lanes.

use actor_interfaces::builtin::{BuiltinType, INIT_ACTOR_ID};
use actor_interfaces::{account, init};
use anyhow::{Context, anyhow};

use crate::Explain;
use cid::Cid;
use fvm::state_tree::{ActorState, StateTree};
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::CborStore;
use fvm_ipld_hamt::{BytesKey, Hamt};
use fvm_shared::address::{Address, Protocol};
use fvm_shared::econ::TokenAmount;
use fvm_shared::{ActorID, HAMT_BIT_WIDTH};
use paych_actor::{LaneState, State};
use paych_bundle::Manifest;

/// The actor an address names, if it exists.
pub fn lookup<B: Blockstore>(
    tree: &StateTree<B>,
    addr: &Address,
) -> anyhow::Result<Option<(ActorID, ActorState)>> {
    let Some(id) = tree.lookup_id(addr).explain("cannot resolve an address")? else {
        return Ok(None);
    };
    Ok(tree
        .get_actor(id)
        .explain("cannot load an actor")?
        .map(|actor| (id, actor)))
}

/// The key (f1/f3) address behind an account actor; `None` for any other
/// actor.
pub fn account_key<B: Blockstore>(
    tree: &StateTree<B>,
    manifest: &Manifest,
    id: ActorID,
) -> anyhow::Result<Option<Address>> {
    let Some(actor) = builtin_actor(tree, manifest, id, BuiltinType::Account)? else {
        return Ok(None);
    };
    let state: Option<account::State> = tree
        .store()
        .get_cbor(&actor.state)
        .context("cannot load an account's state")?;
    Ok(state
        .map(|s| s.address)
        .filter(|a| matches!(a.protocol(), Protocol::Secp256k1 | Protocol::BLS)))
}

/// The f2 address init assigned to actor `id`, found by walking init's
/// address map.
pub fn robust_address<B: Blockstore>(
    tree: &StateTree<B>,
    id: ActorID,
) -> anyhow::Result<Option<Address>> {
    let Some(actor) = tree.get_actor(INIT_ACTOR_ID).explain("cannot load init")? else {
        return Ok(None);
    };
    let store = tree.store();
    let state: init::State = store
        .get_cbor(&actor.state)
        .context("cannot load init's state")?
        .ok_or_else(|| anyhow!("init's state is missing"))?;
    let map = Hamt::<_, ActorID>::load_with_bit_width(&state.address_map, store, HAMT_BIT_WIDTH)
        .context("cannot load init's address map")?;
    let mut found = None;
    map.for_each(|key: &BytesKey, value: &ActorID| {
        if *value == id
            && let Ok(addr) = Address::from_bytes(&key.0)
            && addr.protocol() == Protocol::Actor
        {
            found = Some(addr);
        }
        Ok(())
    })
    .context("cannot walk init's address map")?;
    Ok(found)
}

/// A payment channel as the chain holds it: the actor's state, its balance
/// and every lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaychState {
    pub state: State,
    pub balance: TokenAmount,
    /// Every lane with its state, in lane order.
    pub lanes: Vec<(u64, LaneState)>,
}

impl PaychState {
    /// Decodes the channel whose state root is `state`.
    pub fn decode(
        store: &impl Blockstore,
        state: &Cid,
        balance: TokenAmount,
    ) -> anyhow::Result<Self> {
        let state: State = store
            .get_cbor(state)
            .context("cannot load the channel state")?
            .ok_or_else(|| anyhow!("the channel state is missing"))?;
        let lanes = state
            .lanes(store)
            .context("cannot load the channel's lanes")?;
        Ok(Self {
            state,
            balance,
            lanes,
        })
    }

    /// The payer's actor ID (parties are stored as ID addresses).
    pub fn from_id(&self) -> anyhow::Result<ActorID> {
        self.state
            .from
            .id()
            .map_err(|_| anyhow!("channel payer {} is not an ID address", self.state.from))
    }

    /// The payee's actor ID.
    pub fn to_id(&self) -> anyhow::Result<ActorID> {
        self.state
            .to
            .id()
            .map_err(|_| anyhow!("channel payee {} is not an ID address", self.state.to))
    }

    /// The state of `lane`, if it has been redeemed on.
    pub fn lane(&self, lane: u64) -> Option<&LaneState> {
        self.lanes.iter().find(|(l, _)| *l == lane).map(|(_, s)| s)
    }
}

/// The payment channel at `id`; `None` if no actor is there or it is not a
/// payment channel.
pub fn payment_channel<B: Blockstore>(
    tree: &StateTree<B>,
    manifest: &Manifest,
    id: ActorID,
) -> anyhow::Result<Option<PaychState>> {
    let Some(actor) = builtin_actor(tree, manifest, id, BuiltinType::PaymentChannel)? else {
        return Ok(None);
    };
    PaychState::decode(tree.store(), &actor.state, actor.balance).map(Some)
}

/// The actor at `id` if it is a built-in of type `builtin`.
pub fn builtin_actor<B: Blockstore>(
    tree: &StateTree<B>,
    manifest: &Manifest,
    id: ActorID,
    builtin: BuiltinType,
) -> anyhow::Result<Option<ActorState>> {
    let actor = tree.get_actor(id).explain("cannot load an actor")?;
    Ok(actor.filter(|a| manifest.builtin_type(&a.code) == Some(builtin)))
}
