//! `paych walkthrough`: the whole story on a fresh temporary repo, each step
//! run through the same command path a user types, printed with its output,
//! and the final balances reconciled against the receipts.

use clap::Parser;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_client::amount::format_fil;
use paych_devnet::WalletOps;
use paych_devnet::addr::show;
use paych_devnet::{Error, LocalDevnet, json};
use serde::Serialize;
use serde_json::Value;

use crate::cli::Cli;
use crate::commands::{self, Result};
use crate::output::{Output, Render};

struct Script {
    repo: std::path::PathBuf,
    json: bool,
    steps: Vec<Value>,
}

impl Script {
    /// Runs `paych <args>` in-process against the walkthrough's repo,
    /// printing the command and its output (text mode).
    fn run(&mut self, args: &[&str]) -> Result<Value> {
        let command = format!("paych {}", args.join(" "));
        if !self.json {
            out!("$ {command}");
        }
        let mut argv = vec![
            "paych".to_string(),
            "--repo".into(),
            self.repo.display().to_string(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        let cli = Cli::try_parse_from(&argv)
            .map_err(|e| Error::internal(format!("walkthrough step {command}: {e}")))?;
        let mut notes = Vec::new();
        let output = commands::run(&cli, &mut notes).map_err(|e| {
            Error::new(
                e.kind(),
                format!("walkthrough step `{command}` failed: {e}"),
            )
        })?;
        if !self.json {
            for note in &notes {
                out!("{note}");
            }
            if !output.text.is_empty() {
                out!("{}", output.text);
            }
            out!();
        }
        self.steps
            .push(serde_json::json!({"command": command, "output": output.json.clone()}));
        Ok(output.json)
    }

    fn say(&self, text: &str) {
        if !self.json {
            out!("# {text}");
        }
    }
}

fn field(value: &Value, key: &str) -> Result<String> {
    value[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::internal(format!("walkthrough: no {key} in a step's output")))
}

pub fn run(json: bool, keep: bool) -> Result<Output> {
    let temp = tempfile::Builder::new()
        .prefix("paych-walkthrough-")
        .tempdir()
        .map_err(|e| Error::repo(format!("cannot create a temporary directory: {e}")))?;
    let repo = temp.path().join("repo");
    let mut s = Script {
        repo: repo.clone(),
        json,
        steps: Vec::new(),
    };
    if !json {
        out!(
            "# A fresh devnet repo for this walkthrough; to repeat the steps by hand, point paych at it:"
        );
        out!("$ export PAYCH_REPO={}\n", repo.display());
    }

    s.say("Genesis gives three funded wallet addresses. The first pays, the second is paid.");
    s.run(&["devnet", "init"])?;
    let wallets = s.run(&["wallet", "list"])?;
    let address = |i: usize| -> Result<String> {
        wallets[i]["address"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::internal("walkthrough: no wallets"))
    };
    let (payer, payee) = (address(0)?, address(1)?);

    s.say("The payer opens a channel to the payee with 10 FIL (Init Exec creates the actor).");
    let added = s.run(&["add-funds", &payer, &payee, "10"])?;
    let ch = field(&added, "channel")?;

    s.say("Off chain, the payer signs vouchers; amounts are cumulative per lane.");
    let v1 = field(&s.run(&["voucher", "create", &ch, "2"])?, "voucher")?;
    let v2 = field(&s.run(&["voucher", "create", &ch, "4"])?, "voucher")?;
    s.say("The payee checks the latest voucher before accepting it (a dry run against the chain).");
    s.run(&["voucher", "check", &ch, &v2])?;
    s.run(&["voucher", "list", &ch])?;

    s.say("The payer tops the channel up: add-funds reuses the open channel.");
    s.run(&["add-funds", &payer, &payee, "5"])?;
    s.run(&["status", &ch])?;

    s.say("The payer settles: the payee has 1440 epochs (12 hours) to redeem.");
    s.run(&["settle", &ch])?;
    s.say("The payee picks the best voucher per lane and submits it.");
    let best = s.run(&["voucher", "best-spendable", &ch])?;
    let best_text = best["vouchers"][0]["voucher"]
        .as_str()
        .ok_or_else(|| Error::internal("walkthrough: nothing spendable"))?
        .to_string();
    if best_text != v2 {
        return Err(Error::internal(
            "walkthrough: best-spendable did not pick the 4 FIL voucher",
        ));
    }
    let _ = v1;
    s.run(&["voucher", "submit", &ch, &best_text])?;
    s.run(&["inspect", &ch])?;

    s.say("Time passes beyond the settle delay; then the payee collects.");
    s.run(&["chain", "advance", "1440"])?;
    s.run(&["collect", &ch])?;
    s.run(&["status", &ch])?;
    s.run(&["wallet", "list"])?;
    s.run(&["devnet", "verify"])?;

    // Reconcile: every FIL moved is accounted for by the channel and the
    // gas each party paid, as recorded in the receipts.
    let net = LocalDevnet::open_dir(&repo)?;
    let (payer_addr, payee_addr) = (
        paych_devnet::addr::parse(&payer)?,
        paych_devnet::addr::parse(&payee)?,
    );
    let fees = |who: &Address| -> Result<TokenAmount> {
        Ok(net
            .messages(usize::MAX)?
            .iter()
            .filter(|m| m.message.from == *who)
            .map(|m| m.receipt.fee())
            .sum())
    };
    let initial = |i: usize| -> Result<TokenAmount> {
        let atto: fvm_shared::bigint::BigInt = wallets[i]["balance"]
            .as_str()
            .and_then(|b| b.parse().ok())
            .ok_or_else(|| Error::internal("walkthrough: bad balance"))?;
        Ok(TokenAmount::from_atto(atto))
    };
    let (payer_fees, payee_fees) = (fees(&payer_addr)?, fees(&payee_addr)?);
    let expected_payer =
        initial(0)? - TokenAmount::from_whole(15) + TokenAmount::from_whole(11) - &payer_fees;
    let expected_payee = initial(1)? + TokenAmount::from_whole(4) - &payee_fees;
    let (payer_final, payee_final) = (net.balance(&payer_addr)?, net.balance(&payee_addr)?);
    if payer_final != expected_payer || payee_final != expected_payee {
        return Err(Error::internal(format!(
            "walkthrough balances do not reconcile: payer {} (expected {}), payee {} (expected {})",
            format_fil(&payer_final),
            format_fil(&expected_payer),
            format_fil(&payee_final),
            format_fil(&expected_payee)
        )));
    }

    let kept = if keep {
        let path = temp.keep();
        Some(path.join("repo"))
    } else {
        None
    };
    let report = Report {
        ok: true,
        repo: kept.map(|p| p.display().to_string()),
        channel: ch,
        payer: PartyReport {
            address: payer_addr,
            initial_balance: initial(0)?,
            final_balance: payer_final,
            fees: payer_fees,
        },
        payee: PartyReport {
            address: payee_addr,
            initial_balance: initial(1)?,
            final_balance: payee_final,
            fees: payee_fees,
        },
        steps: s.steps,
    };
    Ok(Output::of(&report))
}

/// The walkthrough's outcome: every step's output and each party's balance
/// reconciled with the receipts.
#[derive(Serialize)]
struct Report {
    ok: bool,
    /// Where the repo was kept (`--keep`).
    repo: Option<String>,
    channel: String,
    payer: PartyReport,
    payee: PartyReport,
    steps: Vec<Value>,
}

#[derive(Serialize)]
struct PartyReport {
    #[serde(serialize_with = "json::address")]
    address: Address,
    #[serde(skip)]
    initial_balance: TokenAmount,
    #[serde(serialize_with = "json::atto")]
    final_balance: TokenAmount,
    #[serde(serialize_with = "json::atto")]
    fees: TokenAmount,
}

impl Render for Report {
    fn text(&self) -> String {
        [
            "Walkthrough complete: balances reconcile with the receipts.".to_string(),
            format!(
                "  payer {}: {} = {} - 15 FIL funded + 11 FIL returned - {} gas",
                show(&self.payer.address),
                format_fil(&self.payer.final_balance),
                format_fil(&self.payer.initial_balance),
                format_fil(&self.payer.fees)
            ),
            format!(
                "  payee {}: {} = {} + 4 FIL redeemed - {} gas",
                show(&self.payee.address),
                format_fil(&self.payee.final_balance),
                format_fil(&self.payee.initial_balance),
                format_fil(&self.payee.fees)
            ),
            match &self.repo {
                Some(path) => format!("The repo is kept at {path}"),
                None => "The temporary repo has been removed; run the same commands by hand against ~/.paych.".to_string(),
            },
        ]
        .join("\n")
    }
}
