//! The repository on disk: one SQLite database (WAL, busy timeout) holding
//! blocks, head, messages and receipts, wallet, channels and vouchers.
//!
//! Every write unit is a `BEGIN IMMEDIATE` transaction, so writers (threads or
//! processes) queue behind one another for up to [`BUSY_TIMEOUT`], and a
//! crash at any point leaves the database at its last commit.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cid::Cid;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::bigint::BigInt;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use paych_actor::SignedVoucher;
use paych_client::{Key, KeyType};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::blocks::BlockSource;
use crate::error::{Error, Result};
use crate::store::{
    AddOutcome, ChannelRecord, Head, MessageRecord, Repo, Store, VoucherOrigin, VoucherRecord,
    to_i64,
};

/// How long a command waits for another command's write to finish.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(120);
/// The database file inside the repository directory.
pub const DB_FILE: &str = "paych.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    cid BLOB PRIMARY KEY,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    epoch INTEGER NOT NULL,
    state_root BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch INTEGER NOT NULL,
    cid TEXT NOT NULL UNIQUE,
    from_addr BLOB NOT NULL,
    to_addr BLOB NOT NULL,
    method INTEGER NOT NULL,
    value TEXT NOT NULL,
    signed BLOB NOT NULL,
    exit_code INTEGER NOT NULL,
    return_data BLOB NOT NULL,
    gas_used INTEGER NOT NULL,
    base_fee_burn TEXT NOT NULL,
    over_estimation_burn TEXT NOT NULL,
    miner_tip TEXT NOT NULL,
    refund TEXT NOT NULL,
    state_root BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    address BLOB NOT NULL UNIQUE,
    key_type TEXT NOT NULL,
    private_key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    robust BLOB NOT NULL UNIQUE,
    id INTEGER NOT NULL UNIQUE,
    from_addr BLOB NOT NULL,
    to_addr BLOB NOT NULL,
    from_id INTEGER NOT NULL,
    to_id INTEGER NOT NULL,
    created_epoch INTEGER NOT NULL,
    settling INTEGER NOT NULL,
    collected_epoch INTEGER
);
CREATE TABLE IF NOT EXISTS vouchers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    channel BLOB NOT NULL,
    lane INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    amount TEXT NOT NULL,
    voucher BLOB NOT NULL,
    origin TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    UNIQUE (channel, lane, nonce)
);
";

/// A repository directory with its database.
pub struct SqliteRepo {
    dir: PathBuf,
    conn: Mutex<Connection>,
    blocks: Arc<SqliteBlocks>,
}

impl SqliteRepo {
    /// Opens (creating if needed) the repository in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::repo(format!(
                "cannot create repo directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(DB_FILE);
        let mut conn = connect(&path)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.commit()?;
        let reader = connect(&path)?;
        reader.pragma_update(None, "query_only", true)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            conn: Mutex::new(conn),
            blocks: Arc::new(SqliteBlocks {
                conn: Mutex::new(reader),
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SQLite's own consistency check of the database file.
    pub fn integrity_check(&self) -> Result<String> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::repo(format!("cannot open repo database {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer and a crash never leaves a
    // half-written transaction visible. FULL sync: a commit survives power
    // loss, not just a killed process.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::repo(format!(
            "cannot enable the write-ahead log (journal mode {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

impl Repo for SqliteRepo {
    fn read<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let store = SqliteStore { conn: &tx };
        f(&store)
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| {
                Error::repo(format!(
                    "repository is busy (another paych command holds it): {e}"
                ))
            })?;
        let mut store = SqliteStore { conn: &tx };
        let value = f(&mut store)?;
        tx.commit()?;
        Ok(value)
    }

    fn blocks(&self) -> Arc<dyn BlockSource> {
        self.blocks.clone()
    }
}

/// Committed blocks through a second, query-only connection: the machine
/// reads them from its own thread while the writer's transaction is open.
struct SqliteBlocks {
    conn: Mutex<Connection>,
}

impl BlockSource for SqliteBlocks {
    fn get_block(&self, cid: &Cid) -> anyhow::Result<Option<Vec<u8>>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("block reader lock poisoned"))?;
        let mut stmt = conn.prepare_cached("SELECT data FROM blocks WHERE cid = ?1")?;
        Ok(stmt.query_row([cid.to_bytes()], |r| r.get(0)).optional()?)
    }
}

struct SqliteStore<'a> {
    conn: &'a Connection,
}

fn amount_text(amount: &TokenAmount) -> String {
    amount.atto().to_string()
}

fn parse_amount(text: &str) -> Result<TokenAmount> {
    BigInt::from_str(text)
        .map(TokenAmount::from_atto)
        .map_err(|_| Error::repo(format!("corrupt amount {text:?} in repository")))
}

