//! Runs a scenario on a chain (the mock runtime or the FVM) and on the model
//! side by side, and reports every difference.
//!
//! After every step it asserts: the same accept/reject decision and exit
//! code; the same to_send, lanes, settling_at, min_settle_height and balance;
//! `to_send <= balance`; per-lane nonces never go down and lanes never
//! disappear; and, once collected, that what the payee received plus what
//! the payer got back equals the channel's balance before Collect.

use std::collections::BTreeMap;

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use num_bigint::BigInt;
use paych_actor::{Merge, ModVerifyParams, SignedVoucher};

use crate::model::{Epoch, Extra, Model, ModelChannel, Op, Outcome, Voucher, Who};
use crate::ops::{START_EPOCH, Scenario, resolve};

/// What a chain reports after running an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executed {
    /// A message ran with this exit code.
    Exit(u32),
    /// Only the epoch changed.
    Tick,
    /// The chain did not run it (the mock has nothing to call once the
    /// channel is deleted).
    Skipped,
}

/// A channel as a chain shows it, in the model's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub to_send: BigInt,
    pub settling_at: Epoch,
    pub min_settle_height: Epoch,
    /// lane → (redeemed, nonce)
    pub lanes: BTreeMap<u64, (BigInt, u64)>,
    pub balance: BigInt,
    /// The actor's own invariant checker's complaints.
    pub broken_invariants: Vec<String>,
}

/// What Collect moved, as measured on the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedPayout {
    pub to_payee: BigInt,
    pub to_payer: BigInt,
    pub balance_before: BigInt,
}

/// A chain the runner can drive: the mock runtime or the FVM.
pub trait Chain {
    fn execute(&mut self, label: &str, op: &Op) -> Executed;
    /// The channel, or `None` once it no longer exists.
    fn observe(&self) -> Option<Observed>;
    /// What the last successful Collect moved.
    fn payout(&self) -> Option<ObservedPayout>;
    /// Anything else the chain found wrong since the last call.
    fn take_findings(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Details of the last message (e.g. the FVM's failure backtrace).
    fn last_message_info(&self) -> String {
        String::new()
    }
}

/// Counts and findings of one or more runs.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub sequences: u64,
    pub steps: u64,
    /// Messages executed (steps that were not epoch changes or skipped).
    pub messages: u64,
    /// Messages by exit code.
    pub exit_codes: BTreeMap<u32, u64>,
    pub vouchers_accepted: u64,
    /// Accepted vouchers by notable feature (merges, MAX_LANE, a secret, ...):
    /// evidence that sequences reach past the first checks.
    pub accepted_features: BTreeMap<&'static str, u64>,
    pub collects: u64,
    pub mismatches: Vec<String>,
}

fn voucher_features(v: &Voucher) -> Vec<&'static str> {
    let mut f = Vec::new();
    if !v.merges.is_empty() {
        f.push("merges");
    }
    if v.lane == crate::model::MAX_LANE {
        f.push("lane MAX_LANE");
    }
    if v.nonce == u64::MAX {
        f.push("nonce u64::MAX");
    }
    if !v.secret_hash.is_empty() {
        f.push("secret");
    }
    if v.extra.is_some() {
        f.push("extra");
    }
    if v.min_settle_height != 0 {
        f.push("min_settle_height");
    }
    if v.time_lock_min != 0 || v.time_lock_max != 0 {
        f.push("time locks");
    }
    if v.caller == Who::Payer {
        f.push("signed by the payee");
    }
    if v.amount.bits() > 120 {
        f.push("amount above 2^120");
    }
    f
}

impl RunStats {
    pub fn merge(&mut self, other: RunStats) {
        self.sequences += other.sequences;
        self.steps += other.steps;
        self.messages += other.messages;
        for (code, n) in other.exit_codes {
            *self.exit_codes.entry(code).or_default() += n;
        }
        self.vouchers_accepted += other.vouchers_accepted;
        for (f, n) in other.accepted_features {
            *self.accepted_features.entry(f).or_default() += n;
        }
        self.collects += other.collects;
        self.mismatches.extend(other.mismatches);
    }
}

fn model_view(model: &Model, ch: &ModelChannel) -> Observed {
    Observed {
        to_send: ch.to_send.clone(),
        settling_at: ch.settling_at,
        min_settle_height: ch.min_settle_height,
        lanes: ch
            .lanes
            .iter()
            .map(|(l, s)| (*l, (s.redeemed.clone(), s.nonce)))
            .collect(),
        balance: model.balance.clone(),
        broken_invariants: vec![],
    }
}

