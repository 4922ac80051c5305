//! An in-memory [`Repo`] for tests: the same semantics as the SQLite one
//! (atomic, exclusive write units; committed blocks readable from any
//! thread), nothing on disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use cid::Cid;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use paych_client::Key;

use fvm_shared::clock::ChainEpoch;
use paych_chain::blocks::BlockSource;
use paych_chain::{Head, SignedMessage};

use super::{
    AddOutcome, ChainBlock, ChannelRecord, MessageRecord, Repo, SettlerAction, Store,
    VoucherRecord, to_i64,
};
use crate::error::{Error, Result};

#[derive(Clone, Default)]
struct State {
    meta: BTreeMap<String, String>,
    head: Option<Head>,
    messages: Vec<MessageRecord>,
    traces: BTreeMap<u64, Vec<u8>>,
    pool: Vec<SignedMessage>,
    chain_blocks: BTreeMap<ChainEpoch, ChainBlock>,
    keys: Vec<Key>,
    channels: Vec<ChannelRecord>,
    vouchers: Vec<VoucherRecord>,
    settler_actions: Vec<SettlerAction>,
}

#[derive(Default)]
struct Blocks(RwLock<HashMap<Cid, Vec<u8>>>);

impl BlockSource for Blocks {
    fn get_block(&self, cid: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .read()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .get(cid)
            .cloned())
    }
}

#[derive(Default)]
pub struct MemoryRepo {
    state: Mutex<State>,
    blocks: Arc<Blocks>,
}

impl MemoryRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

struct Unit<'a> {
    state: &'a mut State,
    new_blocks: Vec<(Cid, Vec<u8>)>,
    blocks: &'a Blocks,
}

impl Repo for MemoryRepo {
    fn read<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let guard = self
            .state
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        let mut snapshot = guard.clone();
        drop(guard);
        let unit = Unit {
            state: &mut snapshot,
            new_blocks: Vec::new(),
            blocks: &self.blocks,
        };
        f(&unit)
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        let mut working = guard.clone();
        let mut unit = Unit {
            state: &mut working,
            new_blocks: Vec::new(),
            blocks: &self.blocks,
        };
        let value = f(&mut unit)?;
        let new_blocks = std::mem::take(&mut unit.new_blocks);
        drop(unit);
        let mut blocks = self
            .blocks
            .0
            .write()
            .map_err(|_| Error::internal("block lock poisoned"))?;
        blocks.extend(new_blocks);
        *guard = working;
        Ok(value)
    }

    fn blocks(&self) -> Arc<dyn BlockSource> {
        self.blocks.clone()
    }

    fn check_integrity(&self) -> Result<()> {
        Ok(())
    }
}

