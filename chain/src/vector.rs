//! Message-class test vectors in the public Filecoin schema
//! (`filecoin-project/test-vectors`), and a replay that runs one exactly as
//! the standard runner (ref-fvm's `testing/conformance`) does.
//!
//! A vector is a group of messages applied at one epoch on top of a state:
//! `car` is the gzipped CAR of every block reachable from the pre-state root
//! (the actors' Wasm code and the manifest included, reached through the
//! actors' code CIDs and the system actor's state), `apply_messages` the
//! unsigned messages' DAG-CBOR, and the postconditions every receipt (exit
//! code, return bytes, gas used) and the post-state root.
//!
//! The runner's rules, which [`replay`] follows and which a recorder must
//! match (see [`Machine::start_as_runner`]): every message of a vector at the
//! variant's epoch, in one machine built as `NetworkConfig::new(nv)
//! .for_epoch(epoch, epoch * 30, root)` with the vector's base fee and no
//! actor debugging (it is consensus-critical: it changes gas), the manifest
//! read from the system actor's state, `ApplyKind::Explicit`, and inclusion
//! gas charged on the unsigned bytes plus 69 (a secp256k1 signature as a
//! block carries it) for secp256k1 senders, the unsigned bytes otherwise.
//! ref-fvm's runner leaves the circulating supply at the FVM's default
//! (zero); Lotus's takes the vector's, so vectors say zero.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, anyhow, bail, ensure};
use cid::Cid;
use fvm::executor::ApplyKind;
use fvm_ipld_blockstore::{Blockstore, MemoryBlockstore};
use fvm_ipld_encoding::DAG_CBOR;
use fvm_shared::address::Protocol;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use fvm_shared::version::NetworkVersion;
use serde::{Deserialize, Serialize};

use crate::machine::{Machine, MachineOptions, with_execution_stack};

/// What the runner adds to a secp256k1 sender's unsigned bytes for inclusion
/// gas: a 65-byte signature, its type byte and three bytes of CBOR framing.
pub const SECP_SIGNATURE_OVERHEAD: usize = 69;
/// The generator named in every vector's `_meta.gen`.
pub const GENERATOR: &str = "paych-vectors";

/// The inclusion length the runner charges a message for: what
/// [`crate::SignedMessage::chain_length`] is for a message signed as its
/// sender's address says.
pub fn runner_inclusion_length(message: &Message, unsigned_len: usize) -> usize {
    match message.from.protocol() {
        Protocol::Secp256k1 => unsigned_len + SECP_SIGNATURE_OVERHEAD,
        _ => unsigned_len,
    }
}

/// A receipt as vectors compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorReceipt {
    pub exit_code: ExitCode,
    pub return_data: Vec<u8>,
    pub gas_used: u64,
}

/// Messages applied at one epoch, with what they did: the makings of one
/// vector.
#[derive(Clone, Debug)]
pub struct MessageGroup {
    pub epoch: ChainEpoch,
    pub pre_root: Cid,
    pub messages: Vec<Message>,
    pub receipts: Vec<VectorReceipt>,
    pub post_root: Cid,
    /// One line per message (informational, goes into the description).
    pub labels: Vec<String>,
}

/// What a vector is recorded with besides its group.
#[derive(Clone, Debug)]
pub struct VectorContext {
    pub id: String,
    pub network_version: NetworkVersion,
    pub base_fee: TokenAmount,
    /// What the recording machine used (the FVM's default, zero).
    pub circ_supply: TokenAmount,
    /// Informational: where the vector comes from (bundle, flavour).
    pub comment: String,
    pub tags: Vec<String>,
}

// ----- the schema ---------------------------------------------------------

/// A CID as the schema writes it: `{"/": "bafy..."}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonCid(pub Cid);

impl Serialize for JsonCid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Link {
            #[serde(rename = "/")]
            cid: String,
        }
        Link {
            cid: self.0.to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonCid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Link {
            #[serde(rename = "/")]
            cid: String,
        }
        let link = Link::deserialize(d)?;
        link.cid
            .parse()
            .map(JsonCid)
            .map_err(|e| serde::de::Error::custom(format!("bad CID {:?}: {e}", link.cid)))
    }
}

/// Bytes as standard (padded) base64.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Base64(pub Vec<u8>);

