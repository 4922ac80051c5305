//! What the runtime can refuse, and what a corrupt or vanished state looks
//! like: each gives the exit code the built-in payment channel gives
//! (builtin-actors' `rt.state()`, `rt.transaction()`, `rt.create()` and
//! `delete_actor()`), checked here on the mock and in the FVM by the
//! `runtime_errors` scenarios.

mod common;

use cid::Cid;
use common::*;
use fvm_ipld_encoding::CborStore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::MethodNum;
use fvm_shared::error::ExitCode;
use multihash_codetable::{Code, MultihashDigest};
use paych_actor::mock::{MockRuntime, ok_response, value_send};
use paych_actor::{State, empty_array_cid};

/// Calls `method` and requires `code`, the state root unchanged and every
/// queued send made; unlike `expect_abort` it never decodes the state (which
/// may not decode).
fn fails_with(
    rt: &mut MockRuntime,
    caller: u64,
    method: MethodNum,
    params: Option<IpldBlock>,
    code: ExitCode,
) {
    let root = rt.state_root;
    rt.caller = caller;
    let err = paych_actor::dispatch(rt, method, params).expect_err("the call must fail");
    assert_eq!(err.exit_code(), code, "{err:?}");
    assert_eq!(rt.state_root, root, "a failed call changed the state root");
    rt.verify();
}

/// A channel whose state root is `root` (a block of the test's making).
fn channel_with_root(root: Cid) -> MockRuntime {
    let mut rt = create_channel();
    rt.state_root = Some(root);
    rt
}

fn voucher_params() -> Option<IpldBlock> {
    update_params(&voucher(0, 1, 1), &[])
}

// ---------------------------------------------------------------------------
// A state that does not decode, or is not there.
// ---------------------------------------------------------------------------

#[test]
fn undecodable_state_is_16_for_every_method() {
    let mut rt = create_channel();
    let root = rt
        .store
        .put_cbor(&(1u8, "not a channel state"), Code::Blake2b256)
        .unwrap();
    rt.state_root = Some(root);
    fails_with(&mut rt, PAYER_ID, UPDATE, voucher_params(), CODE_16);
    fails_with(&mut rt, PAYER_ID, SETTLE, None, CODE_16);
    fails_with(&mut rt, PAYER_ID, COLLECT, None, CODE_16);
}

#[test]
fn a_new_actors_empty_state_does_not_decode_either() {
    // Before its constructor ran, an actor's state is the empty array.
    let mut rt = new_runtime();
    fails_with(&mut rt, PAYER_ID, SETTLE, None, CODE_16);
    fails_with(&mut rt, PAYER_ID, COLLECT, None, CODE_16);
}

#[test]
fn missing_state_root_is_16_in_a_transaction_and_20_otherwise() {
    // Only a deleted actor has no root (unreachable in the FVM: the channel
    // is deleted at the end of Collect). Settle reads it as the built-in's
    // transaction does (16); UpdateChannelState and Collect as its
    // read-only `state()` does (20).
    let mut rt = create_channel();
    rt.deleted = true;
    let before = rt.state_root;
    for (method, params, code) in [
        (UPDATE, voucher_params(), ExitCode::USR_ILLEGAL_STATE),
        (SETTLE, None, CODE_16),
        (COLLECT, None, ExitCode::USR_ILLEGAL_STATE),
    ] {
        rt.caller = PAYER_ID;
        let err = paych_actor::dispatch(&mut rt, method, params).unwrap_err();
        assert_eq!(err.exit_code(), code, "method {method}: {err:?}");
    }
    assert_eq!(rt.state_root, before);
}

#[test]
fn absent_state_block_is_24() {
    // The built-in panics; only a mock can get here (in the FVM a missing
    // reachable block aborts the whole message).
    let mut rt = channel_with_root(Cid::new_v1(
        0x71,
        Code::Blake2b256.digest(b"not in the store"),
    ));
    fails_with(
        &mut rt,
        PAYER_ID,
        SETTLE,
        None,
        ExitCode::USR_ASSERTION_FAILED,
    );
}

