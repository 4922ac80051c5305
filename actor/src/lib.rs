//! Filecoin's payment channel actor for the FVM.
//!
//! Wire-compatible and exit-code-compatible with the built-in payment channel
//! (builtin-actors v12+): same methods, parameters, state layout, check order
//! and exit codes. The logic is generic over [`Runtime`]; the Wasm entry point
//! in [`fvm`] is the only code that touches the FVM.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod ext;
pub mod runtime;
pub mod state;
pub mod types;

#[cfg(target_arch = "wasm32")]
mod fvm;
#[cfg(not(target_arch = "wasm32"))]
pub mod mock;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

use alloc::format;

use actor_interfaces::codec::{decode_params, expect_no_params};
use cid::Cid;
use cid::multihash::Multihash;
use fvm_ipld_amt::Amt;
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_ipld_encoding::{CBOR, CborStore, DAG_CBOR};
use fvm_shared::address::{Address, Payload};
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::{ErrorNumber, ExitCode};
use fvm_shared::{ActorID, METHOD_SEND, MethodNum};
use multihash_codetable::Code;

pub use actor_interfaces::builtin::FIRST_EXPORTED_METHOD_NUMBER;
pub use actor_interfaces::{ActorError, BuiltinType, ExitCodeContext};

use crate::ext::account;
pub use crate::runtime::{ActorKind, Runtime};
pub use crate::state::{LaneState, State};
pub use crate::types::*;

/// Method numbers. The actor exports nothing at or above 2^24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Method {
    Constructor = 1,
    UpdateChannelState = 2,
    Settle = 3,
    Collect = 4,
}

/// The blake2b-256 digest of DAG-CBOR `[]` (the single byte 0x80).
const EMPTY_ARRAY_DIGEST: [u8; 32] = [
    0x45, 0xb0, 0xcf, 0xc2, 0x20, 0xce, 0xec, 0x5b, 0x7c, 0x1c, 0x62, 0xc4, 0xd4, 0x19, 0x3d, 0x38,
    0xe4, 0xeb, 0xa4, 0x8e, 0x88, 0x15, 0x72, 0x9c, 0xe7, 0x5f, 0x9c, 0x0a, 0xb0, 0xe4, 0xc1, 0xc0,
];

/// The state root every new actor starts with: DAG-CBOR `[]` under
/// blake2b-256. The constructor creates the channel's state only over it.
pub fn empty_array_cid() -> Cid {
    let multihash = Multihash::wrap(u64::from(Code::Blake2b256), &EMPTY_ARRAY_DIGEST)
        .expect("a 32-byte digest fits a multihash");
    Cid::new_v1(DAG_CBOR, multihash)
}

/// [`empty_array_cid`] in binary: CIDv1, DAG-CBOR, blake2b-256 (0xb220), 32
/// bytes, the digest.
pub const EMPTY_ARRAY_CID_BYTES: [u8; 38] = {
    let mut bytes = [0u8; 38];
    let prefix = [0x01, 0x71, 0xa0, 0xe4, 0x02, 0x20];
    let mut i = 0;
    while i < 38 {
        bytes[i] = if i < 6 {
            prefix[i]
        } else {
            EMPTY_ARRAY_DIGEST[i - 6]
        };
        i += 1;
    }
    bytes
};

/// Runs one invocation: the caller gate, parameter decoding and the method.
/// Every method returns nothing on success.
pub fn dispatch<RT: Runtime>(
    rt: &mut RT,
    method: MethodNum,
    params: Option<IpldBlock>,
) -> Result<(), ActorError> {
    restrict_internal_api(rt, method)?;
    match method {
        m if m == Method::Constructor as MethodNum => constructor(rt, decode_params(params)?),
        m if m == Method::UpdateChannelState as MethodNum => {
            update_channel_state(rt, decode_params(params)?)
        }
        m if m == Method::Settle as MethodNum => {
            expect_no_params(params)?;
            settle(rt)
        }
        m if m == Method::Collect as MethodNum => {
            expect_no_params(params)?;
            collect(rt)
        }
        m => Err(ActorError::unhandled_message(format!(
            "invalid method: {m}"
        ))),
    }
}

