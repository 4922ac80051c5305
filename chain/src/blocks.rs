//! Blockstores for the machine and for reading state.
//!
//! Committed blocks come from a [`BlockSource`] (the devnet's repository).
//! Blocks are content-addressed and never deleted, so a reader needs no
//! transaction: any block reachable from a committed head stays readable. A
//! message is executed over an [`Overlay`]: reads fall through to the source,
//! writes stay in memory until the caller commits them (with the new head and
//! receipt), or drops them (dry runs, failures).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::anyhow;
use cid::Cid;
use fvm_ipld_blockstore::Blockstore;

/// Read access to committed blocks, shareable with the machine's thread.
pub trait BlockSource: Send + Sync + 'static {
    fn get_block(&self, cid: &Cid) -> anyhow::Result<Option<Vec<u8>>>;
}

/// No blocks at all (the base of a genesis build).
pub struct Empty;

impl BlockSource for Empty {
    fn get_block(&self, _cid: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// A read-only blockstore over committed blocks, for decoding state.
#[derive(Clone)]
pub struct ReadOnly(pub Arc<dyn BlockSource>);

impl Blockstore for ReadOnly {
    fn get(&self, k: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        self.0.get_block(k)
    }

    fn put_keyed(&self, k: &Cid, _block: &[u8]) -> anyhow::Result<()> {
        Err(anyhow!("read-only blockstore: refusing to write {k}"))
    }
}

/// Committed blocks plus uncommitted writes kept in memory.
pub struct Overlay {
    base: Arc<dyn BlockSource>,
    writes: RwLock<HashMap<Cid, Vec<u8>>>,
}

impl Overlay {
    pub fn new(base: Arc<dyn BlockSource>) -> Self {
        Self {
            base,
            writes: RwLock::new(HashMap::new()),
        }
    }

    /// The blocks written so far, in no particular order.
    pub fn take_writes(&self) -> Vec<(Cid, Vec<u8>)> {
        let mut writes = self.writes.write().expect("overlay lock poisoned");
        writes.drain().collect()
    }
}

impl Blockstore for Overlay {
    fn get(&self, k: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(data) = self.writes.read().expect("overlay lock poisoned").get(k) {
            return Ok(Some(data.clone()));
        }
        self.base.get_block(k)
    }

    fn put_keyed(&self, k: &Cid, block: &[u8]) -> anyhow::Result<()> {
        self.writes
            .write()
            .expect("overlay lock poisoned")
            .insert(*k, block.to_vec());
        Ok(())
    }

    fn has(&self, k: &Cid) -> anyhow::Result<bool> {
        if self
            .writes
            .read()
            .expect("overlay lock poisoned")
            .contains_key(k)
        {
            return Ok(true);
        }
        Ok(self.base.get_block(k)?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fvm_ipld_blockstore::Block;
    use multihash_codetable::Code;

    #[test]
    fn overlay_reads_its_writes_and_keeps_them_apart_from_the_base() {
        let overlay = Overlay::new(Arc::new(Empty));
        let cid = overlay
            .put(Code::Blake2b256, &Block::new(0x55, b"hello"))
            .unwrap();
        assert_eq!(overlay.get(&cid).unwrap().as_deref(), Some(&b"hello"[..]));
        assert!(overlay.has(&cid).unwrap());
        let writes = overlay.take_writes();
        assert_eq!(writes, vec![(cid, b"hello".to_vec())]);
        assert!(
            !overlay.has(&cid).unwrap(),
            "taken writes are gone from the overlay"
        );
    }

    #[test]
    fn read_only_store_refuses_writes() {
        let store = ReadOnly(Arc::new(Empty));
        assert!(
            store
                .put(Code::Blake2b256, &Block::new(0x55, b"x"))
                .is_err()
        );
    }
}
