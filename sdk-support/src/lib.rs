//! Wasm-side glue shared by every actor in this repository: a blockstore over
//! the FVM's IPLD syscalls, the `invoke` trampoline, and this actor's own
//! state through them. Compiled for Wasm only; on native targets this crate is
//! empty. Errors, exit codes and codecs come from `actor-interfaces`.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use alloc::format;
    use alloc::vec::Vec;

    use actor_interfaces::builtin::{ActorKind, FIRST_EXPORTED_METHOD_NUMBER};
    use actor_interfaces::codec;
    use actor_interfaces::{ActorError, BuiltinType};
    use cid::Cid;
    use fvm_ipld_blockstore::{Block, Blockstore};
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_sdk::NO_DATA_BLOCK_ID;
    use fvm_shared::error::ExitCode;
    use fvm_shared::{ActorID, MethodNum};
    use multihash_codetable::Code;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// A blockstore over the FVM's IPLD syscalls. Hashing happens in the FVM,
    /// not in Wasm.
    pub struct SdkBlockstore;

    impl Blockstore for SdkBlockstore {
        fn get(&self, cid: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
            fvm_sdk::ipld::get(cid)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("failed to get block {cid}: {e}"))
        }

        fn put_keyed(&self, k: &Cid, block: &[u8]) -> anyhow::Result<()> {
            let code = Code::try_from(k.hash().code())
                .map_err(|_| anyhow::anyhow!("unsupported multihash in {k}"))?;
            let stored = self.put(code, &Block::new(k.codec(), block))?;
            anyhow::ensure!(stored == *k, "block stored as {stored}, expected {k}");
            Ok(())
        }

        fn put<D: AsRef<[u8]>>(&self, code: Code, block: &Block<D>) -> anyhow::Result<Cid> {
            // Every hash this repository uses (blake2b-256) has a 32-byte digest.
            const DIGEST_SIZE: u32 = 32;
            fvm_sdk::ipld::put(code.into(), DIGEST_SIZE, block.codec, block.data.as_ref())
                .map_err(|e| anyhow::anyhow!("failed to put block: {e}"))
        }
    }

    /// Runs one invocation: reads the method and parameters, calls `dispatch`,
    /// and either returns its result block or exits with the error's code and
    /// data (a failing callee's return block that the actor passes on, as the
    /// built-in actors' trampoline does). Panics become USR_ASSERTION_FAILED
    /// aborts instead of traps: the panic hook runs before the `wasm` profile's
    /// `panic = "abort"` would trap.
    pub fn invoke_with(
        params_id: u32,
        dispatch: impl FnOnce(MethodNum, Option<IpldBlock>) -> Result<Option<IpldBlock>, ActorError>,
    ) -> u32 {
        fvm_sdk::vm::set_panic_handler();
        let params = match fvm_sdk::message::params_raw(params_id) {
            Ok(params) => params,
            Err(e) => fvm_sdk::vm::abort(
                ExitCode::USR_SERIALIZATION.value(),
                Some(&format!("failed to read parameters: {e}")),
            ),
        };
        match dispatch(fvm_sdk::message::method_number(), params) {
            Ok(None) => NO_DATA_BLOCK_ID,
            Ok(Some(ret)) => match fvm_sdk::ipld::put_block(ret.codec, &ret.data) {
                Ok(id) => id,
                Err(e) => fvm_sdk::vm::abort(
                    ExitCode::USR_ASSERTION_FAILED.value(),
                    Some(&format!("failed to return a value: {e}")),
                ),
            },
            Err(mut e) => {
                // `vm::abort` is `vm::exit` without data (and turns a zero
                // code, which no ActorError should carry, into a failure).
                let code = match e.exit_code().value() {
                    0 => ExitCode::USR_ASSERTION_FAILED.value(),
                    code => code,
                };
                fvm_sdk::vm::exit(code, e.take_data(), Some(e.msg()))
            }
        }
    }

    /// What kind of actor lives at `id`, with two syscalls (the SDK's helper
    /// would first resolve the ID address, a wasted syscall, and panics on
    /// unexpected errors, where failing closed is the safe answer). A type
    /// number the manifest's type list does not have is not built-in.
    #[inline]
    pub fn actor_kind(id: ActorID) -> ActorKind {
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

    /// The built-in actors' gate on internal methods (below 2^24): only a
    /// built-in actor that is not an EVM contract may call them
    /// (USR_FORBIDDEN otherwise). Exported methods are open to anyone.
    pub fn restrict_internal_api(method: MethodNum) -> Result<(), ActorError> {
        if method >= FIRST_EXPORTED_METHOD_NUMBER {
            return Ok(());
        }
        let caller = fvm_sdk::message::caller();
        if actor_kind(caller).may_call_internal_methods() {
            Ok(())
        } else {
            Err(ActorError::forbidden(format!(
                "caller f0{caller} of method {method} must be a built-in actor"
            )))
        }
    }

    /// Loads this actor's state.
    pub fn load_state<T: DeserializeOwned>() -> Result<T, ActorError> {
        let root =
            fvm_sdk::sself::root().map_err(|_| ActorError::illegal_state("actor has no state"))?;
        codec::load_state(&SdkBlockstore, &root)
    }

    /// Stores `state` as this actor's state.
    pub fn save_state<T: Serialize>(state: &T) -> Result<(), ActorError> {
        let root = codec::save_state(&SdkBlockstore, state)?;
        fvm_sdk::sself::set_root(&root)
            .map_err(|e| ActorError::illegal_state(format!("failed to set state root: {e}")))
    }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::*;