fn parse_cid(bytes: &[u8]) -> Result<Cid> {
    Cid::try_from(bytes).map_err(|e| Error::repo(format!("corrupt CID in repository: {e}")))
}

fn parse_address(bytes: &[u8]) -> Result<Address> {
    Address::from_bytes(bytes)
        .map_err(|e| Error::repo(format!("corrupt address in repository: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    fvm_ipld_encoding::from_slice(bytes)
        .map_err(|e| Error::repo(format!("corrupt {what} in repository: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    fvm_ipld_encoding::to_vec(value).map_err(|e| Error::internal(format!("cannot encode: {e}")))
}

fn key_from_row(key_type: &str, private: &[u8]) -> Result<Key> {
    let kind = match key_type {
        "secp256k1" => KeyType::Secp256k1,
        "bls" => KeyType::Bls,
        other => return Err(Error::repo(format!("unknown key type {other:?} in wallet"))),
    };
    Key::from_bytes(kind, private).map_err(|e| Error::repo(format!("corrupt key in wallet: {e}")))
}

type ChannelRow = (
    Vec<u8>,
    i64,
    Vec<u8>,
    Vec<u8>,
    i64,
    i64,
    i64,
    bool,
    Option<i64>,
);

fn channel_from_row(row: ChannelRow) -> Result<ChannelRecord> {
    let (robust, id, from, to, from_id, to_id, created_epoch, settling, collected_epoch) = row;
    Ok(ChannelRecord {
        robust: parse_address(&robust)?,
        id: id as ActorID,
        from: parse_address(&from)?,
        to: parse_address(&to)?,
        from_id: from_id as ActorID,
        to_id: to_id as ActorID,
        created_epoch,
        settling,
        collected_epoch,
    })
}

const CHANNEL_COLUMNS: &str =
    "robust, id, from_addr, to_addr, from_id, to_id, created_epoch, settling, collected_epoch";

fn read_channel_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChannelRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

impl Store for SqliteStore<'_> {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2")?
            .execute([key, value])?;
        Ok(())
    }

    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM blocks WHERE cid = ?1")?;
        Ok(stmt.query_row([cid.to_bytes()], |r| r.get(0)).optional()?)
    }

    fn put_blocks(&mut self, blocks: &[(Cid, Vec<u8>)]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO blocks (cid, data) VALUES (?1, ?2)")?;
        for (cid, data) in blocks {
            stmt.execute(params![cid.to_bytes(), data])?;
        }
        Ok(())
    }

    fn head(&self) -> Result<Option<Head>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT epoch, state_root FROM head WHERE id = 0")?;
        let row: Option<(i64, Vec<u8>)> = stmt
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(epoch, root)| {
            Ok(Head {
                epoch,
                state_root: parse_cid(&root)?,
            })
        })
        .transpose()
    }

    fn set_head(&mut self, head: &Head) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO head (id, epoch, state_root) VALUES (0, ?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET epoch = ?1, state_root = ?2",
            )?
            .execute(params![head.epoch, head.state_root.to_bytes()])?;
        Ok(())
    }

    fn record_message(&mut self, m: &MessageRecord) -> Result<u64> {
        let signed = encode(&(&m.message, &m.signature))?;
        self.conn
            .prepare_cached(
                "INSERT INTO messages (epoch, cid, from_addr, to_addr, method, value, signed, exit_code,
                   return_data, gas_used, base_fee_burn, over_estimation_burn, miner_tip, refund, state_root)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                m.epoch,
                m.cid.to_string(),
                m.message.from.to_bytes(),
                m.message.to.to_bytes(),
                to_i64(m.message.method_num, "method number")?,
                amount_text(&m.message.value),
                signed,
                m.exit_code,
                m.return_data,
                to_i64(m.gas_used, "gas used")?,
                amount_text(&m.base_fee_burn),
                amount_text(&m.over_estimation_burn),
                amount_text(&m.miner_tip),
                amount_text(&m.refund),
                m.state_root.to_bytes(),
            ])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, epoch, cid, signed, exit_code, return_data, gas_used, base_fee_burn,
                    over_estimation_burn, miner_tip, refund, state_root
             FROM messages ORDER BY seq DESC LIMIT ?1",
        )?;
        type Row = (
            i64,
            i64,
            String,
            Vec<u8>,
            u32,
            Vec<u8>,
            i64,
            String,
            String,
            String,
            String,
            Vec<u8>,
        );
        let rows: Vec<Row> = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (
            seq,
            epoch,
            cid,
            signed,
            exit_code,
            return_data,
            gas_used,
            bfb,
            oeb,
            tip,
            refund,
            root,
        ) in rows.into_iter().rev()
        {
            let (message, signature): (Message, Signature) = decode(&signed, "message")?;
            out.push(MessageRecord {
                seq: seq as u64,
                epoch,
                cid: Cid::from_str(&cid)
                    .map_err(|e| Error::repo(format!("corrupt message CID: {e}")))?,
                message,
                signature,
                exit_code,
                return_data,
                gas_used: gas_used as u64,
                base_fee_burn: parse_amount(&bfb)?,
                over_estimation_burn: parse_amount(&oeb)?,
                miner_tip: parse_amount(&tip)?,
                refund: parse_amount(&refund)?,
                state_root: parse_cid(&root)?,
            });
        }
        Ok(out)
    }

    fn message_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn put_key(&mut self, key: &Key) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO keys (address, key_type, private_key) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                key.address().to_bytes(),
                key.kind().name(),
                key.private_bytes()
            ])?;
        Ok(changed == 1)
    }

    fn key(&self, addr: &Address) -> Result<Option<Key>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key_type, private_key FROM keys WHERE address = ?1")?;
        let row: Option<(String, Vec<u8>)> = stmt
            .query_row([addr.to_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(t, p)| key_from_row(&t, &p)).transpose()
    }

    fn keys(&self) -> Result<Vec<Key>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key_type, private_key FROM keys ORDER BY seq")?;
        let rows: Vec<(String, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.iter().map(|(t, p)| key_from_row(t, p)).collect()
    }

    fn put_channel(&mut self, c: &ChannelRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO channels (robust, id, from_addr, to_addr, from_id, to_id, created_epoch, settling, collected_epoch)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(robust) DO UPDATE SET id = ?2, from_addr = ?3, to_addr = ?4, from_id = ?5,
                   to_id = ?6, created_epoch = ?7, settling = ?8, collected_epoch = ?9",
            )?
            .execute(params![
                c.robust.to_bytes(),
                to_i64(c.id, "actor ID")?,
                c.from.to_bytes(),
                c.to.to_bytes(),
                to_i64(c.from_id, "actor ID")?,
                to_i64(c.to_id, "actor ID")?,
                c.created_epoch,
                c.settling,
                c.collected_epoch,
            ])?;
        Ok(())
    }

    fn channel_by_id(&self, id: ActorID) -> Result<Option<ChannelRecord>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let row = stmt
            .query_row([to_i64(id, "actor ID")?], read_channel_row)
            .optional()?;
        row.map(channel_from_row).transpose()
    }

    fn channels(&self) -> Result<Vec<ChannelRecord>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows: Vec<ChannelRow> = stmt
            .query_map([], read_channel_row)?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(channel_from_row).collect()
    }

    fn add_voucher(&mut self, r: &VoucherRecord) -> Result<AddOutcome> {
        let bytes = encode(&r.voucher)?;
        let lane = to_i64(r.voucher.lane, "lane")?;
        let nonce = to_i64(r.voucher.nonce, "nonce")?;
        let existing: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT voucher FROM vouchers WHERE channel = ?1 AND lane = ?2 AND nonce = ?3",
            )?
            .query_row(params![r.channel.to_bytes(), lane, nonce], |row| row.get(0))
            .optional()?;
        if let Some(existing) = existing {
            if existing == bytes {
                return Ok(AddOutcome::Duplicate);
            }
            return Ok(AddOutcome::Conflict(Box::new(decode(
                &existing, "voucher",
            )?)));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO vouchers (channel, lane, nonce, amount, voucher, origin, submitted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                r.channel.to_bytes(),
                lane,
                nonce,
                amount_text(&r.voucher.amount),
                bytes,
                r.origin.name(),
                r.submitted,
            ])?;
        Ok(AddOutcome::Inserted)
    }

    fn vouchers(&self, channel: &Address) -> Result<Vec<VoucherRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT voucher, origin, submitted FROM vouchers WHERE channel = ?1 ORDER BY lane, nonce",
        )?;
        let rows: Vec<(Vec<u8>, String, bool)> = stmt
            .query_map([channel.to_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(bytes, origin, submitted)| {
                let voucher: SignedVoucher = decode(&bytes, "voucher")?;
                let origin = VoucherOrigin::from_name(&origin)
                    .ok_or_else(|| Error::repo(format!("unknown voucher origin {origin:?}")))?;
                Ok(VoucherRecord {
                    channel: *channel,
                    voucher,
                    origin,
                    submitted,
                })
            })
            .collect()
    }

    fn mark_submitted(&mut self, channel: &Address, lane: u64, nonce: u64) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE vouchers SET submitted = 1 WHERE channel = ?1 AND lane = ?2 AND nonce <= ?3 AND submitted = 0",
            )?
            .execute(params![channel.to_bytes(), to_i64(lane, "lane")?, to_i64(nonce, "nonce")?])?)
    }
}
