//! The command layer: parse each command's arguments once, call the devnet or
//! the payment-channel manager, and hand the typed result to [`Output::of`].
//! What a result prints is its own business ([`crate::render`]).

use paych_devnet::WalletOps;
use std::io::Read;
use std::path::{Path, PathBuf};

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::version::NetworkVersion;
use paych_actor::{Merge, ModVerifyParams};
use paych_bundle::Bundle;
use paych_client::amount::parse_fil;
use paych_devnet::addr::parse;
use paych_devnet::{ChainNode, Error, ErrorKind, GenesisOptions, LocalDevnet};
use paych_manager::conditions::check_secret_size;
use paych_manager::rules::decode_voucher;
use paych_manager::{Conditions, DecodedVoucher, PaychManager};
use paych_node::full::FullNode;
use paych_node::lite::LiteNode;

use crate::cli::{
    ChainCommand, Cli, Command, ConditionArgs, DevnetCommand, LaneCommand, StateCommand,
    VoucherCommand, WalletCommand,
};
use crate::output::*;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs a parsed command line (every command but `walkthrough`) on the repo
/// directory, used directly. `notes` collects lines printed before the
/// output (e.g. that the repo was just created).
pub fn run(cli: &Cli, notes: &mut Vec<String>) -> Result<Output> {
    let dir = repo_dir(cli)?;
    run_on(&cli.command, Target::Dir(&dir), notes)
}

/// Where a command runs: a repo directory the command opens itself, or the
/// node of a daemon that holds its repo.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Dir(&'a Path),
    Full(&'a FullNode),
    Lite(&'a LiteNode),
}

/// A node a command works on: opened by the command, or the daemon's.
pub enum Handle<'a, N> {
    Opened(N),
    Daemon(&'a N),
}

impl<N> std::ops::Deref for Handle<'_, N> {
    type Target = N;

    fn deref(&self) -> &N {
        match self {
            Handle::Opened(n) => n,
            Handle::Daemon(n) => n,
        }
    }
}

/// Runs a command on `target`.
pub fn run_on(command: &Command, target: Target<'_>, notes: &mut Vec<String>) -> Result<Output> {
    match (command, target) {
        (Command::Walkthrough { .. } | Command::Daemon(_) | Command::Auth(_), _) => Err(
            Error::invalid("this command runs on its own, not on a node"),
        ),
        (Command::Devnet(cmd), Target::Dir(dir)) => devnet(cmd, dir, notes),
        (Command::Devnet(DevnetCommand::Init { .. }), _) => Err(Error::repo(
            "the repo is already initialized: a daemon is running on it",
        )),
        (Command::Devnet(cmd), Target::Full(node)) => {
            devnet(cmd, node.devnet().repo().dir(), notes)
        }
        (Command::Chain(ChainCommand::Advance { epochs }), Target::Full(node)) => {
            // Block by block, through the node's settler.
            Ok(Output::of(&Advanced {
                epochs: *epochs,
                head: node.advance(*epochs)?.into(),
            }))
        }
        (Command::Chain(cmd), Target::Dir(dir)) => chain(cmd, &open(dir, notes)?),
        (Command::Chain(cmd), Target::Full(node)) => chain(cmd, node.devnet()),
        (
            Command::State(StateCommand::Diff {
                from_epoch,
                to_epoch,
            }),
            Target::Dir(dir),
        ) => Ok(Output::of(
            &open(dir, notes)?.state_diff(*from_epoch, *to_epoch)?,
        )),
        (
            Command::State(StateCommand::Diff {
                from_epoch,
                to_epoch,
            }),
            Target::Full(node),
        ) => Ok(Output::of(
            &node.devnet().state_diff(*from_epoch, *to_epoch)?,
        )),
        (Command::Devnet(_) | Command::Chain(_) | Command::State(_), Target::Lite(_)) => {
            Err(Error::invalid(
                "a lite node has no chain of its own: run devnet, chain and state commands on its full node (paych --api <full node> ...)",
            ))
        }
        (command, Target::Dir(dir)) => {
            node_command(command, &mut || Ok(Handle::Opened(open(dir, notes)?)))
        }
        (command, Target::Full(node)) => {
            node_command(command, &mut || Ok(Handle::Daemon(node.devnet())))
        }
        (command, Target::Lite(node)) => node_command(command, &mut || Ok(Handle::Daemon(node))),
    }
}

