//! What a message did: the FVM's execution trace (a flat stream of calls,
//! returns and gas charges) folded into a call tree, with each call's own
//! gas charges split into their compute and storage (other) parts, and a
//! compact versioned CBOR encoding for keeping it next to the message.
//!
//! Only what a person or a tool needs to follow a message is kept: every
//! send (from, to, method, value, params, gas limit), the callee's actor ID
//! and code when it was invoked (so its methods can be named), the exit code
//! and return, a syscall error's message, and the gas charges by name. IPLD
//! operations and actor logs are dropped.

use anyhow::{Context, bail};
use cid::Cid;
use fvm::trace::ExecutionEvent;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::{ActorID, MethodNum};

/// The version of [`MessageTrace::encode`]'s layout.
pub const TRACE_VERSION: u64 = 1;

/// One gas charge: its name and parts, in milligas (the FVM's unit; a
/// message's gas used is the total rounded up to whole gas).
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Charge {
    pub name: String,
    pub compute_milligas: u64,
    /// Storage and other deferred costs.
    pub other_milligas: u64,
}

impl Charge {
    pub fn total_milligas(&self) -> u64 {
        self.compute_milligas + self.other_milligas
    }
}

/// Parameters or return data: the IPLD codec and the bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Payload {
    pub codec: u64,
    #[serde(with = "fvm_ipld_encoding::strict_bytes")]
    pub data: Vec<u8>,
}

/// One send and everything it caused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Call {
    pub from: ActorID,
    pub to: Address,
    pub method: MethodNum,
    pub value: TokenAmount,
    pub params: Option<Payload>,
    pub gas_limit: u64,
    pub read_only: bool,
    /// The callee as invoked (`None` when no code ran: a plain value
    /// transfer, or a send that failed before reaching the actor).
    pub invoked: Option<(ActorID, Cid)>,
    /// The exit code (`None` when the send failed with a syscall error).
    pub exit_code: Option<u32>,
    pub returned: Option<Payload>,
    /// The syscall error a failed send returned to its caller.
    pub error: Option<String>,
    /// Charges made while this call was the innermost one.
    pub charges: Vec<Charge>,
    pub calls: Vec<Call>,
}

impl Call {
    /// Gas charged in this call alone, in milligas.
    pub fn own_milligas(&self) -> u64 {
        self.charges.iter().map(Charge::total_milligas).sum()
    }

    /// Gas charged in this call and everything it called, in milligas.
    pub fn total_milligas(&self) -> u64 {
        self.own_milligas() + self.calls.iter().map(Call::total_milligas).sum::<u64>()
    }
}

/// A message's trace: the charges made outside any call (inclusion and
/// message validation, the final refund accounting) and the top-level call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct MessageTrace {
    pub charges: Vec<Charge>,
    pub calls: Vec<Call>,
}

impl MessageTrace {
    /// Folds the FVM's event stream into a tree.
    pub fn from_events(events: &[ExecutionEvent]) -> anyhow::Result<Self> {
        let mut trace = Self::default();
        let mut stack: Vec<Call> = Vec::new();
        for event in events {
            match event {
                ExecutionEvent::GasCharge(charge) => {
                    let charge = Charge {
                        name: charge.name.to_string(),
                        compute_milligas: charge.compute_gas.as_milligas(),
                        other_milligas: charge.other_gas.as_milligas(),
                    };
                    match stack.last_mut() {
                        Some(call) => call.charges.push(charge),
                        None => trace.charges.push(charge),
                    }
                }
                ExecutionEvent::Call {
                    from,
                    to,
                    method,
                    params,
                    value,
                    gas_limit,
                    read_only,
                } => stack.push(Call {
                    from: *from,
                    to: *to,
                    method: *method,
                    value: value.clone(),
                    params: params.as_ref().map(|p| Payload {
                        codec: p.codec,
                        data: p.data.clone(),
                    }),
                    gas_limit: *gas_limit,
                    read_only: *read_only,
                    invoked: None,
                    exit_code: None,
                    returned: None,
                    error: None,
                    charges: Vec::new(),
                    calls: Vec::new(),
                }),
                ExecutionEvent::InvokeActor { id, state } => {
                    if let Some(call) = stack.last_mut() {
                        call.invoked = Some((*id, state.code));
                    }
                }
                ExecutionEvent::CallReturn(code, ret) => {
                    let mut call = stack.pop().context("a return without a call")?;
                    call.exit_code = Some(code.value());
                    call.returned = ret.as_ref().map(|r| Payload {
                        codec: r.codec,
                        data: r.data.clone(),
                    });
                    attach(&mut stack, &mut trace, call);
                }
                ExecutionEvent::CallError(error) => {
                    let mut call = stack.pop().context("an error without a call")?;
                    call.error = Some(format!("{} ({:?})", error.0, error.1));
                    attach(&mut stack, &mut trace, call);
                }
                _ => {}
            }
        }
        if !stack.is_empty() {
            bail!("{} calls never returned", stack.len());
        }
        Ok(trace)
    }

