//! The manager's results as JSON (what `paych --json` prints): addresses in
//! their `t` form, amounts as decimal attoFIL strings, vouchers both decoded
//! and in Lotus's text form. Results whose JSON is their fields derive
//! `Serialize`; these are the ones whose JSON adds what follows from them
//! (a voucher's text, a phase's name).

use fvm_shared::address::Address;
use paych_actor::SignedVoucher;
use paych_client::voucher;
use paych_devnet::json::{self, Addr, Atto};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::channel::Phase;
use crate::conditions::{Conditions, Spendable, Waiting};
use crate::status::{Inspected, Status};
use crate::vouchers::{
    AllocatedLane, BestSpendable, CheckedVoucher, CreatedVoucher, DecodedVoucher, Submitted,
    VoucherList,
};

type Out<S> = std::result::Result<<S as Serializer>::Ok, <S as Serializer>::Error>;

/// A voucher as JSON: every field decoded, plus its Lotus text form.
pub struct VoucherJson<'a>(pub &'a SignedVoucher);

impl Serialize for VoucherJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let sv = self.0;
        let hex = |b: &[u8]| data_encoding::HEXLOWER.encode(b);
        #[derive(Serialize)]
        struct Extra<'a> {
            #[serde(serialize_with = "json::address")]
            actor: &'a Address,
            method: u64,
            data: String,
        }
        #[derive(Serialize)]
        struct Merge {
            lane: u64,
            nonce: u64,
        }
        #[derive(Serialize)]
        struct Signature {
            #[serde(rename = "type")]
            kind: &'static str,
            data: String,
        }
        let mut out = s.serialize_struct("Voucher", 12)?;
        out.serialize_field("channel_addr", &Addr(&sv.channel_addr))?;
        out.serialize_field("time_lock_min", &sv.time_lock_min)?;
        out.serialize_field("time_lock_max", &sv.time_lock_max)?;
        out.serialize_field("secret_hash", &hex(&sv.secret_pre_image))?;
        out.serialize_field(
            "extra",
            &sv.extra.as_ref().map(|e| Extra {
                actor: &e.actor,
                method: e.method,
                data: hex(e.data.bytes()),
            }),
        )?;
        out.serialize_field("lane", &sv.lane)?;
        out.serialize_field("nonce", &sv.nonce)?;
        out.serialize_field("amount", &Atto(&sv.amount))?;
        out.serialize_field("min_settle_height", &sv.min_settle_height)?;
        let merges: Vec<Merge> = sv
            .merges
            .iter()
            .map(|m| Merge {
                lane: m.lane,
                nonce: m.nonce,
            })
            .collect();
        out.serialize_field("merges", &merges)?;
        out.serialize_field(
            "signature",
            &sv.signature.as_ref().map(|s| Signature {
                kind: match s.sig_type {
                    fvm_shared::crypto::signature::SignatureType::Secp256k1 => "secp256k1",
                    fvm_shared::crypto::signature::SignatureType::BLS => "bls",
                },
                data: hex(&s.bytes),
            }),
        )?;
        out.serialize_field("conditions", &Conditions::of(sv).summary())?;
        out.serialize_field("text", &voucher::encode(sv))?;
        out.end()
    }
}

/// Whether a voucher is spendable now, and if not what it waits for.
impl Serialize for Spendable {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let waiting: &[Waiting] = match self {
            Spendable::Later(waiting) => waiting,
            _ => &[],
        };
        let mut out = s.serialize_struct("Spendable", 4)?;
        out.serialize_field("now", &self.is_now())?;
        out.serialize_field("waiting", waiting)?;
        out.serialize_field(
            "expired_after",
            &match self {
                Spendable::Expired { at } => Some(*at),
                _ => None,
            },
        )?;
        out.serialize_field("reason", &self.describe())?;
        out.end()
    }
}

impl Serialize for AllocatedLane {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let mut out = s.serialize_struct("AllocatedLane", 2)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("lane", &self.lane)?;
        out.end()
    }
}

/// A voucher in brief, as lists show it.
#[derive(Serialize)]
struct VoucherLine<'a> {
    lane: u64,
    nonce: u64,
    #[serde(serialize_with = "json::atto")]
    amount: &'a fvm_shared::econ::TokenAmount,
}

impl<'a> VoucherLine<'a> {
    fn of(sv: &'a SignedVoucher) -> Self {
        Self {
            lane: sv.lane,
            nonce: sv.nonce,
            amount: &sv.amount,
        }
    }
}

impl Serialize for CreatedVoucher {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let mut out = s.serialize_struct("CreatedVoucher", 4)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("voucher", &voucher::encode(&self.voucher))?;
        out.serialize_field("delta", &Atto(&self.delta))?;
        out.serialize_field("decoded", &VoucherJson(&self.voucher))?;
        out.end()
    }
}

