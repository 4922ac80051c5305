//! Everything that crosses a Wasm boundary, defined once.
//!
//! The payment channel, the devnet stand-ins for the built-in actors, the test
//! probe, the bundle, the FVM harness and the devnet all speak to one another
//! through method numbers, CBOR parameters and exit codes. Each of those facts
//! lives here, in a `no_std` crate every side links:
//!
//! - [`builtin`]: the built-in actor types, numbered and ordered as the
//!   builtin-actors manifest orders them, and the well-known actor IDs;
//! - [`account`] and [`init`]: the methods, parameters and state layouts of
//!   the two built-in actors a payment channel talks to;
//! - [`error`]: the exit-code-carrying error every actor here returns, and the
//!   mapping of a callee's exit code onto the caller's;
//! - [`codec`]: decoding parameters, encoding return values, loading and
//!   saving an actor's state, with the exit codes the built-in actors use.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod account;
pub mod builtin;
pub mod codec;
pub mod error;
pub mod init;

pub use builtin::{BuiltinType, EPOCH_DURATION_SECONDS};

/// blake2b-256, the hash Filecoin uses for voucher secrets, secp256k1
/// signing digests and CIDs. Native code computes it here; actors ask the FVM
/// (a syscall, charged as such).
pub fn blake2b_256(data: &[u8]) -> [u8; 32] {
    let hash = blake2b_simd::Params::new().hash_length(32).hash(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(hash.as_bytes());
    out
}
pub use error::{ActorError, ExitCodeContext};
