//! Random operation sequences, shared by the mock and FVM drivers.
//!
//! A [`Scenario`] is generated up front as *abstract* steps (`proptest`
//! strategies): "the next nonce on this lane", "exactly the balance", "one
//! epoch before settling_at". Each step is [`resolve`]d into a concrete
//! [`Op`] against the model's state just before it runs, so sequences keep
//! hitting the interesting edges (accepted vouchers, exact balance, the
//! settling boundary) instead of being rejected at the first check. Both
//! drivers then run the same concrete op on the actor and on the model.

use num_bigint::BigInt;
use num_traits::{One, Zero};
use proptest::prelude::*;

use crate::model::{Epoch, Extra, MAX_LANE, MAX_SECRET_SIZE, Model, Op, Target, Voucher, Who};

/// The epoch every scenario creates its channel at.
pub const START_EPOCH: Epoch = 1;

/// Which lane a voucher or merge names.
#[derive(Clone, Copy, Debug)]
pub enum LaneSpec {
    Small(u64),
    Max,
    MaxPlusOne,
    U64Max,
}

/// A nonce, relative to the lane's current nonce where that makes sense.
#[derive(Clone, Copy, Debug)]
pub enum NonceSpec {
    /// Current nonce + k (k ≥ 1): accepted.
    Next(u64),
    /// The current nonce: a replay.
    Same,
    /// One below the current nonce.
    Lower,
    Zero,
    U64Max,
}

/// An amount, relative to the channel where that makes sense.
#[derive(Clone, Debug)]
pub enum AmountSpec {
    /// The lane's redeemed amount plus `d` (may lower it, or go negative).
    LanePlus(i64),
    /// Exactly what makes to_send equal the balance (ignoring merges).
    FillBalance,
    /// One more than that.
    OverBalance,
    /// 2^255 + d.
    Near2Pow255(i64),
    Negative(u64),
}

/// An epoch for time locks and min_settle_height.
#[derive(Clone, Copy, Debug)]
pub enum EpochSpec {
    Zero,
    /// Current epoch + d.
    Rel(i64),
    /// settling_at + d (current epoch + d when not settling).
    AroundSettling(i64),
    Max,
    /// i64::MIN: negative epochs decode and must be handled like any other.
    Min,
}

#[derive(Clone, Copy, Debug)]
pub enum SignerSpec {
    /// The party the actor will ask: the correct signer.
    Counterparty,
    /// The submitter signed its own voucher.
    Caller,
    Stranger,
    Unsigned,
}

#[derive(Clone, Debug)]
pub enum SecretSpec {
    None,
    /// A secret of this length whose hash the voucher carries.
    Matching(usize),
    /// The voucher carries a hash; the submitted secret is different.
    Mismatching,
    /// A secret longer than MAX_SECRET_SIZE (with a matching hash or none).
    Oversized {
        len: usize,
        with_hash: bool,
    },
}

#[derive(Clone, Debug)]
pub struct VoucherSpec {
    pub caller: Who,
    pub signer: SignerSpec,
    pub target: Target,
    pub lane: LaneSpec,
    pub nonce: NonceSpec,
    pub amount: AmountSpec,
    pub time_lock_min: EpochSpec,
    pub time_lock_max: EpochSpec,
    pub min_settle_height: EpochSpec,
    pub merges: Vec<(LaneSpec, NonceSpec)>,
    pub secret: SecretSpec,
    pub extra: Option<Extra>,
}

#[derive(Clone, Copy, Debug)]
pub enum AdvanceSpec {
    By(i64),
    /// To settling_at + d (d ∈ {-1, 0, 1}); by 1 when not settling.
    SettlingAt(i64),
    /// To min_settle_height + d, when that is ahead.
    MinSettleHeight(i64),
}

#[derive(Clone, Debug)]
pub enum Step {
    Update(VoucherSpec),
    AddFunds(Who, AmountSpec),
    Settle(Who),
    Collect(Who),
    Advance(AdvanceSpec),
}

/// A channel's opening balance and what happens to it.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub initial_balance: BigInt,
    pub steps: Vec<Step>,
    /// Huge balances and top-ups are near this (see [`Backend`]).
    pub huge: BigInt,
    /// Top-ups that would take the balance to this or beyond add 1 instead.
    pub balance_cap: BigInt,
}

/// Which backend scenarios are generated for. The mock runtime holds any
/// balance, so channels near 2^255 attoFIL are possible there; the FVM
/// passes token amounts to actors as 128-bit integers (values and balances
/// of 2^128 or more abort the machine), so there "huge" means near 2^125.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Mock,
    Fvm,
}

impl Backend {
    fn huge(self) -> BigInt {
        match self {
            Backend::Mock => two_pow_255(),
            Backend::Fvm => BigInt::one() << 125,
        }
    }

