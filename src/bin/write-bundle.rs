//! Writes the devnet bundle (our payment channel and the stand-in built-ins)
//! as a builtin-actors style CAR file, loadable by other FVM tooling and by
//! this project through `PAYCH_BUILTIN_BUNDLE`.
//!
//! Usage: write-bundle <out.car>

use std::io::BufWriter;

use paych_bundle::Bundle;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        anyhow::bail!("usage: write-bundle <out.car>");
    };
    let bundle = Bundle::devnet();
    let file =
        std::fs::File::create(&path).map_err(|e| anyhow::anyhow!("cannot create {path}: {e}"))?;
    bundle.write_car(BufWriter::new(file))?;
    println!("{path}: manifest {}", bundle.manifest());
    for (name, code) in bundle.entries() {
        println!("  {name:<18} {code}");
    }
    Ok(())
}
