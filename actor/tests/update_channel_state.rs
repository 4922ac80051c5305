//! UpdateChannelState (method 2): every row of the check table (reference §4)
//! in order, the AuthenticateMessage outcomes (§3), and the create_lane,
//! redeem, merge, extra and secret tests of the conformance checklist (§7).
//! Dispatch-level failures (row 0) are in `dispatch.rs`, settling in
//! `settle_collect.rs`.

mod common;

use actor_interfaces::blake2b_256;
use cid::Cid;
use common::*;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_ipld_encoding::{CBOR, CborStore};
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::{ErrorNumber, ExitCode};
use fvm_shared::{METHOD_SEND, Response};
use multihash_codetable::{Code, MultihashDigest};
use paych_actor::mock::{
    ExpectedSend, MockRuntime, Sent, exit_response, exit_response_with_data, ok_response,
};
use paych_actor::{MAX_LANE, MAX_SECRET_SIZE, Merge, SignedVoucher, State, ext};

// ---------------------------------------------------------------------------
// create_lane_test: balance 9, epoch 1, a voucher for lane 0 with nonce 0,
// amount 1, tl_min 1, tl_max 0; the payee submits, the payer signs.
// ---------------------------------------------------------------------------

fn create_lane_runtime() -> MockRuntime {
    let mut rt = create_channel();
    rt.balance = atto(9);
    rt.epoch = 1;
    rt
}

fn create_lane_voucher() -> SignedVoucher {
    let mut sv = voucher(0, 0, 1);
    sv.time_lock_min = 1;
    sv.time_lock_max = 0;
    sv
}

/// Submits `sv` as the payee, expecting the payer to accept the signature and
/// the update to fail with `code`, leaving the channel as constructed.
fn create_lane_fails_after_auth(rt: &mut MockRuntime, sv: &SignedVoucher, code: ExitCode) {
    let initial = rt.state();
    expect_authenticate(rt, PAYER_ID, sv);
    expect_abort(rt, PAYEE_ID, UPDATE, update_params(sv, &[]), code);
    assert_eq!(rt.state(), initial);
    assert!(lanes(rt).is_empty());
}

#[test]
fn create_lane_accepts_nonce_zero_on_a_fresh_lane() {
    let mut rt = create_lane_runtime();
    let sv = create_lane_voucher();
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(lanes(&rt), vec![(0, lane_state(1, 0))]);
    assert_eq!(rt.state().to_send, atto(1));
}

#[test]
fn create_lane_rejects_voucher_for_another_channel() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.channel_addr = id(210);
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn create_lane_rejects_unresolvable_channel_address() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.channel_addr = bls_addr(3);
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn create_lane_accepts_non_id_alias_of_the_channel() {
    let mut rt = create_lane_runtime();
    let alias = bls_addr(3);
    rt.addresses.insert(alias, PAYCH_ID);
    let mut sv = create_lane_voucher();
    sv.channel_addr = alias;
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(lanes(&rt), vec![(0, lane_state(1, 0))]);
}

#[test]
fn create_lane_rejects_negative_amount() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.amount = atto(-1);
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn rejects_negative_amount_even_when_to_send_would_stay_non_negative() {
    // to_send is 1; a new lane at -1 would bring it to exactly 0, so only the
    // amount check itself can refuse this voucher.
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.lane = 5;
    sv.amount = atto(-1);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    assert_eq!(rt.state().to_send, atto(1));
}

#[test]
fn create_lane_rejects_amount_above_balance_with_16_not_19() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.amount = atto(10);
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn create_lane_accepts_amount_equal_to_balance() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.amount = atto(9);
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(rt.state().to_send, atto(9));
}

#[test]
fn create_lane_rejects_voucher_without_signature_before_authenticating() {
    let mut rt = create_lane_runtime();
    let initial = rt.state();
    let mut sv = create_lane_voucher();
    sv.signature = None;
    // No AuthenticateMessage is queued: the mock panics on any send.
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert!(rt.sent.is_empty());
    assert_eq!(rt.state(), initial);
}

