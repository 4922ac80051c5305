//! Dispatch (reference §1, §4 row 0): method numbers, the internal-API caller
//! gate, params presence and decoding, and parameter edge values.

mod common;

use common::*;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_ipld_encoding::{CBOR, DAG_CBOR, IPLD_RAW, RawBytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;
use fvm_shared::bigint::BigInt;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use paych_actor::BuiltinType::{
    Account as ACCOUNT, EthAccount as ETHACCOUNT, Evm as EVM, Init as INIT, Multisig as MULTISIG,
    PaymentChannel as PAYMENT_CHANNEL, Placeholder as PLACEHOLDER, System as SYSTEM,
};
use paych_actor::mock::{MockRuntime, ok_response, value_send};
use paych_actor::{
    ActorKind, FIRST_EXPORTED_METHOD_NUMBER, MAX_LANE, Merge, ModVerifyParams, SignedVoucher, ext,
};
use serde::Serialize;

const CALLER: u64 = 500;

fn cbor(data: &[u8]) -> Option<IpldBlock> {
    Some(IpldBlock {
        codec: CBOR,
        data: data.to_vec(),
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    fvm_ipld_encoding::to_vec(value).unwrap()
}

// ---------------------------------------------------------------------------
// Method numbers and the caller gate.
// ---------------------------------------------------------------------------

#[test]
fn unknown_internal_method_is_unhandled() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    for method in [5, 6, 42, FIRST_EXPORTED_METHOD_NUMBER - 1] {
        expect_abort(
            &mut rt,
            PAYER_ID,
            method,
            None,
            ExitCode::USR_UNHANDLED_MESSAGE,
        );
        expect_abort(
            &mut rt,
            PAYEE_ID,
            method,
            cbor(&[0x80]),
            ExitCode::USR_UNHANDLED_MESSAGE,
        );
    }
}

#[test]
fn exported_method_numbers_are_unhandled_for_any_caller() {
    // Nothing is exported, and the gate only covers methods below 2^24.
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.add_actor(501, ActorKind::User, None);
    rt.add_actor(502, ActorKind::Builtin(EVM), None);
    for method in [
        FIRST_EXPORTED_METHOD_NUMBER,
        ext::account::AUTHENTICATE_MESSAGE_METHOD,
        u64::MAX,
    ] {
        for caller in [PAYER_ID, 501, 502, 503] {
            expect_abort(
                &mut rt,
                caller,
                method,
                None,
                ExitCode::USR_UNHANDLED_MESSAGE,
            );
        }
    }
    assert_eq!(FIRST_EXPORTED_METHOD_NUMBER, 1 << 24);
}

#[test]
fn internal_methods_reject_user_evm_and_missing_callers() {
    for kind in [ActorKind::User, ActorKind::Builtin(EVM), ActorKind::Missing] {
        let (mut rt, sv) = require_create_channel_with_lanes(1);
        rt.add_actor(CALLER, kind, None);
        let cases: [(MethodNum, Option<IpldBlock>); 6] = [
            (CONSTRUCTOR, constructor_params(id(PAYER_ID), id(PAYEE_ID))),
            (UPDATE, update_params(&sv, &[])),
            (SETTLE, None),
            (COLLECT, None),
            (5, None),
            (FIRST_EXPORTED_METHOD_NUMBER - 1, None),
        ];
        for (method, params) in cases {
            expect_abort(&mut rt, CALLER, method, params, ExitCode::USR_FORBIDDEN);
        }
    }
}

#[test]
fn party_that_is_an_evm_actor_is_still_refused_by_the_gate() {
    // The payer is an EVM contract: the channel can be created, but the
    // payer cannot call it.
    let mut rt = new_runtime();
    rt.add_actor(CALLER, ActorKind::Builtin(EVM), None);
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(CALLER), id(PAYEE_ID)),
    );
    expect_abort(&mut rt, CALLER, SETTLE, None, ExitCode::USR_FORBIDDEN);
    call_ok(&mut rt, PAYEE_ID, SETTLE, None);
}

#[test]
fn gate_runs_before_params_are_checked() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    rt.add_actor(CALLER, ActorKind::User, None);
    expect_abort(
        &mut rt,
        CALLER,
        SETTLE,
        cbor(&[0xf6]),
        ExitCode::USR_FORBIDDEN,
    );
    expect_abort(
        &mut rt,
        CALLER,
        UPDATE,
        cbor(&[0xff]),
        ExitCode::USR_FORBIDDEN,
    );
    expect_abort(&mut rt, CALLER, UPDATE, None, ExitCode::USR_FORBIDDEN);
}

