//! The reference model: what a payment channel must do, written from the
//! specification (`paych-actor.md` §4–§5) and nothing else.
//!
//! It shares no code with the actor: amounts are plain big integers, lanes a
//! `BTreeMap`, there is no CBOR, no AMT, no runtime and no addresses. A
//! signature is modelled by *who* signed (or that nobody did); the channel a
//! voucher names by a [`Target`]. The only things restated from the spec are
//! the constants and exit-code numbers below.
//!
//! [`Model::apply`] takes one fully resolved operation and returns the exit
//! code the chain must report, changing the state only on success.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

pub type Epoch = i64;

/// 12 hours of 30-second epochs.
pub const SETTLE_DELAY: Epoch = 1440;
/// The highest lane a voucher may name (2^63 − 1).
pub const MAX_LANE: u64 = (1 << 63) - 1;
/// The longest secret UpdateChannelState accepts.
pub const MAX_SECRET_SIZE: usize = 256;

/// Exit codes, as numbers (reference §1, §4, §5).
pub mod code {
    pub const OK: u32 = 0;
    pub const ILLEGAL_ARGUMENT: u32 = 16;
    pub const FORBIDDEN: u32 = 18;
    pub const ILLEGAL_STATE: u32 = 20;
    pub const SERIALIZATION: u32 = 21;
    pub const UNHANDLED_MESSAGE: u32 = 22;
    /// ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED, the first actor-specific code.
    pub const UPDATE_AFTER_SETTLED: u32 = 32;
    /// The exit code of the failing `extra` target the drivers install (a user
    /// code, which the channel passes through unchanged).
    pub const EXTRA_TARGET_FAILURE: u32 = 33;
}

/// A party to a message or a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Who {
    Payer,
    Payee,
    /// An account that is not a party to the channel.
    Stranger,
}

/// Which channel a voucher names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// This channel, by its robust (f2) address.
    This,
    /// This channel, by its ID (f0) address.
    ThisById,
    /// Another channel between the same parties (a replayed voucher).
    Other,
    /// An address that resolves to no actor.
    Nowhere,
}

/// The outcome of a voucher's `extra` call, when it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extra {
    Succeeds,
    /// The target exits with [`code::EXTRA_TARGET_FAILURE`].
    Fails,
}

/// A voucher as submitted: who submits it, who signed it, and every field
/// that decides its fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voucher {
    pub caller: Who,
    /// `None`: the voucher carries no signature.
    pub signer: Option<Who>,
    pub target: Target,
    pub time_lock_min: Epoch,
    pub time_lock_max: Epoch,
    /// The blake2b-256 hash the secret must match; empty means none.
    pub secret_hash: Vec<u8>,
    /// The secret submitted with the voucher.
    pub secret: Vec<u8>,
    pub extra: Option<Extra>,
    pub lane: u64,
    pub nonce: u64,
    pub amount: BigInt,
    pub min_settle_height: Epoch,
    /// `(lane, nonce)` pairs.
    pub merges: Vec<(u64, u64)>,
}

/// One operation on the channel, fully resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Update(Voucher),
    /// A plain value transfer to the channel by anyone (no actor code runs).
    AddFunds(Who, BigInt),
    Settle(Who),
    Collect(Who),
    /// The chain moves to this epoch (never backwards).
    SetEpoch(Epoch),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    pub redeemed: BigInt,
    pub nonce: u64,
}

/// The state of a live channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelChannel {
    pub to_send: BigInt,
    pub settling_at: Epoch,
    pub min_settle_height: Epoch,
    pub lanes: BTreeMap<u64, Lane>,
}

/// What Collect paid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub to_payee: BigInt,
    pub to_payer: BigInt,
    /// The channel's balance just before Collect.
    pub balance_before: BigInt,
}

/// The model: the chain's epoch, the channel's balance and state (`None`
/// once collected) and what Collect paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub epoch: Epoch,
    pub balance: BigInt,
    pub channel: Option<ModelChannel>,
    pub payout: Option<Payout>,
}