#[test]
fn create_lane_rejects_voucher_before_time_lock_min() {
    let mut rt = create_lane_runtime();
    let mut sv = create_lane_voucher();
    sv.time_lock_min = 10;
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn create_lane_rejects_voucher_after_time_lock_max() {
    let mut rt = create_lane_runtime();
    rt.epoch = 10;
    let mut sv = create_lane_voucher();
    sv.time_lock_max = 5;
    create_lane_fails_after_auth(&mut rt, &sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn create_lane_rejects_voucher_whose_signature_the_signer_rejects() {
    let mut rt = create_lane_runtime();
    let initial = rt.state();
    let sv = create_lane_voucher();
    expect_authenticate_result(
        &mut rt,
        PAYER_ID,
        &sv,
        exit_response(ExitCode::USR_ILLEGAL_ARGUMENT),
    );
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.state(), initial);
}

// ---------------------------------------------------------------------------
// Rows 1-3: caller, signer, signature presence.
// ---------------------------------------------------------------------------

#[test]
fn rejects_update_from_caller_that_is_not_a_party() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    let sent_before = rt.sent.len();
    for caller in [STRANGER_ID, INIT_ID] {
        expect_abort(
            &mut rt,
            caller,
            UPDATE,
            update_params(&sv, &[]),
            ExitCode::USR_FORBIDDEN,
        );
    }
    assert_eq!(
        rt.sent.len(),
        sent_before,
        "no AuthenticateMessage for a non-party"
    );
}

#[test]
fn payer_submission_is_authenticated_by_the_payee() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(rt.sent.last(), Some(&authenticate_send(PAYEE_ID, &sv)));
}

#[test]
fn payee_submission_is_authenticated_by_the_payer() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(rt.sent.last(), Some(&authenticate_send(PAYER_ID, &sv)));
}

#[test]
fn channel_to_self_is_authenticated_by_to() {
    let mut rt = new_runtime();
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYER_ID)),
    );
    let sv = voucher(0, 1, 5);
    redeem_ok(&mut rt, PAYER_ID, PAYER_ID, &sv);
    assert_eq!(rt.sent, vec![authenticate_send(PAYER_ID, &sv)]);
    assert_eq!(rt.state().to_send, atto(5));
}

#[test]
fn authenticate_message_carries_raw_signature_and_signing_bytes() {
    // The reference's worked example: channel f0100, no locks, lane 0,
    // nonce 1, amount 1 FIL, no merges; signed with a secp256k1 signature
    // whose type byte must not be forwarded.
    let mut rt = create_channel();
    rt.balance = TokenAmount::from_whole(2);
    let raw_sig = vec![0x5a; 65];
    let mut sv = voucher(0, 1, 0);
    sv.time_lock_min = 0;
    sv.time_lock_max = 0;
    sv.amount = TokenAmount::from_whole(1);
    sv.signature = Some(Signature::new_secp256k1(raw_sig.clone()));

    let signing_bytes = hex("8b 42 0064 00 00 40 f6 00 01 49 000de0b6b3a7640000 00 80 f6");
    assert_eq!(sv.signing_bytes().unwrap(), signing_bytes);

    let mut params = vec![0x82, 0x58, 65];
    params.extend(&raw_sig);
    assert_eq!(signing_bytes.len(), 23);
    params.push(0x57);
    params.extend(&signing_bytes);
    let expected = Sent {
        to: id(PAYER_ID),
        method: 2643134072,
        params: Some(IpldBlock {
            codec: 0x51,
            data: params,
        }),
        value: TokenAmount::default(),
        read_only: true,
    };
    assert_eq!(ext::account::AUTHENTICATE_MESSAGE_METHOD, 2643134072);
    expect_send(&mut rt, expected.clone(), ok_response(Some(&true)));
    call_ok(&mut rt, PAYEE_ID, UPDATE, update_params(&sv, &[]));
    assert_eq!(rt.sent, vec![expected]);
    assert_eq!(
        lanes(&rt),
        vec![(0, lane_state(1_000_000_000_000_000_000, 1))]
    );
}

#[test]
fn rejects_voucher_without_signature() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.signature = None;
    let sent_before = rt.sent.len();
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.sent.len(), sent_before);
}

// ---------------------------------------------------------------------------
// Rows 4-5: after settling_at (32) and the secret length, both before
// authentication.
// ---------------------------------------------------------------------------

fn settled_fixture() -> (MockRuntime, SignedVoucher) {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    rt.epoch = 10;
    call_ok(&mut rt, PAYER_ID, SETTLE, None);
    assert_eq!(rt.state().settling_at, 1450);
    (rt, sv)
}

