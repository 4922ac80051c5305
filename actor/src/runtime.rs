//! The narrow seam between the channel's logic and the chain. `FvmRuntime`
//! (Wasm only) implements it with `fvm_sdk`; `MockRuntime` (native only)
//! implements it in memory for unit and property tests.

use cid::Cid;
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ErrorNumber;
use fvm_shared::{ActorID, MethodNum, Response};

use crate::{ActorError, BuiltinType};

/// What kind of actor lives at an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// No actor (no code) at this ID.
    Missing,
    /// A built-in actor of the given type.
    Builtin(BuiltinType),
    /// Any other code: a user-deployed Wasm actor, or code whose type number
    /// is not in the manifest's type list.
    User,
}

pub trait Runtime {
    type Blockstore: Blockstore;

    /// The store the channel's state and lane AMT live in.
    fn store(&self) -> &Self::Blockstore;

    /// The immediate caller of this invocation.
    fn caller(&self) -> ActorID;
    /// This actor.
    fn receiver(&self) -> ActorID;
    fn curr_epoch(&self) -> ChainEpoch;
    fn current_balance(&self) -> TokenAmount;

    /// The ID an address resolves to. ID addresses resolve to themselves,
    /// whether or not an actor exists there.
    fn resolve_address(&self, addr: &Address) -> Option<ActorID>;
    fn actor_kind(&self, id: ActorID) -> ActorKind;

    /// Sends a message. `Err` is a syscall error: the FVM refused the send and
    /// the callee never ran. A callee's non-zero exit is `Ok` with that code.
    fn send(
        &mut self,
        to: &Address,
        method: MethodNum,
        params: Option<IpldBlock>,
        value: TokenAmount,
        read_only: bool,
    ) -> Result<Response, ErrorNumber>;

    fn blake2b_256(&self, data: &[u8]) -> [u8; 32];

    /// The root of this actor's state.
    fn state_root(&self) -> Result<Cid, ActorError>;
    fn set_state_root(&mut self, root: &Cid) -> Result<(), ActorError>;

    /// Deletes this actor; its balance must already be zero.
    fn delete_actor(&mut self) -> Result<(), ActorError>;
}
