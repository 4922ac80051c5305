//! The bundle: this repository's actors compiled to Wasm (by `build.rs`), and
//! builtin-actors style bundles made from them or loaded from a CAR file.
//!
//! A bundle is a manifest (`[1, data]`, where `data` lists `(name, code CID)`
//! in the canonical builtin-actors order, so the FVM numbers the types the
//! same way the real network does) plus the code blocks it names. The devnet
//! bundle uses the stand-ins in `builtins/` and our payment channel; a real
//! builtin-actors release CAR can be loaded instead, with our payment channel
//! swapped in for theirs or not.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub use actor_interfaces::BuiltinType;
use anyhow::{Context, anyhow, bail};
use cid::Cid;
use fvm_ipld_blockstore::{Block, Blockstore, MemoryBlockstore};
use fvm_ipld_car::{CarHeader, CarWriter};
use fvm_ipld_encoding::{CborStore, DAG_CBOR};
use fvm_shared::IPLD_RAW;
use multihash_codetable::Code;

/// The Wasm binaries built by `build.rs`.
pub mod wasm {
    include!(concat!(env!("OUT_DIR"), "/wasm_binaries.rs"));
}

/// The environment variable naming a builtin-actors bundle CAR to use instead
/// of the devnet stand-ins.
pub const BUNDLE_ENV: &str = "PAYCH_BUILTIN_BUNDLE";

/// A builtin-actors manifest: `[1, data]`, where `data` lists `(name, code
/// CID)` entries. The FVM numbers the built-in types by entry position, so a
/// manifest in the canonical order ([`BuiltinType::ALL`]) gives every type its
/// mainnet number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub cid: Cid,
    pub entries: Vec<(String, Cid)>,
}

impl Manifest {
    /// Reads the manifest `cid` from `store` (the one manifest reader).
    pub fn load(store: &impl Blockstore, cid: &Cid) -> anyhow::Result<Self> {
        let (version, data): (u32, Cid) = store
            .get_cbor(cid)?
            .ok_or_else(|| anyhow!("manifest block {cid} missing"))?;
        if version != 1 {
            bail!("unsupported manifest version {version}");
        }
        let entries = store
            .get_cbor(&data)?
            .ok_or_else(|| anyhow!("manifest data block {data} missing"))?;
        Ok(Self { cid: *cid, entries })
    }

    /// The code CID of a built-in type.
    pub fn code(&self, builtin: BuiltinType) -> Option<Cid> {
        self.entries
            .iter()
            .find(|(n, _)| n == builtin.name())
            .map(|(_, c)| *c)
    }

    /// The built-in type of `code`, if the manifest names it.
    pub fn builtin_type(&self, code: &Cid) -> Option<BuiltinType> {
        self.entries
            .iter()
            .find(|(_, c)| c == code)
            .and_then(|(n, _)| BuiltinType::from_name(n))
    }
}

/// A manifest and the blocks it needs.
#[derive(Clone)]
pub struct Bundle {
    manifest: Manifest,
    blocks: BTreeMap<Cid, Vec<u8>>,
    origin: String,
}

impl Bundle {
    /// The devnet bundle: our payment channel, the account, init,
    /// placeholder and EthAccount stand-ins, and the inert stand-in (given a
    /// distinct CID per slot) for everything else.
    pub fn devnet() -> Self {
        let mut bundle = Bundle {
            manifest: Manifest {
                cid: Cid::default(),
                entries: Vec::new(),
            },
            blocks: BTreeMap::new(),
            origin: "devnet stand-ins".into(),
        };
        for builtin in BuiltinType::ALL {
            let code = match builtin {
                BuiltinType::Init => wasm::DEVNET_INIT.to_vec(),
                BuiltinType::Account => wasm::DEVNET_ACCOUNT.to_vec(),
                BuiltinType::PaymentChannel => wasm::PAYCH_ACTOR.to_vec(),
                BuiltinType::Placeholder => wasm::DEVNET_PLACEHOLDER.to_vec(),
                BuiltinType::EthAccount => wasm::DEVNET_ETHACCOUNT.to_vec(),
                slot => tagged_wasm(wasm::DEVNET_INERT, slot.name()),
            };
            let cid = bundle.add_code(code);
            bundle
                .manifest
                .entries
                .push((builtin.name().to_string(), cid));
        }
        bundle.seal();
        bundle
    }

