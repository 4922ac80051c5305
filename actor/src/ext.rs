//! What the channel needs to know about other actors: method numbers and
//! parameters of the account and init actors, and the built-in actor types.

use alloc::vec::Vec;

use cid::Cid;
use fvm_ipld_encoding::tuple::*;
use fvm_ipld_encoding::{RawBytes, strict_bytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;

pub mod account {
    use super::*;

    pub const CONSTRUCTOR_METHOD: MethodNum = 1;
    pub const PUBKEY_ADDRESS_METHOD: MethodNum = 2;
    /// FRC-0042 number of "AuthenticateMessage" (FRC-0044).
    pub const AUTHENTICATE_MESSAGE_METHOD: MethodNum = 2643134072;

    #[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
    pub struct AuthenticateMessageParams {
        /// The raw signature, without the leading signature-type byte.
        #[serde(with = "strict_bytes")]
        pub signature: Vec<u8>,
        #[serde(with = "strict_bytes")]
        pub message: Vec<u8>,
    }
}

pub mod init {
    use super::*;

    pub const INIT_ACTOR_ID: u64 = 1;
    pub const EXEC_METHOD: MethodNum = 2;

    #[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
    pub struct ExecParams {
        pub code_cid: Cid,
        pub constructor_params: RawBytes,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
    pub struct ExecReturn {
        pub id_address: Address,
        pub robust_address: Address,
    }
}

/// Built-in actor types, numbered as the FVM numbers them: by position in the
/// canonical builtin-actors manifest, starting at 1 (the order is listed in
/// `paych_bundle::MANIFEST_NAMES`).
pub mod builtin {
    pub const SYSTEM: u32 = 1;
    pub const INIT: u32 = 2;
    pub const ACCOUNT: u32 = 4;
    pub const PAYMENT_CHANNEL: u32 = 8;
    pub const PLACEHOLDER: u32 = 13;
    pub const EVM: u32 = 14;
    pub const ETHACCOUNT: u32 = 16;
}
