//! The FVM harness: a test machine with the bundle's built-ins, real accounts
//! and verbs that execute real messages.
//!
//! Genesis and execution come from `paych-chain`, the layer the devnet runs
//! on too: the same genesis builder, chain configuration (network version,
//! base fee, block gas limit) and machine, so what passes here passes there.
//! The harness keeps one machine running over an in-memory blockstore;
//! changing the epoch flushes the state and starts a machine at the new epoch
//! over the new root. Compiled Wasm modules are cached per process, so the
//! actors are compiled once per test binary. (It no longer uses
//! `fvm_integration_tests::Tester`: the one genesis builder does everything
//! the tester did for these tests, probes included.)
//!
//! After every message the harness checks the state invariants of every
//! channel it created, and it records each step (label, exit code, return
//! bytes, gas, the decoded channel, a comparable state root) so that two runs
//! can be compared. It also records the messages of each epoch as a
//! [`MessageGroup`] (pre-state root, messages, receipts, post-state root):
//! the makings of a test vector ([`Harness::vector_groups`],
//! [`as_vector_runner`]).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use actor_interfaces::builtin::{BURNT_FUNDS_ACTOR_ID, INIT_ACTOR_ID, SYSTEM_ACTOR_ID};
use actor_interfaces::init::{EXEC_METHOD, ExecParams, ExecReturn};
use anyhow::anyhow;
use cid::Cid;
use cid::multihash::Multihash;
use fvm::executor::{ApplyKind, ApplyRet};
use fvm::machine::REWARD_ACTOR_ID;
use fvm::state_tree::{ActorState, StateTree};
use fvm_ipld_amt::Amt;
use fvm_ipld_blockstore::MemoryBlockstore;
use fvm_ipld_encoding::{CborStore, DAG_CBOR, RawBytes};
use fvm_shared::IDENTITY_HASH;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use fvm_shared::state::StateTreeVersion;
use fvm_shared::{ActorID, METHOD_SEND, MethodNum};
use paych_actor::testing::check_state_invariants;
use paych_actor::{
    ConstructorParams, LANE_STATES_AMT_BITWIDTH, LaneState, Method, SignedVoucher, State,
    UpdateChannelStateParams,
};
use paych_bundle::{BuiltinType, Bundle, Manifest};
use paych_chain::genesis::GenesisBuilder;
use paych_chain::machine::{Machine, MachineOptions, MachineStore};
use paych_chain::message::new_message;
use paych_chain::state::{PaychState, payment_channel};
use paych_chain::vector::{MessageGroup, VectorReceipt};
use paych_chain::{ChainConfig, SignedMessage};
use paych_client::{Key, KeyType, voucher};

/// An actor that can take part in a channel. Accounts have a key and can send
/// messages; probes (test-only user actors) cannot.
#[derive(Clone, Debug)]
pub struct Party {
    pub id: ActorID,
    pub key: Option<Key>,
}

impl Party {
    /// The ID address.
    pub fn address(&self) -> Address {
        Address::new_id(self.id)
    }

    /// The key (f1/f3) address. Panics for a party without a key.
    pub fn key_address(&self) -> Address {
        self.key().address()
    }

    pub fn key(&self) -> &Key {
        self.key
            .as_ref()
            .unwrap_or_else(|| panic!("f0{} has no key", self.id))
    }
}

/// A payment channel created through Init Exec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: ActorID,
    /// The robust f2 address Init assigned; Lotus names channels by it.
    pub robust: Address,
}

impl Channel {
    pub fn address(&self) -> Address {
        Address::new_id(self.id)
    }
}

/// One executed message, as recorded for comparisons and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub epoch: ChainEpoch,
    pub exit_code: ExitCode,
    /// The receipt's return bytes (a failing callee's data passed on, too).
    pub return_data: Vec<u8>,
    pub gas_used: u64,
    /// The channel the message was about after it ran (`None` once deleted).
    pub channel: Option<PaychState>,
    /// The root of the whole state tree after the message, made comparable
    /// across payment channel codes (see [`Harness::comparable_state_root`]).
    pub state_root: Cid,
}