impl Serialize for CheckedVoucher {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let mut out = s.serialize_struct("CheckedVoucher", 12)?;
        out.serialize_field("valid", &true)?;
        out.serialize_field("added", &self.added)?;
        out.serialize_field("already_stored", &self.already_stored.map(|o| o.name()))?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("delta", &Atto(&self.delta))?;
        out.serialize_field("payee", &Addr(&self.payee))?;
        out.serialize_field("payer", &Addr(&self.payer))?;
        out.serialize_field("payee_in_wallet", &self.payee_in_wallet)?;
        out.serialize_field("payer_in_wallet", &self.payer_in_wallet)?;
        out.serialize_field("settling_at", &self.settling_at)?;
        out.serialize_field("spendable", &self.spendable)?;
        out.serialize_field("voucher", &VoucherJson(&self.voucher))?;
        out.end()
    }
}

impl Serialize for VoucherList {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        #[derive(Serialize)]
        struct Stored<'a> {
            #[serde(flatten)]
            line: VoucherLine<'a>,
            origin: &'static str,
            submitted: bool,
            conditions: String,
            voucher: String,
        }
        let vouchers: Vec<Stored> = self
            .vouchers
            .iter()
            .map(|r| Stored {
                line: VoucherLine::of(&r.voucher),
                origin: r.origin.name(),
                submitted: r.submitted,
                conditions: Conditions::of(&r.voucher).summary(),
                voucher: voucher::encode(&r.voucher),
            })
            .collect();
        let mut out = s.serialize_struct("VoucherList", 2)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("vouchers", &vouchers)?;
        out.end()
    }
}

impl Serialize for BestSpendable {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        #[derive(Serialize)]
        struct Best<'a> {
            #[serde(flatten)]
            line: VoucherLine<'a>,
            voucher: String,
            /// The secret to submit it with, hex.
            secret: Option<String>,
        }
        #[derive(Serialize)]
        struct Later<'a> {
            #[serde(flatten)]
            line: VoucherLine<'a>,
            voucher: String,
            waiting: &'a [Waiting],
        }
        #[derive(Serialize)]
        struct Skip<'a> {
            #[serde(flatten)]
            line: VoucherLine<'a>,
            reason: &'a str,
        }
        let best: Vec<Best> = self
            .vouchers
            .iter()
            .zip(&self.secrets)
            .map(|(v, secret)| Best {
                line: VoucherLine::of(v),
                voucher: voucher::encode(v),
                secret: secret.as_deref().map(|s| data_encoding::HEXLOWER.encode(s)),
            })
            .collect();
        let later: Vec<Later> = self
            .later
            .iter()
            .map(|p| Later {
                line: VoucherLine::of(&p.voucher),
                voucher: voucher::encode(&p.voucher),
                waiting: &p.waiting,
            })
            .collect();
        let skipped: Vec<Skip> = self
            .skipped
            .iter()
            .map(|k| Skip {
                line: VoucherLine::of(&k.voucher),
                reason: &k.reason,
            })
            .collect();
        let mut out = s.serialize_struct("BestSpendable", 4)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("vouchers", &best)?;
        out.serialize_field("later", &later)?;
        out.serialize_field("skipped", &skipped)?;
        out.end()
    }
}

impl Serialize for Submitted {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let mut out = s.serialize_struct("Submitted", 5)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("to_send", &Atto(&self.to_send))?;
        out.serialize_field("marked_submitted", &self.marked)?;
        out.serialize_field("voucher", &VoucherJson(&self.voucher))?;
        out.serialize_field("message", &self.message)?;
        out.end()
    }
}

impl Serialize for DecodedVoucher {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        #[derive(Serialize)]
        struct Decoded<'a> {
            #[serde(flatten)]
            voucher: VoucherJson<'a>,
            #[serde(serialize_with = "json::opt_address")]
            signer: &'a Option<Address>,
        }
        Decoded {
            voucher: VoucherJson(&self.voucher),
            signer: &self.signer,
        }
        .serialize(s)
    }
}

impl Serialize for Phase {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let mut out = s.serialize_struct("Phase", 2)?;
        match self {
            Phase::Open => out.serialize_field("state", "open")?,
            Phase::Settling { settling_at } => {
                out.serialize_field("state", "settling")?;
                out.serialize_field("settling_at", settling_at)?;
            }
            Phase::Settled { settling_at } => {
                out.serialize_field("state", "settled")?;
                out.serialize_field("settling_at", settling_at)?;
            }
            Phase::Collected { epoch } => {
                out.serialize_field("state", "collected")?;
                out.serialize_field("collected_epoch", epoch)?;
            }
        }
        out.end()
    }
}

