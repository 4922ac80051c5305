//! A test-only user actor that plays the parts the conformance suite needs
//! and no real actor will: a channel party whose `AuthenticateMessage` reply
//! is configurable (true, false, no value, garbage, an exit code), the target
//! of a voucher's `extra` call that records what it received and exits with a
//! chosen code, and a forwarder that lets a user actor call the channel.
//!
//! The types are native too, so tests build the state and parameters.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::vec::Vec;

use fvm_ipld_encoding::RawBytes;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::MethodNum;
use fvm_shared::address::Address;

/// Replaces the probe's configuration (`Config`).
pub const CONFIGURE_METHOD: MethodNum = 10;
/// Sends a message on the probe's behalf (`ForwardParams`) and returns the
/// callee's exit code instead of failing.
pub const FORWARD_METHOD: MethodNum = 11;
/// Deletes the probe, burning its funds (a party that disappears).
pub const DESTRUCT_METHOD: MethodNum = 12;

/// How the probe answers AuthenticateMessage.
pub mod auth_reply {
    pub const TRUE: u8 = 0;
    pub const FALSE: u8 = 1;
    /// Exit 0 with no return value.
    pub const NO_VALUE: u8 = 2;
    /// Return bytes that are not a CBOR boolean.
    pub const GARBAGE: u8 = 3;
    /// Exit with `Config::exit_code`.
    pub const EXIT: u8 = 4;
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Config {
    pub auth_reply: u8,
    /// Exit code for recorded calls, and for `auth_reply::EXIT`.
    pub exit_code: u32,
}

/// The last call the probe recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Call {
    pub caller: u64,
    pub method: MethodNum,
    pub codec: u64,
    pub data: RawBytes,
    pub value: fvm_shared::econ::TokenAmount,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct State {
    pub config: Config,
    pub calls: Vec<Call>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct ForwardParams {
    pub to: Address,
    pub method: MethodNum,
    pub params: RawBytes,
}

#[cfg(target_arch = "wasm32")]
mod actor {
    use alloc::format;

    use actor_interfaces::ActorError;
    use actor_interfaces::account::AUTHENTICATE_MESSAGE_METHOD;
    use actor_interfaces::codec::{decode_params, encode_return};
    use fvm_ipld_encoding::ipld_block::IpldBlock;
    use fvm_ipld_encoding::{CBOR, RawBytes};
    use fvm_shared::error::ExitCode;
    use sdk_support::{load_state, save_state};

    use super::*;

    #[unsafe(no_mangle)]
    pub extern "C" fn invoke(params_id: u32) -> u32 {
        sdk_support::invoke_with(params_id, dispatch)
    }

    fn dispatch(
        method: MethodNum,
        params: Option<IpldBlock>,
    ) -> Result<Option<IpldBlock>, ActorError> {
        let mut st: State = load_state()?;
        match method {
            AUTHENTICATE_MESSAGE_METHOD => match st.config.auth_reply {
                auth_reply::TRUE => encode_return(&true),
                auth_reply::FALSE => encode_return(&false),
                auth_reply::NO_VALUE => Ok(None),
                auth_reply::GARBAGE => Ok(Some(IpldBlock {
                    codec: CBOR,
                    data: [0x63, 0x61].into(),
                })),
                _ => Err(ActorError::unchecked(
                    ExitCode::new(st.config.exit_code),
                    "configured to refuse",
                )),
            },
            CONFIGURE_METHOD => {
                st.config = decode_params(params)?;
                save_state(&st).map(|()| None)
            }
            FORWARD_METHOD => {
                let fwd: ForwardParams = decode_params(params)?;
                let params = (!fwd.params.is_empty()).then(|| IpldBlock {
                    codec: CBOR,
                    data: fwd.params.into(),
                });
                let code = match fvm_sdk::send::send(
                    &fwd.to,
                    fwd.method,
                    params,
                    Default::default(),
                    None,
                    Default::default(),
                ) {
                    Ok(response) => response.exit_code.value(),
                    Err(e) => return Err(ActorError::unspecified(format!("send failed: {e}"))),
                };
                encode_return(&code)
            }
            DESTRUCT_METHOD => fvm_sdk::sself::self_destruct(true)
                .map(|()| None)
                .map_err(|e| ActorError::illegal_state(format!("cannot self-destruct: {e}"))),
            method => {
                let (codec, data) = params.map(|p| (p.codec, p.data)).unwrap_or_default();
                st.calls.push(Call {
                    caller: fvm_sdk::message::caller(),
                    method,
                    codec,
                    data: RawBytes::new(data),
                    value: fvm_sdk::message::value_received(),
                });
                save_state(&st)?;
                match st.config.exit_code {
                    0 => Ok(None),
                    code => Err(ActorError::unchecked(
                        ExitCode::new(code),
                        "configured to fail",
                    )),
                }
            }
        }
    }
}