#[test]
fn rejects_voucher_at_settling_at_with_32_without_authenticating() {
    let (mut rt, sv) = settled_fixture();
    let sent_before = rt.sent.len();
    for epoch in [1450, 1451, 1490] {
        rt.epoch = epoch;
        expect_abort(
            &mut rt,
            PAYEE_ID,
            UPDATE,
            update_params(&sv, &[]),
            paych_actor::ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED,
        );
    }
    assert_eq!(
        paych_actor::ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED.value(),
        32
    );
    assert_eq!(rt.sent.len(), sent_before);
}

#[test]
fn accepts_voucher_in_the_epoch_before_settling_at() {
    let (mut rt, mut sv) = settled_fixture();
    rt.epoch = 1449;
    sv.amount = atto(7);
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(rt.state().to_send, atto(7));
}

#[test]
fn unsigned_voucher_after_settling_at_fails_16_not_32() {
    let (mut rt, mut sv) = settled_fixture();
    rt.epoch = 1500;
    sv.signature = None;
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn oversized_secret_after_settling_at_fails_32() {
    let (mut rt, sv) = settled_fixture();
    rt.epoch = 1450;
    let secret = vec![1; MAX_SECRET_SIZE + 1];
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        update_params(&sv, &secret),
        paych_actor::ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED,
    );
}

#[test]
fn rejects_secret_longer_than_256_bytes_without_authenticating_even_without_hash() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    assert!(sv.secret_pre_image.is_empty());
    let sent_before = rt.sent.len();
    let secret = vec![1; 257];
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &secret),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.sent.len(), sent_before);
}

#[test]
fn accepts_secret_of_exactly_256_bytes() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    let secret = vec![7; 256];
    sv.secret_pre_image = blake2b_256(&secret).to_vec();
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &secret));
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

// ---------------------------------------------------------------------------
// Row 7: AuthenticateMessage outcomes (§3).
// ---------------------------------------------------------------------------

/// Submits the fixture's next voucher as the payer with the payee's
/// AuthenticateMessage answering `result`; expects `code`.
fn authentication_outcome(result: Result<Response, ErrorNumber>, code: ExitCode) {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    expect_authenticate_result(&mut rt, PAYEE_ID, &sv, result);
    expect_abort(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]), code);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 1)));
}

