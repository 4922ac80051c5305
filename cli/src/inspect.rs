//! `chain trace`, `devnet check`, `state diff` and `devnet export-vectors`:
//! their results and how they read as text (JSON is each result's
//! serialization).

use std::str::FromStr;

use cid::Cid;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_chain::receipt::exit_code_name;
use paych_chain::state::PaychState;
use paych_chain::trace::Charge;
use paych_client::amount::format_fil;
use paych_devnet::addr::show;
use paych_devnet::inspect::{
    ActorSide, CallView, ExportedVectors, InvariantReport, StateDiff, TraceReport, charges_by_name,
};
use paych_devnet::{Error, LocalDevnet, Result, Verified};
use paych_manager::PaychManager;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::output::{HeadJson, Render};

pub fn parse_cid(text: &str) -> Result<Cid> {
    Cid::from_str(text.trim())
        .map_err(|e| Error::invalid(format!("invalid message CID {text:?}: {e}")))
}

// ----- chain trace -------------------------------------------------------------

/// `chain trace`: the trace, with `--gas` every call's charges in the text.
pub struct Traced {
    pub report: TraceReport,
    pub gas: bool,
}

impl Serialize for Traced {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.report.serialize(s)
    }
}

/// Milligas as gas with three decimals (`12.345`), whole gas without.
fn gas(milligas: u64) -> String {
    if milligas.is_multiple_of(1000) {
        (milligas / 1000).to_string()
    } else {
        format!("{}.{:03}", milligas / 1000, milligas % 1000)
    }
}

fn charge_lines(charges: &[Charge]) -> Vec<String> {
    charges_by_name(charges)
        .into_iter()
        .map(|(name, n, compute, storage)| {
            let times = if n > 1 {
                format!(" ×{n}")
            } else {
                String::new()
            };
            format!(
                "{name}{times}: {} ({} compute + {} storage)",
                gas(compute + storage),
                gas(compute),
                gas(storage)
            )
        })
        .collect()
}

fn call_line(v: &CallView) -> String {
    let c = &v.call;
    let callee = match (&v.actor, v.to_id) {
        (Some(actor), Some(id)) if Address::new_id(id) != c.to => {
            format!("{} ({}, {actor})", show(&c.to), show(&Address::new_id(id)))
        }
        (Some(actor), _) => format!("{} ({actor})", show(&c.to)),
        (None, _) => format!("{} (no actor)", show(&c.to)),
    };
    let outcome = match (c.exit_code, &c.error) {
        (_, Some(error)) => format!("send failed: {error}"),
        (Some(code), None) => exit_code_name(fvm_shared::error::ExitCode::new(code)),
        (None, None) => "no return".to_string(),
    };
    let returned = match &c.returned {
        Some(r) if !r.data.is_empty() => format!(", return {} bytes", r.data.len()),
        _ => String::new(),
    };
    format!(
        "{} -> {callee} {}, value {}: {outcome}{returned}; gas {} (with subcalls {})",
        show(&Address::new_id(c.from)),
        v.method_name,
        format_fil(&c.value),
        v.own_gas(),
        v.total_gas()
    )
}

fn render_calls(calls: &[CallView], prefix: &str, with_gas: bool, out: &mut Vec<String>) {
    for (i, v) in calls.iter().enumerate() {
        let last = i + 1 == calls.len();
        let (branch, next) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        out.push(format!("{prefix}{branch}{}", call_line(v)));
        let inner = format!("{prefix}{next}");
        if with_gas {
            let bar = if v.calls.is_empty() { "   " } else { "│  " };
            for line in charge_lines(&v.call.charges) {
                out.push(format!("{inner}{bar}· {line}"));
            }
        }
        render_calls(&v.calls, &inner, with_gas, out);
    }
}

impl Render for Traced {
    fn text(&self) -> String {
        let m = &self.report.message;
        let mut out = vec![format!(
            "Message {} at epoch {}: {} from {} to {}: {}, gas used {}",
            m.cid,
            m.epoch,
            m.method_name(),
            show(&m.message.from),
            show(&m.message.to),
            exit_code_name(m.receipt.exit_code),
            m.receipt.gas_used
        )];
        if self.gas {
            for line in charge_lines(&self.report.charges) {
                out.push(format!("· {line}"));
            }
        }
        render_calls(&self.report.calls, "", self.gas, &mut out);
        out.join("\n")
    }
}

// ----- devnet check ------------------------------------------------------------

/// `devnet check`: `devnet verify`'s checks and the actor's invariants on
/// every payment channel on chain.
pub struct Checked {
    pub chain: Verified,
    pub tracked: u64,
    pub invariants: InvariantReport,
}

/// Runs every check; any invariant violation fails the command with each
/// violation named.
pub fn checked(net: &LocalDevnet, manager: PaychManager<'_, LocalDevnet>) -> Result<Checked> {
    let invariants = net.check_invariants()?;
    let violations = invariants.violations();
    if !violations.is_empty() {
        return Err(Error::repo(format!(
            "{} payment channel invariant violation{}: {}",
            violations.len(),
            if violations.len() == 1 { "" } else { "s" },
            violations.join("; ")
        )));
    }
    let chain = net.verify()?;
    let tracked = manager.check_channels()?;
    Ok(Checked {
        chain,
        tracked,
        invariants,
    })
}

