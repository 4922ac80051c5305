//! The text form of every result: Lotus's and Venus's wording where they have
//! one, amounts in FIL, addresses with the `t` prefix.

use fvm_shared::address::Address;
use paych_actor::SignedVoucher;
use paych_chain::receipt::exit_code_name;
use paych_client::amount::format_fil;
use paych_client::voucher::encode;
use paych_devnet::Sent;
use paych_devnet::addr::show;
use paych_devnet::repo::{MessageRecord, VoucherOrigin};
use paych_manager::{
    AllocatedLane, BestSpendable, CheckedVoucher, Collected, Conditions, CreatedVoucher,
    DecodedVoucher, FundsAdded, Inspected, Phase, Settled, Spendable, Status, Submitted,
    VoucherList,
};

use crate::output::*;

/// One line for a message and its receipt.
fn message_line(m: &MessageRecord) -> String {
    format!(
        "Message {} ({} from {}) executed at epoch {}: {}, gas used {} of {}, fee {}",
        m.cid,
        m.method_name(),
        show(&m.message.from),
        m.epoch,
        exit_code_name(m.receipt.exit_code),
        m.receipt.gas_used,
        m.message.gas_limit,
        format_fil(&m.receipt.fee())
    )
}

/// Lotus's voucher line: `Lane L, Nonce N: X FIL`.
fn voucher_line(sv: &SignedVoucher) -> String {
    format!(
        "Lane {}, Nonce {}: {}",
        sv.lane,
        sv.nonce,
        format_fil(&sv.amount)
    )
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

impl Render for Sent {
    fn text(&self) -> String {
        let m = &self.message.message;
        format!(
            "Sent {} from {} to {}\n{}\n{}",
            format_fil(&m.value),
            show(&m.from),
            show(&m.to),
            message_line(&self.message),
            self.message.cid
        )
    }
}

impl Render for FundsAdded {
    fn text(&self) -> String {
        let id = show(&Address::new_id(self.id));
        let what = if self.created {
            format!(
                "Created channel {} ({id}) from {} to {} with {}",
                show(&self.channel),
                show(&self.from),
                show(&self.to),
                format_fil(&self.amount)
            )
        } else if self.reserved.is_positive() {
            format!(
                "Reserved {} for vouchers on channel {} ({id}): {} from its unreserved funds, {} sent; balance now {}",
                format_fil(&self.reserved),
                show(&self.channel),
                format_fil(&(&self.reserved - &self.sent)),
                format_fil(&self.sent),
                format_fil(&self.balance)
            )
        } else {
            format!(
                "Added {} to existing channel {} ({id}): balance now {}",
                format_fil(&self.amount),
                show(&self.channel),
                format_fil(&self.balance)
            )
        };
        let message = match &self.message {
            Some(m) => message_line(m),
            None => "No message sent: the channel's unreserved funds covered the reservation"
                .to_string(),
        };
        format!("{what}\n{message}\n{}", show(&self.channel))
    }
}

impl Render for AllocatedLane {
    fn text(&self) -> String {
        self.lane.to_string()
    }
}

impl Render for Settled {
    fn text(&self) -> String {
        format!(
            "Settled channel {}: vouchers can be submitted until epoch {}, collect from epoch {} (in {} epochs)\n{}",
            show(&self.channel),
            self.settling_at - 1,
            self.settling_at,
            self.settling_at - self.message.epoch,
            message_line(&self.message)
        )
    }
}

impl Render for Collected {
    fn text(&self) -> String {
        format!(
            "Collected funds for channel {}: paid {} to the payee {}, returned {} to the payer {}\n{}",
            show(&self.channel),
            format_fil(&self.paid_to_payee),
            show(&self.payee),
            format_fil(&self.returned_to_payer),
            show(&self.payer),
            message_line(&self.message)
        )
    }
}

fn phase_line(phase: &Phase, head: i64) -> String {
    match phase {
        Phase::Open => "Channel exists".to_string(),
        Phase::Settling { settling_at } => format!(
            "Channel settling: vouchers can be submitted until epoch {}, collect from epoch {settling_at} ({} epochs from head {head})",
            settling_at - 1,
            settling_at - head
        ),
        Phase::Settled { settling_at } => {
            format!("Channel settled at epoch {settling_at}: ready to collect")
        }
        Phase::Collected { epoch: Some(e) } => {
            format!("Channel collected at epoch {e} (actor deleted)")
        }
        Phase::Collected { epoch: None } => "Channel collected (actor deleted)".to_string(),
    }
}

impl Render for Status {
    fn text(&self) -> String {
        let show_opt = |a: &Option<Address>| a.as_ref().map(show).unwrap_or_else(|| "?".into());
        let role = |in_wallet: bool| {
            if in_wallet {
                " (key in this wallet)"
            } else {
                ""
            }
        };
        let direction = match (self.payer_in_wallet, self.payee_in_wallet) {
            (true, true) => "both parties' keys are in this wallet",
            (true, false) => "outbound (this wallet pays)",
            (false, true) => "inbound (this wallet is paid)",
            (false, false) => "neither party's key is in this wallet",
        };
        let mut lines = vec![
            format!(
                "Channel: {} ({})",
                show(&self.channel),
                show(&Address::new_id(self.id))
            ),
            format!("Status: {}", phase_line(&self.phase, self.head)),
            format!("Direction: {direction}"),
            format!(
                "From: {}{}",
                show_opt(&self.from),
                role(self.payer_in_wallet)
            ),
            format!("To: {}{}", show_opt(&self.to), role(self.payee_in_wallet)),
            format!("Balance: {}", format_fil(&self.balance)),
            format!("Confirmed Amt: {}", format_fil(&self.confirmed)),
            format!(
                "Available Amt (non-reserved): {}",
                format_fil(&self.non_reserved)
            ),
            format!(
                "Reserved Amt: {}",
                format_fil(&(&self.confirmed - &self.non_reserved))
            ),
            format!(
                "Voucher Redeemed Amt: {}",
                format_fil(&self.voucher_redeemed)
            ),
            format!("Free For New Vouchers: {}", format_fil(&self.available)),
            format!("Redeemed On Chain: {}", format_fil(&self.to_send)),
            "Pending Amt: 0 FIL".to_string(),
            "Pending Available Amt: 0 FIL".to_string(),
            "Queued Amt: 0 FIL".to_string(),
            format!("Vouchers: {} stored, {} lane(s)", self.vouchers, self.lanes),
        ];
        if self.payee_in_wallet && self.unsubmitted.is_positive() {
            lines.push(match self.deadline {
                Some(at) => format!(
                    "At Risk: {} in vouchers not yet submitted; redeem them before epoch {at} ({} epochs left)",
                    format_fil(&self.unsubmitted),
                    at - self.head - 1
                ),
                None => format!(
                    "Unsubmitted: {} in vouchers not yet redeemed on chain",
                    format_fil(&self.unsubmitted)
                ),
            });
        }
        for action in &self.settler {
            lines.push(format!("Settler: {}", action.describe()));
        }
        lines.join("\n")
    }
}

impl Render for PairStatus {
    fn text(&self) -> String {
        match &self.status {
            Some(status) => status.text(),
            None => "Channel does not exist".to_string(),
        }
    }
}

impl Render for ChannelList {
    fn text(&self) -> String {
        self.0
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
            .join("\n")
    }
}

impl Render for Inspected {
    fn text(&self) -> String {
        let id = Address::new_id(self.id);
        let Some(c) = &self.on_chain else {
            let when = self
                .collected_epoch
                .map(|e| format!(" at epoch {e}"))
                .unwrap_or_default();
            return format!(
                "Channel: {} ({})\nCollected{when}: the actor no longer exists on chain",
                show(&self.channel),
                show(&id)
            );
        };
        let head = self.head;
        let settling = match c.state.settling_at {
            0 => "not settling".to_string(),
            at if at > head => format!("{at} ({} epochs left from head {head})", at - head),
            at => format!("{at} (reached; head is {head})"),
        };
        let mut text = vec![
            format!("Channel: {} ({})", show(&self.channel), show(&id)),
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
        text.join("\n")
    }
}

impl Render for CreatedVoucher {
    fn text(&self) -> String {
        format!(
            "Voucher for {} on lane {}, nonce {} (adds {} to the lane), signed by the payer\n{}",
            format_fil(&self.voucher.amount),
            self.voucher.lane,
            self.voucher.nonce,
            format_fil(&self.delta),
            encode(&self.voucher)
        )
    }
}

fn origin_text(origin: VoucherOrigin) -> &'static str {
    match origin {
        VoucherOrigin::Created => "created here by the payer",
        VoucherOrigin::Received => "added earlier by the payee",
        VoucherOrigin::Submitted => "submitted from here",
    }
}

/// What `check` and `add` both say after their first line: which side the
/// wallet is on, and the deadline while the channel settles.
fn checked_context(c: &CheckedVoucher) -> Vec<String> {
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
    let mut lines = vec![side];
    let conditions = Conditions::of(&c.voucher);
    if !conditions.is_plain() {
        lines.push(format!("Conditions: {}.", conditions.summary()));
    }
    lines.push(format!("It is {}.", c.spendable.describe()));
    if let Some(at) = c.settling_at {
        lines.push(format!(
            "The channel is settling: submit before epoch {at}."
        ));
    }
    lines
}

fn voucher_brief(c: &CheckedVoucher) -> String {
    format!(
        "{} (lane {}, nonce {})",
        format_fil(&c.voucher.amount),
        c.voucher.lane,
        c.voucher.nonce
    )
}

impl Render for Checked {
    fn text(&self) -> String {
        let c = &self.0;
        let mut lines = vec![
            "voucher is valid".to_string(),
            format!(
                "{}: redeems {} more than the best voucher known for the lane",
                voucher_brief(c),
                format_fil(&c.delta)
            ),
        ];
        if let Some(origin) = c.already_stored {
            lines.push(format!(
                "It is already stored here ({}).",
                origin_text(origin)
            ));
        }
        lines.extend(checked_context(c));
        lines.join("\n")
    }
}

impl Render for Added {
    fn text(&self) -> String {
        let c = &self.0;
        let first = match c.already_stored {
            Some(origin) => format!(
                "Voucher {} is already stored ({}): nothing changed",
                voucher_brief(c),
                origin_text(origin)
            ),
            None => format!(
                "add voucher successfully: {}, worth {} more than the best voucher known for the lane",
                voucher_brief(c),
                format_fil(&c.delta)
            ),
        };
        let mut lines = vec![first];
        lines.extend(checked_context(c));
        lines.join("\n")
    }
}

impl Render for Listing<VoucherList> {
    fn text(&self) -> String {
        self.result
            .vouchers
            .iter()
            .map(|r| {
                let mut line = voucher_line(&r.voucher);
                let conditions = Conditions::of(&r.voucher);
                if !conditions.is_plain() {
                    line.push_str(&format!(" [{}]", conditions.summary()));
                }
                if r.submitted {
                    line.push_str(" (submitted)");
                }
                if self.export {
                    line.push_str(&format!("; {}", encode(&r.voucher)));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Render for Listing<BestSpendable> {
    fn text(&self) -> String {
        let best = &self.result;
        let mut lines: Vec<String> = best
            .vouchers
            .iter()
            .zip(&best.secrets)
            .map(|(v, secret)| {
                let mut line = voucher_line(v);
                if let Some(secret) = secret {
                    line.push_str(&format!(" (with secret {})", hex(secret)));
                }
                if self.export {
                    line.push_str(&format!("; {}", encode(v)));
                }
                line
            })
            .collect();
        if best.vouchers.is_empty() {
            lines.push("No spendable vouchers".to_string());
        }
        for p in &best.later {
            let mut line = format!(
                "Later: {}, {}",
                voucher_line(&p.voucher),
                Spendable::Later(p.waiting.clone()).describe()
            );
            if self.export {
                line.push_str(&format!("; {}", encode(&p.voucher)));
            }
            lines.push(line);
        }
        for s in &best.skipped {
            lines.push(format!(
                "(skipped {}: {})",
                voucher_line(&s.voucher),
                s.reason
            ));
        }
        lines.join("\n")
    }
}

impl Render for Submitted {
    fn text(&self) -> String {
        format!(
            "channel updated successfully: {} redeemed on lane {} (nonce {}); the channel now owes the payee {}\n{}",
            format_fil(&self.voucher.amount),
            self.voucher.lane,
            self.voucher.nonce,
            format_fil(&self.to_send),
            message_line(&self.message)
        )
    }
}

impl Render for DecodedVoucher {
    fn text(&self) -> String {
        let sv = &self.voucher;
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
        lines.push(match (&sv.signature, &self.signer) {
            (None, _) => "Signature: none".to_string(),
            (Some(_), Some(s)) => format!("Signature: secp256k1, by {} (recovered)", show(s)),
            (Some(sig), None) => {
                format!("Signature: {:?}, {} bytes", sig.sig_type, sig.bytes.len())
            }
        });
        lines.join("\n")
    }
}

impl Render for Messages {
    fn text(&self) -> String {
        if self.0.is_empty() {
            return "No messages applied yet".to_string();
        }
        self.0
            .iter()
            .map(|m| format!("#{} {}", m.seq, message_line(m)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Render for ChainHead {
    fn text(&self) -> String {
        format!(
            "Epoch: {}\nState root: {}\nTimestamp: {} (UNIX seconds)\nMessages applied: {}",
            self.head.epoch, self.head.state_root, self.timestamp, self.messages
        )
    }
}

impl Render for Advanced {
    fn text(&self) -> String {
        format!(
            "Advanced {} epochs: head is now epoch {}",
            self.epochs, self.head.epoch
        )
    }
}

impl Render for Initialized {
    fn text(&self) -> String {
        let mut text = vec![
            format!(
                "Initialized a devnet repo at {} (network version {}, {}, base fee {} attoFIL)",
                self.repo,
                self.network_version,
                self.bundle,
                self.base_fee.atto()
            ),
            format!("Genesis state root: {}", self.state_root),
        ];
        for w in &self.wallets {
            let mark = if w.default { " (default)" } else { "" };
            text.push(format!(
                "  {} {}{mark}",
                show(&w.address),
                format_fil(&w.balance)
            ));
        }
        text.join("\n")
    }
}

impl Render for DevnetInfo {
    fn text(&self) -> String {
        [
            format!("Repo: {}", self.repo),
            format!("Bundle: {}", self.bundle),
            format!("Manifest: {}", self.manifest),
            format!(
                "Payment channel code: {}",
                self.paych_code.map(|c| c.to_string()).unwrap_or_default()
            ),
            format!("Network version: {}", self.network_version),
            format!(
                "Base fee: {} attoFIL (fixed; gas premium 0)",
                self.base_fee.atto()
            ),
            format!("Genesis state root: {}", self.genesis_root),
            format!("Total supply: {}", format_fil(&self.total_supply)),
            format!(
                "Head: epoch {}, state root {}",
                self.head.epoch, self.head.state_root
            ),
        ]
        .join("\n")
    }
}

impl Render for RepoVerified {
    fn text(&self) -> String {
        let v = &self.chain;
        format!(
            "Repo OK: SQLite integrity ok; head epoch {} at state root {} matches the last of {} receipts; \
             {} actors hold {} = the genesis supply; {} tracked channels agree with the chain",
            v.head.epoch,
            v.head.state_root,
            v.messages,
            v.actors,
            format_fil(&v.total_balance),
            self.channels
        )
    }
}

impl Render for WalletList {
    fn text(&self) -> String {
        let rows: Vec<[String; 5]> = self
            .0
            .iter()
            .map(|w| {
                [
                    show(&w.address),
                    w.id.map(|id| show(&Address::new_id(id)))
                        .unwrap_or_default(),
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
        [&header]
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
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Render for Balance {
    fn text(&self) -> String {
        format_fil(&self.balance)
    }
}

impl Render for Imported {
    fn text(&self) -> String {
        let note = if self.added {
            "successfully"
        } else {
            "(it was already in the wallet)"
        };
        format!("imported key {} {note}", show(&self.address))
    }
}

impl Render for ExportedKey {
    fn text(&self) -> String {
        self.key.clone()
    }
}

impl Render for WalletAddress {
    fn text(&self) -> String {
        if self.made_default {
            format!("default address set to {}", show(&self.address))
        } else {
            show(&self.address)
        }
    }
}

impl Render for LotusStatus {
    fn text(&self) -> String {
        serde_json::to_string_pretty(self).expect("results always serialize to JSON")
    }
}
