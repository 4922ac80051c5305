//! The persisted state of a channel: a 6-tuple whose last field is the root of
//! an AMT (bit width 3) of lane states indexed by lane.

use cid::Cid;
use fvm_ipld_encoding::tuple::*;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;

#[derive(Clone, Debug, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct State {
    /// The payer, as an ID address.
    pub from: Address,
    /// The payee, as an ID address.
    pub to: Address,
    /// Total redeemed by vouchers so far; paid to `to` on Collect.
    pub to_send: TokenAmount,
    /// Epoch from which Collect is allowed and updates refused; 0 while the
    /// channel is not settling.
    pub settling_at: ChainEpoch,
    /// Lower bound for `settling_at`, raised by vouchers.
    pub min_settle_height: ChainEpoch,
    /// Root of the AMT of `LaneState`s.
    pub lane_states: Cid,
}

impl State {
    pub fn new(from: Address, to: Address, empty_lanes: Cid) -> Self {
        Self {
            from,
            to,
            to_send: TokenAmount::default(),
            settling_at: 0,
            min_settle_height: 0,
            lane_states: empty_lanes,
        }
    }
}

/// What has been redeemed on one lane, and the nonce of the voucher that did it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct LaneState {
    pub redeemed: TokenAmount,
    pub nonce: u64,
}

impl State {
    /// Every lane with its state, in lane order.
    pub fn lanes<BS: fvm_ipld_blockstore::Blockstore>(
        &self,
        store: &BS,
    ) -> Result<alloc::vec::Vec<(u64, LaneState)>, fvm_ipld_amt::Error> {
        let amt = fvm_ipld_amt::Amt::<LaneState, _>::load(&self.lane_states, store)?;
        let mut lanes = alloc::vec::Vec::new();
        amt.for_each(|lane, state| {
            lanes.push((lane, state.clone()));
            Ok(())
        })?;
        Ok(lanes)
    }
}