#[test]
fn signer_exit_16_propagates_as_16() {
    authentication_outcome(
        exit_response(ExitCode::USR_ILLEGAL_ARGUMENT),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn signer_user_exit_codes_propagate_unchanged() {
    for code in [17, 18, 20, 22, 24, 32, 33, 255, 1000] {
        authentication_outcome(exit_response(ExitCode::new(code)), ExitCode::new(code));
    }
}

#[test]
fn signer_missing_return_illegal_instruction_or_illegal_exit_code_becomes_23() {
    for code in [
        ExitCode::SYS_MISSING_RETURN,
        ExitCode::SYS_ILLEGAL_INSTRUCTION,
        ExitCode::SYS_ILLEGAL_EXIT_CODE,
    ] {
        authentication_outcome(exit_response(code), ExitCode::USR_UNSPECIFIED);
    }
}

#[test]
fn signer_other_system_exit_codes_become_24() {
    for code in [1, 2, 3, 5, 6, 7, 8, 10, 12, 13, 14, 15] {
        authentication_outcome(
            exit_response(ExitCode::new(code)),
            ExitCode::USR_ASSERTION_FAILED,
        );
    }
}

#[test]
fn signer_without_return_value_is_24() {
    authentication_outcome(ok_response::<bool>(None), ExitCode::USR_ASSERTION_FAILED);
}

#[test]
fn signer_with_undecodable_return_value_is_21() {
    authentication_outcome(ok_response(Some(&1u8)), ExitCode::USR_SERIALIZATION);
    authentication_outcome(ok_response(Some(&"true")), ExitCode::USR_SERIALIZATION);
    authentication_outcome(
        ok_response(Some(&(true, true))),
        ExitCode::USR_SERIALIZATION,
    );
    let garbage = Response {
        exit_code: ExitCode::OK,
        return_data: Some(IpldBlock {
            codec: CBOR,
            data: vec![0xff, 0x00],
        }),
    };
    authentication_outcome(Ok(garbage), ExitCode::USR_SERIALIZATION);
}

#[test]
fn signer_returning_false_is_16() {
    authentication_outcome(ok_response(Some(&false)), ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn authenticate_send_refused_by_the_vm_maps_syscall_errors() {
    authentication_outcome(Err(ErrorNumber::NotFound), ExitCode::USR_UNSPECIFIED);
    authentication_outcome(
        Err(ErrorNumber::LimitExceeded),
        ExitCode::USR_ASSERTION_FAILED,
    );
    authentication_outcome(Err(ErrorNumber::ReadOnly), ExitCode::USR_READ_ONLY);
}

#[test]
fn authentication_runs_before_channel_address_and_time_lock_checks() {
    // The voucher is also for the wrong channel and expired, but the
    // authentication failure (a system code, mapped to 24) is what surfaces.
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.channel_addr = id(210);
    sv.time_lock_max = 1;
    expect_authenticate_result(
        &mut rt,
        PAYEE_ID,
        &sv,
        exit_response(ExitCode::SYS_OUT_OF_GAS),
    );
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ASSERTION_FAILED,
    );
}

// ---------------------------------------------------------------------------
// Rows 8-13: channel address, time locks, amount, secret hash; all after
// authentication.
// ---------------------------------------------------------------------------

/// Submits `sv` (with `secret`) as the payer; the payee authenticates it; the
/// update must fail with `code`.
fn fixture_fails_after_auth(
    rt: &mut MockRuntime,
    sv: &SignedVoucher,
    secret: &[u8],
    code: ExitCode,
) {
    expect_authenticate(rt, PAYEE_ID, sv);
    expect_abort(rt, PAYER_ID, UPDATE, update_params(sv, secret), code);
}

#[test]
fn accepts_voucher_at_time_lock_min() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.time_lock_min = rt.epoch;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn rejects_voucher_one_epoch_before_time_lock_min() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.time_lock_min = rt.epoch + 1;
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn time_lock_max_is_inclusive() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    rt.epoch = 50;
    sv.time_lock_max = 50;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn rejects_voucher_one_epoch_after_time_lock_max() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    rt.epoch = 51;
    sv.time_lock_max = 50;
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn time_lock_max_zero_never_expires() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    rt.epoch = 1_000_000_000;
    sv.time_lock_max = 0;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn accepts_zero_amount_voucher() {
    // The actor accepts 0 (only the test-side invariant checker of the
    // reference would object to a lane with nothing redeemed).
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.lane = 1;
    sv.amount = atto(0);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 1), Some(lane_state(0, 2)));
    assert_eq!(rt.state().to_send, atto(1));
}

#[test]
fn accepts_correct_secret_for_hash() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.secret_pre_image = blake2b_256(b"Profesr").to_vec();
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, b"Profesr"));
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn accepts_empty_secret_when_voucher_has_no_hash() {
    // secret_preimage: succeed_correct_secret
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    assert!(sv.secret_pre_image.is_empty());
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn ignores_secret_when_voucher_has_no_hash() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    call_ok(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, b"anything at all"),
    );
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn rejects_incorrect_secret() {
    // secret_preimage: incorrect_secret
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    let mut hash = b"Magneto".to_vec();
    hash.resize(32, 0);
    sv.secret_pre_image = hash;
    fixture_fails_after_auth(&mut rt, &sv, b"Profesr", ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn rejects_missing_secret_when_voucher_has_hash() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.secret_pre_image = blake2b_256(b"Profesr").to_vec();
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn rejects_secret_against_hash_of_the_wrong_length() {
    // Only the full 32-byte digest can match: a prefix or an extension of the
    // right digest is a mismatch.
    let digest = blake2b_256(b"Profesr");
    let mut longer = digest.to_vec();
    longer.push(0);
    for hash in [digest[..31].to_vec(), digest[..1].to_vec(), longer] {
        let (mut rt, mut sv) = require_create_channel_with_lanes(1);
        sv.secret_pre_image = hash;
        fixture_fails_after_auth(&mut rt, &sv, b"Profesr", ExitCode::USR_ILLEGAL_ARGUMENT);
    }
}

// ---------------------------------------------------------------------------
// Row 14: the `extra` call, after every other pre-check and before the lane
// transaction.
// ---------------------------------------------------------------------------

const EXTRA_DATA: [u8; 4] = [1, 2, 3, 4];

fn extra_fixture() -> (MockRuntime, SignedVoucher) {
    let (rt, mut sv) = require_create_channel_with_lanes(1);
    sv.extra = extra(id(OTHER_ID), 2, &EXTRA_DATA);
    (rt, sv)
}

#[test]
fn extra_call_sends_data_verbatim_with_cbor_codec_not_read_only() {
    // extra_call_succeed; the callee's return value is ignored.
    let (mut rt, sv) = extra_fixture();
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    let send = extra_send(id(OTHER_ID), 2, &EXTRA_DATA);
    assert_eq!(send.params.as_ref().unwrap().codec, 0x51);
    assert!(!send.read_only);
    expect_send(&mut rt, send.clone(), ok_response(Some(&false)));
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]));
    let n = rt.sent.len();
    assert_eq!(rt.sent[n - 2..], [authenticate_send(PAYEE_ID, &sv), send]);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn extra_call_failure_propagates_its_exit_code() {
    // extra_call_fail: the callee exits 23.
    for (result, code) in [
        (
            exit_response(ExitCode::USR_UNSPECIFIED),
            ExitCode::USR_UNSPECIFIED,
        ),
        (
            exit_response(ExitCode::USR_FORBIDDEN),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            exit_response(ExitCode::SYS_MISSING_RETURN),
            ExitCode::USR_UNSPECIFIED,
        ),
        (
            exit_response(ExitCode::SYS_OUT_OF_GAS),
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (Err(ErrorNumber::NotFound), ExitCode::USR_UNSPECIFIED),
    ] {
        let (mut rt, sv) = extra_fixture();
        expect_authenticate(&mut rt, PAYEE_ID, &sv);
        expect_send(&mut rt, extra_send(id(OTHER_ID), 2, &EXTRA_DATA), result);
        expect_abort(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]), code);
        assert_eq!(lane(&rt, 0), Some(lane_state(1, 1)));
    }
}

