//! Lotus's JSON shapes, kept apart from the internal types: addresses as
//! strings, big integers as decimal strings (a JSON number is refused), CIDs
//! as `{"/": "..."}`, byte strings as standard base64, Go field names.
//!
//! Input is decoded the way Go's `encoding/json` decodes it: object keys
//! match field names case-insensitively, unknown keys are ignored and
//! missing ones take the zero value.

use cid::Cid;
use data_encoding::BASE64;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::bigint::BigInt;
use fvm_shared::crypto::signature::{Signature, SignatureType};
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use paych_actor::{Merge, ModVerifyParams, SignedVoucher};
use paych_chain::SignedMessage;
use serde_json::{Map, Value, json};

/// Why a parameter did not decode.
pub type DecodeError = String;

/// A value read from Lotus's JSON.
pub trait FromLotus: Sized {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError>;
}

/// A value written as Lotus's JSON.
pub trait ToLotus {
    fn to_lotus(&self) -> Value;
}

/// An object's fields by lower-cased name, as Go matches them.
pub struct Fields(Map<String, Value>);

impl Fields {
    pub fn of(v: &Value, what: &str) -> Result<Self, DecodeError> {
        match v {
            Value::Object(map) => Ok(Self(
                map.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
            )),
            Value::Null => Ok(Self(Map::new())),
            other => Err(format!("{what}: expected an object, got {other}")),
        }
    }

    /// The field, or the zero value when it is missing or null.
    pub fn get<T: FromLotus + Default>(&self, name: &str) -> Result<T, DecodeError> {
        match self.0.get(&name.to_ascii_lowercase()) {
            None | Some(Value::Null) => Ok(T::default()),
            Some(v) => T::from_lotus(v).map_err(|e| format!("{name}: {e}")),
        }
    }

    /// An optional field (a Go pointer): `None` when missing or null.
    pub fn opt<T: FromLotus>(&self, name: &str) -> Result<Option<T>, DecodeError> {
        match self.0.get(&name.to_ascii_lowercase()) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::from_lotus(v)
                .map(Some)
                .map_err(|e| format!("{name}: {e}")),
        }
    }
}

impl FromLotus for Address {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let text = v
            .as_str()
            .ok_or_else(|| format!("expected an address string, got {v}"))?;
        if text.is_empty() || text == "<empty>" {
            return Err("the undefined address".to_string());
        }
        paych_client::address::parse(text).map_err(|e| e.to_string())
    }
}

impl ToLotus for Address {
    fn to_lotus(&self) -> Value {
        Value::String(paych_client::address::testnet(self))
    }
}

/// `types.BigInt`: a decimal string; a JSON number is refused, as Lotus's
/// decoder refuses it.
impl FromLotus for BigInt {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let text = v
            .as_str()
            .ok_or_else(|| format!("a big integer is a decimal string, got {v}"))?;
        text.parse()
            .map_err(|_| format!("{text:?} is not a decimal integer"))
    }
}

impl FromLotus for TokenAmount {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        BigInt::from_lotus(v).map(TokenAmount::from_atto)
    }
}

impl ToLotus for TokenAmount {
    fn to_lotus(&self) -> Value {
        Value::String(self.atto().to_string())
    }
}

impl FromLotus for Cid {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let text = v
            .get("/")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("a CID is {{\"/\": \"...\"}}, got {v}"))?;
        text.parse()
            .map_err(|e| format!("{text:?} is not a CID: {e}"))
    }
}

impl ToLotus for Cid {
    fn to_lotus(&self) -> Value {
        json!({ "/": self.to_string() })
    }
}

impl<T: ToLotus> ToLotus for Option<T> {
    fn to_lotus(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToLotus::to_lotus)
    }
}

impl<T: ToLotus> ToLotus for Vec<T> {
    fn to_lotus(&self) -> Value {
        Value::Array(self.iter().map(ToLotus::to_lotus).collect())
    }
}

impl<T: FromLotus> FromLotus for Vec<T> {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.iter().map(T::from_lotus).collect(),
            other => Err(format!("expected an array, got {other}")),
        }
    }
}

/// Go `[]byte`: standard base64 with padding; `null` for none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bytes(pub Vec<u8>);

