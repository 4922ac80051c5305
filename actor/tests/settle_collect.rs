//! Settle (method 3), Collect (method 4) and vouchers during the settling
//! window (reference §4 row 25, §5, §7 "Settling", "Settle", "Collect").

mod common;

use common::*;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::{ErrorNumber, ExitCode};
use paych_actor::mock::{MockRuntime, exit_response, ok_response, value_send};
use paych_actor::{ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED, SETTLE_DELAY};

fn settle_at_epoch_10(rt: &mut MockRuntime, caller: u64) {
    rt.epoch = 10;
    call_ok(rt, caller, SETTLE, None);
}

// ---------------------------------------------------------------------------
// Settle
// ---------------------------------------------------------------------------

#[test]
fn settle_sets_settling_at_one_settle_delay_ahead() {
    // adjust_settling_at
    let (mut rt, _) = require_create_channel_with_lanes(1);
    assert_eq!(SETTLE_DELAY, 1440);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    let st = rt.state();
    assert_eq!((st.settling_at, st.min_settle_height), (1450, 0));
    assert_eq!(st.to_send, atto(1));
    assert!(
        rt.sent.iter().all(|s| s.method != fvm_shared::METHOD_SEND),
        "settle sends nothing"
    );
}

#[test]
fn payee_may_settle_too() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYEE_ID);
    assert_eq!(rt.state().settling_at, 1450);
}

#[test]
fn rejects_settle_from_caller_that_is_not_a_party() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    expect_abort(&mut rt, STRANGER_ID, SETTLE, None, ExitCode::USR_FORBIDDEN);
    expect_abort(&mut rt, INIT_ID, SETTLE, None, ExitCode::USR_FORBIDDEN);
    assert_eq!(rt.state().settling_at, 0);
}

#[test]
fn rejects_second_settle_with_illegal_state() {
    // call_twice: neither party can repeat or extend it, even later.
    let (mut rt, _) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    expect_abort(&mut rt, PAYER_ID, SETTLE, None, ExitCode::USR_ILLEGAL_STATE);
    rt.epoch = 1000;
    expect_abort(&mut rt, PAYEE_ID, SETTLE, None, ExitCode::USR_ILLEGAL_STATE);
    assert_eq!(rt.state().settling_at, 1450);
}

#[test]
fn settle_waits_for_min_settle_height_set_by_earlier_voucher() {
    // settle_if_height_less
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.min_settle_height = SETTLE_DELAY + 10 + 1;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    let st = rt.state();
    assert_eq!((st.settling_at, st.min_settle_height), (0, 1451));
    settle_at_epoch_10(&mut rt, PAYER_ID);
    assert_eq!(rt.state().settling_at, 1451);
}

#[test]
fn settle_ignores_min_settle_height_below_the_delay() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    sv.min_settle_height = 1449;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    let st = rt.state();
    assert_eq!((st.settling_at, st.min_settle_height), (1450, 1449));
}

// ---------------------------------------------------------------------------
// Vouchers during the settling window (row 25) and after it (row 4).
// ---------------------------------------------------------------------------

#[test]
fn update_channel_settling() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    let st = rt.state();
    assert_eq!((st.min_settle_height, st.settling_at), (0, 1450));
    for (msh, expected) in [
        (0, (0, 1450)),
        (2, (2, 1450)),
        (12, (12, 1450)),
        (1451, (1451, 1451)),
    ] {
        sv.nonce += 1;
        sv.min_settle_height = msh;
        redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
        let st = rt.state();
        assert_eq!(
            (st.min_settle_height, st.settling_at),
            expected,
            "voucher msh {msh}"
        );
    }
}

#[test]
fn voucher_cannot_pull_settling_at_earlier() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    sv.min_settle_height = 2000;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    sv.nonce += 1;
    sv.min_settle_height = 1500;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    let st = rt.state();
    assert_eq!((st.min_settle_height, st.settling_at), (2000, 2000));
}

