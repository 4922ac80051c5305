//! The FVM execution layer: everything the devnet and the FVM harness share
//! about running actors in a real machine.
//!
//! - [`config`]: the chain's constants (network version, base fee, block gas
//!   limit, epoch length) and what every message of a chain runs with;
//! - [`genesis`]: the one genesis builder (system, init, burnt funds, EAM,
//!   funded accounts, test-only user actors);
//! - [`message`]: messages as Lotus builds, signs and sizes them;
//! - [`machine`]: a running FVM machine that applies messages, and
//!   [`machine::execute_next`] to apply one message on top of a head without
//!   committing anything;
//! - [`receipt`]: a message's receipt as the chain records it, and the names
//!   of exit codes and methods;
//! - [`state`]: readers of the state tree: actors, account keys, robust
//!   addresses and decoded payment channels;
//! - [`blocks`]: blockstores for committed blocks and uncommitted overlays;
//! - [`trace`]: what a message did, as a call tree with gas charges, and
//!   its compact encoding;
//! - [`vector`]: message-class test vectors (the public schema), recorded
//!   from a group of messages and replayed as the standard runner does.
//!
//! Nothing here persists anything: the devnet commits what a message wrote
//! into its repository, the harness keeps it in memory.

pub mod blocks;
pub mod config;
pub mod genesis;
pub mod machine;
pub mod message;
pub mod receipt;
pub mod state;
pub mod trace;
pub mod vector;

pub use config::{ChainConfig, Head};

/// `context` for the FVM's own error types (which are not `std::error::Error`).
pub(crate) trait Explain<T> {
    fn explain(self, what: &str) -> anyhow::Result<T>;
}

impl<T, E: std::fmt::Display> Explain<T> for Result<T, E> {
    fn explain(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {e}"))
    }
}
pub use message::SignedMessage;
pub use receipt::Receipt;
