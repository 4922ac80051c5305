//! Text and JSON renderings of the library's results. JSON amounts are
//! attoFIL decimal strings; addresses use the `t` prefix.

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::SignedVoucher;
use paych_client::amount::format_fil;
use paych_devnet::addr::show;
use paych_devnet::paych::{Phase, Status};
use paych_devnet::store::MessageRecord;
use paych_devnet::vm::exit_code_name;
use serde_json::{Value, json};

/// What a command prints: human text, or JSON with `--json`.
pub struct Output {
    pub text: String,
    pub json: Value,
}

impl Output {
    pub fn new(text: impl Into<String>, json: Value) -> Self {
        Self {
            text: text.into(),
            json,
        }
    }
}

pub fn atto(amount: &TokenAmount) -> Value {
    Value::String(amount.atto().to_string())
}

pub fn addr(a: &Address) -> Value {
    Value::String(show(a))
}

pub fn opt_addr(a: &Option<Address>) -> Value {
    a.as_ref().map(addr).unwrap_or(Value::Null)
}

pub fn method_name(to: &Address, method: u64) -> &'static str {
    match (to.id().ok(), method) {
        (_, 0) => "Send",
        (Some(1), 2) => "Exec",
        (_, 2) => "UpdateChannelState",
        (_, 3) => "Settle",
        (_, 4) => "Collect",
        _ => "Other",
    }
}

pub fn message_json(m: &MessageRecord) -> Value {
    json!({
        "cid": m.cid.to_string(),
        "epoch": m.epoch,
        "from": addr(&m.message.from),
        "to": addr(&m.message.to),
        "nonce": m.message.sequence,
        "method": m.message.method_num,
        "method_name": method_name(&m.message.to, m.message.method_num),
        "value": atto(&m.message.value),
        "exit_code": m.exit_code,
        "gas_limit": m.message.gas_limit,
        "gas_used": m.gas_used,
        "gas_fee_cap": atto(&m.message.gas_fee_cap),
        "gas_premium": atto(&m.message.gas_premium),
        "base_fee_burn": atto(&m.base_fee_burn),
        "over_estimation_burn": atto(&m.over_estimation_burn),
        "miner_tip": atto(&m.miner_tip),
        "refund": atto(&m.refund),
        "fee": atto(&m.fee()),
        "state_root": m.state_root.to_string(),
    })
}

pub fn message_line(m: &MessageRecord) -> String {
    format!(
        "Message {} ({} from {}) executed at epoch {}: {}, gas used {} of {}, fee {}",
        m.cid,
        method_name(&m.message.to, m.message.method_num),
        show(&m.message.from),
        m.epoch,
        exit_code_name(fvm_shared::error::ExitCode::new(m.exit_code)),
        m.gas_used,
        m.message.gas_limit,
        format_fil(&m.fee())
    )
}

pub fn voucher_json(sv: &SignedVoucher) -> Value {
    json!({
        "channel_addr": addr(&sv.channel_addr),
        "time_lock_min": sv.time_lock_min,
        "time_lock_max": sv.time_lock_max,
        "secret_hash": hex(&sv.secret_pre_image),
        "extra": sv.extra.as_ref().map(|e| json!({
            "actor": addr(&e.actor),
            "method": e.method,
            "data": hex(e.data.bytes()),
        })),
        "lane": sv.lane,
        "nonce": sv.nonce,
        "amount": atto(&sv.amount),
        "min_settle_height": sv.min_settle_height,
        "merges": sv.merges.iter().map(|m| json!({"lane": m.lane, "nonce": m.nonce})).collect::<Vec<_>>(),
        "signature": sv.signature.as_ref().map(|s| json!({
            "type": match s.sig_type {
                fvm_shared::crypto::signature::SignatureType::Secp256k1 => "secp256k1",
                fvm_shared::crypto::signature::SignatureType::BLS => "bls",
            },
            "data": hex(&s.bytes),
        })),
        "text": paych_client::voucher::encode(sv),
    })
}

/// Lotus's voucher line: `Lane L, Nonce N: X FIL`.
pub fn voucher_line(sv: &SignedVoucher) -> String {
    format!(
        "Lane {}, Nonce {}: {}",
        sv.lane,
        sv.nonce,
        format_fil(&sv.amount)
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn phase_json(phase: &Phase) -> Value {
    match phase {
        Phase::Open => json!({"state": "open"}),
        Phase::Settling { settling_at } => json!({"state": "settling", "settling_at": settling_at}),
        Phase::Settled { settling_at } => json!({"state": "settled", "settling_at": settling_at}),
        Phase::Collected { epoch } => json!({"state": "collected", "collected_epoch": epoch}),
    }
}

pub fn phase_line(phase: &Phase, head: i64) -> String {
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

fn role(in_wallet: bool) -> &'static str {
    if in_wallet {
        " (key in this wallet)"
    } else {
        ""
    }
}

pub fn status_json(s: &Status) -> Value {
    json!({
        "channel": addr(&s.channel),
        "id": addr(&Address::new_id(s.id)),
        "from": opt_addr(&s.from),
        "to": opt_addr(&s.to),
        "payer_in_wallet": s.payer_in_wallet,
        "payee_in_wallet": s.payee_in_wallet,
        "status": phase_json(&s.phase),
        "head": s.head,
        "confirmed_amount": atto(&s.balance),
        "balance": atto(&s.balance),
        "available_amount": atto(&s.available),
        "voucher_redeemed_amount": atto(&s.voucher_redeemed),
        "to_send": atto(&s.to_send),
        "pending_amount": "0",
        "pending_available_amount": "0",
        "queued_amount": "0",
        "vouchers": s.vouchers,
        "lanes": s.lanes,
        "created_epoch": s.created_epoch,
    })
}

pub fn status_text(s: &Status) -> String {
    let show_opt = |a: &Option<Address>| a.as_ref().map(show).unwrap_or_else(|| "?".into());
    let direction = match (s.payer_in_wallet, s.payee_in_wallet) {
        (true, true) => "both parties' keys are in this wallet",
        (true, false) => "outbound (this wallet pays)",
        (false, true) => "inbound (this wallet is paid)",
        (false, false) => "neither party's key is in this wallet",
    };
    [
        format!(
            "Channel: {} ({})",
            show(&s.channel),
            show(&Address::new_id(s.id))
        ),
        format!("Status: {}", phase_line(&s.phase, s.head)),
        format!("Direction: {direction}"),
        format!("From: {}{}", show_opt(&s.from), role(s.payer_in_wallet)),
        format!("To: {}{}", show_opt(&s.to), role(s.payee_in_wallet)),
        format!("Confirmed Amt: {}", format_fil(&s.balance)),
        format!("Available Amt: {}", format_fil(&s.available)),
        format!("Voucher Redeemed Amt: {}", format_fil(&s.voucher_redeemed)),
        format!("Redeemed On Chain: {}", format_fil(&s.to_send)),
        "Pending Amt: 0 FIL".to_string(),
        "Pending Available Amt: 0 FIL".to_string(),
        "Queued Amt: 0 FIL".to_string(),
        format!("Vouchers: {} stored, {} lane(s)", s.vouchers, s.lanes),
    ]
    .join("\n")
}
