//! The one error type of every actor here: each failure carries the exit code
//! the chain will see, optionally the data the receipt will return, and a
//! message for humans. Context can be added without losing the code or the
//! data.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::fmt;

use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::error::{ErrorNumber, ExitCode};

#[derive(Clone, PartialEq, Eq)]
pub struct ActorError {
    exit_code: ExitCode,
    /// What the actor exits with besides its code: the receipt's return
    /// value (a failing callee's return block, passed on). Boxed: every
    /// `Result` of every method carries an `ActorError`'s size, and the Wasm
    /// pays for every byte moved on the success path too.
    data: Option<Box<IpldBlock>>,
    msg: String,
}

// The constructors are `#[cold]`: errors are the exception, and keeping
// their code out of the success path's way saves Wasm instructions (gas) on
// every call.
impl ActorError {
    /// An error with exactly this code, even if it is a system code.
    #[cold]
    pub fn unchecked(exit_code: ExitCode, msg: impl Into<String>) -> Self {
        Self {
            exit_code,
            data: None,
            msg: msg.into(),
        }
    }

    /// An error with exactly this code that also returns `data`.
    #[cold]
    pub fn unchecked_with_data(
        exit_code: ExitCode,
        msg: impl Into<String>,
        data: Option<IpldBlock>,
    ) -> Self {
        Self {
            data: data.map(Box::new),
            ..Self::unchecked(exit_code, msg)
        }
    }

    /// An error carrying a code that another actor exited with, and the data
    /// it returned (passed on unchanged, as the built-in actors do). System
    /// codes are not ours to re-raise: a callee that misbehaved (no return
    /// value where one was required, a trap, an illegal exit code) becomes
    /// USR_UNSPECIFIED and any other system code USR_ASSERTION_FAILED.
    #[cold]
    pub fn checked(code: ExitCode, msg: impl Into<String>, data: Option<IpldBlock>) -> Self {
        Self::unchecked_with_data(checked_exit_code(code), msg, data)
    }

    pub fn illegal_argument(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_ILLEGAL_ARGUMENT, msg)
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_NOT_FOUND, msg)
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_FORBIDDEN, msg)
    }
    pub fn insufficient_funds(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_INSUFFICIENT_FUNDS, msg)
    }
    pub fn illegal_state(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_ILLEGAL_STATE, msg)
    }
    pub fn serialization(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_SERIALIZATION, msg)
    }
    pub fn unhandled_message(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_UNHANDLED_MESSAGE, msg)
    }
    pub fn unspecified(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_UNSPECIFIED, msg)
    }
    pub fn assertion_failed(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_ASSERTION_FAILED, msg)
    }
    pub fn read_only(msg: impl Into<String>) -> Self {
        Self::unchecked(ExitCode::USR_READ_ONLY, msg)
    }

    pub fn exit_code(&self) -> ExitCode {
        self.exit_code
    }

    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// The data the actor exits with, if any.
    pub fn data(&self) -> Option<&IpldBlock> {
        self.data.as_deref()
    }

    /// Takes the data out (for the exit syscall) without copying it.
    pub fn take_data(&mut self) -> Option<IpldBlock> {
        self.data.take().map(|data| *data)
    }

    /// Prefixes the message with `context`, keeping the exit code and data.
    pub fn wrap(self, context: impl fmt::Display) -> Self {
        Self {
            msg: format!("{context}: {}", self.msg),
            ..self
        }
    }

    /// The error for a send that the FVM refused before the callee ran (a
    /// syscall error rather than an exit code from the callee).
    pub fn from_send_error(err: ErrorNumber) -> Self {
        match err {
            ErrorNumber::NotFound => Self::unspecified("receiver not found"),
            ErrorNumber::InsufficientFunds => Self::insufficient_funds("not enough funds"),
            ErrorNumber::LimitExceeded => Self::assertion_failed("recursion limit exceeded"),
            ErrorNumber::ReadOnly => {
                Self::read_only("attempted to mutate state while in readonly mode")
            }
            other => Self::assertion_failed(format!("unexpected send error: {other}")),
        }
    }
}

/// The exit code an actor re-raises for a callee that exited with `code`, as
/// the built-in actors map it: system codes are not the caller's to raise.
pub fn checked_exit_code(code: ExitCode) -> ExitCode {
    match code {
        ExitCode::SYS_MISSING_RETURN
        | ExitCode::SYS_ILLEGAL_INSTRUCTION
        | ExitCode::SYS_ILLEGAL_EXIT_CODE => ExitCode::USR_UNSPECIFIED,
        c if c.is_system_error() => ExitCode::USR_ASSERTION_FAILED,
        c => c,
    }
}

impl fmt::Debug for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ActorError(exit code {}: {}",
            self.exit_code.value(),
            self.msg
        )?;
        if let Some(data) = &self.data {
            write!(f, "; data {:?}", data)?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (exit code {})", self.msg, self.exit_code.value())
    }
}

/// Attaches an exit code and context to errors from storage and codecs.
pub trait ExitCodeContext<T> {
    fn exit_code(self, code: ExitCode, context: &str) -> Result<T, ActorError>;
}

impl<T, E: fmt::Display> ExitCodeContext<T> for Result<T, E> {
    fn exit_code(self, code: ExitCode, context: &str) -> Result<T, ActorError> {
        self.map_err(|e| ActorError::unchecked(code, format!("{context}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callees_code_is_checked_and_its_data_kept_through_context() {
        let data = Some(IpldBlock {
            codec: fvm_ipld_encoding::CBOR,
            data: alloc::vec![0x41, 0x01],
        });
        let err = ActorError::checked(ExitCode::new(33), "callee failed", data.clone())
            .wrap("extra call");
        assert_eq!(err.exit_code(), ExitCode::new(33));
        assert_eq!(err.data(), data.as_ref());
        assert_eq!(err.msg(), "extra call: callee failed");
        for (code, checked) in [
            (ExitCode::SYS_MISSING_RETURN, ExitCode::USR_UNSPECIFIED),
            (ExitCode::SYS_ILLEGAL_INSTRUCTION, ExitCode::USR_UNSPECIFIED),
            (ExitCode::SYS_ILLEGAL_EXIT_CODE, ExitCode::USR_UNSPECIFIED),
            (ExitCode::SYS_OUT_OF_GAS, ExitCode::USR_ASSERTION_FAILED),
            (ExitCode::USR_FORBIDDEN, ExitCode::USR_FORBIDDEN),
        ] {
            let mut err = ActorError::checked(code, "", data.clone());
            assert_eq!(err.exit_code(), checked);
            assert_eq!(err.take_data(), data);
            assert_eq!(err.data(), None);
        }
    }

    #[test]
    fn errors_of_our_own_carry_no_data() {
        assert_eq!(ActorError::illegal_argument("x").data(), None);
        assert_eq!(
            ActorError::from_send_error(ErrorNumber::ReadOnly).exit_code(),
            ExitCode::USR_READ_ONLY
        );
    }
}
