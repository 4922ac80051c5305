//! A message's receipt as the chain records it, and the names Lotus and the
//! FVM give exit codes and methods.

use actor_interfaces::BuiltinType;
use actor_interfaces::account;
use actor_interfaces::init;
use fvm::executor::{ApplyFailure, ApplyRet};
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::{METHOD_CONSTRUCTOR, METHOD_SEND, MethodNum};
use paych_actor::Method;

/// What applying a message produced: the receipt proper (exit code, return
/// data, gas used) and where the sender's fee went.
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub exit_code: ExitCode,
    pub return_data: Vec<u8>,
    pub gas_used: u64,
    pub base_fee_burn: TokenAmount,
    pub over_estimation_burn: TokenAmount,
    pub miner_tip: TokenAmount,
    pub refund: TokenAmount,
    /// Why it failed, in one line (the actors' abort messages).
    pub failure: Option<String>,
}

impl Receipt {
    /// What the sender paid for gas.
    pub fn fee(&self) -> TokenAmount {
        &self.base_fee_burn + &self.over_estimation_burn + &self.miner_tip
    }
}

impl From<&ApplyRet> for Receipt {
    fn from(ret: &ApplyRet) -> Self {
        Self {
            exit_code: ret.msg_receipt.exit_code,
            return_data: ret.msg_receipt.return_data.to_vec(),
            gas_used: ret.msg_receipt.gas_used,
            base_fee_burn: ret.base_fee_burn.clone(),
            over_estimation_burn: ret.over_estimation_burn.clone(),
            miner_tip: ret.miner_tip.clone(),
            refund: ret.refund.clone(),
            failure: ret.failure_info.as_ref().map(summarize),
        }
    }
}

/// One line from the FVM's failure report: the top actor's abort message and,
/// when the failure started deeper, the source's.
fn summarize(failure: &ApplyFailure) -> String {
    match failure {
        ApplyFailure::PreValidation(msg) => msg.trim().to_string(),
        ApplyFailure::MessageBacktrace(bt) => {
            let top = bt.frames.last().map(|f| f.message.trim().to_string());
            let source = bt.frames.first().map(|f| f.message.trim().to_string());
            let cause = bt.cause.as_ref().map(|c| c.to_string());
            match (top, source, cause) {
                (Some(top), Some(source), _) if top != source => {
                    format!("{top} (caused by: {source})")
                }
                (Some(top), _, _) => top,
                (None, _, Some(cause)) => cause,
                (None, _, None) => String::new(),
            }
        }
    }
}

/// The name of an exit code, as the FVM and Lotus print them.
pub fn exit_code_name(code: ExitCode) -> String {
    let name = match code.value() {
        0 => "Ok",
        1 => "SysErrSenderInvalid",
        2 => "SysErrSenderStateInvalid",
        4 => "SysErrIllegalInstruction",
        5 => "SysErrInvalidReceiver",
        6 => "SysErrInsufficientFunds",
        7 => "SysErrOutOfGas",
        8 => "SysErrIllegalExitCode",
        10 => "SysErrFatal",
        11 => "SysErrMissingReturn",
        16 => "ErrIllegalArgument",
        17 => "ErrNotFound",
        18 => "ErrForbidden",
        19 => "ErrInsufficientFunds",
        20 => "ErrIllegalState",
        21 => "ErrSerialization",
        22 => "ErrUnhandledMessage",
        23 => "ErrUnspecified",
        24 => "ErrAssertionFailed",
        25 => "ErrReadOnly",
        26 => "ErrNotPayable",
        32 => "ErrChannelStateUpdateAfterSettled",
        _ => return format!("exit code {}", code.value()),
    };
    format!("{}({})", name, code.value())
}

/// The name of `method` on an actor of type `callee` (`None` for an actor
/// that is not built-in or does not exist), as Lotus prints it.
pub fn method_name(callee: Option<BuiltinType>, method: MethodNum) -> String {
    let known = match (callee, method) {
        (_, METHOD_SEND) => Some("Send"),
        (Some(_), METHOD_CONSTRUCTOR) => Some("Constructor"),
        (Some(BuiltinType::Init), init::EXEC_METHOD) => Some("Exec"),
        (Some(BuiltinType::Account), account::PUBKEY_ADDRESS_METHOD) => Some("PubkeyAddress"),
        (Some(BuiltinType::Account), account::AUTHENTICATE_MESSAGE_METHOD) => {
            Some("AuthenticateMessage")
        }
        (Some(BuiltinType::Account), account::UNIVERSAL_RECEIVER_HOOK_METHOD) => Some("Receive"),
        (Some(BuiltinType::PaymentChannel), m) if m == Method::UpdateChannelState as u64 => {
            Some("UpdateChannelState")
        }
        (Some(BuiltinType::PaymentChannel), m) if m == Method::Settle as u64 => Some("Settle"),
        (Some(BuiltinType::PaymentChannel), m) if m == Method::Collect as u64 => Some("Collect"),
        _ => None,
    };
    match known {
        Some(name) => name.to_string(),
        None => format!("Method{method}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_by_the_callee_type_not_the_number_alone() {
        assert_eq!(method_name(Some(BuiltinType::Init), 2), "Exec");
        assert_eq!(
            method_name(Some(BuiltinType::PaymentChannel), 2),
            "UpdateChannelState"
        );
        assert_eq!(method_name(Some(BuiltinType::Account), 2), "PubkeyAddress");
        assert_eq!(method_name(None, 2), "Method2");
        assert_eq!(method_name(None, 0), "Send");
        assert_eq!(
            method_name(Some(BuiltinType::Account), 2643134072),
            "AuthenticateMessage"
        );
    }
}
