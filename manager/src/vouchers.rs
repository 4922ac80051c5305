//! Vouchers: the payer creates them, the payee checks and stores them, picks
//! the best spendable one per lane and submits it.

use std::collections::BTreeMap;

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_actor::{MAX_LANE, Method, SignedVoucher, UpdateChannelStateParams};
use paych_chain::Head;
use paych_chain::receipt::exit_code_name;
use paych_client::amount::format_fil;
use paych_client::voucher;
use paych_devnet::addr::show;
use paych_devnet::repo::{AddOutcome, MessageRecord, VoucherOrigin, VoucherRecord};
use paych_devnet::{ChainNode, Context, Error, MessageSpec, Repo, Result, Store};

use crate::PaychManager;
use crate::channel::{Channel, OnChain};
use crate::conditions::{
    Conditions, Spendable, Waiting, check_secret_size, secret_matches, waiting_for,
};
use crate::rules::{
    Signer, decode_voucher, known_lanes, owed, recover_signer, require_funds, require_known_merges,
    require_not_settling, require_payer_signed, require_redeemable, require_voucher_for, signer,
};

/// A voucher created by `voucher create`.
#[derive(Clone, Debug)]
pub struct CreatedVoucher {
    pub channel: Address,
    pub voucher: SignedVoucher,
    /// What this voucher adds to the lane's previous best.
    pub delta: TokenAmount,
}

/// What `voucher check` / `voucher add` established.
#[derive(Clone, Debug)]
pub struct CheckedVoucher {
    pub channel: Address,
    pub voucher: SignedVoucher,
    /// How much more the payee can redeem with this voucher than with what
    /// was already known for its lane.
    pub delta: TokenAmount,
    pub payee: Address,
    pub payer: Address,
    pub payee_in_wallet: bool,
    pub payer_in_wallet: bool,
    /// How this voucher is already stored here, if it is.
    pub already_stored: Option<VoucherOrigin>,
    /// Set while the channel is settling: the last epoch to redeem.
    pub settling_at: Option<ChainEpoch>,
    /// Whether it can be redeemed now, or what it still waits for.
    pub spendable: Spendable,
    /// Set by `add`: the voucher is in the store (stored now, or already
    /// there, in which case `delta` is zero).
    pub added: bool,
}

/// A stored voucher that best-spendable skipped, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub voucher: SignedVoucher,
    pub reason: String,
}

/// A stored voucher that is not spendable now but will be, with a secret or
/// at a later epoch.
#[derive(Clone, Debug)]
pub struct Pending {
    pub voucher: SignedVoucher,
    pub waiting: Vec<Waiting>,
}

/// For each lane, the highest-amount voucher that would succeed now, and the
/// highest that would with a secret or later.
#[derive(Clone, Debug)]
pub struct BestSpendable {
    pub channel: Address,
    /// Spendable now, one per lane.
    pub vouchers: Vec<SignedVoucher>,
    /// For each of `vouchers`, the secret to submit it with (a hash-locked
    /// voucher's, from the secrets given).
    pub secrets: Vec<Option<Vec<u8>>>,
    /// Per lane, the best voucher that waits for a secret or an epoch.
    pub later: Vec<Pending>,
    pub skipped: Vec<Skipped>,
}

/// A lane handed out by `lane allocate`.
#[derive(Clone, Debug)]
pub struct AllocatedLane {
    pub channel: Address,
    pub lane: u64,
}

/// A voucher redeemed on chain.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub channel: Address,
    pub voucher: SignedVoucher,
    pub message: MessageRecord,
    /// Stored vouchers newly marked as submitted (this one and lower nonces
    /// on its lane).
    pub marked: usize,
    /// What the channel owes the payee afterwards.
    pub to_send: TokenAmount,
}

/// A voucher's text decoded, with its signer where the signature tells it.
#[derive(Clone, Debug)]
pub struct DecodedVoucher {
    pub voucher: SignedVoucher,
    /// Recovered from a secp256k1 signature; BLS signatures do not tell.
    pub signer: Option<Address>,
}

impl DecodedVoucher {
    /// Decodes Lotus's voucher text; needs no chain.
    pub fn decode(text: &str) -> Result<Self> {
        let voucher = decode_voucher(text)?;
        Ok(Self {
            signer: recover_signer(&voucher),
            voucher,
        })
    }
}

