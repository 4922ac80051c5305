//! A test-only actor that plays the parts the conformance suite needs and no
//! real actor will: a channel party whose `AuthenticateMessage` reply is
//! configurable (true, false, no value, garbage, an exit code with data), the
//! target of a voucher's `extra` call that records what it received, may call
//! back into the channel from inside it (re-entrancy) and exits with a chosen
//! code and data (as a reverting EVM contract does), and a forwarder that
//! lets a test make any call, read-only or not, from this actor.
//!
//! It is normally a user actor; a test bundle can also put its code in a
//! built-in slot (multisig, init) or a slot the manifest's type list does not
//! have, so that it calls the channel as an actor of that type.
//!
//! The types are native too, so tests build the state and parameters.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::vec::Vec;

use fvm_ipld_encoding::tuple::*;
use fvm_ipld_encoding::{RawBytes, strict_bytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;

/// Replaces the probe's configuration (`Config`).
pub const CONFIGURE_METHOD: MethodNum = 10;
/// Sends a message on the probe's behalf (`ForwardParams`) and returns the
/// callee's exit code (CBOR u32) instead of failing.
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
    /// Exit with `Config::exit_code` (and `Config::exit_data`).
    pub const EXIT: u8 = 4;
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Config {
    pub auth_reply: u8,
    /// Exit code for recorded calls, and for `auth_reply::EXIT`.
    pub exit_code: u32,
    /// CBOR returned with a non-zero `exit_code` (none when empty), as an
    /// EVM contract returns its revert data.
    #[serde(with = "strict_bytes")]
    pub exit_data: Vec<u8>,
    /// A call the probe makes from inside every recorded call, before it
    /// exits: a nested call back into the channel that called it. A failure
    /// of the nested call fails the recorded one with its code.
    pub reenter: Option<ForwardParams>,
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
    /// CBOR parameters (none when empty).
    pub params: RawBytes,
    /// Send with `SendFlags::READ_ONLY`.
    pub read_only: bool,
}

impl ForwardParams {
    /// A call with CBOR `params` (none when empty), not read-only.
    pub fn new(to: Address, method: MethodNum, params: RawBytes) -> Self {
        Self {
            to,
            method,
            params,
            read_only: false,
        }
    }
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
    use fvm_shared::sys::SendFlags;
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
                _ => Err(configured_failure(&st.config, "configured to refuse")),
            },
            CONFIGURE_METHOD => {
                st.config = decode_params(params)?;
                save_state(&st).map(|()| None)
            }
            FORWARD_METHOD => encode_return(&forward(decode_params(params)?)?),
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
                if let Some(nested) = st.config.reenter.clone() {
                    match forward(nested)? {
                        0 => {}
                        code => {
                            return Err(ActorError::unchecked(
                                ExitCode::new(code),
                                "the nested call failed",
                            ));
                        }
                    }
                }
                match st.config.exit_code {
                    0 => Ok(None),
                    _ => Err(configured_failure(&st.config, "configured to fail")),
                }
            }
        }
    }

    /// Makes the call `fwd` describes and returns the callee's exit code.
    fn forward(fwd: ForwardParams) -> Result<u32, ActorError> {
        let params = (!fwd.params.is_empty()).then(|| IpldBlock {
            codec: CBOR,
            data: fwd.params.into(),
        });
        let flags = if fwd.read_only {
            SendFlags::READ_ONLY
        } else {
            SendFlags::empty()
        };
        fvm_sdk::send::send(&fwd.to, fwd.method, params, Default::default(), None, flags)
            .map(|response| response.exit_code.value())
            .map_err(|e| ActorError::unspecified(format!("send failed: {e}")))
    }

    /// The configured exit code, with the configured data if any.
    fn configured_failure(config: &Config, msg: &str) -> ActorError {
        let data = (!config.exit_data.is_empty()).then(|| IpldBlock {
            codec: CBOR,
            data: config.exit_data.clone(),
        });
        ActorError::unchecked_with_data(ExitCode::new(config.exit_code), msg, data)
    }
}
