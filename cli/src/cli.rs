//! The command line: Lotus/Venus verbs and arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "paych",
    version,
    about = "Filecoin payment channels, Lotus-style, over a persistent local FVM devnet",
    long_about = "Filecoin payment channels, Lotus-style, over a persistent local FVM devnet.\n\n\
        The devnet lives in one repo directory (default ~/.paych, or --repo / PAYCH_REPO). \
        First use creates it with three funded secp256k1 wallet addresses (1000 FIL each).\n\n\
        Start with `paych walkthrough`, which runs the whole story on a fresh temporary repo.\n\n\
        Amounts are FIL by default (`2.5`, `2.5FIL`) or attoFIL with a suffix (`100attoFIL`). \
        Addresses take f or t prefixes; the devnet prints t.",
    propagate_version = true
)]
pub struct Cli {
    /// The repo directory (default ~/.paych).
    #[arg(long, global = true, env = "PAYCH_REPO", value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Print machine-readable JSON (amounts in attoFIL, as strings).
    #[arg(long, global = true)]
    pub json: bool,

    /// Run the command on the node at this API (`TOKEN:MULTIADDR`, as
    /// Lotus's FULLNODE_API_INFO) instead of a repo. Without it, a repo
    /// whose daemon is running is used through that daemon.
    #[arg(
        long,
        global = true,
        env = "FULLNODE_API_INFO",
        value_name = "TOKEN:MULTIADDR"
    )]
    pub api: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the walkthrough (create, pay, top up, settle, redeem, collect) on
    /// a fresh temporary repo, printing each command and its output.
    Walkthrough {
        /// Keep the temporary repo and print where it is.
        #[arg(long)]
        keep: bool,
    },
    /// Create and check the devnet repo.
    #[command(subcommand)]
    Devnet(DevnetCommand),
    /// The chain's head, time and history.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Manage wallet keys.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Send FIL from a wallet address (Lotus `send`).
    Send {
        /// The sender (default: the wallet's default address).
        #[arg(long)]
        from: Option<String>,
        target: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
    /// Create a payment channel from->to with AMOUNT, or add AMOUNT to the
    /// active one. Prints the channel's robust (t2) address.
    AddFunds {
        from: String,
        to: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
        /// Reserve AMOUNT for vouchers about to be created (Lotus's PaychGet):
        /// taken from the channel's unreserved funds first; only the
        /// shortfall is sent.
        #[arg(long)]
        reserve: bool,
    },
    /// Lanes of a channel.
    #[command(subcommand)]
    Lane(LaneCommand),
    /// Create, check, store, list and redeem vouchers.
    #[command(subcommand)]
    Voucher(VoucherCommand),
    /// Start the settle delay (1440 epochs) of a channel.
    Settle {
        channel: String,
        /// The party sending Settle (default: the payer if its key is here).
        #[arg(long)]
        from: Option<String>,
    },
    /// Pay out a settled channel: redeemed funds to the payee, the rest to
    /// the payer.
    Collect {
        channel: String,
        /// The party sending Collect (default: the payee if its key is here).
        #[arg(long)]
        from: Option<String>,
        /// Collect even though stored vouchers worth more than the channel
        /// redeemed were never submitted (the payee gives that value up).
        #[arg(long)]
        force: bool,
    },
    /// A channel's status: funds, vouchers, settlement.
    Status {
        channel: String,
        /// Print Lotus's ChannelAvailableFunds JSON (its field names).
        #[arg(long)]
        lotus_json: bool,
    },
    /// The status of the newest channel from FROM to TO.
    StatusByFromTo { from: String, to: String },
    /// Every channel this repo tracks.
    List,
    /// A channel's on-chain state, decoded.
    Inspect { channel: String },
    /// Read the chain's state.
    #[command(subcommand)]
    State(StateCommand),
    /// Run a Lotus-compatible node on the repo: JSON-RPC at /rpc/v1 and
    /// /rpc/v0, a message pool, blocks, and the settler that redeems this
    /// wallet's inbound vouchers when a payer settles. With --lite, a second
    /// party's node on its own repo, in front of a full node.
    Daemon(DaemonArgs),
    /// API tokens for the daemon of the repo.
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Args, Debug)]
pub struct DaemonArgs {
    /// Where to listen (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:1234")]
    pub listen: std::net::SocketAddr,
    /// Time between blocks (`4s`, `500ms`); `0` produces a block as soon as
    /// a message is pooled.
    #[arg(long, default_value = "4s", value_parser = parse_duration)]
    pub block_time: std::time::Duration,
    /// Serve only Lotus's methods: no `Devnet.*` namespace.
    #[arg(long)]
    pub no_devnet_api: bool,
    /// Run a lite node in front of the full node given by --api (or
    /// FULLNODE_API_INFO): its own wallet and vouchers in --repo, the chain
    /// from the full node.
    #[arg(long)]
    pub lite: bool,
    /// The largest request accepted, in bytes.
    #[arg(long, default_value_t = 100 << 20)]
    pub max_request_bytes: usize,
}

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Print a new token with permissions up to PERM (read, write, sign,
    /// admin), as `lotus auth create-token`.
    CreateToken {
        #[arg(long)]
        perm: String,
    },
    /// Print FULLNODE_API_INFO for the running daemon with a new token.
    ApiInfo {
        #[arg(long)]
        perm: String,
    },
}