/// The commands every node runs: the wallet, sending, and the payment
/// channel verbs. `open` is called once the arguments are known good.
fn node_command<'a, N: ChainNode>(
    command: &Command,
    open: &mut dyn FnMut() -> Result<Handle<'a, N>>,
) -> Result<Output> {
    match command {
        Command::Wallet(cmd) => wallet(cmd, &*open()?),
        Command::Send {
            from,
            target,
            amount,
        } => {
            let (target, value) = (parse(target)?, positive_amount(amount)?);
            let net = open()?;
            let from = match from {
                Some(f) => parse(f)?,
                None => default_address(&*net)?,
            };
            Ok(Output::of(&net.send(&from, &target, &value)?))
        }
        Command::AddFunds {
            from,
            to,
            amount,
            reserve,
        } => {
            let (from, to, value) = (parse(from)?, parse(to)?, positive_amount(amount)?);
            let net = open()?;
            let paych = manager(&*net);
            let added = if *reserve {
                paych.reserve_funds(&from, &to, &value)?
            } else {
                paych.add_funds(&from, &to, &value)?
            };
            Ok(Output::of(&added))
        }
        Command::Lane(LaneCommand::Allocate { channel }) => {
            let channel = parse(channel)?;
            let net = open()?;
            Ok(Output::of(&manager(&*net).allocate_lane(&channel)?))
        }
        Command::Voucher(cmd) => voucher(cmd, open),
        Command::Settle { channel, from } => {
            let channel = parse(channel)?;
            let from = from.as_deref().map(parse).transpose()?;
            let net = open()?;
            Ok(Output::of(&manager(&*net).settle(&channel, from.as_ref())?))
        }
        Command::Collect {
            channel,
            from,
            force,
        } => {
            let channel = parse(channel)?;
            let from = from.as_deref().map(parse).transpose()?;
            let net = open()?;
            Ok(Output::of(&manager(&*net).collect(
                &channel,
                from.as_ref(),
                *force,
            )?))
        }
        Command::Status {
            channel,
            lotus_json,
        } => {
            let channel = parse(channel)?;
            let net = open()?;
            let status = manager(&*net).status(&channel)?;
            if *lotus_json {
                Ok(Output::of(&LotusStatus(status)))
            } else {
                Ok(Output::of(&status))
            }
        }
        Command::StatusByFromTo { from, to } => {
            let (from, to) = (parse(from)?, parse(to)?);
            let net = open()?;
            let status = manager(&*net).status_by_from_to(&from, &to)?;
            Ok(Output::of(&PairStatus { from, to, status }))
        }
        Command::List => {
            let net = open()?;
            Ok(Output::of(&ChannelList(manager(&*net).list()?)))
        }
        Command::Inspect { channel } => {
            let channel = parse(channel)?;
            let net = open()?;
            Ok(Output::of(&manager(&*net).inspect(&channel)?))
        }
        Command::Walkthrough { .. }
        | Command::Daemon(_)
        | Command::Auth(_)
        | Command::Devnet(_)
        | Command::Chain(_)
        | Command::State(_) => Err(Error::internal("not a node command")),
    }
}

