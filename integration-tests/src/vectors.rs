//! Test vectors from the scenarios: each scenario runs in a harness
//! configured as the standard runner's machine ([`as_vector_runner`]), and
//! every group of messages it applied at one epoch becomes one message-class
//! vector (see `paych_chain::vector`), written to
//! `<dir>/<flavour>/<scenario>/<nn>-epoch-<epoch>.json`.
//!
//! Flavours: `devnet` (this project's bundle: the stand-ins and our payment
//! channel) always; with `PAYCH_BUILTIN_BUNDLE`, also `bundle-our-paych`
//! (that bundle with our payment channel swapped in) and `bundle-own-paych`
//! (that bundle as released, its own payment channel). The last flavour runs
//! the scenarios leniently: vectors record what that actor did, so an
//! implementation of the built-in actor can be checked against ours and ours
//! against it (a scenario it cannot complete is reported and skipped).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use anyhow::Context;
use fvm_shared::econ::TokenAmount;
use paych_bundle::Bundle;
use paych_chain::vector::{TestVector, VectorContext};

use crate::harness::{Harness, as_vector_runner};
use crate::scenarios::Scenario;

/// One bundle to record vectors on.
#[derive(Clone)]
pub struct Flavour {
    /// The directory name and the vectors' id prefix.
    pub name: &'static str,
    pub bundle: Bundle,
    /// Whether the scenarios' expectations must hold (our payment channel),
    /// or are only recorded (another implementation's).
    pub strict: bool,
}

impl Flavour {
    /// This project's bundle.
    pub fn devnet() -> Self {
        Self {
            name: "devnet",
            bundle: Bundle::devnet(),
            strict: true,
        }
    }

    /// A real bundle with our payment channel swapped in, and as released.
    pub fn of_real_bundle(real: Bundle) -> anyhow::Result<[Self; 2]> {
        Ok([
            Self {
                name: "bundle-our-paych",
                bundle: real.clone().with_our_payment_channel()?,
                strict: true,
            },
            Self {
                name: "bundle-own-paych",
                bundle: real,
                strict: false,
            },
        ])
    }

    /// `devnet`, plus both flavours of `PAYCH_BUILTIN_BUNDLE` when it is set.
    pub fn all_from_env() -> anyhow::Result<Vec<Self>> {
        let mut all = vec![Self::devnet()];
        if let Some(real) = Bundle::from_env()? {
            all.extend(Self::of_real_bundle(real)?);
        }
        Ok(all)
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    /// Every vector file, in the order written.
    pub files: Vec<PathBuf>,
    /// Scenarios that could not run to the end, with why (lenient flavours
    /// only).
    pub skipped: Vec<(String, String)>,
}

/// Runs `scenario` as the runner's machine would; a lenient run that panics
/// (say, the channel could not be created) is an `Err` with the message.
fn run(scenario: Scenario, flavour: &Flavour) -> Result<Harness, String> {
    if flavour.strict {
        return Ok(as_vector_runner(|| scenario(&flavour.bundle, false)));
    }
    catch_unwind(AssertUnwindSafe(|| {
        as_vector_runner(|| scenario(&flavour.bundle, true))
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the scenario panicked".into())
    })
}

/// Writes the vectors of `scenarios` on `flavour` under `dir/<flavour>/`.
pub fn export(
    flavour: &Flavour,
    scenarios: &[(&str, Scenario)],
    dir: &Path,
) -> anyhow::Result<Exported> {
    let mut exported = Exported::default();
    let origin = flavour.bundle.origin().to_string();
    for (name, scenario) in scenarios {
        let mut h = match run(*scenario, flavour) {
            Ok(h) => h,
            Err(why) => {
                exported.skipped.push((name.to_string(), why));
                continue;
            }
        };
        let config = h.chain_config().clone();
        let groups = h.vector_groups()?;
        for (i, group) in groups.iter().enumerate() {
            let context = VectorContext {
                id: format!("paych/{}/{name}/{i:02}", flavour.name),
                network_version: config.network_version,
                base_fee: config.base_fee.clone(),
                circ_supply: TokenAmount::default(),
                comment: format!(
                    "scenario {name}, messages at epoch {} ({} of {}); bundle {origin}",
                    group.epoch,
                    i + 1,
                    groups.len()
                ),
                tags: vec![
                    "paych".into(),
                    flavour.name.into(),
                    format!("scenario:{name}"),
                ],
            };
            let vector = TestVector::record(&context, group, h.store())
                .with_context(|| format!("{}: cannot record a vector", context.id))?;
            let path = dir
                .join(flavour.name)
                .join(name)
                .join(format!("{i:02}-epoch-{}.json", group.epoch));
            vector.write_file(&path)?;
            exported.files.push(path);
        }
    }
    Ok(exported)
}