/// Internal methods may only be called by built-in actors other than EVM
/// contracts, as with every built-in actor.
fn restrict_internal_api<RT: Runtime>(rt: &RT, method: MethodNum) -> Result<(), ActorError> {
    if method >= FIRST_EXPORTED_METHOD_NUMBER {
        return Ok(());
    }
    let caller = rt.caller();
    match rt.actor_kind(caller) {
        kind if kind.may_call_internal_methods() => Ok(()),
        ActorKind::Missing => Err(ActorError::forbidden(format!(
            "no code for caller f0{caller}"
        ))),
        _ => Err(ActorError::forbidden(format!(
            "caller f0{caller} is not a built-in actor"
        ))),
    }
}

/// Creates the channel. Only Init may call it (via Exec). Both parties are
/// resolved to IDs, creating account actors for new key addresses.
pub fn constructor<RT: Runtime>(rt: &mut RT, params: ConstructorParams) -> Result<(), ActorError> {
    match rt.actor_kind(rt.caller()) {
        ActorKind::Builtin(BuiltinType::Init) => {}
        _ => {
            return Err(ActorError::forbidden(
                "the constructor may only be called by init",
            ));
        }
    }
    let to = resolve_party(rt, &params.to)?;
    let from = resolve_party(rt, &params.from)?;

    let empty_lanes = Amt::<LaneState, _>::new_with_bit_width(rt.store(), LANE_STATES_AMT_BITWIDTH)
        .flush()
        .exit_code(
            ExitCode::USR_ILLEGAL_STATE,
            "failed to create empty lane AMT",
        )?;
    // The state is created only over the empty one a new actor starts with:
    // a second constructor call on a live channel is refused (20), as the
    // built-in runtime's `create` refuses it.
    match rt.has_initial_state() {
        Some(true) => {}
        Some(false) => {
            return Err(ActorError::illegal_state(
                "failed to create state; the channel already has one",
            ));
        }
        None => return Err(ActorError::illegal_state("the channel has no state root")),
    }
    let state = State::new(Address::new_id(from), Address::new_id(to), empty_lanes);
    save_state(rt, &state)
}

/// Resolves a channel party to an actor ID. An address not yet on chain is
/// sent zero FIL first, which makes the FVM create its account (f1/f3) or
/// placeholder (f4).
fn resolve_party<RT: Runtime>(rt: &mut RT, addr: &Address) -> Result<ActorID, ActorError> {
    let existing = |rt: &RT, id: ActorID| match rt.actor_kind(id) {
        ActorKind::Missing => Err(ActorError::not_found(format!("no code for address {addr}"))),
        _ => Ok(id),
    };
    if let Some(id) = rt.resolve_address(addr) {
        return existing(rt, id);
    }
    send_checked(rt, addr, METHOD_SEND, None, TokenAmount::default(), false).map_err(|e| {
        e.wrap(format_args!(
            "failed to send zero balance to address {addr}"
        ))
    })?;
    match rt.resolve_address(addr) {
        Some(id) => existing(rt, id),
        None => Err(ActorError::illegal_argument(format!(
            "failed to resolve or initialize address {addr}"
        ))),
    }
}

