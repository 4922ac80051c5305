//! `make vectors`: writes a message-class test vector for every group of
//! messages each conformance scenario and the walkthrough apply at one epoch,
//! for this project's bundle and, with `PAYCH_BUILTIN_BUNDLE`, for that
//! bundle with our payment channel and with its own. `vectors replay` runs
//! vectors from their files alone, as the standard runner would (`make
//! vectors` runs it on what was written, in a process of its own).
//!
//! ```text
//! vectors [write] [DIR]   write (default target/test-vectors)
//! vectors replay DIR...   replay every *.json under each DIR (or file)
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use paych_chain::vector::{TestVector, replay, vector_files};
use paych_integration_tests::scenarios;
use paych_integration_tests::vectors::{Flavour, export};

const DEFAULT_DIR: &str = "target/test-vectors";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("replay") => {
            if args.len() < 2 {
                bail!("usage: vectors replay DIR|FILE...");
            }
            let paths: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
            replay_all(&paths)
        }
        Some("write") => write(Path::new(args.get(1).map_or(DEFAULT_DIR, String::as_str))),
        Some("-h" | "--help") => {
            println!("vectors [write] [DIR]   write every scenario's vectors");
            println!(
                "vectors replay DIR...   replay every vector under DIR as the standard runner"
            );
            Ok(())
        }
        Some(dir) => write(Path::new(dir)),
        None => write(Path::new(DEFAULT_DIR)),
    }
}

fn write(dir: &Path) -> anyhow::Result<()> {
    let flavours = Flavour::all_from_env()?;
    for flavour in &flavours {
        let started = Instant::now();
        let out = dir.join(flavour.name);
        if out.exists() {
            std::fs::remove_dir_all(&out)
                .with_context(|| format!("cannot clear {}", out.display()))?;
        }
        let exported = export(flavour, scenarios::ALL, dir)?;
        println!(
            "{}: {} vectors from {} scenarios in {} ({:.1}s; bundle {})",
            flavour.name,
            exported.files.len(),
            scenarios::ALL.len() - exported.skipped.len(),
            out.display(),
            started.elapsed().as_secs_f64(),
            flavour.bundle.origin()
        );
        for (scenario, why) in &exported.skipped {
            let why = why.lines().next().unwrap_or_default();
            println!("  skipped {scenario}: it could not run to the end ({why})");
        }
    }
    Ok(())
}

fn replay_all(paths: &[PathBuf]) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(vector_files(path)?);
        } else {
            files.push(path.clone());
        }
    }
    let mut failed = 0;
    for file in &files {
        let result = TestVector::from_file(file).and_then(|v| replay(&v));
        if let Err(e) = result {
            failed += 1;
            println!("FAIL {}: {e:#}", file.display());
        }
    }
    println!(
        "replayed {} vectors as the standard runner: {} passed, {} failed ({:.1}s)",
        files.len(),
        files.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