/// What applying an operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The message ran with this exit code (0 = accepted).
    Exit(u32),
    /// Only the epoch moved; no message was sent.
    Tick,
    /// The channel was already collected: there is no actor to run.
    Gone,
}

fn blake2b_256(data: &[u8]) -> Vec<u8> {
    actor_interfaces::blake2b_256(data).to_vec()
}

impl Model {
    /// A channel just created at `epoch` holding `balance`.
    pub fn new(epoch: Epoch, balance: BigInt) -> Self {
        Self {
            epoch,
            balance,
            channel: Some(ModelChannel::default()),
            payout: None,
        }
    }

    /// Applies `op`, changing the model only when it succeeds.
    pub fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::SetEpoch(epoch) => {
                assert!(*epoch >= self.epoch, "the chain never goes back");
                self.epoch = *epoch;
                Outcome::Tick
            }
            _ if self.channel.is_none() => Outcome::Gone,
            Op::AddFunds(_, amount) => {
                self.balance += amount;
                Outcome::Exit(code::OK)
            }
            Op::Settle(caller) => Outcome::Exit(self.settle(*caller)),
            Op::Collect(caller) => Outcome::Exit(self.collect(*caller)),
            Op::Update(v) => Outcome::Exit(self.update(v)),
        }
    }

    fn channel(&self) -> &ModelChannel {
        self.channel.as_ref().expect("live channel")
    }

    fn is_party(who: Who) -> bool {
        who != Who::Stranger
    }

    /// §5 Settle: parties only; once; settles after the delay but never
    /// before `min_settle_height`.
    fn settle(&mut self, caller: Who) -> u32 {
        if !Self::is_party(caller) {
            return code::FORBIDDEN;
        }
        let epoch = self.epoch;
        let ch = self.channel.as_mut().expect("live channel");
        if ch.settling_at != 0 {
            return code::ILLEGAL_STATE;
        }
        ch.settling_at = (epoch + SETTLE_DELAY).max(ch.min_settle_height);
        code::OK
    }

    /// §5 Collect: parties only, from `settling_at` on; `to_send` goes to the
    /// payee, everything else back to the payer, and the channel is gone.
    fn collect(&mut self, caller: Who) -> u32 {
        if !Self::is_party(caller) {
            return code::FORBIDDEN;
        }
        let ch = self.channel();
        if ch.settling_at == 0 || self.epoch < ch.settling_at {
            return code::FORBIDDEN;
        }
        let to_payee = ch.to_send.clone();
        let to_payer = &self.balance - &to_payee;
        self.payout = Some(Payout {
            to_payee,
            to_payer,
            balance_before: self.balance.clone(),
        });
        self.balance = BigInt::zero();
        self.channel = None;
        code::OK
    }

    /// §4 UpdateChannelState, check by check.
    fn update(&mut self, v: &Voucher) -> u32 {
        // 1. Only the parties may submit.
        if !Self::is_party(v.caller) {
            return code::FORBIDDEN;
        }
        // 2. The other party must have signed.
        let required_signer = match v.caller {
            Who::Payer => Who::Payee,
            _ => Who::Payer,
        };
        // 3. A signature must be present.
        let Some(signer) = v.signer else {
            return code::ILLEGAL_ARGUMENT;
        };
        // 4. Nothing is accepted from settling_at on.
        let ch = self.channel();
        if ch.settling_at != 0 && self.epoch >= ch.settling_at {
            return code::UPDATE_AFTER_SETTLED;
        }
        // 5. Secrets are bounded.
        if v.secret.len() > MAX_SECRET_SIZE {
            return code::ILLEGAL_ARGUMENT;
        }
        // 7. Authentication: the signer's account refuses anyone else's
        // signature with 16.
        if signer != required_signer {
            return code::ILLEGAL_ARGUMENT;
        }
        // 8–9. The voucher must name this channel.
        match v.target {
            Target::This | Target::ThisById => {}
            Target::Other | Target::Nowhere => return code::ILLEGAL_ARGUMENT,
        }
        // 10–11. Time locks (time_lock_max inclusive, 0 = none).
        if self.epoch < v.time_lock_min {
            return code::ILLEGAL_ARGUMENT;
        }
        if v.time_lock_max != 0 && self.epoch > v.time_lock_max {
            return code::ILLEGAL_ARGUMENT;
        }
        // 12. No negative amounts.
        if v.amount.is_negative() {
            return code::ILLEGAL_ARGUMENT;
        }
        // 13. The secret must hash to the voucher's hash, when it has one.
        if !v.secret_hash.is_empty() && blake2b_256(&v.secret) != v.secret_hash {
            return code::ILLEGAL_ARGUMENT;
        }
        // 14. The extra call must succeed.
        if v.extra == Some(Extra::Fails) {
            return code::EXTRA_TARGET_FAILURE;
        }
        // 15–16. The lane: bounded; an existing lane needs a higher nonce; a
        // new lane starts at {0, 0} with no nonce check.
        if v.lane > MAX_LANE {
            return code::ILLEGAL_ARGUMENT;
        }
        let mut lanes = ch.lanes.clone();
        let mut lane = match lanes.get(&v.lane) {
            Some(existing) if existing.nonce >= v.nonce => return code::ILLEGAL_ARGUMENT,
            Some(existing) => existing.clone(),
            None => Lane::default(),
        };
        // 17–20. Merges, in order: another existing lane, a higher nonce; its
        // redeemed value counts towards this voucher and stays where it is.
        let mut redeemed_from_others = BigInt::zero();
        for &(merge_lane, merge_nonce) in &v.merges {
            if merge_lane == v.lane || merge_lane > MAX_LANE {
                return code::ILLEGAL_ARGUMENT;
            }
            let Some(other) = lanes.get_mut(&merge_lane) else {
                return code::ILLEGAL_ARGUMENT;
            };
            if other.nonce >= merge_nonce {
                return code::ILLEGAL_ARGUMENT;
            }
            redeemed_from_others += &other.redeemed;
            other.nonce = merge_nonce;
        }
        // 21–24. The amount is cumulative: only the difference is added, and
        // the result must stay within [0, balance].
        lane.nonce = v.nonce;
        let delta = &v.amount - (redeemed_from_others + &lane.redeemed);
        lane.redeemed = v.amount.clone();
        let new_to_send = &ch.to_send + delta;
        if new_to_send.is_negative() || new_to_send > self.balance {
            return code::ILLEGAL_ARGUMENT;
        }
        // 25. min_settle_height only ever raises the bounds.
        let mut settling_at = ch.settling_at;
        let mut min_settle_height = ch.min_settle_height;
        if v.min_settle_height != 0 {
            if settling_at != 0 && settling_at < v.min_settle_height {
                settling_at = v.min_settle_height;
            }
            min_settle_height = min_settle_height.max(v.min_settle_height);
        }
        lanes.insert(v.lane, lane);
        self.channel = Some(ModelChannel {
            to_send: new_to_send,
            settling_at,
            min_settle_height,
            lanes,
        });
        code::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher(caller: Who, signer: Who, lane: u64, nonce: u64, amount: i64) -> Voucher {
        Voucher {
            caller,
            signer: Some(signer),
            target: Target::This,
            time_lock_min: 0,
            time_lock_max: 0,
            secret_hash: vec![],
            secret: vec![],
            extra: None,
            lane,
            nonce,
            amount: BigInt::from(amount),
            min_settle_height: 0,
            merges: vec![],
        }
    }

    fn exit(code: u32) -> Outcome {
        Outcome::Exit(code)
    }

    #[test]
    fn merge_counts_other_lanes_redeemed_and_leaves_it_in_place() {
        // The reference's merge_success: lanes 0..3 with amounts 1, 2, 3.
        let mut m = Model::new(2, BigInt::from(100_000));
        for i in 0..3u64 {
            let v = voucher(Who::Payer, Who::Payee, i, i + 1, i as i64 + 1);
            assert_eq!(m.apply(&Op::Update(v)), exit(code::OK));
        }
        let mut v = voucher(Who::Payer, Who::Payee, 0, 4, 3);
        v.merges = vec![(1, 11)];
        assert_eq!(m.apply(&Op::Update(v)), exit(code::OK));
        let ch = m.channel.as_ref().unwrap();
        assert_eq!(ch.to_send, BigInt::from(6 + 3 - (1 + 2)));
        assert_eq!(ch.lanes[&1].redeemed, BigInt::from(2));
        assert_eq!(ch.lanes[&1].nonce, 11);
        assert_eq!(ch.lanes[&0].nonce, 4);
    }

    #[test]
    fn vouchers_are_refused_from_settling_at_and_collect_allowed_from_it() {
        let mut m = Model::new(10, BigInt::from(50));
        assert_eq!(m.apply(&Op::Settle(Who::Payer)), exit(code::OK));
        assert_eq!(m.channel.as_ref().unwrap().settling_at, 1450);
        assert_eq!(m.apply(&Op::Settle(Who::Payee)), exit(code::ILLEGAL_STATE));
        m.apply(&Op::SetEpoch(1449));
        let v = voucher(Who::Payee, Who::Payer, 0, 1, 20);
        assert_eq!(m.apply(&Op::Collect(Who::Payee)), exit(code::FORBIDDEN));
        assert_eq!(m.apply(&Op::Update(v.clone())), exit(code::OK));
        m.apply(&Op::SetEpoch(1450));
        let mut later = v;
        later.nonce = 2;
        assert_eq!(
            m.apply(&Op::Update(later)),
            exit(code::UPDATE_AFTER_SETTLED)
        );
        assert_eq!(m.apply(&Op::Collect(Who::Payer)), exit(code::OK));
        let payout = m.payout.clone().unwrap();
        assert_eq!(payout.to_payee, BigInt::from(20));
        assert_eq!(payout.to_payer, BigInt::from(30));
        assert_eq!(m.apply(&Op::Settle(Who::Payer)), Outcome::Gone);
    }

    #[test]
    fn wrong_signer_strangers_and_missing_signatures_are_refused_in_check_order() {
        let mut m = Model::new(1, BigInt::from(10));
        let own = voucher(Who::Payee, Who::Payee, 0, 1, 1);
        assert_eq!(m.apply(&Op::Update(own)), exit(code::ILLEGAL_ARGUMENT));
        let stranger = voucher(Who::Stranger, Who::Payer, 0, 1, 1);
        assert_eq!(m.apply(&Op::Update(stranger)), exit(code::FORBIDDEN));
        let mut unsigned = voucher(Who::Payee, Who::Payer, 0, 1, 1);
        unsigned.signer = None;
        m.apply(&Op::Settle(Who::Payer));
        m.apply(&Op::SetEpoch(5000));
        // No signature beats "after settling".
        assert_eq!(m.apply(&Op::Update(unsigned)), exit(code::ILLEGAL_ARGUMENT));
    }

    #[test]
    fn fresh_lane_accepts_nonce_zero_and_amount_may_go_down_but_not_below_zero() {
        let mut m = Model::new(1, BigInt::from(10));
        let v = voucher(Who::Payee, Who::Payer, 7, 0, 5);
        assert_eq!(m.apply(&Op::Update(v)), exit(code::OK));
        let down = voucher(Who::Payer, Who::Payee, 7, 1, 2);
        assert_eq!(m.apply(&Op::Update(down)), exit(code::OK));
        assert_eq!(m.channel.as_ref().unwrap().to_send, BigInt::from(2));
        let over = voucher(Who::Payee, Who::Payer, 7, 2, 11);
        assert_eq!(m.apply(&Op::Update(over)), exit(code::ILLEGAL_ARGUMENT));
    }
}
