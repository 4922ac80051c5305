//! The devnet's blocks: one per epoch it produces, each applying the
//! messages the pool held, in order. Lotus shows a chain of tipsets; the
//! devnet's tipsets are single blocks, and a block's header is this module's
//! small DAG-CBOR tuple (its CID names the tipset), not Lotus's full header.
//!
//! One simplification Lotus clients never notice: a block's
//! `parent_state_root` is the state *after* its own messages (Lotus executes
//! a tipset's messages when building the next one), so reading the state at
//! the head shows every applied message.

use cid::Cid;
use fvm_ipld_blockstore::Block;
use fvm_ipld_encoding::DAG_CBOR;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use multihash_codetable::Code;

use crate::error::Result;
use crate::repo::{ChainBlock, Store};

/// The address blocks are credited to; no actor lives there.
pub const BLOCK_PRODUCER: u64 = 1000;

#[derive(Clone, Debug, PartialEq, Serialize_tuple, Deserialize_tuple)]
pub struct BlockHeader {
    pub miner: Address,
    /// The previous block (none for genesis).
    pub parents: Vec<Cid>,
    pub height: ChainEpoch,
    /// The state after this block's messages.
    pub parent_state_root: Cid,
    /// A DAG-CBOR list of the CIDs of the messages it applied.
    pub messages: Cid,
    /// UNIX seconds.
    pub timestamp: u64,
    pub parent_base_fee: TokenAmount,
}

impl BlockHeader {
    /// The header's DAG-CBOR encoding and its CID.
    pub fn encode(&self) -> (Cid, Vec<u8>) {
        let bytes = fvm_ipld_encoding::to_vec(self).expect("block headers always encode");
        (Block::new(DAG_CBOR, &bytes).cid(Code::Blake2b256), bytes)
    }
}

/// The DAG-CBOR list of message CIDs a header names, and its CID.
pub fn message_list(cids: &[Cid]) -> (Cid, Vec<u8>) {
    let bytes = fvm_ipld_encoding::to_vec(&cids).expect("CID lists always encode");
    (Block::new(DAG_CBOR, &bytes).cid(Code::Blake2b256), bytes)
}

/// Records the block at `height` (its header and message list go into the
/// store's blocks too, so the chain can be read as IPLD), chained to the
/// newest block the store has.
pub(crate) fn record_block(
    store: &mut dyn Store,
    height: ChainEpoch,
    state_root: Cid,
    messages: &[Cid],
    timestamp: u64,
    base_fee: &TokenAmount,
) -> Result<ChainBlock> {
    let parents = store
        .latest_chain_block()?
        .map(|parent| vec![parent.cid])
        .unwrap_or_default();
    let (list_cid, list) = message_list(messages);
    let header = BlockHeader {
        miner: Address::new_id(BLOCK_PRODUCER),
        parents,
        height,
        parent_state_root: state_root,
        messages: list_cid,
        timestamp,
        parent_base_fee: base_fee.clone(),
    };
    let (cid, bytes) = header.encode();
    store.put_blocks(&[(list_cid, list), (cid, bytes)])?;
    let block = ChainBlock {
        cid,
        header,
        messages: messages.to_vec(),
    };
    store.put_chain_block(&block)?;
    Ok(block)
}
