//! Devnet stand-in for every built-in actor that a payment channel never invokes
//! (system, cron, power, miner, market, multisig, reward, verifreg, datacap,
//! evm, eam). Placeholder and EthAccount, which can be channel parties, have
//! stand-ins of their own.
//!
//! The FVM needs a code CID for each of them in the manifest, and the type
//! numbers of the built-ins come from their position in the manifest, so the
//! slots must exist. The bundle gives each slot its own CID by appending a Wasm
//! custom section that names the slot to this one module (see `paych-bundle`).
//! Value transfers (method 0) never run actor code, so the system actor can
//! still receive funds; every real invocation is refused (22), where the real
//! actors answer in their own ways (only system at f00 and the EAM at f010
//! exist on the devnet, reachable by a voucher's `extra` call).
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn invoke(_params: u32) -> u32 {
    fvm_sdk::vm::abort(
        fvm_shared::error::ExitCode::USR_UNHANDLED_MESSAGE.value(),
        Some("devnet stand-in: this built-in actor is not implemented"),
    )
}
