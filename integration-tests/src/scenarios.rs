//! The conformance checklist of the reference (§7) and the walkthrough, as
//! scripts over the harness. Each scenario builds its own machine from a
//! bundle, so the same script runs against our payment channel, against a real
//! builtin-actors bundle with ours swapped in, or against the bundle's own
//! payment channel (differential runs).
//!
//! Where the reference's unit tests rely on things only a mock can do (an
//! arbitrary balance, a send that creates nothing), the scenario reaches the
//! same check through real messages and says so.

use fvm_ipld_encoding::{CborStore, RawBytes};
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use paych_actor::{
    ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED, LaneState, MAX_LANE, Merge, ModVerifyParams,
    SETTLE_DELAY, SignedVoucher,
};
use paych_bundle::Bundle;
use paych_client::KeyType;
use test_probe::{Config, auth_reply};

use crate::harness::{Channel, Harness, HarnessBuilder, Party};

/// A scenario: builds its machine from the bundle and runs; `lenient` records
/// failed expectations instead of panicking.
pub type Scenario = fn(&Bundle, bool) -> Harness;

/// Every scenario, by name.
pub const ALL: &[(&str, Scenario)] = &[
    ("create_paych_actor", create_paych_actor),
    (
        "constructor_resolves_key_addresses_to_ids",
        constructor_resolves_key_addresses_to_ids,
    ),
    (
        "constructor_creates_accounts_for_new_key_addresses",
        constructor_creates_accounts_for_new_key_addresses,
    ),
    (
        "constructor_rejects_parties_without_code",
        constructor_rejects_parties_without_code,
    ),
    ("constructor_only_from_init", constructor_only_from_init),
    ("create_lane", create_lane),
    ("redeem_voucher_one_lane", redeem_voucher_one_lane),
    ("redeem_voucher_correct_lane", redeem_voucher_correct_lane),
    ("redeem_voucher_nonce_reuse", redeem_voucher_nonce_reuse),
    ("merge_success", merge_success),
    ("merge_failure", merge_failure),
    ("invalid_merge_lane_999", invalid_merge_lane_999),
    ("lane_limits", lane_limits),
    ("extra_call_succeed", extra_call_succeed),
    ("extra_call_fail", extra_call_fail),
    (
        "authenticate_message_outcomes",
        authenticate_message_outcomes,
    ),
    ("bls_signed_vouchers", bls_signed_vouchers),
    ("update_channel_settling", update_channel_settling),
    ("secret_preimage", secret_preimage),
    ("settle", settle),
    ("collect_happy_path", collect_happy_path),
    ("collect_refusals", collect_refusals),
    ("caller_gating", caller_gating),
    ("dispatch_errors", dispatch_errors),
    ("walkthrough", walkthrough),
];

fn atto(n: i64) -> TokenAmount {
    TokenAmount::from_atto(n)
}

fn fil(n: i64) -> TokenAmount {
    TokenAmount::from_whole(n)
}

const CODE_16: ExitCode = ExitCode::USR_ILLEGAL_ARGUMENT;

/// Two accounts with ample FIL for gas.
fn genesis(bundle: &Bundle) -> (HarnessBuilder, Party, Party) {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let payee = b.secp_account(fil(1000));
    (b, payer, payee)
}

fn start(b: HarnessBuilder, lenient: bool) -> Harness {
    let h = b.build().expect("start machine");
    h.set_lenient(lenient);
    h
}

/// The reference fixture `require_create_channel_with_lanes(n)`: a channel of
/// 100 000 attoFIL at epoch 2 with lanes 0..n, lane i redeemed by the payer
/// submitting a voucher signed by the payee (amount i+1, nonce i+1, time locks
/// 2..=i64::MAX). Returns the last voucher with its nonce incremented.
struct Fixture {
    h: Harness,
    payer: Party,
    payee: Party,
    channel: Channel,
    next: SignedVoucher,
}

fn fixture(bundle: &Bundle, lenient: bool, lanes: u64, balance: TokenAmount) -> Fixture {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    h.set_epoch(2);
    let channel = h.create_channel(&payer, &payee, balance);
    let mut last = None;
    for i in 0..lanes {
        let mut sv = h.voucher(&channel, i, i + 1, atto(i as i64 + 1));
        sv.time_lock_min = 2;
        sv.time_lock_max = i64::MAX;
        Harness::sign(&mut sv, &payee);
        let ret = h.update(&format!("fixture lane {i}"), &payer, &channel, &sv, &[]);
        h.expect_ok(&format!("fixture lane {i}"), &ret);
        last = Some(sv);
    }
    let mut next = last.unwrap_or_else(|| h.voucher(&channel, 0, 0, atto(0)));
    next.nonce += 1;
    next.signature = None;
    Fixture {
        h,
        payer,
        payee,
        channel,
        next,
    }
}

fn standard_fixture(bundle: &Bundle, lenient: bool, lanes: u64) -> Fixture {
    fixture(bundle, lenient, lanes, atto(100_000))
}

// ----- constructor ----------------------------------------------------------

