//! How the devnet's results read as JSON (what `paych --json` prints):
//! addresses in their `t` form, amounts as decimal attoFIL strings, CIDs and
//! byte strings as text. Result types use these helpers in their serde
//! attributes, so their JSON is their serialization.

use cid::Cid;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::addr::show;
use crate::repo::MessageRecord;

pub fn address<S: Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&show(a))
}

pub fn opt_address<S: Serializer>(a: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
    a.as_ref().map(show).serialize(s)
}

/// An actor ID as its ID address (`t0…`).
pub fn id_address<S: Serializer>(id: &ActorID, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&show(&Address::new_id(*id)))
}

pub fn opt_id_address<S: Serializer>(id: &Option<ActorID>, s: S) -> Result<S::Ok, S::Error> {
    id.map(|id| show(&Address::new_id(id))).serialize(s)
}

/// An amount in attoFIL, as a decimal string.
pub fn atto<S: Serializer>(a: &TokenAmount, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.atto().to_string())
}

pub fn cid<S: Serializer>(c: &Cid, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.to_string())
}

/// Bytes as lower-case hex.
pub fn hex<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&data_encoding::HEXLOWER.encode(bytes))
}

/// An address inside a hand-written serialization.
pub struct Addr<'a>(pub &'a Address);

impl Serialize for Addr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        address(self.0, s)
    }
}

/// An amount inside a hand-written serialization.
pub struct Atto<'a>(pub &'a TokenAmount);

impl Serialize for Atto<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        atto(self.0, s)
    }
}

/// A message with its receipt, flat: who sent what to whom, the method's
/// name on the receiving actor, the exit code and every gas figure.
impl Serialize for MessageRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, r) = (&self.message, &self.receipt);
        let mut out = s.serialize_struct("Message", 19)?;
        out.serialize_field("cid", &self.cid.to_string())?;
        out.serialize_field("epoch", &self.epoch)?;
        out.serialize_field("from", &Addr(&m.from))?;
        out.serialize_field("to", &Addr(&m.to))?;
        out.serialize_field("nonce", &m.sequence)?;
        out.serialize_field("method", &m.method_num)?;
        out.serialize_field("method_name", &self.method_name())?;
        out.serialize_field("value", &Atto(&m.value))?;
        out.serialize_field("exit_code", &r.exit_code.value())?;
        out.serialize_field("gas_limit", &m.gas_limit)?;
        out.serialize_field("gas_used", &r.gas_used)?;
        out.serialize_field("gas_fee_cap", &Atto(&m.gas_fee_cap))?;
        out.serialize_field("gas_premium", &Atto(&m.gas_premium))?;
        out.serialize_field("base_fee_burn", &Atto(&r.base_fee_burn))?;
        out.serialize_field("over_estimation_burn", &Atto(&r.over_estimation_burn))?;
        out.serialize_field("miner_tip", &Atto(&r.miner_tip))?;
        out.serialize_field("refund", &Atto(&r.refund))?;
        out.serialize_field("fee", &Atto(&r.fee()))?;
        out.serialize_field("state_root", &self.state_root.to_string())?;
        out.end()
    }
}

/// A payment channel's lanes, each `{lane, redeemed, nonce}` (attoFIL as a
/// string), in lane order.
pub struct Lanes<'a>(pub &'a [(u64, paych_actor::LaneState)]);

impl Serialize for Lanes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Lane<'a> {
            lane: u64,
            redeemed: Atto<'a>,
            nonce: u64,
        }
        s.collect_seq(self.0.iter().map(|(lane, state)| Lane {
            lane: *lane,
            redeemed: Atto(&state.redeemed),
            nonce: state.nonce,
        }))
    }
}
