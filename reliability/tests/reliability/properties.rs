//! Random operation sequences through the native actor logic under the mock
//! runtime, compared with the model after every step.

use std::cell::RefCell;
use std::collections::BTreeMap;

use paych_reliability::mock_driver::MockChain;
use paych_reliability::ops::{Backend, scenario};
use paych_reliability::report::{env_count, write_counts};
use paych_reliability::runner::{RunStats, run_scenario};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestRunner};

/// The default seed: CI explores the same cases every run. Set
/// `PROPTEST_RNG_SEED` to explore others (`make reliability` does).
const DEFAULT_SEED: u64 = 0x5eed_0004;

#[test]
fn mock_sequences_agree_with_the_model_at_every_step() {
    let defaults = Config::default();
    let config = Config {
        cases: env_count("PROPTEST_CASES", 64) as u32,
        rng_seed: match std::env::var_os("PROPTEST_RNG_SEED") {
            Some(_) => defaults.rng_seed,
            None => RngSeed::Fixed(DEFAULT_SEED),
        },
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..defaults
    };
    let seed = config.rng_seed;
    let max_steps = env_count("PAYCH_PROPTEST_STEPS", 24) as usize;

    let total = RefCell::new(RunStats::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&scenario(max_steps, Backend::Mock), |sc| {
        let mut chain = MockChain::new(&sc.initial_balance);
        let stats = run_scenario(&mut chain, &sc);
        let mismatches = stats.mismatches.clone();
        total.borrow_mut().merge(stats);
        prop_assert!(
            mismatches.is_empty(),
            "{} mismatches:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
        Ok(())
    });

    let total = total.into_inner();
    let counts = BTreeMap::from([
        ("property_cases".to_string(), total.sequences),
        ("property_steps".to_string(), total.steps),
        (
            "property_vouchers_accepted".to_string(),
            total.vouchers_accepted,
        ),
        ("property_collects".to_string(), total.collects),
        ("mismatches".to_string(), total.mismatches.len() as u64),
    ]);
    write_counts("properties-mock", &counts);
    eprintln!(
        "property cases {} (seed {seed}), steps {}, messages {}, vouchers accepted {}, collects {}, exit codes {:?}, accepted vouchers with {:?}",
        total.sequences,
        total.steps,
        total.messages,
        total.vouchers_accepted,
        total.collects,
        total.exit_codes,
        total.accepted_features
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must reach the interesting outcomes, not just rejections.
    assert!(total.vouchers_accepted > 0, "no voucher was ever accepted");
    assert!(
        total.exit_codes.len() >= 4,
        "too few distinct outcomes: {:?}",
        total.exit_codes
    );
}