pub fn create_paych_actor(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(100));
    let st = h.channel_state(&channel).expect("channel exists");
    h.expect_eq("from", st.from, payer.address());
    h.expect_eq("to", st.to, payee.address());
    h.expect_eq("to_send", st.to_send, atto(0));
    h.expect_eq("settling_at", st.settling_at, 0);
    h.expect_eq("min_settle_height", st.min_settle_height, 0);
    h.expect_eq("balance", h.balance(channel.id), atto(100));
    h.expect_eq(
        "robust address",
        h.resolve(&channel.robust),
        Some(channel.id),
    );
    // The lane AMT: version 3 root [bit_width, height, count, node], empty.
    let (bit_width, height, count, _): (u32, u32, u64, serde::de::IgnoredAny) = h
        .store()
        .get_cbor(&st.lane_states)
        .expect("read")
        .expect("AMT root");
    h.expect_eq("lane AMT bit width", bit_width, 3);
    h.expect_eq("lane AMT height", height, 0);
    h.expect_eq("lane AMT count", count, 0);
    h
}

/// Key addresses of existing accounts (f1, f3) are stored as their IDs.
pub fn constructor_resolves_key_addresses_to_ids(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.bls_account(fil(1000));
    let payee = b.secp_account(fil(1000));
    let mut h = start(b, lenient);
    let (ret, channel) = h.try_create_channel(
        "create with key addresses",
        &payer,
        payer.key_address(),
        payee.key_address(),
        atto(10),
    );
    h.expect_ok("create with key addresses", &ret);
    if let Some(channel) = channel {
        let st = h.channel_state(&channel).expect("channel");
        h.expect_eq("from stored as ID", st.from, payer.address());
        h.expect_eq("to stored as ID", st.to, payee.address());
    }
    h
}

/// On chain the constructor's zero-value send to a new f1/f3/f4 address
/// creates the account (or placeholder), so the channel is created with the
/// new actor's ID (the reference's mock tests, where the send creates
/// nothing, end in 16 instead).
pub fn constructor_creates_accounts_for_new_key_addresses(
    bundle: &Bundle,
    lenient: bool,
) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let new_bls = b.unused_key(KeyType::Bls);
    let new_secp = b.unused_key(KeyType::Secp256k1);
    let mut h = start(b, lenient);

    let (ret, channel) = h.try_create_channel(
        "to a new BLS key",
        &payer,
        payer.address(),
        new_bls.address(),
        atto(10),
    );
    h.expect_ok("to a new BLS key", &ret);
    let created = h.resolve(&new_bls.address());
    h.expect_eq("BLS account created", created.is_some(), true);
    if let (Some(channel), Some(id)) = (channel, created) {
        h.expect_eq(
            "to is the new account",
            h.channel_state(&channel).map(|s| s.to),
            Some(Address::new_id(id)),
        );
    }

    let (ret, channel) = h.try_create_channel(
        "from a new secp key",
        &payer,
        new_secp.address(),
        payer.address(),
        atto(10),
    );
    h.expect_ok("from a new secp key", &ret);
    let created = h.resolve(&new_secp.address());
    if let (Some(channel), Some(id)) = (channel, created) {
        h.expect_eq(
            "from is the new account",
            h.channel_state(&channel).map(|s| s.from),
            Some(Address::new_id(id)),
        );
    }

    // A new f410 (EVM-style) address becomes a placeholder: any actor type
    // may be a party.
    let eth = Address::new_delegated(10, &[0x42; 20]).expect("f410 address");
    let (ret, channel) = h.try_create_channel(
        "to a new f410 address",
        &payer,
        payer.address(),
        eth,
        atto(10),
    );
    h.expect_ok("to a new f410 address", &ret);
    let placeholder = h.resolve(&eth);
    h.expect_eq("placeholder created", placeholder.is_some(), true);
    if let (Some(channel), Some(id)) = (channel, placeholder) {
        h.expect_eq(
            "to is the placeholder",
            h.channel_state(&channel).map(|s| s.to),
            Some(Address::new_id(id)),
        );
    }
    h
}

pub fn constructor_rejects_parties_without_code(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, _) = genesis(bundle);
    let mut h = start(b, lenient);
    // An ID address resolves to itself, but nothing lives there: 17.
    let nobody = Address::new_id(9_999_999);
    let (ret, _) = h.try_create_channel(
        "to an ID with no actor",
        &payer,
        payer.address(),
        nobody,
        atto(10),
    );
    h.expect_code("to an ID with no actor", &ret, ExitCode::USR_NOT_FOUND);
    let (ret, _) = h.try_create_channel(
        "from an ID with no actor",
        &payer,
        nobody,
        payer.address(),
        atto(10),
    );
    h.expect_code("from an ID with no actor", &ret, ExitCode::USR_NOT_FOUND);
    // A robust (f2) address no actor has: the zero-value send cannot create
    // one and the FVM reports the receiver missing (23).
    let ghost = Address::new_actor(b"no such actor");
    let (ret, _) =
        h.try_create_channel("to an unknown f2", &payer, payer.address(), ghost, atto(10));
    h.expect_code("to an unknown f2", &ret, ExitCode::USR_UNSPECIFIED);
    h.expect_eq(
        "payer kept its funds (minus gas)",
        h.balance(payer.id) > fil(999),
        true,
    );
    h
}

/// Only Init may call the constructor: an account calling method 1 directly
/// on a live channel is refused (18).
pub fn constructor_only_from_init(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(10));
    let before = h.view(channel.id);
    let params = fvm_ipld_encoding::to_vec(&paych_actor::ConstructorParams {
        from: payee.address(),
        to: payer.address(),
    })
    .unwrap();
    let ret = h.call_raw("constructor from an account", &payer, &channel, 1, params);
    h.expect_code("constructor from an account", &ret, ExitCode::USR_FORBIDDEN);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}