/// Builds the genesis state: accounts and probes, then [`HarnessBuilder::build`].
pub struct HarnessBuilder {
    genesis: GenesisBuilder<MemoryBlockstore>,
    seeds: u32,
    tracing: bool,
    /// Channels installed at genesis.
    channels: Vec<ActorID>,
}

impl HarnessBuilder {
    /// A genesis over `bundle`.
    pub fn new(bundle: Bundle) -> anyhow::Result<Self> {
        Ok(Self {
            genesis: GenesisBuilder::new(&bundle, MemoryBlockstore::default())?,
            seeds: 0,
            tracing: false,
            channels: Vec::new(),
        })
    }

    /// A genesis over the bundle the environment selects: a real
    /// builtin-actors bundle named by `PAYCH_BUILTIN_BUNDLE` with our payment
    /// channel swapped in, or the devnet stand-ins.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::new(bundle_from_env()?)
    }

    fn next_seed(&mut self, kind: &str) -> Vec<u8> {
        self.seeds += 1;
        format!("paych harness {kind} {}", self.seeds).into_bytes()
    }

    fn account(&mut self, kind: KeyType, balance: TokenAmount) -> Party {
        let seed = self.next_seed(kind.name());
        let key = Key::from_seed(kind, &seed);
        let id = self
            .genesis
            .account(&key.address(), balance)
            .expect("failed to create an account");
        Party { id, key: Some(key) }
    }

    /// A secp256k1 account (f1) holding `balance`.
    pub fn secp_account(&mut self, balance: TokenAmount) -> Party {
        self.account(KeyType::Secp256k1, balance)
    }

    /// A BLS account (f3) holding `balance`.
    pub fn bls_account(&mut self, balance: TokenAmount) -> Party {
        self.account(KeyType::Bls, balance)
    }

    /// A key that has no actor on chain yet (a first send creates its account).
    pub fn unused_key(&mut self, kind: KeyType) -> Key {
        let seed = self.next_seed("unused");
        Key::from_seed(kind, &seed)
    }

    /// A probe (test-only user actor, see `test-actors/probe`) holding
    /// `balance`, configured with `config`.
    pub fn probe(&mut self, config: test_probe::Config, balance: TokenAmount) -> Party {
        let seed = self.next_seed("probe");
        let state = test_probe::State {
            config,
            calls: vec![],
        };
        let id = self
            .genesis
            .user_actor(
                paych_bundle::wasm::TEST_PROBE,
                &fvm_ipld_encoding::to_vec(&state).expect("encode probe state"),
                &Address::new_actor(&seed),
                balance,
            )
            .expect("install probe");
        Party { id, key: None }
    }

    /// A probe running the code of the bundle's manifest entry `entry`: the
    /// bundle must carry the probe's Wasm there (see
    /// `paych_bundle::tagged_wasm`), and the probe then acts as an actor of
    /// that entry's type (a multisig, an init, or a type number no built-in
    /// knows).
    pub fn probe_in_slot(
        &mut self,
        entry: &str,
        config: test_probe::Config,
        balance: TokenAmount,
    ) -> Party {
        let code = self.code_of(entry);
        let seed = self.next_seed(entry);
        let state = test_probe::State {
            config,
            calls: vec![],
        };
        let id = self
            .genesis
            .actor(code, &state, &Address::new_actor(&seed), balance)
            .expect("install probe");
        Party { id, key: None }
    }

    /// An actor running the code of manifest entry `entry` with `state`, at
    /// `address` (a delegated address is recorded as the actor's own): what
    /// the chain cannot create by messages alone, an EthAccount say.
    pub fn builtin_actor(
        &mut self,
        entry: &str,
        state: &impl serde::Serialize,
        address: &Address,
        balance: TokenAmount,
    ) -> ActorID {
        let code = self.code_of(entry);
        self.genesis
            .actor(code, state, address, balance)
            .expect("install actor")
    }

    /// A payment channel installed at genesis with `state` as its state
    /// (anything serializable: a test can give it a state the actor would
    /// never write). Not tracked: the harness does not decode its state.
    pub fn channel_with_state(
        &mut self,
        state: &impl serde::Serialize,
        balance: TokenAmount,
    ) -> Channel {
        let seed = self.next_seed("channel");
        let robust = Address::new_actor(&seed);
        let id = self.builtin_actor(BuiltinType::PaymentChannel.name(), state, &robust, balance);
        Channel { id, robust }
    }

    /// A payment channel from `from` to `to` installed at genesis, as its
    /// constructor would have left it (no lanes, not settling); tracked like
    /// the channels created through init. For tests whose init is not the
    /// real one.
    pub fn channel(&mut self, from: &Party, to: &Party, balance: TokenAmount) -> Channel {
        let lanes = self.empty_lanes();
        let state = State::new(from.address(), to.address(), lanes);
        let channel = self.channel_with_state(&state, balance);
        self.channels.push(channel.id);
        channel
    }

    /// The root of an empty lane AMT (bit width 3), in the genesis store.
    pub fn empty_lanes(&self) -> Cid {
        Amt::<LaneState, _>::new_with_bit_width(
            self.genesis.tree().store(),
            LANE_STATES_AMT_BITWIDTH,
        )
        .flush()
        .expect("empty lane AMT")
    }

    /// The code CID of manifest entry `entry`.
    pub fn code_of(&self, entry: &str) -> Cid {
        self.genesis
            .manifest()
            .entries
            .iter()
            .find(|(name, _)| name == entry)
            .map(|(_, code)| *code)
            .unwrap_or_else(|| panic!("the bundle has no {entry} entry"))
    }

    /// Records an execution trace (every gas charge, call and IPLD operation)
    /// in each message's `ApplyRet::exec_trace`.
    pub fn with_tracing(mut self) -> Self {
        self.tracing = true;
        self
    }

    /// Finishes genesis and starts the machine at epoch 0.
    pub fn build(self) -> anyhow::Result<Harness> {
        let manifest = self.genesis.manifest().clone();
        let paych_code = manifest
            .code(BuiltinType::PaymentChannel)
            .ok_or_else(|| anyhow!("the bundle has no payment channel"))?;
        let genesis = self.genesis.finish()?;
        let config = ChainConfig::new(genesis.manifest);
        let options = MachineOptions {
            tracing: self.tracing,
            // Debugging changes gas (it is consensus-critical), so machines
            // recording test vectors run without it, as the runner's do.
            actor_debugging: !VECTOR_RUNNER.with(Cell::get),
        };
        let machine = Machine::start(&config, genesis.store, 0, genesis.state_root, options)?;
        Ok(Harness {
            start_root: genesis.state_root,
            groups: Vec::new(),
            open_group: None,
            config,
            options,
            manifest,
            paych_code,
            machine: Some(machine),
            channels: self.channels,
            gas_paid: BTreeMap::new(),
            steps: Vec::new(),
            lenient: Cell::new(false),
            mismatches: RefCell::new(Vec::new()),
        })
    }
}

