//! Lotus's JSON for chain objects the devnet answers with: tipsets (one
//! block each), message lookups and receipts, actors and their state.
//!
//! The devnet's blocks carry what a payment-channel client reads (height,
//! parents, state root, messages, timestamp, base fee); the proof fields a
//! Lotus header has (ticket, election proof, beacon, signatures) are null, as
//! Go writes a nil pointer, and so is `ParentMessageReceipts`.

use fvm::state_tree::ActorState;
use fvm_shared::address::Address;
use paych_chain::Receipt;
use paych_chain::state::PaychState;
use paych_devnet::repo::{ChainBlock, MessageRecord};
use serde_json::{Value, json};

use crate::lotus_json::{ToLotus, bytes_or_null};

/// A single-block tipset: `{"Cids","Blocks","Height"}`.
pub fn tipset(block: &ChainBlock) -> Value {
    let h = &block.header;
    let header = json!({
        "Miner": h.miner.to_lotus(),
        "Ticket": null,
        "ElectionProof": null,
        "BeaconEntries": [],
        "WinPoStProof": [],
        "Parents": h.parents.to_lotus(),
        "ParentWeight": h.height.to_string(),
        "Height": h.height,
        "ParentStateRoot": h.parent_state_root.to_lotus(),
        "ParentMessageReceipts": null,
        "Messages": h.messages.to_lotus(),
        "BLSAggregate": null,
        "Timestamp": h.timestamp,
        "BlockSig": null,
        "ForkSignaling": 0,
        "ParentBaseFee": h.parent_base_fee.to_lotus(),
    });
    json!({ "Cids": [block.cid.to_lotus()], "Blocks": [header], "Height": h.height })
}

/// A head change for `ChainNotify`: `[{"Type", "Val"}]`.
pub fn head_change(kind: &str, block: &ChainBlock) -> Value {
    json!([{ "Type": kind, "Val": tipset(block) }])
}

/// `MessageReceipt`.
pub fn receipt(r: &Receipt) -> Value {
    json!({
        "ExitCode": r.exit_code.value(),
        "Return": bytes_or_null(&r.return_data),
        "GasUsed": r.gas_used,
        "EventsRoot": null,
    })
}

/// `MsgLookup` for a message included in `block`.
pub fn msg_lookup(record: &MessageRecord, block: Option<&ChainBlock>, return_dec: Value) -> Value {
    json!({
        "Message": record.cid.to_lotus(),
        "Receipt": receipt(&record.receipt),
        "ReturnDec": return_dec,
        "TipSet": block.map(|b| vec![b.cid.to_lotus()]).unwrap_or_default(),
        "Height": record.epoch,
    })
}

/// `Actor` (`StateGetActor`).
pub fn actor(a: &ActorState) -> Value {
    json!({
        "Code": a.code.to_lotus(),
        "Head": a.state.to_lotus(),
        "Nonce": a.sequence,
        "Balance": a.balance.to_lotus(),
        "DelegatedAddress": a.delegated_address.map(|d| d.to_lotus()).unwrap_or(Value::Null),
    })
}

/// A payment channel's state, with Lotus's field names.
pub fn paych_state(p: &PaychState) -> Value {
    json!({
        "From": p.state.from.to_lotus(),
        "To": p.state.to.to_lotus(),
        "ToSend": p.state.to_send.to_lotus(),
        "SettlingAt": p.state.settling_at,
        "MinSettleHeight": p.state.min_settle_height,
        "LaneStates": p.state.lane_states.to_lotus(),
    })
}

/// An account's state.
pub fn account_state(key: &Address) -> Value {
    json!({ "Address": key.to_lotus() })
}