impl FromLotus for Bytes {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::Null => Ok(Self::default()),
            Value::String(text) => BASE64
                .decode(text.as_bytes())
                .map(Self)
                .map_err(|e| format!("not base64: {e}")),
            other => Err(format!("bytes are a base64 string, got {other}")),
        }
    }
}

impl ToLotus for Bytes {
    fn to_lotus(&self) -> Value {
        Value::String(BASE64.encode(&self.0))
    }
}

/// Bytes that Go writes as `null` when empty (a nil slice).
pub fn bytes_or_null(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        Value::String(BASE64.encode(bytes))
    }
}

macro_rules! lotus_number {
    ($($t:ty),*) => {$(
        impl FromLotus for $t {
            fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
                serde_json::from_value(v.clone()).map_err(|e| e.to_string())
            }
        }
    )*};
}
lotus_number!(u64, i64, bool, String);

impl FromLotus for Signature {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "Signature")?;
        let sig_type = match f.get::<u64>("Type")? {
            1 => SignatureType::Secp256k1,
            2 => SignatureType::BLS,
            other => return Err(format!("unsupported signature type {other}")),
        };
        Ok(Signature {
            sig_type,
            bytes: f.get::<Bytes>("Data")?.0,
        })
    }
}

impl ToLotus for Signature {
    fn to_lotus(&self) -> Value {
        let kind = match self.sig_type {
            SignatureType::Secp256k1 => 1,
            SignatureType::BLS => 2,
        };
        json!({ "Type": kind, "Data": BASE64.encode(&self.bytes) })
    }
}

impl FromLotus for Message {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "Message")?;
        Ok(Message {
            version: f.get("Version")?,
            to: f.opt("To")?.ok_or("To: missing")?,
            from: f.opt("From")?.ok_or("From: missing")?,
            sequence: f.get("Nonce")?,
            value: f.get("Value")?,
            method_num: f.get("Method")?,
            params: RawBytes::new(f.get::<Bytes>("Params")?.0),
            gas_limit: f.get("GasLimit")?,
            gas_fee_cap: f.get("GasFeeCap")?,
            gas_premium: f.get("GasPremium")?,
        })
    }
}

impl ToLotus for Message {
    fn to_lotus(&self) -> Value {
        json!({
            "Version": self.version,
            "To": self.to.to_lotus(),
            "From": self.from.to_lotus(),
            "Nonce": self.sequence,
            "Value": self.value.to_lotus(),
            "GasLimit": self.gas_limit,
            "GasFeeCap": self.gas_fee_cap.to_lotus(),
            "GasPremium": self.gas_premium.to_lotus(),
            "Method": self.method_num,
            "Params": bytes_or_null(self.params.bytes()),
            "CID": paych_chain::message::message_cid(self).to_lotus(),
        })
    }
}

impl FromLotus for SignedMessage {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "SignedMessage")?;
        Ok(SignedMessage {
            message: f.opt("Message")?.ok_or("Message: missing")?,
            signature: f.opt("Signature")?.ok_or("Signature: missing")?,
        })
    }
}

impl ToLotus for SignedMessage {
    fn to_lotus(&self) -> Value {
        json!({
            "Message": self.message.to_lotus(),
            "Signature": self.signature.to_lotus(),
            "CID": self.cid().to_lotus(),
        })
    }
}

impl FromLotus for ModVerifyParams {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "ModVerifyParams")?;
        Ok(ModVerifyParams {
            actor: f.opt("Actor")?.ok_or("Actor: missing")?,
            method: f.get("Method")?,
            data: RawBytes::new(f.get::<Bytes>("Data")?.0),
        })
    }
}

impl ToLotus for ModVerifyParams {
    fn to_lotus(&self) -> Value {
        json!({
            "Actor": self.actor.to_lotus(),
            "Method": self.method,
            "Data": bytes_or_null(self.data.bytes()),
        })
    }
}

impl FromLotus for Merge {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "Merge")?;
        Ok(Merge {
            lane: f.get("Lane")?,
            nonce: f.get("Nonce")?,
        })
    }
}