/// `4s`, `500ms`, `1m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (e.g. 4s, 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in {text:?} (ms, s or m)")),
    };
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("duration {text:?} out of range"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// The actors whose balance, nonce or state changed between the states
    /// in force at two epochs, payment channels decoded (fields and lanes).
    Diff { from_epoch: i64, to_epoch: i64 },
}

#[derive(Subcommand, Debug)]
pub enum DevnetCommand {
    /// Create the repo and its genesis (done automatically on first use).
    Init {
        /// Funded wallet addresses at genesis.
        #[arg(long, default_value_t = paych_devnet::genesis::DEFAULT_ACCOUNTS)]
        accounts: usize,
        /// Each genesis address's balance.
        #[arg(long, default_value = "1000")]
        balance: String,
        /// Key type of the genesis addresses.
        #[arg(long, value_enum, default_value_t = KeyTypeArg::Secp256k1)]
        key_type: KeyTypeArg,
        /// Network version (21 to 29).
        #[arg(long, default_value_t = u32::from(paych_chain::config::DEFAULT_NETWORK_VERSION))]
        network_version: u32,
        /// A builtin-actors bundle CAR to use instead of the devnet stand-ins
        /// (default: $PAYCH_BUILTIN_BUNDLE if set).
        #[arg(long, value_name = "CAR")]
        bundle: Option<PathBuf>,
        /// With a real bundle, keep its own payment channel actor instead of
        /// this project's.
        #[arg(long)]
        builtin_paych: bool,
    },
    /// Where the repo is and what chain it runs.
    Info,
    /// Check the repo: SQLite integrity, head against the last receipt, and
    /// that balances add up to the genesis supply.
    Verify,
    /// `devnet verify`, plus the payment channel actor's state invariants on
    /// every payment channel in the current state; reports each violation.
    Check,
    /// Write every applied message as a test vector (public schema) to DIR.
    ExportVectors {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// The current epoch and state root.
    Head,
    /// Move time forward by EPOCHS (30 s each) without messages.
    Advance { epochs: i64 },
    /// The most recent applied messages with their receipts.
    Messages {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// What an applied message did: its calls as a tree (Lotus's
    /// --exec-trace), each method named from the callee's code.
    Trace {
        #[arg(value_name = "MESSAGE_CID")]
        cid: String,
        /// Also list each call's gas charges (compute and storage).
        #[arg(long)]
        gas: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Generate a new key.
    New {
        #[arg(value_enum, default_value_t = KeyTypeArg::Secp256k1)]
        key_type: KeyTypeArg,
    },
    /// Every wallet address with its balance and nonce.
    List,
    /// An address's balance (default: the wallet's default address).
    Balance { address: Option<String> },
    /// Import a key exported by Lotus (hex of KeyInfo JSON, or the JSON).
    Import {
        /// A file holding the key (default: read standard input).
        path: Option<PathBuf>,
        /// The input format (both are recognized automatically).
        #[arg(long, value_enum, default_value_t = KeyFormat::HexLotus)]
        format: KeyFormat,
        /// The key itself (how the command line hands a key it read to a
        /// daemon).
        #[arg(long, hide = true, conflicts_with = "path")]
        key: Option<String>,
    },
    /// Export a key in Lotus's format.
    Export {
        address: String,
        #[arg(long, value_enum, default_value_t = KeyFormat::HexLotus)]
        format: KeyFormat,
    },
    /// The wallet's default address.
    Default,
    /// Set the wallet's default address.
    SetDefault { address: String },
}

#[derive(Subcommand, Debug)]
pub enum VoucherCommand {
    /// Create a voucher for AMOUNT (cumulative for the lane), signed by the
    /// channel's payer, optionally with conditions. Prints it in Lotus's
    /// text form.
    Create {
        channel: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
        /// The lane (Venus's positional form).
        lane: Option<u64>,
        /// The lane (Lotus's flag form; default 0).
        #[arg(long = "lane", value_name = "LANE")]
        lane_flag: Option<u64>,
        #[command(flatten)]
        conditions: ConditionArgs,
        /// Create it even if its time lock window has already closed.
        #[arg(long)]
        force: bool,
    },
    /// The payee's checks of a voucher, without storing it.
    Check { channel: String, voucher: String },
    /// Check a voucher as the payee and store it.
    Add {
        channel: String,
        voucher: String,
        /// Refuse it unless it adds at least this much to what its lane was
        /// known to redeem.
        #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
        min_delta: Option<String>,
    },
    /// The stored vouchers of a channel.
    List {
        channel: String,
        /// Also print each voucher's text form.
        #[arg(long)]
        export: bool,
    },
    /// For each lane, the highest stored voucher that would succeed now, and
    /// the highest that would with a secret or at a later epoch.
    BestSpendable {
        channel: String,
        #[arg(long)]
        export: bool,
        /// A secret (hex) to consider for hash-locked vouchers (repeatable).
        #[arg(long = "secret", value_name = "HEX")]
        secrets: Vec<String>,
    },
    /// Redeem a voucher on chain.
    Submit {
        channel: String,
        voucher: String,
        /// The secret (hex) whose blake2b-256 the voucher's hash is.
        #[arg(long, value_name = "HEX")]
        secret: Option<String>,
    },
    /// Decode a voucher's text form.
    Decode { voucher: String },
}

/// What `voucher create` can make a voucher wait for.
#[derive(Args, Debug, Default)]
pub struct ConditionArgs {
    /// Lock the voucher to a secret: the blake2b-256 hash (hex) the payee's
    /// secret must match.
    #[arg(long, value_name = "HEX", conflicts_with = "secret")]
    pub secret_hash: Option<String>,
    /// Lock the voucher to this secret (hex), hashed as the actor hashes it.
    #[arg(long, value_name = "HEX")]
    pub secret: Option<String>,
    /// The first epoch the voucher can be redeemed in.
    #[arg(long, value_name = "EPOCH", allow_hyphen_values = true)]
    pub time_lock_min: Option<i64>,
    /// The last epoch the voucher can be redeemed in.
    #[arg(long, value_name = "EPOCH", allow_hyphen_values = true)]
    pub time_lock_max: Option<i64>,
    /// Redeeming the voucher keeps the channel open until this epoch.
    #[arg(long, value_name = "EPOCH", allow_hyphen_values = true)]
    pub min_settle_height: Option<i64>,
    /// A call the channel makes before redeeming; the voucher fails if it
    /// fails: ACTOR:METHOD:HEX-PARAMS.
    #[arg(long, value_name = "ACTOR:METHOD:HEX")]
    pub extra: Option<String>,
    /// Merge another lane up to a nonce: LANE:NONCE (repeatable).
    #[arg(long = "merge", value_name = "LANE:NONCE")]
    pub merges: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum LaneCommand {
    /// A lane no stored voucher of the channel uses; never the same twice.
    Allocate { channel: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    Secp256k1,
    Bls,
}

impl From<KeyTypeArg> for paych_client::KeyType {
    fn from(k: KeyTypeArg) -> Self {
        match k {
            KeyTypeArg::Secp256k1 => paych_client::KeyType::Secp256k1,
            KeyTypeArg::Bls => paych_client::KeyType::Bls,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyFormat {
    /// Hex of the KeyInfo JSON (what `lotus wallet export` prints).
    HexLotus,
    /// The KeyInfo JSON itself.
    JsonLotus,
}
