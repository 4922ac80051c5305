//! `write-bundle --base`: a release bundle with only its payment channel
//! replaced by ours, in the same CAR layout.

use std::process::Command;

use paych_bundle::{BuiltinType, Bundle, wasm};

#[test]
fn base_bundle_keeps_everything_but_the_payment_channel() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in "release": the devnet bundle whose payment channel is some
    // other code, as a real release's is.
    let base = Bundle::devnet()
        .with_code(BuiltinType::PaymentChannel, wasm::TEST_PROBE)
        .unwrap();
    let base_path = dir.path().join("base.car");
    let mut base_car = Vec::new();
    base.write_car(&mut base_car).unwrap();
    std::fs::write(&base_path, &base_car).unwrap();
    let out_path = dir.path().join("out.car");

    let status = Command::new(env!("CARGO_BIN_EXE_write-bundle"))
        .arg("--base")
        .arg(&base_path)
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(status.success());

    let out = Bundle::from_car_file(&out_path).unwrap();
    assert_eq!(
        out.wasm(BuiltinType::PaymentChannel),
        Some(wasm::PAYCH_ACTOR)
    );
    for ((name, before), (same_name, after)) in base.entries().iter().zip(out.entries()) {
        assert_eq!(name, same_name, "entry order kept");
        assert_eq!(
            before == after,
            name != BuiltinType::PaymentChannel.name(),
            "{name}"
        );
    }
    // The same layout: swapping the payment channel back gives the base file.
    let mut back = Vec::new();
    out.with_code(BuiltinType::PaymentChannel, wasm::TEST_PROBE)
        .unwrap()
        .write_car(&mut back)
        .unwrap();
    assert!(back == base_car, "the CAR layout changed");
}

#[test]
fn usage_is_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_write-bundle"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: write-bundle"));
}