// ----- create lane ------------------------------------------------------------

/// The reference's create-lane table: balance 9 attoFIL, epoch 1, a voucher
/// (tl_min 1, lane 0, nonce 0, amount 1) signed by the payer and submitted by
/// the payee. Every failure leaves the state as it was.
pub fn create_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let stranger = b.secp_account(fil(10));
    let unknown_bls = b.unused_key(KeyType::Bls);
    let mut h = start(b, lenient);
    h.set_epoch(1);
    let channel = h.create_channel(&payer, &payee, atto(9));
    let other_channel = h.create_channel(&payer, &payee, atto(9));
    let initial = h.view(channel.id);

    let base = {
        let mut sv = h.voucher(&channel, 0, 0, atto(1));
        sv.time_lock_min = 1;
        sv
    };
    let signed = |sv: &SignedVoucher, by: &Party| {
        let mut sv = sv.clone();
        Harness::sign(&mut sv, by);
        sv
    };

    type Case = (
        &'static str,
        i64,
        Box<dyn Fn(&mut SignedVoucher)>,
        Option<bool>,
    );
    // (label, epoch, change, sign with payer? None = unsigned / Some(false) = stranger)
    let cases: Vec<Case> = vec![
        (
            "channel_addr of another channel",
            1,
            Box::new(move |sv| sv.channel_addr = other_channel.robust),
            Some(true),
        ),
        (
            "channel_addr unresolvable BLS",
            1,
            Box::new(move |sv| sv.channel_addr = unknown_bls.address()),
            Some(true),
        ),
        (
            "amount -1",
            1,
            Box::new(|sv| sv.amount = atto(-1)),
            Some(true),
        ),
        (
            "amount 10 > balance 9",
            1,
            Box::new(|sv| sv.amount = atto(10)),
            Some(true),
        ),
        ("no signature", 1, Box::new(|_| {}), None),
        (
            "epoch 1 < time_lock_min 10",
            1,
            Box::new(|sv| sv.time_lock_min = 10),
            Some(true),
        ),
        (
            "epoch 10 > time_lock_max 5",
            10,
            Box::new(|sv| sv.time_lock_max = 5),
            Some(true),
        ),
        (
            "signed by a stranger (AuthenticateMessage exits 16)",
            1,
            Box::new(|_| {}),
            Some(false),
        ),
    ];
    for (label, epoch, change, signer) in cases {
        h.set_epoch(epoch);
        let mut sv = base.clone();
        change(&mut sv);
        let sv = match signer {
            Some(true) => signed(&sv, &payer),
            Some(false) => signed(&sv, &stranger),
            None => sv,
        };
        let ret = h.update(label, &payee, &channel, &sv, &[]);
        h.expect_code(label, &ret, CODE_16);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            initial.clone(),
        );
    }

    h.set_epoch(1);
    // The channel's ID address (a different alias of the same actor) works too.
    let mut by_id = base.clone();
    by_id.channel_addr = channel.address();
    let ret = h.update(
        "channel_addr as ID address",
        &payee,
        &channel,
        &signed(&by_id, &payer),
        &[],
    );
    h.expect_ok("channel_addr as ID address", &ret);
    h.expect_eq(
        "lane 0 after ID-addressed voucher",
        h.lanes(&channel).get(&0).cloned(),
        Some(LaneState {
            redeemed: atto(1),
            nonce: 0,
        }),
    );

    // And the robust address, on a fresh channel: one lane, redeemed 1, nonce 0.
    let fresh = h.create_channel(&payer, &payee, atto(9));
    let mut sv = h.voucher(&fresh, 0, 0, atto(1));
    sv.time_lock_min = 1;
    let ret = h.update("succeeds", &payee, &fresh, &signed(&sv, &payer), &[]);
    h.expect_ok("succeeds", &ret);
    let view = h.view(fresh.id).expect("channel");
    h.expect_eq(
        "one lane",
        view.lanes,
        vec![(
            0,
            LaneState {
                redeemed: atto(1),
                nonce: 0,
            },
        )],
    );
    h.expect_eq("to_send", view.to_send, atto(1));
    h
}

// ----- redeem -----------------------------------------------------------------

pub fn redeem_voucher_one_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        mut next,
    } = standard_fixture(bundle, lenient, 1);
    next.amount = atto(9);
    Harness::sign(&mut next, &payee);
    let ret = h.update("redeem amount 9 nonce 2", &payer, &channel, &next, &[]);
    h.expect_ok("redeem amount 9 nonce 2", &ret);
    let view = h.view(channel.id).expect("channel");
    h.expect_eq("to_send", view.to_send, atto(9));
    h.expect_eq(
        "lane 0",
        view.lanes,
        vec![(
            0,
            LaneState {
                redeemed: atto(9),
                nonce: 2,
            },
        )],
    );
    h
}

