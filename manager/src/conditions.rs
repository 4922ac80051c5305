//! What a voucher asks of the chain besides a signature and funds: a secret
//! whose hash it carries, a window of epochs, a minimum settle height, an
//! `extra` call that must succeed, and merges of other lanes. And whether a
//! voucher can be redeemed now, or what it still waits for.

use fvm_shared::clock::ChainEpoch;
use paych_actor::{MAX_LANE, MAX_SECRET_SIZE, Merge, ModVerifyParams, SignedVoucher};
use paych_devnet::addr::show;
use paych_devnet::{Error, Result};
use serde::Serialize;

/// A voucher's conditions, as `voucher create` takes them and `voucher list`
/// shows them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conditions {
    /// blake2b-256 of the secret the payee must present; empty for none.
    pub secret_hash: Vec<u8>,
    /// First epoch the voucher can be redeemed in (0: no lower bound).
    pub time_lock_min: ChainEpoch,
    /// Last epoch the voucher can be redeemed in (0: no expiry).
    pub time_lock_max: ChainEpoch,
    /// Redeeming the voucher keeps the channel open at least until then.
    pub min_settle_height: ChainEpoch,
    /// A call the channel makes first; the voucher fails if it fails.
    pub extra: Option<ModVerifyParams>,
    /// Other lanes this voucher consumes up to a nonce.
    pub merges: Vec<Merge>,
}

impl Conditions {
    /// The conditions `sv` carries.
    pub fn of(sv: &SignedVoucher) -> Self {
        Self {
            secret_hash: sv.secret_pre_image.clone(),
            time_lock_min: sv.time_lock_min,
            time_lock_max: sv.time_lock_max,
            min_settle_height: sv.min_settle_height,
            extra: sv.extra.clone(),
            merges: sv.merges.clone(),
        }
    }

    /// Whether the voucher is a plain promise of an amount.
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }

    /// Writes the conditions into an (unsigned) voucher.
    pub(crate) fn apply_to(&self, sv: &mut SignedVoucher) {
        sv.secret_pre_image = self.secret_hash.clone();
        sv.time_lock_min = self.time_lock_min;
        sv.time_lock_max = self.time_lock_max;
        sv.min_settle_height = self.min_settle_height;
        sv.extra = self.extra.clone();
        sv.merges = self.merges.clone();
    }

    /// The rules that need no chain: a secret hash the actor can match, a
    /// window that is not upside down, and merges of other lanes, each once.
    pub fn validate(&self, lane: u64) -> Result<()> {
        if !self.secret_hash.is_empty() && self.secret_hash.len() != 32 {
            return Err(Error::invalid(format!(
                "a secret hash is 32 bytes (blake2b-256), got {}",
                self.secret_hash.len()
            )));
        }
        if self.time_lock_max != 0 && self.time_lock_min > self.time_lock_max {
            return Err(Error::invalid(format!(
                "time lock window is upside down: time-lock-min {} is after time-lock-max {}",
                self.time_lock_min, self.time_lock_max
            )));
        }
        for (i, merge) in self.merges.iter().enumerate() {
            if merge.lane == lane {
                return Err(Error::invalid(format!(
                    "a merge must name another lane than the voucher's own (lane {lane})"
                )));
            }
            if merge.lane > MAX_LANE {
                return Err(Error::invalid(format!(
                    "merge lane {} is too large (max 2^63-1)",
                    merge.lane
                )));
            }
            if self.merges[..i].iter().any(|m| m.lane == merge.lane) {
                return Err(Error::invalid(format!(
                    "lane {} is merged twice",
                    merge.lane
                )));
            }
        }
        Ok(())
    }

    /// One line for lists: every condition, or `plain`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.secret_hash.is_empty() {
            parts.push(format!(
                "secret hash {}",
                data_encoding::HEXLOWER.encode(&self.secret_hash)
            ));
        }
        match (self.time_lock_min, self.time_lock_max) {
            (0, 0) => {}
            (min, 0) => parts.push(format!("from epoch {min}")),
            (min, max) => parts.push(format!("epochs {min} to {max}")),
        }
        if self.min_settle_height != 0 {
            parts.push(format!("min settle height {}", self.min_settle_height));
        }
        if let Some(extra) = &self.extra {
            parts.push(format!(
                "extra call {} method {} params {}",
                show(&extra.actor),
                extra.method,
                data_encoding::HEXLOWER.encode(extra.data.bytes())
            ));
        }
        for merge in &self.merges {
            parts.push(format!(
                "merges lane {} up to nonce {}",
                merge.lane, merge.nonce
            ));
        }
        if parts.is_empty() {
            "plain".to_string()
        } else {
            parts.join("; ")
        }
    }
}

/// A secret the payee presents, checked against a voucher's hash the way the
/// actor checks it.
pub fn secret_matches(sv: &SignedVoucher, secret: &[u8]) -> bool {
    sv.secret_pre_image.is_empty()
        || actor_interfaces::blake2b_256(secret)[..] == sv.secret_pre_image[..]
}

