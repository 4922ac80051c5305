//! `make differential`: runs every conformance scenario against a real
//! builtin-actors bundle twice, once with our payment channel swapped in and
//! once with the bundle's own, and reports every step whose receipt (exit
//! code, return bytes) or resulting state (decoded channel, comparable state
//! root: see `differential`) differs. Needs `PAYCH_BUILTIN_BUNDLE=bundle.car`.

use paych_bundle::Bundle;
use paych_integration_tests::{differential, scenarios};

fn main() -> anyhow::Result<()> {
    let Some(theirs) = Bundle::from_env()? else {
        anyhow::bail!("set PAYCH_BUILTIN_BUNDLE to a builtin-actors bundle CAR");
    };
    let ours = theirs.clone().with_our_payment_channel()?;
    println!(
        "comparing our payment channel with the one in {}",
        theirs.origin()
    );
    let report = differential::run(scenarios::ALL, &ours, &theirs);
    for difference in &report.differences {
        println!("{difference}");
    }
    println!();
    println!(
        "{:<48} {:<56} {:>12} {:>12}",
        "scenario", "step", "gas (ours)", "gas (theirs)"
    );
    for (scenario, label, a, b) in &report.gas {
        println!("{scenario:<48} {label:<56} {a:>12} {b:>12}");
    }
    println!();
    println!(
        "{} scenarios, {} steps, {} differences",
        report.scenarios,
        report.steps,
        report.differences.len()
    );
    if !report.differences.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
