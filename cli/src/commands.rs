//! Each command: parse its arguments, call the library, render the result.

use std::io::Read;
use std::path::{Path, PathBuf};

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::version::NetworkVersion;
use paych_bundle::Bundle;
use paych_client::amount::{format_fil, parse_fil};
use paych_devnet::addr::{parse, show};
use paych_devnet::devnet::{Devnet, GenesisOptions};
use paych_devnet::paych::{Phase, decode_voucher, recover_signer};
use paych_devnet::{Error, Repo, SqliteRepo};
use serde_json::{Value, json};

use crate::cli::{
    ChainCommand, Cli, Command, DevnetCommand, KeyFormat, VoucherCommand, WalletCommand,
};
use crate::render::*;

pub type Result<T, E = Error> = std::result::Result<T, E>;
type Net = Devnet<SqliteRepo>;

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
fn open(dir: &Path, notes: &mut Vec<String>) -> Result<Net> {
    let repo = SqliteRepo::open(dir)?;
    let (net, created) = Devnet::open_or_init(repo, || {
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

fn default_address(net: &Net) -> Result<Address> {
    net.wallet_default()?
        .ok_or_else(|| Error::missing_key("the wallet has no default address"))
}

/// Runs a parsed command line. `notes` collects lines printed before the
/// output (e.g. that the repo was just created).
pub fn run(cli: &Cli, notes: &mut Vec<String>) -> Result<Output> {
    let dir = repo_dir(cli)?;
    match &cli.command {
        Command::Walkthrough { keep } => crate::walkthrough::run(cli.json, *keep),
        Command::Devnet(cmd) => devnet(cmd, &dir, notes),
        Command::Chain(cmd) => chain(cmd, &open(&dir, notes)?),
        Command::Wallet(cmd) => wallet(cmd, &open(&dir, notes)?),
        Command::Send {
            from,
            target,
            amount,
        } => {
            let (target, value) = (parse(target)?, positive_amount(amount)?);
            let net = open(&dir, notes)?;
            let from = match from {
                Some(f) => parse(f)?,
                None => default_address(&net)?,
            };
            let m = net.send(&from, &target, &value)?;
            Ok(Output::new(
                format!(
                    "Sent {} from {} to {}\n{}\n{}",
                    format_fil(&value),
                    show(&from),
                    show(&target),
                    message_line(&m),
                    m.cid
                ),
                json!({"message": message_json(&m)}),
            ))
        }
        Command::AddFunds { from, to, amount } => {
            let (from, to, value) = (parse(from)?, parse(to)?, positive_amount(amount)?);
            let net = open(&dir, notes)?;
            let r = net.add_funds(&from, &to, &value)?;
            let what = if r.created {
                format!(
                    "Created channel {} ({}) from {} to {} with {}",
                    show(&r.channel),
                    show(&Address::new_id(r.id)),
                    show(&from),
                    show(&to),
                    format_fil(&value)
                )
            } else {
                format!(
                    "Added {} to existing channel {} ({}): balance now {}",
                    format_fil(&value),
                    show(&r.channel),
                    show(&Address::new_id(r.id)),
                    format_fil(&r.balance)
                )
            };
            Ok(Output::new(
                format!("{what}\n{}\n{}", message_line(&r.message), show(&r.channel)),
                json!({
                    "channel": addr(&r.channel),
                    "id": addr(&Address::new_id(r.id)),
                    "created": r.created,
                    "amount": atto(&r.amount),
                    "balance": atto(&r.balance),
                    "message": message_json(&r.message),
                }),
            ))
        }
        Command::Voucher(cmd) => voucher(cmd, &dir, notes),
        Command::Settle { channel, from } => {
            let channel = parse(channel)?;
            let from = from.as_deref().map(parse).transpose()?;
            let net = open(&dir, notes)?;
            let s = net.settle(&channel, from.as_ref())?;
            let wait = s.settling_at - s.message.epoch;
            Ok(Output::new(
                format!(
                    "Settled channel {}: vouchers can be submitted until epoch {}, collect from epoch {} (in {wait} epochs)\n{}",
                    show(&s.channel),
                    s.settling_at - 1,
                    s.settling_at,
                    message_line(&s.message)
                ),
                json!({"channel": addr(&s.channel), "settling_at": s.settling_at, "message": message_json(&s.message)}),
            ))
        }
        Command::Collect { channel, from } => {
            let channel = parse(channel)?;
            let from = from.as_deref().map(parse).transpose()?;
            let net = open(&dir, notes)?;
            let c = net.collect(&channel, from.as_ref())?;
            Ok(Output::new(
                format!(
                    "Collected funds for channel {}: paid {} to the payee {}, returned {} to the payer {}\n{}",
                    show(&c.channel),
                    format_fil(&c.paid_to_payee),
                    show(&c.payee),
                    format_fil(&c.returned_to_payer),
                    show(&c.payer),
                    message_line(&c.message)
                ),
                json!({
                    "channel": addr(&c.channel),
                    "payee": addr(&c.payee),
                    "payer": addr(&c.payer),
                    "paid_to_payee": atto(&c.paid_to_payee),
                    "returned_to_payer": atto(&c.returned_to_payer),
                    "message": message_json(&c.message),
                }),
            ))
        }
        Command::Status { channel } => {
            let channel = parse(channel)?;
            let s = open(&dir, notes)?.status(&channel)?;
            Ok(Output::new(status_text(&s), status_json(&s)))
        }
        Command::StatusByFromTo { from, to } => {
            let (from, to) = (parse(from)?, parse(to)?);
            match open(&dir, notes)?.status_by_from_to(&from, &to)? {
                Some(s) => Ok(Output::new(status_text(&s), status_json(&s))),
                None => Ok(Output::new(
                    "Channel does not exist",
                    json!({"from": addr(&from), "to": addr(&to), "status": {"state": "does_not_exist"}}),
                )),
            }
        }
        Command::List => {
            let list = open(&dir, notes)?.list()?;
            let text = list
                .iter()
                .map(|s| {
                    let state = match s.phase {
                        Phase::Open => "open".to_string(),
                        Phase::Settling { settling_at } => format!("settling until {settling_at}"),
                        Phase::Settled { .. } => "settled".to_string(),
                        Phase::Collected { .. } => "collected".to_string(),
                    };
                    let opt = |a: &Option<Address>| a.as_ref().map(show).unwrap_or_default();
                    format!(
                        "{} {} -> {} {} ({state})",
                        show(&s.channel),
                        opt(&s.from),
                        opt(&s.to),
                        format_fil(&s.balance)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Output::new(
                text,
                Value::Array(list.iter().map(status_json).collect()),
            ))
        }
        Command::Inspect { channel } => {
            let channel = parse(channel)?;
            let i = open(&dir, notes)?.inspect(&channel)?;
            inspect(&i)
        }
    }
}

fn inspect(i: &paych_devnet::paych::Inspected) -> Result<Output> {
    let id = Address::new_id(i.id);
    let Some(c) = &i.on_chain else {
        let when = i
            .collected_epoch
            .map(|e| format!(" at epoch {e}"))
            .unwrap_or_default();
        return Ok(Output::new(
            format!(
                "Channel: {} ({})\nCollected{when}: the actor no longer exists on chain",
                show(&i.channel),
                show(&id)
            ),
            json!({"channel": addr(&i.channel), "id": addr(&id), "exists": false, "collected_epoch": i.collected_epoch}),
        ));
    };
    let settling = match c.state.settling_at {
        0 => "not settling".to_string(),
        at if at > i.head => format!("{at} ({} epochs left from head {})", at - i.head, i.head),
        at => format!("{at} (reached; head is {})", i.head),
    };
    let mut text = vec![
        format!("Channel: {} ({})", show(&i.channel), show(&id)),
        format!(
            "From: {} ({})",
            show(&Address::new_id(c.from_id)),
            show(&c.from)
        ),
        format!("To: {} ({})", show(&Address::new_id(c.to_id)), show(&c.to)),
        format!("Balance: {}", format_fil(&c.balance)),
        format!("To send: {}", format_fil(&c.state.to_send)),
        format!("Settling at: {settling}"),
        format!("Min settle height: {}", c.state.min_settle_height),
        format!("Lanes: {}", c.lanes.len()),
    ];
    for (lane, state) in &c.lanes {
        text.push(format!(
            "  Lane {lane}: redeemed {}, nonce {}",
            format_fil(&state.redeemed),
            state.nonce
        ));
    }
    let epochs_left = (c.state.settling_at != 0).then(|| (c.state.settling_at - i.head).max(0));
    Ok(Output::new(
        text.join("\n"),
        json!({
            "channel": addr(&i.channel),
            "id": addr(&id),
            "exists": true,
            "head": i.head,
            "from": addr(&c.from),
            "from_id": addr(&Address::new_id(c.from_id)),
            "to": addr(&c.to),
            "to_id": addr(&Address::new_id(c.to_id)),
            "balance": atto(&c.balance),
            "to_send": atto(&c.state.to_send),
            "settling_at": c.state.settling_at,
            "epochs_left": epochs_left,
            "min_settle_height": c.state.min_settle_height,
            "lanes": c.lanes.iter().map(|(lane, s)| json!({
                "lane": lane, "redeemed": atto(&s.redeemed), "nonce": s.nonce
            })).collect::<Vec<_>>(),
        }),
    ))
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
            let repo = SqliteRepo::open(dir)?;
            let net = Devnet::init(repo, options).map_err(|e| match e.kind() {
                paych_devnet::ErrorKind::Repo if e.message().contains("already initialized") => {
                    Error::repo(format!(
                        "the repo at {} is already initialized",
                        dir.display()
                    ))
                }
                _ => e,
            })?;
            let wallets = net.wallet_list()?;
            let head = net.head()?;
            let mut text = vec![format!(
                "Initialized a devnet repo at {} (network version {}, {}, base fee {} attoFIL)",
                dir.display(),
                net.info().config.network_version,
                net.info().bundle_origin,
                net.info().config.base_fee.atto()
            )];
            text.push(format!("Genesis state root: {}", head.state_root));
            for w in &wallets {
                let mark = if w.default { " (default)" } else { "" };
                text.push(format!(
                    "  {} {}{mark}",
                    show(&w.address),
                    format_fil(&w.balance)
                ));
            }
            Ok(Output::new(
                text.join("\n"),
                json!({
                    "repo": dir.display().to_string(),
                    "state_root": head.state_root.to_string(),
                    "network_version": u32::from(net.info().config.network_version),
                    "bundle": net.info().bundle_origin,
                    "wallets": wallets.iter().map(|w| json!({
                        "address": addr(&w.address), "balance": atto(&w.balance), "default": w.default
                    })).collect::<Vec<_>>(),
                }),
            ))
        }
        DevnetCommand::Info => {
            let net = open(dir, notes)?;
            let info = net.info();
            let head = net.head()?;
            Ok(Output::new(
                [
                    format!("Repo: {}", dir.display()),
                    format!("Bundle: {}", info.bundle_origin),
                    format!("Manifest: {}", info.config.manifest),
                    format!(
                        "Payment channel code: {}",
                        info.code("paymentchannel")
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                    ),
                    format!("Network version: {}", info.config.network_version),
                    format!(
                        "Base fee: {} attoFIL (fixed; gas premium 0)",
                        info.config.base_fee.atto()
                    ),
                    format!("Genesis state root: {}", info.genesis_root),
                    format!("Total supply: {}", format_fil(&info.total_supply)),
                    format!("Head: epoch {}, state root {}", head.epoch, head.state_root),
                ]
                .join("\n"),
                json!({
                    "repo": dir.display().to_string(),
                    "bundle": info.bundle_origin,
                    "manifest": info.config.manifest.to_string(),
                    "network_version": u32::from(info.config.network_version),
                    "base_fee": atto(&info.config.base_fee),
                    "genesis_root": info.genesis_root.to_string(),
                    "total_supply": atto(&info.total_supply),
                    "head": {"epoch": head.epoch, "state_root": head.state_root.to_string()},
                }),
            ))
        }
        DevnetCommand::Verify => {
            let net = open(dir, notes)?;
            let integrity = net.repo().integrity_check()?;
            if integrity != "ok" {
                return Err(Error::repo(format!(
                    "SQLite integrity check failed: {integrity}"
                )));
            }
            let v = net.verify()?;
            Ok(Output::new(
                format!(
                    "Repo OK: SQLite integrity ok; head epoch {} at state root {} matches the last of {} receipts; \
                     {} actors hold {} = the genesis supply; {} tracked channels agree with the chain",
                    v.head.epoch,
                    v.head.state_root,
                    v.messages,
                    v.actors,
                    format_fil(&v.total_balance),
                    v.channels
                ),
                json!({
                    "ok": true,
                    "head": {"epoch": v.head.epoch, "state_root": v.head.state_root.to_string()},
                    "messages": v.messages,
                    "actors": v.actors,
                    "channels": v.channels,
                    "total_balance": atto(&v.total_balance),
                }),
            ))
        }
    }
}

fn chain(cmd: &ChainCommand, net: &Net) -> Result<Output> {
    match cmd {
        ChainCommand::Head => {
            let head = net.head()?;
            let count = net.repo().read(|s| s.message_count())?;
            let ts = net.info().config.timestamp(head.epoch);
            Ok(Output::new(
                format!(
                    "Epoch: {}\nState root: {}\nTimestamp: {ts} (UNIX seconds)\nMessages applied: {count}",
                    head.epoch, head.state_root
                ),
                json!({"epoch": head.epoch, "state_root": head.state_root.to_string(), "timestamp": ts, "messages": count}),
            ))
        }
        ChainCommand::Advance { epochs } => {
            let head = net.advance(*epochs)?;
            Ok(Output::new(
                format!("Advanced {epochs} epochs: head is now epoch {}", head.epoch),
                json!({"epoch": head.epoch, "state_root": head.state_root.to_string()}),
            ))
        }
        ChainCommand::Messages { limit } => {
            let messages = net.messages(*limit)?;
            let text = if messages.is_empty() {
                "No messages applied yet".to_string()
            } else {
                messages
                    .iter()
                    .map(|m| format!("#{} {}", m.seq, message_line(m)))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            Ok(Output::new(
                text,
                Value::Array(messages.iter().map(message_json).collect()),
            ))
        }
    }
}

fn wallet(cmd: &WalletCommand, net: &Net) -> Result<Output> {
    match cmd {
        WalletCommand::New { key_type } => {
            let address = net.wallet_new((*key_type).into())?;
            Ok(Output::new(
                show(&address),
                json!({"address": addr(&address)}),
            ))
        }
        WalletCommand::List => {
            let list = net.wallet_list()?;
            let rows: Vec<[String; 5]> = list
                .iter()
                .map(|w| {
                    [
                        show(&w.address),
                        w.id.map(|id| format!("t0{id}")).unwrap_or_default(),
                        format_fil(&w.balance),
                        w.nonce.to_string(),
                        if w.default { "X" } else { "" }.to_string(),
                    ]
                })
                .collect();
            let header = ["Address", "ID", "Balance", "Nonce", "Default"].map(String::from);
            let width = |i: usize| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[i].len())
                    .max()
                    .unwrap_or(0)
            };
            let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
            let lines: Vec<String> = [&header]
                .into_iter()
                .chain(rows.iter())
                .map(|r| {
                    format!(
                        "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
                        r[0], r[1], r[2], r[3], r[4]
                    )
                    .trim_end()
                    .to_string()
                })
                .collect();
            Ok(Output::new(
                lines.join("\n"),
                Value::Array(
                    list.iter()
                        .map(|w| {
                            json!({
                                "address": addr(&w.address),
                                "type": w.key_type.name(),
                                "id": w.id.map(|id| addr(&Address::new_id(id))),
                                "balance": atto(&w.balance),
                                "nonce": w.nonce,
                                "default": w.default,
                            })
                        })
                        .collect(),
                ),
            ))
        }
        WalletCommand::Balance { address } => {
            let address = match address {
                Some(a) => parse(a)?,
                None => default_address(net)?,
            };
            let balance = net.balance(&address)?;
            Ok(Output::new(
                format_fil(&balance),
                json!({"address": addr(&address), "balance": atto(&balance)}),
            ))
        }
        WalletCommand::Import { path, format: _ } => {
            let text = match path {
                Some(p) => std::fs::read_to_string(p)
                    .map_err(|e| Error::invalid(format!("cannot read {}: {e}", p.display())))?,
                None => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s).map_err(|e| {
                        Error::invalid(format!("cannot read the key from standard input: {e}"))
                    })?;
                    s
                }
            };
            let (address, added) = net.wallet_import(&text)?;
            let note = if added {
                "successfully"
            } else {
                "(it was already in the wallet)"
            };
            Ok(Output::new(
                format!("imported key {} {note}", show(&address)),
                json!({"address": addr(&address), "added": added}),
            ))
        }
        WalletCommand::Export { address, format } => {
            let info = net.wallet_export(&parse(address)?)?;
            let text = match format {
                KeyFormat::HexLotus => info.to_lotus_hex(),
                KeyFormat::JsonLotus => info.to_json(),
            };
            Ok(Output::new(text.clone(), json!({"key": text})))
        }
        WalletCommand::Default => {
            let address = default_address(net)?;
            Ok(Output::new(
                show(&address),
                json!({"address": addr(&address)}),
            ))
        }
        WalletCommand::SetDefault { address } => {
            let address = parse(address)?;
            net.wallet_set_default(&address)?;
            Ok(Output::new(
                format!("default address set to {}", show(&address)),
                json!({"address": addr(&address)}),
            ))
        }
    }
}

