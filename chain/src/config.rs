//! The chain's constants and what every message of a chain runs with.

use cid::Cid;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::version::NetworkVersion;

pub use actor_interfaces::EPOCH_DURATION_SECONDS;

/// The network version new chains run (builtin-actors v18's, and the one the
/// gas targets were measured at).
pub const DEFAULT_NETWORK_VERSION: NetworkVersion = NetworkVersion::V27;
/// The network versions a chain may run: those whose FVM price lists and
/// syscalls a v18-era bundle works with.
pub const SUPPORTED_NETWORK_VERSIONS: std::ops::RangeInclusive<u32> = 21..=29;
/// The base fee of every epoch: 100 attoFIL per unit of gas, Filecoin's
/// minimum base fee (and ref-fvm's integration tester's default). The gas
/// premium is always 0: there is no reward actor to receive it.
pub const DEFAULT_BASE_FEE_ATTO: u64 = 100;
/// Filecoin's block gas limit: no message may ask for more.
pub const BLOCK_GAS_LIMIT: u64 = 10_000_000_000;
/// The network name recorded in init's state.
pub const NETWORK_NAME: &str = "paych-devnet";

/// The chain's tip: the last epoch and the state root after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub epoch: ChainEpoch,
    pub state_root: Cid,
}

/// What every message of a chain executes with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    pub network_version: NetworkVersion,
    /// The builtin-actors manifest (also named by the system actor's state).
    pub manifest: Cid,
    /// The fixed base fee, burnt for every unit of gas used.
    pub base_fee: TokenAmount,
    /// UNIX time of epoch 0.
    pub genesis_timestamp: u64,
}

impl ChainConfig {
    /// The default network version and base fee over `manifest`, with epoch 0
    /// at UNIX time 0 (as the standard test-vector runner has it).
    pub fn new(manifest: Cid) -> Self {
        Self {
            network_version: DEFAULT_NETWORK_VERSION,
            manifest,
            base_fee: TokenAmount::from_atto(DEFAULT_BASE_FEE_ATTO),
            genesis_timestamp: 0,
        }
    }

    /// UNIX time of `epoch` (the end of time for epochs whose timestamp
    /// would not fit, as tests of the epoch range's edge reach).
    pub fn timestamp(&self, epoch: ChainEpoch) -> u64 {
        (epoch.max(0) as u64)
            .saturating_mul(EPOCH_DURATION_SECONDS as u64)
            .saturating_add(self.genesis_timestamp)
    }
}
