//! Running messages in an FVM machine.
//!
//! [`Machine`] is a `DefaultMachine` + `DefaultExecutor` over any blockstore,
//! started at an epoch and state root with the chain's configuration: the
//! harness keeps one running and restarts it when time moves;
//! [`execute_next`] runs one message in the epoch after a head over an
//! [`Overlay`] of committed blocks and hands back what it wrote, which is how
//! the devnet applies messages and dry-runs them.
//!
//! Compiled Wasm modules are cached per process (one engine pool per network
//! configuration), so only the first message that invokes an actor pays for
//! compiling it.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use cid::Cid;
use cid::multihash::Multihash;
use fvm::DefaultKernel;
use fvm::call_manager::DefaultCallManager;
use fvm::engine::{EnginePool, MultiEngine};
use fvm::executor::{ApplyKind, ApplyRet, DefaultExecutor, Executor};
use fvm::externs::{Chain, Consensus, Externs, Rand};
use fvm::machine::{DefaultMachine, Machine as FvmMachine, MachineContext, NetworkConfig};
use fvm::state_tree::StateTree;
use fvm::trace::ExecutionEvent;
use fvm_ipld_blockstore::Blockstore;
use fvm_ipld_encoding::DAG_CBOR;
use fvm_shared::IDENTITY_HASH;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::consensus::ConsensusFault;
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use fvm_shared::version::NetworkVersion;

use crate::blocks::{BlockSource, Overlay};
use crate::config::{ChainConfig, Head};
use crate::receipt::Receipt;

/// The stack the FVM needs for deep call chains.
const EXECUTION_STACK: usize = 64 << 20;

type Inner<B> = DefaultMachine<B, ChainExterns>;
type InnerExecutor<B> = DefaultExecutor<DefaultKernel<DefaultCallManager<Inner<B>>>>;
/// The machine's own blockstore: `B` behind a write buffer that flushing
/// empties into `B`.
pub type MachineStore<B> = <Inner<B> as FvmMachine>::Blockstore;

/// What a machine records beyond receipts.
#[derive(Clone, Copy, Debug, Default)]
pub struct MachineOptions {
    /// Record every call, gas charge and IPLD operation of each message in
    /// `ApplyRet::exec_trace`.
    pub tracing: bool,
    /// Actor debug logs and detailed failure backtraces.
    pub actor_debugging: bool,
}

/// An FVM machine at one epoch.
pub struct Machine<B: Blockstore + 'static> {
    executor: InnerExecutor<B>,
    epoch: ChainEpoch,
}

