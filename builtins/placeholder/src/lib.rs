//! Devnet stand-in for the built-in **placeholder** actor: the code the FVM
//! gives a new f4 address until something is deployed there.
//!
//! Like the real one it has no logic at all: every invocation, whatever its
//! method, caller or parameters, succeeds and returns nothing. A payment
//! channel whose other party is a placeholder therefore gets no value back
//! from AuthenticateMessage and fails with 24, as on mainnet.

/// Returns `NO_DATA_BLOCK_ID` (0): success, no return value.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn invoke(_params: u32) -> u32 {
    0
}