thread_local! {
    static VECTOR_RUNNER: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every harness it builds on this thread configured as the
/// standard test-vector runner's machine (no actor debugging), so that the
/// groups it records replay with the same gas.
pub fn as_vector_runner<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            VECTOR_RUNNER.with(|r| r.set(self.0));
        }
    }
    let _reset = Reset(VECTOR_RUNNER.with(|r| r.replace(true)));
    f()
}

/// The bundle selected by the environment (see [`HarnessBuilder::from_env`]).
pub fn bundle_from_env() -> anyhow::Result<Bundle> {
    match Bundle::from_env()? {
        Some(real) => real.with_our_payment_channel(),
        None => Ok(Bundle::devnet()),
    }
}

/// A running test machine.
pub struct Harness {
    config: ChainConfig,
    options: MachineOptions,
    manifest: Manifest,
    paych_code: Cid,
    machine: Option<Machine<MemoryBlockstore>>,
    /// The state root the running machine started from.
    start_root: Cid,
    /// Closed groups of messages, one per stretch of an epoch.
    groups: Vec<MessageGroup>,
    /// The group of the running machine, if it applied any message.
    open_group: Option<MessageGroup>,
    channels: Vec<ActorID>,
    /// Gas paid so far, by the actor it went to (burnt funds, reward: a
    /// negative amount) or came from (a sender: positive).
    gas_paid: BTreeMap<ActorID, TokenAmount>,
    steps: Vec<Step>,
    /// In lenient mode failed expectations are recorded instead of panicking
    /// (differential runs must go on to compare every step).
    lenient: Cell<bool>,
    mismatches: RefCell<Vec<String>>,
}