#[test]
fn parties_not_stored_as_ids_match_no_caller() {
    let mut rt = create_channel();
    let st = State::new(bls_addr(1), bls_addr(2), empty_lanes_cid());
    rt.state_root = Some(rt.store.put_cbor(&st, Code::Blake2b256).unwrap());
    for method in [SETTLE, COLLECT] {
        fails_with(&mut rt, PAYER_ID, method, None, ExitCode::USR_FORBIDDEN);
    }
    fails_with(
        &mut rt,
        PAYER_ID,
        UPDATE,
        voucher_params(),
        ExitCode::USR_FORBIDDEN,
    );
}

// ---------------------------------------------------------------------------
// Read-only calls: no state writes (25), no value transfers (25), no
// self-destruct (16).
// ---------------------------------------------------------------------------

#[test]
fn read_only_settle_is_25() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.read_only = true;
    fails_with(&mut rt, PAYER_ID, SETTLE, None, ExitCode::USR_READ_ONLY);
}

#[test]
fn read_only_voucher_is_25_after_authentication() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    rt.read_only = true;
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    fails_with(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_READ_ONLY,
    );
}

fn settled(rt: &mut MockRuntime) {
    rt.epoch = 10;
    call_ok(rt, PAYER_ID, SETTLE, None);
    rt.epoch = 1450;
}

#[test]
fn read_only_collect_with_funds_is_25_at_the_payout() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    settled(&mut rt);
    rt.read_only = true;
    expect_send(
        &mut rt,
        value_send(PAYEE_ID, atto(1)),
        ok_response::<()>(None),
    );
    fails_with(&mut rt, PAYER_ID, COLLECT, None, ExitCode::USR_READ_ONLY);
}

#[test]
fn read_only_collect_of_an_empty_channel_fails_to_self_destruct_with_16() {
    let mut rt = create_channel();
    rt.balance = atto(0);
    settled(&mut rt);
    rt.read_only = true;
    expect_send(
        &mut rt,
        value_send(PAYEE_ID, atto(0)),
        ok_response::<()>(None),
    );
    expect_send(
        &mut rt,
        value_send(PAYER_ID, atto(0)),
        ok_response::<()>(None),
    );
    fails_with(&mut rt, PAYER_ID, COLLECT, None, CODE_16);
    assert!(!rt.deleted);
}

// ---------------------------------------------------------------------------
// The constructor creates the state only over the empty one.
// ---------------------------------------------------------------------------

#[test]
fn a_new_actor_starts_with_the_empty_array_state() {
    // DAG-CBOR [] under blake2b-256, the FVM's EMPTY_ARR_CID.
    let cid = empty_array_cid();
    assert_eq!(cid.codec(), 0x71);
    assert_eq!(*cid.hash(), Code::Blake2b256.digest(&[0x80]));
    assert_eq!(
        cid.to_string(),
        "bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a"
    );
    assert_eq!(cid.to_bytes(), paych_actor::EMPTY_ARRAY_CID_BYTES);
}

#[test]
fn second_constructor_on_a_live_channel_is_20() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYEE_ID), id(PAYER_ID)),
        ExitCode::USR_ILLEGAL_STATE,
    );
    assert_eq!(rt.state().from, id(PAYER_ID));
}

// ---------------------------------------------------------------------------
// Settle's arithmetic is checked, as the built-in's overflow-checked Wasm.
// ---------------------------------------------------------------------------

#[test]
#[should_panic(expected = "settling_at overflows the epoch range")]
fn settle_panics_when_settling_at_would_overflow() {
    // In the FVM the panic hook turns this into exit code 24 (the
    // `settle_at_the_end_of_the_epoch_range` scenario).
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.epoch = i64::MAX - paych_actor::SETTLE_DELAY + 1;
    let _ = rt.call(PAYER_ID, SETTLE, None);
}

#[test]
fn settle_at_the_last_epoch_that_fits() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.epoch = i64::MAX - paych_actor::SETTLE_DELAY;
    call_ok(&mut rt, PAYER_ID, SETTLE, None);
    assert_eq!(rt.state().settling_at, i64::MAX);
}

const CODE_16: ExitCode = ExitCode::USR_ILLEGAL_ARGUMENT;