#[test]
fn extra_call_happens_before_the_lane_transaction() {
    // A stale nonce is only found in the transaction, after the extra call.
    let (mut rt, mut sv) = extra_fixture();
    sv.nonce = 1;
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    expect_send(
        &mut rt,
        extra_send(id(OTHER_ID), 2, &EXTRA_DATA),
        ok_response::<()>(None),
    );
    let sent_before = rt.sent.len();
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.sent.len(), sent_before + 2);
}

#[test]
fn extra_call_is_not_made_when_an_earlier_check_fails() {
    // Incorrect secret, expired, wrong channel, too early, negative amount,
    // rejected signature: the only
    // send is the AuthenticateMessage (the mock panics on any other).
    let (mut rt, mut sv) = extra_fixture();
    sv.secret_pre_image = blake2b_256(b"right").to_vec();
    fixture_fails_after_auth(&mut rt, &sv, b"wrong", ExitCode::USR_ILLEGAL_ARGUMENT);

    let (mut rt, mut sv) = extra_fixture();
    sv.time_lock_max = 1;
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);

    let (mut rt, mut sv) = extra_fixture();
    sv.channel_addr = id(210);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);

    let (mut rt, mut sv) = extra_fixture();
    sv.time_lock_min = 3;
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);

    let (mut rt, mut sv) = extra_fixture();
    sv.lane = 5;
    sv.amount = atto(-1);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);

    let (mut rt, sv) = extra_fixture();
    expect_authenticate_result(&mut rt, PAYEE_ID, &sv, ok_response(Some(&false)));
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn extra_call_may_target_any_address_and_method() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    let target = bls_addr(9);
    sv.extra = extra(target, METHOD_SEND, &[]);
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    expect_send(
        &mut rt,
        extra_send(target, METHOD_SEND, &[]),
        ok_response::<()>(None),
    );
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]));
    assert_eq!(rt.sent.last(), Some(&extra_send(target, METHOD_SEND, &[])));
}

// ---------------------------------------------------------------------------
// The two details the table hides (reference §4): a failing inner call's
// return data is passed on, and the lane transaction re-reads the state
// after the extra call.
// ---------------------------------------------------------------------------

/// An IPLD block holding `data` (what a reverting EVM contract returns).
fn revert_data(data: &[u8]) -> Option<IpldBlock> {
    Some(IpldBlock {
        codec: CBOR,
        data: data.to_vec(),
    })
}

