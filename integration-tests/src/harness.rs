//! The FVM harness: a test machine with the bundle's built-ins, real accounts
//! and verbs that execute real messages.
//!
//! Genesis is built with `fvm_integration_tests::Tester` (system, init, burnt
//! funds and EAM actors, accounts). Messages then run through a
//! `DefaultExecutor` over the same blockstore; changing the epoch flushes the
//! state and starts a machine at the new epoch over the new root. The compiled
//! Wasm modules live in one engine shared by every harness in the process, so
//! the actors are compiled once per test binary.
//!
//! After every message the harness checks the state invariants of every
//! channel it created, and it records each step (label, exit code, gas, the
//! decoded channel) so that two runs can be compared.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use cid::Cid;
use fvm::engine::EnginePool;
use fvm::executor::{ApplyKind, ApplyRet, Executor};
use fvm::machine::{DefaultMachine, Machine, NetworkConfig};
use fvm::state_tree::{ActorState, StateTree};
use fvm_integration_tests::dummy::DummyExterns;
use fvm_integration_tests::tester::{IntegrationExecutor, Tester};
use fvm_ipld_blockstore::{Blockstore, MemoryBlockstore};
use fvm_ipld_encoding::{CborStore, RawBytes};
use fvm_shared::address::{Address, Protocol};
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::message::Message;
use fvm_shared::state::StateTreeVersion;
use fvm_shared::version::NetworkVersion;
use fvm_shared::{ActorID, METHOD_SEND, MethodNum};
use multihash_codetable::Code;
use paych_actor::ext::init::{EXEC_METHOD, ExecParams, ExecReturn, INIT_ACTOR_ID};
use paych_actor::testing::check_state_invariants;
use paych_actor::{
    ConstructorParams, LaneState, Method, SignedVoucher, State, UpdateChannelStateParams,
};
use paych_bundle::{Bundle, PAYMENT_CHANNEL};
use paych_client::{Key, KeyType, voucher};

/// The network version the machine runs (the targets were measured at 27).
pub const NETWORK_VERSION: NetworkVersion = NetworkVersion::V27;
/// Base fee of every epoch, in attoFIL. The premium is always 0: there is no
/// reward actor to receive it.
pub const BASE_FEE: u64 = 100;
/// Gas limit of every message (the block limit).
pub const GAS_LIMIT: u64 = 10_000_000_000;

type Exec = IntegrationExecutor<MemoryBlockstore, DummyExterns>;

/// One engine (and its cache of compiled modules) per process.
fn engine() -> &'static EnginePool {
    static ENGINE: OnceLock<EnginePool> = OnceLock::new();
    ENGINE.get_or_init(|| {
        EnginePool::new((&NetworkConfig::new(NETWORK_VERSION)).into())
            .expect("failed to create the FVM engine")
    })
}

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

/// The decoded state of a channel plus its balance: what two runs compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelView {
    pub from: Address,
    pub to: Address,
    pub to_send: TokenAmount,
    pub settling_at: ChainEpoch,
    pub min_settle_height: ChainEpoch,
    pub lanes: Vec<(u64, LaneState)>,
    pub balance: TokenAmount,
}

/// One executed message, as recorded for comparisons and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub epoch: ChainEpoch,
    pub exit_code: ExitCode,
    pub gas_used: u64,
    /// The channel the message was about after it ran (`None` once deleted).
    pub channel: Option<ChannelView>,
}

/// Builds the genesis state: accounts and probes, then [`HarnessBuilder::build`].
pub struct HarnessBuilder {
    tester: Tester<MemoryBlockstore, DummyExterns>,
    bundle: Bundle,
    account_code: Cid,
    seeds: u32,
    tracing: bool,
}

