//! A persistent single-node FVM devnet and the payment-channel manager
//! behind the `paych` command-line tool.
//!
//! - [`store`]: the repository traits ([`Repo`], [`Store`]); [`sqlite`] is
//!   the on-disk repository, [`memory`] the in-memory one for tests.
//! - [`genesis`], [`vm`], [`message`], [`devnet`]: the chain. Each message is
//!   estimated, signed, checked as a message pool checks it, executed by the
//!   FVM in the next epoch and committed with its receipt in one transaction.
//! - [`paych`]: Lotus's payment-channel verbs; [`wallet`]: the wallet.

pub mod addr;
pub mod blocks;
pub mod devnet;
pub mod error;
pub mod genesis;
pub mod memory;
pub mod message;
pub mod meta;
pub mod paych;
pub mod sqlite;
pub mod store;
pub mod vm;
pub mod wallet;

pub use devnet::{Devnet, GenesisOptions, MessageSpec};
pub use error::{Error, ErrorKind, Result};
pub use memory::MemoryRepo;
pub use sqlite::SqliteRepo;
pub use store::{Head, Repo, Store};
