//! The rules a voucher, a channel and a funding request must meet, each
//! written once. The verbs in [`crate::vouchers`], [`crate::funding`] and
//! [`crate::settlement`] apply them in the order Lotus does.

use std::collections::BTreeMap;

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::{LaneState, SignedVoucher};
use paych_chain::Head;
use paych_client::amount::format_fil;
use paych_client::voucher;
use paych_devnet::addr::show;
use paych_devnet::{Context, Error, Result, StateView};

use crate::channel::{Channel, OnChain, Phase};

/// Lotus's lane view: the on-chain lanes overlaid with stored vouchers (a
/// stored voucher wins where its nonce is at least the lane's).
pub fn known_lanes<'a>(
    on_chain: &[(u64, LaneState)],
    stored: impl IntoIterator<Item = &'a SignedVoucher>,
) -> BTreeMap<u64, LaneState> {
    let mut lanes: BTreeMap<u64, LaneState> = on_chain.iter().cloned().collect();
    for v in stored {
        let lane = lanes.entry(v.lane).or_default();
        if v.nonce >= lane.nonce {
            *lane = LaneState {
                redeemed: v.amount.clone(),
                nonce: v.nonce,
            };
        }
    }
    lanes
}

/// What the lanes add up to.
pub fn total_redeemed(lanes: &BTreeMap<u64, LaneState>) -> TokenAmount {
    lanes
        .values()
        .fold(TokenAmount::default(), |acc, l| acc + &l.redeemed)
}

/// What the lanes would add up to with `lane` at `amount`.
pub fn redeemed_with(
    lanes: &BTreeMap<u64, LaneState>,
    lane: u64,
    amount: &TokenAmount,
) -> TokenAmount {
    let current = lanes
        .get(&lane)
        .map(|l| l.redeemed.clone())
        .unwrap_or_default();
    total_redeemed(lanes) - current + amount
}

/// The channel's balance must cover `needed`; the error names the shortfall
/// in attoFIL, as Lotus does.
pub fn require_funds(needed: &TokenAmount, balance: &TokenAmount) -> Result<()> {
    if needed <= balance {
        return Ok(());
    }
    let shortfall = needed - balance;
    Err(Error::insufficient_funds(format!(
        "insufficient funds in channel, shortfall: {} attoFIL ({}): the channel holds {}, vouchers would total {}",
        shortfall.atto(),
        format_fil(&shortfall),
        format_fil(balance),
        format_fil(needed)
    )))
}

/// New vouchers and Settle need a channel nobody has settled yet (on chain,
/// or from here).
pub fn require_not_settling(channel: &Channel) -> Result<&OnChain> {
    let live = channel.live()?;
    let settle_sent = channel.record.as_ref().is_some_and(|r| r.settle_sent);
    if live.state.settling_at != 0 || settle_sent {
        return Err(Error::settling(format!(
            "channel {} is settling (already settling, settling_at {}): no new vouchers, no second settle",
            show(&channel.robust),
            live.state.settling_at
        )));
    }
    Ok(live)
}

/// Vouchers are redeemable until the epoch before `settling_at`: a message
/// executes in the epoch after `head`, and the actor refuses updates from
/// `settling_at` on.
pub fn require_redeemable(channel: &Channel, head: Head) -> Result<&OnChain> {
    let live = channel.live()?;
    if let Phase::Settled { settling_at } = channel.phase(head) {
        return Err(Error::settling(format!(
            "channel {} settled at epoch {settling_at}: vouchers can no longer be submitted (collect instead)",
            show(&channel.robust)
        )));
    }
    Ok(live)
}

/// Collect runs from `settling_at` on (in the epoch after `head`).
pub fn require_collectable(channel: &Channel, head: Head) -> Result<&OnChain> {
    let live = channel.live()?;
    match channel.phase(head) {
        Phase::Settled { .. } => Ok(live),
        Phase::Settling { settling_at } => Err(Error::collect_too_early(format!(
            "collect too early: channel {} can be collected from epoch {settling_at} (head is at epoch {}; \
             run `paych chain advance {}`)",
            show(&channel.robust),
            head.epoch,
            settling_at - 1 - head.epoch
        ))),
        Phase::Open | Phase::Collected { .. } => Err(Error::collect_too_early(format!(
            "cannot collect channel {}: it is not settling (run `paych settle` first)",
            show(&channel.robust)
        ))),
    }
}

/// The voucher must name this channel (by any of its addresses): a voucher
/// cannot be replayed on another channel.
pub fn require_voucher_for(
    tree: &StateView<'_>,
    sv: &SignedVoucher,
    channel: &Channel,
) -> Result<()> {
    let named = tree
        .lookup_id(&sv.channel_addr)
        .context("cannot resolve the voucher's channel")?;
    if named != Some(channel.id) {
        return Err(Error::bad_voucher(format!(
            "voucher is for channel {}, not {}",
            show(&sv.channel_addr),
            show(&channel.robust)
        )));
    }
    Ok(())
}