/// Redeems a voucher. The caller is one party; the voucher must be signed by
/// the other. See the reference's check order: cheap checks, then
/// authentication, then the lane transaction.
pub fn update_channel_state<RT: Runtime>(
    rt: &mut RT,
    params: UpdateChannelStateParams,
) -> Result<(), ActorError> {
    let mut st = load_state(rt, StateRead::Snapshot)?;
    require_party(rt, &st)?;

    let UpdateChannelStateParams { sv, secret } = params;
    let signature = sv
        .signature
        .as_ref()
        .ok_or_else(|| ActorError::illegal_argument("voucher has no signature"))?;

    let epoch = rt.curr_epoch();
    if st.settling_at != 0 && epoch >= st.settling_at {
        return Err(ActorError::unchecked(
            ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED,
            "no vouchers can be processed after settling_at epoch",
        ));
    }
    if secret.len() > MAX_SECRET_SIZE {
        return Err(ActorError::illegal_argument(format!(
            "secret must be at most {MAX_SECRET_SIZE} bytes long"
        )));
    }

    let signing_bytes = sv
        .signing_bytes()
        .exit_code(ExitCode::USR_SERIALIZATION, "failed to serialize voucher")?;
    let signer = if is_party(&st.from, rt.caller()) {
        &st.to
    } else {
        &st.from
    };
    authenticate(rt, signer, &signature.bytes, signing_bytes)?;

    let voucher_channel = rt.resolve_address(&sv.channel_addr).ok_or_else(|| {
        ActorError::illegal_argument(format!(
            "voucher payment channel address {} does not resolve to an ID address",
            sv.channel_addr
        ))
    })?;
    if voucher_channel != rt.receiver() {
        return Err(ActorError::illegal_argument(
            "voucher payment channel address does not match receiver",
        ));
    }
    if epoch < sv.time_lock_min {
        return Err(ActorError::illegal_argument("cannot use this voucher yet"));
    }
    if sv.time_lock_max != 0 && epoch > sv.time_lock_max {
        return Err(ActorError::illegal_argument("this voucher has expired"));
    }
    if sv.amount.is_negative() {
        return Err(ActorError::illegal_argument(
            "voucher amount must be non-negative",
        ));
    }
    if !sv.secret_pre_image.is_empty() && rt.blake2b_256(&secret)[..] != sv.secret_pre_image[..] {
        return Err(ActorError::illegal_argument("incorrect secret"));
    }
    // The lane transaction runs on the state as it is after the sends. Only
    // the `extra` call can change it (AuthenticateMessage is read-only): an
    // extra call that re-enters the channel (a nested Settle or voucher, say
    // through a multisig party) has its changes kept and checked against,
    // as in the built-in actor's transaction. Without one, the state read
    // above is still current and is not read again.
    if let Some(extra) = &sv.extra {
        let block = IpldBlock {
            codec: CBOR,
            data: extra.data.to_vec(),
        };
        send_checked(
            rt,
            &extra.actor,
            extra.method,
            Some(block),
            TokenAmount::default(),
            false,
        )
        .map_err(|e| e.wrap("spend voucher verification failed"))?;
        st = load_state(rt, StateRead::Transaction)?;
    }
    let balance = rt.current_balance();
    redeem(rt.store(), &mut st, &sv, &balance)?;
    save_state(rt, &st)
}

/// Asks the signer's actor whether `signature` over `message` is theirs
/// (FRC-0044 AuthenticateMessage, read-only). Only `true` is acceptance.
fn authenticate<RT: Runtime>(
    rt: &mut RT,
    signer: &Address,
    signature: &[u8],
    message: alloc::vec::Vec<u8>,
) -> Result<(), ActorError> {
    let params = account::AuthenticateMessageParams {
        signature: signature.to_vec(),
        message,
    };
    let block = IpldBlock::serialize_cbor(&params).exit_code(
        ExitCode::USR_SERIALIZATION,
        "failed to serialize authentication params",
    )?;
    let ret = send_checked(
        rt,
        signer,
        account::AUTHENTICATE_MESSAGE_METHOD,
        block,
        TokenAmount::default(),
        true,
    )
    .map_err(|e| e.wrap("voucher signature authentication failed"))?;
    let ret = ret.ok_or_else(|| {
        ActorError::assertion_failed("signer returned no value for AuthenticateMessage")
    })?;
    let accepted: bool = ret.deserialize().exit_code(
        ExitCode::USR_SERIALIZATION,
        "failed to decode AuthenticateMessage result",
    )?;
    if !accepted {
        return Err(ActorError::illegal_argument(
            "voucher signature authentication failed",
        ));
    }
    Ok(())
}