impl HarnessBuilder {
    /// A genesis over `bundle`.
    pub fn new(bundle: Bundle) -> anyhow::Result<Self> {
        let store = MemoryBlockstore::default();
        let manifest = bundle.load_into(&store)?;
        let tester = Tester::new(NETWORK_VERSION, StateTreeVersion::V5, manifest, store)
            .context("the FVM refused the bundle's manifest")?;
        let account_code = bundle
            .code("account")
            .ok_or_else(|| anyhow!("the bundle has no account actor"))?;
        Ok(Self {
            tester,
            bundle,
            account_code,
            seeds: 0,
            tracing: false,
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

    /// A secp256k1 account (f1) holding `balance`.
    pub fn secp_account(&mut self, balance: TokenAmount) -> Party {
        let key = Key::from_seed(KeyType::Secp256k1, &self.next_seed("secp256k1"));
        let secret = k256::SecretKey::from_slice(key.private_bytes()).expect("valid key");
        let (id, _) = self
            .tester
            .make_secp256k1_account(secret, balance)
            .expect("failed to create a secp256k1 account");
        Party { id, key: Some(key) }
    }

    /// A BLS account (f3) holding `balance`.
    pub fn bls_account(&mut self, balance: TokenAmount) -> Party {
        let key = Key::from_seed(KeyType::Bls, &self.next_seed("bls"));
        let account_code = self.account_code;
        let tree = self.tree();
        let id = tree
            .register_new_address(&key.address())
            .expect("register BLS address");
        let state = fvm::account_actor::State {
            address: key.address(),
        };
        let state = tree
            .store()
            .put_cbor(&state, Code::Blake2b256)
            .expect("store account state");
        tree.set_actor(id, ActorState::new(account_code, state, balance, 0, None));
        Party { id, key: Some(key) }
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
        let alias = Address::new_actor(&seed);
        let state = self
            .tester
            .set_state(&test_probe::State {
                config,
                calls: vec![],
            })
            .expect("store probe state");
        self.tester
            .set_actor_from_bin(paych_bundle::wasm::TEST_PROBE, state, alias, balance)
            .expect("install probe");
        let id = self
            .tree()
            .lookup_id(&alias)
            .expect("lookup")
            .expect("probe registered");
        Party { id, key: None }
    }

    /// Records an execution trace (every gas charge, call and IPLD operation)
    /// in each message's `ApplyRet::exec_trace`.
    pub fn with_tracing(mut self) -> Self {
        self.tracing = true;
        self
    }

    fn tree(&mut self) -> &mut StateTree<MemoryBlockstore> {
        self.tester.state_tree.as_mut().expect("genesis state tree")
    }

    /// Finishes genesis and starts the machine at epoch 0.
    pub fn build(mut self) -> anyhow::Result<Harness> {
        let mut tree = self.tester.state_tree.take().expect("genesis state tree");
        let root = tree.flush()?;
        let paych_code = self
            .bundle
            .code(PAYMENT_CHANNEL)
            .ok_or_else(|| anyhow!("the bundle has no payment channel"))?;
        let mut harness = Harness {
            manifest: self.bundle.manifest(),
            paych_code,
            epoch: 0,
            tracing: self.tracing,
            executor: None,
            channels: Vec::new(),
            steps: Vec::new(),
            lenient: Cell::new(false),
            mismatches: std::cell::RefCell::new(Vec::new()),
        };
        harness.start_machine(tree.into_store(), root, 0)?;
        Ok(harness)
    }
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
    manifest: Cid,
    paych_code: Cid,
    epoch: ChainEpoch,
    tracing: bool,
    executor: Option<Exec>,
    channels: Vec<ActorID>,
    steps: Vec<Step>,
    /// In lenient mode failed expectations are recorded instead of panicking
    /// (differential runs must go on to compare every step).
    lenient: Cell<bool>,
    mismatches: std::cell::RefCell<Vec<String>>,
}

impl Harness {
    fn start_machine(
        &mut self,
        store: MemoryBlockstore,
        root: Cid,
        epoch: ChainEpoch,
    ) -> anyhow::Result<()> {
        let mut nc = NetworkConfig::new(NETWORK_VERSION);
        nc.override_actors(self.manifest);
        nc.enable_actor_debugging();
        let mut mc = nc.for_epoch(epoch, epoch as u64 * 30, root);
        mc.set_base_fee(TokenAmount::from_atto(BASE_FEE));
        if self.tracing {
            mc.enable_tracing();
        }
        let machine = DefaultMachine::new(&mc, store, DummyExterns)?;
        self.executor = Some(Exec::new(engine().clone(), machine)?);
        self.epoch = epoch;
        Ok(())
    }

    fn executor(&mut self) -> &mut Exec {
        self.executor.as_mut().expect("machine running")
    }

    fn machine(&self) -> &DefaultMachine<MemoryBlockstore, DummyExterns> {
        self.executor.as_ref().expect("machine running")
    }

    pub fn epoch(&self) -> ChainEpoch {
        self.epoch
    }

    /// Moves the chain to `epoch`: later messages execute at that epoch.
    pub fn set_epoch(&mut self, epoch: ChainEpoch) {
        if epoch == self.epoch {
            return;
        }
        let mut executor = self.executor.take().expect("machine running");
        let root = executor.flush().expect("flush state");
        let store = executor
            .into_machine()
            .expect("machine not poisoned")
            .into_store()
            .into_inner();
        self.start_machine(store, root, epoch)
            .expect("restart machine");
    }

    pub fn advance(&mut self, epochs: ChainEpoch) {
        self.set_epoch(self.epoch + epochs);
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

    pub fn store(&self) -> &impl Blockstore {
        self.machine().blockstore()
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

    /// The channel's decoded state, lanes and balance.
    pub fn view(&self, id: ActorID) -> Option<ChannelView> {
        let actor = self.actor(id)?;
        if actor.code != self.paych_code {
            return None;
        }
        let st: State = self.store().get_cbor(&actor.state).ok()??;
        Some(ChannelView {
            lanes: st.lanes(self.store()).expect("lane AMT loads"),
            from: st.from,
            to: st.to,
            to_send: st.to_send,
            settling_at: st.settling_at,
            min_settle_height: st.min_settle_height,
            balance: actor.balance,
        })
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
        let message = Message {
            version: 0,
            from: from.address(),
            to,
            sequence: sender.sequence,
            value,
            method_num: method,
            params,
            gas_limit: GAS_LIMIT,
            gas_fee_cap: TokenAmount::from_atto(BASE_FEE),
            gas_premium: TokenAmount::default(),
        };
        let length = chain_length(&message, from);
        let ret = self
            .executor()
            .execute_message(message, ApplyKind::Explicit, length)
            .unwrap_or_else(|e| panic!("{label}: the FVM failed to apply the message: {e:#}"));

        self.check_invariants(label);
        let subject = self.resolve(&to).filter(|id| self.channels.contains(id));
        let step = Step {
            label: label.to_string(),
            epoch: self.epoch,
            exit_code: ret.msg_receipt.exit_code,
            gas_used: ret.msg_receipt.gas_used,
            channel: subject.and_then(|id| self.view(id)),
        };
        self.steps.push(step);
        ret
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
        let method = Method::Settle as MethodNum;
        self.apply(
            label,
            caller,
            channel.robust,
            method,
            RawBytes::default(),
            TokenAmount::default(),
        )
    }

    pub fn collect(&mut self, label: &str, caller: &Party, channel: &Channel) -> ApplyRet {
        let method = Method::Collect as MethodNum;
        self.apply(
            label,
            caller,
            channel.robust,
            method,
            RawBytes::default(),
            TokenAmount::default(),
        )
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

/// The message's length on chain, which message inclusion gas is charged on:
/// a secp256k1 message is carried signed (`[message, signature]`), a BLS
/// message alone (its signature is aggregated into the block).
fn chain_length(message: &Message, from: &Party) -> usize {
    let unsigned = fvm_ipld_encoding::to_vec(message)
        .expect("encode message")
        .len();
    match from.key.as_ref().map(|k| k.address().protocol()) {
        Some(Protocol::BLS) => unsigned,
        // 1 byte array header + message + 2-byte bytes header + type byte + 65.
        _ => 1 + unsigned + 2 + 1 + 65,
    }
}