impl Store for Unit<'_> {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.state.meta.get(key).cloned())
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.state.meta.insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        if let Some((_, data)) = self.new_blocks.iter().rev().find(|(c, _)| c == cid) {
            return Ok(Some(data.clone()));
        }
        self.blocks
            .get_block(cid)
            .map_err(|e| Error::internal(e.to_string()))
    }

    fn put_blocks(&mut self, blocks: &[(Cid, Vec<u8>)]) -> Result<()> {
        self.new_blocks.extend(blocks.iter().cloned());
        Ok(())
    }

    fn head(&self) -> Result<Option<Head>> {
        Ok(self.state.head)
    }

    fn set_head(&mut self, head: &Head) -> Result<()> {
        self.state.head = Some(*head);
        Ok(())
    }

    fn record_message(&mut self, record: &MessageRecord) -> Result<u64> {
        let seq = self.state.messages.len() as u64 + 1;
        self.state.messages.push(MessageRecord {
            seq,
            ..record.clone()
        });
        Ok(seq)
    }

    fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>> {
        let all = &self.state.messages;
        Ok(all[all.len().saturating_sub(limit)..].to_vec())
    }

    fn message_count(&self) -> Result<u64> {
        Ok(self.state.messages.len() as u64)
    }

    fn message_by_cid(&self, cid: &Cid) -> Result<Option<MessageRecord>> {
        Ok(self.state.messages.iter().find(|m| m.cid == *cid).cloned())
    }

    fn put_trace(&mut self, seq: u64, trace: &[u8]) -> Result<()> {
        self.state.traces.insert(seq, trace.to_vec());
        Ok(())
    }

    fn trace(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.state.traces.get(&seq).cloned())
    }

    fn pool_push(&mut self, message: &SignedMessage) -> Result<()> {
        self.state.pool.push(message.clone());
        Ok(())
    }

    fn pool(&self) -> Result<Vec<SignedMessage>> {
        Ok(self.state.pool.clone())
    }

    fn pool_remove(&mut self, cids: &[Cid]) -> Result<()> {
        self.state.pool.retain(|m| !cids.contains(&m.cid()));
        Ok(())
    }

    fn put_chain_block(&mut self, block: &ChainBlock) -> Result<()> {
        self.state
            .chain_blocks
            .insert(block.header.height, block.clone());
        Ok(())
    }

    fn chain_block_at(&self, epoch: ChainEpoch) -> Result<Option<ChainBlock>> {
        Ok(self.state.chain_blocks.get(&epoch).cloned())
    }

    fn chain_block(&self, cid: &Cid) -> Result<Option<ChainBlock>> {
        Ok(self
            .state
            .chain_blocks
            .values()
            .find(|b| b.cid == *cid)
            .cloned())
    }

    fn latest_chain_block(&self) -> Result<Option<ChainBlock>> {
        Ok(self.state.chain_blocks.values().next_back().cloned())
    }

    fn put_key(&mut self, key: &Key) -> Result<bool> {
        if self.state.keys.iter().any(|k| k.address() == key.address()) {
            return Ok(false);
        }
        self.state.keys.push(key.clone());
        Ok(true)
    }

    fn key(&self, addr: &Address) -> Result<Option<Key>> {
        Ok(self
            .state
            .keys
            .iter()
            .find(|k| k.address() == *addr)
            .cloned())
    }

    fn keys(&self) -> Result<Vec<Key>> {
        Ok(self.state.keys.clone())
    }

    fn put_channel(&mut self, channel: &ChannelRecord) -> Result<()> {
        match self
            .state
            .channels
            .iter_mut()
            .find(|c| c.robust == channel.robust)
        {
            Some(existing) => *existing = channel.clone(),
            None => self.state.channels.push(channel.clone()),
        }
        Ok(())
    }

    fn channel_by_id(&self, id: ActorID) -> Result<Option<ChannelRecord>> {
        Ok(self.state.channels.iter().find(|c| c.id == id).cloned())
    }

    fn channels(&self) -> Result<Vec<ChannelRecord>> {
        Ok(self.state.channels.clone())
    }

    fn add_voucher(&mut self, record: &VoucherRecord) -> Result<AddOutcome> {
        let same_slot = self.state.vouchers.iter().find(|v| {
            v.channel == record.channel
                && v.voucher.lane == record.voucher.lane
                && v.voucher.nonce == record.voucher.nonce
        });
        match same_slot {
            Some(v) if v.voucher == record.voucher => Ok(AddOutcome::Duplicate),
            Some(v) => Ok(AddOutcome::Conflict(Box::new(v.voucher.clone()))),
            None => {
                to_i64(record.voucher.lane, "lane")?;
                to_i64(record.voucher.nonce, "nonce")?;
                self.state.vouchers.push(record.clone());
                Ok(AddOutcome::Inserted)
            }
        }
    }

    fn vouchers(&self, channel: &Address) -> Result<Vec<VoucherRecord>> {
        let mut out: Vec<VoucherRecord> = self
            .state
            .vouchers
            .iter()
            .filter(|v| v.channel == *channel)
            .cloned()
            .collect();
        out.sort_by_key(|v| (v.voucher.lane, v.voucher.nonce));
        Ok(out)
    }

    fn mark_submitted(&mut self, channel: &Address, lane: u64, nonce: u64) -> Result<usize> {
        let mut changed = 0;
        for v in &mut self.state.vouchers {
            if v.channel == *channel
                && v.voucher.lane == lane
                && v.voucher.nonce <= nonce
                && !v.submitted
            {
                v.submitted = true;
                changed += 1;
            }
        }
        Ok(changed)
    }

    fn record_settler_action(&mut self, action: &SettlerAction) -> Result<()> {
        self.state.settler_actions.push(action.clone());
        Ok(())
    }

    fn settler_actions(&self, channel: &Address) -> Result<Vec<SettlerAction>> {
        Ok(self
            .state
            .settler_actions
            .iter()
            .filter(|a| a.channel == *channel)
            .cloned()
            .collect())
    }
}
