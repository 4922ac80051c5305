//! The actor's native logic under `MockRuntime`, as a [`Chain`].
//!
//! Signatures are real: the payer signs with a secp256k1 key, the payee with
//! a BLS key, the stranger with another secp256k1 key. The send handler
//! answers AuthenticateMessage the way the account actor does, by verifying
//! the signature against the asked party's key address (16 when it does not
//! verify); `extra` targets succeed or exit with 33; value sends succeed.
//!
//! Calls go straight to `dispatch` without the mock's rollback, so a failed
//! call that wrote state or moved funds is caught, not hidden.

use std::collections::HashMap;
use std::sync::OnceLock;

use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::address::{Address, Protocol};
use fvm_shared::crypto::signature::{Signature, SignatureType};
use fvm_shared::error::ExitCode;
use fvm_shared::{ActorID, METHOD_SEND, MethodNum};
use num_bigint::BigInt;
use paych_actor::BuiltinType::{
    Account as ACCOUNT, Init as INIT, PaymentChannel as PAYMENT_CHANNEL,
};
use paych_actor::ext::account::{AUTHENTICATE_MESSAGE_METHOD, AuthenticateMessageParams};
use paych_actor::mock::{MockRuntime, Sent, exit_response, ok_response};
use paych_actor::testing::check_state_invariants;
use paych_actor::{ActorKind, ConstructorParams, Method, UpdateChannelStateParams};
use paych_client::{Key, KeyType};

use crate::model::{Op, Who, code};
use crate::ops::START_EPOCH;
use crate::runner::{Chain, Executed, Observed, ObservedPayout, VoucherAddresses, big, tokens};
use crate::runner::{EXTRA_METHOD, wire_voucher};

pub const INIT_ID: ActorID = 1;
pub const CHANNEL_ID: ActorID = 100;
pub const PAYER_ID: ActorID = 101;
pub const PAYEE_ID: ActorID = 102;
pub const STRANGER_ID: ActorID = 103;
pub const EXTRA_OK_ID: ActorID = 104;
pub const EXTRA_FAILS_ID: ActorID = 105;
pub const OTHER_CHANNEL_ID: ActorID = 200;

/// The parties' keys, made once per process.
pub struct Keys {
    pub payer: Key,
    pub payee: Key,
    pub stranger: Key,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        payer: Key::from_seed(KeyType::Secp256k1, b"reliability payer"),
        payee: Key::from_seed(KeyType::Bls, b"reliability payee"),
        stranger: Key::from_seed(KeyType::Secp256k1, b"reliability stranger"),
    })
}

impl Keys {
    pub fn of(&self, who: Who) -> &Key {
        match who {
            Who::Payer => &self.payer,
            Who::Payee => &self.payee,
            Who::Stranger => &self.stranger,
        }
    }
}

pub fn party_id(who: Who) -> ActorID {
    match who {
        Who::Payer => PAYER_ID,
        Who::Payee => PAYEE_ID,
        Who::Stranger => STRANGER_ID,
    }
}

/// The account actor's AuthenticateMessage: the signature type comes from
/// the key address; anything that does not verify exits 16.
pub fn authenticate_as_account(key_address: &Address, params: Option<&IpldBlock>) -> bool {
    let Some(Ok(params)) = params.map(|p| p.deserialize::<AuthenticateMessageParams>()) else {
        return false;
    };
    let sig_type = match key_address.protocol() {
        Protocol::Secp256k1 => SignatureType::Secp256k1,
        Protocol::BLS => SignatureType::BLS,
        _ => return false,
    };
    let signature = Signature {
        sig_type,
        bytes: params.signature,
    };
    paych_client::keys::verify(&signature, key_address, &params.message)
}

/// The addresses vouchers name in the mock world.
pub fn mock_addresses() -> VoucherAddresses {
    VoucherAddresses {
        this: Address::new_actor(b"reliability channel"),
        this_by_id: Address::new_id(CHANNEL_ID),
        other: Address::new_actor(b"reliability other channel"),
        nowhere: Address::new_actor(b"reliability nowhere"),
        extra_ok: Address::new_id(EXTRA_OK_ID),
        extra_fails: Address::new_id(EXTRA_FAILS_ID),
    }
}

/// A runtime with init, the three accounts, the two extra targets and
/// another channel, but no channel state yet; the channel's robust address
/// resolves to it. The send handler plays the other actors.
pub fn world(balance: &BigInt) -> MockRuntime {
    let addrs = mock_addresses();
    let mut rt = MockRuntime::new(CHANNEL_ID);
    rt.add_actor(INIT_ID, ActorKind::Builtin(INIT), None);
    let keys = keys();
    for who in [Who::Payer, Who::Payee, Who::Stranger] {
        rt.add_actor(
            party_id(who),
            ActorKind::Builtin(ACCOUNT),
            Some(keys.of(who).address()),
        );
    }
    rt.add_actor(EXTRA_OK_ID, ActorKind::User, None);
    rt.add_actor(EXTRA_FAILS_ID, ActorKind::User, None);
    rt.add_actor(
        OTHER_CHANNEL_ID,
        ActorKind::Builtin(PAYMENT_CHANNEL),
        Some(addrs.other),
    );
    rt.addresses.insert(addrs.this, CHANNEL_ID);
    rt.epoch = START_EPOCH;
    rt.balance = tokens(balance);

    let key_addresses: HashMap<ActorID, Address> = [Who::Payer, Who::Payee, Who::Stranger]
        .into_iter()
        .map(|w| (party_id(w), keys.of(w).address()))
        .collect();
    rt.send_handler = Some(Box::new(move |sent: &Sent| {
        let to = sent.to.id().ok();
        match (sent.method, to) {
            (METHOD_SEND, _) => ok_response::<()>(None),
            (AUTHENTICATE_MESSAGE_METHOD, Some(id)) => match key_addresses.get(&id) {
                Some(key) if authenticate_as_account(key, sent.params.as_ref()) => {
                    ok_response(Some(&true))
                }
                Some(_) => exit_response(ExitCode::USR_ILLEGAL_ARGUMENT),
                None => exit_response(ExitCode::USR_UNHANDLED_MESSAGE),
            },
            (EXTRA_METHOD, Some(EXTRA_OK_ID)) => ok_response::<()>(None),
            (EXTRA_METHOD, Some(EXTRA_FAILS_ID)) => {
                exit_response(ExitCode::new(code::EXTRA_TARGET_FAILURE))
            }
            _ => exit_response(ExitCode::USR_UNHANDLED_MESSAGE),
        }
    }));
    rt
}