impl Harness {
    fn machine(&self) -> &Machine<MemoryBlockstore> {
        self.machine.as_ref().expect("machine running")
    }

    fn machine_mut(&mut self) -> &mut Machine<MemoryBlockstore> {
        self.machine.as_mut().expect("machine running")
    }

    pub fn epoch(&self) -> ChainEpoch {
        self.machine().epoch()
    }

    /// Moves the chain to `epoch`: later messages execute at that epoch.
    pub fn set_epoch(&mut self, epoch: ChainEpoch) {
        if epoch == self.epoch() {
            return;
        }
        let machine = self.machine.take().expect("machine running");
        let (root, store) = machine.finish().expect("flush state");
        self.close_group(root);
        self.start_root = root;
        self.machine = Some(
            Machine::start(&self.config, store, epoch, root, self.options)
                .expect("restart machine"),
        );
    }

    pub fn advance(&mut self, epochs: ChainEpoch) {
        self.set_epoch(self.epoch() + epochs);
    }

    /// The chain configuration messages run with.
    pub fn chain_config(&self) -> &ChainConfig {
        &self.config
    }

    /// Every group of messages applied so far, each with its post-state root
    /// (the running machine's state is flushed for the last one). Their
    /// pre-states' blocks are all in [`Harness::store`].
    pub fn vector_groups(&mut self) -> anyhow::Result<Vec<MessageGroup>> {
        if self.open_group.is_some() {
            let root = self.machine_mut().flush()?;
            self.close_group(root);
            self.start_root = root;
        }
        Ok(self.groups.clone())
    }

    fn close_group(&mut self, post_root: Cid) {
        if let Some(mut group) = self.open_group.take() {
            group.post_root = post_root;
            self.groups.push(group);
        }
    }

    fn record_in_group(&mut self, label: &str, message: Message, ret: &ApplyRet) {
        let (epoch, pre_root) = (self.epoch(), self.start_root);
        let group = self.open_group.get_or_insert_with(|| MessageGroup {
            epoch,
            pre_root,
            messages: Vec::new(),
            receipts: Vec::new(),
            post_root: pre_root,
            labels: Vec::new(),
        });
        group.messages.push(message);
        group.receipts.push(VectorReceipt {
            exit_code: ret.msg_receipt.exit_code,
            return_data: ret.msg_receipt.return_data.to_vec(),
            gas_used: ret.msg_receipt.gas_used,
        });
        group.labels.push(label.to_string());
    }

    /// The payment channel code this harness runs.
    pub fn paych_code(&self) -> Cid {
        self.paych_code
    }

    /// Every step executed so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Records failed expectations instead of panicking.
    pub fn set_lenient(&self, lenient: bool) {
        self.lenient.set(lenient);
    }

    /// Failed expectations recorded in lenient mode.
    pub fn mismatches(&self) -> Vec<String> {
        self.mismatches.borrow().clone()
    }

    // ----- reading state -------------------------------------------------

    pub fn actor(&self, id: ActorID) -> Option<ActorState> {
        self.machine()
            .state_tree()
            .get_actor(id)
            .expect("state tree read")
    }