impl Serialize for Checked {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = &self.chain;
        let mut out = s.serialize_struct("Checked", 7)?;
        out.serialize_field("ok", &true)?;
        out.serialize_field("head", &HeadJson::from(v.head))?;
        out.serialize_field("messages", &v.messages)?;
        out.serialize_field("actors", &v.actors)?;
        out.serialize_field("tracked_channels", &self.tracked)?;
        out.serialize_field("payment_channels", &self.invariants.channels)?;
        out.serialize_field("violations", &self.invariants.violations())?;
        out.end()
    }
}

impl Render for Checked {
    fn text(&self) -> String {
        let v = &self.chain;
        let mut out = vec![format!(
            "Repo OK: SQLite integrity ok; head epoch {} matches the last of {} receipts; {} actors hold the genesis supply {}; {} tracked channels agree with the chain",
            v.head.epoch,
            v.messages,
            v.actors,
            format_fil(&v.total_balance),
            self.tracked
        )];
        out.push(format!(
            "Payment channel invariants hold on all {} channels on chain",
            self.invariants.channels.len()
        ));
        for c in &self.invariants.channels {
            let name = c.robust.map(|r| show(&r)).unwrap_or_default();
            out.push(format!(
                "  {} {name}: balance {}, ok",
                show(&Address::new_id(c.id)),
                format_fil(&c.balance)
            ));
        }
        out.join("\n")
    }
}

// ----- state diff -----------------------------------------------------------------

fn change<T: PartialEq + ToString>(before: Option<T>, after: Option<T>) -> Option<String> {
    match (before, after) {
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) => Some(format!("{} -> {}", a.to_string(), b.to_string())),
        (None, Some(b)) => Some(format!("(none) -> {}", b.to_string())),
        (Some(a), None) => Some(format!("{} -> (none)", a.to_string())),
        (None, None) => None,
    }
}

struct Fil(TokenAmount);

impl PartialEq for Fil {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl std::fmt::Display for Fil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_fil(&self.0))
    }
}

fn channel_lines(before: Option<&PaychState>, after: Option<&PaychState>) -> Vec<String> {
    let mut out = Vec::new();
    let field = |name: &str, text: Option<String>, out: &mut Vec<String>| {
        if let Some(text) = text {
            out.push(format!("    {name}: {text}"));
        }
    };
    let get = |f: &dyn Fn(&PaychState) -> String| (before.map(f), after.map(f));
    let (a, b) = get(&|c| show(&c.state.from));
    field("from", change(a, b), &mut out);
    let (a, b) = get(&|c| show(&c.state.to));
    field("to", change(a, b), &mut out);
    field(
        "to_send",
        change(
            before.map(|c| Fil(c.state.to_send.clone())),
            after.map(|c| Fil(c.state.to_send.clone())),
        ),
        &mut out,
    );
    let (a, b) = get(&|c| c.state.settling_at.to_string());
    field("settling_at", change(a, b), &mut out);
    let (a, b) = get(&|c| c.state.min_settle_height.to_string());
    field("min_settle_height", change(a, b), &mut out);
    let mut lanes: Vec<u64> = before
        .iter()
        .chain(after.iter())
        .flat_map(|c| c.lanes.iter().map(|(l, _)| *l))
        .collect();
    lanes.sort_unstable();
    lanes.dedup();
    for lane in lanes {
        let (a, b) = (
            before.and_then(|c| c.lane(lane)),
            after.and_then(|c| c.lane(lane)),
        );
        if a == b {
            continue;
        }
        let show_lane = |l: Option<&paych_actor::LaneState>| match l {
            Some(l) => format!("redeemed {}, nonce {}", format_fil(&l.redeemed), l.nonce),
            None => "(none)".to_string(),
        };
        out.push(format!(
            "    lane {lane}: {} -> {}",
            show_lane(a),
            show_lane(b)
        ));
    }
    out
}

impl Render for StateDiff {
    fn text(&self) -> String {
        let mut out = vec![format!(
            "State changes from epoch {} ({}) to epoch {} ({}): {} actors",
            self.from_epoch,
            self.from_root,
            self.to_epoch,
            self.to_root,
            self.changes.len()
        )];
        for c in &self.changes {
            let id = show(&Address::new_id(c.id));
            let what = match (&c.before, &c.after) {
                (None, Some(_)) => " created",
                (Some(_), None) => " deleted",
                _ => "",
            };
            let mut parts = Vec::new();
            let side = |s: &Option<ActorSide>| s.as_ref().map(|s| Fil(s.balance.clone()));
            if let Some(t) = change(side(&c.before), side(&c.after)) {
                parts.push(format!("balance {t}"));
            }
            let nonce = |s: &Option<ActorSide>| s.as_ref().map(|s| s.nonce);
            if let Some(t) = change(nonce(&c.before), nonce(&c.after)) {
                parts.push(format!("nonce {t}"));
            }
            let state = |s: &Option<ActorSide>| s.as_ref().map(|s| s.state);
            if matches!((&c.before, &c.after), (Some(_), Some(_)))
                && state(&c.before) != state(&c.after)
            {
                parts.push("state changed".to_string());
            }
            out.push(format!("{id} ({}){what}: {}", c.actor, parts.join(", ")));
            out.extend(channel_lines(
                c.before.as_ref().and_then(|s| s.channel.as_ref()),
                c.after.as_ref().and_then(|s| s.channel.as_ref()),
            ));
        }
        out.join("\n")
    }
}

// ----- devnet export-vectors ---------------------------------------------------

impl Render for ExportedVectors {
    fn text(&self) -> String {
        let mut out = vec![format!(
            "Wrote {} test vectors (one per applied message) to {}",
            self.files.len(),
            self.dir
        )];
        out.extend(self.files.iter().map(|f| format!("  {f}")));
        out.join("\n")
    }
}