pub fn redeem_voucher_correct_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id).expect("channel");
    let old = h.lanes(&channel)[&1].clone();
    let mut sv = h.voucher(&channel, 1, old.nonce + 1, atto(9));
    sv.time_lock_min = 2;
    sv.time_lock_max = i64::MAX;
    Harness::sign(&mut sv, &payee);
    let ret = h.update("redeem lane 1", &payer, &channel, &sv, &[]);
    h.expect_ok("redeem lane 1", &ret);
    let after = h.view(channel.id).expect("channel");
    h.expect_eq(
        "to_send grows by the lane's delta",
        after.to_send,
        &before.to_send + atto(9) - &old.redeemed,
    );
    h.expect_eq(
        "lane 1",
        h.lanes(&channel)[&1].clone(),
        LaneState {
            redeemed: atto(9),
            nonce: old.nonce + 1,
        },
    );
    h.expect_eq(
        "lane 0 untouched",
        h.lanes(&channel)[&0].clone(),
        before.lanes[0].1.clone(),
    );
    h
}

pub fn redeem_voucher_nonce_reuse(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id);
    // Lane 2 holds nonce 3; nonce 1 (and 3 itself) are stale.
    for nonce in [1, 3] {
        let mut sv = h.voucher(&channel, 2, nonce, atto(50));
        Harness::sign(&mut sv, &payee);
        let label = format!("stale nonce {nonce} on lane 2");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, CODE_16);
    }
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}

// ----- merges -----------------------------------------------------------------

pub fn merge_success(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id).expect("channel");
    let lanes = h.lanes(&channel);
    let mut sv = h.voucher(&channel, 0, 4, atto(3));
    sv.merges = vec![Merge { lane: 1, nonce: 11 }];
    Harness::sign(&mut sv, &payee);
    let ret = h.update("merge lane 1 into lane 0", &payer, &channel, &sv, &[]);
    h.expect_ok("merge lane 1 into lane 0", &ret);
    let after = h.lanes(&channel);
    h.expect_eq(
        "lane 0",
        after[&0].clone(),
        LaneState {
            redeemed: atto(3),
            nonce: 4,
        },
    );
    h.expect_eq(
        "lane 1 nonce moves, redeemed stays",
        after[&1].clone(),
        LaneState {
            redeemed: lanes[&1].redeemed.clone(),
            nonce: 11,
        },
    );
    let expected = &before.to_send + atto(3) - (&lanes[&0].redeemed + &lanes[&1].redeemed);
    h.expect_eq("to_send", h.view(channel.id).unwrap().to_send, expected);
    h
}

pub fn merge_failure(bundle: &Bundle, lenient: bool) -> Harness {
    // Two lanes ({1,1}, {2,2}) in a channel holding exactly their sum, 3.
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = fixture(bundle, lenient, 2, atto(3));
    let before = h.view(channel.id);
    let cases: [(&str, u64, u64, i64, Vec<Merge>); 4] = [
        (
            "merge nonce 1 <= lane 1's 2",
            0,
            5,
            1,
            vec![Merge { lane: 1, nonce: 1 }],
        ),
        (
            "voucher nonce 0 <= lane 0's 1",
            0,
            0,
            1,
            vec![Merge { lane: 1, nonce: 5 }],
        ),
        (
            "to_send 4 would exceed balance 3",
            0,
            5,
            4,
            vec![Merge { lane: 1, nonce: 5 }],
        ),
        (
            "merge lane 0 into itself",
            0,
            5,
            1,
            vec![Merge { lane: 0, nonce: 5 }],
        ),
    ];
    for (label, lane, nonce, amount, merges) in cases {
        let mut sv = h.voucher(&channel, lane, nonce, atto(amount));
        sv.merges = merges;
        Harness::sign(&mut sv, &payee);
        let ret = h.update(label, &payer, &channel, &sv, &[]);
        h.expect_code(label, &ret, CODE_16);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    h
}

pub fn invalid_merge_lane_999(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        mut next,
    } = standard_fixture(bundle, lenient, 2);
    let before = h.view(channel.id);
    next.merges = vec![Merge {
        lane: 999,
        nonce: 1,
    }];
    Harness::sign(&mut next, &payee);
    let ret = h.update(
        "merge of a lane that does not exist",
        &payer,
        &channel,
        &next,
        &[],
    );
    h.expect_code("merge of a lane that does not exist", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}

/// Lane MAX_LANE+1 is refused; MAX_LANE itself is a valid lane.
pub fn lane_limits(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 1);
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, MAX_LANE + 1, 1, atto(1));
    Harness::sign(&mut sv, &payee);
    let ret = h.update("lane MAX_LANE+1", &payer, &channel, &sv, &[]);
    h.expect_code("lane MAX_LANE+1", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);

    let mut sv = h.voucher(&channel, MAX_LANE, 1, atto(5));
    Harness::sign(&mut sv, &payee);
    let ret = h.update("lane MAX_LANE", &payer, &channel, &sv, &[]);
    h.expect_ok("lane MAX_LANE", &ret);
    h.expect_eq(
        "lane MAX_LANE stored",
        h.lanes(&channel).get(&MAX_LANE).cloned(),
        Some(LaneState {
            redeemed: atto(5),
            nonce: 1,
        }),
    );

    let mut sv = h.voucher(&channel, 0, 2, atto(2));
    sv.merges = vec![Merge {
        lane: MAX_LANE + 1,
        nonce: 1,
    }];
    Harness::sign(&mut sv, &payee);
    let ret = h.update("merge lane MAX_LANE+1", &payer, &channel, &sv, &[]);
    h.expect_code("merge lane MAX_LANE+1", &ret, CODE_16);
    h
}

// ----- the extra call -----------------------------------------------------------

