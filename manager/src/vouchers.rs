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
use paych_devnet::{Context, Error, MessageSpec, Repo, Result, Store};

use crate::PaychManager;
use crate::channel::{Channel, OnChain};
use crate::rules::{
    Signer, decode_voucher, known_lanes, recover_signer, redeemed_with, require_funds,
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
    /// For `add`: whether it was stored now (false for a duplicate).
    pub added: bool,
}

/// A stored voucher that best-spendable skipped, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub voucher: SignedVoucher,
    pub reason: String,
}

/// For each lane, the highest-amount voucher that would succeed now.
#[derive(Clone, Debug)]
pub struct BestSpendable {
    pub channel: Address,
    pub vouchers: Vec<SignedVoucher>,
    pub skipped: Vec<Skipped>,
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

impl<R: Repo> PaychManager<'_, R> {
    /// Creates a voucher for `amount` (cumulative) on `lane`, signed by the
    /// payer, with the next nonce for the lane; stores it.
    pub fn voucher_create(
        &self,
        channel: &Address,
        amount: &TokenAmount,
        lane: u64,
    ) -> Result<CreatedVoucher> {
        if !amount.is_positive() {
            return Err(Error::invalid("the voucher amount must be positive"));
        }
        if lane > MAX_LANE {
            return Err(Error::invalid(format!(
                "lane {lane} is too large (max 2^63-1)"
            )));
        }
        self.chain().repo().write(|tx| {
            let (_, ch) = self.open_channel(tx, channel)?;
            let live = require_not_settling(&ch)?;
            let key = tx.key(&live.from)?.ok_or_else(|| {
                Error::missing_key(format!(
                    "the wallet has no key for the channel's payer {}: only the payer creates vouchers",
                    show(&live.from)
                ))
            })?;
            let stored = tx.vouchers(&ch.robust)?;
            let lanes = known_lanes(&live.lanes, stored.iter().map(|r| &r.voucher));
            let current = lanes.get(&lane).cloned().unwrap_or_default();
            if *amount <= current.redeemed {
                return Err(Error::invalid(format!(
                    "voucher amount {} is not above lane {lane}'s current {} (amounts are cumulative per lane)",
                    format_fil(amount),
                    format_fil(&current.redeemed)
                )));
            }
            require_funds(&redeemed_with(&lanes, lane, amount), &live.balance)?;
            let nonce = current
                .nonce
                .checked_add(1)
                .filter(|n| *n <= i64::MAX as u64)
                .ok_or_else(|| Error::invalid(format!("lane {lane} has no nonces left")))?;
            let mut sv = SignedVoucher::new(ch.robust, lane, nonce, amount.clone());
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
            ch.track(tx, live)?;
            Ok(CreatedVoucher {
                channel: ch.robust,
                voucher: sv,
                delta: amount - &current.redeemed,
            })
        })
    }

