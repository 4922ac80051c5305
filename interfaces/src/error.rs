//! The one error type of every actor here: each failure carries the exit code
//! the chain will see, plus a message for humans. Context can be added without
//! losing the code.

use alloc::format;
use alloc::string::String;
use core::fmt;

use fvm_shared::error::{ErrorNumber, ExitCode};

#[derive(Clone, PartialEq, Eq)]
pub struct ActorError {
    exit_code: ExitCode,
    msg: String,
}

impl ActorError {
    /// An error with exactly this code, even if it is a system code.
    pub fn unchecked(exit_code: ExitCode, msg: impl Into<String>) -> Self {
        Self {
            exit_code,
            msg: msg.into(),
        }
    }

    /// An error carrying a code that another actor exited with. System codes
    /// are not ours to re-raise: a callee that misbehaved (no return value
    /// where one was required, a trap, an illegal exit code) becomes
    /// USR_UNSPECIFIED and any other system code USR_ASSERTION_FAILED.
    pub fn checked(code: ExitCode, msg: impl Into<String>) -> Self {
        Self {
            exit_code: checked_exit_code(code),
            msg: msg.into(),
        }
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

    pub fn exit_code(&self) -> ExitCode {
        self.exit_code
    }

    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// Prefixes the message with `context`, keeping the exit code.
    pub fn wrap(self, context: impl fmt::Display) -> Self {
        Self {
            exit_code: self.exit_code,
            msg: format!("{context}: {}", self.msg),
        }
    }

    /// The error for a send that the FVM refused before the callee ran (a
    /// syscall error rather than an exit code from the callee).
    pub fn from_send_error(err: ErrorNumber) -> Self {
        match err {
            ErrorNumber::NotFound => Self::unspecified("receiver not found"),
            ErrorNumber::InsufficientFunds => Self::insufficient_funds("not enough funds"),
            ErrorNumber::LimitExceeded => Self::assertion_failed("recursion limit exceeded"),
            ErrorNumber::ReadOnly => Self::unchecked(
                ExitCode::USR_READ_ONLY,
                "attempted to mutate state while in readonly mode",
            ),
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
            "ActorError(exit code {}: {})",
            self.exit_code.value(),
            self.msg
        )
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
