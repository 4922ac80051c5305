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

    use actor_interfaces::ActorError;
    use actor_interfaces::codec;
    use cid::Cid;
    use fvm_ipld_blockstore::{Block, Blockstore};
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_sdk::NO_DATA_BLOCK_ID;
    use fvm_shared::MethodNum;
    use fvm_shared::error::ExitCode;
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
    /// and either returns its result block or aborts with its exit code.
    /// Panics become USR_ASSERTION_FAILED aborts instead of traps.
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
            Err(e) => fvm_sdk::vm::abort(e.exit_code().value(), Some(e.msg())),
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
