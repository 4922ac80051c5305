//! Prints one summary of the reliability runs from the counter files the
//! tests wrote and the fuzzers' logs, and fails if anything mismatched or
//! crashed (or if a required part did not run at all).
//!
//! Usage: `reliability-summary [--require-fuzz]`. Reads
//! `$PAYCH_RELIABILITY_DIR` (default `target/reliability`): `*.json` counter
//! files, and for each fuzz target `fuzz-<target>.log` (libFuzzer's output)
//! with `fuzz-<target>.status` (its exit status).

use std::collections::BTreeMap;
use std::process::ExitCode;

use paych_reliability::report::counter_dir;

/// libFuzzer's final line: "Done 123456 runs in 10 second(s)".
fn fuzz_runs(log: &str) -> Option<(u64, u64)> {
    log.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("Done ")?;
        let mut words = rest.split_whitespace();
        let runs = words.next()?.parse().ok()?;
        let secs = words.nth(2)?.parse().ok()?;
        Some((runs, secs))
    })
}

fn main() -> ExitCode {
    let require_fuzz = std::env::args().any(|a| a == "--require-fuzz");
    let dir = counter_dir();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut fuzz: BTreeMap<String, (Option<(u64, u64)>, bool)> = BTreeMap::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("no reliability results in {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if name.ends_with(".json") {
            let json: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            };
            if let Some(map) = json["counts"].as_object() {
                for (k, v) in map {
                    *counts.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
                }
            }
        } else if let Some(target) = name
            .strip_prefix("fuzz-")
            .and_then(|n| n.strip_suffix(".log"))
        {
            let status = std::fs::read_to_string(dir.join(format!("fuzz-{target}.status")))
                .map(|s| s.trim() == "0")
                .unwrap_or(false);
            let crashed = !status
                || text.contains("==ERROR")
                || text.contains("deadly signal")
                || text.contains("panicked at");
            fuzz.insert(target.to_string(), (fuzz_runs(&text), crashed));
        }
    }

    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let crashes = fuzz.values().filter(|(_, crashed)| *crashed).count() as u64;
    let mismatches = get("mismatches");
    println!("Payment channel reliability summary ({})", dir.display());
    println!(
        "  property cases run (mock vs model):  {:>10}  ({} steps, {} vouchers accepted, {} collects)",
        get("property_cases"),
        get("property_steps"),
        get("property_vouchers_accepted"),
        get("property_collects")
    );
    println!(
        "  FVM sequences run:                   {:>10}  ({} vouchers accepted, {} collects)",
        get("fvm_sequences"),
        get("fvm_vouchers_accepted"),
        get("fvm_collects")
    );
    println!(
        "  FVM messages executed:               {:>10}",
        get("fvm_messages")
    );
    println!(
        "  malformed inputs tried:              {:>10}  ({} in the FVM, {} native)",
        get("malformed_inputs_fvm") + get("malformed_inputs_mock"),
        get("malformed_inputs_fvm"),
        get("malformed_inputs_mock")
    );
    println!(
        "  CLI voucher check inputs:            {:>10}  ({} accepted, {} of them redeemed on chain)",
        get("cli_voucher_inputs"),
        get("cli_vouchers_accepted"),
        get("cli_vouchers_redeemed")
    );
    println!(
        "  manager verdicts on conditional vouchers: {:>5}  ({} sequences, {} spendable now, all agreeing with the actor)",
        get("manager_verdicts"),
        get("manager_sequences"),
        get("manager_verdicts_spendable")
    );
    println!(
        "  CLI repo kill rounds:                {:>10}  ({} killed, {} of them after committing; {} acknowledged vouchers kept)",
        get("crash_rounds"),
        get("crash_kills"),
        get("crash_kills_after_commit"),
        get("crash_acknowledged_vouchers")
    );
    for (target, (runs, crashed)) in &fuzz {
        match runs {
            Some((runs, secs)) => println!(
                "  fuzz executions, {:<20}{runs:>10}  (in {secs} s){}",
                format!("{target}:"),
                if *crashed { "  CRASHED" } else { "" }
            ),
            None => println!(
                "  fuzz executions, {:<20}  no final stats: CRASHED or killed",
                format!("{target}:")
            ),
        }
    }
    println!("  mismatches:                          {mismatches:>10}");
    println!("  crashes:                             {crashes:>10}");

    let mut ok = mismatches == 0 && crashes == 0;
    for (what, n) in [
        ("property cases", get("property_cases")),
        ("FVM sequences", get("fvm_sequences")),
        ("malformed inputs", get("malformed_inputs_fvm")),
        ("CLI kill rounds", get("crash_rounds")),
        ("manager sequences", get("manager_sequences")),
    ] {
        if n == 0 {
            println!("  MISSING: no {what} ran");
            ok = false;
        }
    }
    if require_fuzz && fuzz.is_empty() {
        println!("  MISSING: no fuzz target ran");
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        println!("FAILED");
        ExitCode::FAILURE
    }
}
