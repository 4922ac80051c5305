//! Parameters, return values and state as every actor here encodes them, with
//! the exit codes the built-in actors use when that fails: missing parameters
//! are USR_ILLEGAL_ARGUMENT, undecodable ones USR_SERIALIZATION, a state that
//! cannot be read or written USR_ILLEGAL_STATE.

use cid::Cid;
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::CborStore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::error::ExitCode;
use multihash_codetable::Code;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ActorError, ExitCodeContext};

/// Decodes a method's required CBOR parameters.
pub fn decode_params<T: DeserializeOwned>(params: Option<IpldBlock>) -> Result<T, ActorError> {
    params
        .ok_or_else(|| ActorError::illegal_argument("method expects arguments"))?
        .deserialize()
        .exit_code(ExitCode::USR_SERIALIZATION, "failed to decode parameters")
}

/// Refuses parameters for a method that takes none.
pub fn expect_no_params(params: Option<IpldBlock>) -> Result<(), ActorError> {
    match params {
        None => Ok(()),
        Some(_) => Err(ActorError::illegal_argument("method expects no arguments")),
    }
}

/// Encodes a return value as a CBOR block.
pub fn encode_return<T: Serialize + ?Sized>(value: &T) -> Result<Option<IpldBlock>, ActorError> {
    IpldBlock::serialize_cbor(value)
        .exit_code(ExitCode::USR_SERIALIZATION, "failed to encode return")
}

/// Loads an actor's state from its root.
pub fn load_state<T: DeserializeOwned, BS: Blockstore>(
    store: &BS,
    root: &Cid,
) -> Result<T, ActorError> {
    store
        .get_cbor::<T>(root)
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to load state")?
        .ok_or_else(|| ActorError::illegal_state("state not found"))
}

/// Stores an actor's state (DAG-CBOR, blake2b-256) and returns its root.
pub fn save_state<T: Serialize, BS: Blockstore>(store: &BS, state: &T) -> Result<Cid, ActorError> {
    store
        .put_cbor(state, Code::Blake2b256)
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to store state")
}