/// Which party signed a voucher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The usual case: the payer promises, the payee redeems.
    Payer,
    /// A payee-signed voucher, redeemed by the payer (a refund-like update).
    Payee,
}

/// The party whose valid signature the voucher carries; an unsigned voucher
/// or anyone else's signature is refused.
pub fn signer(sv: &SignedVoucher, live: &OnChain) -> Result<Signer> {
    if sv.signature.is_none() {
        return Err(Error::bad_voucher("voucher is not signed"));
    }
    if voucher::is_signed_by(sv, &live.from).unwrap_or(false) {
        return Ok(Signer::Payer);
    }
    if voucher::is_signed_by(sv, &live.to).unwrap_or(false) {
        return Ok(Signer::Payee);
    }
    Err(match recover_signer(sv) {
        Some(signer) => Error::wrong_signer(format!(
            "wrong signer: the voucher is signed by {}, not by the channel's payer {} or payee {}",
            show(&signer),
            show(&live.from),
            show(&live.to)
        )),
        None => Error::wrong_signer(format!(
            "wrong signer: the voucher's signature is neither the channel's payer's ({}) nor its payee's ({})",
            show(&live.from),
            show(&live.to)
        )),
    })
}

/// A voucher the payee accepts is signed by the payer.
pub fn require_payer_signed(sv: &SignedVoucher, live: &OnChain) -> Result<()> {
    match signer(sv, live)? {
        Signer::Payer => Ok(()),
        Signer::Payee => Err(Error::wrong_signer(format!(
            "wrong signer: the voucher is signed by the payee {}, not by the payer {}",
            show(&live.to),
            show(&live.from)
        ))),
    }
}

/// Who signed a voucher, when it can be told from the signature alone
/// (secp256k1 signatures recover their signer).
pub fn recover_signer(sv: &SignedVoucher) -> Option<Address> {
    let sig = sv.signature.as_ref()?;
    if sig.sig_type != fvm_shared::crypto::signature::SignatureType::Secp256k1 {
        return None;
    }
    let bytes = sv.signing_bytes().ok()?;
    paych_client::keys::recover_secp256k1(&sig.bytes, &bytes)
}

/// Decodes Lotus's voucher text; bad text is a `bad_voucher` error.
pub fn decode_voucher(text: &str) -> Result<SignedVoucher> {
    voucher::decode(text).map_err(|e| Error::bad_voucher(format!("bad voucher text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(redeemed: u64, nonce: u64) -> LaneState {
        LaneState {
            redeemed: TokenAmount::from_atto(redeemed),
            nonce,
        }
    }

    fn voucher(lane: u64, nonce: u64, amount: u64) -> SignedVoucher {
        SignedVoucher::new(
            Address::new_id(100),
            lane,
            nonce,
            TokenAmount::from_atto(amount),
        )
    }

    #[test]
    fn stored_vouchers_overlay_on_chain_lanes_by_nonce() {
        let on_chain = [(0, lane(5, 3)), (1, lane(2, 1))];
        let stored = [voucher(0, 2, 4), voucher(0, 4, 9), voucher(2, 1, 1)];
        let lanes = known_lanes(&on_chain, stored.iter());
        assert_eq!(lanes[&0], lane(9, 4), "a higher stored nonce wins");
        assert_eq!(
            lanes[&1],
            lane(2, 1),
            "untouched lanes keep the chain's view"
        );
        assert_eq!(lanes[&2], lane(1, 1), "a lane only known locally appears");
        assert_eq!(total_redeemed(&lanes), TokenAmount::from_atto(12));
    }

    #[test]
    fn an_older_stored_voucher_never_lowers_a_lane() {
        let lanes = known_lanes(&[(0, lane(5, 3))], [voucher(0, 2, 4)].iter());
        assert_eq!(lanes[&0], lane(5, 3));
    }

    #[test]
    fn shortfall_is_reported_in_attofil() {
        let err =
            require_funds(&TokenAmount::from_whole(12), &TokenAmount::from_whole(10)).unwrap_err();
        assert!(
            err.message().starts_with(
                "insufficient funds in channel, shortfall: 2000000000000000000 attoFIL"
            )
        );
        assert_eq!(err.kind(), paych_devnet::ErrorKind::InsufficientFunds);
        assert!(require_funds(&TokenAmount::from_whole(10), &TokenAmount::from_whole(10)).is_ok());
    }

    #[test]
    fn redeemed_with_replaces_the_lane_amount() {
        let lanes = known_lanes(&[(0, lane(5, 3)), (1, lane(2, 1))], []);
        assert_eq!(
            redeemed_with(&lanes, 0, &TokenAmount::from_atto(8)),
            TokenAmount::from_atto(10)
        );
        assert_eq!(
            redeemed_with(&lanes, 7, &TokenAmount::from_atto(1)),
            TokenAmount::from_atto(8)
        );
    }
}
