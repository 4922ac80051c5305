//! Devnet stand-in for the built-in **account** actor.
//!
//! Answers every call as the real one does where a payment channel (or a test)
//! can observe it: the built-in gate on internal methods (only built-in,
//! non-EVM callers), the constructor the FVM calls when it creates an account
//! on a first send (system only), `PubkeyAddress` (no parameters),
//! FRC-0044 `AuthenticateMessage` (secp256k1 and BLS, checked against the
//! stored key address), nothing returned for every other exported method (the
//! FRC-0046 receiver hook among them), and 22 for other internal methods.
//! State is the FVM's own account layout, `[address]`. Plain value sends never
//! run actor code.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;

    use actor_interfaces::ActorError;
    use actor_interfaces::account::{
        AUTHENTICATE_MESSAGE_METHOD, AuthenticateMessageParams, CONSTRUCTOR_METHOD,
        PUBKEY_ADDRESS_METHOD, State,
    };
    use actor_interfaces::builtin::{FIRST_EXPORTED_METHOD_NUMBER, SYSTEM_ACTOR_ID};
    use actor_interfaces::codec::{decode_params, encode_return, expect_no_params};
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_shared::MethodNum;
    use fvm_shared::address::{Address, Protocol};
    use fvm_shared::crypto::signature::{Signature, SignatureType};
    use sdk_support::{load_state, restrict_internal_api, save_state};

    #[unsafe(no_mangle)]
    pub extern "C" fn invoke(params_id: u32) -> u32 {
        sdk_support::invoke_with(params_id, dispatch)
    }

    fn dispatch(
        method: MethodNum,
        params: Option<IpldBlock>,
    ) -> Result<Option<IpldBlock>, ActorError> {
        restrict_internal_api(method)?;
        match method {
            CONSTRUCTOR_METHOD => constructor(decode_params(params)?).map(|()| None),
            PUBKEY_ADDRESS_METHOD => {
                expect_no_params(params)?;
                encode_return(&load_state::<State>()?.address)
            }
            AUTHENTICATE_MESSAGE_METHOD => {
                authenticate(decode_params(params)?)?;
                encode_return(&true)
            }
            // Every other exported method (the universal receiver hook
            // included) accepts anything and returns nothing.
            m if m >= FIRST_EXPORTED_METHOD_NUMBER => Ok(None),
            m => Err(ActorError::unhandled_message(format!(
                "invalid method: {m}"
            ))),
        }
    }

    fn constructor(address: Address) -> Result<(), ActorError> {
        if fvm_sdk::message::caller() != SYSTEM_ACTOR_ID {
            return Err(ActorError::forbidden(
                "only the system actor may construct accounts",
            ));
        }
        match address.protocol() {
            Protocol::Secp256k1 | Protocol::BLS => {}
            _ => {
                return Err(ActorError::illegal_argument(format!(
                    "address must use BLS or SECP protocol, got {address}"
                )));
            }
        }
        save_state(&State { address })
    }

    /// Accepts the signature only if it is the stored key's, over exactly
    /// `message`. The signature type comes from the key, not the caller.
    fn authenticate(params: AuthenticateMessageParams) -> Result<(), ActorError> {
        let key = load_state::<State>()?.address;
        let sig_type = match key.protocol() {
            Protocol::Secp256k1 => SignatureType::Secp256k1,
            Protocol::BLS => SignatureType::BLS,
            _ => {
                return Err(ActorError::illegal_state(format!(
                    "account key {key} cannot sign"
                )));
            }
        };
        let signature = Signature {
            sig_type,
            bytes: params.signature,
        };
        match fvm_sdk::crypto::verify_signature(&signature, &key, &params.message) {
            Ok(true) => Ok(()),
            _ => Err(ActorError::illegal_argument("invalid signature")),
        }
    }
}
