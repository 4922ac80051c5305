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

use actor_interfaces::BuiltinType;
use cid::Cid;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::bigint::BigInt;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use paych_actor::SignedVoucher;
use paych_chain::blocks::BlockSource;
use paych_chain::{Head, Receipt, SignedMessage};
use paych_client::{Key, KeyType};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    AddOutcome, ChainBlock, ChannelRecord, MessageRecord, Repo, SettlerAction, Store,
    VoucherOrigin, VoucherRecord, to_i64,
};
use crate::error::{Error, Result};

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
    state_root BLOB NOT NULL,
    callee TEXT
);
CREATE TABLE IF NOT EXISTS keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    address BLOB NOT NULL UNIQUE,
    key_type TEXT NOT NULL,
    private_key BLOB NOT NULL
);
-- settling: Settle was sent from this repository.
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
    collected_epoch INTEGER,
    amount TEXT NOT NULL DEFAULT '',
    available TEXT NOT NULL DEFAULT '',
    next_lane INTEGER NOT NULL DEFAULT 0
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
        migrate(&tx)?;
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
}

/// Brings a database written by an older `paych` up to the current schema:
/// columns added since are added, with the value an old row means.
fn migrate(conn: &Connection) -> Result<()> {
    let added = [
        // The receiving actor's type, kept since messages are named by it.
        ("messages", "callee", "TEXT"),
        // Funding and lane bookkeeping (an empty amount reads as zero).
        ("channels", "amount", "TEXT NOT NULL DEFAULT ''"),
        ("channels", "available", "TEXT NOT NULL DEFAULT ''"),
        ("channels", "next_lane", "INTEGER NOT NULL DEFAULT 0"),
    ];
    for (table, column, declaration) in added {
        let present: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {declaration}"
            ))?;
        }
    }
    // Each message's execution trace (compact, versioned CBOR), written with
    // the message; messages applied before the devnet kept them have none.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS traces (
            seq INTEGER PRIMARY KEY REFERENCES messages(seq),
            data BLOB NOT NULL
        )",
    )?;
    // The message pool (messages acknowledged but not yet in a block) and
    // the blocks the devnet produced; repos from before blocks had none.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS mpool (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            cid TEXT NOT NULL UNIQUE,
            signed BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chain_blocks (
            epoch INTEGER PRIMARY KEY,
            cid TEXT NOT NULL UNIQUE,
            header BLOB NOT NULL,
            messages BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS settler_actions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            channel BLOB NOT NULL,
            epoch INTEGER NOT NULL,
            settling_at INTEGER NOT NULL,
            lane INTEGER NOT NULL,
            nonce INTEGER NOT NULL,
            amount TEXT NOT NULL,
            message TEXT,
            failure TEXT
        )",
    )?;
    Ok(())
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

    fn check_integrity(&self) -> Result<()> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("repo lock poisoned"))?;
        let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(Error::repo(format!(
                "SQLite integrity check failed: {verdict}"
            )));
        }
        Ok(())
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

fn key_from_row(row: &Row<'_>) -> Result<Key> {
    let kind = match row.get::<_, String>("key_type")?.as_str() {
        "secp256k1" => KeyType::Secp256k1,
        "bls" => KeyType::Bls,
        other => return Err(Error::repo(format!("unknown key type {other:?} in wallet"))),
    };
    Key::from_bytes(kind, &row.get::<_, Vec<u8>>("private_key")?)
        .map_err(|e| Error::repo(format!("corrupt key in wallet: {e}")))
}

const CHANNEL_COLUMNS: &str =
    "robust, id, from_addr, to_addr, from_id, to_id, created_epoch, settling,
    collected_epoch, amount, available, next_lane";

fn channel_from_row(row: &Row<'_>) -> Result<ChannelRecord> {
    Ok(ChannelRecord {
        robust: parse_address(&row.get::<_, Vec<u8>>("robust")?)?,
        id: row.get::<_, i64>("id")? as ActorID,
        from: parse_address(&row.get::<_, Vec<u8>>("from_addr")?)?,
        to: parse_address(&row.get::<_, Vec<u8>>("to_addr")?)?,
        from_id: row.get::<_, i64>("from_id")? as ActorID,
        to_id: row.get::<_, i64>("to_id")? as ActorID,
        created_epoch: row.get("created_epoch")?,
        settle_sent: row.get("settling")?,
        collected_epoch: row.get("collected_epoch")?,
        amount: parse_amount_or_zero(&row.get::<_, String>("amount")?)?,
        available: parse_amount_or_zero(&row.get::<_, String>("available")?)?,
        next_lane: row.get::<_, i64>("next_lane")? as u64,
    })
}

/// An amount column added by a migration: empty in rows written before it.
fn parse_amount_or_zero(text: &str) -> Result<TokenAmount> {
    if text.is_empty() {
        return Ok(TokenAmount::default());
    }
    parse_amount(text)
}

const MESSAGE_COLUMNS: &str = "seq, epoch, cid, signed, callee, exit_code, return_data, gas_used,
    base_fee_burn, over_estimation_burn, miner_tip, refund, state_root";