    /// The payee's checks of a voucher (see [`Self::voucher_add`]).
    pub fn voucher_check(&self, channel: &Address, sv: &SignedVoucher) -> Result<CheckedVoucher> {
        self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            self.validate(store, head, &ch, sv)
        })
    }

    /// Checks a voucher as the payee and stores it. A voucher already stored
    /// is a no-op. The wallet must hold the payee's key.
    pub fn voucher_add(&self, channel: &Address, sv: &SignedVoucher) -> Result<CheckedVoucher> {
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
            ch.track(tx, ch.live()?)?;
            checked.added = true;
            Ok(checked)
        })
    }

    /// Lotus's receiver-side checks, then a dry run of UpdateChannelState
    /// from the payee against the current state. The voucher itself, if
    /// already stored, does not count against itself (lotus #2582).
    fn validate(
        &self,
        store: &dyn Store,
        head: Head,
        ch: &Channel,
        sv: &SignedVoucher,
    ) -> Result<CheckedVoucher> {
        let live = ch.live()?;
        require_voucher_for(&self.chain().state(store, &head.state_root)?, sv, ch)?;
        if sv.extra.is_some() {
            return Err(Error::bad_voucher(
                "vouchers with an extra verification call are not supported",
            ));
        }
        if sv.time_lock_min != 0 || sv.time_lock_max != 0 {
            return Err(Error::bad_voucher(
                "vouchers with time locks are not supported",
            ));
        }
        if !sv.secret_pre_image.is_empty() {
            return Err(Error::bad_voucher(
                "vouchers with a secret hash are not supported",
            ));
        }
        if !sv.merges.is_empty() {
            return Err(Error::bad_voucher(
                "vouchers with lane merges are not supported",
            ));
        }
        require_payer_signed(sv, live)?;
        require_redeemable(ch, head)?;

        let stored = store.vouchers(&ch.robust)?;
        let already_stored = stored.iter().find(|r| r.voucher == *sv).map(|r| r.origin);
        let others = stored
            .iter()
            .filter(|r| r.voucher != *sv)
            .map(|r| &r.voucher);
        let lanes = known_lanes(&live.lanes, others);
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
        require_funds(&redeemed_with(&lanes, sv.lane, &sv.amount), &live.balance)?;
        self.dry_run_update(head, ch, live, sv).map_err(|reason| {
            Error::rejected(format!("voucher would be rejected on chain: {reason}"))
        })?;
        let known = lanes.get(&sv.lane).cloned().unwrap_or_default();
        let settling_at = live.state.settling_at;
        Ok(CheckedVoucher {
            channel: ch.robust,
            voucher: sv.clone(),
            delta: &sv.amount - &known.redeemed,
            payee: live.to,
            payer: live.from,
            payee_in_wallet: store.key(&live.to)?.is_some(),
            payer_in_wallet: store.key(&live.from)?.is_some(),
            already_stored,
            settling_at: (settling_at != 0).then_some(settling_at),
            added: false,
        })
    }

    /// Runs UpdateChannelState from the payee without committing; `Err` is
    /// the chain's reason for refusing.
    fn dry_run_update(
        &self,
        head: Head,
        ch: &Channel,
        live: &OnChain,
        sv: &SignedVoucher,
    ) -> Result<(), String> {
        let params = UpdateChannelStateParams {
            sv: sv.clone(),
            secret: Vec::new(),
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
    /// that would succeed now; vouchers that would fail are skipped and
    /// reported (lotus #2587).
    pub fn best_spendable(&self, channel: &Address) -> Result<BestSpendable> {
        let (head, ch, stored) = self.chain().repo().read(|store| {
            let (head, ch) = self.open_channel(store, channel)?;
            let stored = store.vouchers(&ch.robust)?;
            Ok((head, ch, stored))
        })?;
        let live = ch.live()?;
        let mut best: BTreeMap<u64, SignedVoucher> = BTreeMap::new();
        let mut skipped = Vec::new();
        for record in stored.into_iter().filter(|r| !r.submitted) {
            match self.dry_run_update(head, &ch, live, &record.voucher) {
                Ok(()) => {
                    let slot = best
                        .entry(record.voucher.lane)
                        .or_insert_with(|| record.voucher.clone());
                    if record.voucher.amount > slot.amount {
                        *slot = record.voucher;
                    }
                }
                Err(reason) => skipped.push(Skipped {
                    voucher: record.voucher,
                    reason,
                }),
            }
        }
        Ok(BestSpendable {
            channel: ch.robust,
            vouchers: best.into_values().collect(),
            skipped,
        })
    }

    /// Redeems a voucher on chain: UpdateChannelState from the party that did
    /// not sign it (normally the payee). Marks it and lower nonces on its lane
    /// as submitted.
    pub fn voucher_submit(&self, channel: &Address, sv: &SignedVoucher) -> Result<Submitted> {
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
            let on_chain_lane = live.lane(sv.lane);
            if let Some(lane) = on_chain_lane
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
            let redeemed = on_chain_lane.map(|l| l.redeemed.clone()).unwrap_or_default();
            require_funds(&(&live.state.to_send - &redeemed + &sv.amount), &live.balance)?;
            let params = UpdateChannelStateParams {
                sv: sv.clone(),
                secret: Vec::new(),
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
