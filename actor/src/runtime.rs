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

pub use actor_interfaces::builtin::ActorKind;

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

    /// The root of this actor's state; `None` once the actor is deleted. A
    /// new actor's root is the empty array's ([`crate::empty_array_cid`]).
    fn state_root(&self) -> Option<Cid>;
    /// Whether the state is still the one every new actor starts with (the
    /// empty array); `None` once the actor is deleted. The FVM runtime
    /// compares the root's bytes without decoding a CID (the constructor
    /// pays for this check on every channel creation).
    fn has_initial_state(&self) -> Option<bool> {
        self.state_root()
            .map(|root| root == crate::empty_array_cid())
    }
    /// Replaces the root: `ReadOnly` in a read-only call, `IllegalOperation`
    /// once the actor is deleted.
    fn set_state_root(&mut self, root: &Cid) -> Result<(), ErrorNumber>;

    /// Deletes this actor: `ReadOnly` in a read-only call,
    /// `IllegalOperation` while it still holds funds.
    fn delete_actor(&mut self) -> Result<(), ErrorNumber>;
}