fn devnet(cmd: &DevnetCommand, dir: &Path, notes: &mut Vec<String>) -> Result<Output> {
    match cmd {
        DevnetCommand::Init {
            accounts,
            balance,
            key_type,
            network_version,
            bundle,
            builtin_paych,
        } => {
            let balance = amount(balance)?;
            if balance.is_negative() {
                return Err(Error::invalid("the genesis balance cannot be negative"));
            }
            let options = GenesisOptions {
                accounts: *accounts,
                balance,
                key_type: (*key_type).into(),
                network_version: NetworkVersion::new(*network_version),
                bundle: bundle_choice(bundle.as_deref(), *builtin_paych)?,
                ..GenesisOptions::default()
            };
            let net = LocalDevnet::init_dir(dir, options).map_err(|e| match e.kind() {
                ErrorKind::Repo if e.message().contains("already initialized") => Error::repo(
                    format!("the repo at {} is already initialized", dir.display()),
                ),
                _ => e,
            })?;
            Ok(Output::of(&Initialized::of(dir, &net)?))
        }
        DevnetCommand::Info => {
            let net = open(dir, notes)?;
            Ok(Output::of(&DevnetInfo::of(dir, &net)?))
        }
        DevnetCommand::Verify => {
            let net = open(dir, notes)?;
            let chain = net.verify()?;
            let channels = manager(&net).check_channels()?;
            Ok(Output::of(&RepoVerified { chain, channels }))
        }
        DevnetCommand::Check => {
            let net = open(dir, notes)?;
            Ok(Output::of(&crate::inspect::checked(&net, manager(&net))?))
        }
        DevnetCommand::ExportVectors { dir: out } => {
            Ok(Output::of(&open(dir, notes)?.export_vectors(out)?))
        }
    }
}

fn chain(cmd: &ChainCommand, net: &LocalDevnet) -> Result<Output> {
    match cmd {
        ChainCommand::Head => Ok(Output::of(&ChainHead::of(net)?)),
        ChainCommand::Advance { epochs } => Ok(Output::of(&Advanced {
            epochs: *epochs,
            head: net.advance(*epochs)?.into(),
        })),
        ChainCommand::Messages { limit } => Ok(Output::of(&Messages(net.messages(*limit)?))),
        ChainCommand::Trace { cid, gas } => Ok(Output::of(&crate::inspect::Traced {
            report: net.message_trace(&crate::inspect::parse_cid(cid)?)?,
            gas: *gas,
        })),
    }
}

fn wallet<N: ChainNode>(cmd: &WalletCommand, net: &N) -> Result<Output> {
    match cmd {
        WalletCommand::New { key_type } => Ok(Output::of(&WalletAddress::new(
            net.wallet_new((*key_type).into())?,
        ))),
        WalletCommand::List => Ok(Output::of(&WalletList(net.wallet_list()?))),
        WalletCommand::Balance { address } => {
            let address = match address {
                Some(a) => parse(a)?,
                None => default_address(net)?,
            };
            let balance = net.balance(&address)?;
            Ok(Output::of(&Balance { address, balance }))
        }
        WalletCommand::Import {
            path,
            format: _,
            key,
        } => {
            let text = match key {
                Some(key) => key.clone(),
                None => read_key(path.as_deref())?,
            };
            let (address, added) = net.wallet_import(&text)?;
            Ok(Output::of(&Imported { address, added }))
        }
        WalletCommand::Export { address, format } => {
            let key = net.wallet_export(&parse(address)?)?;
            Ok(Output::of(&ExportedKey::new(&key, *format)))
        }
        WalletCommand::Default => Ok(Output::of(&WalletAddress::default_of(default_address(
            net,
        )?))),
        WalletCommand::SetDefault { address } => {
            let address = parse(address)?;
            net.wallet_set_default(&address)?;
            Ok(Output::of(&WalletAddress::set_default(address)))
        }
    }
}

