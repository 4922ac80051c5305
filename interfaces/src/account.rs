//! The account actor's interface, as far as this repository uses it: the FVM
//! constructs accounts on a first send to a key address, the payment channel
//! asks them to authenticate voucher signatures.

use alloc::vec::Vec;

use fvm_ipld_encoding::strict_bytes;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::MethodNum;
use fvm_shared::address::Address;

pub const CONSTRUCTOR_METHOD: MethodNum = 1;
/// Returns the account's key address.
pub const PUBKEY_ADDRESS_METHOD: MethodNum = 2;
/// FRC-0042 number of "AuthenticateMessage" (FRC-0044).
pub const AUTHENTICATE_MESSAGE_METHOD: MethodNum = 2643134072;
/// FRC-0042 number of "Receive" (the FRC-0046 universal receiver hook).
pub const UNIVERSAL_RECEIVER_HOOK_METHOD: MethodNum = 3726118371;

/// The account actor's state (the FVM's own layout): its key address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct State {
    pub address: Address,
}

/// AuthenticateMessage parameters. Answered with CBOR `true` when
/// `signature` is the account key's over exactly `message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct AuthenticateMessageParams {
    /// The raw signature, without the leading signature-type byte.
    #[serde(with = "strict_bytes")]
    pub signature: Vec<u8>,
    #[serde(with = "strict_bytes")]
    pub message: Vec<u8>,
}