    pub fn balance(&self, id: ActorID) -> TokenAmount {
        self.actor(id).map(|a| a.balance).unwrap_or_default()
    }

    pub fn resolve(&self, addr: &Address) -> Option<ActorID> {
        self.machine()
            .state_tree()
            .lookup_id(addr)
            .expect("state tree read")
    }

    pub fn store(&self) -> &MachineStore<MemoryBlockstore> {
        self.machine().store()
    }

    /// The channel's state, or `None` once it is deleted.
    pub fn channel_state(&self, channel: &Channel) -> Option<State> {
        let actor = self.actor(channel.id)?;
        Some(
            self.store()
                .get_cbor(&actor.state)
                .expect("read")
                .expect("channel state block"),
        )
    }

    /// The channel's decoded state, lanes and balance (`None` when no
    /// payment channel is there).
    pub fn view(&self, id: ActorID) -> Option<PaychState> {
        payment_channel(self.machine().state_tree(), &self.manifest, id)
            .expect("channel state decodes")
    }

    /// The lanes of a live channel.
    pub fn lanes(&self, channel: &Channel) -> BTreeMap<u64, LaneState> {
        self.view(channel.id)
            .expect("channel exists")
            .lanes
            .into_iter()
            .collect()
    }

    /// The probe's recorded calls.
    pub fn probe_state(&self, probe: &Party) -> test_probe::State {
        let actor = self.actor(probe.id).expect("probe exists");
        self.store()
            .get_cbor(&actor.state)
            .expect("read")
            .expect("probe state")
    }

    // ----- executing messages ---------------------------------------------

    /// Sends a message from an account at the current epoch, records it and
    /// checks every channel's invariants.
    pub fn apply(
        &mut self,
        label: &str,
        from: &Party,
        to: Address,
        method: MethodNum,
        params: RawBytes,
        value: TokenAmount,
    ) -> ApplyRet {
        let sender = self
            .actor(from.id)
            .unwrap_or_else(|| panic!("{label}: no sender f0{}", from.id));
        // From the key address, as a wallet sends: inclusion gas is charged
        // on the message's length, which the sender's address is part of.
        let mut message = new_message(
            from.key_address(),
            to,
            sender.sequence,
            method,
            params,
            value,
        );
        message.gas_fee_cap = self.config.base_fee.clone();
        // Signed as a wallet signs it, so inclusion gas is charged on the
        // length a block really carries.
        let signed = SignedMessage::sign(message, from.key());
        let ret = self
            .machine_mut()
            .apply(
                signed.message.clone(),
                ApplyKind::Explicit,
                signed.chain_length(),
            )
            .unwrap_or_else(|e| panic!("{label}: the FVM failed to apply the message: {e:#}"));
        self.record_in_group(label, signed.message, &ret);

        self.check_invariants(label);
        self.record_gas(from.id, &ret);
        let subject = self.resolve(&to).filter(|id| self.channels.contains(id));
        let step = Step {
            label: label.to_string(),
            epoch: self.epoch(),
            exit_code: ret.msg_receipt.exit_code,
            return_data: ret.msg_receipt.return_data.to_vec(),
            gas_used: ret.msg_receipt.gas_used,
            channel: subject.and_then(|id| self.view(id)),
            state_root: self.comparable_state_root(),
        };
        self.steps.push(step);
        ret
    }

    fn record_gas(&mut self, sender: ActorID, ret: &ApplyRet) {
        let burnt = &ret.base_fee_burn + &ret.over_estimation_burn;
        for (id, amount) in [
            (sender, Self::gas_cost(ret)),
            (BURNT_FUNDS_ACTOR_ID, -burnt),
            (REWARD_ACTOR_ID, -ret.miner_tip.clone()),
        ] {
            *self.gas_paid.entry(id).or_default() += amount;
        }
    }