impl Serialize for Base64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        data_encoding::BASE64
            .decode(text.as_bytes())
            .map(Base64)
            .map_err(|e| serde::de::Error::custom(format!("bad base64: {e}")))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenData {
    pub source: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    #[serde(rename = "gen")]
    pub generation: Vec<GenData>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: String,
    pub epoch: ChainEpoch,
    pub nv: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateTreeRef {
    pub root_cid: JsonCid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preconditions {
    pub variants: Vec<Variant>,
    pub state_tree: StateTreeRef,
    /// attoFIL, a JSON number.
    #[serde(default)]
    pub basefee: Option<u128>,
    /// attoFIL, a JSON number.
    #[serde(default)]
    pub circ_supply: Option<u128>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyMessage {
    pub bytes: Base64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptJson {
    pub exit_code: u32,
    #[serde(rename = "return")]
    pub return_data: Base64,
    pub gas_used: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postconditions {
    pub state_tree: StateTreeRef,
    pub receipts: Vec<ReceiptJson>,
}

/// A message-class test vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestVector {
    pub class: String,
    #[serde(rename = "_meta")]
    pub meta: Meta,
    pub car: Base64,
    pub preconditions: Preconditions,
    pub apply_messages: Vec<ApplyMessage>,
    pub postconditions: Postconditions,
}

fn atto_u128(amount: &TokenAmount, what: &str) -> anyhow::Result<u128> {
    u128::try_from(amount.atto()).map_err(|_| anyhow!("{what} {amount} does not fit a vector"))
}

impl TestVector {
    /// The vector of `group`, its CAR made of the blocks `store` holds under
    /// the group's pre-state root.
    pub fn record(
        context: &VectorContext,
        group: &MessageGroup,
        store: &impl Blockstore,
    ) -> anyhow::Result<Self> {
        ensure!(
            group.messages.len() == group.receipts.len(),
            "{} messages but {} receipts",
            group.messages.len(),
            group.receipts.len()
        );
        let apply_messages = group
            .messages
            .iter()
            .map(|m| {
                Ok(ApplyMessage {
                    bytes: Base64(fvm_ipld_encoding::to_vec(m)?),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let receipts = group
            .receipts
            .iter()
            .map(|r| ReceiptJson {
                exit_code: r.exit_code.value(),
                return_data: Base64(r.return_data.clone()),
                gas_used: r.gas_used,
            })
            .collect();
        let nv = u32::from(context.network_version);
        Ok(Self {
            class: "message".into(),
            meta: Meta {
                id: context.id.clone(),
                version: String::new(),
                description: group.labels.join("; "),
                comment: context.comment.clone(),
                generation: vec![
                    GenData {
                        source: GENERATOR.into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                    },
                    GenData {
                        source: "fvm".into(),
                        version: FVM_VERSION.into(),
                    },
                ],
                tags: context.tags.clone(),
            },
            car: Base64(gzipped_car(store, &group.pre_root)?),
            preconditions: Preconditions {
                variants: vec![Variant {
                    id: format!("nv{nv}"),
                    epoch: group.epoch,
                    nv,
                }],
                state_tree: StateTreeRef {
                    root_cid: JsonCid(group.pre_root),
                },
                basefee: Some(atto_u128(&context.base_fee, "base fee")?),
                circ_supply: Some(atto_u128(&context.circ_supply, "circulating supply")?),
            },
            apply_messages,
            postconditions: Postconditions {
                state_tree: StateTreeRef {
                    root_cid: JsonCid(group.post_root),
                },
                receipts,
            },
        })
    }

    /// Reads a vector file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let vector: Self = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a test vector", path.display()))?;
        ensure!(
            vector.class == "message",
            "{}: class {:?}, not \"message\"",
            path.display(),
            vector.class
        );
        Ok(vector)
    }

    /// Writes the vector as pretty JSON.
    pub fn write_file(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let json = serde_json::to_vec_pretty(self)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The FVM these vectors are recorded with.
const FVM_VERSION: &str = "4.8.4";

// ----- the CAR ------------------------------------------------------------

/// Every block reachable from `root` (DAG-CBOR links followed; raw blocks,
/// such as Wasm code, have none), root first, each once.
pub fn reachable_blocks(
    store: &impl Blockstore,
    root: &Cid,
) -> anyhow::Result<Vec<(Cid, Vec<u8>)>> {
    let mut seen = HashSet::new();
    let mut stack = vec![*root];
    let mut blocks = Vec::new();
    while let Some(cid) = stack.pop() {
        if !seen.insert(cid) {
            continue;
        }
        let Some(data) = store.get(&cid)? else {
            // Identity-hashed CIDs carry their data inline.
            if cid.hash().code() == fvm_shared::IDENTITY_HASH {
                continue;
            }
            bail!("block {cid} reachable from {root} is missing");
        };
        if cid.codec() == DAG_CBOR {
            let mut links = Vec::new();
            cbor_links(&data, &mut links).with_context(|| format!("cannot scan block {cid}"))?;
            // Reversed so that the walk visits links in their order.
            stack.extend(links.into_iter().rev());
        }
        blocks.push((cid, data));
    }
    Ok(blocks)
}

/// The CIDs a DAG-CBOR block links to (tag 42), in order.
fn cbor_links(mut buf: &[u8], out: &mut Vec<Cid>) -> anyhow::Result<()> {
    fn take<'a>(buf: &mut &'a [u8], n: u64) -> anyhow::Result<&'a [u8]> {
        let n = usize::try_from(n)?;
        ensure!(buf.len() >= n, "truncated CBOR");
        let (head, rest) = buf.split_at(n);
        *buf = rest;
        Ok(head)
    }
    fn header(buf: &mut &[u8]) -> anyhow::Result<(u8, u64)> {
        let first = take(buf, 1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let value = match info {
            0..=23 => u64::from(info),
            24..=27 => take(buf, 1 << (info - 24))?
                .iter()
                .fold(0u64, |v, b| (v << 8) | u64::from(*b)),
            _ => bail!("indefinite or reserved CBOR length (not DAG-CBOR)"),
        };
        Ok((major, value))
    }
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let (major, value) = header(&mut buf)?;
        match major {
            // Integers, simple values and floats: the header was all of it.
            0 | 1 | 7 => {}
            2 | 3 => {
                take(&mut buf, value)?;
            }
            4 => pending = pending.checked_add(value).context("CBOR too large")?,
            5 => {
                pending = value
                    .checked_mul(2)
                    .and_then(|n| pending.checked_add(n))
                    .context("CBOR too large")?
            }
            6 if value == 42 => {
                let (major, len) = header(&mut buf)?;
                ensure!(major == 2, "a CID link must be a byte string");
                let bytes = take(&mut buf, len)?;
                ensure!(bytes.first() == Some(&0), "a CID link must start with 0x00");
                out.push(Cid::try_from(&bytes[1..])?);
            }
            // Any other tag applies to the one item after it.
            6 => pending += 1,
            _ => unreachable!("a major type has three bits"),
        }
    }
    ensure!(buf.is_empty(), "trailing bytes after the CBOR item");
    Ok(())
}

/// A gzipped CAR v1 of every block reachable from `root`, rooted there.
pub fn gzipped_car(store: &impl Blockstore, root: &Cid) -> anyhow::Result<Vec<u8>> {
    let blocks = reachable_blocks(store, root)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let header = fvm_ipld_car::CarHeader::new(vec![*root], 1);
        let mut car = fvm_ipld_car::CarWriter::new(header, &mut gz)?;
        for (cid, data) in blocks {
            car.write(fvm_ipld_car::Block { cid, data })?;
        }
        car.flush()?;
    }
    Ok(gz.finish()?)
}

/// Loads a gzipped CAR into `store`; returns its roots.
pub fn load_gzipped_car(store: &impl Blockstore, gz: &[u8]) -> anyhow::Result<Vec<Cid>> {
    let mut car = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut car)
        .context("the vector's car is not gzip")?;
    fvm_ipld_car::load_car(store, car.as_slice()).context("the vector's car is not a valid CAR")
}

// ----- replay -------------------------------------------------------------

/// What a replay found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    pub variants: usize,
    pub messages: usize,
    pub gas_used: u64,
}

/// Runs `vector` from its own CAR alone (a fresh blockstore) exactly as the
/// standard runner does, for every variant, and checks every receipt (exit
/// code, return bytes, gas used) and the post-state root. The error names
/// the first difference.
pub fn replay(vector: &TestVector) -> anyhow::Result<Replayed> {
    let pre = &vector.preconditions;
    let post = &vector.postconditions;
    ensure!(!pre.variants.is_empty(), "the vector has no variant");
    ensure!(
        post.receipts.len() == vector.apply_messages.len(),
        "{} messages but {} receipts",
        vector.apply_messages.len(),
        post.receipts.len()
    );
    let base_fee = TokenAmount::from_atto(pre.basefee.unwrap_or(100));
    let circ_supply = TokenAmount::from_atto(pre.circ_supply.unwrap_or(0));
    let mut gas_used = 0;
    for variant in &pre.variants {
        let store = MemoryBlockstore::new();
        let roots = load_gzipped_car(&store, &vector.car.0)?;
        ensure!(
            roots.contains(&pre.state_tree.root_cid.0),
            "the CAR's roots {roots:?} do not include the pre-state root"
        );
        // The CAR must stand alone: every block the pre-state reaches (the
        // actors' code and the manifest included) is in it. (The process's
        // compiled-module cache could otherwise hide missing code.)
        reachable_blocks(&store, &pre.state_tree.root_cid.0)
            .context("the vector's CAR does not hold its whole pre-state")?;
        let run = || -> anyhow::Result<u64> {
            let mut machine = Machine::start_as_runner(
                store,
                NetworkVersion::new(variant.nv),
                variant.epoch,
                pre.state_tree.root_cid.0,
                base_fee.clone(),
                circ_supply.clone(),
                MachineOptions::default(),
            )?;
            let mut gas = 0;
            for (i, (m, expected)) in vector.apply_messages.iter().zip(&post.receipts).enumerate() {
                let message: Message = fvm_ipld_encoding::from_slice(&m.bytes.0)
                    .with_context(|| format!("message {i} is not a message"))?;
                let length = runner_inclusion_length(&message, m.bytes.0.len());
                let ret = machine.apply(message, ApplyKind::Explicit, length)?;
                let got = &ret.msg_receipt;
                let why = || {
                    ret.failure_info
                        .as_ref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default()
                };
                ensure!(
                    got.exit_code.value() == expected.exit_code,
                    "variant {}: message {i}: exit code {} expected, got {}{}",
                    variant.id,
                    expected.exit_code,
                    got.exit_code.value(),
                    why()
                );
                ensure!(
                    got.return_data.bytes() == expected.return_data.0.as_slice(),
                    "variant {}: message {i}: return {} expected, got {}",
                    variant.id,
                    data_encoding::BASE64.encode(&expected.return_data.0),
                    data_encoding::BASE64.encode(got.return_data.bytes())
                );
                ensure!(
                    got.gas_used == expected.gas_used,
                    "variant {}: message {i}: gas used {} expected, got {}",
                    variant.id,
                    expected.gas_used,
                    got.gas_used
                );
                gas += got.gas_used;
            }
            let root = machine.flush()?;
            ensure!(
                root == post.state_tree.root_cid.0,
                "variant {}: post-state root {} expected, got {root}",
                variant.id,
                post.state_tree.root_cid.0
            );
            Ok(gas)
        };
        gas_used += with_execution_stack(run)?;
    }
    Ok(Replayed {
        variants: pre.variants.len(),
        messages: vector.apply_messages.len(),
        gas_used,
    })
}

/// Every `*.json` file under `dir`, sorted.
pub fn vector_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fvm_ipld_blockstore::Block;
    use fvm_ipld_encoding::CborStore;
    use multihash_codetable::Code;

    #[test]
    fn links_are_found_in_nested_cbor() {
        let store = MemoryBlockstore::new();
        let leaf = store
            .put(Code::Blake2b256, &Block::new(0x55, b"wasm"))
            .unwrap();
        let mid = store
            .put_cbor(&(vec![leaf], "x", 7u64, -3i64), Code::Blake2b256)
            .unwrap();
        let root = store
            .put_cbor(&(1.5f64, vec![(mid, leaf)], true), Code::Blake2b256)
            .unwrap();
        let blocks = reachable_blocks(&store, &root).unwrap();
        let cids: Vec<Cid> = blocks.iter().map(|(c, _)| *c).collect();
        assert_eq!(cids, vec![root, mid, leaf]);
    }

    #[test]
    fn a_missing_block_is_an_error() {
        let store = MemoryBlockstore::new();
        let absent = Block::new(0x55, b"absent").cid(Code::Blake2b256);
        let root = store.put_cbor(&vec![absent], Code::Blake2b256).unwrap();
        assert!(reachable_blocks(&store, &root).is_err());
    }

    #[test]
    fn gzipped_car_round_trips() {
        let store = MemoryBlockstore::new();
        let leaf = store
            .put(Code::Blake2b256, &Block::new(0x55, b"wasm"))
            .unwrap();
        let root = store.put_cbor(&vec![leaf], Code::Blake2b256).unwrap();
        let gz = gzipped_car(&store, &root).unwrap();
        let fresh = MemoryBlockstore::new();
        assert_eq!(load_gzipped_car(&fresh, &gz).unwrap(), vec![root]);
        assert_eq!(fresh.get(&leaf).unwrap().as_deref(), Some(&b"wasm"[..]));
    }

    #[test]
    fn inclusion_length_follows_the_runner() {
        let mut m = crate::message::new_message(
            fvm_shared::address::Address::new_id(1),
            fvm_shared::address::Address::new_id(2),
            0,
            0,
            Default::default(),
            TokenAmount::default(),
        );
        assert_eq!(runner_inclusion_length(&m, 50), 50);
        let key = paych_client::Key::from_seed(paych_client::KeyType::Secp256k1, b"runner");
        m.from = key.address();
        let signed = crate::SignedMessage::sign(m.clone(), &key);
        let unsigned = fvm_ipld_encoding::to_vec(&m).unwrap().len();
        assert_eq!(runner_inclusion_length(&m, unsigned), signed.chain_length());
        let bls = paych_client::Key::from_seed(paych_client::KeyType::Bls, b"runner");
        m.from = bls.address();
        let signed = crate::SignedMessage::sign(m.clone(), &bls);
        let unsigned = fvm_ipld_encoding::to_vec(&m).unwrap().len();
        assert_eq!(runner_inclusion_length(&m, unsigned), signed.chain_length());
    }
}
