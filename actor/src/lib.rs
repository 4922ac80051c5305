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

use actor_interfaces::codec::{
    decode_params, expect_no_params, load_state as load, save_state as save,
};
use fvm_ipld_amt::Amt;
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::CBOR;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::{ActorID, METHOD_SEND, MethodNum};

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

/// Methods at or above this number are "exported" (FRC-0042) and callable by
/// any actor; everything below is internal to built-in actors.
pub const FIRST_EXPORTED_METHOD_NUMBER: MethodNum = 1 << 24;

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
        ActorKind::Builtin(t) if t != BuiltinType::Evm => Ok(()),
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
    let st = load_state(rt)?;
    let caller = rt.caller();
    let (from, to) = (party_id(&st.from)?, party_id(&st.to)?);
    if caller != from && caller != to {
        return Err(ActorError::forbidden(format!(
            "caller f0{caller} is not a channel party"
        )));
    }
    let signer = if caller == from { to } else { from };

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
    }

    let mut st = st;
    let balance = rt.current_balance();
    redeem(rt.store(), &mut st, &sv, &balance)?;
    save_state(rt, &st)
}

/// Asks the signer's actor whether `signature` over `message` is theirs
/// (FRC-0044 AuthenticateMessage, read-only). Only `true` is acceptance.
fn authenticate<RT: Runtime>(
    rt: &mut RT,
    signer: ActorID,
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
        &Address::new_id(signer),
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
    let mut st = load_state(rt)?;
    require_party(rt, &st)?;
    if st.settling_at != 0 {
        return Err(ActorError::illegal_state("channel already settling"));
    }
    st.settling_at = rt
        .curr_epoch()
        .saturating_add(SETTLE_DELAY)
        .max(st.min_settle_height);
    save_state(rt, &st)
}

/// Pays out a settled channel: `to_send` to `to`, everything else back to
/// `from`, then deletes the actor.
pub fn collect<RT: Runtime>(rt: &mut RT) -> Result<(), ActorError> {
    let st = load_state(rt)?;
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
    rt.delete_actor()
}

fn require_party<RT: Runtime>(rt: &RT, st: &State) -> Result<(), ActorError> {
    let caller = rt.caller();
    if caller == party_id(&st.from)? || caller == party_id(&st.to)? {
        Ok(())
    } else {
        Err(ActorError::forbidden(format!(
            "caller f0{caller} is not a channel party"
        )))
    }
}

/// Parties are stored as ID addresses; anything else is corrupt state.
fn party_id(addr: &Address) -> Result<ActorID, ActorError> {
    addr.id()
        .map_err(|_| ActorError::illegal_state(format!("party {addr} is not an ID address")))
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
        ))
    }
}

fn load_state<RT: Runtime>(rt: &RT) -> Result<State, ActorError> {
    load(rt.store(), &rt.state_root()?)
}

fn save_state<RT: Runtime>(rt: &mut RT, st: &State) -> Result<(), ActorError> {
    let root = save(rt.store(), st)?;
    rt.set_state_root(&root)
}