    /// The root of the state tree as it would be if gas were free and every
    /// payment channel ran the same code: what two runs of a scenario on
    /// different payment channel codes can agree on byte for byte. Three
    /// things in the real root depend on the code and nothing else, so they
    /// are normalised out: (1) the channels' code CID, which is the code's
    /// hash (replaced by one marker CID); (2) the system actor's state, which
    /// names the bundle's manifest, which lists that code CID (replaced by
    /// another marker); and (3) the gas each message paid, which moves funds
    /// from its sender to the burnt-funds (and reward) actor (each balance is
    /// given back what gas took or brought). Everything else, every other
    /// actor's state root, nonce, delegated address and remaining balance, is
    /// compared as the chain holds it.
    pub fn comparable_state_root(&self) -> Cid {
        let marker = |what: &[u8]| {
            Cid::new_v1(
                DAG_CBOR,
                Multihash::wrap(IDENTITY_HASH, what).expect("short identity hash"),
            )
        };
        let (paych_code, manifest) = (marker(b"payment channel code"), marker(b"manifest"));
        let mut comparable = StateTree::new(MemoryBlockstore::default(), StateTreeVersion::V5)
            .expect("empty state tree");
        self.machine()
            .state_tree()
            .for_each(|address, actor| {
                let id = address.id()?;
                let mut actor = actor.clone();
                if actor.code == self.paych_code {
                    actor.code = paych_code;
                }
                if id == SYSTEM_ACTOR_ID {
                    actor.state = manifest;
                }
                if let Some(paid) = self.gas_paid.get(&id) {
                    actor.balance += paid;
                }
                comparable.set_actor(id, actor);
                Ok(())
            })
            .expect("walk the state tree");
        comparable.flush().expect("flush the comparable state tree")
    }

    /// Panics (or records, when lenient) unless every tracked channel keeps
    /// its invariants: ID parties, balance >= to_send, settling_at >=
    /// min_settle_height while settling.
    fn check_invariants(&self, label: &str) {
        for &id in &self.channels {
            let Some(actor) = self.actor(id) else {
                continue;
            };
            let st: State = self
                .store()
                .get_cbor(&actor.state)
                .expect("read")
                .expect("state");
            let broken = check_state_invariants(&st, self.store(), &actor.balance);
            if !broken.is_empty() {
                self.fail(format!(
                    "{label}: channel f0{id} breaks invariants: {broken:?}"
                ));
            }
        }
    }

    fn fail(&self, message: String) {
        if self.lenient.get() {
            self.mismatches.borrow_mut().push(message);
        } else {
            panic!("{message}");
        }
    }

    /// Asserts the message exited with `expected`; on a mismatch the panic
    /// shows the receipt's failure info (backtrace of actor errors).
    pub fn expect_code(&self, label: &str, ret: &ApplyRet, expected: ExitCode) {
        let got = ret.msg_receipt.exit_code;
        if got != expected {
            let info = ret
                .failure_info
                .as_ref()
                .map(|f| f.to_string())
                .unwrap_or_default();
            self.fail(format!(
                "{label}: expected exit code {}, got {}\n{info}",
                expected.value(),
                got.value()
            ));
        }
    }

    pub fn expect_ok(&self, label: &str, ret: &ApplyRet) {
        self.expect_code(label, ret, ExitCode::OK);
    }

    /// Asserts two values are equal (or records the difference when lenient).
    pub fn expect_eq<T: PartialEq + std::fmt::Debug>(&self, label: &str, got: T, expected: T) {
        if got != expected {
            self.fail(format!("{label}: expected {expected:?}, got {got:?}"));
        }
    }

    /// What the sender paid in gas for this message (premium is 0).
    pub fn gas_cost(ret: &ApplyRet) -> TokenAmount {
        &ret.base_fee_burn + &ret.over_estimation_burn + &ret.miner_tip
    }

    // ----- payment channel verbs --------------------------------------------

