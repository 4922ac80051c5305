//! Compiles the actors to Wasm with a nested `cargo build` and generates one
//! `include_bytes!` constant per actor (see `src/lib.rs`).
//!
//! The nested build uses its own target directory under `OUT_DIR` so it never
//! waits on the outer cargo's lock, the dedicated `wasm` profile, and
//! `--locked` so the Wasm is built from exactly the committed lock file.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (generated constant, cargo package, Wasm file stem)
const ACTORS: &[(&str, &str, &str)] = &[
    ("PAYCH_ACTOR", "paych-actor", "paych_actor"),
    ("DEVNET_ACCOUNT", "devnet-account", "devnet_account"),
    ("DEVNET_INIT", "devnet-init", "devnet_init"),
    ("DEVNET_INERT", "devnet-inert", "devnet_inert"),
    (
        "DEVNET_PLACEHOLDER",
        "devnet-placeholder",
        "devnet_placeholder",
    ),
    (
        "DEVNET_ETHACCOUNT",
        "devnet-ethaccount",
        "devnet_ethaccount",
    ),
    ("TEST_PROBE", "test-probe", "test_probe"),
];

/// Directories whose contents feed the Wasm build.
const SOURCES: &[&str] = &[
    "interfaces",
    "actor",
    "builtins",
    "sdk-support",
    "test-actors",
    ".cargo",
    "Cargo.lock",
    "Cargo.toml",
];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", root.join(source).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let target_dir = out_dir.join("wasm-target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--locked")
        .arg("--target=wasm32-unknown-unknown")
        .arg("--profile=wasm")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for (_, package, _) in ACTORS {
        cmd.arg("-p").arg(package);
    }
    // The outer build's flags and wrappers (coverage, clippy, sanitizers) are
    // for native code; they must not leak into the Wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }

    let output = cmd
        .output()
        .expect("failed to run the nested cargo build of the actors");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        panic!(
            "building the actors for wasm32-unknown-unknown failed \
             (is the target installed? `rustup target add wasm32-unknown-unknown`):\n{stderr}"
        );
    }
    for line in stderr.lines().filter(|l| l.starts_with("warning")) {
        println!("cargo:warning=wasm build: {line}");
    }

    let wasm_dir = target_dir.join("wasm32-unknown-unknown").join("wasm");
    let mut generated = String::new();
    for (constant, package, stem) in ACTORS {
        let path = wasm_dir.join(format!("{stem}.wasm"));
        assert!(
            exists(&path),
            "the nested build did not produce {}",
            path.display()
        );
        writeln!(
            generated,
            "/// The Wasm code of the `{package}` crate.\npub const {constant}: &[u8] = include_bytes!({:?});",
            path.display().to_string()
        )
        .unwrap();
    }
    std::fs::write(out_dir.join("wasm_binaries.rs"), generated).expect("write wasm_binaries.rs");
}

fn exists(path: &Path) -> bool {
    path.metadata().map(|m| m.is_file()).unwrap_or(false)
}
