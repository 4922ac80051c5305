//! Devnet stand-in for the built-in **account** actor.
//!
//! Interface-faithful for what a payment channel needs: the constructor the
//! FVM calls when it creates an account on a first send, `PubkeyAddress`,
//! FRC-0044 `AuthenticateMessage` (secp256k1 and BLS, checked against the
//! stored key address), and the FRC-0046 receiver hook. State is the FVM's own
//! account layout, `[address]`. Plain value sends never run actor code.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;
    use alloc::vec::Vec;

    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_ipld_encoding::strict_bytes;
    use fvm_ipld_encoding::tuple::*;
    use fvm_shared::address::{Address, Protocol};
    use fvm_shared::crypto::signature::{Signature, SignatureType};
    use fvm_shared::error::ExitCode;
    use fvm_shared::{METHOD_CONSTRUCTOR, MethodNum};
    use sdk_support::{
        Error, decode_params as decode, encode_return as encode, load_state, save_state,
    };

    const PUBKEY_ADDRESS_METHOD: MethodNum = 2;
    /// FRC-0042 number of "AuthenticateMessage".
    const AUTHENTICATE_MESSAGE_METHOD: MethodNum = 2643134072;
    /// FRC-0042 number of "Receive" (FRC-0046 universal receiver hook).
    const UNIVERSAL_RECEIVER_HOOK_METHOD: MethodNum = 3726118371;
    const SYSTEM_ACTOR_ID: u64 = 0;

    #[derive(Serialize_tuple, Deserialize_tuple)]
    struct State {
        address: Address,
    }

    #[derive(Serialize_tuple, Deserialize_tuple)]
    struct AuthenticateMessageParams {
        #[serde(with = "strict_bytes")]
        signature: Vec<u8>,
        #[serde(with = "strict_bytes")]
        message: Vec<u8>,
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn invoke(params_id: u32) -> u32 {
        sdk_support::invoke_with(params_id, dispatch)
    }

    fn dispatch(method: MethodNum, params: Option<IpldBlock>) -> Result<Option<IpldBlock>, Error> {
        match method {
            METHOD_CONSTRUCTOR => constructor(decode(params)?).map(|()| None),
            PUBKEY_ADDRESS_METHOD => encode(&load_state::<State>()?.address),
            AUTHENTICATE_MESSAGE_METHOD => {
                authenticate(decode(params)?)?;
                encode(&true)
            }
            UNIVERSAL_RECEIVER_HOOK_METHOD => Ok(None),
            m => Err((
                ExitCode::USR_UNHANDLED_MESSAGE,
                format!("invalid method: {m}"),
            )),
        }
    }

    fn constructor(address: Address) -> Result<(), Error> {
        if fvm_sdk::message::caller() != SYSTEM_ACTOR_ID {
            return Err((
                ExitCode::USR_FORBIDDEN,
                "only the system actor may construct accounts".into(),
            ));
        }
        match address.protocol() {
            Protocol::Secp256k1 | Protocol::BLS => {}
            _ => {
                return Err((
                    ExitCode::USR_ILLEGAL_ARGUMENT,
                    format!("address must use BLS or SECP protocol, got {address}"),
                ));
            }
        }
        save_state(&State { address })
    }

    /// Accepts the signature only if it is the stored key's, over exactly
    /// `message`. The signature type comes from the key, not the caller.
    fn authenticate(params: AuthenticateMessageParams) -> Result<(), Error> {
        let key = load_state::<State>()?.address;
        let sig_type = match key.protocol() {
            Protocol::Secp256k1 => SignatureType::Secp256k1,
            Protocol::BLS => SignatureType::BLS,
            _ => {
                return Err((
                    ExitCode::USR_ILLEGAL_STATE,
                    format!("account key {key} cannot sign"),
                ));
            }
        };
        let signature = Signature {
            sig_type,
            bytes: params.signature,
        };
        match fvm_sdk::crypto::verify_signature(&signature, &key, &params.message) {
            Ok(true) => Ok(()),
            _ => Err((ExitCode::USR_ILLEGAL_ARGUMENT, "invalid signature".into())),
        }
    }
}
