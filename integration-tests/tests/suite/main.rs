//! The FVM suite: one test binary (linking the FVM is slow) with the
//! conformance scenarios, the walkthrough, bundle loading and differential
//! runs, test vectors. Scenarios use the bundle the environment selects
//! (`PAYCH_BUILTIN_BUNDLE`), or the devnet stand-ins.

mod bundle_loading;
mod conformance;
mod vectors;

use std::sync::OnceLock;

use paych_bundle::Bundle;

/// The bundle every scenario runs on, loaded once.
fn bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        paych_integration_tests::harness::bundle_from_env().expect("cannot load the bundle")
    })
}
