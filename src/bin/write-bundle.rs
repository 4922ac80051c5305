//! Writes a builtin-actors style bundle CAR with our payment channel in it,
//! loadable by other FVM tooling, by this project through
//! `PAYCH_BUILTIN_BUNDLE`, and by a Lotus devnet through
//! `LOTUS_BUILTIN_ACTORS_V<N>_BUNDLE`.
//!
//! Usage: write-bundle [--base <builtin-actors.car>] <out.car>
//!
//! Without `--base`, the devnet bundle (our payment channel and the stand-in
//! built-ins). With it, that release bundle with only its payment channel
//! entry replaced by ours, in the same CAR layout (every other entry, the
//! entry order and the block order unchanged).

use std::io::BufWriter;
use std::path::Path;

use paych_bundle::Bundle;

const USAGE: &str = "usage: write-bundle [--base <builtin-actors.car>] <out.car>";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base, path) = match &args[..] {
        [out] if !out.starts_with('-') => (None, out),
        [flag, base, out] if flag == "--base" && !out.starts_with('-') => (Some(base), out),
        _ => anyhow::bail!(USAGE),
    };
    let bundle = match base {
        None => Bundle::devnet(),
        Some(base) => Bundle::from_car_file(Path::new(base))?.with_our_payment_channel()?,
    };
    let file =
        std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot create {path}: {e}"))?;
    bundle.write_car(BufWriter::new(file))?;
    println!("{path}: {}", bundle.origin());
    println!("manifest {}", bundle.manifest());
    for (name, code) in bundle.entries() {
        println!("  {name:<18} {code}");
    }
    Ok(())
}
