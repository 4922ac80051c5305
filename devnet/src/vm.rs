//! Executing messages with the FVM: one `DefaultMachine` + `DefaultExecutor`
//! per message, over an [`Overlay`] of the committed blocks, on a thread with
//! the 64 MiB stack the FVM asks for. Nothing here writes to the repository:
//! the caller commits the returned blocks, or drops them.
//!
//! Compiled Wasm modules are cached per process (one engine pool per network
//! configuration), so only the first message that invokes an actor pays for
//! compiling it.

use std::sync::{Arc, OnceLock};

use cid::Cid;
use cid::multihash::Multihash;
use fvm::DefaultKernel;
use fvm::call_manager::DefaultCallManager;
use fvm::engine::{EnginePool, MultiEngine};
use fvm::executor::{ApplyFailure, ApplyKind, DefaultExecutor, Executor};
use fvm::externs::{Chain, Consensus, Externs, Rand};
use fvm::machine::{DefaultMachine, NetworkConfig};
use fvm_ipld_encoding::DAG_CBOR;
use fvm_shared::IDENTITY_HASH;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::consensus::ConsensusFault;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use fvm_shared::version::NetworkVersion;

use crate::blocks::{BlockSource, Overlay};
use crate::error::{Context, Error, Result};
use crate::store::Head;

/// Epochs are 30 seconds, as on Filecoin.
pub const EPOCH_SECONDS: u64 = 30;
/// The stack the FVM needs for deep call chains.
const EXECUTION_STACK: usize = 64 << 20;

/// What every message of a chain executes with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    pub network_version: NetworkVersion,
    /// The builtin-actors manifest (also in the system actor's state).
    pub manifest: Cid,
    /// The fixed base fee, burnt for every unit of gas used.
    pub base_fee: TokenAmount,
    /// UNIX time of epoch 0.
    pub genesis_timestamp: u64,
}

impl ChainConfig {
    pub fn timestamp(&self, epoch: ChainEpoch) -> u64 {
        self.genesis_timestamp + epoch.max(0) as u64 * EPOCH_SECONDS
    }
}

/// A message's result as the chain records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub exit_code: ExitCode,
    pub return_data: Vec<u8>,
    pub gas_used: u64,
    pub base_fee_burn: TokenAmount,
    pub over_estimation_burn: TokenAmount,
    pub miner_tip: TokenAmount,
    pub refund: TokenAmount,
    /// Why it failed, in one line (the actors' abort messages).
    pub failure: Option<String>,
}

/// A message executed on top of a head, not yet committed.
pub struct Executed {
    pub epoch: ChainEpoch,
    pub outcome: Outcome,
    pub state_root: Cid,
    /// The new blocks the state root needs.
    pub blocks: Vec<(Cid, Vec<u8>)>,
}

type DevnetMachine = DefaultMachine<Arc<Overlay>, DevnetExterns>;
type DevnetExecutor = DefaultExecutor<DefaultKernel<DefaultCallManager<DevnetMachine>>>;

fn engines() -> &'static MultiEngine {
    static ENGINES: OnceLock<MultiEngine> = OnceLock::new();
    ENGINES.get_or_init(|| MultiEngine::new(1))
}

/// Runs messages for one chain configuration.
#[derive(Clone)]
pub struct Vm {
    config: ChainConfig,
    network: NetworkConfig,
    engine: EnginePool,
}

impl Vm {
    pub fn new(config: ChainConfig) -> Result<Self> {
        let mut network = NetworkConfig::new(config.network_version);
        network.override_actors(config.manifest);
        let engine = engines()
            .get(&network)
            .context("cannot create the Wasm engine")?;
        Ok(Self {
            config,
            network,
            engine,
        })
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Executes `message` in the epoch after `parent`, over `blocks`.
    pub fn execute(
        &self,
        blocks: Arc<dyn BlockSource>,
        parent: Head,
        message: Message,
        kind: ApplyKind,
        raw_length: usize,
    ) -> Result<Executed> {
        let epoch = parent.epoch + 1;
        let mut context =
            self.network
                .for_epoch(epoch, self.config.timestamp(epoch), parent.state_root);
        context.set_base_fee(self.config.base_fee.clone());
        let engine = self.engine.clone();
        let run = move || -> anyhow::Result<Executed> {
            let overlay = Arc::new(Overlay::new(blocks));
            let machine = DevnetMachine::new(&context, overlay.clone(), DevnetExterns)?;
            let mut executor = DevnetExecutor::new(engine, machine)?;
            let ret = executor.execute_message(message, kind, raw_length)?;
            let state_root = executor.flush()?;
            drop(executor);
            let outcome = Outcome {
                exit_code: ret.msg_receipt.exit_code,
                return_data: ret.msg_receipt.return_data.to_vec(),
                gas_used: ret.msg_receipt.gas_used,
                base_fee_burn: ret.base_fee_burn,
                over_estimation_burn: ret.over_estimation_burn,
                miner_tip: ret.miner_tip,
                refund: ret.refund,
                failure: ret.failure_info.as_ref().map(summarize),
            };
            Ok(Executed {
                epoch,
                outcome,
                state_root,
                blocks: overlay.take_writes(),
            })
        };
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("fvm-execute".into())
                .stack_size(EXECUTION_STACK)
                .spawn_scoped(scope, run)
                .map_err(|e| Error::internal(format!("cannot start the execution thread: {e}")))?;
            match handle.join() {
                Ok(result) => result.context("the FVM failed to execute the message"),
                Err(_) => Err(Error::internal(
                    "the FVM panicked while executing the message",
                )),
            }
        })
    }
}

