//! Payee protection: a payer who settles a channel can collect as soon as the
//! settle delay ends, so the payee must redeem its best vouchers before
//! `settling_at`. The settler ([`PaychManager::protect`]) does that for every
//! inbound channel whose payee key is in this wallet; [`unsubmitted`] is the
//! value still at stake, which `status` shows and `collect` refuses to leave
//! behind.

use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_chain::Head;
use paych_devnet::addr::show;
use paych_devnet::repo::{SettlerAction, VoucherRecord};
use paych_devnet::{ChainNode, Error, Repo, Result};

use crate::PaychManager;
use crate::channel::{OnChain, Phase};
use crate::rules::owed;

/// What the stored vouchers not yet submitted would add to what the channel
/// has redeemed on chain (capped at what the balance can still pay): the
/// payee's value at stake in a settle.
pub fn unsubmitted(live: &OnChain, stored: &[VoucherRecord]) -> TokenAmount {
    let pending = stored.iter().filter(|r| !r.submitted).map(|r| &r.voucher);
    let extra = owed(live, pending) - &live.state.to_send;
    let payable = &live.balance - &live.state.to_send;
    extra.min(payable).max(TokenAmount::default())
}

/// The collect guard's message: the amount, and what to do about it.
pub(crate) fn unsubmitted_error(
    live: &OnChain,
    at_risk: &TokenAmount,
    head: Head,
    channel: &fvm_shared::address::Address,
) -> Error {
    let settling_at = live.state.settling_at;
    let advice = if head.epoch + 1 < settling_at {
        "submit them first (`paych voucher best-spendable` then `paych voucher submit`)"
    } else {
        "they can no longer be redeemed, the channel settled"
    };
    Error::unsubmitted_vouchers(format!(
        "stored vouchers worth {} attoFIL ({}) more than channel {} has redeemed were never submitted; {advice}; pass --force to collect anyway",
        at_risk.atto(),
        paych_client::amount::format_fil(at_risk),
        show(channel),
    ))
}

impl<N: ChainNode> PaychManager<'_, N> {
    /// One pass of the settler at the current head: for every tracked
    /// inbound channel (the payee's key in this wallet, the payer's not) that
    /// is settling (before `settling_at`), redeems the best spendable voucher of each lane whose
    /// amount exceeds what the lane has redeemed on chain. Every attempt,
    /// successful or not, is recorded in the repository and returned.
    pub fn protect(&self) -> Result<Vec<SettlerAction>> {
        let chain = self.chain();
        let (head, channels) = chain.repo().read(|store| {
            let head = chain.head_in(store)?;
            let mut settling = Vec::new();
            for record in store.channels()? {
                // Only inbound channels: the payee's key is here and the
                // payer's is not (with both, nobody is to be guarded against).
                if record.collected_epoch.is_some()
                    || store.key(&record.to)?.is_none()
                    || store.key(&record.from)?.is_some()
                {
                    continue;
                }
                let ch = self.channel(store, head, &record.robust)?;
                if let (Phase::Settling { settling_at }, Some(live)) =
                    (ch.phase(head), &ch.on_chain)
                    && !unsubmitted(live, &store.vouchers(&ch.robust)?).is_zero()
                {
                    settling.push((ch.robust, settling_at, live.clone()));
                }
            }
            Ok((head, settling))
        })?;
        let mut actions = Vec::new();
        for (channel, settling_at, live) in channels {
            let earlier = self.settler_actions(&channel)?;
            let best = self.best_spendable(&channel, &[])?;
            for (voucher, secret) in best.vouchers.iter().zip(&best.secrets) {
                let redeemed = live
                    .lane(voucher.lane)
                    .map(|l| l.redeemed.clone())
                    .unwrap_or_default();
                if voucher.amount <= redeemed {
                    continue;
                }
                let secret = secret.clone().unwrap_or_default();
                let outcome = self.voucher_submit(&channel, voucher, &secret);
                let action = SettlerAction {
                    channel,
                    epoch: head.epoch,
                    settling_at,
                    lane: voucher.lane,
                    nonce: voucher.nonce,
                    amount: voucher.amount.clone(),
                    message: outcome.as_ref().ok().map(|s| s.message.cid),
                    failure: outcome.as_ref().err().map(|e| e.to_string()),
                };
                // A failure that repeats on every head is recorded once.
                let repeated = action.failure.is_some()
                    && earlier
                        .iter()
                        .rev()
                        .find(|a| a.lane == action.lane && a.nonce == action.nonce)
                        .is_some_and(|a| a.failure == action.failure);
                if repeated {
                    continue;
                }
                chain.repo().write(|tx| tx.record_settler_action(&action))?;
                actions.push(action);
            }
        }
        Ok(actions)
    }

    /// What the settler did for `channel`.
    pub fn settler_actions(
        &self,
        channel: &fvm_shared::address::Address,
    ) -> Result<Vec<SettlerAction>> {
        self.chain()
            .repo()
            .read(|store| store.settler_actions(channel))
    }
}

/// The deadline for redeeming vouchers, while a channel is settling.
pub fn deadline(phase: Phase) -> Option<ChainEpoch> {
    match phase {
        Phase::Settling { settling_at } => Some(settling_at),
        _ => None,
    }
}