    fn balance_cap(self) -> BigInt {
        match self {
            Backend::Mock => BigInt::one() << 300,
            Backend::Fvm => BigInt::one() << 127,
        }
    }
}

pub fn two_pow_255() -> BigInt {
    BigInt::one() << 255
}

// ----- strategies -------------------------------------------------------------

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => Just(Who::Payee),
        4 => Just(Who::Payer),
        1 => Just(Who::Stranger),
    ]
}

fn lane() -> impl Strategy<Value = LaneSpec> {
    prop_oneof![
        20 => (0u64..4).prop_map(LaneSpec::Small),
        1 => Just(LaneSpec::Max),
        1 => Just(LaneSpec::MaxPlusOne),
        1 => Just(LaneSpec::U64Max),
    ]
}

fn nonce() -> impl Strategy<Value = NonceSpec> {
    prop_oneof![
        16 => (1u64..4).prop_map(NonceSpec::Next),
        2 => Just(NonceSpec::Same),
        1 => Just(NonceSpec::Lower),
        1 => Just(NonceSpec::Zero),
        1 => Just(NonceSpec::U64Max),
    ]
}

fn voucher_amount() -> impl Strategy<Value = AmountSpec> {
    prop_oneof![
        16 => (-3i64..40).prop_map(AmountSpec::LanePlus),
        3 => Just(AmountSpec::FillBalance),
        2 => Just(AmountSpec::OverBalance),
        2 => (-2i64..=2).prop_map(AmountSpec::Near2Pow255),
        1 => (1u64..3).prop_map(AmountSpec::Negative),
    ]
}

fn funds_amount() -> impl Strategy<Value = AmountSpec> {
    prop_oneof![
        4 => (0i64..100).prop_map(AmountSpec::LanePlus),
        1 => (0i64..3).prop_map(AmountSpec::Near2Pow255),
    ]
}

fn time_lock_min() -> impl Strategy<Value = EpochSpec> {
    prop_oneof![
        10 => Just(EpochSpec::Zero),
        3 => (-2i64..=2).prop_map(EpochSpec::Rel),
        1 => (-1i64..=1).prop_map(EpochSpec::AroundSettling),
        1 => Just(EpochSpec::Min),
    ]
}

fn time_lock_max() -> impl Strategy<Value = EpochSpec> {
    prop_oneof![
        10 => Just(EpochSpec::Zero),
        3 => (-2i64..=2).prop_map(EpochSpec::Rel),
        1 => (-1i64..=1).prop_map(EpochSpec::AroundSettling),
        1 => Just(EpochSpec::Max),
        1 => Just(EpochSpec::Min),
    ]
}

fn min_settle_height() -> impl Strategy<Value = EpochSpec> {
    prop_oneof![
        12 => Just(EpochSpec::Zero),
        2 => (-3i64..3000).prop_map(EpochSpec::Rel),
        2 => (-1i64..=1).prop_map(EpochSpec::AroundSettling),
        1 => Just(EpochSpec::Min),
    ]
}

fn signer() -> impl Strategy<Value = SignerSpec> {
    prop_oneof![
        16 => Just(SignerSpec::Counterparty),
        1 => Just(SignerSpec::Caller),
        1 => Just(SignerSpec::Stranger),
        1 => Just(SignerSpec::Unsigned),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        16 => Just(Target::This),
        3 => Just(Target::ThisById),
        1 => Just(Target::Other),
        1 => Just(Target::Nowhere),
    ]
}

fn secret() -> impl Strategy<Value = SecretSpec> {
    prop_oneof![
        16 => Just(SecretSpec::None),
        2 => (0usize..=MAX_SECRET_SIZE).prop_map(SecretSpec::Matching),
        1 => Just(SecretSpec::Mismatching),
        1 => (MAX_SECRET_SIZE + 1..MAX_SECRET_SIZE + 40, any::<bool>())
            .prop_map(|(len, with_hash)| SecretSpec::Oversized { len, with_hash }),
    ]
}

fn extra() -> impl Strategy<Value = Option<Extra>> {
    prop_oneof![
        16 => Just(None),
        1 => Just(Some(Extra::Succeeds)),
        1 => Just(Some(Extra::Fails)),
    ]
}

fn merges() -> impl Strategy<Value = Vec<(LaneSpec, NonceSpec)>> {
    prop_oneof![
        3 => Just(vec![]),
        2 => proptest::collection::vec((lane(), nonce()), 1..4),
    ]
}