/// Runs `scenario` on `chain` (already holding a fresh channel created at
/// [`START_EPOCH`] with the scenario's balance) and on the model.
pub fn run_scenario<C: Chain>(chain: &mut C, scenario: &Scenario) -> RunStats {
    let mut stats = RunStats {
        sequences: 1,
        ..RunStats::default()
    };
    let mut model = Model::new(START_EPOCH, scenario.initial_balance.clone());
    let mut previous_lanes: BTreeMap<u64, (BigInt, u64)> = BTreeMap::new();
    let fail = |stats: &mut RunStats, msg: String| stats.mismatches.push(msg);

    if let Some(first) = chain.observe() {
        let expected = model_view(&model, model.channel.as_ref().expect("fresh channel"));
        if first != expected {
            fail(
                &mut stats,
                format!("the new channel is {first:?}, expected {expected:?}"),
            );
        }
    }

    for (i, step) in scenario.steps.iter().enumerate() {
        let op = resolve(&model, scenario, step);
        let label = format!("step {i}: {op:?}");
        let balance_before = model.balance.clone();
        let expected = model.apply(&op);
        let got = chain.execute(&label, &op);
        stats.steps += 1;
        if let Executed::Exit(code) = got {
            stats.messages += 1;
            *stats.exit_codes.entry(code).or_default() += 1;
        }
        let agree = match (&expected, got) {
            (Outcome::Tick, Executed::Tick) => true,
            (Outcome::Exit(e), Executed::Exit(g)) => *e == g,
            // A message to a collected channel must fail; the mock skips it.
            (Outcome::Gone, Executed::Skipped) => true,
            (Outcome::Gone, Executed::Exit(g)) => g != 0,
            _ => false,
        };
        if !agree {
            fail(
                &mut stats,
                format!(
                    "{label}: the model says {expected:?}, the chain {got:?}\n{}",
                    chain.last_message_info()
                ),
            );
        }
        for finding in chain.take_findings() {
            fail(&mut stats, finding);
        }
        if let (Op::Update(v), Executed::Exit(0)) = (&op, got) {
            stats.vouchers_accepted += 1;
            for f in voucher_features(v) {
                *stats.accepted_features.entry(f).or_default() += 1;
            }
        }

        let observed = chain.observe();
        match (&model.channel, &observed) {
            (Some(ch), Some(obs)) => {
                let expected = model_view(&model, ch);
                let mut obs_cmp = obs.clone();
                obs_cmp.broken_invariants.clear();
                if obs_cmp != expected {
                    fail(
                        &mut stats,
                        format!("{label}: chain state {obs:?}\n  model state {expected:?}"),
                    );
                }
                if !obs.broken_invariants.is_empty() {
                    fail(
                        &mut stats,
                        format!("{label}: invariants broken: {:?}", obs.broken_invariants),
                    );
                }
                if obs.to_send > obs.balance {
                    fail(
                        &mut stats,
                        format!(
                            "{label}: to_send {} exceeds balance {}",
                            obs.to_send, obs.balance
                        ),
                    );
                }
                for (lane, (_, nonce)) in &previous_lanes {
                    match obs.lanes.get(lane) {
                        None => fail(&mut stats, format!("{label}: lane {lane} disappeared")),
                        Some((_, now)) if now < nonce => fail(
                            &mut stats,
                            format!("{label}: lane {lane} nonce went from {nonce} down to {now}"),
                        ),
                        Some(_) => {}
                    }
                }
                previous_lanes = obs.lanes.clone();
            }
            (None, None) => {}
            (m, c) => fail(
                &mut stats,
                format!(
                    "{label}: channel exists in the model: {}, on the chain: {}",
                    m.is_some(),
                    c.is_some()
                ),
            ),
        }

        if matches!(op, Op::Collect(_)) && expected == Outcome::Exit(0) {
            stats.collects += 1;
            let want = model.payout.clone().expect("collect pays out");
            match chain.payout() {
                None => fail(&mut stats, format!("{label}: the chain paid nothing out")),
                Some(paid) => {
                    if paid.to_payee.clone() + paid.to_payer.clone() != paid.balance_before {
                        fail(
                            &mut stats,
                            format!(
                                "{label}: payee {} + payer {} != balance before collect {}",
                                paid.to_payee, paid.to_payer, paid.balance_before
                            ),
                        );
                    }
                    if paid.balance_before != balance_before
                        || paid.to_payee != want.to_payee
                        || paid.to_payer != want.to_payer
                    {
                        fail(
                            &mut stats,
                            format!("{label}: the chain paid {paid:?}, the model {want:?}"),
                        );
                    }
                }
            }
        }
    }
    stats
}

/// Token amounts in model terms.
pub fn big(amount: &TokenAmount) -> BigInt {
    amount.atto().clone()
}

pub fn tokens(amount: &BigInt) -> TokenAmount {
    TokenAmount::from_atto(amount.clone())
}

/// The method number a voucher's `extra` call uses (the probe records it).
pub const EXTRA_METHOD: u64 = 7;

/// Addresses a voucher may name, per chain.
pub struct VoucherAddresses {
    pub this: Address,
    pub this_by_id: Address,
    pub other: Address,
    pub nowhere: Address,
    pub extra_ok: Address,
    pub extra_fails: Address,
}

/// The wire voucher and secret for a model voucher, signed by `sign` (who
/// signs, over which bytes).
pub fn wire_voucher(
    v: &Voucher,
    addrs: &VoucherAddresses,
    sign: impl Fn(Who, &[u8]) -> Signature,
) -> (SignedVoucher, Vec<u8>) {
    use crate::model::Target;
    let channel_addr = match v.target {
        Target::This => addrs.this,
        Target::ThisById => addrs.this_by_id,
        Target::Other => addrs.other,
        Target::Nowhere => addrs.nowhere,
    };
    let extra = v.extra.map(|e| ModVerifyParams {
        actor: match e {
            Extra::Succeeds => addrs.extra_ok,
            Extra::Fails => addrs.extra_fails,
        },
        method: EXTRA_METHOD,
        data: RawBytes::new(vec![0x82, 0x01, 0x02]),
    });
    let mut sv = SignedVoucher {
        channel_addr,
        time_lock_min: v.time_lock_min,
        time_lock_max: v.time_lock_max,
        secret_pre_image: v.secret_hash.clone(),
        extra,
        lane: v.lane,
        nonce: v.nonce,
        amount: tokens(&v.amount),
        min_settle_height: v.min_settle_height,
        merges: v
            .merges
            .iter()
            .map(|&(lane, nonce)| Merge { lane, nonce })
            .collect(),
        signature: None,
    };
    if let Some(signer) = v.signer {
        let bytes = sv.signing_bytes().expect("vouchers encode");
        sv.signature = Some(sign(signer, &bytes));
    }
    (sv, v.secret.clone())
}
