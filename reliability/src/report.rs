//! Honest counts: every reliability test writes what it actually ran to a
//! small JSON file, and `reliability-summary` adds them up.
//!
//! Files go to `$PAYCH_RELIABILITY_DIR`, or `target/reliability/` in the
//! workspace. Each file is `{"kind": ..., "counts": {name: number}}`; the
//! summary sums counts of the same name across files.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where counter files go.
pub fn counter_dir() -> PathBuf {
    match std::env::var_os("PAYCH_RELIABILITY_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/reliability"),
    }
}

/// Writes `counts` as `<name>.json` in the counter directory (replacing an
/// earlier file of the same name).
pub fn write_counts(name: &str, counts: &BTreeMap<String, u64>) {
    let dir = counter_dir();
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let json = serde_json::json!({ "name": name, "counts": counts });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A number from the environment, or `default`.
pub fn env_count(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a number")),
        Err(_) => default,
    }
}