#[test]
fn builtin_callers_other_than_evm_pass_the_gate() {
    // An unknown method past the gate is 22, not 18.
    for kind in [
        ACCOUNT,
        ETHACCOUNT,
        PLACEHOLDER,
        MULTISIG,
        SYSTEM,
        INIT,
        PAYMENT_CHANNEL,
    ] {
        let (mut rt, _) = require_create_channel_with_lanes(1);
        rt.add_actor(CALLER, ActorKind::Builtin(kind), None);
        expect_abort(&mut rt, CALLER, 5, None, ExitCode::USR_UNHANDLED_MESSAGE);
    }
}

#[test]
fn ethaccount_and_placeholder_parties_can_settle_and_collect() {
    let mut rt = new_runtime();
    rt.add_actor(600, ActorKind::Builtin(ETHACCOUNT), None);
    rt.add_actor(601, ActorKind::Builtin(PLACEHOLDER), None);
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(600), id(601)),
    );
    rt.epoch = 10;
    call_ok(&mut rt, 600, SETTLE, None);
    rt.epoch = 1450;
    expect_send(&mut rt, value_send(601, atto(0)), ok_response::<()>(None));
    expect_send(
        &mut rt,
        value_send(600, atto(100_000)),
        ok_response::<()>(None),
    );
    call_ok(&mut rt, 601, COLLECT, None);
    assert!(rt.deleted);
}

// ---------------------------------------------------------------------------
// Params presence.
// ---------------------------------------------------------------------------

#[test]
fn settle_and_collect_reject_any_params_block() {
    let blocks = [
        cbor(&[0xf6]),
        cbor(&[0x80]),
        cbor(&[]),
        Some(IpldBlock {
            codec: IPLD_RAW,
            data: vec![],
        }),
        Some(IpldBlock {
            codec: DAG_CBOR,
            data: vec![0x80],
        }),
    ];
    for block in blocks {
        let (mut rt, _) = require_create_channel_with_lanes(1);
        expect_abort(
            &mut rt,
            PAYER_ID,
            SETTLE,
            block.clone(),
            ExitCode::USR_ILLEGAL_ARGUMENT,
        );
        rt.epoch = 10;
        call_ok(&mut rt, PAYER_ID, SETTLE, None);
        rt.epoch = 1450;
        // Collect would succeed without params (no sends are queued).
        expect_abort(
            &mut rt,
            PAYEE_ID,
            COLLECT,
            block,
            ExitCode::USR_ILLEGAL_ARGUMENT,
        );
        // Params are checked before the caller.
        expect_abort(
            &mut rt,
            STRANGER_ID,
            COLLECT,
            cbor(&[0xf6]),
            ExitCode::USR_ILLEGAL_ARGUMENT,
        );
    }
}

#[test]
fn constructor_and_update_require_params() {
    let mut rt = new_runtime();
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        None,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert!(rt.state_root.is_none());
    let (mut rt, _) = require_create_channel_with_lanes(1);
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        None,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    // Presence is checked before the caller.
    expect_abort(
        &mut rt,
        STRANGER_ID,
        UPDATE,
        None,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn constructor_only_from_init() {
    let mut rt = new_runtime();
    for caller in [PAYER_ID, PAYEE_ID] {
        let params = constructor_params(id(PAYER_ID), id(PAYEE_ID));
        expect_abort(
            &mut rt,
            caller,
            CONSTRUCTOR,
            params,
            ExitCode::USR_FORBIDDEN,
        );
    }
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYEE_ID)),
    );
}

// ---------------------------------------------------------------------------
// Params decoding: 21.
// ---------------------------------------------------------------------------

/// The voucher as a plain tuple, so tests can change one element's encoding.
#[allow(clippy::type_complexity)]
fn voucher_tuple(
    sv: &SignedVoucher,
) -> (
    Address,
    i64,
    i64,
    RawBytes,
    Option<ModVerifyParams>,
    u64,
    u64,
    TokenAmount,
    i64,
    Vec<Merge>,
    Option<RawBytes>,
) {
    let sig = sv.signature.as_ref().map(|s| {
        let mut bytes = vec![s.sig_type as u8];
        bytes.extend(&s.bytes);
        RawBytes::new(bytes)
    });
    (
        sv.channel_addr,
        sv.time_lock_min,
        sv.time_lock_max,
        RawBytes::new(sv.secret_pre_image.clone()),
        sv.extra.clone(),
        sv.lane,
        sv.nonce,
        sv.amount.clone(),
        sv.min_settle_height,
        sv.merges.clone(),
        sig,
    )
}

fn fixture_voucher() -> SignedVoucher {
    voucher(0, 2, 5)
}

