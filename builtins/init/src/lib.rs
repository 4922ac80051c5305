//! Devnet stand-in for the built-in **init** actor.
//!
//! Creates payment channels (and multisigs) with `Exec`, exactly as the real
//! one does: allocate a robust f2 address and the next ID, record the mapping
//! in the address map, create the actor, run its constructor with the
//! message's value, and return `[id_address, robust_address]`.
//!
//! The state must be the FVM's own init layout (`[address_map, next_id,
//! network_name]`, the map a HAMT of bit width 5 from address bytes to ID),
//! because the FVM edits it directly when it creates accounts on a first send.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;
    use alloc::string::{String, ToString};

    use cid::Cid;
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_ipld_encoding::tuple::*;
    use fvm_ipld_encoding::{CBOR, RawBytes};
    use fvm_ipld_hamt::{BytesKey, Hamt};
    use fvm_shared::address::Address;
    use fvm_shared::error::ExitCode;
    use fvm_shared::{ActorID, HAMT_BIT_WIDTH, METHOD_CONSTRUCTOR, MethodNum};
    use sdk_support::{
        Error, SdkBlockstore, checked_exit_code, decode_params, encode_return, load_state,
        save_state,
    };

    const EXEC_METHOD: MethodNum = 2;
    const SYSTEM_ACTOR_ID: ActorID = 0;
    /// Built-in types (manifest positions) that anyone may Exec.
    const PAYMENT_CHANNEL_TYPE: i32 = 8;
    const MULTISIG_TYPE: i32 = 9;

    #[derive(Serialize_tuple, Deserialize_tuple)]
    struct State {
        address_map: Cid,
        next_id: ActorID,
        network_name: String,
    }

    #[derive(Serialize_tuple, Deserialize_tuple)]
    struct ExecParams {
        code_cid: Cid,
        constructor_params: RawBytes,
    }

    #[derive(Serialize_tuple, Deserialize_tuple)]
    struct ExecReturn {
        id_address: Address,
        robust_address: Address,
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn invoke(params_id: u32) -> u32 {
        sdk_support::invoke_with(params_id, |method, params| match method {
            METHOD_CONSTRUCTOR => constructor(decode_params(params)?).map(|()| None),
            EXEC_METHOD => encode_return(&exec(decode_params(params)?)?),
            m => Err((
                ExitCode::USR_UNHANDLED_MESSAGE,
                format!("invalid method: {m}"),
            )),
        })
    }

    fn constructor(network_name: String) -> Result<(), Error> {
        if fvm_sdk::message::caller() != SYSTEM_ACTOR_ID {
            return Err((
                ExitCode::USR_FORBIDDEN,
                "only the system actor may construct init".into(),
            ));
        }
        let address_map = Hamt::<_, ActorID>::new_with_bit_width(SdkBlockstore, HAMT_BIT_WIDTH)
            .flush()
            .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?;
        save_state(&State {
            address_map,
            next_id: 100,
            network_name,
        })
    }

    fn exec(params: ExecParams) -> Result<ExecReturn, Error> {
        match fvm_sdk::actor::get_builtin_actor_type(&params.code_cid) {
            Some(PAYMENT_CHANNEL_TYPE | MULTISIG_TYPE) => {}
            _ => {
                return Err((
                    ExitCode::USR_FORBIDDEN,
                    format!("caller cannot exec actor code {}", params.code_cid),
                ));
            }
        }

        let robust_address = fvm_sdk::actor::next_actor_address();
        let mut st: State = load_state()?;
        let id = st.next_id;
        st.next_id += 1;
        let mut map =
            Hamt::<_, ActorID>::load_with_bit_width(&st.address_map, SdkBlockstore, HAMT_BIT_WIDTH)
                .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?;
        map.set(BytesKey(robust_address.to_bytes()), id)
            .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?;
        st.address_map = map
            .flush()
            .map_err(|e| (ExitCode::USR_ILLEGAL_STATE, e.to_string()))?;
        save_state(&st)?;

        fvm_sdk::actor::create_actor(id, &params.code_cid, None).map_err(|e| {
            (
                ExitCode::USR_ILLEGAL_ARGUMENT,
                format!("failed to create actor: {e}"),
            )
        })?;

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
        .map_err(|e| {
            (
                ExitCode::USR_ASSERTION_FAILED,
                format!("constructor send failed: {e}"),
            )
        })?;
        if !response.exit_code.is_success() {
            return Err((
                checked_exit_code(response.exit_code),
                format!("constructor failed with {}", response.exit_code),
            ));
        }
        Ok(ExecReturn {
            id_address: Address::new_id(id),
            robust_address,
        })
    }
}
