//! The conformance checklist of the reference (§7) and the walkthrough, as
//! scripts over the harness. Each scenario builds its own machine from a
//! bundle, so the same script runs against our payment channel, against a real
//! builtin-actors bundle with ours swapped in, or against the bundle's own
//! payment channel (differential runs).
//!
//! Where the reference's unit tests rely on things only a mock can do (an
//! arbitrary balance, a send that creates nothing), the scenario reaches the
//! same check through real messages and says so.
//!
//! One file per topic, as builtin-actors' integration tests are laid out:
//! [`constructor`], [`create_lane`], [`redeem`], [`merges`], [`extra`],
//! [`authentication`], [`settling`], [`secret`], [`collect`], [`gating`]
//! (who may call what, and dispatch errors), [`reentrancy`] (an `extra` call
//! that calls back into the channel), [`runtime_errors`] (read-only calls,
//! corrupt state, a second constructor, the end of the epoch range),
//! [`built_ins`] (the built-in actors as a channel sees them) and
//! [`walkthrough`]. This module holds the list of every scenario and the
//! fixtures they share.
//!
//! Some corner cases need an actor no message can create: a channel party of
//! a built-in type that calls the channel from inside a call (re-entrancy), an
//! init-typed caller, a type number no built-in knows. Those scenarios run on
//! a variant of the bundle they are given with the test probe's code in a
//! manifest slot ([`with_probe_in`]), so the same variant is built around our
//! payment channel and around a real bundle's own in differential runs.

mod authentication;
mod built_ins;
mod collect;
mod constructor;
mod create_lane;
mod extra;
mod gating;
mod merges;
mod redeem;
mod reentrancy;
mod runtime_errors;
mod secret;
mod settling;
mod walkthrough;

pub use authentication::{
    authenticate_message_outcomes, authentication_failure_returns_signer_data, bls_signed_vouchers,
};
pub use built_ins::{
    built_ins_answer_extra_calls_as_the_real_ones, built_ins_refuse_user_actor_callers,
    placeholder_and_ethaccount_signers_give_24,
};
pub use collect::{collect_happy_path, collect_refusals};
pub use constructor::{
    constructor_creates_accounts_for_new_key_addresses, constructor_only_from_init,
    constructor_rejects_parties_without_code, constructor_resolves_key_addresses_to_ids,
    create_paych_actor,
};
pub use create_lane::create_lane;
pub use extra::{extra_call_fail, extra_call_fail_returns_callee_data, extra_call_succeed};
pub use gating::{caller_gating, dispatch_errors, unknown_builtin_type_is_not_builtin};
pub use merges::{invalid_merge_lane_999, lane_limits, merge_failure, merge_success};
pub use redeem::{
    redeem_voucher_correct_lane, redeem_voucher_nonce_reuse, redeem_voucher_one_lane,
};
pub use reentrancy::{reentrant_settle_in_extra_call, reentrant_voucher_in_extra_call};
pub use runtime_errors::{
    corrupt_state, read_only_collect_of_an_empty_channel, read_only_state_writes,
    second_constructor_is_refused, settle_at_the_end_of_the_epoch_range,
};
pub use secret::secret_preimage;
pub use settling::{settle, update_channel_settling};
pub use walkthrough::walkthrough;

use fvm_ipld_encoding::{CborStore, RawBytes};
use fvm_shared::MethodNum;
use fvm_shared::address::Address;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use paych_actor::{
    ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED, LaneState, MAX_LANE, Merge, Method, ModVerifyParams,
    SETTLE_DELAY, SignedVoucher, UpdateChannelStateParams,
};
use paych_bundle::{BuiltinType, Bundle};
use paych_client::KeyType;
use test_probe::{Config, ForwardParams, auth_reply};

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
    (
        "extra_call_fail_returns_callee_data",
        extra_call_fail_returns_callee_data,
    ),
    (
        "authentication_failure_returns_signer_data",
        authentication_failure_returns_signer_data,
    ),
    (
        "reentrant_settle_in_extra_call",
        reentrant_settle_in_extra_call,
    ),
    (
        "reentrant_voucher_in_extra_call",
        reentrant_voucher_in_extra_call,
    ),
    ("read_only_state_writes", read_only_state_writes),
    (
        "read_only_collect_of_an_empty_channel",
        read_only_collect_of_an_empty_channel,
    ),
    ("corrupt_state", corrupt_state),
    (
        "second_constructor_is_refused",
        second_constructor_is_refused,
    ),
    (
        "settle_at_the_end_of_the_epoch_range",
        settle_at_the_end_of_the_epoch_range,
    ),
    (
        "unknown_builtin_type_is_not_builtin",
        unknown_builtin_type_is_not_builtin,
    ),
    (
        "placeholder_and_ethaccount_signers_give_24",
        placeholder_and_ethaccount_signers_give_24,
    ),
    (
        "built_ins_answer_extra_calls_as_the_real_ones",
        built_ins_answer_extra_calls_as_the_real_ones,
    ),
    (
        "built_ins_refuse_user_actor_callers",
        built_ins_refuse_user_actor_callers,
    ),
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

/// `bundle` with the test probe's code in `builtin`'s manifest slot (tagged,
/// so that its code CID differs from the plain user-actor probe's).
fn with_probe_in(bundle: &Bundle, builtin: BuiltinType) -> Bundle {
    let wasm = paych_bundle::tagged_wasm(paych_bundle::wasm::TEST_PROBE, builtin.name());
    bundle
        .clone()
        .with_code(builtin, &wasm)
        .expect("the bundle has every built-in slot")
}

/// A probe configured to accept every AuthenticateMessage.
fn accepting() -> Config {
    Config {
        auth_reply: auth_reply::TRUE,
        ..Config::default()
    }
}

/// A signature only a probe accepts (it does not check it).
fn any_signature() -> Option<Signature> {
    Some(Signature::new_secp256k1(vec![7; 65]))
}

/// The parameter bytes of UpdateChannelState for `sv` with no secret.
fn update_params(sv: &SignedVoucher) -> RawBytes {
    RawBytes::serialize(UpdateChannelStateParams {
        sv: sv.clone(),
        secret: vec![],
    })
    .expect("encode params")
}

/// A call to `channel`'s `method`, as a probe forwards it.
fn channel_call(channel: &Channel, method: Method, params: RawBytes) -> ForwardParams {
    ForwardParams::new(channel.address(), method as MethodNum, params)
}

/// Has `via` (a probe) make the call `call` on `sender`'s behalf; returns the
/// callee's exit code (the probe itself succeeds whatever it is).
fn forward(h: &mut Harness, label: &str, sender: &Party, via: &Party, call: ForwardParams) -> u32 {
    let ret = h.apply(
        label,
        sender,
        via.address(),
        test_probe::FORWARD_METHOD,
        RawBytes::serialize(call).expect("encode forward params"),
        atto(0),
    );
    h.expect_ok(label, &ret);
    ret.msg_receipt
        .return_data
        .deserialize()
        .unwrap_or(u32::MAX)
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
