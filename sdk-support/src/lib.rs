//! Wasm-side glue shared by every actor in this repository: a blockstore over
//! the FVM's IPLD syscalls and the `invoke` trampoline. Compiled for Wasm only;
//! on native targets this crate is empty.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    use alloc::string::ToString;

    use cid::Cid;
    use fvm_ipld_blockstore::{Block, Blockstore};
    use fvm_ipld_encoding::CborStore;
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

    /// An exit code and a message: how the stand-ins report failure.
    pub type Error = (ExitCode, String);

    /// Runs one invocation: reads the method and parameters, calls `dispatch`,
    /// and either returns its result block or aborts with its exit code.
    /// Panics become USR_ASSERTION_FAILED aborts instead of traps.
    pub fn invoke_with(
        params_id: u32,
        dispatch: impl FnOnce(MethodNum, Option<IpldBlock>) -> Result<Option<IpldBlock>, Error>,
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
            Err((code, msg)) => fvm_sdk::vm::abort(code.value(), Some(&msg)),
        }
    }

    /// Decodes required CBOR parameters: missing is USR_ILLEGAL_ARGUMENT,
    /// undecodable USR_SERIALIZATION.
    pub fn decode_params<T: DeserializeOwned>(params: Option<IpldBlock>) -> Result<T, Error> {
        params
            .ok_or_else(|| {
                (
                    ExitCode::USR_ILLEGAL_ARGUMENT,
                    "method expects arguments".into(),
                )
            })?
            .deserialize()
            .map_err(|e| {
                (
                    ExitCode::USR_SERIALIZATION,
                    format!("failed to decode parameters: {e}"),
                )
            })
    }

    /// Encodes a return value as a CBOR block.
    pub fn encode_return<T: Serialize>(value: &T) -> Result<Option<IpldBlock>, Error> {
        IpldBlock::serialize_cbor(value).map_err(|e| {
            (
                ExitCode::USR_SERIALIZATION,
                format!("failed to encode return: {e}"),
            )
        })
    }

    /// The exit code to re-raise for a callee that exited with `code`: system
    /// codes are not ours to raise (same mapping as the built-in actors).
    pub fn checked_exit_code(code: ExitCode) -> ExitCode {
        match code {
            ExitCode::SYS_MISSING_RETURN
            | ExitCode::SYS_ILLEGAL_INSTRUCTION
            | ExitCode::SYS_ILLEGAL_EXIT_CODE => ExitCode::USR_UNSPECIFIED,
            c if c.is_system_error() => ExitCode::USR_ASSERTION_FAILED,
            c => c,
        }
    }

    /// Loads this actor's state.
    pub fn load_state<T: DeserializeOwned>() -> Result<T, Error> {
        let root = fvm_sdk::sself::root()
            .map_err(|_| (ExitCode::USR_ILLEGAL_STATE, "actor has no state".into()))?;
        SdkBlockstore
            .get_cbor(&root)
            .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?
            .ok_or_else(|| (ExitCode::USR_ILLEGAL_STATE, "actor state not found".into()))
    }

    /// Stores `state` as this actor's state.
    pub fn save_state<T: Serialize>(state: &T) -> Result<(), Error> {
        let root = SdkBlockstore
            .put_cbor(state, Code::Blake2b256)
            .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?;
        fvm_sdk::sself::set_root(&root).map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))
    }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::*;