/// The lane transaction: applies the voucher's lane, merges and amount to the
/// state, or fails without touching it.
fn redeem<BS: Blockstore>(
    store: &BS,
    st: &mut State,
    sv: &SignedVoucher,
    balance: &TokenAmount,
) -> Result<(), ActorError> {
    let mut lanes = Amt::<LaneState, _>::load(&st.lane_states, store)
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to load lane states")?;

    let mut lane = match find_lane(&lanes, sv.lane)? {
        Some(existing) if existing.nonce >= sv.nonce => {
            return Err(ActorError::illegal_argument(format!(
                "voucher has an outdated nonce, existing: {}, voucher: {}, cannot redeem",
                existing.nonce, sv.nonce
            )));
        }
        Some(existing) => existing,
        // A new lane has no nonce to compare with: nonce 0 is accepted.
        None => LaneState::default(),
    };

    // Value already redeemed on merged lanes counts towards this voucher.
    let mut redeemed_from_others = TokenAmount::default();
    for merge in &sv.merges {
        if merge.lane == sv.lane {
            return Err(ActorError::illegal_argument(
                "voucher cannot merge lanes into their own lane",
            ));
        }
        let mut other = find_lane(&lanes, merge.lane)?.ok_or_else(|| {
            ActorError::illegal_argument(format!(
                "voucher specifies invalid merge lane {}",
                merge.lane
            ))
        })?;
        if other.nonce >= merge.nonce {
            return Err(ActorError::illegal_argument(
                "merged lane in voucher has outdated nonce, cannot redeem",
            ));
        }
        redeemed_from_others += &other.redeemed;
        other.nonce = merge.nonce;
        lanes
            .set(merge.lane, other)
            .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to store lane")?;
    }

    lane.nonce = sv.nonce;
    let delta = &sv.amount - &(redeemed_from_others + &lane.redeemed);
    lane.redeemed = sv.amount.clone();

    let new_to_send = delta + &st.to_send;
    if new_to_send.is_negative() {
        return Err(ActorError::illegal_argument(
            "voucher would leave channel balance negative",
        ));
    }
    if &new_to_send > balance {
        return Err(ActorError::illegal_argument(
            "not enough funds in channel to cover voucher",
        ));
    }
    st.to_send = new_to_send;

    if sv.min_settle_height != 0 {
        if st.settling_at != 0 && st.settling_at < sv.min_settle_height {
            st.settling_at = sv.min_settle_height;
        }
        if st.min_settle_height < sv.min_settle_height {
            st.min_settle_height = sv.min_settle_height;
        }
    }

    lanes
        .set(sv.lane, lane)
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to store lane")?;
    st.lane_states = lanes
        .flush()
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to save lanes")?;
    Ok(())
}

fn find_lane<BS: Blockstore>(
    lanes: &Amt<LaneState, BS>,
    lane: u64,
) -> Result<Option<LaneState>, ActorError> {
    if lane > MAX_LANE {
        return Err(ActorError::illegal_argument(format!(
            "maximum lane ID is 2^63-1, got {lane}"
        )));
    }
    lanes
        .get(lane)
        .map(|found| found.cloned())
        .exit_code(ExitCode::USR_ILLEGAL_STATE, "failed to load lane")
}

/// Starts the settle delay. Allowed once, by either party.
pub fn settle<RT: Runtime>(rt: &mut RT) -> Result<(), ActorError> {
    let mut st = load_state(rt, StateRead::Transaction)?;
    require_party(rt, &st)?;
    if st.settling_at != 0 {
        return Err(ActorError::illegal_state("channel already settling"));
    }
    // Checked, not saturating, like the built-in's `curr_epoch + SETTLE_DELAY`
    // in its overflow-checked Wasm: within SETTLE_DELAY of i64::MAX this
    // panics, in every build profile, and the FVM entry point's panic hook
    // exits USR_ASSERTION_FAILED (24) with nothing changed.
    let earliest = rt
        .curr_epoch()
        .checked_add(SETTLE_DELAY)
        .expect("settling_at overflows the epoch range");
    st.settling_at = earliest.max(st.min_settle_height);
    save_state(rt, &st)
}

/// Pays out a settled channel: `to_send` to `to`, everything else back to
/// `from`, then deletes the actor.
pub fn collect<RT: Runtime>(rt: &mut RT) -> Result<(), ActorError> {
    let st = load_state(rt, StateRead::Snapshot)?;
    require_party(rt, &st)?;
    if st.settling_at == 0 || rt.curr_epoch() < st.settling_at {
        return Err(ActorError::forbidden(
            "payment channel not settling or settled",
        ));
    }
    send_checked(rt, &st.to, METHOD_SEND, None, st.to_send.clone(), false)
        .map_err(|e| e.wrap("failed to send funds to `to`"))?;
    let remainder = rt.current_balance();
    send_checked(rt, &st.from, METHOD_SEND, None, remainder, false)
        .map_err(|e| e.wrap("failed to send funds to `from`"))?;
    // Deletion fails only in a read-only call (the balance is zero by now);
    // the built-in runtime reports any failure to delete as 16.
    rt.delete_actor()
        .map_err(|e| ActorError::illegal_argument(format!("failed to delete the channel: {e}")))
}

