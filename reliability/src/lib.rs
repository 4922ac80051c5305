//! Evidence that the payment channel never loses money.
//!
//! - [`model`]: a small reference model of the channel, written from the
//!   specification and independent of the actor.
//! - [`ops`]: random operation sequences (proptest strategies) resolved
//!   against the model, shared by both drivers.
//! - [`runner`]: runs a sequence on a chain and on the model and reports
//!   every difference; [`mock_driver`] is the native logic under the mock
//!   runtime, [`fvm_driver`] the Wasm actor in a real FVM machine.
//! - [`malformed`]: the malformed-input table for every method.
//! - [`report`]: the counter files behind `make reliability`'s summary;
//!   [`rng`]: the seeded generator the tests share.

pub mod fvm_driver;
pub mod malformed;
pub mod mock_driver;
pub mod model;
pub mod ops;
pub mod report;
pub mod rng;
pub mod runner;
