//! An in-memory [`Runtime`] for native tests (unit tests here, property tests
//! and fuzzing elsewhere).
//!
//! Sends are checked against expectations queued by the test, in order, like
//! the built-in actors' mock runtime; when no expectation is queued a
//! `send_handler` (if any) answers instead. [`MockRuntime::call`] runs a method
//! the way the FVM does: on failure every change (state root, balance, sends'
//! effects, deletion) is rolled back. As in the FVM, a new actor's state root
//! is the empty array's, and a read-only call can neither write its state,
//! delete itself nor transfer value.

use std::collections::{HashMap, VecDeque};

use cid::Cid;
use fvm_ipld_blockstore::MemoryBlockstore;
use fvm_ipld_encoding::CborStore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::{ErrorNumber, ExitCode};
use fvm_shared::{ActorID, METHOD_SEND, MethodNum, Response};

use crate::{ActorError, ActorKind, Runtime, State, empty_array_cid};

/// A send the actor made.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub to: Address,
    pub method: MethodNum,
    pub params: Option<IpldBlock>,
    pub value: TokenAmount,
    pub read_only: bool,
}

/// A send the test expects next, and what it returns.
#[derive(Clone, Debug)]
pub struct ExpectedSend {
    pub sent: Sent,
    pub result: Result<Response, ErrorNumber>,
    /// Makes `address` resolve to `id` (an actor of `kind`) once the send is
    /// made, as a first send to a new key address does on chain.
    pub creates: Option<(Address, ActorID, ActorKind)>,
    /// The callee called back into this actor (a nested Settle or voucher
    /// from a multisig party, say) and left it with this state; applied when
    /// the send succeeds.
    pub reenters: Option<State>,
}

pub type SendHandler = Box<dyn FnMut(&Sent) -> Result<Response, ErrorNumber>>;

pub struct MockRuntime {
    pub store: MemoryBlockstore,
    pub receiver: ActorID,
    pub caller: ActorID,
    pub epoch: ChainEpoch,
    pub balance: TokenAmount,
    /// The state root the actor has set; `None` until it sets one (the FVM's
    /// empty array root, [`empty_array_cid`], which the store holds).
    pub state_root: Option<Cid>,
    pub deleted: bool,
    /// The call is read-only (a caller sent it with `SendFlags::READ_ONLY`).
    pub read_only: bool,
    /// Code at each ID (IDs not listed have none).
    pub actors: HashMap<ActorID, ActorKind>,
    /// Non-ID addresses and the IDs they resolve to.
    pub addresses: HashMap<Address, ActorID>,
    pub expected_sends: VecDeque<ExpectedSend>,
    pub send_handler: Option<SendHandler>,
    /// Every send made by successful calls, in order.
    pub sent: Vec<Sent>,
}

impl MockRuntime {
    /// A runtime for the channel at `receiver`, with nothing else on chain.
    pub fn new(receiver: ActorID) -> Self {
        let store = MemoryBlockstore::default();
        let empty: [(); 0] = [];
        let root = store
            .put_cbor(&empty, multihash_codetable::Code::Blake2b256)
            .expect("memory store");
        assert_eq!(root, empty_array_cid());
        Self {
            store,
            receiver,
            caller: 0,
            epoch: 0,
            balance: TokenAmount::default(),
            state_root: None,
            deleted: false,
            read_only: false,
            actors: HashMap::new(),
            addresses: HashMap::new(),
            expected_sends: VecDeque::new(),
            send_handler: None,
            sent: Vec::new(),
        }
    }

    /// Puts an actor of `kind` at `id`, optionally reachable by `alias`.
    pub fn add_actor(&mut self, id: ActorID, kind: ActorKind, alias: Option<Address>) {
        self.actors.insert(id, kind);
        if let Some(alias) = alias {
            self.addresses.insert(alias, id);
        }
    }

    pub fn expect_send(&mut self, expected: ExpectedSend) {
        self.expected_sends.push_back(expected);
    }

    /// Calls `method` as `caller`, rolling back every change if it fails.
    pub fn call(
        &mut self,
        caller: ActorID,
        method: MethodNum,
        params: Option<IpldBlock>,
    ) -> Result<(), ActorError> {
        self.caller = caller;
        let snapshot = (
            self.state_root,
            self.balance.clone(),
            self.deleted,
            self.actors.clone(),
            self.addresses.clone(),
            self.sent.len(),
        );
        let result = crate::dispatch(self, method, params);
        if result.is_err() {
            let (root, balance, deleted, actors, addresses, sent) = snapshot;
            self.state_root = root;
            self.balance = balance;
            self.deleted = deleted;
            self.actors = actors;
            self.addresses = addresses;
            self.sent.truncate(sent);
        }
        result
    }