    /// Reads a builtin-actors bundle CAR (one root: the manifest), checking
    /// every block against its CID.
    pub fn from_car(bytes: &[u8], origin: impl Into<String>) -> anyhow::Result<Self> {
        let store = MemoryBlockstore::default();
        let roots = fvm_ipld_car::load_car(&store, bytes).context("not a valid CAR file")?;
        let [manifest] = roots[..] else {
            bail!(
                "a bundle CAR has exactly one root (the manifest), found {}",
                roots.len()
            );
        };
        let loaded = Manifest::load(&store, &manifest)?;
        let mut blocks = BTreeMap::new();
        for (name, code) in &loaded.entries {
            let wasm = store
                .get(code)?
                .ok_or_else(|| anyhow!("the bundle has no code for {name} ({code})"))?;
            blocks.insert(*code, wasm);
        }
        let mut bundle = Bundle {
            manifest: loaded,
            blocks,
            origin: origin.into(),
        };
        bundle.seal();
        if bundle.manifest.cid != manifest {
            bail!("manifest {manifest} does not re-encode identically");
        }
        Ok(bundle)
    }

    /// Reads a bundle CAR from a file.
    pub fn from_car_file(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read bundle {}", path.display()))?;
        Self::from_car(&bytes, path.display().to_string())
            .with_context(|| format!("cannot load bundle {}", path.display()))
    }

    /// The bundle named by `PAYCH_BUILTIN_BUNDLE`, or `None` when it is unset.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        match std::env::var_os(BUNDLE_ENV) {
            Some(path) if !path.is_empty() => Self::from_car_file(Path::new(&path)).map(Some),
            _ => Ok(None),
        }
    }

    /// This bundle with `builtin`'s code replaced by `wasm`.
    pub fn with_code(mut self, builtin: BuiltinType, wasm: &[u8]) -> anyhow::Result<Self> {
        let name = builtin.name();
        let cid = self.add_code(wasm.to_vec());
        let entry = self
            .manifest
            .entries
            .iter_mut()
            .find(|(n, _)| n == name)
            .ok_or_else(|| anyhow!("the bundle has no {name} entry"))?;
        entry.1 = cid;
        self.origin = format!("{} with our {name}", self.origin);
        self.seal();
        Ok(self)
    }

    /// This bundle with our payment channel in place of its own.
    pub fn with_our_payment_channel(self) -> anyhow::Result<Self> {
        self.with_code(BuiltinType::PaymentChannel, wasm::PAYCH_ACTOR)
    }

    /// This bundle with one more manifest entry, `name`, running `wasm`. The
    /// FVM numbers types by position, so the entry's code gets the type
    /// number after the last one (17 after the canonical 16), which no
    /// built-in actor knows: actors of that code are not built-in to them.
    pub fn with_extra_entry(mut self, name: &str, wasm: &[u8]) -> anyhow::Result<Self> {
        if self.manifest.entries.iter().any(|(n, _)| n == name) {
            bail!("the bundle already has a {name} entry");
        }
        let cid = self.add_code(wasm.to_vec());
        self.manifest.entries.push((name.to_string(), cid));
        self.origin = format!("{} with an extra {name} entry", self.origin);
        self.seal();
        Ok(self)
    }

    /// The manifest CID (what the FVM's `NetworkConfig::override_actors` takes).
    pub fn manifest(&self) -> Cid {
        self.manifest.cid
    }

    /// Where the bundle came from, for reports.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn entries(&self) -> &[(String, Cid)] {
        &self.manifest.entries
    }

    pub fn code(&self, builtin: BuiltinType) -> Option<Cid> {
        self.manifest.code(builtin)
    }

    /// The Wasm bytes of `builtin`'s code.
    pub fn wasm(&self, builtin: BuiltinType) -> Option<&[u8]> {
        self.code(builtin)
            .and_then(|c| self.blocks.get(&c))
            .map(Vec::as_slice)
    }

    /// Puts the manifest and every code block into `store`; returns the
    /// manifest CID.
    pub fn load_into(&self, store: &impl Blockstore) -> anyhow::Result<Cid> {
        for (cid, data) in &self.blocks {
            store.put_keyed(cid, data)?;
        }
        Ok(self.manifest.cid)
    }

    /// Writes the bundle as a CAR v1 file whose single root is the manifest,
    /// in the layout of builtin-actors releases: the manifest block, its data
    /// block, then each entry's code in manifest order. A release CAR read
    /// with [`Bundle::from_car`] and written back is byte for byte the same.
    pub fn write_car(&self, out: impl Write) -> anyhow::Result<()> {
        let mut car = CarWriter::new(CarHeader::new(vec![self.manifest.cid], 1), out)?;
        let (_, data) = self.manifest_blocks();
        let codes = self.manifest.entries.iter().map(|(_, code)| *code);
        let mut written = Vec::new();
        for cid in [self.manifest.cid, data].into_iter().chain(codes) {
            if written.contains(&cid) {
                continue;
            }
            let block = self
                .blocks
                .get(&cid)
                .ok_or_else(|| anyhow!("the bundle has no block {cid}"))?;
            car.write(fvm_ipld_car::Block {
                cid,
                data: block.clone(),
            })?;
            written.push(cid);
        }
        car.flush()?;
        Ok(())
    }

    /// The manifest's root and data block CIDs.
    fn manifest_blocks(&self) -> (Cid, Cid) {
        let (_, data): (u32, Cid) = fvm_ipld_encoding::from_slice(&self.blocks[&self.manifest.cid])
            .expect("the sealed manifest decodes");
        (self.manifest.cid, data)
    }

    fn add_code(&mut self, wasm: Vec<u8>) -> Cid {
        let cid = Block::new(IPLD_RAW, &wasm).cid(Code::Blake2b256);
        self.blocks.insert(cid, wasm);
        cid
    }

    /// Recomputes the manifest blocks from `entries` and drops code blocks no
    /// entry names any more.
    fn seal(&mut self) {
        let named: Vec<Cid> = self.manifest.entries.iter().map(|(_, c)| *c).collect();
        self.blocks
            .retain(|cid, _| cid.codec() == IPLD_RAW && named.contains(cid));
        let data = encode_block(&self.manifest.entries);
        let manifest = encode_block(&(1u32, data.0));
        self.blocks.insert(data.0, data.1);
        self.manifest.cid = manifest.0;
        self.blocks.insert(manifest.0, manifest.1);
    }
}

