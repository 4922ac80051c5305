//! `paych daemon` and `paych auth`, and the command API a daemon serves to
//! the command line (`PaychNode.Run`): while a daemon holds a repo, every
//! `paych` command given that repo runs inside the daemon, with the same
//! output and errors as when it runs on the repo directly.

use std::sync::Arc;

use paych_devnet::{Error, ErrorKind, GenesisOptions, LocalDevnet};
use paych_node::auth::Perm;
use paych_node::client::ApiInfo;
use paych_node::daemon::{self, ServeOptions};
use paych_node::full::{self, BlockTime, FullNode};
use paych_node::jsonrpc::RpcError;
use paych_node::lite::{self, LiteNode};
use paych_node::rpc::Api;
use serde_json::{Value, json};

use crate::cli::{
    AuthCommand, ChainCommand, Cli, Command, DaemonArgs, DevnetCommand, LaneCommand,
    VoucherCommand, WalletCommand,
};
use crate::commands::{self, Target, repo_dir};

/// The method the command line calls on a daemon.
pub const RUN_METHOD: &str = "PaychNode.Run";

/// `paych daemon`.
pub fn run(cli: &Cli, args: &DaemonArgs) -> Result<(), Error> {
    let dir = repo_dir(cli)?;
    let _lock = daemon::lock_for_daemon(&dir).map_err(Error::repo)?;
    let options = ServeOptions {
        listen: args.listen,
        max_request: args.max_request_bytes,
    };
    let announce = |info: &ApiInfo| {
        eprintln!("paych node listening on {}/rpc/v1", info.url);
        eprintln!("repo: {}", dir.display());
        eprintln!(
            "admin token in {}; `paych auth api-info --perm sign` prints FULLNODE_API_INFO",
            dir.join(daemon::TOKEN_FILE).display()
        );
    };
    if args.lite {
        let full = cli.api.as_deref().ok_or_else(|| {
            Error::invalid(
                "a lite node needs its full node: --api TOKEN:MULTIADDR (or FULLNODE_API_INFO)",
            )
        })?;
        let full = ApiInfo::parse(full).map_err(Error::invalid)?;
        let node = Arc::new(LiteNode::open(&dir, full)?);
        let extra = command_api(Runner::Lite(node.clone()));
        daemon::serve(&dir, lite::served(node, extra), &options, announce).map_err(Error::repo)
    } else {
        let (net, created) = LocalDevnet::open_or_init_dir(&dir, || {
            Ok(GenesisOptions {
                bundle: commands::default_bundle()?,
                ..GenesisOptions::default()
            })
        })?;
        if created {
            eprintln!("created a new devnet repo at {}", dir.display());
        }
        let node = Arc::new(FullNode::new(net)?);
        let block_time = if args.block_time.is_zero() {
            BlockTime::OnDemand
        } else {
            BlockTime::Every(args.block_time)
        };
        let extra = command_api(Runner::Full(node.clone()));
        let served = full::served(node, block_time, !args.no_devnet_api, extra);
        daemon::serve(&dir, served, &options, announce).map_err(Error::repo)
    }
}

/// `paych auth`.
pub fn auth(cli: &Cli, cmd: &AuthCommand) -> Result<String, Error> {
    let dir = repo_dir(cli)?;
    let perm = |name: &str| {
        Perm::parse(name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown permission {name:?} (read, write, sign or admin)"
            ))
        })
    };
    match cmd {
        AuthCommand::CreateToken { perm: name } => {
            let secret = daemon::secret(&dir).map_err(Error::repo)?;
            Ok(secret.token(&perm(name)?.up_to()))
        }
        AuthCommand::ApiInfo { perm: name } => {
            let perms = perm(name)?.up_to();
            let running = daemon::running_daemon(&dir).ok_or_else(|| {
                Error::repo(format!(
                    "no daemon is running on the repo at {} (start one with `paych daemon`)",
                    dir.display()
                ))
            })?;
            let secret = daemon::secret(&dir).map_err(Error::repo)?;
            let info = ApiInfo {
                token: Some(secret.token(&perms)),
                url: running.url,
            };
            Ok(format!("FULLNODE_API_INFO={}", info.to_env()))
        }
    }
}

/// The node a daemon runs commands on.
#[derive(Clone)]
enum Runner {
    Full(Arc<FullNode>),
    Lite(Arc<LiteNode>),
}

/// `PaychNode.Run [argv, json]`: parses the arguments as `paych` does and
/// runs the command on the daemon's node; the result carries what the
/// command line prints.
fn command_api(runner: Runner) -> Api {
    let mut api = Api::new();
    api.method(RUN_METHOD, Perm::Read, 1, move |p| {
        let argv: Vec<String> = p.get(0)?;
        let cli = match <Cli as clap::Parser>::try_parse_from(
            std::iter::once("paych".to_string()).chain(argv),
        ) {
            Ok(cli) => cli,
            Err(e) => {
                return Err(error(Error::invalid(crate::one_line(
                    &e.render().to_string(),
                ))));
            }
        };
        paych_node::rpc::require(p.perms(), permission(&cli.command), RUN_METHOD)?;
        let mut notes = Vec::new();
        let target = match &runner {
            Runner::Full(node) => Target::Full(node),
            Runner::Lite(node) => Target::Lite(node),
        };
        match commands::run_on(&cli.command, target, &mut notes) {
            Ok(output) => Ok(json!({
                "Text": output.text,
                "Json": output.json,
                "Notes": notes,
            })),
            Err(e) => Err(error(e)),
        }
    });
    api
}