    /// The compact encoding: CBOR of `[version, trace]`.
    pub fn encode(&self) -> anyhow::Result<Vec<u8>> {
        Ok(fvm_ipld_encoding::to_vec(&(TRACE_VERSION, self))?)
    }

    /// Decodes [`MessageTrace::encode`]'s output; refuses other versions.
    pub fn decode(bytes: &[u8]) -> anyhow::Result<Self> {
        let (version, trace): (u64, Self) =
            fvm_ipld_encoding::from_slice(bytes).context("not an encoded message trace")?;
        if version != TRACE_VERSION {
            bail!("trace version {version} is not supported (this paych reads {TRACE_VERSION})");
        }
        Ok(trace)
    }

    /// Every charge of the message, in milligas.
    pub fn total_milligas(&self) -> u64 {
        self.charges.iter().map(Charge::total_milligas).sum::<u64>()
            + self.calls.iter().map(Call::total_milligas).sum::<u64>()
    }
}

fn attach(stack: &mut [Call], trace: &mut MessageTrace, call: Call) {
    match stack.last_mut() {
        Some(parent) => parent.calls.push(call),
        None => trace.calls.push(call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fvm::gas::GasCharge;
    use fvm::kernel::SyscallError;
    use fvm::kernel::prelude::Gas;
    use fvm_shared::error::{ErrorNumber, ExitCode};
    use fvm_shared::state::ActorState;

    fn charge(name: &'static str, compute: u64, other: u64) -> ExecutionEvent {
        ExecutionEvent::GasCharge(GasCharge::new(
            name,
            Gas::from_milligas(compute),
            Gas::from_milligas(other),
        ))
    }

    fn call(from: ActorID, to: u64, method: MethodNum) -> ExecutionEvent {
        ExecutionEvent::Call {
            from,
            to: Address::new_id(to),
            method,
            params: None,
            value: TokenAmount::from_atto(5),
            gas_limit: 1000,
            read_only: false,
        }
    }

    #[test]
    fn events_fold_into_a_call_tree_with_charges_where_they_were_made() {
        let code = Cid::default();
        let events = vec![
            charge("OnChainMessage", 100_000, 200_000),
            call(100, 102, 2),
            ExecutionEvent::InvokeActor {
                id: 102,
                state: ActorState::new_empty(code, None),
            },
            charge("wasm_exec", 7_000, 0),
            call(102, 100, 2643134072),
            charge("OnVerifySignature", 3_000, 0),
            ExecutionEvent::CallReturn(ExitCode::OK, None),
            call(102, 999, 0),
            ExecutionEvent::CallError(SyscallError::new(ErrorNumber::NotFound, "no actor")),
            ExecutionEvent::Log("ignored".into()),
            ExecutionEvent::CallReturn(ExitCode::USR_ILLEGAL_ARGUMENT, None),
            charge("OnRefund", 0, 1_000),
        ];
        let trace = MessageTrace::from_events(&events).unwrap();
        assert_eq!(trace.charges.len(), 2);
        assert_eq!(trace.calls.len(), 1);
        let top = &trace.calls[0];
        assert_eq!(top.invoked, Some((102, code)));
        assert_eq!(top.exit_code, Some(16));
        assert_eq!(top.own_milligas(), 7_000);
        assert_eq!(top.total_milligas(), 10_000);
        assert_eq!(top.calls.len(), 2);
        assert_eq!(top.calls[0].method, 2643134072);
        assert_eq!(top.calls[0].exit_code, Some(0));
        assert!(top.calls[1].error.as_deref().unwrap().contains("no actor"));
        assert_eq!(trace.total_milligas(), 311_000);

        let bytes = trace.encode().unwrap();
        assert_eq!(MessageTrace::decode(&bytes).unwrap(), trace);
        let other_version = fvm_ipld_encoding::to_vec(&(2u64, &trace)).unwrap();
        assert!(MessageTrace::decode(&other_version).is_err());
    }

    #[test]
    fn an_unbalanced_stream_is_refused() {
        assert!(MessageTrace::from_events(&[call(1, 2, 0)]).is_err());
        assert!(
            MessageTrace::from_events(&[ExecutionEvent::CallReturn(ExitCode::OK, None)]).is_err()
        );
    }
}