/// A channel's stored vouchers, by lane then nonce.
#[derive(Clone, Debug)]
pub struct VoucherList {
    pub channel: Address,
    pub vouchers: Vec<VoucherRecord>,
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// Creates a plain voucher for `amount` (cumulative) on `lane`, signed by
    /// the payer, with the next nonce for the lane; stores it.
    pub fn voucher_create(
        &self,
        channel: &Address,
        amount: &TokenAmount,
        lane: u64,
    ) -> Result<CreatedVoucher> {
        self.voucher_create_with(channel, amount, lane, &Conditions::default(), false)
    }

    /// Creates a voucher with `conditions`. Checked off chain: merges name
    /// other known lanes above their nonces, the funds cover what the actor
    /// would redeem (merged lanes included), and a window that has already
    /// closed is refused unless `force`.
    pub fn voucher_create_with(
        &self,
        channel: &Address,
        amount: &TokenAmount,
        lane: u64,
        conditions: &Conditions,
        force: bool,
    ) -> Result<CreatedVoucher> {
        if !amount.is_positive() {
            return Err(Error::invalid("the voucher amount must be positive"));
        }
        if lane > MAX_LANE {
            return Err(Error::invalid(format!(
                "lane {lane} is too large (max 2^63-1)"
            )));
        }
        conditions.validate(lane)?;
        self.chain().repo().write(|tx| {
            let (head, ch) = self.open_channel(tx, channel)?;
            let live = require_not_settling(&ch)?;
            let key = tx.key(&live.from)?.ok_or_else(|| {
                Error::missing_key(format!(
                    "the wallet has no key for the channel's payer {}: only the payer creates vouchers",
                    show(&live.from)
                ))
            })?;
            let stored = tx.vouchers(&ch.robust)?;
            let stored: Vec<&SignedVoucher> = stored.iter().map(|r| &r.voucher).collect();
            let lanes = known_lanes(&live.lanes, stored.iter().copied());
            let current = lanes.get(&lane).cloned().unwrap_or_default();
            if *amount <= current.redeemed {
                return Err(Error::invalid(format!(
                    "voucher amount {} is not above lane {lane}'s current {} (amounts are cumulative per lane)",
                    format_fil(amount),
                    format_fil(&current.redeemed)
                )));
            }
            require_known_merges(&lanes, conditions)?;
            if conditions.time_lock_max != 0 && conditions.time_lock_max <= head.epoch && !force {
                return Err(Error::invalid(format!(
                    "the time lock window closed at epoch {} (the chain is at epoch {}): nobody could redeem this voucher; --force creates it anyway",
                    conditions.time_lock_max, head.epoch
                )));
            }
            let nonce = current
                .nonce
                .checked_add(1)
                .filter(|n| *n <= i64::MAX as u64)
                .ok_or_else(|| Error::invalid(format!("lane {lane} has no nonces left")))?;
            let mut sv = SignedVoucher::new(ch.robust, lane, nonce, amount.clone());
            conditions.apply_to(&mut sv);
            let before = owed(live, stored.iter().copied());
            let after = owed(live, stored.iter().copied().chain([&sv]));
            require_funds(&after, &live.balance)?;
            voucher::sign(&mut sv, &key);
            match tx.add_voucher(&VoucherRecord::new(
                ch.robust,
                sv.clone(),
                VoucherOrigin::Created,
            ))? {
                AddOutcome::Inserted => {}
                other => {
                    return Err(Error::internal(format!(
                        "nonce {nonce} on lane {lane} is taken: {other:?}"
                    )));
                }
            }
            self.record_lane(tx, &ch, live, lane)?;
            Ok(CreatedVoucher {
                channel: ch.robust,
                voucher: sv,
                delta: after - before,
            })
        })
    }

    /// Hands out a lane no stored voucher of the channel uses, and never the
    /// same lane twice (Lotus's `PaychAllocateLane`).
    pub fn allocate_lane(&self, channel: &Address) -> Result<AllocatedLane> {
        self.chain().repo().write(|tx| {
            let (_, ch) = self.open_channel(tx, channel)?;
            let live = ch.live()?;
            let stored = tx.vouchers(&ch.robust)?;
            let used = stored
                .iter()
                .map(|r| r.voucher.lane)
                .chain(live.lanes.iter().map(|(lane, _)| *lane))
                .max()
                .map_or(0, |lane| lane + 1);
            let mut record = ch.record_or_new(live);
            let lane = record.next_lane.max(used);
            if lane > MAX_LANE {
                return Err(Error::invalid("the channel has no lanes left"));
            }
            record.next_lane = lane + 1;
            tx.put_channel(&record)?;
            Ok(AllocatedLane {
                channel: ch.robust,
                lane,
            })
        })
    }

