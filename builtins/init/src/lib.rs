//! Devnet stand-in for the built-in **init** actor.
//!
//! Creates payment channels (and multisigs) with `Exec`, exactly as the real
//! one does: allocate a robust f2 address and the next ID, record the mapping
//! in the address map, create the actor, run its constructor with the
//! message's value, and return `[id_address, robust_address]`. It refuses the
//! callers the real one refuses: internal methods only from built-in, non-EVM
//! actors; the constructor only from the system actor; `Exec4` only from the
//! EAM (which the devnet's stand-in never calls).
//!
//! The state must be the FVM's own init layout (`actor_interfaces::init::State`),
//! because the FVM edits it directly when it creates accounts on a first send.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;
    use alloc::string::String;

    use actor_interfaces::builtin::{BuiltinType, EAM_ACTOR_ID, SYSTEM_ACTOR_ID};
    use actor_interfaces::codec::{decode_params, encode_return};
    use actor_interfaces::init::{
        CONSTRUCTOR_METHOD, EXEC_METHOD, EXEC4_METHOD, Exec4Params, ExecParams, ExecReturn,
        FIRST_NON_SINGLETON_ID, State,
    };
    use actor_interfaces::{ActorError, ExitCodeContext};
    use fvm_ipld_encoding::CBOR;
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_ipld_hamt::{BytesKey, Hamt};
    use fvm_shared::address::Address;
    use fvm_shared::error::ExitCode;
    use fvm_shared::{ActorID, HAMT_BIT_WIDTH, METHOD_CONSTRUCTOR};
    use sdk_support::{SdkBlockstore, load_state, restrict_internal_api, save_state};

    #[unsafe(no_mangle)]
    pub extern "C" fn invoke(params_id: u32) -> u32 {
        sdk_support::invoke_with(params_id, |method, params| {
            restrict_internal_api(method)?;
            match method {
                CONSTRUCTOR_METHOD => {
                    let (network_name,): (String,) = decode_params(params)?;
                    constructor(network_name).map(|()| None)
                }
                EXEC_METHOD => encode_return(&exec(decode_params(params)?)?),
                EXEC4_METHOD => exec4(decode_params(params)?),
                m => Err(ActorError::unhandled_message(format!(
                    "invalid method: {m}"
                ))),
            }
        })
    }

    /// Only the EAM may deploy at a delegated address. The devnet's EAM is an
    /// inert stand-in that never calls, so no caller gets further.
    fn exec4(_params: Exec4Params) -> Result<Option<IpldBlock>, ActorError> {
        if fvm_sdk::message::caller() != EAM_ACTOR_ID {
            return Err(ActorError::forbidden("only the EAM may call Exec4"));
        }
        Err(ActorError::unhandled_message(
            "Exec4 is not implemented by the devnet stand-in",
        ))
    }

    fn constructor(network_name: String) -> Result<(), ActorError> {
        if fvm_sdk::message::caller() != SYSTEM_ACTOR_ID {
            return Err(ActorError::forbidden(
                "only the system actor may construct init",
            ));
        }
        let address_map = Hamt::<_, ActorID>::new_with_bit_width(SdkBlockstore, HAMT_BIT_WIDTH)
            .flush()
            .exit_code(
                ExitCode::USR_ILLEGAL_STATE,
                "failed to create the address map",
            )?;
        save_state(&State {
            address_map,
            next_id: FIRST_NON_SINGLETON_ID,
            network_name,
        })
    }

    fn exec(params: ExecParams) -> Result<ExecReturn, ActorError> {
        // Anyone may exec a payment channel or a multisig, nothing else.
        let exec_type = fvm_sdk::actor::get_builtin_actor_type(&params.code_cid)
            .and_then(|t| u32::try_from(t).ok())
            .and_then(BuiltinType::from_type_number);
        if !matches!(
            exec_type,
            Some(BuiltinType::PaymentChannel | BuiltinType::Multisig)
        ) {
            return Err(ActorError::forbidden(format!(
                "caller cannot exec actor code {}",
                params.code_cid
            )));
        }

        let robust_address = fvm_sdk::actor::next_actor_address();
        let mut st: State = load_state()?;
        let id = st.next_id;
        st.next_id += 1;
        let mut map =
            Hamt::<_, ActorID>::load_with_bit_width(&st.address_map, SdkBlockstore, HAMT_BIT_WIDTH)
                .exit_code(
                    ExitCode::USR_ILLEGAL_STATE,
                    "failed to load the address map",
                )?;
        map.set(BytesKey(robust_address.to_bytes()), id)
            .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to map the new address")?;
        st.address_map = map.flush().exit_code(
            ExitCode::USR_ILLEGAL_STATE,
            "failed to save the address map",
        )?;
        save_state(&st)?;

        fvm_sdk::actor::create_actor(id, &params.code_cid, None)
            .map_err(|e| ActorError::illegal_argument(format!("failed to create actor: {e}")))?;

        let constructor_params = (!params.constructor_params.is_empty()).then(|| IpldBlock {
            codec: CBOR,
            data: params.constructor_params.into(),
        });
        let response = fvm_sdk::send::send(
            &Address::new_id(id),
            METHOD_CONSTRUCTOR,
            constructor_params,
            fvm_sdk::message::value_received(),
            None,
            Default::default(),
        )
        .map_err(|e| ActorError::assertion_failed(format!("constructor send failed: {e}")))?;
        if !response.exit_code.is_success() {
            return Err(ActorError::checked(
                response.exit_code,
                format!("constructor failed with {}", response.exit_code),
                response.return_data,
            ));
        }
        Ok(ExecReturn {
            id_address: Address::new_id(id),
            robust_address,
        })
    }
}