    /// The channel's current state. Panics if it has none (test helper).
    pub fn state(&self) -> State {
        let root = self.state_root.expect("the channel has no state");
        self.store
            .get_cbor(&root)
            .unwrap()
            .expect("state block missing")
    }

    /// Panics unless every expected send was made.
    pub fn verify(&self) {
        assert!(
            self.expected_sends.is_empty(),
            "expected sends were not made: {:?}",
            self.expected_sends
        );
    }
}

impl Runtime for MockRuntime {
    type Blockstore = MemoryBlockstore;

    fn store(&self) -> &MemoryBlockstore {
        &self.store
    }

    fn caller(&self) -> ActorID {
        self.caller
    }

    fn receiver(&self) -> ActorID {
        self.receiver
    }

    fn curr_epoch(&self) -> ChainEpoch {
        self.epoch
    }

    fn current_balance(&self) -> TokenAmount {
        self.balance.clone()
    }

    fn resolve_address(&self, addr: &Address) -> Option<ActorID> {
        addr.id().ok().or_else(|| self.addresses.get(addr).copied())
    }

    fn actor_kind(&self, id: ActorID) -> ActorKind {
        if id == self.receiver && !self.deleted {
            return ActorKind::Builtin(crate::BuiltinType::PaymentChannel);
        }
        self.actors.get(&id).copied().unwrap_or(ActorKind::Missing)
    }

    fn send(
        &mut self,
        to: &Address,
        method: MethodNum,
        params: Option<IpldBlock>,
        value: TokenAmount,
        read_only: bool,
    ) -> Result<Response, ErrorNumber> {
        let sent = Sent {
            to: *to,
            method,
            params,
            value,
            read_only,
        };
        let result = match self.expected_sends.pop_front() {
            Some(expected) => {
                assert_eq!(sent, expected.sent, "unexpected send");
                if let Some((addr, id, kind)) = expected.creates {
                    self.add_actor(id, kind, Some(addr));
                }
                if let (Some(state), Ok(response)) = (&expected.reenters, &expected.result)
                    && response.exit_code.is_success()
                {
                    let root = self
                        .store
                        .put_cbor(state, multihash_codetable::Code::Blake2b256)
                        .expect("memory store");
                    self.state_root = Some(root);
                }
                expected.result
            }
            None => match self.send_handler.as_mut() {
                Some(handler) => handler(&sent),
                None => panic!("unexpected send: {sent:?}"),
            },
        };
        if self.read_only && !sent.value.is_zero() {
            return Err(ErrorNumber::ReadOnly);
        }
        if let Ok(response) = &result
            && response.exit_code.is_success()
        {
            if sent.value > self.balance {
                return Err(ErrorNumber::InsufficientFunds);
            }
            self.balance -= &sent.value;
        }
        self.sent.push(sent);
        result
    }

    fn blake2b_256(&self, data: &[u8]) -> [u8; 32] {
        actor_interfaces::blake2b_256(data)
    }

    fn state_root(&self) -> Option<Cid> {
        match self.deleted {
            false => Some(self.state_root.unwrap_or_else(empty_array_cid)),
            true => None,
        }
    }

    fn set_state_root(&mut self, root: &Cid) -> Result<(), ErrorNumber> {
        if self.read_only {
            return Err(ErrorNumber::ReadOnly);
        }
        if self.deleted {
            return Err(ErrorNumber::IllegalOperation);
        }
        self.state_root = Some(*root);
        Ok(())
    }

    fn delete_actor(&mut self) -> Result<(), ErrorNumber> {
        if self.read_only {
            return Err(ErrorNumber::ReadOnly);
        }
        if !self.balance.is_zero() {
            return Err(ErrorNumber::IllegalOperation);
        }
        self.deleted = true;
        Ok(())
    }
}

/// A successful response with an optional CBOR return value.
pub fn ok_response<T: serde::Serialize>(ret: Option<&T>) -> Result<Response, ErrorNumber> {
    Ok(Response {
        exit_code: ExitCode::OK,
        return_data: ret.map(|r| IpldBlock::serialize_cbor(r).unwrap().unwrap()),
    })
}

/// A response with a non-zero exit code and no return value.
pub fn exit_response(code: ExitCode) -> Result<Response, ErrorNumber> {
    exit_response_with_data(code, None)
}

/// A response with a non-zero exit code and the callee's return block (an
/// EVM contract's revert data, say).
pub fn exit_response_with_data(
    code: ExitCode,
    data: Option<IpldBlock>,
) -> Result<Response, ErrorNumber> {
    Ok(Response {
        exit_code: code,
        return_data: data,
    })
}

/// A plain value transfer (what Collect sends).
pub fn value_send(to: ActorID, value: TokenAmount) -> Sent {
    Sent {
        to: Address::new_id(to),
        method: METHOD_SEND,
        params: None,
        value,
        read_only: false,
    }
}
