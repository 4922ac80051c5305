//! The Wasm entry point and the `fvm_sdk` implementation of [`Runtime`]. This
//! is the only module that talks to the FVM; it is compiled for Wasm only.

use alloc::format;

use cid::Cid;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ErrorNumber;
use fvm_shared::sys::SendFlags;
use fvm_shared::{ActorID, MethodNum, Response};
use sdk_support::SdkBlockstore;

use crate::{ActorError, ActorKind, BuiltinType, Runtime};

#[unsafe(no_mangle)]
pub extern "C" fn invoke(params_id: u32) -> u32 {
    sdk_support::invoke_with(params_id, |method, params| {
        crate::dispatch(&mut FvmRuntime, method, params).map(|()| None)
    })
}

/// The runtime backed by syscalls. Stateless: the FVM holds everything.
struct FvmRuntime;

impl Runtime for FvmRuntime {
    type Blockstore = SdkBlockstore;

    fn store(&self) -> &SdkBlockstore {
        &SdkBlockstore
    }

    fn caller(&self) -> ActorID {
        fvm_sdk::message::caller()
    }

    fn receiver(&self) -> ActorID {
        fvm_sdk::message::receiver()
    }

    fn curr_epoch(&self) -> ChainEpoch {
        fvm_sdk::network::curr_epoch()
    }

    fn current_balance(&self) -> TokenAmount {
        fvm_sdk::sself::current_balance()
    }

    fn resolve_address(&self, addr: &Address) -> Option<ActorID> {
        fvm_sdk::actor::resolve_address(addr)
    }

    fn actor_kind(&self, id: ActorID) -> ActorKind {
        // The syscalls directly: the SDK's helper would first resolve the ID
        // address (a wasted syscall) and panics on unexpected errors, where
        // failing closed (no code) is the safe answer.
        let mut buf = [0u8; fvm_shared::MAX_CID_LEN];
        // SAFETY: the buffer outlives the call and its length is passed.
        let len = match unsafe {
            fvm_sdk::sys::actor::get_actor_code_cid(id, buf.as_mut_ptr(), buf.len() as u32)
        } {
            Ok(len) => len as usize,
            Err(_) => return ActorKind::Missing,
        };
        // SAFETY: `buf[..len]` holds the CID the FVM just wrote.
        match unsafe { fvm_sdk::sys::actor::get_builtin_actor_type(buf[..len].as_ptr()) } {
            Ok(t) => match u32::try_from(t)
                .ok()
                .and_then(BuiltinType::from_type_number)
            {
                Some(builtin) => ActorKind::Builtin(builtin),
                None => ActorKind::User,
            },
            Err(_) => ActorKind::Missing,
        }
    }

    fn send(
        &mut self,
        to: &Address,
        method: MethodNum,
        params: Option<IpldBlock>,
        value: TokenAmount,
        read_only: bool,
    ) -> Result<Response, ErrorNumber> {
        let flags = if read_only {
            SendFlags::READ_ONLY
        } else {
            SendFlags::empty()
        };
        fvm_sdk::send::send(to, method, params, value, None, flags)
    }

    fn blake2b_256(&self, data: &[u8]) -> [u8; 32] {
        fvm_sdk::crypto::hash_blake2b(data)
    }

    fn state_root(&self) -> Result<Cid, ActorError> {
        fvm_sdk::sself::root().map_err(|_| ActorError::illegal_state("actor has no state"))
    }

    fn set_state_root(&mut self, root: &Cid) -> Result<(), ActorError> {
        fvm_sdk::sself::set_root(root)
            .map_err(|e| ActorError::illegal_state(format!("failed to set state root: {e}")))
    }

    fn delete_actor(&mut self) -> Result<(), ActorError> {
        fvm_sdk::sself::self_destruct(false)
            .map_err(|e| ActorError::illegal_state(format!("failed to delete actor: {e}")))
    }
}