fn message_from_row(row: &Row<'_>) -> Result<MessageRecord> {
    let (message, signature): (Message, Signature) =
        decode(&row.get::<_, Vec<u8>>("signed")?, "message")?;
    let callee: Option<String> = row.get("callee")?;
    let amount =
        |column: &str| -> Result<TokenAmount> { parse_amount(&row.get::<_, String>(column)?) };
    Ok(MessageRecord {
        seq: row.get::<_, i64>("seq")? as u64,
        epoch: row.get("epoch")?,
        cid: Cid::from_str(&row.get::<_, String>("cid")?)
            .map_err(|e| Error::repo(format!("corrupt message CID: {e}")))?,
        message,
        signature,
        callee: callee.as_deref().and_then(BuiltinType::from_name),
        receipt: Receipt {
            exit_code: ExitCode::new(row.get("exit_code")?),
            return_data: row.get("return_data")?,
            gas_used: row.get::<_, i64>("gas_used")? as u64,
            base_fee_burn: amount("base_fee_burn")?,
            over_estimation_burn: amount("over_estimation_burn")?,
            miner_tip: amount("miner_tip")?,
            refund: amount("refund")?,
            failure: None,
        },
        state_root: parse_cid(&row.get::<_, Vec<u8>>("state_root")?)?,
    })
}

fn chain_block_from_row(row: &Row<'_>) -> Result<ChainBlock> {
    Ok(ChainBlock {
        cid: Cid::from_str(&row.get::<_, String>("cid")?)
            .map_err(|e| Error::repo(format!("corrupt block CID: {e}")))?,
        header: decode(&row.get::<_, Vec<u8>>("header")?, "block header")?,
        messages: decode(&row.get::<_, Vec<u8>>("messages")?, "block messages")?,
    })
}

