//! What the payment-channel manager needs from a chain: a local repository
//! (wallet, tracked channels, vouchers), the chain's head and state, dry
//! runs, and a way to send messages. The devnet ([`crate::Devnet`]) is one; a
//! lite node forwarding to a full node over Lotus's API is another.

use actor_interfaces::BuiltinType;
use cid::Cid;
use fvm::state_tree::ActorState;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::{ActorID, MethodNum};
use paych_bundle::Manifest;
use paych_chain::{Head, Receipt, state};

use crate::error::{Context, Result};
use crate::node::{MessageSpec, StateView};
use crate::repo::{MessageRecord, Repo, Store};

pub trait ChainNode {
    type Repo: Repo;

    /// The local repository: the wallet, the tracked channels and the
    /// voucher store (on the devnet, the chain too).
    fn repo(&self) -> &Self::Repo;

    /// The chain's built-in actors.
    fn manifest(&self) -> &Manifest;

    /// The head, as the unit of work `store` sees it.
    fn head_in(&self, store: &dyn Store) -> Result<Head>;

    /// The state tree at `root`, its blocks read through `store` (which sees
    /// its own uncommitted blocks) and, where the node has them elsewhere,
    /// from there.
    fn state<'a>(&self, store: &'a dyn Store, root: &Cid) -> Result<StateView<'a>>;

    /// Estimates gas for a message from a wallet address, signs it and sends
    /// it; returns once it is applied, with its receipt. The devnet applies
    /// it inside `tx`, so the message and whatever else `tx` writes are
    /// committed together.
    fn push(&self, tx: &mut dyn Store, spec: &MessageSpec) -> Result<MessageRecord>;

    /// Runs a message against the state at `head`, in the next epoch,
    /// without committing anything (Lotus's `StateCall`).
    fn call(
        &self,
        head: Head,
        from: &Address,
        to: &Address,
        method: MethodNum,
        params: RawBytes,
    ) -> Result<Receipt>;

    /// The built-in type of the actor with `code`.
    fn builtin_type(&self, code: &Cid) -> Option<BuiltinType> {
        self.manifest().builtin_type(code)
    }

    /// The actor an address names, if it exists.
    fn lookup(
        &self,
        tree: &StateView<'_>,
        addr: &Address,
    ) -> Result<Option<(ActorID, ActorState)>> {
        state::lookup(tree, addr).context("cannot look up an actor")
    }

    /// The key address behind an account actor.
    fn account_key(&self, tree: &StateView<'_>, id: ActorID) -> Result<Option<Address>> {
        state::account_key(tree, self.manifest(), id).context("cannot read an account")
    }

    /// A key address for `addr` if it names an account (or is a key
    /// address), else `addr` itself.
    fn key_address(&self, tree: &StateView<'_>, addr: &Address) -> Result<Address> {
        if matches!(addr.protocol(), Protocol::Secp256k1 | Protocol::BLS) {
            return Ok(*addr);
        }
        match tree.lookup_id(addr).context("cannot resolve an address")? {
            Some(id) => Ok(self.account_key(tree, id)?.unwrap_or(*addr)),
            None => Ok(*addr),
        }
    }
}
