//! The init actor's interface: `Exec` creates a payment channel (or multisig)
//! and returns its ID and robust addresses.

use alloc::string::String;

use cid::Cid;
use fvm_ipld_encoding::RawBytes;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::address::Address;
use fvm_shared::{ActorID, MethodNum};

pub const CONSTRUCTOR_METHOD: MethodNum = 1;
pub const EXEC_METHOD: MethodNum = 2;
/// Deploys an actor at a delegated (f4) address; the EAM's alone.
pub const EXEC4_METHOD: MethodNum = 3;
/// The first ID init hands out.
pub const FIRST_NON_SINGLETON_ID: ActorID = 100;

/// Init's state, the FVM's own layout: the FVM edits it directly when it
/// creates an account on a first send. `address_map` is a HAMT (bit width 5)
/// from address bytes to actor ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct State {
    pub address_map: Cid,
    pub next_id: ActorID,
    pub network_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct ExecParams {
    pub code_cid: Cid,
    pub constructor_params: RawBytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Exec4Params {
    pub code_cid: Cid,
    pub constructor_params: RawBytes,
    /// The f4 subaddress under the caller's namespace.
    pub subaddress: RawBytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct ExecReturn {
    pub id_address: Address,
    pub robust_address: Address,
}