/// Runs a query and maps each row with `f` (which reads columns by name).
fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
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
        let heads = query_rows(
            self.conn,
            "SELECT epoch, state_root FROM head WHERE id = 0",
            [],
            |row| {
                Ok(Head {
                    epoch: row.get("epoch")?,
                    state_root: parse_cid(&row.get::<_, Vec<u8>>("state_root")?)?,
                })
            },
        )?;
        Ok(heads.into_iter().next())
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
        let r = &m.receipt;
        self.conn
            .prepare_cached(
                "INSERT INTO messages (epoch, cid, from_addr, to_addr, method, value, signed, exit_code,
                   return_data, gas_used, base_fee_burn, over_estimation_burn, miner_tip, refund,
                   state_root, callee)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(params![
                m.epoch,
                m.cid.to_string(),
                m.message.from.to_bytes(),
                m.message.to.to_bytes(),
                to_i64(m.message.method_num, "method number")?,
                amount_text(&m.message.value),
                signed,
                r.exit_code.value(),
                r.return_data,
                to_i64(r.gas_used, "gas used")?,
                amount_text(&r.base_fee_burn),
                amount_text(&r.over_estimation_burn),
                amount_text(&r.miner_tip),
                amount_text(&r.refund),
                m.state_root.to_bytes(),
                m.callee.map(BuiltinType::name),
            ])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn messages(&self, limit: usize) -> Result<Vec<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?1");
        let mut newest_first = query_rows(self.conn, &sql, [limit as i64], message_from_row)?;
        newest_first.reverse();
        Ok(newest_first)
    }

    fn message_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn message_by_cid(&self, cid: &Cid) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE cid = ?1");
        Ok(query_rows(self.conn, &sql, [cid.to_string()], message_from_row)?.pop())
    }

    fn put_trace(&mut self, seq: u64, trace: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO traces (seq, data) VALUES (?1, ?2)")?
            .execute(params![to_i64(seq, "message sequence")?, trace])?;
        Ok(())
    }

    fn trace(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM traces WHERE seq = ?1")?
            .query_row([to_i64(seq, "message sequence")?], |r| r.get(0))
            .optional()?)
    }

    fn pool_push(&mut self, message: &SignedMessage) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO mpool (cid, signed) VALUES (?1, ?2)")?
            .execute(params![message.cid().to_string(), message.to_bytes()])?;
        Ok(())
    }

    fn pool(&self) -> Result<Vec<SignedMessage>> {
        query_rows(
            self.conn,
            "SELECT signed FROM mpool ORDER BY seq",
            [],
            |row| decode(&row.get::<_, Vec<u8>>("signed")?, "pooled message"),
        )
    }

    fn pool_remove(&mut self, cids: &[Cid]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM mpool WHERE cid = ?1")?;
        for cid in cids {
            stmt.execute([cid.to_string()])?;
        }
        Ok(())
    }

    fn put_chain_block(&mut self, block: &ChainBlock) -> Result<()> {
        let (_, header) = block.header.encode();
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO chain_blocks (epoch, cid, header, messages) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                block.header.height,
                block.cid.to_string(),
                header,
                encode(&block.messages)?,
            ])?;
        Ok(())
    }

    fn chain_block_at(&self, epoch: ChainEpoch) -> Result<Option<ChainBlock>> {
        Ok(query_rows(
            self.conn,
            "SELECT cid, header, messages FROM chain_blocks WHERE epoch = ?1",
            [epoch],
            chain_block_from_row,
        )?
        .pop())
    }

    fn chain_block(&self, cid: &Cid) -> Result<Option<ChainBlock>> {
        Ok(query_rows(
            self.conn,
            "SELECT cid, header, messages FROM chain_blocks WHERE cid = ?1",
            [cid.to_string()],
            chain_block_from_row,
        )?
        .pop())
    }

    fn latest_chain_block(&self) -> Result<Option<ChainBlock>> {
        Ok(query_rows(
            self.conn,
            "SELECT cid, header, messages FROM chain_blocks ORDER BY epoch DESC LIMIT 1",
            [],
            chain_block_from_row,
        )?
        .pop())
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
        let keys = query_rows(
            self.conn,
            "SELECT key_type, private_key FROM keys WHERE address = ?1",
            [addr.to_bytes()],
            key_from_row,
        )?;
        Ok(keys.into_iter().next())
    }

    fn keys(&self) -> Result<Vec<Key>> {
        query_rows(
            self.conn,
            "SELECT key_type, private_key FROM keys ORDER BY seq",
            [],
            key_from_row,
        )
    }

    fn put_channel(&mut self, c: &ChannelRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO channels (robust, id, from_addr, to_addr, from_id, to_id, created_epoch, settling,
                   collected_epoch, amount, available, next_lane)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(robust) DO UPDATE SET id = ?2, from_addr = ?3, to_addr = ?4, from_id = ?5,
                   to_id = ?6, created_epoch = ?7, settling = ?8, collected_epoch = ?9, amount = ?10,
                   available = ?11, next_lane = ?12",
            )?
            .execute(params![
                c.robust.to_bytes(),
                to_i64(c.id, "actor ID")?,
                c.from.to_bytes(),
                c.to.to_bytes(),
                to_i64(c.from_id, "actor ID")?,
                to_i64(c.to_id, "actor ID")?,
                c.created_epoch,
                c.settle_sent,
                c.collected_epoch,
                amount_text(&c.amount),
                amount_text(&c.available),
                to_i64(c.next_lane, "lane")?,
            ])?;
        Ok(())
    }

    fn channel_by_id(&self, id: ActorID) -> Result<Option<ChannelRecord>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1");
        Ok(query_rows(self.conn, &sql, [to_i64(id, "actor ID")?], channel_from_row)?.pop())
    }

    fn channels(&self) -> Result<Vec<ChannelRecord>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY seq");
        query_rows(self.conn, &sql, [], channel_from_row)
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
        query_rows(
            self.conn,
            "SELECT voucher, origin, submitted FROM vouchers WHERE channel = ?1 ORDER BY lane, nonce",
            [channel.to_bytes()],
            |row| {
                let voucher: SignedVoucher = decode(&row.get::<_, Vec<u8>>("voucher")?, "voucher")?;
                let origin: String = row.get("origin")?;
                let origin = VoucherOrigin::from_name(&origin)
                    .ok_or_else(|| Error::repo(format!("unknown voucher origin {origin:?}")))?;
                Ok(VoucherRecord {
                    channel: *channel,
                    voucher,
                    origin,
                    submitted: row.get("submitted")?,
                })
            },
        )
    }

    fn mark_submitted(&mut self, channel: &Address, lane: u64, nonce: u64) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE vouchers SET submitted = 1 WHERE channel = ?1 AND lane = ?2 AND nonce <= ?3 AND submitted = 0",
            )?
            .execute(params![channel.to_bytes(), to_i64(lane, "lane")?, to_i64(nonce, "nonce")?])?)
    }

    fn record_settler_action(&mut self, a: &SettlerAction) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO settler_actions (channel, epoch, settling_at, lane, nonce, amount, message, failure)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                a.channel.to_bytes(),
                a.epoch,
                a.settling_at,
                to_i64(a.lane, "lane")?,
                to_i64(a.nonce, "nonce")?,
                amount_text(&a.amount),
                a.message.map(|c| c.to_string()),
                a.failure,
            ])?;
        Ok(())
    }

    fn settler_actions(&self, channel: &Address) -> Result<Vec<SettlerAction>> {
        query_rows(
            self.conn,
            "SELECT epoch, settling_at, lane, nonce, amount, message, failure
             FROM settler_actions WHERE channel = ?1 ORDER BY seq",
            [channel.to_bytes()],
            |row| {
                let message = row
                    .get::<_, Option<String>>("message")?
                    .map(|text| {
                        Cid::from_str(&text)
                            .map_err(|_| Error::repo(format!("corrupt CID {text:?} in repository")))
                    })
                    .transpose()?;
                Ok(SettlerAction {
                    channel: *channel,
                    epoch: row.get("epoch")?,
                    settling_at: row.get("settling_at")?,
                    lane: row.get::<_, i64>("lane")? as u64,
                    nonce: row.get::<_, i64>("nonce")? as u64,
                    amount: parse_amount(&row.get::<_, String>("amount")?)?,
                    message,
                    failure: row.get("failure")?,
                })
            },
        )
    }
}