fn voucher(cmd: &VoucherCommand, dir: &Path, notes: &mut Vec<String>) -> Result<Output> {
    match cmd {
        VoucherCommand::Create {
            channel,
            amount,
            lane,
            lane_flag,
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
            let net = open(dir, notes)?;
            let v = net.voucher_create(&channel, &value, lane)?;
            let text = paych_client::voucher::encode(&v.voucher);
            Ok(Output::new(
                format!(
                    "Voucher for {} on lane {}, nonce {} (adds {} to the lane), signed by the payer\n{text}",
                    format_fil(&v.voucher.amount),
                    v.voucher.lane,
                    v.voucher.nonce,
                    format_fil(&v.delta)
                ),
                json!({"channel": addr(&v.channel), "voucher": text, "delta": atto(&v.delta), "decoded": voucher_json(&v.voucher)}),
            ))
        }
        VoucherCommand::Check { channel, voucher } | VoucherCommand::Add { channel, voucher } => {
            let adding = matches!(cmd, VoucherCommand::Add { .. });
            let channel = parse(channel)?;
            decode_voucher(voucher)?;
            let net = open(dir, notes)?;
            let c = if adding {
                net.voucher_add(&channel, voucher)?
            } else {
                net.voucher_check(&channel, voucher)?
            };
            let mut lines = Vec::new();
            let what = format!(
                "{} (lane {}, nonce {})",
                format_fil(&c.voucher.amount),
                c.voucher.lane,
                c.voucher.nonce
            );
            match (adding, c.already_stored) {
                (true, Some(origin)) => {
                    lines.push(format!("Voucher {what} is already stored ({}): nothing changed", origin_text(origin)))
                }
                (true, None) => lines.push(format!(
                    "add voucher successfully: {what}, worth {} more than the best voucher known for the lane",
                    format_fil(&c.delta)
                )),
                (false, stored) => {
                    lines.push("voucher is valid".to_string());
                    lines.push(format!(
                        "{what}: redeems {} more than the best voucher known for the lane",
                        format_fil(&c.delta)
                    ));
                    if let Some(origin) = stored {
                        lines.push(format!("It is already stored here ({}).", origin_text(origin)));
                    }
                }
            }
            let side = match (c.payee_in_wallet, c.payer_in_wallet) {
                (true, true) => format!(
                    "Checked for the payee {}; this wallet also holds the payer's key {} (it can create and redeem).",
                    show(&c.payee),
                    show(&c.payer)
                ),
                (true, false) => format!(
                    "Checked for the payee {} (key in this wallet).",
                    show(&c.payee)
                ),
                (false, true) => format!(
                    "This wallet is the payer's ({}); these are the payee's checks, made on its behalf ({} is not in this wallet).",
                    show(&c.payer),
                    show(&c.payee)
                ),
                (false, false) => format!(
                    "Checked for the payee {} (neither party's key is in this wallet).",
                    show(&c.payee)
                ),
            };
            lines.push(side);
            if let Some(at) = c.settling_at {
                lines.push(format!(
                    "The channel is settling: submit before epoch {at}."
                ));
            }
            Ok(Output::new(
                lines.join("\n"),
                json!({
                    "valid": true,
                    "added": c.added,
                    "already_stored": c.already_stored.map(|o| o.name()),
                    "channel": addr(&c.channel),
                    "delta": atto(&c.delta),
                    "payee": addr(&c.payee),
                    "payer": addr(&c.payer),
                    "payee_in_wallet": c.payee_in_wallet,
                    "payer_in_wallet": c.payer_in_wallet,
                    "settling_at": c.settling_at,
                    "voucher": voucher_json(&c.voucher),
                }),
            ))
        }
        VoucherCommand::List { channel, export } => {
            let channel = parse(channel)?;
            let (ch, vouchers) = open(dir, notes)?.voucher_list(&channel)?;
            let text = vouchers
                .iter()
                .map(|r| {
                    let mut line = voucher_line(&r.voucher);
                    if r.submitted {
                        line.push_str(" (submitted)");
                    }
                    if *export {
                        line.push_str(&format!("; {}", paych_client::voucher::encode(&r.voucher)));
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Output::new(
                text,
                json!({
                    "channel": addr(&ch.robust),
                    "vouchers": vouchers.iter().map(|r| json!({
                        "lane": r.voucher.lane,
                        "nonce": r.voucher.nonce,
                        "amount": atto(&r.voucher.amount),
                        "origin": r.origin.name(),
                        "submitted": r.submitted,
                        "voucher": paych_client::voucher::encode(&r.voucher),
                    })).collect::<Vec<_>>(),
                }),
            ))
        }
        VoucherCommand::BestSpendable { channel, export } => {
            let channel = parse(channel)?;
            let best = open(dir, notes)?.best_spendable(&channel)?;
            let mut lines: Vec<String> = best
                .vouchers
                .iter()
                .map(|v| {
                    let mut line = voucher_line(v);
                    if *export {
                        line.push_str(&format!("; {}", paych_client::voucher::encode(v)));
                    }
                    line
                })
                .collect();
            if best.vouchers.is_empty() {
                lines.push("No spendable vouchers".to_string());
            }
            for s in &best.skipped {
                lines.push(format!(
                    "(skipped {}: {})",
                    voucher_line(&s.voucher),
                    s.reason
                ));
            }
            Ok(Output::new(
                lines.join("\n"),
                json!({
                    "channel": addr(&best.channel),
                    "vouchers": best.vouchers.iter().map(|v| json!({
                        "lane": v.lane, "nonce": v.nonce, "amount": atto(&v.amount),
                        "voucher": paych_client::voucher::encode(v),
                    })).collect::<Vec<_>>(),
                    "skipped": best.skipped.iter().map(|s| json!({
                        "lane": s.voucher.lane, "nonce": s.voucher.nonce, "amount": atto(&s.voucher.amount),
                        "reason": s.reason,
                    })).collect::<Vec<_>>(),
                }),
            ))
        }
        VoucherCommand::Submit { channel, voucher } => {
            let channel = parse(channel)?;
            decode_voucher(voucher)?;
            let net = open(dir, notes)?;
            let s = net.voucher_submit(&channel, voucher)?;
            Ok(Output::new(
                format!(
                    "channel updated successfully: {} redeemed on lane {} (nonce {}); the channel now owes the payee {}\n{}",
                    format_fil(&s.voucher.amount),
                    s.voucher.lane,
                    s.voucher.nonce,
                    format_fil(&s.to_send),
                    message_line(&s.message)
                ),
                json!({
                    "channel": addr(&s.channel),
                    "to_send": atto(&s.to_send),
                    "marked_submitted": s.marked,
                    "voucher": voucher_json(&s.voucher),
                    "message": message_json(&s.message),
                }),
            ))
        }
        VoucherCommand::Decode { voucher } => {
            let sv = decode_voucher(voucher)?;
            let signer = recover_signer(&sv);
            let mut lines = vec![
                format!("Channel: {}", show(&sv.channel_addr)),
                format!("Lane: {}", sv.lane),
                format!("Nonce: {}", sv.nonce),
                format!(
                    "Amount: {} ({} attoFIL)",
                    format_fil(&sv.amount),
                    sv.amount.atto()
                ),
                format!("Time lock min: {}", sv.time_lock_min),
                format!("Time lock max: {}", sv.time_lock_max),
                format!(
                    "Secret hash: {}",
                    if sv.secret_pre_image.is_empty() {
                        "none".into()
                    } else {
                        hex(&sv.secret_pre_image)
                    }
                ),
                format!(
                    "Extra: {}",
                    sv.extra
                        .as_ref()
                        .map(|e| format!(
                            "call {} method {} with {}",
                            show(&e.actor),
                            e.method,
                            hex(e.data.bytes())
                        ))
                        .unwrap_or_else(|| "none".into())
                ),
                format!("Min settle height: {}", sv.min_settle_height),
                format!(
                    "Merges: {}",
                    if sv.merges.is_empty() {
                        "none".to_string()
                    } else {
                        sv.merges
                            .iter()
                            .map(|m| format!("lane {} nonce {}", m.lane, m.nonce))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ];
            lines.push(match (&sv.signature, signer) {
                (None, _) => "Signature: none".to_string(),
                (Some(_), Some(s)) => format!("Signature: secp256k1, by {} (recovered)", show(&s)),
                (Some(sig), None) => {
                    format!("Signature: {:?}, {} bytes", sig.sig_type, sig.bytes.len())
                }
            });
            let mut json = voucher_json(&sv);
            json["signer"] = signer.map(|s| addr(&s)).unwrap_or(Value::Null);
            Ok(Output::new(lines.join("\n"), json))
        }
    }
}

fn origin_text(origin: paych_devnet::store::VoucherOrigin) -> &'static str {
    use paych_devnet::store::VoucherOrigin::*;
    match origin {
        Created => "created here by the payer",
        Received => "added earlier by the payee",
        Submitted => "submitted from here",
    }
}