fn extra_call(bundle: &Bundle, lenient: bool, exit_code: u32) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let target = b.probe(
        Config {
            auth_reply: auth_reply::TRUE,
            exit_code,
        },
        atto(0),
    );
    let mut h = start(b, lenient);
    h.set_epoch(2);
    let channel = h.create_channel(&payer, &payee, atto(100_000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    sv.extra = Some(ModVerifyParams {
        actor: target.address(),
        method: 2,
        data: RawBytes::new(vec![1, 2, 3, 4]),
    });
    Harness::sign(&mut sv, &payee);
    let ret = h.update("voucher with an extra call", &payer, &channel, &sv, &[]);
    if exit_code == 0 {
        h.expect_ok("voucher with an extra call", &ret);
        let calls = h.probe_state(&target).calls;
        h.expect_eq("one extra call", calls.len(), 1);
        if let Some(call) = calls.first() {
            h.expect_eq("from the channel", call.caller, channel.id);
            h.expect_eq("method", call.method, 2);
            h.expect_eq("codec CBOR", call.codec, fvm_ipld_encoding::CBOR);
            h.expect_eq("data verbatim", call.data.to_vec(), vec![1, 2, 3, 4]);
            h.expect_eq("no value", call.value.clone(), atto(0));
        }
        h.expect_eq("redeemed", h.view(channel.id).unwrap().to_send, atto(10));
    } else {
        h.expect_code("extra call fails", &ret, ExitCode::new(exit_code));
        h.expect_eq("state unchanged", h.view(channel.id), before);
        h.expect_eq(
            "callee's state reverted",
            h.probe_state(&target).calls.len(),
            0,
        );
    }
    h
}

pub fn extra_call_succeed(bundle: &Bundle, lenient: bool) -> Harness {
    extra_call(bundle, lenient, 0)
}

pub fn extra_call_fail(bundle: &Bundle, lenient: bool) -> Harness {
    extra_call(bundle, lenient, ExitCode::USR_UNSPECIFIED.value())
}

// ----- authentication -----------------------------------------------------------

/// The payee is a probe whose AuthenticateMessage reply is chosen; the payer
/// submits vouchers "signed" by it. Each reply maps to the reference's code.
pub fn authenticate_message_outcomes(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, _) = genesis(bundle);
    let probe = b.probe(Config::default(), atto(0));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &probe, atto(1000));
    let cases = [
        ("reply false", auth_reply::FALSE, 0, CODE_16),
        (
            "no return value",
            auth_reply::NO_VALUE,
            0,
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (
            "undecodable return",
            auth_reply::GARBAGE,
            0,
            ExitCode::USR_SERIALIZATION,
        ),
        ("signer exits 16", auth_reply::EXIT, 16, CODE_16),
        (
            "signer exits 22",
            auth_reply::EXIT,
            22,
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        // An actor cannot exit with a system code: the FVM turns it into
        // SYS_ILLEGAL_EXIT_CODE, which the channel reports as 23.
        (
            "signer exits with system code 4",
            auth_reply::EXIT,
            4,
            ExitCode::USR_UNSPECIFIED,
        ),
    ];
    let before = h.view(channel.id);
    for (i, (label, reply, code, expected)) in cases.into_iter().enumerate() {
        configure_probe(
            &mut h,
            &payer,
            &probe,
            Config {
                auth_reply: reply,
                exit_code: code,
            },
        );
        let mut sv = h.voucher(&channel, 0, i as u64 + 1, atto(5));
        sv.signature = Some(fvm_shared::crypto::signature::Signature::new_secp256k1(
            vec![7; 65],
        ));
        let ret = h.update(label, &payer, &channel, &sv, &[]);
        h.expect_code(label, &ret, expected);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    configure_probe(
        &mut h,
        &payer,
        &probe,
        Config {
            auth_reply: auth_reply::TRUE,
            exit_code: 0,
        },
    );
    let mut sv = h.voucher(&channel, 0, 1, atto(5));
    sv.signature = Some(fvm_shared::crypto::signature::Signature::new_secp256k1(
        vec![7; 65],
    ));
    let ret = h.update("reply true", &payer, &channel, &sv, &[]);
    h.expect_ok("reply true", &ret);
    h.expect_eq("redeemed", h.view(channel.id).unwrap().to_send, atto(5));
    h
}

/// Vouchers signed with BLS keys: the account actor verifies them against its
/// f3 key, in both directions; a voucher signed by another BLS key is refused.
pub fn bls_signed_vouchers(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.bls_account(fil(1000));
    let payee = b.bls_account(fil(1000));
    let impostor = b.bls_account(fil(1));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));

    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    Harness::sign(&mut sv, &payer);
    let ret = h.update(
        "payee submits a BLS voucher from the payer",
        &payee,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("payee submits a BLS voucher from the payer", &ret);

    let mut sv = h.voucher(&channel, 1, 1, atto(20));
    Harness::sign(&mut sv, &payee);
    let ret = h.update(
        "payer submits a BLS voucher from the payee",
        &payer,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("payer submits a BLS voucher from the payee", &ret);

    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 2, atto(500));
    Harness::sign(&mut sv, &impostor);
    let ret = h.update(
        "BLS voucher signed by another key",
        &payee,
        &channel,
        &sv,
        &[],
    );
    h.expect_code("BLS voucher signed by another key", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h.expect_eq("to_send", h.view(channel.id).unwrap().to_send, atto(30));
    h
}

fn configure_probe(h: &mut Harness, sender: &Party, probe: &Party, config: Config) {
    let ret = h.apply(
        "configure probe",
        sender,
        probe.address(),
        test_probe::CONFIGURE_METHOD,
        RawBytes::serialize(config).unwrap(),
        atto(0),
    );
    h.expect_ok("configure probe", &ret);
}

// ----- settling -------------------------------------------------------------------

/// Settle at epoch 10 gives settling_at 1450; vouchers with min_settle_height
/// 0, 2, 12, 1451 leave (msh, settling_at) at (0,1450), (2,1450), (12,1450),
/// (1451,1451).
pub fn update_channel_settling(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    h.set_epoch(10);
    let ret = h.settle("settle at 10", &payer, &channel);
    h.expect_ok("settle at 10", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.expect_eq(
        "settling_at",
        (st.min_settle_height, st.settling_at),
        (0, 1450),
    );
    let expectations = [
        (0, (0, 1450)),
        (2, (2, 1450)),
        (12, (12, 1450)),
        (1451, (1451, 1451)),
    ];
    for (i, (msh, expected)) in expectations.into_iter().enumerate() {
        let mut sv = next.clone();
        sv.nonce = next.nonce + i as u64;
        sv.min_settle_height = msh;
        Harness::sign(&mut sv, &payee);
        let label = format!("voucher with min_settle_height {msh}");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_ok(&label, &ret);
        let st = h.channel_state(&channel).unwrap();
        h.expect_eq(&label, (st.min_settle_height, st.settling_at), expected);
    }
    h
}

pub fn secret_preimage(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    // No hash, empty secret: fine.
    let mut sv = next.clone();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("no hash, empty secret", &payer, &channel, &sv, &[]);
    h.expect_ok("no hash, empty secret", &ret);

    // The reference's incorrect secret: "Profesr" against "Magneto" + 25 zeros.
    let mut hash = b"Magneto".to_vec();
    hash.resize(32, 0);
    let mut sv = next.clone();
    sv.nonce += 1;
    sv.secret_pre_image = hash;
    Harness::sign(&mut sv, &payee);
    let before = h.view(channel.id);
    let ret = h.update("incorrect secret", &payer, &channel, &sv, b"Profesr");
    h.expect_code("incorrect secret", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);

    // The right secret for a real blake2b-256 hash.
    let mut sv = next.clone();
    sv.nonce += 1;
    sv.secret_pre_image = paych_client::keys::blake2b_256(b"Professor").to_vec();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("correct secret", &payer, &channel, &sv, b"Professor");
    h.expect_ok("correct secret", &ret);

    // A secret longer than 256 bytes is refused even with a matching hash.
    let long = vec![1u8; 257];
    let mut sv = next.clone();
    sv.nonce += 2;
    sv.secret_pre_image = paych_client::keys::blake2b_256(&long).to_vec();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("secret of 257 bytes", &payer, &channel, &sv, &long);
    h.expect_code("secret of 257 bytes", &ret, CODE_16);
    h
}

pub fn settle(bundle: &Bundle, lenient: bool) -> Harness {
    // adjust_settling_at and call_twice.
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    h.set_epoch(10);
    let ret = h.settle("settle at 10", &payee, &channel);
    h.expect_ok("settle at 10", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.expect_eq(
        "settling_at 1450, msh 0",
        (st.settling_at, st.min_settle_height),
        (1450, 0),
    );
    let ret = h.settle("settle twice", &payer, &channel);
    h.expect_code("settle twice", &ret, ExitCode::USR_ILLEGAL_STATE);
    h.expect_eq(
        "settling_at unchanged",
        h.channel_state(&channel).unwrap().settling_at,
        1450,
    );

    // Updates are accepted up to settling_at - 1 and refused from settling_at on (32).
    h.set_epoch(1449);
    let mut sv = next.clone();
    Harness::sign(&mut sv, &payee);
    let ret = h.update(
        "voucher one epoch before settling_at",
        &payer,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("voucher one epoch before settling_at", &ret);
    for epoch in [1450, 1450 + 40] {
        h.set_epoch(epoch);
        let mut sv = next.clone();
        sv.nonce += 1;
        Harness::sign(&mut sv, &payee);
        let label = format!("voucher at epoch {epoch} (settling_at 1450)");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED);
    }
    // The signature-presence check comes first: unsigned after settling_at is 16.
    let ret = h.update(
        "unsigned voucher after settling_at",
        &payer,
        &channel,
        &next,
        &[],
    );
    h.expect_code("unsigned voucher after settling_at", &ret, CODE_16);

    // settle_if_height_less: a voucher's min_settle_height before Settle.
    let fresh = h.create_channel(&payer, &payee, atto(100_000));
    h.set_epoch(10);
    let mut sv2 = h.voucher(&fresh, 0, 1, atto(1));
    sv2.min_settle_height = 1451;
    Harness::sign(&mut sv2, &payee);
    let ret = h.update(
        "voucher with msh 1451 before settling",
        &payer,
        &fresh,
        &sv2,
        &[],
    );
    h.expect_ok("voucher with msh 1451 before settling", &ret);
    let st = h.channel_state(&fresh).unwrap();
    h.expect_eq(
        "not settling, msh 1451",
        (st.settling_at, st.min_settle_height),
        (0, 1451),
    );
    let ret = h.settle("settle with msh 1451", &payer, &fresh);
    h.expect_ok("settle with msh 1451", &ret);
    h.expect_eq(
        "settling_at = msh",
        h.channel_state(&fresh).unwrap().settling_at,
        1451,
    );
    h
}

// ----- collect --------------------------------------------------------------------

pub fn collect_happy_path(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 1);
    let ret = h.settle("settle", &payer, &channel);
    h.expect_ok("settle", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.set_epoch(st.settling_at + 1);
    let (payer_before, payee_before) = (h.balance(payer.id), h.balance(payee.id));
    let channel_balance = h.balance(channel.id);
    let ret = h.collect("collect after settling_at", &payee, &channel);
    h.expect_ok("collect after settling_at", &ret);
    let gas = Harness::gas_cost(&ret);
    h.expect_eq(
        "payee receives to_send (minus its gas)",
        h.balance(payee.id),
        payee_before + &st.to_send - gas,
    );
    h.expect_eq(
        "payer receives the rest",
        h.balance(payer.id),
        payer_before + channel_balance - &st.to_send,
    );
    h.expect_eq("channel deleted", h.actor(channel.id).is_none(), true);
    h.expect_eq(
        "robust address no longer resolves to an actor",
        h.resolve(&channel.robust)
            .and_then(|id| h.actor(id))
            .is_none(),
        true,
    );
    h
}

pub fn collect_refusals(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, _) = genesis(bundle);
    let probe = b.probe(Config::default(), atto(0));
    let payee = b.secp_account(fil(1000));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let ret = h.collect("collect while not settling", &payer, &channel);
    h.expect_code("collect while not settling", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.settle("settle", &payee, &channel);
    h.expect_ok("settle", &ret);
    let settling_at = h.channel_state(&channel).unwrap().settling_at;
    h.set_epoch(settling_at - 1);
    let ret = h.collect("collect one epoch early", &payer, &channel);
    h.expect_code("collect one epoch early", &ret, ExitCode::USR_FORBIDDEN);
    h.set_epoch(settling_at);
    let before = h.balance(payer.id);
    let ret = h.collect("collect exactly at settling_at", &payer, &channel);
    h.expect_ok("collect exactly at settling_at", &ret);
    h.expect_eq(
        "nothing redeemed: payer gets it all back",
        h.balance(payer.id),
        before + atto(1000) - Harness::gas_cost(&ret),
    );

    // The payee's actor disappears before Collect: the send to it fails with
    // "receiver not found" (23) and nothing moves.
    let doomed = h.create_channel(&payer, &probe, atto(1000));
    let ret = h.settle("settle (payee will vanish)", &payer, &doomed);
    h.expect_ok("settle (payee will vanish)", &ret);
    let ret = h.apply(
        "payee self-destructs",
        &payer,
        probe.address(),
        test_probe::DESTRUCT_METHOD,
        RawBytes::default(),
        atto(0),
    );
    h.expect_ok("payee self-destructs", &ret);
    h.set_epoch(h.channel_state(&doomed).unwrap().settling_at);
    let ret = h.collect("collect to a vanished payee", &payer, &doomed);
    h.expect_code(
        "collect to a vanished payee",
        &ret,
        ExitCode::USR_UNSPECIFIED,
    );
    h.expect_eq(
        "channel still holds its funds",
        h.balance(doomed.id),
        atto(1000),
    );
    h
}

/// Settle, Collect and UpdateChannelState refuse anyone but the two parties
/// (18), and a user actor cannot call the channel at all (18).
pub fn caller_gating(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let stranger = b.secp_account(fil(1000));
    let forwarder = b.probe(Config::default(), atto(0));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(5));
    Harness::sign(&mut sv, &payer);
    let ret = h.update("update from a stranger", &stranger, &channel, &sv, &[]);
    h.expect_code("update from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.settle("settle from a stranger", &stranger, &channel);
    h.expect_code("settle from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.collect("collect from a stranger", &stranger, &channel);
    h.expect_code("collect from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    h.expect_eq("state unchanged", h.view(channel.id), before.clone());

    let forward = test_probe::ForwardParams {
        to: channel.address(),
        method: 3,
        params: RawBytes::default(),
    };
    let ret = h.apply(
        "user actor calls Settle",
        &payer,
        forwarder.address(),
        test_probe::FORWARD_METHOD,
        RawBytes::serialize(forward).unwrap(),
        atto(0),
    );
    h.expect_ok("forwarder ran", &ret);
    let inner: u32 = ret.msg_receipt.return_data.deserialize().unwrap_or(0);
    h.expect_eq(
        "the channel refused the user actor",
        inner,
        ExitCode::USR_FORBIDDEN.value(),
    );
    h.expect_eq("state unchanged", h.view(channel.id), before);

    // Anyone may add funds: a plain send runs no actor code.
    let ret = h.add_funds("a stranger adds funds", &stranger, &channel, atto(7));
    h.expect_ok("a stranger adds funds", &ret);
    h.expect_eq("balance grew", h.balance(channel.id), atto(1007));
    h
}

/// Unknown methods, missing, unexpected and undecodable parameters.
pub fn dispatch_errors(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let before = h.view(channel.id);
    let cases: Vec<(&str, u64, Vec<u8>, ExitCode)> = vec![
        (
            "unknown method 5",
            5,
            vec![],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        (
            "unknown exported method",
            1 << 24,
            vec![],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        ("Settle with params", 3, vec![0x80], CODE_16),
        ("Collect with params", 4, vec![0xf6], CODE_16),
        ("UpdateChannelState without params", 2, vec![], CODE_16),
        (
            "UpdateChannelState with garbage",
            2,
            vec![0xff, 0x00, 0x13],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with an empty array",
            2,
            vec![0x80],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with a 3-tuple (pre-v2 shape)",
            2,
            vec![0x83, 0xf6, 0x40, 0x40],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with an integer",
            2,
            vec![0x01],
            ExitCode::USR_SERIALIZATION,
        ),
    ];
    for (label, method, params, expected) in cases {
        let ret = h.call_raw(label, &payer, &channel, method, params);
        h.expect_code(label, &ret, expected);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    h
}

// ----- the walkthrough ------------------------------------------------------------

/// The classic CLI walkthrough through real messages, checking balances after
/// every step: a 10 FIL channel; vouchers of 2 then 4 FIL on lane 0 signed by
/// the client; 5 FIL more; settle; the provider submits its best voucher;
/// Collect is refused before the settle delay and then pays 4 FIL to the
/// provider and 11 FIL back to the client.
pub fn walkthrough(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let client = b.secp_account(fil(100));
    let provider = b.secp_account(fil(100));
    let mut h = start(b, lenient);
    h.set_epoch(1);

    // paych add-funds <client> <provider> 10
    let client_before = h.balance(client.id);
    let (ret, channel) = h.try_create_channel(
        "add-funds 10 (create)",
        &client,
        client.address(),
        provider.address(),
        fil(10),
    );
    h.expect_ok("add-funds 10 (create)", &ret);
    let channel = channel.expect("channel created");
    h.expect_eq("channel holds 10 FIL", h.balance(channel.id), fil(10));
    h.expect_eq(
        "client paid 10 FIL + gas",
        h.balance(client.id),
        &client_before - fil(10) - Harness::gas_cost(&ret),
    );

    // paych voucher create <ch> 2 0; paych voucher create <ch> 4 0
    let mut v1 = h.voucher(&channel, 0, 1, fil(2));
    Harness::sign(&mut v1, &client);
    let mut v2 = h.voucher(&channel, 0, 2, fil(4));
    Harness::sign(&mut v2, &client);
    // The provider (voucher add) keeps both after checking the client signed them.
    for v in [&v1, &v2] {
        let text = paych_client::voucher::encode(v);
        let received = paych_client::voucher::decode(&text).expect("voucher text");
        h.expect_eq(
            "voucher signed by the client",
            paych_client::voucher::is_signed_by(&received, &client.key_address()).unwrap(),
            true,
        );
    }

    // paych add-funds <client> <provider> 5 (same channel)
    h.advance(1);
    let client_before = h.balance(client.id);
    let ret = h.add_funds("add-funds 5", &client, &channel, fil(5));
    h.expect_ok("add-funds 5", &ret);
    h.expect_eq("channel holds 15 FIL", h.balance(channel.id), fil(15));
    h.expect_eq(
        "client paid 5 FIL + gas",
        h.balance(client.id),
        &client_before - fil(5) - Harness::gas_cost(&ret),
    );

    // paych settle <ch>
    h.advance(1);
    let ret = h.settle("settle", &client, &channel);
    h.expect_ok("settle", &ret);
    let settling_at = h.channel_state(&channel).unwrap().settling_at;
    h.expect_eq(
        "settling_at = now + 1440",
        settling_at,
        h.epoch() + SETTLE_DELAY,
    );

    // paych voucher best-spendable / submit: the provider submits the 4 FIL voucher.
    h.advance(1);
    let provider_before = h.balance(provider.id);
    let ret = h.update("voucher submit (4 FIL)", &provider, &channel, &v2, &[]);
    h.expect_ok("voucher submit (4 FIL)", &ret);
    h.expect_eq(
        "to_send 4 FIL",
        h.channel_state(&channel).unwrap().to_send,
        fil(4),
    );
    h.expect_eq(
        "provider paid gas only",
        h.balance(provider.id),
        &provider_before - Harness::gas_cost(&ret),
    );
    let ret = h.update(
        "the superseded 2 FIL voucher",
        &provider,
        &channel,
        &v1,
        &[],
    );
    h.expect_code("the superseded 2 FIL voucher", &ret, CODE_16);

    // paych collect before the settle delay has passed: refused.
    h.set_epoch(settling_at - 1);
    let ret = h.collect("collect before the settle delay", &client, &channel);
    h.expect_code(
        "collect before the settle delay",
        &ret,
        ExitCode::USR_FORBIDDEN,
    );
    h.expect_eq("channel still holds 15 FIL", h.balance(channel.id), fil(15));

    // paych collect after it: 4 FIL to the provider, 11 FIL back to the client.
    h.set_epoch(settling_at);
    let (client_before, provider_before) = (h.balance(client.id), h.balance(provider.id));
    let ret = h.collect("collect", &client, &channel);
    h.expect_ok("collect", &ret);
    h.expect_eq(
        "provider received 4 FIL",
        h.balance(provider.id),
        provider_before + fil(4),
    );
    h.expect_eq(
        "client received 11 FIL minus its gas",
        h.balance(client.id),
        client_before + fil(11) - Harness::gas_cost(&ret),
    );
    h.expect_eq("channel actor gone", h.actor(channel.id).is_none(), true);
    h
}