#[test]
fn failed_extra_call_returns_the_callees_data() {
    for (code, expected) in [
        (ExitCode::new(33), ExitCode::new(33)),
        (ExitCode::SYS_ILLEGAL_INSTRUCTION, ExitCode::USR_UNSPECIFIED),
    ] {
        let (mut rt, sv) = extra_fixture();
        expect_authenticate(&mut rt, PAYEE_ID, &sv);
        expect_send(
            &mut rt,
            extra_send(id(OTHER_ID), 2, &EXTRA_DATA),
            exit_response_with_data(code, revert_data(b"\x46revert")),
        );
        let err = expect_abort(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]), expected);
        assert_eq!(err.data(), revert_data(b"\x46revert").as_ref());
    }
}

#[test]
fn failed_authentication_returns_the_signers_data() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    expect_authenticate_result(
        &mut rt,
        PAYEE_ID,
        &sv,
        exit_response_with_data(ExitCode::USR_ILLEGAL_ARGUMENT, revert_data(&[0x41, 0x07])),
    );
    let err = expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(err.data(), revert_data(&[0x41, 0x07]).as_ref());
}

#[test]
fn failures_of_the_channel_itself_return_no_data() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.amount = atto(-1);
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    let err = expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(err.data(), None);
}

/// The extra call re-enters the channel and leaves it with `nested` applied
/// to the current state.
fn reentrant_extra(rt: &mut MockRuntime, sv: &SignedVoucher, nested: impl FnOnce(&mut State)) {
    let mut st = rt.state();
    nested(&mut st);
    expect_authenticate(rt, PAYEE_ID, sv);
    rt.expect_send(ExpectedSend {
        sent: extra_send(id(OTHER_ID), 2, &EXTRA_DATA),
        result: ok_response::<()>(None),
        creates: None,
        reenters: Some(st),
    });
}

#[test]
fn lane_transaction_keeps_what_a_reentrant_extra_call_changed() {
    // A nested Settle from inside the extra call: settling_at is kept and the
    // voucher is applied on top of it.
    let (mut rt, sv) = extra_fixture();
    reentrant_extra(&mut rt, &sv, |st| st.settling_at = 1442);
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]));
    let st = rt.state();
    assert_eq!((st.settling_at, st.to_send.clone()), (1442, atto(1)));
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

#[test]
fn lane_transaction_checks_against_what_a_reentrant_extra_call_changed() {
    // A nested voucher raised the lane's nonce past the outer voucher's: the
    // outer one is stale by the time its transaction runs, and the whole
    // call (the nested change included) is undone.
    let (mut rt, sv) = extra_fixture();
    let (root, st) = (rt.state_root, rt.state());
    let mut nested = st.clone();
    let mut lanes =
        fvm_ipld_amt::Amt::<paych_actor::LaneState, _>::load(&st.lane_states, &rt.store).unwrap();
    lanes.set(0, lane_state(5, sv.nonce + 1)).unwrap();
    nested.lane_states = lanes.flush().unwrap();
    nested.to_send = atto(5);
    reentrant_extra(&mut rt, &sv, |st| *st = nested);
    let err = rt
        .call(PAYER_ID, UPDATE, update_params(&sv, &[]))
        .unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::USR_ILLEGAL_ARGUMENT);
    rt.verify();
    assert_eq!(rt.state_root, root);
}

#[test]
fn without_an_extra_call_the_state_is_read_once() {
    // AuthenticateMessage is read-only, so nothing can change the state
    // during a voucher without `extra`, and the actor does not pay for a
    // second read. The mock can pretend the signer re-entered (the FVM
    // cannot): the actor writes its own result over it, which shows it did
    // not read the state again.
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    let mut pretend = rt.state();
    pretend.settling_at = 1442;
    rt.expect_send(ExpectedSend {
        sent: authenticate_send(PAYEE_ID, &sv),
        result: ok_response(Some(&true)),
        creates: None,
        reenters: Some(pretend),
    });
    call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]));
    assert_eq!(rt.state().settling_at, 0);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 2)));
}

// ---------------------------------------------------------------------------
// Rows 15-16: lane bound and nonce.
// ---------------------------------------------------------------------------