impl<B: Blockstore + 'static> Machine<B> {
    /// Starts a machine at `epoch` over the state `root` in `store`.
    pub fn start(
        config: &ChainConfig,
        store: B,
        epoch: ChainEpoch,
        root: Cid,
        options: MachineOptions,
    ) -> anyhow::Result<Self> {
        let mut network = NetworkConfig::new(config.network_version);
        network.override_actors(config.manifest);
        let mut context = network.for_epoch(epoch, config.timestamp(epoch), root);
        context.set_base_fee(config.base_fee.clone());
        Self::with_context(context, store, options)
    }

    /// Starts a machine as the standard test-vector runner (ref-fvm's
    /// `testing/conformance`) builds one: `NetworkConfig::new(nv)` with the
    /// manifest read from the system actor's state and no actor debugging,
    /// UNIX time `epoch * 30`, the given base fee and circulating supply.
    pub fn start_as_runner(
        store: B,
        network_version: NetworkVersion,
        epoch: ChainEpoch,
        root: Cid,
        base_fee: TokenAmount,
        circ_supply: TokenAmount,
        options: MachineOptions,
    ) -> anyhow::Result<Self> {
        let network = NetworkConfig::new(network_version);
        // The runner computes `epoch * 30` unchecked; a release build (as it
        // runs) wraps at the edge of the epoch range, and so does this.
        let mut context = network.for_epoch(epoch, epoch.wrapping_mul(30) as u64, root);
        context.set_base_fee(base_fee);
        context.set_circulating_supply(circ_supply);
        let options = MachineOptions {
            actor_debugging: false,
            ..options
        };
        Self::with_context(context, store, options)
    }

    fn with_context(
        mut context: MachineContext,
        store: B,
        options: MachineOptions,
    ) -> anyhow::Result<Self> {
        if options.actor_debugging {
            context.network.enable_actor_debugging();
        }
        if options.tracing {
            context.enable_tracing();
        }
        let engine = engine_for(&context.network)?;
        let epoch = context.epoch;
        let machine = Inner::new(&context, store, ChainExterns)?;
        Ok(Self {
            executor: InnerExecutor::new(engine, machine)?,
            epoch,
        })
    }

    pub fn epoch(&self) -> ChainEpoch {
        self.epoch
    }

    /// Applies a message. `inclusion_length` is what inclusion gas is charged
    /// on (see [`crate::SignedMessage::chain_length`]); implicit messages
    /// (dry runs, cron) pay no inclusion gas and need no signature or nonce.
    pub fn apply(
        &mut self,
        message: Message,
        kind: ApplyKind,
        inclusion_length: usize,
    ) -> anyhow::Result<ApplyRet> {
        self.executor
            .execute_message(message, kind, inclusion_length)
    }

    /// The current state tree (with unflushed changes).
    pub fn state_tree(&self) -> &StateTree<MachineStore<B>> {
        self.executor.state_tree()
    }

    /// The blocks the machine reads and writes.
    pub fn store(&self) -> &MachineStore<B> {
        self.executor.blockstore()
    }

    /// Writes the state tree out and returns its root.
    pub fn flush(&mut self) -> anyhow::Result<Cid> {
        self.executor.flush()
    }

    /// Flushes (moving every block the new root needs into the store) and
    /// hands back the store.
    pub fn finish(mut self) -> anyhow::Result<(Cid, B)> {
        let root = self.flush()?;
        let machine = self
            .executor
            .into_machine()
            .context("the machine was poisoned by a failed message")?;
        Ok((root, machine.into_store().into_inner()))
    }
}

/// One engine pool per network configuration, shared by every machine in the
/// process.
fn engine_for(network: &NetworkConfig) -> anyhow::Result<EnginePool> {
    static ENGINES: OnceLock<MultiEngine> = OnceLock::new();
    ENGINES
        .get_or_init(|| MultiEngine::new(1))
        .get(network)
        .context("cannot create the Wasm engine")
}

/// A message executed on top of a head, not yet committed.
pub struct Executed {
    pub epoch: ChainEpoch,
    pub receipt: Receipt,
    pub state_root: Cid,
    /// The new blocks the state root needs.
    pub blocks: Vec<(Cid, Vec<u8>)>,
    /// The execution trace, when the machine was tracing.
    pub trace: Vec<ExecutionEvent>,
}

/// One message of an executed block: its receipt, the state root after it,
/// and its trace (when the machine was tracing).
pub struct Applied {
    pub receipt: Receipt,
    pub state_root: Cid,
    pub trace: Vec<ExecutionEvent>,
}

/// Messages executed together in one epoch, not yet committed.
pub struct ExecutedBlock {
    pub epoch: ChainEpoch,
    /// One per message, in order.
    pub applied: Vec<Applied>,
    /// The state root after the last message (the parent's with none).
    pub state_root: Cid,
    /// The new blocks the state roots need.
    pub blocks: Vec<(Cid, Vec<u8>)>,
}

/// A message to execute, with what its inclusion gas is charged on.
pub struct Included {
    pub message: Message,
    pub kind: ApplyKind,
    pub inclusion_length: usize,
}

