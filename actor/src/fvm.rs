//! The Wasm entry point and the `fvm_sdk` implementation of [`Runtime`]. This
//! is the only module that talks to the FVM; it is compiled for Wasm only.

use cid::Cid;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_sdk::error::{ActorDeleteError, StateUpdateError};
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ErrorNumber;
use fvm_shared::sys::SendFlags;
use fvm_shared::{ActorID, MethodNum, Response};
use sdk_support::SdkBlockstore;

use crate::{ActorKind, Runtime};

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
        sdk_support::actor_kind(id)
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

    fn state_root(&self) -> Option<Cid> {
        fvm_sdk::sself::root().ok()
    }

    fn has_initial_state(&self) -> Option<bool> {
        let mut buf = [0u8; fvm_shared::MAX_CID_LEN];
        // SAFETY: the buffer outlives the call and its length is passed.
        let len = unsafe { fvm_sdk::sys::sself::root(buf.as_mut_ptr(), buf.len() as u32) }.ok()?;
        Some(buf.get(..len as usize) == Some(&crate::EMPTY_ARRAY_CID_BYTES[..]))
    }

    fn set_state_root(&mut self, root: &Cid) -> Result<(), ErrorNumber> {
        fvm_sdk::sself::set_root(root).map_err(|e| match e {
            StateUpdateError::ReadOnly => ErrorNumber::ReadOnly,
            StateUpdateError::ActorDeleted => ErrorNumber::IllegalOperation,
        })
    }

    fn delete_actor(&mut self) -> Result<(), ErrorNumber> {
        fvm_sdk::sself::self_destruct(false).map_err(|e| match e {
            ActorDeleteError::ReadOnly => ErrorNumber::ReadOnly,
            ActorDeleteError::UnspentFunds => ErrorNumber::IllegalOperation,
        })
    }
}