#[test]
fn voucher_invalid_after_settling() {
    let (mut rt, sv) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    rt.epoch = rt.state().settling_at + 40;
    let sent_before = rt.sent.len();
    let params = update_params(&sv, &[]);
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        params,
        ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED,
    );
    assert_eq!(ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED, ExitCode::new(32));
    assert_eq!(
        rt.sent.len(),
        sent_before,
        "no AuthenticateMessage after settling_at"
    );
}

#[test]
fn voucher_extending_settling_at_keeps_the_window_open() {
    let (mut rt, mut sv) = require_create_channel_with_lanes(1);
    settle_at_epoch_10(&mut rt, PAYER_ID);
    sv.min_settle_height = 1600;
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    rt.epoch = 1599;
    sv.nonce += 1;
    sv.amount = atto(50);
    redeem_ok(&mut rt, PAYEE_ID, PAYER_ID, &sv);
    rt.epoch = 1600;
    sv.nonce += 1;
    let params = update_params(&sv, &[]);
    expect_abort(
        &mut rt,
        PAYEE_ID,
        UPDATE,
        params,
        ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED,
    );
    // ... and Collect opens at the new settling_at.
    expect_collect_sends(&mut rt);
    call_ok(&mut rt, PAYEE_ID, COLLECT, None);
    assert!(rt.deleted);
}

// ---------------------------------------------------------------------------
// Collect
// ---------------------------------------------------------------------------

/// A channel with `lanes` lanes (to_send = 1 + ... + lanes), settled at epoch
/// 10 so settling_at is 1450.
fn settled_channel(lanes: u64) -> MockRuntime {
    let mut rt = if lanes == 0 {
        create_channel()
    } else {
        require_create_channel_with_lanes(lanes).0
    };
    settle_at_epoch_10(&mut rt, PAYER_ID);
    assert_eq!(rt.state().settling_at, 1450);
    rt
}

/// Queues the two payouts: to_send to the payee, then the rest to the payer.
fn expect_collect_sends(rt: &mut MockRuntime) {
    let st = rt.state();
    let remainder = &rt.balance - &st.to_send;
    expect_send(
        rt,
        value_send(PAYEE_ID, st.to_send.clone()),
        ok_response::<()>(None),
    );
    expect_send(rt, value_send(PAYER_ID, remainder), ok_response::<()>(None));
}

#[test]
fn collect_pays_payee_then_refunds_payer_then_deletes() {
    // happy_path
    let mut rt = settled_channel(1);
    rt.epoch = 1451;
    let sent_before = rt.sent.len();
    expect_collect_sends(&mut rt);
    call_ok(&mut rt, PAYEE_ID, COLLECT, None);
    assert_eq!(
        rt.sent[sent_before..],
        [
            value_send(PAYEE_ID, atto(1)),
            value_send(PAYER_ID, atto(99_999))
        ]
    );
    assert!(rt.deleted);
    assert!(rt.balance.is_zero());
}

#[test]
fn collect_is_allowed_exactly_at_settling_at() {
    let mut rt = settled_channel(2);
    rt.epoch = 1450;
    expect_collect_sends(&mut rt);
    call_ok(&mut rt, PAYER_ID, COLLECT, None);
    let n = rt.sent.len();
    assert_eq!(
        rt.sent[n - 2..],
        [
            value_send(PAYEE_ID, atto(3)),
            value_send(PAYER_ID, atto(99_997))
        ]
    );
    assert!(rt.deleted);
}

#[test]
fn collect_sends_zero_to_payee_when_nothing_was_redeemed() {
    let mut rt = settled_channel(0);
    rt.epoch = 1450;
    expect_collect_sends(&mut rt);
    call_ok(&mut rt, PAYEE_ID, COLLECT, None);
    assert_eq!(
        rt.sent,
        vec![
            value_send(PAYEE_ID, atto(0)),
            value_send(PAYER_ID, atto(100_000))
        ]
    );
    assert!(rt.deleted);
}

#[test]
fn collect_refunds_the_current_balance_including_top_ups() {
    let mut rt = settled_channel(1);
    rt.balance += atto(500);
    rt.epoch = 1450;
    expect_collect_sends(&mut rt);
    call_ok(&mut rt, PAYEE_ID, COLLECT, None);
    assert_eq!(rt.sent.last(), Some(&value_send(PAYER_ID, atto(100_499))));
    assert!(rt.balance.is_zero());
}

