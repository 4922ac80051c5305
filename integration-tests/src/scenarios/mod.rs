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
//! (who may call what, and dispatch errors) and [`walkthrough`]. This module
//! holds the list of every scenario and the fixtures they share.

mod authentication;
mod collect;
mod constructor;
mod create_lane;
mod extra;
mod gating;
mod merges;
mod redeem;
mod secret;
mod settling;
mod walkthrough;

pub use authentication::{authenticate_message_outcomes, bls_signed_vouchers};
pub use collect::{collect_happy_path, collect_refusals};
pub use constructor::{
    constructor_creates_accounts_for_new_key_addresses, constructor_only_from_init,
    constructor_rejects_parties_without_code, constructor_resolves_key_addresses_to_ids,
    create_paych_actor,
};
pub use create_lane::create_lane;
pub use extra::{extra_call_fail, extra_call_succeed};
pub use gating::{caller_gating, dispatch_errors};
pub use merges::{invalid_merge_lane_999, lane_limits, merge_failure, merge_success};
pub use redeem::{
    redeem_voucher_correct_lane, redeem_voucher_nonce_reuse, redeem_voucher_one_lane,
};
pub use secret::secret_preimage;
pub use settling::{settle, update_channel_settling};
pub use walkthrough::walkthrough;

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