    /// Keeps the channel's record and its next free lane past `lane`.
    fn record_lane(
        &self,
        tx: &mut dyn Store,
        ch: &Channel,
        live: &OnChain,
        lane: u64,
    ) -> Result<()> {
        let mut record = ch.record_or_new(live);
        if ch.record.is_none() || record.next_lane <= lane {
            record.next_lane = record.next_lane.max(lane.saturating_add(1));
            tx.put_channel(&record)?;
        }
        Ok(())
    }

    /// The payee's checks of a voucher (see [`Self::voucher_add`]).
    pub fn voucher_check(&self, channel: &Address, sv: &SignedVoucher) -> Result<CheckedVoucher> {
        self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            self.validate(store, head, &ch, sv)
        })
    }

    /// Checks a voucher as the payee and stores it, if it adds at least
    /// `min_delta` to what the lane was known to redeem. A voucher already
    /// stored is a no-op. The wallet must hold the payee's key.
    pub fn voucher_add(
        &self,
        channel: &Address,
        sv: &SignedVoucher,
        min_delta: &TokenAmount,
    ) -> Result<CheckedVoucher> {
        self.chain().repo().write(|tx| {
            let (head, ch) = self.open_channel(tx, channel)?;
            let mut checked = self.validate(tx, head, &ch, sv)?;
            if checked.already_stored.is_some() {
                checked.delta = TokenAmount::default();
                return Ok(checked);
            }
            if !checked.payee_in_wallet {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for the channel's payee {}: `voucher add` stores vouchers for the payee",
                    show(&checked.payee)
                )));
            }
            if checked.delta < *min_delta {
                return Err(Error::invalid(format!(
                    "voucher delta {} is less than the minimum {}",
                    format_fil(&checked.delta),
                    format_fil(min_delta)
                )));
            }
            match tx.add_voucher(&VoucherRecord::new(
                ch.robust,
                sv.clone(),
                VoucherOrigin::Received,
            ))? {
                AddOutcome::Inserted => {}
                AddOutcome::Duplicate => checked.delta = TokenAmount::default(),
                AddOutcome::Conflict(_) => {
                    return Err(Error::stale_nonce(format!(
                        "another voucher with lane {} nonce {} is already stored",
                        sv.lane, sv.nonce
                    )));
                }
            }
            self.record_lane(tx, &ch, ch.live()?, sv.lane)?;
            checked.added = true;
            Ok(checked)
        })
    }

    /// The receiver-side checks (channel, signer, nonce and amount above what
    /// is known, funds), then whether the chain would redeem it now: a dry
    /// run of UpdateChannelState from the payee, at the first epoch of its
    /// window if that is later. A voucher waiting for its window or its
    /// secret is valid and says so; one the chain would refuse for any other
    /// reason is not. The voucher itself, if already stored, does not count
    /// against itself (lotus #2582).
    fn validate(
        &self,
        store: &dyn Store,
        head: Head,
        ch: &Channel,
        sv: &SignedVoucher,
    ) -> Result<CheckedVoucher> {
        let live = ch.live()?;
        require_voucher_for(&self.chain().state(store, &head.state_root)?, sv, ch)?;
        Conditions::of(sv)
            .validate(sv.lane)
            .map_err(|e| Error::bad_voucher(e.message().to_string()))?;
        require_payer_signed(sv, live)?;
        require_redeemable(ch, head)?;

        let stored = store.vouchers(&ch.robust)?;
        let already_stored = stored.iter().find(|r| r.voucher == *sv).map(|r| r.origin);
        let others: Vec<&SignedVoucher> = stored
            .iter()
            .map(|r| &r.voucher)
            .filter(|v| *v != sv)
            .collect();
        let lanes = known_lanes(&live.lanes, others.iter().copied());
        if let Some(known) = lanes.get(&sv.lane) {
            if sv.nonce <= known.nonce {
                return Err(Error::stale_nonce(format!(
                    "stale nonce: lane {} is already at nonce {} ({}); this voucher has nonce {}",
                    sv.lane,
                    known.nonce,
                    format_fil(&known.redeemed),
                    sv.nonce
                )));
            }
            if sv.amount <= known.redeemed {
                return Err(Error::stale_nonce(format!(
                    "voucher amount {} is not above the {} already known for lane {}",
                    format_fil(&sv.amount),
                    format_fil(&known.redeemed),
                    sv.lane
                )));
            }
        }
        let before = owed(live, others.iter().copied());
        let after = owed(live, others.iter().copied().chain([sv]));
        require_funds(&after, &live.balance)?;
        let (spendable, _) = self
            .spendability(head, ch, live, sv, &[])
            .map_err(|reason| {
                Error::rejected(format!("voucher would be rejected on chain: {reason}"))
            })?;
        let settling_at = live.state.settling_at;
        Ok(CheckedVoucher {
            channel: ch.robust,
            voucher: sv.clone(),
            delta: after - before,
            payee: live.to,
            payer: live.from,
            payee_in_wallet: store.key(&live.to)?.is_some(),
            payer_in_wallet: store.key(&live.from)?.is_some(),
            already_stored,
            settling_at: (settling_at != 0).then_some(settling_at),
            spendable,
            added: false,
        })
    }

    /// Whether `sv` can be redeemed in the next epoch with one of `secrets`
    /// (and which), or what it waits for. `Err` is the chain's reason for
    /// refusing it even once its window is open and its secret known.
    fn spendability(
        &self,
        head: Head,
        ch: &Channel,
        live: &OnChain,
        sv: &SignedVoucher,
        secrets: &[Vec<u8>],
    ) -> Result<(Spendable, Option<Vec<u8>>), String> {
        let secret = if sv.secret_pre_image.is_empty() {
            None
        } else {
            secrets.iter().find(|s| secret_matches(sv, s)).cloned()
        };
        let next = head.epoch + 1;
        let waiting = match waiting_for(sv, next, secret.as_deref()) {
            Err(at) => return Ok((Spendable::Expired { at }, secret)),
            Ok(waiting) => waiting,
        };
        // Without the secret the dry run cannot get past the hash check;
        // everything that can be checked off chain has been.
        if waiting.contains(&Waiting::Secret) {
            return Ok((Spendable::Later(waiting), None));
        }
        let epoch = next.max(sv.time_lock_min);
        let at = Head {
            epoch: epoch - 1,
            state_root: head.state_root,
        };
        self.dry_run_update(at, ch, live, sv, secret.as_deref().unwrap_or_default())?;
        let spendable = if waiting.is_empty() {
            Spendable::Now
        } else {
            Spendable::Later(waiting)
        };
        Ok((spendable, secret))
    }

    /// Runs UpdateChannelState from the payee in the epoch after `head`
    /// without committing; `Err` is the chain's reason for refusing.
    fn dry_run_update(
        &self,
        head: Head,
        ch: &Channel,
        live: &OnChain,
        sv: &SignedVoucher,
        secret: &[u8],
    ) -> Result<(), String> {
        let params = UpdateChannelStateParams {
            sv: sv.clone(),
            secret: secret.to_vec(),
        };
        let params =
            RawBytes::serialize(&params).map_err(|e| format!("cannot encode the voucher: {e}"))?;
        let receipt = self
            .chain()
            .call(
                head,
                &Address::new_id(live.to_id),
                &Address::new_id(ch.id),
                Method::UpdateChannelState as u64,
                params,
            )
            .map_err(|e| e.to_string())?;
        if receipt.exit_code.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                exit_code_name(receipt.exit_code),
                receipt.failure.unwrap_or_default()
            ))
        }
    }

    /// Whether a message redeeming `sv` with `secret` would succeed now
    /// (Lotus's `PaychVoucherCheckSpendable`): false for a voucher already
    /// submitted, or one the chain would refuse.
    pub fn voucher_spendable(
        &self,
        channel: &Address,
        sv: &SignedVoucher,
        secret: &[u8],
    ) -> Result<bool> {
        self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            let live = ch.live()?;
            let submitted = store
                .vouchers(&ch.robust)?
                .iter()
                .any(|r| r.voucher == *sv && r.submitted);
            if submitted {
                return Ok(false);
            }
            let secrets = [secret.to_vec()];
            Ok(matches!(
                self.spendability(head, &ch, live, sv, &secrets),
                Ok((Spendable::Now, _))
            ))
        })
    }

    /// The channel's stored vouchers, by lane then nonce.
    pub fn voucher_list(&self, channel: &Address) -> Result<VoucherList> {
        self.chain().repo().read(|store| {
            let (_, ch) = self.open_channel(store, channel)?;
            Ok(VoucherList {
                vouchers: store.vouchers(&ch.robust)?,
                channel: ch.robust,
            })
        })
    }

    /// For each lane, the highest-amount stored voucher (not yet submitted)
    /// that would succeed now, given `secrets`; and the highest that waits for
    /// a secret or its window. Vouchers the chain would refuse are skipped and
    /// reported (lotus #2587).
    pub fn best_spendable(&self, channel: &Address, secrets: &[Vec<u8>]) -> Result<BestSpendable> {
        let (head, ch, stored) = self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            let stored = store.vouchers(&ch.robust)?;
            Ok((head, ch, stored))
        })?;
        let live = ch.live()?;
        let mut now: BTreeMap<u64, (SignedVoucher, Option<Vec<u8>>)> = BTreeMap::new();
        let mut later: BTreeMap<u64, Pending> = BTreeMap::new();
        let mut skipped = Vec::new();
        for record in stored.into_iter().filter(|r| !r.submitted) {
            let voucher = record.voucher;
            match self.spendability(head, &ch, live, &voucher, secrets) {
                Ok((Spendable::Now, secret)) => {
                    let better = now
                        .get(&voucher.lane)
                        .is_none_or(|(best, _)| voucher.amount > best.amount);
                    if better {
                        now.insert(voucher.lane, (voucher, secret));
                    }
                }
                Ok((Spendable::Later(waiting), _)) => {
                    let better = later
                        .get(&voucher.lane)
                        .is_none_or(|best| voucher.amount > best.voucher.amount);
                    if better {
                        later.insert(voucher.lane, Pending { voucher, waiting });
                    }
                }
                Ok((Spendable::Expired { at }, _)) => skipped.push(Skipped {
                    voucher,
                    reason: format!("its time lock expired after epoch {at}"),
                }),
                Err(reason) => skipped.push(Skipped { voucher, reason }),
            }
        }
        // What waits is worth reporting only if it beats what is spendable now.
        let later = later
            .into_values()
            .filter(|p| {
                now.get(&p.voucher.lane)
                    .is_none_or(|(best, _)| p.voucher.amount > best.amount)
            })
            .collect();
        let (vouchers, secrets) = now.into_values().unzip();
        Ok(BestSpendable {
            channel: ch.robust,
            vouchers,
            secrets,
            later,
            skipped,
        })
    }

    /// Redeems a voucher on chain, with `secret` if it is hash-locked:
    /// UpdateChannelState from the party that did not sign it (normally the
    /// payee). Marks it and lower nonces on its lane as submitted.
    pub fn voucher_submit(
        &self,
        channel: &Address,
        sv: &SignedVoucher,
        secret: &[u8],
    ) -> Result<Submitted> {
        check_secret_size(secret)?;
        let chain = self.chain();
        chain.repo().write(|tx| {
            let (head, ch) = self.open_channel(tx, channel)?;
            let live = ch.live()?;
            require_voucher_for(&chain.state(tx, &head.state_root)?, sv, &ch)?;
            let stored = tx.vouchers(&ch.robust)?;
            let existing = stored.iter().find(|r| r.voucher == *sv);
            if existing.is_some_and(|r| r.submitted) {
                return Err(Error::rejected(format!(
                    "voucher (lane {}, nonce {}) was already submitted",
                    sv.lane, sv.nonce
                )));
            }
            let (sender, role) = match signer(sv, live)? {
                Signer::Payer => (live.to, "payee"),
                Signer::Payee => (live.from, "payer"),
            };
            if tx.key(&sender)?.is_none() {
                return Err(Error::missing_key(format!(
                    "the wallet has no key for the channel's {role} {}, who submits this voucher",
                    show(&sender)
                )));
            }
            require_redeemable(&ch, head)?;
            if let Some(lane) = live.lane(sv.lane)
                && lane.nonce >= sv.nonce
            {
                return Err(Error::stale_nonce(format!(
                    "stale nonce: lane {} on chain is already at nonce {} ({} redeemed); this voucher has nonce {}",
                    sv.lane,
                    lane.nonce,
                    format_fil(&lane.redeemed),
                    sv.nonce
                )));
            }
            require_funds(&owed(live, [sv]), &live.balance)?;
            let params = UpdateChannelStateParams {
                sv: sv.clone(),
                secret: secret.to_vec(),
            };
            let message = chain.push(
                tx,
                &MessageSpec::call(
                    sender,
                    ch.robust,
                    Method::UpdateChannelState as u64,
                    RawBytes::serialize(&params).context("cannot encode params")?,
                ),
            )?;
            if existing.is_none() {
                // A different voucher may hold this lane and nonce locally
                // (a conflict); the chain has spoken, so it is marked
                // submitted below all the same.
                tx.add_voucher(&VoucherRecord::new(
                    ch.robust,
                    sv.clone(),
                    VoucherOrigin::Submitted,
                ))?;
            }
            let marked = tx.mark_submitted(&ch.robust, sv.lane, sv.nonce)?;
            ch.track(tx, live)?;
            let to_send = self
                .channel_after(tx, &message, &ch)?
                .on_chain
                .map(|c| c.paych.state.to_send)
                .unwrap_or_default();
            Ok(Submitted {
                channel: ch.robust,
                voucher: sv.clone(),
                message,
                marked,
                to_send,
            })
        })
    }
}