fn voucher<'a, N: ChainNode>(
    cmd: &VoucherCommand,
    open: &mut dyn FnMut() -> Result<Handle<'a, N>>,
) -> Result<Output> {
    match cmd {
        VoucherCommand::Create {
            channel,
            amount,
            lane,
            lane_flag,
            conditions,
            force,
        } => {
            let lane = match (lane, lane_flag) {
                (Some(a), Some(b)) if a != b => {
                    return Err(Error::invalid(format!(
                        "lane given twice, as {a} and as --lane {b}"
                    )));
                }
                (a, b) => a.or(*b).unwrap_or(0),
            };
            let (channel, value) = (parse(channel)?, positive_amount(amount)?);
            let conditions = parse_conditions(conditions)?;
            let net = open()?;
            Ok(Output::of(&manager(&*net).voucher_create_with(
                &channel,
                &value,
                lane,
                &conditions,
                *force,
            )?))
        }
        VoucherCommand::Check { channel, voucher } => {
            let (channel, sv) = (parse(channel)?, decode_voucher(voucher)?);
            let net = open()?;
            Ok(Output::of(&Checked(
                manager(&*net).voucher_check(&channel, &sv)?,
            )))
        }
        VoucherCommand::Add {
            channel,
            voucher,
            min_delta,
        } => {
            let (channel, sv) = (parse(channel)?, decode_voucher(voucher)?);
            let min_delta = min_delta
                .as_deref()
                .map(amount)
                .transpose()?
                .unwrap_or_default();
            let net = open()?;
            Ok(Output::of(&Added(
                manager(&*net).voucher_add(&channel, &sv, &min_delta)?,
            )))
        }
        VoucherCommand::List { channel, export } => {
            let channel = parse(channel)?;
            let net = open()?;
            Ok(Output::of(&Listing {
                result: manager(&*net).voucher_list(&channel)?,
                export: *export,
            }))
        }
        VoucherCommand::BestSpendable {
            channel,
            export,
            secrets,
        } => {
            let channel = parse(channel)?;
            let secrets = secrets
                .iter()
                .map(|s| hex("secret", s))
                .collect::<Result<Vec<_>>>()?;
            let net = open()?;
            Ok(Output::of(&Listing {
                result: manager(&*net).best_spendable(&channel, &secrets)?,
                export: *export,
            }))
        }
        VoucherCommand::Submit {
            channel,
            voucher,
            secret,
        } => {
            let (channel, sv) = (parse(channel)?, decode_voucher(voucher)?);
            let secret = secret
                .as_deref()
                .map(|s| hex("secret", s))
                .transpose()?
                .unwrap_or_default();
            let net = open()?;
            Ok(Output::of(
                &manager(&*net).voucher_submit(&channel, &sv, &secret)?,
            ))
        }
        VoucherCommand::Decode { voucher } => Ok(Output::of(&DecodedVoucher::decode(voucher)?)),
    }
}

/// A key to import, from a file or standard input.
pub fn read_key(path: Option<&Path>) -> Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::invalid(format!("cannot read {}: {e}", p.display()))),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Error::invalid(format!("cannot read the key from standard input: {e}"))
            })?;
            Ok(s)
        }
    }
}

fn manager<N: ChainNode>(net: &N) -> PaychManager<'_, N> {
    PaychManager::new(net)
}

/// The repo directory: `--repo`, `PAYCH_REPO`, or `~/.paych`.
pub fn repo_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(dir) = &cli.repo {
        return Ok(dir.clone());
    }
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".paych")),
        _ => Err(Error::repo(
            "cannot find the home directory: use --repo or PAYCH_REPO",
        )),
    }
}

/// Opens the repo, creating it with the default genesis on first use.
fn open(dir: &Path, notes: &mut Vec<String>) -> Result<LocalDevnet> {
    let (net, created) = LocalDevnet::open_or_init_dir(dir, || {
        Ok(GenesisOptions {
            bundle: bundle_choice(None, false)?,
            ..GenesisOptions::default()
        })
    })?;
    if created {
        let wallets = net.wallet_list()?;
        notes.push(format!(
            "Created a new devnet repo at {} with {} funded wallet addresses ({}).",
            dir.display(),
            wallets.len(),
            net.info().bundle_origin
        ));
    }
    Ok(net)
}

/// The bundle for a new genesis with no bundle asked for.
pub fn default_bundle() -> Result<Bundle> {
    bundle_choice(None, false)
}