#[test]
fn rejects_collect_when_not_settling() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.epoch = 100_000;
    expect_abort(&mut rt, PAYEE_ID, COLLECT, None, ExitCode::USR_FORBIDDEN);
    assert!(rt.sent.iter().all(|s| s.method != fvm_shared::METHOD_SEND));
}

#[test]
fn rejects_collect_before_settling_at() {
    let mut rt = settled_channel(1);
    for epoch in [10, 1449] {
        rt.epoch = epoch;
        expect_abort(&mut rt, PAYEE_ID, COLLECT, None, ExitCode::USR_FORBIDDEN);
        expect_abort(&mut rt, PAYER_ID, COLLECT, None, ExitCode::USR_FORBIDDEN);
    }
}

#[test]
fn rejects_collect_from_caller_that_is_not_a_party() {
    let mut rt = settled_channel(1);
    rt.epoch = 1450;
    expect_abort(&mut rt, STRANGER_ID, COLLECT, None, ExitCode::USR_FORBIDDEN);
    expect_abort(&mut rt, INIT_ID, COLLECT, None, ExitCode::USR_FORBIDDEN);
}

#[test]
fn collect_fails_with_payees_exit_code() {
    // actor_collect: the send to `to` exits 23. Nothing is refunded or
    // deleted.
    let mut rt = settled_channel(1);
    rt.epoch = 1450;
    let sent_before = rt.sent.len();
    expect_send(
        &mut rt,
        value_send(PAYEE_ID, atto(1)),
        exit_response(ExitCode::USR_UNSPECIFIED),
    );
    expect_abort(&mut rt, PAYEE_ID, COLLECT, None, ExitCode::USR_UNSPECIFIED);
    assert_eq!(
        rt.sent.len(),
        sent_before + 1,
        "no refund after a failed payment"
    );
}

#[test]
fn collect_maps_failed_payment_to_exit_codes() {
    for (result, code) in [
        (Err(ErrorNumber::NotFound), ExitCode::USR_UNSPECIFIED),
        (
            Err(ErrorNumber::InsufficientFunds),
            ExitCode::USR_INSUFFICIENT_FUNDS,
        ),
        (
            Err(ErrorNumber::LimitExceeded),
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (
            Err(ErrorNumber::IllegalArgument),
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (
            exit_response(ExitCode::USR_FORBIDDEN),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            exit_response(ExitCode::SYS_ILLEGAL_INSTRUCTION),
            ExitCode::USR_UNSPECIFIED,
        ),
        (
            exit_response(ExitCode::SYS_OUT_OF_GAS),
            ExitCode::USR_ASSERTION_FAILED,
        ),
    ] {
        let mut rt = settled_channel(1);
        rt.epoch = 1450;
        expect_send(&mut rt, value_send(PAYEE_ID, atto(1)), result);
        expect_abort(&mut rt, PAYEE_ID, COLLECT, None, code);
    }
}

#[test]
fn collect_reverts_the_payment_when_the_refund_fails() {
    // Through the mock's `call`, which rolls back like the FVM does.
    let mut rt = settled_channel(1);
    rt.epoch = 1450;
    let root = rt.state_root;
    let sent_before = rt.sent.len();
    expect_send(
        &mut rt,
        value_send(PAYEE_ID, atto(1)),
        ok_response::<()>(None),
    );
    expect_send(
        &mut rt,
        value_send(PAYER_ID, atto(99_999)),
        exit_response(ExitCode::USR_ILLEGAL_ARGUMENT),
    );
    let err = rt.call(PAYEE_ID, COLLECT, None).unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::USR_ILLEGAL_ARGUMENT);
    rt.verify();
    assert_eq!(rt.state_root, root);
    assert_eq!(rt.balance, TokenAmount::from_atto(100_000));
    assert!(!rt.deleted);
    assert_eq!(rt.sent.len(), sent_before);
    check_invariants(&rt);
}