#[test]
fn voucher_tuple_encodes_like_the_voucher() {
    // Positive control for the malformed encodings below.
    let sv = fixture_voucher();
    assert_eq!(encode(&voucher_tuple(&sv)), encode(&sv));
    let params = (voucher_tuple(&sv), RawBytes::new(b"s".to_vec()));
    assert_eq!(cbor(&encode(&params)), update_params(&sv, b"s"));
    let (mut rt, _) = require_create_channel_with_lanes(1);
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    call_ok(&mut rt, PAYER_ID, UPDATE, cbor(&encode(&params)));
    assert_eq!(lane(&rt, 0), Some(lane_state(5, 2)));
}

fn update_rejects_as_undecodable(rt: &mut MockRuntime, params: Option<IpldBlock>) {
    // No AuthenticateMessage is queued: decoding fails before any send.
    expect_abort(
        rt,
        PAYER_ID,
        UPDATE,
        params.clone(),
        ExitCode::USR_SERIALIZATION,
    );
    // Decoding comes before the party check.
    expect_abort(rt, STRANGER_ID, UPDATE, params, ExitCode::USR_SERIALIZATION);
}

#[test]
fn update_rejects_garbage_params() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    for data in [&[0xff][..], &[0x00], &[], &[0x82], &[0x9f, 0xff], b"hello"] {
        update_rejects_as_undecodable(&mut rt, cbor(data));
    }
}

#[test]
fn update_rejects_params_of_wrong_arity() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let v = voucher_tuple(&fixture_voucher());
    let secret = RawBytes::new(vec![]);
    // The pre-v2 3-tuple [sv, secret, proof].
    update_rejects_as_undecodable(
        &mut rt,
        cbor(&encode(&(v.clone(), secret.clone(), secret.clone()))),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(v.clone(),))));
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&())));
    // A 10-element voucher (no signature slot) and a 12-element one.
    let (a, b, c, d, e, f, g, h, i, j, k) = v;
    let ten = (a, b, c, d.clone(), e.clone(), f, g, h.clone(), i, j.clone());
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(ten, secret.clone()))));
    let twelve = (a, b, c, d, e, f, g, h, i, j, k, 0u8);
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(twelve, secret))));
}

#[test]
fn update_rejects_params_of_wrong_types() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let v = voucher_tuple(&fixture_voucher());
    let secret = RawBytes::new(vec![]);
    // Secret as an integer, as text.
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(v.clone(), 5u8))));
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(v.clone(), "secret"))));
    let (a, b, c, d, e, f, g, h, i, j, k) = v.clone();
    // Lane as text.
    let bad = (
        a,
        b,
        c,
        d.clone(),
        e.clone(),
        "zero",
        g,
        h.clone(),
        i,
        j.clone(),
        k.clone(),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    // Negative nonce.
    let bad = (
        a,
        b,
        c,
        d.clone(),
        e.clone(),
        f,
        -1i64,
        h.clone(),
        i,
        j.clone(),
        k.clone(),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    // Channel address that is not a valid address.
    let bad = (
        RawBytes::new(vec![9, 9]),
        b,
        c,
        d.clone(),
        e.clone(),
        f,
        g,
        h.clone(),
        i,
        j.clone(),
        k.clone(),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    // Amount as an integer rather than bytes, and with an invalid sign byte.
    let bad = (
        a,
        b,
        c,
        d.clone(),
        e.clone(),
        f,
        g,
        5u8,
        i,
        j.clone(),
        k.clone(),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    let bad = (
        a,
        b,
        c,
        d.clone(),
        e.clone(),
        f,
        g,
        RawBytes::new(vec![2, 1]),
        i,
        j.clone(),
        k.clone(),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    // Signature with an unknown type byte, and an empty one.
    let bad = (
        a,
        b,
        c,
        d.clone(),
        e.clone(),
        f,
        g,
        h.clone(),
        i,
        j.clone(),
        Some(RawBytes::new(vec![9, 1])),
    );
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret.clone()))));
    let bad = (a, b, c, d, e, f, g, h, i, j, Some(RawBytes::new(vec![])));
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&(bad, secret))));
}

#[test]
fn update_rejects_trailing_bytes() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let mut data = update_params(&fixture_voucher(), &[]).unwrap().data;
    data.push(0x00);
    update_rejects_as_undecodable(&mut rt, cbor(&data));
}

#[test]
fn update_rejects_params_in_raw_or_unknown_codec() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let data = update_params(&fixture_voucher(), &[]).unwrap().data;
    for codec in [IPLD_RAW, 0x70, 0] {
        update_rejects_as_undecodable(
            &mut rt,
            Some(IpldBlock {
                codec,
                data: data.clone(),
            }),
        );
    }
}