fn encode_block<T: serde::Serialize>(value: &T) -> (Cid, Vec<u8>) {
    let bytes = fvm_ipld_encoding::to_vec(value).expect("manifest types always encode");
    (Block::new(DAG_CBOR, &bytes).cid(Code::Blake2b256), bytes)
}

/// `wasm` with a custom section naming `tag`: the same code under a different
/// code CID. The devnet bundle gives each inert slot its own CID this way;
/// tests use it to put one actor's code in several slots.
pub fn tagged_wasm(wasm: &[u8], tag: &str) -> Vec<u8> {
    with_custom_section(wasm, "devnet-builtin", tag.as_bytes())
}

/// Appends a Wasm custom section (id 0): same code, different bytes, hence a
/// different code CID.
fn with_custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    let mut section = Vec::new();
    leb128(&mut section, name.len() as u64);
    section.extend_from_slice(name.as_bytes());
    section.extend_from_slice(payload);
    let mut out = wasm.to_vec();
    out.push(0);
    leb128(&mut out, section.len() as u64);
    out.extend(section);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_bundle_has_every_canonical_entry_with_distinct_code() {
        let bundle = Bundle::devnet();
        let names: Vec<&str> = bundle.entries().iter().map(|(n, _)| n.as_str()).collect();
        let canonical: Vec<&str> = BuiltinType::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, canonical);
        let mut codes: Vec<Cid> = bundle.entries().iter().map(|(_, c)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(
            codes.len(),
            BuiltinType::ALL.len(),
            "every slot needs its own code CID"
        );
        assert_eq!(
            bundle.wasm(BuiltinType::PaymentChannel),
            Some(wasm::PAYCH_ACTOR)
        );
    }

    #[test]
    fn the_manifest_read_back_names_every_builtin_type_by_its_code() {
        let bundle = Bundle::devnet();
        let store = MemoryBlockstore::default();
        let cid = bundle.load_into(&store).unwrap();
        let manifest = Manifest::load(&store, &cid).unwrap();
        assert_eq!(manifest.entries, bundle.entries());
        for builtin in BuiltinType::ALL {
            let code = manifest.code(builtin).unwrap();
            assert_eq!(manifest.builtin_type(&code), Some(builtin));
        }
        assert_eq!(manifest.builtin_type(&Cid::default()), None);
    }

    #[test]
    fn car_round_trip_preserves_manifest_and_code() {
        let bundle = Bundle::devnet();
        let mut car = Vec::new();
        bundle.write_car(&mut car).unwrap();
        let back = Bundle::from_car(&car, "round trip").unwrap();
        assert_eq!(back.manifest(), bundle.manifest());
        assert_eq!(back.entries(), bundle.entries());
        assert_eq!(back.wasm(BuiltinType::Init), Some(wasm::DEVNET_INIT));
    }

    #[test]
    fn swapping_code_changes_only_that_entry() {
        let bundle = Bundle::devnet();
        let swapped = bundle
            .clone()
            .with_code(BuiltinType::PaymentChannel, wasm::TEST_PROBE)
            .unwrap();
        assert_ne!(swapped.manifest(), bundle.manifest());
        for ((name, before), (_, after)) in bundle.entries().iter().zip(swapped.entries()) {
            assert_eq!(
                before == after,
                name != BuiltinType::PaymentChannel.name(),
                "{name}"
            );
        }
        assert_eq!(
            swapped.wasm(BuiltinType::PaymentChannel),
            Some(wasm::TEST_PROBE)
        );
    }

    #[test]
    fn car_written_back_is_byte_for_byte_the_same() {
        let mut car = Vec::new();
        Bundle::devnet().write_car(&mut car).unwrap();
        let mut again = Vec::new();
        Bundle::from_car(&car, "round trip")
            .unwrap()
            .write_car(&mut again)
            .unwrap();
        assert_eq!(car, again);
    }

    /// With `PAYCH_BUILTIN_BUNDLE` set: a builtin-actors release CAR read and
    /// written back is the same file, so a bundle with our payment channel
    /// swapped in differs from the release in that entry alone.
    #[test]
    fn release_car_written_back_is_byte_for_byte_the_same() {
        let Some(path) = std::env::var_os(BUNDLE_ENV).filter(|p| !p.is_empty()) else {
            eprintln!("{BUNDLE_ENV} unset: skipped");
            return;
        };
        let original = std::fs::read(&path).unwrap();
        let bundle = Bundle::from_car(&original, "release").unwrap();
        let mut written = Vec::new();
        bundle.write_car(&mut written).unwrap();
        assert!(written == original, "the release CAR is not reproduced");
    }

    #[test]
    fn an_extra_entry_comes_after_the_canonical_ones() {
        let bundle = Bundle::devnet()
            .with_extra_entry("type17", &tagged_wasm(wasm::TEST_PROBE, "type17"))
            .unwrap();
        assert_eq!(bundle.entries().len(), BuiltinType::ALL.len() + 1);
        assert_eq!(bundle.entries().last().unwrap().0, "type17");
        assert_eq!(bundle.entries()[..16], Bundle::devnet().entries()[..]);
        let mut car = Vec::new();
        bundle.write_car(&mut car).unwrap();
        assert_eq!(
            Bundle::from_car(&car, "17 entries").unwrap().entries(),
            bundle.entries()
        );
        assert!(
            Bundle::devnet()
                .with_extra_entry("init", wasm::TEST_PROBE)
                .is_err()
        );
    }

    #[test]
    fn tagged_code_has_its_own_cid() {
        let tagged = tagged_wasm(wasm::TEST_PROBE, "multisig");
        let bundle = Bundle::devnet()
            .with_code(BuiltinType::Multisig, &tagged)
            .unwrap();
        let plain = Block::new(IPLD_RAW, wasm::TEST_PROBE).cid(Code::Blake2b256);
        assert_ne!(bundle.code(BuiltinType::Multisig), Some(plain));
        assert_eq!(bundle.wasm(BuiltinType::Multisig), Some(&tagged[..]));
    }

    #[test]
    fn corrupt_car_is_rejected() {
        let mut car = Vec::new();
        Bundle::devnet().write_car(&mut car).unwrap();
        let last = car.len() - 1;
        car[last] ^= 0xff;
        assert!(Bundle::from_car(&car, "corrupt").is_err());
        assert!(Bundle::from_car(b"not a car", "garbage").is_err());
    }
}
