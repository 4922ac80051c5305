//! The reliability suite, one test binary (linking the FVM is slow):
//! property tests of the native logic against the model, randomized FVM
//! runs of the same sequences, the malformed-input table in the FVM and the
//! mock, the CLI's voucher check path on random input, the manager's verdict
//! on conditional vouchers against the actor, and the CLI repo's crash
//! safety under SIGKILL.
//!
//! Counts come from the environment (`PROPTEST_CASES`, `PAYCH_FVM_SEQUENCES`,
//! ...) with small defaults so `cargo test --workspace` stays quick; every
//! test writes what it ran to the counter directory for
//! `reliability-summary`.

mod cli_voucher_check;
mod crash_safety;
mod fvm_sequences;
mod malformed_inputs;
mod manager_conditions;
mod properties;

use std::sync::OnceLock;

use paych_bundle::Bundle;

/// The bundle every FVM test runs on, loaded once.
pub fn bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        paych_integration_tests::harness::bundle_from_env().expect("cannot load the bundle")
    })
}