#[test]
fn rejects_lane_above_max_lane() {
    // lane_limit_exceeded
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.lane = MAX_LANE + 1;
    sv.amount = atto(100);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    sv.lane = u64::MAX;
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn accepts_max_lane() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    assert_eq!(MAX_LANE, (1 << 63) - 1);
    sv.lane = MAX_LANE;
    sv.amount = atto(100);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, MAX_LANE), Some(lane_state(100, 2)));
    assert_eq!(rt.state().to_send, atto(101));
}

#[test]
fn rejects_voucher_with_stale_nonce() {
    // redeem_voucher_nonce_reuse: a nonce below or equal to the lane's.
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.nonce = 3;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 0), Some(lane_state(1, 3)));
    for nonce in [1, 3, 0] {
        sv.nonce = nonce;
        sv.amount = atto(5);
        fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    }
}

// ---------------------------------------------------------------------------
// Redeem: rows 21 and 24, cumulative amounts per lane.
// ---------------------------------------------------------------------------

#[test]
fn redeem_voucher_one_lane() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.amount = atto(9);
    assert_eq!(sv.nonce, 2);
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(rt.state().to_send, atto(9));
    assert_eq!(lanes(&rt), vec![(0, lane_state(9, 2))]);
}

#[test]
fn redeem_voucher_on_the_correct_lane() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(3);
    let initial = rt.state().to_send;
    assert_eq!(initial, atto(6));
    let old = lane(&rt, 1).unwrap();
    sv.amount = atto(9);
    sv.lane = 1;
    sv.nonce = old.nonce + 1;
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    assert_eq!(rt.state().to_send, &initial + atto(9) - &old.redeemed);
    assert_eq!(
        lanes(&rt),
        vec![
            (0, lane_state(1, 1)),
            (1, lane_state(9, 3)),
            (2, lane_state(3, 3))
        ]
    );
}

#[test]
fn voucher_amount_is_cumulative_per_lane() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(2);
    assert_eq!(rt.state().to_send, atto(3));
    sv.lane = 0;
    sv.amount = atto(10);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    // Lane 0 held 1: only the difference, 9, is added.
    assert_eq!(rt.state().to_send, atto(12));
    sv.nonce += 1;
    sv.amount = atto(25);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(rt.state().to_send, atto(27));
    assert_eq!(lane(&rt, 0), Some(lane_state(25, sv.nonce)));
}

#[test]
fn voucher_may_lower_a_lane_and_to_send() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(2);
    sv.lane = 1;
    sv.amount = atto(1);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 1), Some(lane_state(1, 3)));
    assert_eq!(rt.state().to_send, atto(2));
}

// ---------------------------------------------------------------------------
// Merge (rows 17-20): caller `from`, signer `to`.
// ---------------------------------------------------------------------------

#[test]
fn merge_success() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(3);
    let to_send = rt.state().to_send;
    let merge_to = lane(&rt, 0).unwrap();
    let merge_from = lane(&rt, 1).unwrap();
    sv.lane = 0;
    let merge_nonce = merge_to.nonce + 10;
    sv.merges = vec![Merge {
        lane: 1,
        nonce: merge_nonce,
    }];
    assert_eq!((sv.nonce, sv.amount.clone(), merge_nonce), (4, atto(3), 11));
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);

    assert_eq!(lane(&rt, 0), Some(lane_state(3, 4)));
    // The merged lane keeps what it redeemed; only its nonce moves.
    assert_eq!(
        lane(&rt, 1),
        Some(paych_actor::LaneState {
            redeemed: merge_from.redeemed.clone(),
            nonce: 11
        })
    );
    assert_eq!(lane(&rt, 2), Some(lane_state(3, 3)));
    let delta = &sv.amount - (&merge_from.redeemed + &merge_to.redeemed);
    assert_eq!(rt.state().to_send, to_send + delta);
    assert_eq!(rt.state().to_send, atto(6));
}

fn merge_failure(voucher_nonce: u64, merge_lane: u64, merge_nonce: u64, balance: Option<i64>) {
    let (mut rt, mut sv) = require_create_channel_with_lanes(2);
    if let Some(balance) = balance {
        rt.balance = atto(balance);
    }
    sv.lane = 0;
    sv.nonce = voucher_nonce;
    sv.merges = vec![Merge {
        lane: merge_lane,
        nonce: merge_nonce,
    }];
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    assert_eq!(
        lanes(&rt),
        vec![(0, lane_state(1, 1)), (1, lane_state(2, 2))]
    );
}

