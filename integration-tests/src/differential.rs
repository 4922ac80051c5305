//! Differential runs: the same scenarios against two payment channel codes
//! (typically ours and the one inside a real builtin-actors bundle), reporting
//! every step whose receipt (exit code, return bytes) or resulting state (the
//! decoded channel, and the root of the whole state tree) differs. Gas is
//! reported, not compared: the two codes are expected to cost differently.
//!
//! The state roots compared are [`Harness::comparable_state_root`]s: the real
//! roots of the two runs can never be equal, for two reasons outside the
//! actor's behaviour, which that root normalises out. The payment channels'
//! code CID is part of each channel's entry in the state tree and is the hash
//! of the code, so it differs whenever the codes do; and every message pays
//! gas from its sender's balance to the burnt-funds actor, which differs
//! whenever the codes' gas does. Every other field of every actor (state
//! root, nonce, delegated address, balance net of gas) is compared.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use paych_bundle::Bundle;

use crate::harness::{Harness, Step};
use crate::scenarios::Scenario;

/// One step that differs between the two runs, or a run that could not go on.
#[derive(Debug)]
pub struct Difference {
    pub scenario: String,
    /// The step's position, or `None` when a whole run aborted.
    pub index: Option<usize>,
    pub detail: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{} step {i}: {}", self.scenario, self.detail),
            None => write!(f, "{}: {}", self.scenario, self.detail),
        }
    }
}

fn describe(step: Option<&Step>) -> String {
    match step {
        Some(s) => format!(
            "[{}] exit {} return 0x{} state root {} channel {:?}",
            s.label,
            s.exit_code.value(),
            data_encoding::HEXLOWER.encode(&s.return_data),
            s.state_root,
            s.channel
        ),
        None => "(no such step)".to_string(),
    }
}

/// Compares two step logs of one scenario: same labels, exit codes, return
/// bytes, channel states and comparable state roots, step by step.
pub fn compare_steps(scenario: &str, ours: &[Step], theirs: &[Step]) -> Vec<Difference> {
    let mut diffs = Vec::new();
    for index in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(index), theirs.get(index));
        let same = match (a, b) {
            (Some(a), Some(b)) => {
                a.label == b.label
                    && a.exit_code == b.exit_code
                    && a.return_data == b.return_data
                    && a.channel == b.channel
                    && a.state_root == b.state_root
            }
            _ => false,
        };
        if !same {
            diffs.push(Difference {
                scenario: scenario.to_string(),
                index: Some(index),
                detail: format!("\n  ours:   {}\n  theirs: {}", describe(a), describe(b)),
            });
        }
    }
    diffs
}

/// The outcome of running every scenario against both bundles.
pub struct Report {
    pub scenarios: usize,
    pub steps: usize,
    pub differences: Vec<Difference>,
    /// (scenario, step label, our gas, their gas) for every step both ran.
    pub gas: Vec<(String, String, u64, u64)>,
}

/// Runs a scenario leniently; a scenario that cannot go on (say, the channel
/// could not be created) is reported with its panic message.
fn run_one(scenario: Scenario, bundle: &Bundle) -> Result<Harness, String> {
    catch_unwind(AssertUnwindSafe(|| scenario(bundle, true))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the scenario panicked".into())
    })
}

/// Runs `scenarios` against `ours` and `theirs` in lenient mode (a failed
/// expectation does not stop the run) and compares the steps.
pub fn run(scenarios: &[(&str, Scenario)], ours: &Bundle, theirs: &Bundle) -> Report {
    let mut report = Report {
        scenarios: 0,
        steps: 0,
        differences: Vec::new(),
        gas: Vec::new(),
    };
    for (name, scenario) in scenarios {
        report.scenarios += 1;
        match (run_one(*scenario, ours), run_one(*scenario, theirs)) {
            (Ok(a), Ok(b)) => {
                report.steps += a.steps().len().max(b.steps().len());
                for (x, y) in a.steps().iter().zip(b.steps()) {
                    report
                        .gas
                        .push((name.to_string(), x.label.clone(), x.gas_used, y.gas_used));
                }
                report
                    .differences
                    .extend(compare_steps(name, a.steps(), b.steps()));
            }
            (a, b) => {
                let status = |r: &Result<Harness, String>| match r {
                    Ok(h) => format!("completed {} steps", h.steps().len()),
                    Err(e) => format!("aborted: {e}"),
                };
                report.differences.push(Difference {
                    scenario: name.to_string(),
                    index: None,
                    detail: format!("ours {}; theirs {}", status(&a), status(&b)),
                });
            }
        }
    }
    report
}
