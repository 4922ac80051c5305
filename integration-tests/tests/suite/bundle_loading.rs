//! Loading a builtin-actors bundle CAR (the `PAYCH_BUILTIN_BUNDLE` path) and
//! differential runs, exercised with a CAR this project writes itself.

use fvm_shared::error::ExitCode;
use paych_bundle::{BuiltinType, Bundle};
use paych_integration_tests::differential::{self, compare_steps};
use paych_integration_tests::{Step, scenarios};

fn devnet_car() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.car");
    let file = std::fs::File::create(&path).unwrap();
    Bundle::devnet()
        .write_car(std::io::BufWriter::new(file))
        .unwrap();
    (dir, path)
}

#[test]
fn a_bundle_car_runs_the_walkthrough_with_our_payment_channel_swapped_in() {
    let (_dir, path) = devnet_car();
    let loaded = Bundle::from_car_file(&path).unwrap();
    // Make the loaded bundle's own payment channel different from ours, as a
    // real bundle's is, so the swap is observable.
    let foreign = loaded
        .with_code(BuiltinType::PaymentChannel, paych_bundle::wasm::TEST_PROBE)
        .unwrap();
    let swapped = foreign.clone().with_our_payment_channel().unwrap();
    assert_eq!(
        swapped.wasm(BuiltinType::PaymentChannel),
        Some(paych_bundle::wasm::PAYCH_ACTOR)
    );
    assert_eq!(
        swapped.code(BuiltinType::Init),
        foreign.code(BuiltinType::Init),
        "the bundle's own init is kept"
    );
    assert_eq!(
        swapped.code(BuiltinType::Account),
        foreign.code(BuiltinType::Account),
        "the bundle's own account is kept"
    );
    let h = scenarios::walkthrough(&swapped, false);
    assert_eq!(h.steps().last().unwrap().exit_code, ExitCode::OK);
}

#[test]
fn differential_run_of_identical_codes_reports_no_difference() {
    let (_dir, path) = devnet_car();
    let theirs = Bundle::from_car_file(&path).unwrap();
    let ours = theirs.clone().with_our_payment_channel().unwrap();
    let report = differential::run(scenarios::ALL, &ours, &theirs);
    assert_eq!(report.scenarios, scenarios::ALL.len());
    assert!(report.steps > 100, "only {} steps ran", report.steps);
    let listed: Vec<String> = report.differences.iter().map(|d| d.to_string()).collect();
    assert!(listed.is_empty(), "differences: {listed:#?}");
}

#[test]
fn differential_run_reports_each_differing_step() {
    // Our payment channel against a bundle whose "payment channel" is the
    // probe (its constructor fails): the scenario cannot even create the
    // channel there, and the report says so instead of stopping.
    let ours = Bundle::devnet();
    let theirs = Bundle::devnet()
        .with_code(BuiltinType::PaymentChannel, paych_bundle::wasm::TEST_PROBE)
        .unwrap();
    let report = differential::run(&scenarios::ALL[..2], &ours, &theirs);
    assert_eq!(report.scenarios, 2);
    let scenarios: Vec<&str> = report
        .differences
        .iter()
        .map(|d| d.scenario.as_str())
        .collect();
    assert!(
        scenarios.contains(&"constructor_resolves_key_addresses_to_ids"),
        "{scenarios:?}"
    );
    assert!(
        report.differences[0].detail.starts_with("ours completed"),
        "{}",
        report.differences[0]
    );
    assert!(
        report.differences[0].detail.contains("theirs aborted"),
        "{}",
        report.differences[0]
    );
}

#[test]
fn compare_steps_flags_exit_code_state_and_length_differences() {
    let step = |label: &str, code: u32| Step {
        label: label.into(),
        epoch: 0,
        exit_code: ExitCode::new(code),
        return_data: vec![],
        gas_used: 1,
        channel: None,
        state_root: cid::Cid::default(),
    };
    let ours = vec![step("a", 0), step("b", 16), step("c", 0)];
    let mut theirs = vec![step("a", 0), step("b", 18)];
    theirs[0].gas_used = 99; // gas is not compared
    let diffs = compare_steps("s", &ours, &theirs);
    let indexes: Vec<Option<usize>> = diffs.iter().map(|d| d.index).collect();
    assert_eq!(indexes, vec![Some(1), Some(2)]);
}

#[test]
fn compare_steps_flags_return_bytes_and_state_root_differences() {
    let step = |label: &str| Step {
        label: label.into(),
        epoch: 0,
        exit_code: ExitCode::new(16),
        return_data: vec![0x41, 0x01],
        gas_used: 1,
        channel: None,
        state_root: cid::Cid::default(),
    };
    let ours = vec![step("same"), step("data"), step("root")];
    let mut theirs = ours.clone();
    theirs[1].return_data = vec![];
    theirs[2].state_root = paych_actor::empty_array_cid();
    let diffs = compare_steps("s", &ours, &theirs);
    let indexes: Vec<Option<usize>> = diffs.iter().map(|d| d.index).collect();
    assert_eq!(indexes, vec![Some(1), Some(2)]);
    assert!(diffs[0].detail.contains("return 0x4101"), "{}", diffs[0]);
}