#[test]
fn constructor_rejects_undecodable_params() {
    let mut rt = new_runtime();
    let from = id(PAYER_ID);
    let good = constructor_params(from, id(PAYEE_ID)).unwrap().data;
    let mut trailing = good.clone();
    trailing.push(0xf6);
    for params in [
        cbor(&[0xff]),
        cbor(&encode(&(from,))),
        cbor(&encode(&(from, from, from))),
        cbor(&encode(&(1u8, 2u8))),
        cbor(&encode(&(RawBytes::new(vec![]), from))),
        cbor(&trailing),
        Some(IpldBlock {
            codec: IPLD_RAW,
            data: good,
        }),
    ] {
        expect_abort(
            &mut rt,
            INIT_ID,
            CONSTRUCTOR,
            params.clone(),
            ExitCode::USR_SERIALIZATION,
        );
        // Decoding comes before the Init check.
        expect_abort(
            &mut rt,
            PAYER_ID,
            CONSTRUCTOR,
            params,
            ExitCode::USR_SERIALIZATION,
        );
    }
    assert!(rt.state_root.is_none());
}

// ---------------------------------------------------------------------------
// Parameter edge values.
// ---------------------------------------------------------------------------

fn edge_fails_after_auth(sv: &SignedVoucher, code: ExitCode) {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    expect_authenticate(&mut rt, PAYEE_ID, sv);
    expect_abort(&mut rt, PAYER_ID, UPDATE, update_params(sv, &[]), code);
}

#[test]
fn negative_amount_decodes_and_is_rejected_after_authentication() {
    let mut sv = fixture_voucher();
    sv.amount = atto(-1);
    edge_fails_after_auth(&sv, ExitCode::USR_ILLEGAL_ARGUMENT);
    sv.amount = TokenAmount::from_atto(-(BigInt::from(1) << 255u32));
    edge_fails_after_auth(&sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn lane_above_max_lane_decodes_and_is_rejected() {
    let mut sv = fixture_voucher();
    sv.lane = MAX_LANE + 1;
    edge_fails_after_auth(&sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn secret_of_257_bytes_decodes_and_is_rejected_before_authentication() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let params = update_params(&fixture_voucher(), &[0xaa; 257]);
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        params,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn u64_max_nonce_is_accepted_and_freezes_the_lane() {
    let (mut rt, _) = require_create_channel_with_lanes(1);
    let mut sv = voucher(7, u64::MAX, 10);
    redeem_ok(&mut rt, PAYER_ID, PAYEE_ID, &sv);
    assert_eq!(lane(&rt, 7), Some(lane_state(10, u64::MAX)));
    sv.amount = atto(20);
    expect_authenticate(&mut rt, PAYEE_ID, &sv);
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        update_params(&sv, &[]),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
}

#[test]
fn amount_near_2_pow_255_is_insufficient_funds_as_16() {
    let mut sv = fixture_voucher();
    sv.amount = TokenAmount::from_atto((BigInt::from(1) << 255u32) - 1);
    edge_fails_after_auth(&sv, ExitCode::USR_ILLEGAL_ARGUMENT);
    sv.amount = TokenAmount::from_atto(BigInt::from(1) << 255u32);
    edge_fails_after_auth(&sv, ExitCode::USR_ILLEGAL_ARGUMENT);
}

#[test]
fn amount_encoding_is_limited_to_128_bytes() {
    // 1 sign byte + 127 magnitude bytes decodes (and is too much money);
    // 1 + 128 does not decode.
    let sv = fixture_voucher();
    let (a, b, c, d, e, f, g, _, i, j, k) = voucher_tuple(&sv);
    let mut largest = vec![0x00];
    largest.extend([0xff; 127]);
    let voucher_with = |amount: Vec<u8>| {
        (
            a,
            b,
            c,
            d.clone(),
            e.clone(),
            f,
            g,
            RawBytes::new(amount),
            i,
            j.clone(),
            k.clone(),
        )
    };
    let params = (voucher_with(largest.clone()), RawBytes::new(vec![]));

    let (mut rt, _) = require_create_channel_with_lanes(1);
    let decoded: paych_actor::UpdateChannelStateParams =
        fvm_ipld_encoding::from_slice(&encode(&params)).unwrap();
    expect_authenticate(&mut rt, PAYEE_ID, &decoded.sv);
    expect_abort(
        &mut rt,
        PAYER_ID,
        UPDATE,
        cbor(&encode(&params)),
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );

    let mut too_long = largest;
    too_long.push(0xff);
    let params = (voucher_with(too_long), RawBytes::new(vec![]));
    update_rejects_as_undecodable(&mut rt, cbor(&encode(&params)));
}