fn voucher() -> impl Strategy<Value = VoucherSpec> {
    (
        (who(), signer(), target(), lane(), nonce(), voucher_amount()),
        (
            time_lock_min(),
            time_lock_max(),
            min_settle_height(),
            merges(),
            secret(),
            extra(),
        ),
    )
        .prop_map(
            |(
                (caller, signer, target, lane, nonce, amount),
                (time_lock_min, time_lock_max, min_settle_height, merges, secret, extra),
            )| VoucherSpec {
                caller,
                signer,
                target,
                lane,
                nonce,
                amount,
                time_lock_min,
                time_lock_max,
                min_settle_height,
                merges,
                secret,
                extra,
            },
        )
}

fn advance() -> impl Strategy<Value = AdvanceSpec> {
    prop_oneof![
        3 => (1i64..5).prop_map(AdvanceSpec::By),
        1 => (1000i64..1600).prop_map(AdvanceSpec::By),
        3 => (-1i64..=1).prop_map(AdvanceSpec::SettlingAt),
        1 => (-1i64..=1).prop_map(AdvanceSpec::MinSettleHeight),
    ]
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => voucher().prop_map(Step::Update),
        1 => (who(), funds_amount()).prop_map(|(w, a)| Step::AddFunds(w, a)),
        2 => who().prop_map(Step::Settle),
        2 => who().prop_map(Step::Collect),
        3 => advance().prop_map(Step::Advance),
    ]
}

fn initial_balance(huge: BigInt) -> impl Strategy<Value = BigInt> {
    prop_oneof![
        2 => (0u64..200).prop_map(BigInt::from),
        3 => (0u64..100_000).prop_map(BigInt::from),
        1 => (0u64..1000).prop_map(|x| BigInt::from(x) * BigInt::from(10u64.pow(18))),
        1 => (0u64..10).prop_map(move |x| huge.clone() + BigInt::from(x)),
    ]
}

fn party() -> impl Strategy<Value = Who> {
    prop_oneof![Just(Who::Payer), Just(Who::Payee)]
}

fn few_steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 0..=max)
}

/// How a channel is wound up: Settle, a few steps, a move to around
/// settling_at, a few steps, Collect, and a few steps after it is gone.
fn closing() -> impl Strategy<Value = Vec<Step>> {
    (
        party(),
        few_steps(2),
        (-1i64..=1).prop_map(AdvanceSpec::SettlingAt),
        few_steps(2),
        party(),
        few_steps(2),
    )
        .prop_map(|(settler, a, advance, b, collector, c)| {
            let mut steps = vec![Step::Settle(settler)];
            steps.extend(a);
            steps.push(Step::Advance(advance));
            steps.extend(b);
            // From settling_at - 1, one more epoch makes Collect possible.
            steps.push(Step::Advance(AdvanceSpec::SettlingAt(1)));
            steps.push(Step::Collect(collector));
            steps.extend(c);
            steps
        })
}

/// Scenarios of `1..=max_steps` random steps, half of them followed by a
/// [`closing`] (Settle … Collect), for `backend`.
pub fn scenario(max_steps: usize, backend: Backend) -> impl Strategy<Value = Scenario> {
    let ending = prop_oneof![Just(vec![]), closing()];
    (
        initial_balance(backend.huge()),
        proptest::collection::vec(step(), 1..=max_steps),
        ending,
    )
        .prop_map(move |(initial_balance, mut steps, ending)| {
            steps.extend(ending);
            Scenario {
                initial_balance,
                steps,
                huge: backend.huge(),
                balance_cap: backend.balance_cap(),
            }
        })
}

// ----- resolution -----------------------------------------------------------------

fn resolve_lane(spec: LaneSpec) -> u64 {
    match spec {
        LaneSpec::Small(l) => l,
        LaneSpec::Max => MAX_LANE,
        LaneSpec::MaxPlusOne => MAX_LANE + 1,
        LaneSpec::U64Max => u64::MAX,
    }
}

fn resolve_nonce(model: &Model, lane: u64, spec: NonceSpec) -> u64 {
    let current = model
        .channel
        .as_ref()
        .and_then(|ch| ch.lanes.get(&lane))
        .map_or(0, |l| l.nonce);
    match spec {
        NonceSpec::Next(k) => current.saturating_add(k),
        NonceSpec::Same => current,
        NonceSpec::Lower => current.saturating_sub(1),
        NonceSpec::Zero => 0,
        NonceSpec::U64Max => u64::MAX,
    }
}

fn settling_at(model: &Model) -> Epoch {
    model.channel.as_ref().map_or(0, |ch| ch.settling_at)
}

fn resolve_epoch(model: &Model, spec: EpochSpec) -> Epoch {
    match spec {
        EpochSpec::Zero => 0,
        EpochSpec::Rel(d) => (model.epoch + d).max(0),
        EpochSpec::AroundSettling(d) => match settling_at(model) {
            0 => (model.epoch + d).max(0),
            s => s + d,
        },
        EpochSpec::Max => i64::MAX,
        EpochSpec::Min => i64::MIN,
    }
}

