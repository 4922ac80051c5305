//! The persistent local devnet: a single-node FVM chain kept in one
//! repository, and the wallet that signs for it.
//!
//! - [`repo`]: the repository behind traits ([`Repo`], [`Store`]):
//!   [`repo::sqlite`] on disk, [`repo::memory`] for tests;
//! - [`node`]: the chain over a repository ([`Devnet`]): genesis, head and
//!   time, state reads, and messages estimated, signed, checked by the
//!   message pool rules of [`pool`], executed by the FVM (through
//!   `paych-chain`) in the next epoch and committed with their receipt in one
//!   write unit;
//! - [`wallet`]: keys, Lotus's wallet verbs;
//! - [`genesis`]: what a new repository starts with;
//! - [`inspect`]: message traces, the channel invariants, state diffs and
//!   the history as test vectors.
//!
//! The payment-channel manager (`paych-manager`) works over this chain; the
//! `paych` command line over both.

pub mod addr;
pub mod block;
pub mod chain_node;
pub mod error;
pub mod genesis;
pub mod inspect;
pub mod json;
pub mod node;
pub mod pool;
pub mod repo;
pub mod wallet;

pub use chain_node::ChainNode;
pub use error::{Context, Error, ErrorKind, Result};
pub use genesis::{GenesisActor, GenesisOptions};
pub use node::{ChainInfo, Devnet, LocalDevnet, MessageSpec, Sent, StateView, Verified, head_of};
pub use repo::memory::MemoryRepo;
pub use repo::sqlite::SqliteRepo;
pub use repo::{Repo, Store};
pub use wallet::{WalletEntry, WalletOps};