/// The longest secret the actor accepts.
pub fn check_secret_size(secret: &[u8]) -> Result<()> {
    if secret.len() > MAX_SECRET_SIZE {
        return Err(Error::invalid(format!(
            "a secret is at most {MAX_SECRET_SIZE} bytes, got {}",
            secret.len()
        )));
    }
    Ok(())
}

/// What a voucher still waits for before it can be redeemed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "waits_for")]
pub enum Waiting {
    /// Its window opens at this epoch.
    Epoch { epoch: ChainEpoch },
    /// The secret behind its hash.
    Secret,
}

/// Whether a voucher can be redeemed in the next epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spendable {
    /// A message submitted now succeeds (the chain's dry run says so).
    Now,
    /// Not yet: it waits for these; with them, the chain accepts it (as far
    /// as a dry run can tell without the secret).
    Later(Vec<Waiting>),
    /// Its window closed at this epoch; it can never be redeemed.
    Expired { at: ChainEpoch },
}

impl Spendable {
    pub fn is_now(&self) -> bool {
        matches!(self, Spendable::Now)
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Spendable::Now => "spendable now".to_string(),
            Spendable::Expired { at } => {
                format!("not spendable: its time lock expired after epoch {at}")
            }
            Spendable::Later(waiting) => {
                let reasons: Vec<String> = waiting
                    .iter()
                    .map(|w| match w {
                        Waiting::Epoch { epoch } => {
                            format!("before its time lock opens at epoch {epoch}")
                        }
                        Waiting::Secret => "the secret is needed".to_string(),
                    })
                    .collect();
                format!("not spendable yet: {}", reasons.join(", and "))
            }
        }
    }
}

/// The conditions in the way of redeeming `sv` in epoch `next`, given the
/// secrets the payee knows.
pub(crate) fn waiting_for(
    sv: &SignedVoucher,
    next: ChainEpoch,
    secret: Option<&[u8]>,
) -> std::result::Result<Vec<Waiting>, ChainEpoch> {
    if sv.time_lock_max != 0 && next > sv.time_lock_max {
        return Err(sv.time_lock_max);
    }
    let mut waiting = Vec::new();
    if next < sv.time_lock_min {
        waiting.push(Waiting::Epoch {
            epoch: sv.time_lock_min,
        });
    }
    if !sv.secret_pre_image.is_empty() && secret.is_none() {
        waiting.push(Waiting::Secret);
    }
    Ok(waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fvm_shared::address::Address;
    use fvm_shared::econ::TokenAmount;

    fn voucher() -> SignedVoucher {
        SignedVoucher::new(Address::new_id(100), 0, 1, TokenAmount::from_atto(5))
    }

    #[test]
    fn validation_refuses_bad_windows_hashes_and_merges() {
        let upside_down = Conditions {
            time_lock_min: 20,
            time_lock_max: 10,
            ..Default::default()
        };
        assert!(upside_down.validate(0).is_err());
        let open_ended = Conditions {
            time_lock_min: 20,
            ..Default::default()
        };
        assert!(open_ended.validate(0).is_ok());
        let short_hash = Conditions {
            secret_hash: vec![1; 31],
            ..Default::default()
        };
        assert!(short_hash.validate(0).is_err());
        let own_lane = Conditions {
            merges: vec![Merge { lane: 3, nonce: 1 }],
            ..Default::default()
        };
        assert!(own_lane.validate(3).is_err());
        assert!(own_lane.validate(4).is_ok());
        let twice = Conditions {
            merges: vec![Merge { lane: 1, nonce: 1 }, Merge { lane: 1, nonce: 2 }],
            ..Default::default()
        };
        assert!(twice.validate(0).is_err());
    }

    #[test]
    fn waiting_follows_the_window_and_the_secret() {
        let mut sv = voucher();
        sv.time_lock_min = 10;
        sv.time_lock_max = 20;
        assert_eq!(
            waiting_for(&sv, 9, None),
            Ok(vec![Waiting::Epoch { epoch: 10 }])
        );
        assert_eq!(waiting_for(&sv, 10, None), Ok(vec![]));
        assert_eq!(waiting_for(&sv, 20, None), Ok(vec![]));
        assert_eq!(waiting_for(&sv, 21, None), Err(20));
        sv.secret_pre_image = actor_interfaces::blake2b_256(b"open").to_vec();
        assert_eq!(waiting_for(&sv, 15, None), Ok(vec![Waiting::Secret]));
        assert_eq!(waiting_for(&sv, 15, Some(b"open")), Ok(vec![]));
        assert!(secret_matches(&sv, b"open"));
        assert!(!secret_matches(&sv, b"shut"));
    }

    #[test]
    fn summaries_name_every_condition() {
        assert_eq!(Conditions::default().summary(), "plain");
        let c = Conditions {
            time_lock_min: 5,
            time_lock_max: 9,
            min_settle_height: 100,
            merges: vec![Merge { lane: 2, nonce: 4 }],
            ..Default::default()
        };
        assert_eq!(
            c.summary(),
            "epochs 5 to 9; min settle height 100; merges lane 2 up to nonce 4"
        );
    }
}