#[test]
fn rejects_merge_with_stale_nonce() {
    merge_failure(10, 1, 1, None);
    merge_failure(10, 1, 2, None);
}

#[test]
fn rejects_merging_voucher_with_stale_nonce() {
    merge_failure(0, 1, 10, None);
}

#[test]
fn rejects_merge_that_leaves_to_send_above_balance() {
    // to_send would be 3 + 2 - (2 + 1) = 2 > balance 1.
    merge_failure(10, 1, 10, Some(1));
}

#[test]
fn rejects_merge_into_own_lane() {
    merge_failure(10, 0, 10, None);
}

#[test]
fn rejects_merge_of_missing_lane() {
    // invalid_merge_lane_999
    merge_failure(10, 999, 10, None);
}

#[test]
fn rejects_merge_of_lane_above_max_lane() {
    merge_failure(10, MAX_LANE + 1, 10, None);
}

#[test]
fn merges_are_applied_in_order() {
    // The second merge of the same lane sees the nonce the first one set.
    let (mut rt, mut sv) = require_create_channel_with_lanes(3);
    sv.lane = 0;
    sv.amount = atto(10);
    sv.merges = vec![Merge { lane: 1, nonce: 5 }, Merge { lane: 1, nonce: 5 }];
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);

    sv.merges = vec![Merge { lane: 1, nonce: 5 }, Merge { lane: 2, nonce: 6 }];
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(
        lanes(&rt),
        vec![
            (0, lane_state(10, 4)),
            (1, lane_state(2, 5)),
            (2, lane_state(3, 6))
        ]
    );
    // 6 + 10 - (2 + 3 + 1)
    assert_eq!(rt.state().to_send, atto(10));
}

// ---------------------------------------------------------------------------
// Rows 22-23: the new to_send must be within [0, balance].
// ---------------------------------------------------------------------------

#[test]
fn rejects_voucher_that_would_make_to_send_negative() {
    // specs-actors #1046: merges can reduce to_send; below zero is refused.
    let (mut rt, mut sv) = require_create_channel_with_lanes(2);
    sv.lane = 0;
    sv.nonce = 2;
    sv.amount = atto(0);
    sv.merges = vec![Merge { lane: 1, nonce: 3 }];
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(rt.state().to_send, atto(0));
    assert_eq!(
        lanes(&rt),
        vec![(0, lane_state(0, 2)), (1, lane_state(2, 3))]
    );

    // A new lane at 0 merging lane 1 again: 0 + 0 - (2 + 0) = -2.
    sv.lane = 2;
    sv.nonce = 1;
    sv.merges = vec![Merge { lane: 1, nonce: 4 }];
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn rejects_voucher_exceeding_balance_with_16_not_19() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.amount = atto(100_001);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    sv.amount = atto(100_000);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(rt.state().to_send, atto(100_000));
}

#[test]
fn balance_check_counts_every_lane() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(2);
    // to_send 3; a new lane may add at most 100 000 - 3.
    sv.lane = 5;
    sv.nonce = 1;
    sv.amount = atto(99_998);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_ARGUMENT);
    sv.amount = atto(99_997);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(rt.state().to_send, atto(100_000));
}

// ---------------------------------------------------------------------------
// Row 25 (before settling; the settling window is in settle_collect.rs).
// ---------------------------------------------------------------------------

#[test]
fn min_settle_height_only_ever_rises() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.min_settle_height = 500;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(
        (rt.state().min_settle_height, rt.state().settling_at),
        (500, 0)
    );
    for msh in [100, 0] {
        sv.nonce += 1;
        sv.min_settle_height = msh;
        redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
        assert_eq!(
            (rt.state().min_settle_height, rt.state().settling_at),
            (500, 0)
        );
    }
}

// ---------------------------------------------------------------------------
// Row 26: lane AMT failures are 20.
// ---------------------------------------------------------------------------

#[test]
fn lane_amt_that_does_not_load_is_illegal_state() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    let mut st: State = rt.state();
    st.lane_states = Cid::new_v1(0x71, Code::Blake2b256.digest(b"not in the store"));
    let root = rt.store.put_cbor(&st, Code::Blake2b256).unwrap();
    rt.state_root = Some(root);
    fixture_fails_after_auth(&mut rt, &sv, &[], ExitCode::USR_ILLEGAL_STATE);
}