/// Status: Lotus's amounts (confirmed, non-reserved, voucher-redeemed; this
/// devnet applies messages as they are sent, so nothing is ever pending or
/// queued), what new vouchers can still promise, and what the chain says.
impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let zero = fvm_shared::econ::TokenAmount::default();
        let mut out = s.serialize_struct("Status", 23)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("id", &Addr(&Address::new_id(self.id)))?;
        out.serialize_field("from", &self.from.as_ref().map(Addr))?;
        out.serialize_field("to", &self.to.as_ref().map(Addr))?;
        out.serialize_field("payer_in_wallet", &self.payer_in_wallet)?;
        out.serialize_field("payee_in_wallet", &self.payee_in_wallet)?;
        out.serialize_field("status", &self.phase)?;
        out.serialize_field("head", &self.head)?;
        out.serialize_field("confirmed_amount", &Atto(&self.confirmed))?;
        out.serialize_field("non_reserved_amount", &Atto(&self.non_reserved))?;
        out.serialize_field("balance", &Atto(&self.balance))?;
        out.serialize_field("available_amount", &Atto(&self.available))?;
        out.serialize_field("voucher_redeemed_amount", &Atto(&self.voucher_redeemed))?;
        out.serialize_field("to_send", &Atto(&self.to_send))?;
        out.serialize_field("pending_amount", &Atto(&zero))?;
        out.serialize_field("pending_available_amount", &Atto(&zero))?;
        out.serialize_field("queued_amount", &Atto(&zero))?;
        out.serialize_field("vouchers", &self.vouchers)?;
        out.serialize_field("lanes", &self.lanes)?;
        out.serialize_field("created_epoch", &self.created_epoch)?;
        out.serialize_field("unsubmitted_amount", &Atto(&self.unsubmitted))?;
        out.serialize_field("redeem_deadline", &self.deadline)?;
        out.serialize_field("settler", &SettlerActions(&self.settler))?;
        out.end()
    }
}

/// What the settler did, one entry per voucher it tried.
struct SettlerActions<'a>(&'a [paych_devnet::repo::SettlerAction]);

impl Serialize for SettlerActions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for a in self.0 {
            seq.serialize_element(&serde_json::json!({
                "epoch": a.epoch,
                "settling_at": a.settling_at,
                "lane": a.lane,
                "nonce": a.nonce,
                "amount": a.amount.atto().to_string(),
                "message": a.message.map(|c| c.to_string()),
                "failure": a.failure,
            }))?;
        }
        seq.end()
    }
}

impl Serialize for Inspected {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let id = Address::new_id(self.id);
        let Some(c) = &self.on_chain else {
            let mut out = s.serialize_struct("Inspected", 4)?;
            out.serialize_field("channel", &Addr(&self.channel))?;
            out.serialize_field("id", &Addr(&id))?;
            out.serialize_field("exists", &false)?;
            out.serialize_field("collected_epoch", &self.collected_epoch)?;
            return out.end();
        };
        let settling_at = c.state.settling_at;
        let epochs_left = (settling_at != 0).then(|| (settling_at - self.head).max(0));
        let mut out = s.serialize_struct("Inspected", 15)?;
        out.serialize_field("channel", &Addr(&self.channel))?;
        out.serialize_field("id", &Addr(&id))?;
        out.serialize_field("exists", &true)?;
        out.serialize_field("head", &self.head)?;
        out.serialize_field("from", &Addr(&c.from))?;
        out.serialize_field("from_id", &Addr(&Address::new_id(c.from_id)))?;
        out.serialize_field("to", &Addr(&c.to))?;
        out.serialize_field("to_id", &Addr(&Address::new_id(c.to_id)))?;
        out.serialize_field("balance", &Atto(&c.balance))?;
        out.serialize_field("to_send", &Atto(&c.state.to_send))?;
        out.serialize_field("settling_at", &settling_at)?;
        out.serialize_field("epochs_left", &epochs_left)?;
        out.serialize_field("min_settle_height", &c.state.min_settle_height)?;
        out.serialize_field("lanes", &json::Lanes(&c.lanes))?;
        out.end()
    }
}

/// A channel's funds exactly as Lotus's API shapes them
/// (`ChannelAvailableFunds`, field names and the misspelled
/// `VoucherReedeemedAmt` included): what `PaychAvailableFunds` returns and
/// `paych status --lotus-json` prints.
pub struct LotusAvailableFunds<'a>(pub &'a Status);

impl Serialize for LotusAvailableFunds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Out<S> {
        let status = self.0;
        let zero = fvm_shared::econ::TokenAmount::default();
        let mut out = s.serialize_struct("ChannelAvailableFunds", 12)?;
        out.serialize_field("Channel", &Addr(&status.channel))?;
        out.serialize_field("From", &status.from.as_ref().map(Addr))?;
        out.serialize_field("To", &status.to.as_ref().map(Addr))?;
        out.serialize_field("ConfirmedAmt", &Atto(&status.confirmed))?;
        out.serialize_field("PendingAmt", &Atto(&zero))?;
        out.serialize_field("NonReservedAmt", &Atto(&status.non_reserved))?;
        out.serialize_field("PendingAvailableAmt", &Atto(&zero))?;
        out.serialize_field("PendingWaitSentinel", &None::<()>)?;
        out.serialize_field("QueuedAmt", &Atto(&zero))?;
        out.serialize_field("VoucherReedeemedAmt", &Atto(&status.voucher_redeemed))?;
        // Beyond Lotus's shape (clients ignore unknown keys): the payee's
        // value at stake in a settle, and the epoch it must be redeemed by.
        out.serialize_field("UnsubmittedAmt", &Atto(&status.unsubmitted))?;
        out.serialize_field("RedeemDeadline", &status.deadline)?;
        out.end()
    }
}