impl FromLotus for SignedVoucher {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(v, "SignedVoucher")?;
        Ok(SignedVoucher {
            channel_addr: f.opt("ChannelAddr")?.ok_or("ChannelAddr: missing")?,
            time_lock_min: f.get("TimeLockMin")?,
            time_lock_max: f.get("TimeLockMax")?,
            secret_pre_image: f.get::<Bytes>("SecretHash")?.0,
            extra: f.opt("Extra")?,
            lane: f.get("Lane")?,
            nonce: f.get("Nonce")?,
            amount: f.get("Amount")?,
            min_settle_height: f.get("MinSettleHeight")?,
            merges: f.get("Merges")?,
            signature: f.opt("Signature")?,
        })
    }
}

impl ToLotus for SignedVoucher {
    fn to_lotus(&self) -> Value {
        let merges = if self.merges.is_empty() {
            Value::Null
        } else {
            self.merges
                .iter()
                .map(|m| json!({ "Lane": m.lane, "Nonce": m.nonce }))
                .collect()
        };
        json!({
            "ChannelAddr": self.channel_addr.to_lotus(),
            "TimeLockMin": self.time_lock_min,
            "TimeLockMax": self.time_lock_max,
            "SecretHash": bytes_or_null(&self.secret_pre_image),
            "Extra": self.extra.to_lotus(),
            "Lane": self.lane,
            "Nonce": self.nonce,
            "Amount": self.amount.to_lotus(),
            "MinSettleHeight": self.min_settle_height,
            "Merges": merges,
            "Signature": self.signature.to_lotus(),
        })
    }
}

/// Any JSON, as is (a parameter passed through).
impl FromLotus for Value {
    fn from_lotus(v: &Value) -> Result<Self, DecodeError> {
        Ok(v.clone())
    }
}

impl ToLotus for u64 {
    fn to_lotus(&self) -> Value {
        json!(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_are_strings_and_numbers_are_refused() {
        assert_eq!(
            TokenAmount::from_lotus(&json!("1000")).unwrap(),
            TokenAmount::from_atto(1000)
        );
        assert!(TokenAmount::from_lotus(&json!(1000)).is_err());
        assert_eq!(TokenAmount::from_atto(7).to_lotus(), json!("7"));
    }

    #[test]
    fn fields_match_case_insensitively_and_missing_ones_are_zero() {
        let v = json!({
            "channeladdr": "t0100", "LANE": 3, "nonce": 2, "Amount": "9", "unknown": true
        });
        let sv = SignedVoucher::from_lotus(&v).unwrap();
        assert_eq!((sv.lane, sv.nonce), (3, 2));
        assert_eq!(sv.amount, TokenAmount::from_atto(9));
        assert_eq!(sv.time_lock_min, 0);
        assert!(sv.merges.is_empty() && sv.signature.is_none() && sv.extra.is_none());
        assert_eq!(SignedVoucher::from_lotus(&sv.to_lotus()).unwrap(), sv);
    }

    #[test]
    fn a_fresh_voucher_writes_nil_slices_as_null() {
        let sv = SignedVoucher::new(Address::new_id(100), 0, 1, TokenAmount::from_atto(5));
        let v = sv.to_lotus();
        assert_eq!(v["Merges"], Value::Null);
        assert_eq!(v["SecretHash"], Value::Null);
        assert_eq!(v["Signature"], Value::Null);
        assert_eq!(v["ChannelAddr"], "t0100");
    }

    #[test]
    fn messages_carry_their_cid_out_and_ignore_it_in() {
        let m = Message {
            version: 0,
            from: Address::new_id(1000),
            to: Address::new_id(1001),
            sequence: 4,
            value: TokenAmount::from_atto(3),
            method_num: 2,
            params: RawBytes::new(vec![1, 2]),
            gas_limit: 9,
            gas_fee_cap: TokenAmount::from_atto(100),
            gas_premium: TokenAmount::default(),
        };
        let v = m.to_lotus();
        assert!(v["CID"]["/"].is_string());
        assert_eq!(Message::from_lotus(&v).unwrap(), m);
        assert!(Cid::from_lotus(&json!({"/": "bafy2bzace"})).is_err());
    }
}
