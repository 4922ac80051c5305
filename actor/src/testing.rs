//! State invariants, checked by tests after every step (native only).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use fvm_ipld_blockstore::Blockstore;
use fvm_shared::address::Protocol;
use fvm_shared::econ::TokenAmount;

use crate::State;

/// Returns every invariant the state breaks (empty when it is sound):
/// parties are ID addresses, the balance covers `to_send`, `to_send` is not
/// negative, a settling channel settles no earlier than `min_settle_height`,
/// and the lane AMT loads.
pub fn check_state_invariants<BS: Blockstore>(
    state: &State,
    store: &BS,
    balance: &TokenAmount,
) -> Vec<String> {
    let mut broken = Vec::new();
    if state.from.protocol() != Protocol::ID {
        broken.push(format!("from {} is not an ID address", state.from));
    }
    if state.to.protocol() != Protocol::ID {
        broken.push(format!("to {} is not an ID address", state.to));
    }
    if state.to_send.is_negative() {
        broken.push(format!("to_send {} is negative", state.to_send.atto()));
    }
    if &state.to_send > balance {
        broken.push(format!(
            "balance {} does not cover to_send {}",
            balance.atto(),
            state.to_send.atto()
        ));
    }
    if state.settling_at != 0 && state.settling_at < state.min_settle_height {
        broken.push(format!(
            "settling_at {} is before min_settle_height {}",
            state.settling_at, state.min_settle_height
        ));
    }
    if let Err(e) = state.lanes(store) {
        broken.push(format!("lane states do not load: {e}"));
    }
    broken
}
