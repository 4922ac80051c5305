//! Runs the payment channel's Wasm in a real FVM test machine.
//!
//! - [`harness`]: a machine over `paych-chain`'s genesis builder with real
//!   secp256k1/BLS accounts, the bundle's init and account actors, and verbs
//!   (create a channel through Init Exec, sign and submit vouchers, settle,
//!   collect) that execute real messages at chosen epochs.
//! - [`scenarios`]: the reference conformance checklist and the walkthrough,
//!   written once and used by the tests, the gas report and differential runs.
//! - [`differential`]: runs scenarios against two payment channel codes and
//!   reports every step whose receipt or resulting state differs.
//! - [`vectors`]: writes the scenarios' message groups as public-schema test
//!   vectors.

pub mod differential;
pub mod harness;
pub mod scenarios;
pub mod vectors;

pub use harness::{Channel, Harness, HarnessBuilder, Party, Step};
