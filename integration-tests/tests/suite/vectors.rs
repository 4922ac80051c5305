//! Test vectors: every scenario's message groups written as public-schema
//! vectors, and each replayed from its file alone (a fresh blockstore loaded
//! from the vector's CAR) exactly as the standard runner applies them.

use std::path::{Path, PathBuf};

use paych_chain::vector::{TestVector, replay};
use paych_integration_tests::scenarios;
use paych_integration_tests::vectors::{Exported, Flavour, export};

use crate::bundle;

fn flavour() -> Flavour {
    Flavour {
        name: "suite",
        bundle: bundle().clone(),
        strict: true,
    }
}

fn replay_file(path: &Path) -> anyhow::Result<()> {
    replay(&TestVector::from_file(path)?).map(|_| ())
}

#[test]
fn every_scenario_has_vectors_that_replay_as_the_standard_runner() {
    let dir = tempfile::tempdir().unwrap();
    let Exported { files, skipped } = export(&flavour(), scenarios::ALL, dir.path()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    for (name, _) in scenarios::ALL {
        let scenario_dir = dir.path().join("suite").join(name);
        assert!(
            files.iter().any(|f| f.starts_with(&scenario_dir)),
            "scenario {name} has no vector"
        );
    }
    let mut failures = Vec::new();
    for file in &files {
        if let Err(e) = replay_file(file) {
            failures.push(format!("{}: {e:#}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The walkthrough spans epochs: create, top up, settle, submit, the
    // refused and the real collect each at their own epoch.
    let walkthrough = files
        .iter()
        .filter(|f| f.starts_with(dir.path().join("suite/walkthrough")))
        .count();
    assert_eq!(walkthrough, 6, "{files:#?}");
}

/// The walkthrough's vectors (written once per test that needs them).
fn walkthrough_vectors(dir: &Path) -> Vec<PathBuf> {
    let walkthrough = scenarios::ALL
        .iter()
        .filter(|(name, _)| *name == "walkthrough")
        .copied()
        .collect::<Vec<_>>();
    export(&flavour(), &walkthrough, dir).unwrap().files
}

/// `text` with the byte at `at` replaced.
fn with_byte(text: &str, at: usize, byte: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = byte;
    String::from_utf8(bytes).unwrap()
}

/// The position of the first byte of the value after `"key": ` at or after
/// `from`.
fn value_at(text: &str, key: &str, from: usize) -> usize {
    let needle = format!("\"{key}\": ");
    from + text[from..].find(&needle).unwrap() + needle.len()
}

#[test]
fn a_one_byte_change_to_an_expected_receipt_or_root_fails_the_replay() {
    let dir = tempfile::tempdir().unwrap();
    let files = walkthrough_vectors(dir.path());
    // The first vector creates the channel: its receipt returns the new
    // addresses, so every receipt field has bytes to change.
    let file = &files[0];
    replay_file(file).unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let post = text.find("\"postconditions\"").unwrap();
    let receipts = value_at(&text, "receipts", post);

    let exit = value_at(&text, "exit_code", receipts);
    assert_eq!(text.as_bytes()[exit], b'0');
    let ret = value_at(&text, "return", receipts) + 1; // past the quote
    let gas_end = value_at(&text, "gas_used", receipts);
    let gas_end = gas_end + text[gas_end..].find(|c: char| !c.is_ascii_digit()).unwrap() - 1;
    let root = value_at(&text, "/", post) + 1;

    let last_digit = text.as_bytes()[gas_end];
    let first_return = text.as_bytes()[ret];
    let first_root_char = text.as_bytes()[root + 5];
    let changes = [
        ("exit code", exit, b'1'),
        (
            "return bytes",
            ret,
            if first_return == b'g' { b'h' } else { b'g' },
        ),
        (
            "gas used",
            gas_end,
            if last_digit == b'9' {
                b'8'
            } else {
                last_digit + 1
            },
        ),
        (
            "post-state root",
            root + 5,
            if first_root_char == b'a' { b'b' } else { b'a' },
        ),
    ];
    for (what, at, byte) in changes {
        let tampered = dir
            .path()
            .join(format!("tampered-{}.json", what.replace(' ', "-")));
        std::fs::write(&tampered, with_byte(&text, at, byte)).unwrap();
        let err = replay_file(&tampered).expect_err(what);
        let expected = match what {
            "exit code" => "exit code",
            "return bytes" => "return",
            "gas used" => "gas used",
            _ => "post-state root",
        };
        assert!(format!("{err:#}").contains(expected), "{what}: {err:#}");
    }
}

#[test]
fn a_vector_whose_car_misses_a_block_is_refused() {
    use paych_chain::vector::{Base64, load_gzipped_car, reachable_blocks};
    let dir = tempfile::tempdir().unwrap();
    let files = walkthrough_vectors(dir.path());
    let mut vector = TestVector::from_file(&files[0]).unwrap();
    // Rebuild the CAR without the payment channel's code block.
    let store = fvm_ipld_blockstore::MemoryBlockstore::new();
    let root = load_gzipped_car(&store, &vector.car.0).unwrap()[0];
    let paych = bundle()
        .code(paych_bundle::BuiltinType::PaymentChannel)
        .unwrap();
    let blocks = reachable_blocks(&store, &root).unwrap();
    assert!(blocks.iter().any(|(c, _)| *c == paych));
    let mut car = Vec::new();
    {
        let header = fvm_ipld_car::CarHeader::new(vec![root], 1);
        let mut writer = fvm_ipld_car::CarWriter::new(header, &mut car).unwrap();
        for (cid, data) in blocks.into_iter().filter(|(c, _)| *c != paych) {
            writer.write(fvm_ipld_car::Block { cid, data }).unwrap();
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &car).unwrap();
    vector.car = Base64(gz.finish().unwrap());
    let err = replay(&vector).unwrap_err();
    assert!(format!("{err:#}").contains("whole pre-state"), "{err:#}");
}
