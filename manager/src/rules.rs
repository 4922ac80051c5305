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
use crate::conditions::Conditions;

/// Lotus's lane view: the on-chain lanes overlaid with stored vouchers (a
/// stored voucher wins where its nonce is at least the lane's). A voucher's
/// merges raise the merged lanes' nonces, as redeeming it would.
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
        for merge in &v.merges {
            if let Some(merged) = lanes.get_mut(&merge.lane) {
                merged.nonce = merged.nonce.max(merge.nonce);
            }
        }
    }
    lanes
}

/// What the channel would owe the payee if the newest known voucher of every
/// lane were redeemed, counted as the actor counts it: `to_send` on chain,
/// plus what each voucher newer than its lane's on-chain nonce adds (its
/// amount less what its lane and the lanes it merges have redeemed on chain).
/// A voucher that another voucher's merge supersedes adds nothing.
pub fn owed<'a>(
    live: &OnChain,
    vouchers: impl IntoIterator<Item = &'a SignedVoucher>,
) -> TokenAmount {
    let chain_lane = |lane: u64| live.lane(lane).cloned().unwrap_or_default();
    let mut newest: BTreeMap<u64, &SignedVoucher> = BTreeMap::new();
    for v in vouchers {
        if live.lane(v.lane).is_some_and(|l| l.nonce >= v.nonce) {
            continue;
        }
        let slot = newest.entry(v.lane).or_insert(v);
        if v.nonce > slot.nonce {
            *slot = v;
        }
    }
    let superseded = |v: &SignedVoucher| {
        newest.values().any(|other| {
            other
                .merges
                .iter()
                .any(|m| m.lane == v.lane && m.nonce >= v.nonce)
        })
    };
    let mut total = live.state.to_send.clone();
    for v in newest.values().filter(|v| !superseded(v)) {
        let consumed = v.merges.iter().fold(chain_lane(v.lane).redeemed, |acc, m| {
            acc + chain_lane(m.lane).redeemed
        });
        total += &v.amount - consumed;
    }
    total
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
    ))
    .with_shortfall(shortfall))
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

/// A voucher's merges, checked off chain as far as they can be: each merged
/// lane must be known (on chain or in the store) and merged up to a nonce
/// above the one known for it.
pub fn require_known_merges(
    lanes: &BTreeMap<u64, LaneState>,
    conditions: &Conditions,
) -> Result<()> {
    for merge in &conditions.merges {
        let Some(known) = lanes.get(&merge.lane) else {
            return Err(Error::invalid(format!(
                "unknown lane {}: no voucher of this channel is known on it, so it cannot be merged",
                merge.lane
            )));
        };
        if merge.nonce <= known.nonce {
            return Err(Error::invalid(format!(
                "merge of lane {} up to nonce {} is stale: the lane is already at nonce {}",
                merge.lane, merge.nonce, known.nonce
            )));
        }
    }
    Ok(())
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
    }

    #[test]
    fn an_older_stored_voucher_never_lowers_a_lane() {
        let lanes = known_lanes(&[(0, lane(5, 3))], [voucher(0, 2, 4)].iter());
        assert_eq!(lanes[&0], lane(5, 3));
    }

    #[test]
    fn a_merge_raises_the_merged_lanes_nonce() {
        let mut merging = voucher(0, 1, 7);
        merging.merges = vec![paych_actor::Merge { lane: 1, nonce: 6 }];
        let lanes = known_lanes(&[(1, lane(2, 1))], [&merging]);
        assert_eq!(lanes[&1], lane(2, 6));
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

    fn live(to_send: u64, lanes: Vec<(u64, LaneState)>) -> OnChain {
        let state =
            paych_actor::State::new(Address::new_id(1), Address::new_id(2), cid::Cid::default());
        OnChain {
            paych: paych_chain::state::PaychState {
                state: paych_actor::State {
                    to_send: TokenAmount::from_atto(to_send),
                    ..state
                },
                balance: TokenAmount::from_atto(1000),
                lanes,
            },
            from_id: 1,
            to_id: 2,
            from: Address::new_id(1),
            to: Address::new_id(2),
        }
    }

    #[test]
    fn owed_counts_each_lanes_newest_voucher_as_the_actor_would() {
        // Lane 0 redeemed 5 and lane 1 redeemed 2 on chain (to_send 7).
        let channel = live(7, vec![(0, lane(5, 3)), (1, lane(2, 1))]);
        let atto = TokenAmount::from_atto;
        assert_eq!(owed(&channel, []), atto(7));
        // A newer lane-0 voucher for 9 adds 4; an older one adds nothing.
        let newer = voucher(0, 4, 9);
        let older = voucher(0, 2, 4);
        assert_eq!(owed(&channel, [&newer, &older]), atto(11));
        // A lane-2 voucher for 10 merging lane 1 adds 10 - 2 = 8.
        let mut merging = voucher(2, 1, 10);
        merging.merges = vec![paych_actor::Merge { lane: 1, nonce: 5 }];
        assert_eq!(owed(&channel, [&merging]), atto(15));
        // A stored lane-1 voucher the merge supersedes adds nothing more.
        let lane1 = voucher(1, 4, 6);
        assert_eq!(owed(&channel, [&merging, &lane1]), atto(15));
        assert_eq!(owed(&channel, [&lane1]), atto(11));
    }
}