fn resolve_amount(model: &Model, lane: u64, spec: &AmountSpec) -> BigInt {
    let (redeemed, to_send) = match &model.channel {
        Some(ch) => (
            ch.lanes
                .get(&lane)
                .map_or_else(BigInt::zero, |l| l.redeemed.clone()),
            ch.to_send.clone(),
        ),
        None => (BigInt::zero(), BigInt::zero()),
    };
    let fill = || &model.balance - &to_send + &redeemed;
    match spec {
        AmountSpec::LanePlus(d) => redeemed + BigInt::from(*d),
        AmountSpec::FillBalance => fill(),
        AmountSpec::OverBalance => fill() + 1,
        AmountSpec::Near2Pow255(d) => two_pow_255() + BigInt::from(*d),
        AmountSpec::Negative(n) => -BigInt::from(*n),
    }
}

fn blake2b_256(data: &[u8]) -> Vec<u8> {
    actor_interfaces::blake2b_256(data).to_vec()
}

/// The secret bytes and the hash a voucher carries for `spec`.
fn resolve_secret(spec: &SecretSpec) -> (Vec<u8>, Vec<u8>) {
    let secret_of = |len: usize| (0..len).map(|i| (i * 7 + 3) as u8).collect::<Vec<u8>>();
    match spec {
        SecretSpec::None => (vec![], vec![]),
        SecretSpec::Matching(len) => {
            let secret = secret_of(*len);
            let hash = blake2b_256(&secret);
            (secret, hash)
        }
        SecretSpec::Mismatching => (b"not the secret".to_vec(), blake2b_256(b"the secret")),
        SecretSpec::Oversized { len, with_hash } => {
            let secret = secret_of(*len);
            let hash = if *with_hash {
                blake2b_256(&secret)
            } else {
                vec![]
            };
            (secret, hash)
        }
    }
}

fn resolve_voucher(model: &Model, spec: &VoucherSpec) -> Voucher {
    let lane = resolve_lane(spec.lane);
    let counterparty = match spec.caller {
        Who::Payer => Who::Payee,
        _ => Who::Payer,
    };
    let signer = match spec.signer {
        SignerSpec::Counterparty => Some(counterparty),
        SignerSpec::Caller => Some(spec.caller),
        SignerSpec::Stranger => Some(Who::Stranger),
        SignerSpec::Unsigned => None,
    };
    let (secret, secret_hash) = resolve_secret(&spec.secret);
    Voucher {
        caller: spec.caller,
        signer,
        target: spec.target,
        time_lock_min: resolve_epoch(model, spec.time_lock_min),
        time_lock_max: resolve_epoch(model, spec.time_lock_max),
        secret_hash,
        secret,
        extra: spec.extra,
        lane,
        nonce: resolve_nonce(model, lane, spec.nonce),
        amount: resolve_amount(model, lane, &spec.amount),
        min_settle_height: resolve_epoch(model, spec.min_settle_height),
        merges: spec
            .merges
            .iter()
            .map(|&(l, n)| {
                let l = resolve_lane(l);
                (l, resolve_nonce(model, l, n))
            })
            .collect(),
    }
}

/// The concrete operation `step` means in the model's current state.
pub fn resolve(model: &Model, scenario: &Scenario, step: &Step) -> Op {
    match step {
        Step::Update(spec) => Op::Update(resolve_voucher(model, spec)),
        Step::AddFunds(who, spec) => {
            let amount = match spec {
                AmountSpec::Near2Pow255(d) => &scenario.huge + BigInt::from(*d),
                AmountSpec::LanePlus(d) => BigInt::from(d.unsigned_abs()),
                _ => BigInt::from(1),
            };
            if &model.balance + &amount >= scenario.balance_cap {
                Op::AddFunds(*who, BigInt::from(1))
            } else {
                Op::AddFunds(*who, amount)
            }
        }
        Step::Settle(who) => Op::Settle(*who),
        Step::Collect(who) => Op::Collect(*who),
        Step::Advance(spec) => {
            let now = model.epoch;
            let target = match *spec {
                AdvanceSpec::By(n) => now + n,
                AdvanceSpec::SettlingAt(d) => match settling_at(model) {
                    0 => now + 1,
                    s => s + d,
                },
                AdvanceSpec::MinSettleHeight(d) => {
                    model.channel.as_ref().map_or(0, |ch| ch.min_settle_height) + d
                }
            };
            // The chain never goes back; a target in the past stays put.
            Op::SetEpoch(target.max(now))
        }
    }
}