/// Executes `messages` in order in the epoch after `parent`, over `blocks`,
/// on a thread with the stack the FVM asks for, flushing the state after
/// each so every message has the root it left. Nothing is written anywhere:
/// the caller commits the returned blocks, or drops them.
pub fn execute_block(
    config: &ChainConfig,
    blocks: Arc<dyn BlockSource>,
    parent: Head,
    messages: Vec<Included>,
    options: MachineOptions,
) -> anyhow::Result<ExecutedBlock> {
    let epoch = parent.epoch + 1;
    let run = move || -> anyhow::Result<ExecutedBlock> {
        let overlay = Arc::new(Overlay::new(blocks));
        let mut machine =
            Machine::start(config, overlay.clone(), epoch, parent.state_root, options)?;
        let mut applied = Vec::with_capacity(messages.len());
        for m in messages {
            let ret = machine.apply(m.message, m.kind, m.inclusion_length)?;
            applied.push(Applied {
                receipt: Receipt::from(&ret),
                state_root: machine.flush()?,
                trace: ret.exec_trace,
            });
        }
        let (state_root, _) = machine.finish()?;
        Ok(ExecutedBlock {
            epoch,
            applied,
            state_root,
            blocks: overlay.take_writes(),
        })
    };
    with_execution_stack(run).context("the FVM failed to execute the messages")
}

/// Executes one message in the epoch after `parent` (a block of one); see
/// [`execute_block`].
pub fn execute_next(
    config: &ChainConfig,
    blocks: Arc<dyn BlockSource>,
    parent: Head,
    message: Message,
    kind: ApplyKind,
    inclusion_length: usize,
    options: MachineOptions,
) -> anyhow::Result<Executed> {
    let block = execute_block(
        config,
        blocks,
        parent,
        vec![Included {
            message,
            kind,
            inclusion_length,
        }],
        options,
    )?;
    let applied = block
        .applied
        .into_iter()
        .next()
        .context("a block of one message applied nothing")?;
    Ok(Executed {
        epoch: block.epoch,
        receipt: applied.receipt,
        state_root: block.state_root,
        blocks: block.blocks,
        trace: applied.trace,
    })
}

/// Runs `f` on a thread with the stack the FVM asks for.
pub fn with_execution_stack<T: Send>(
    f: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("fvm-execute".into())
            .stack_size(EXECUTION_STACK)
            .spawn_scoped(scope, f)
            .context("cannot start the execution thread")?;
        match handle.join() {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "the FVM panicked while executing the message"
            )),
        }
    })
}

/// Deterministic stand-ins for what a node would supply from the chain:
/// randomness derived from the epoch, no consensus faults, tipset CIDs that
/// encode their epoch.
#[derive(Clone, Copy)]
pub struct ChainExterns;

impl Externs for ChainExterns {}

impl Rand for ChainExterns {
    fn get_chain_randomness(&self, round: ChainEpoch) -> anyhow::Result<[u8; 32]> {
        Ok(actor_interfaces::blake2b_256(
            &[&b"paych-devnet/chain/"[..], &round.to_be_bytes()].concat(),
        ))
    }

    fn get_beacon_randomness(&self, round: ChainEpoch) -> anyhow::Result<[u8; 32]> {
        Ok(actor_interfaces::blake2b_256(
            &[&b"paych-devnet/beacon/"[..], &round.to_be_bytes()].concat(),
        ))
    }
}

impl Consensus for ChainExterns {
    fn verify_consensus_fault(
        &self,
        _h1: &[u8],
        _h2: &[u8],
        _extra: &[u8],
    ) -> anyhow::Result<(Option<ConsensusFault>, i64)> {
        Ok((None, 0))
    }
}

impl Chain for ChainExterns {
    fn get_tipset_cid(&self, epoch: ChainEpoch) -> anyhow::Result<Cid> {
        Ok(Cid::new_v1(
            DAG_CBOR,
            Multihash::wrap(IDENTITY_HASH, &epoch.to_be_bytes())?,
        ))
    }
}