/// The caller must be one of the parties, compared as stored: a party that
/// is not an ID address (only a corrupt state has one) matches no caller.
fn require_party<RT: Runtime>(rt: &RT, st: &State) -> Result<(), ActorError> {
    let caller = rt.caller();
    if is_party(&st.from, caller) || is_party(&st.to, caller) {
        Ok(())
    } else {
        Err(ActorError::forbidden(format!(
            "caller f0{caller} is not a channel party"
        )))
    }
}

/// Whether `party`, as stored, is the ID address of `caller`.
fn is_party(party: &Address, caller: ActorID) -> bool {
    matches!(party.payload(), Payload::ID(id) if *id == caller)
}

/// Sends and turns every failure into an `ActorError`: a refused send by the
/// syscall error's meaning, a callee's non-zero exit by its (checked) code.
fn send_checked<RT: Runtime>(
    rt: &mut RT,
    to: &Address,
    method: MethodNum,
    params: Option<IpldBlock>,
    value: TokenAmount,
    read_only: bool,
) -> Result<Option<IpldBlock>, ActorError> {
    let response = rt
        .send(to, method, params, value, read_only)
        .map_err(ActorError::from_send_error)?;
    if response.exit_code.is_success() {
        Ok(response.return_data)
    } else {
        Err(ActorError::checked(
            response.exit_code,
            format!(
                "send to {to} method {method} aborted with code {}",
                response.exit_code
            ),
            response.return_data,
        ))
    }
}

/// The built-in runtime reads an actor's state two ways, which fail with
/// different codes; each method here reads it the way the built-in channel
/// does, so that even a corrupt or vanished state gives the same receipt.
#[derive(Clone, Copy)]
enum StateRead {
    /// A read-only copy (`rt.state()`: UpdateChannelState's first read,
    /// Collect): no root is 20, an undecodable state 16.
    Snapshot,
    /// The start of a state transaction (Settle, and UpdateChannelState's
    /// lane transaction after an `extra` call): no root is 16, an
    /// undecodable state 16.
    Transaction,
}

fn load_state<RT: Runtime>(rt: &RT, read: StateRead) -> Result<State, ActorError> {
    let Some(root) = rt.state_root() else {
        return Err(no_state_root(read));
    };
    match rt.store().get_cbor::<State>(&root) {
        Ok(Some(st)) => Ok(st),
        // The built-in panics here; the FVM cannot get this far (a missing
        // reachable block aborts the message), only the mock can.
        Ok(None) => Err(ActorError::assertion_failed("the state block is missing")),
        Err(e) => Err(ActorError::illegal_argument(format!(
            "failed to decode the state: {e}"
        ))),
    }
}

#[cold]
fn no_state_root(read: StateRead) -> ActorError {
    let msg = "the channel has no state root";
    match read {
        StateRead::Snapshot => ActorError::illegal_state(msg),
        StateRead::Transaction => ActorError::illegal_argument(msg),
    }
}

/// Writes the state as the built-in runtime does: a block that cannot be
/// stored is 16, a read-only call 25, a deleted actor 20.
fn save_state<RT: Runtime>(rt: &mut RT, st: &State) -> Result<(), ActorError> {
    let root = match rt.store().put_cbor(st, Code::Blake2b256) {
        Ok(root) => root,
        Err(e) => {
            return Err(ActorError::illegal_argument(format!(
                "failed to write the state: {e}"
            )));
        }
    };
    match rt.set_state_root(&root) {
        Ok(()) => Ok(()),
        Err(e) => Err(state_root_not_set(e)),
    }
}

#[cold]
fn state_root_not_set(e: ErrorNumber) -> ActorError {
    match e {
        ErrorNumber::ReadOnly => {
            ActorError::read_only("cannot update the state root in a read-only call")
        }
        e => ActorError::illegal_state(format!("cannot update the state root: {e}")),
    }
}