/// One line from the FVM's failure report: the top actor's abort message and,
/// when the failure started deeper, the source's.
fn summarize(failure: &ApplyFailure) -> String {
    match failure {
        ApplyFailure::PreValidation(msg) => msg.trim().to_string(),
        ApplyFailure::MessageBacktrace(bt) => {
            let top = bt.frames.last().map(|f| f.message.trim().to_string());
            let source = bt.frames.first().map(|f| f.message.trim().to_string());
            let cause = bt.cause.as_ref().map(|c| c.to_string());
            match (top, source, cause) {
                (Some(top), Some(source), _) if top != source => {
                    format!("{top} (caused by: {source})")
                }
                (Some(top), _, _) => top,
                (None, _, Some(cause)) => cause,
                (None, _, None) => String::new(),
            }
        }
    }
}

/// The name of an exit code, as the FVM and Lotus print them.
pub fn exit_code_name(code: ExitCode) -> String {
    let name = match code.value() {
        0 => "Ok",
        1 => "SysErrSenderInvalid",
        2 => "SysErrSenderStateInvalid",
        4 => "SysErrIllegalInstruction",
        5 => "SysErrInvalidReceiver",
        6 => "SysErrInsufficientFunds",
        7 => "SysErrOutOfGas",
        8 => "SysErrIllegalExitCode",
        10 => "SysErrFatal",
        11 => "SysErrMissingReturn",
        16 => "ErrIllegalArgument",
        17 => "ErrNotFound",
        18 => "ErrForbidden",
        19 => "ErrInsufficientFunds",
        20 => "ErrIllegalState",
        21 => "ErrSerialization",
        22 => "ErrUnhandledMessage",
        23 => "ErrUnspecified",
        24 => "ErrAssertionFailed",
        25 => "ErrReadOnly",
        26 => "ErrNotPayable",
        32 => "ErrChannelStateUpdateAfterSettled",
        _ => return format!("exit code {}", code.value()),
    };
    format!("{}({})", name, code.value())
}

/// Deterministic stand-ins for what a node would supply from the chain.
#[derive(Clone, Copy)]
pub struct DevnetExterns;

impl Externs for DevnetExterns {}

impl Rand for DevnetExterns {
    fn get_chain_randomness(&self, round: ChainEpoch) -> anyhow::Result<[u8; 32]> {
        Ok(paych_client::keys::blake2b_256(
            &[&b"paych-devnet/chain/"[..], &round.to_be_bytes()].concat(),
        ))
    }

    fn get_beacon_randomness(&self, round: ChainEpoch) -> anyhow::Result<[u8; 32]> {
        Ok(paych_client::keys::blake2b_256(
            &[&b"paych-devnet/beacon/"[..], &round.to_be_bytes()].concat(),
        ))
    }
}

impl Consensus for DevnetExterns {
    fn verify_consensus_fault(
        &self,
        _h1: &[u8],
        _h2: &[u8],
        _extra: &[u8],
    ) -> anyhow::Result<(Option<ConsensusFault>, i64)> {
        Ok((None, 0))
    }
}

impl Chain for DevnetExterns {
    fn get_tipset_cid(&self, epoch: ChainEpoch) -> anyhow::Result<Cid> {
        Ok(Cid::new_v1(
            DAG_CBOR,
            Multihash::wrap(IDENTITY_HASH, &epoch.to_be_bytes())?,
        ))
    }
}
