//! Devnet stand-in for the built-in **EthAccount** actor: the code behind an
//! f410 address whose Ethereum key has sent a message.
//!
//! It answers as the real one does: the built-in gate on internal methods
//! (only built-in, non-EVM callers), a constructor for the system actor alone
//! (which the FVM never calls: it deploys EthAccounts directly), nothing
//! returned for every exported method (AuthenticateMessage included, so a
//! payment channel cannot authenticate a voucher signed by one: 24), and 22
//! for every other internal method.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;

    use actor_interfaces::ActorError;
    use actor_interfaces::builtin::{EAM_ACTOR_ID, FIRST_EXPORTED_METHOD_NUMBER, SYSTEM_ACTOR_ID};
    use actor_interfaces::codec::expect_no_params;
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_shared::address::Payload;
    use fvm_shared::{METHOD_CONSTRUCTOR, MethodNum};
    use sdk_support::restrict_internal_api;

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
            METHOD_CONSTRUCTOR => {
                expect_no_params(params)?;
                if fvm_sdk::message::caller() != SYSTEM_ACTOR_ID {
                    return Err(ActorError::forbidden(
                        "only the system actor may construct an EthAccount",
                    ));
                }
                let receiver = fvm_sdk::message::receiver();
                match fvm_sdk::actor::lookup_delegated_address(receiver).map(|a| *a.payload()) {
                    Some(Payload::Delegated(d)) if d.namespace() == EAM_ACTOR_ID => Ok(None),
                    _ => Err(ActorError::illegal_argument(
                        "an EthAccount needs an f410 address",
                    )),
                }
            }
            m if m >= FIRST_EXPORTED_METHOD_NUMBER => Ok(None),
            m => Err(ActorError::unhandled_message(format!(
                "invalid method: {m}"
            ))),
        }
    }
}
