//! The generated sequences as real messages in the FVM (the Wasm actor), each
//! receipt and the decoded state compared with the model, and the same
//! sequence through the native logic as well.
//!
//! Bounded by default (a fixed seed, 20 sequences of up to 15 steps);
//! `PAYCH_FVM_SEQUENCES`, `PAYCH_FVM_STEPS` and `PAYCH_FVM_SEED` scale it.

use std::collections::BTreeMap;

use paych_reliability::fvm_driver::FvmChain;
use paych_reliability::mock_driver::MockChain;
use paych_reliability::ops::{Backend, scenario};
use paych_reliability::report::{env_count, write_counts};
use paych_reliability::runner::{RunStats, run_scenario};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::bundle;

#[test]
fn fvm_sequences_agree_with_the_model_and_the_native_logic() {
    let sequences = env_count("PAYCH_FVM_SEQUENCES", 20);
    let max_steps = env_count("PAYCH_FVM_STEPS", 15) as usize;
    let seed = env_count("PAYCH_FVM_SEED", 4);
    let rng = TestRng::from_seed(
        RngAlgorithm::ChaCha,
        &[seed.to_le_bytes(), [0; 8], [0; 8], [0; 8]].concat(),
    );
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = scenario(max_steps, Backend::Fvm);

    let mut fvm = RunStats::default();
    let mut native = RunStats::default();
    let mut setup_messages = 0;
    let mut failures = Vec::new();
    for i in 0..sequences {
        let sc = strategy
            .new_tree(&mut runner)
            .expect("generate a sequence")
            .current();
        let mut chain = FvmChain::new(bundle(), &sc.initial_balance).expect("start the FVM");
        setup_messages += chain.h.steps().len() as u64;
        let stats = run_scenario(&mut chain, &sc);
        if !stats.mismatches.is_empty() {
            failures.push(format!(
                "FVM sequence {i} (seed {seed}): {sc:#?}\n{}",
                stats.mismatches.join("\n")
            ));
        }
        fvm.merge(stats);

        let mut mock = MockChain::new(&sc.initial_balance);
        let stats = run_scenario(&mut mock, &sc);
        if !stats.mismatches.is_empty() {
            failures.push(format!(
                "native sequence {i} (seed {seed}):\n{}",
                stats.mismatches.join("\n")
            ));
        }
        native.merge(stats);
    }

    let counts = BTreeMap::from([
        ("fvm_sequences".to_string(), fvm.sequences),
        ("fvm_messages".to_string(), fvm.messages + setup_messages),
        ("fvm_vouchers_accepted".to_string(), fvm.vouchers_accepted),
        ("fvm_collects".to_string(), fvm.collects),
        (
            "mismatches".to_string(),
            (fvm.mismatches.len() + native.mismatches.len()) as u64,
        ),
    ]);
    write_counts("fvm-sequences", &counts);
    eprintln!(
        "FVM sequences {} (seed {seed}), messages {} (+{setup_messages} setup), vouchers accepted {}, collects {}, exit codes {:?}, accepted vouchers with {:?}",
        fvm.sequences,
        fvm.messages,
        fvm.vouchers_accepted,
        fvm.collects,
        fvm.exit_codes,
        fvm.accepted_features
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(fvm.vouchers_accepted > 0, "no voucher was ever accepted");
}