/// The bundle for a new genesis: `--bundle`, else `$PAYCH_BUILTIN_BUNDLE`,
/// else the project's own devnet bundle. A real bundle gets this project's
/// payment channel unless `builtin_paych`.
fn bundle_choice(path: Option<&Path>, builtin_paych: bool) -> Result<Bundle> {
    let real = match path {
        Some(path) => Some(Bundle::from_car_file(path)),
        None => Bundle::from_env().transpose(),
    };
    match real {
        None => Ok(Bundle::devnet()),
        Some(Err(e)) => Err(Error::invalid(format!(
            "cannot load the actor bundle: {e:#}"
        ))),
        Some(Ok(bundle)) if builtin_paych => Ok(bundle),
        Some(Ok(bundle)) => bundle
            .with_our_payment_channel()
            .map_err(|e| Error::invalid(format!("cannot use the actor bundle: {e:#}"))),
    }
}

fn amount(text: &str) -> Result<TokenAmount> {
    parse_fil(text).map_err(|e| Error::invalid(format!("invalid amount {text:?}: {e}")))
}

fn positive_amount(text: &str) -> Result<TokenAmount> {
    let value = amount(text)?;
    if !value.is_positive() {
        return Err(Error::invalid(format!(
            "invalid amount {text:?}: it must be positive"
        )));
    }
    Ok(value)
}

/// Bytes given in hex on the command line (an optional `0x` prefix).
fn hex(what: &str, text: &str) -> Result<Vec<u8>> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(digits.as_bytes())
        .map_err(|e| Error::invalid(format!("invalid {what} {text:?}: not hex ({e})")))
}

/// The conditions `voucher create` was given, parsed and checked for form
/// (the manager checks them against the channel).
fn parse_conditions(args: &ConditionArgs) -> Result<Conditions> {
    let secret_hash = match (&args.secret_hash, &args.secret) {
        (Some(hash), _) => hex("secret hash", hash)?,
        (None, Some(secret)) => {
            let secret = hex("secret", secret)?;
            check_secret_size(&secret)?;
            actor_interfaces::blake2b_256(&secret).to_vec()
        }
        (None, None) => Vec::new(),
    };
    let extra = args.extra.as_deref().map(parse_extra).transpose()?;
    let merges = args
        .merges
        .iter()
        .map(|m| parse_merge(m))
        .collect::<Result<Vec<_>>>()?;
    Ok(Conditions {
        secret_hash,
        time_lock_min: args.time_lock_min.unwrap_or(0),
        time_lock_max: args.time_lock_max.unwrap_or(0),
        min_settle_height: args.min_settle_height.unwrap_or(0),
        extra,
        merges,
    })
}

/// `ACTOR:METHOD:HEX-PARAMS`.
fn parse_extra(text: &str) -> Result<ModVerifyParams> {
    let invalid = |why: &str| {
        Error::invalid(format!(
            "invalid --extra {text:?}: {why} (ACTOR:METHOD:HEX-PARAMS)"
        ))
    };
    let mut parts = text.splitn(3, ':');
    let (Some(actor), Some(method), Some(params)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("three parts separated by ':' expected"));
    };
    Ok(ModVerifyParams {
        actor: parse(actor)?,
        method: method
            .parse()
            .map_err(|_| invalid("the method is not a number"))?,
        data: RawBytes::new(hex("--extra params", params)?),
    })
}

/// `LANE:NONCE`.
fn parse_merge(text: &str) -> Result<Merge> {
    let invalid = || Error::invalid(format!("invalid --merge {text:?}: LANE:NONCE expected"));
    let (lane, nonce) = text.split_once(':').ok_or_else(invalid)?;
    Ok(Merge {
        lane: lane.parse().map_err(|_| invalid())?,
        nonce: nonce.parse().map_err(|_| invalid())?,
    })
}

fn default_address<N: ChainNode>(net: &N) -> Result<Address> {
    net.wallet_default()?
        .ok_or_else(|| Error::missing_key("the wallet has no default address"))
}