/// The channel under the mock runtime.
pub struct MockChain {
    pub rt: MockRuntime,
    addrs: VoucherAddresses,
    payout: Option<ObservedPayout>,
    /// Failed calls that changed state or moved funds before failing.
    pub dirty_failures: Vec<String>,
}

impl MockChain {
    /// A channel from the payer to the payee created by init at
    /// [`START_EPOCH`] holding `balance`.
    pub fn new(balance: &BigInt) -> Self {
        let mut rt = world(balance);
        let params = IpldBlock::serialize_cbor(&ConstructorParams {
            from: Address::new_id(PAYER_ID),
            to: Address::new_id(PAYEE_ID),
        })
        .expect("encode");
        rt.call(INIT_ID, Method::Constructor as MethodNum, params)
            .expect("the constructor succeeds");
        Self {
            rt,
            addrs: mock_addresses(),
            payout: None,
            dirty_failures: Vec::new(),
        }
    }

    /// Calls the actor without the mock's rollback, then checks that a
    /// failure left nothing behind (and restores the world if it did).
    fn call(&mut self, label: &str, caller: Who, method: Method, params: Option<IpldBlock>) -> u32 {
        let root = self.rt.state_root;
        let balance = self.rt.balance.clone();
        let deleted = self.rt.deleted;
        self.rt.caller = party_id(caller);
        match paych_actor::dispatch(&mut self.rt, method as MethodNum, params) {
            Ok(()) => 0,
            Err(e) => {
                if self.rt.state_root != root || self.rt.balance != balance || self.rt.deleted {
                    self.dirty_failures
                        .push(format!("{label}: failed ({e:?}) but changed the channel"));
                    self.rt.state_root = root;
                    self.rt.balance = balance;
                    self.rt.deleted = deleted;
                }
                e.exit_code().value()
            }
        }
    }
}

impl Chain for MockChain {
    fn execute(&mut self, label: &str, op: &Op) -> Executed {
        if let Op::SetEpoch(epoch) = op {
            self.rt.epoch = *epoch;
            return Executed::Tick;
        }
        if self.rt.deleted {
            return Executed::Skipped;
        }
        let code = match op {
            Op::SetEpoch(_) => unreachable!(),
            Op::AddFunds(_, amount) => {
                // A plain value transfer runs no actor code.
                self.rt.balance += tokens(amount);
                0
            }
            Op::Settle(who) => self.call(label, *who, Method::Settle, None),
            Op::Collect(who) => {
                let balance_before = big(&self.rt.balance);
                let sent_before = self.rt.sent.len();
                let code = self.call(label, *who, Method::Collect, None);
                if code == 0 {
                    let paid_to = |id: ActorID| -> BigInt {
                        self.rt.sent[sent_before..]
                            .iter()
                            .filter(|s| s.to == Address::new_id(id) && s.method == METHOD_SEND)
                            .map(|s| big(&s.value))
                            .sum()
                    };
                    self.payout = Some(ObservedPayout {
                        to_payee: paid_to(PAYEE_ID),
                        to_payer: paid_to(PAYER_ID),
                        balance_before,
                    });
                }
                code
            }
            Op::Update(v) => {
                let keys = keys();
                let (sv, secret) =
                    wire_voucher(v, &self.addrs, |who, bytes| keys.of(who).sign(bytes));
                let params = IpldBlock::serialize_cbor(&UpdateChannelStateParams { sv, secret })
                    .expect("encode");
                self.call(label, v.caller, Method::UpdateChannelState, params)
            }
        };
        Executed::Exit(code)
    }

    fn observe(&self) -> Option<Observed> {
        if self.rt.deleted {
            return None;
        }
        let st = self.rt.state();
        let lanes = st
            .lanes(&self.rt.store)
            .expect("lanes load")
            .into_iter()
            .map(|(lane, s)| (lane, (big(&s.redeemed), s.nonce)))
            .collect();
        Some(Observed {
            to_send: big(&st.to_send),
            settling_at: st.settling_at,
            min_settle_height: st.min_settle_height,
            lanes,
            balance: big(&self.rt.balance),
            broken_invariants: check_state_invariants(&st, &self.rt.store, &self.rt.balance),
        })
    }

    fn payout(&self) -> Option<ObservedPayout> {
        self.payout.clone()
    }

    fn take_findings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.dirty_failures)
    }
}