fn error(e: Error) -> RpcError {
    RpcError::method(e.message().to_string()).with_data(json!({ "Kind": e.kind().name() }))
}

/// The error a daemon answered with, as the command line reports errors.
pub fn from_rpc(e: &RpcError) -> Error {
    let kind = e
        .data
        .as_ref()
        .and_then(|d| d.get("Kind"))
        .and_then(Value::as_str)
        .and_then(ErrorKind::from_name)
        .unwrap_or(ErrorKind::Rejected);
    Error::new(kind, e.message.clone())
}

/// What a command needs, in Lotus's terms: reading is `read`; storing a
/// voucher or managing the wallet's addresses `write`; anything that signs
/// `sign`; key export and import, and writing files on the node's machine,
/// `admin`.
fn permission(command: &Command) -> Perm {
    match command {
        Command::Status { .. }
        | Command::StatusByFromTo { .. }
        | Command::List
        | Command::Inspect { .. }
        | Command::State(_) => Perm::Read,
        Command::Chain(ChainCommand::Advance { .. }) => Perm::Write,
        Command::Chain(_) => Perm::Read,
        Command::Devnet(DevnetCommand::Info | DevnetCommand::Verify | DevnetCommand::Check) => {
            Perm::Read
        }
        Command::Devnet(_) => Perm::Admin,
        Command::Voucher(
            VoucherCommand::Check { .. }
            | VoucherCommand::BestSpendable { .. }
            | VoucherCommand::Decode { .. },
        ) => Perm::Read,
        Command::Voucher(VoucherCommand::Add { .. } | VoucherCommand::List { .. }) => Perm::Write,
        Command::Voucher(VoucherCommand::Create { .. } | VoucherCommand::Submit { .. }) => {
            Perm::Sign
        }
        Command::Wallet(WalletCommand::Balance { .. }) => Perm::Read,
        Command::Wallet(WalletCommand::Export { .. } | WalletCommand::Import { .. }) => Perm::Admin,
        Command::Wallet(_) => Perm::Write,
        Command::Send { .. }
        | Command::AddFunds { .. }
        | Command::Lane(LaneCommand::Allocate { .. })
        | Command::Settle { .. }
        | Command::Collect { .. } => Perm::Sign,
        Command::Walkthrough { .. } | Command::Daemon(_) | Command::Auth(_) => Perm::Admin,
    }
}

/// Where a command line runs: on the repo directly (holding it for the
/// command), or through a daemon.
pub enum Place {
    Repo(daemon::RepoLock),
    Node(ApiInfo),
}

/// `--api` if given; else the repo, or its daemon when one holds it.
pub fn place(cli: &Cli) -> Result<Place, Error> {
    if let Some(api) = &cli.api {
        return Ok(Place::Node(ApiInfo::parse(api).map_err(Error::invalid)?));
    }
    let dir = repo_dir(cli)?;
    let dir = dir.as_path();
    match daemon::lock_for_command(dir).map_err(Error::repo)? {
        Some(lock) => Ok(Place::Repo(lock)),
        None => daemon::running_daemon(dir).map(Place::Node).ok_or_else(|| {
            Error::repo(format!(
                "the repo at {} is held by a daemon that is starting or stopping; try again",
                dir.display()
            ))
        }),
    }
}

/// Runs the command line on a node: the original arguments, less the ones
/// that chose the node, with a key to import read here.
pub fn run_remote(cli: &Cli, info: ApiInfo) -> Result<(crate::output::Output, Vec<String>), Error> {
    let mut argv = forwarded_args(std::env::args().skip(1));
    if let Command::Wallet(WalletCommand::Import {
        path, key: None, ..
    }) = &cli.command
    {
        let key = commands::read_key(path.as_deref())?;
        argv.retain(|a| Some(a.as_str()) != path.as_deref().and_then(|p| p.to_str()));
        argv.push("--key".into());
        argv.push(key.trim().to_string());
    }
    let url = info.url.clone();
    let client = paych_node::client::Client::new(info);
    match client.call(RUN_METHOD, vec![json!(argv)]) {
        Ok(result) => {
            let notes = result["Notes"]
                .as_array()
                .map(|n| {
                    n.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            Ok((
                crate::output::Output {
                    text: result["Text"].as_str().unwrap_or_default().to_string(),
                    json: result["Json"].clone(),
                },
                notes,
            ))
        }
        Err(paych_node::client::CallError::Rpc(e))
            if e.code == paych_node::jsonrpc::METHOD_NOT_FOUND =>
        {
            Err(Error::repo(format!(
                "the node at {url} does not run paych commands ({RUN_METHOD}); point --api at a paych daemon"
            )))
        }
        Err(paych_node::client::CallError::Rpc(e)) => Err(from_rpc(&e)),
        Err(paych_node::client::CallError::Transport(e)) => Err(Error::repo(e)),
    }
}

/// The arguments without `--api`, `--repo` and `--json` (which choose where
/// and how the command line runs, not what the command does).
fn forwarded_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--api" | "--repo" => {
                args.next();
            }
            "--json" => {}
            a if a.starts_with("--api=") || a.starts_with("--repo=") => {}
            _ => out.push(arg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_choosing_arguments_are_not_forwarded() {
        let args = [
            "--repo",
            "/r",
            "status",
            "t2x",
            "--json",
            "--api=tok:/ip4/1/tcp/2/http",
        ];
        assert_eq!(
            forwarded_args(args.iter().map(|s| s.to_string())),
            vec!["status", "t2x"]
        );
    }
}