    /// Creates a channel the real way: `from` sends Init Exec with the
    /// channel's code and `amount` as value. Returns the receipt and, on
    /// success, the channel.
    pub fn try_create_channel(
        &mut self,
        label: &str,
        from: &Party,
        payer: Address,
        payee: Address,
        amount: TokenAmount,
    ) -> (ApplyRet, Option<Channel>) {
        let params = ExecParams {
            code_cid: self.paych_code,
            constructor_params: RawBytes::serialize(ConstructorParams {
                from: payer,
                to: payee,
            })
            .expect("encode constructor params"),
        };
        let ret = self.apply(
            label,
            from,
            Address::new_id(INIT_ACTOR_ID),
            EXEC_METHOD,
            RawBytes::serialize(params).expect("encode exec params"),
            amount,
        );
        if !ret.msg_receipt.exit_code.is_success() {
            return (ret, None);
        }
        let exec: ExecReturn = ret
            .msg_receipt
            .return_data
            .deserialize()
            .expect("ExecReturn");
        let channel = Channel {
            id: exec.id_address.id().expect("ID address"),
            robust: exec.robust_address,
        };
        self.channels.push(channel.id);
        // Record the new channel as the step's subject.
        let view = self.view(channel.id);
        if let Some(step) = self.steps.last_mut() {
            step.channel = view;
        }
        self.check_invariants(label);
        (ret, Some(channel))
    }

    /// Creates a channel from `from` to `to` holding `amount`; panics on failure.
    pub fn create_channel(&mut self, from: &Party, to: &Party, amount: TokenAmount) -> Channel {
        let (ret, channel) =
            self.try_create_channel("create channel", from, from.address(), to.address(), amount);
        self.expect_ok("create channel", &ret);
        channel.expect("channel created")
    }

    /// A voucher for `channel` (addressed by its robust address, as Lotus
    /// does), unsigned.
    pub fn voucher(
        &self,
        channel: &Channel,
        lane: u64,
        nonce: u64,
        amount: TokenAmount,
    ) -> SignedVoucher {
        SignedVoucher::new(channel.robust, lane, nonce, amount)
    }

    /// Signs `sv` with `signer`'s key.
    pub fn sign(sv: &mut SignedVoucher, signer: &Party) {
        voucher::sign(sv, signer.key());
    }

    /// Submits UpdateChannelState from `caller`.
    pub fn update(
        &mut self,
        label: &str,
        caller: &Party,
        channel: &Channel,
        sv: &SignedVoucher,
        secret: &[u8],
    ) -> ApplyRet {
        let params = UpdateChannelStateParams {
            sv: sv.clone(),
            secret: secret.to_vec(),
        };
        self.apply(
            label,
            caller,
            channel.robust,
            Method::UpdateChannelState as MethodNum,
            RawBytes::serialize(params).expect("encode params"),
            TokenAmount::default(),
        )
    }

    pub fn settle(&mut self, label: &str, caller: &Party, channel: &Channel) -> ApplyRet {
        self.call_raw(label, caller, channel, Method::Settle as MethodNum, vec![])
    }

    pub fn collect(&mut self, label: &str, caller: &Party, channel: &Channel) -> ApplyRet {
        self.call_raw(label, caller, channel, Method::Collect as MethodNum, vec![])
    }

    /// Adds funds: a plain value send (method 0).
    pub fn add_funds(
        &mut self,
        label: &str,
        from: &Party,
        channel: &Channel,
        amount: TokenAmount,
    ) -> ApplyRet {
        self.apply(
            label,
            from,
            channel.robust,
            METHOD_SEND,
            RawBytes::default(),
            amount,
        )
    }

    /// Sends raw parameter bytes (possibly malformed) to a channel method.
    pub fn call_raw(
        &mut self,
        label: &str,
        caller: &Party,
        channel: &Channel,
        method: MethodNum,
        params: Vec<u8>,
    ) -> ApplyRet {
        self.apply(
            label,
            caller,
            channel.robust,
            method,
            RawBytes::new(params),
            TokenAmount::default(),
        )
    }
}
