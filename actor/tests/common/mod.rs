//! Fixtures and helpers shared by the actor's unit tests, modelled on
//! builtin-actors' `paych_actor_test.rs` (reference §7).
//!
//! Every successful step goes through [`call_ok`], which runs the state
//! invariants; every failure goes through [`expect_abort`], which asserts the
//! exit code and that the actor left its state untouched.
#![allow(dead_code)]

use fvm_ipld_amt::Amt;
use fvm_ipld_blockstore::MemoryBlockstore;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_ipld_encoding::{CBOR, RawBytes};
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::ExitCode;
use fvm_shared::{ActorID, METHOD_SEND, MethodNum, Response};
use paych_actor::BuiltinType::{Account as ACCOUNT, Init as INIT};
use paych_actor::mock::{ExpectedSend, MockRuntime, Sent, ok_response};
use paych_actor::testing::check_state_invariants;
use paych_actor::{
    ActorError, ActorKind, ConstructorParams, LaneState, Method, SignedVoucher, State,
    UpdateChannelStateParams, ext,
};

pub const INIT_ID: ActorID = ext::INIT_ACTOR_ID;
pub const PAYCH_ID: ActorID = 100;
pub const PAYER_ID: ActorID = 102;
pub const PAYEE_ID: ActorID = 103;
/// The target of voucher `extra` calls in the reference tests.
pub const OTHER_ID: ActorID = 104;
/// An account that is not a party to the channel.
pub const STRANGER_ID: ActorID = 105;

pub const FIXTURE_BALANCE: u64 = 100_000;
pub const FIXTURE_EPOCH: ChainEpoch = 2;

pub const UPDATE: MethodNum = Method::UpdateChannelState as MethodNum;
pub const CONSTRUCTOR: MethodNum = Method::Constructor as MethodNum;
pub const SETTLE: MethodNum = Method::Settle as MethodNum;
pub const COLLECT: MethodNum = Method::Collect as MethodNum;

/// The raw signature bytes of the fixture's vouchers (BLS type byte stripped).
pub const FIXTURE_SIG: &[u8] = b"doesn't matter";

pub fn id(n: ActorID) -> Address {
    Address::new_id(n)
}

pub fn atto(n: i64) -> TokenAmount {
    TokenAmount::from_atto(n)
}

/// A BLS key address derived from `seed` (not registered anywhere).
pub fn bls_addr(seed: u8) -> Address {
    Address::new_bls(&[seed; 48]).unwrap()
}

/// A secp256k1 key address derived from `seed` (not registered anywhere).
pub fn secp_addr(seed: u8) -> Address {
    Address::new_secp256k1(&[seed; 65]).unwrap()
}

/// The channel's runtime before construction: init at f01, the payer, payee,
/// extra-call target and a stranger as account actors, 100 000 attoFIL at
/// epoch 2.
pub fn new_runtime() -> MockRuntime {
    let mut rt = MockRuntime::new(PAYCH_ID);
    rt.add_actor(INIT_ID, ActorKind::Builtin(INIT), None);
    for party in [PAYER_ID, PAYEE_ID, OTHER_ID, STRANGER_ID] {
        rt.add_actor(party, ActorKind::Builtin(ACCOUNT), None);
    }
    rt.epoch = FIXTURE_EPOCH;
    rt.balance = TokenAmount::from_atto(FIXTURE_BALANCE);
    rt
}

pub fn constructor_params(from: Address, to: Address) -> Option<IpldBlock> {
    IpldBlock::serialize_cbor(&ConstructorParams { from, to }).unwrap()
}

/// The CID of an empty lane AMT with bit width 3, computed independently of
/// the actor.
pub fn empty_lanes_cid() -> cid::Cid {
    Amt::<LaneState, _>::new_with_bit_width(MemoryBlockstore::default(), 3)
        .flush()
        .unwrap()
}

/// A channel from the payer to the payee with no lanes.
pub fn create_channel() -> MockRuntime {
    let mut rt = new_runtime();
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYEE_ID)),
    );
    let st = rt.state();
    assert_eq!(
        st,
        State::new(id(PAYER_ID), id(PAYEE_ID), empty_lanes_cid())
    );
    rt
}

/// A voucher for the fixture channel: signed (BLS, raw bytes
/// [`FIXTURE_SIG`]), tl_min 2, tl_max i64::MAX, nothing else set.
pub fn voucher(lane: u64, nonce: u64, amount: i64) -> SignedVoucher {
    SignedVoucher {
        channel_addr: id(PAYCH_ID),
        time_lock_min: FIXTURE_EPOCH,
        time_lock_max: i64::MAX,
        secret_pre_image: Vec::new(),
        extra: None,
        lane,
        nonce,
        amount: atto(amount),
        min_settle_height: 0,
        merges: Vec::new(),
        signature: Some(Signature::new_bls(FIXTURE_SIG.to_vec())),
    }
}

/// `require_create_channel_with_lanes(n)`: lane i (0..n) is redeemed by the
/// payer with a voucher signed by the payee (amount i+1, nonce i+1). Returns
/// the runtime and the last voucher with its nonce incremented.
pub fn require_create_channel_with_lanes(n: u64) -> (MockRuntime, SignedVoucher) {
    assert!(n > 0);
    let mut rt = create_channel();
    let mut last = None;
    for i in 0..n {
        let sv = voucher(i, i + 1, i as i64 + 1);
        expect_authenticate(&mut rt, PAYEE_ID, &sv);
        call_ok(&mut rt, PAYER_ID, UPDATE, update_params(&sv, &[]));
        assert_eq!(
            lane(&rt, i),
            Some(LaneState {
                redeemed: atto(i as i64 + 1),
                nonce: i + 1
            })
        );
        last = Some(sv);
    }
    let mut sv = last.unwrap();
    sv.nonce += 1;
    (rt, sv)
}

pub fn update_params(sv: &SignedVoucher, secret: &[u8]) -> Option<IpldBlock> {
    IpldBlock::serialize_cbor(&UpdateChannelStateParams {
        sv: sv.clone(),
        secret: secret.to_vec(),
    })
    .unwrap()
}

/// Appends a CBOR byte-string header for `len` bytes (major type 2).
pub fn cbor_bytes_header(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=23 => out.push(0x40 | len as u8),
        24..=0xff => out.extend([0x58, len as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

/// The AuthenticateMessage params, built by hand: a CBOR 2-array of byte
/// strings `[raw signature, signing bytes]`.
pub fn authenticate_params_bytes(raw_signature: &[u8], signing_bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x82];
    cbor_bytes_header(&mut out, raw_signature.len());
    out.extend_from_slice(raw_signature);
    cbor_bytes_header(&mut out, signing_bytes.len());
    out.extend_from_slice(signing_bytes);
    out
}

/// The exact AuthenticateMessage send the actor must make for `sv`: to the
/// signer's ID, CBOR params, value 0, read-only.
pub fn authenticate_send(signer: ActorID, sv: &SignedVoucher) -> Sent {
    let raw = &sv
        .signature
        .as_ref()
        .expect("voucher has a signature")
        .bytes;
    let data = authenticate_params_bytes(raw, &sv.signing_bytes().unwrap());
    Sent {
        to: id(signer),
        method: ext::account::AUTHENTICATE_MESSAGE_METHOD,
        params: Some(IpldBlock { codec: CBOR, data }),
        value: TokenAmount::default(),
        read_only: true,
    }
}

/// Queues the AuthenticateMessage send for `sv`, answering `true`.
pub fn expect_authenticate(rt: &mut MockRuntime, signer: ActorID, sv: &SignedVoucher) {
    expect_authenticate_result(rt, signer, sv, ok_response(Some(&true)));
}

/// Queues the AuthenticateMessage send for `sv` with any outcome.
pub fn expect_authenticate_result(
    rt: &mut MockRuntime,
    signer: ActorID,
    sv: &SignedVoucher,
    result: Result<Response, fvm_shared::error::ErrorNumber>,
) {
    rt.expect_send(ExpectedSend {
        sent: authenticate_send(signer, sv),
        result,
        creates: None,
        reenters: None,
    });
}

/// Queues any send with its outcome.
pub fn expect_send(
    rt: &mut MockRuntime,
    sent: Sent,
    result: Result<Response, fvm_shared::error::ErrorNumber>,
) {
    rt.expect_send(ExpectedSend {
        sent,
        result,
        creates: None,
        reenters: None,
    });
}

/// The zero-value METHOD_SEND the constructor makes to an unresolved party.
pub fn zero_send(to: Address) -> Sent {
    Sent {
        to,
        method: METHOD_SEND,
        params: None,
        value: TokenAmount::default(),
        read_only: false,
    }
}

/// The send a voucher's `extra` makes: CBOR codec, the data verbatim, value 0,
/// not read-only.
pub fn extra_send(actor: Address, method: MethodNum, data: &[u8]) -> Sent {
    Sent {
        to: actor,
        method,
        params: Some(IpldBlock {
            codec: CBOR,
            data: data.to_vec(),
        }),
        value: TokenAmount::default(),
        read_only: false,
    }
}

pub fn extra(
    actor: Address,
    method: MethodNum,
    data: &[u8],
) -> Option<paych_actor::ModVerifyParams> {
    Some(paych_actor::ModVerifyParams {
        actor,
        method,
        data: RawBytes::new(data.to_vec()),
    })
}

/// Calls `method` as `caller` and requires success; then every queued send
/// must have been made and the state invariants must hold.
pub fn call_ok(
    rt: &mut MockRuntime,
    caller: ActorID,
    method: MethodNum,
    params: Option<IpldBlock>,
) {
    if let Err(e) = rt.call(caller, method, params) {
        panic!("method {method} from f0{caller} failed: {e:?}");
    }
    rt.verify();
    if !rt.deleted {
        check_invariants(rt);
    }
}

/// Runs `check_state_invariants` on the channel and fails on any breach.
pub fn check_invariants(rt: &MockRuntime) {
    let broken = check_state_invariants(&rt.state(), &rt.store, &rt.balance);
    assert!(broken.is_empty(), "state invariants broken: {broken:?}");
}

/// Calls `method` as `caller` and requires it to fail with `code`.
///
/// The call goes straight to `dispatch`, without the mock's rollback, so this
/// also proves that the actor itself wrote nothing before failing: the state
/// root (and the decoded state), the balance and the actor's existence are
/// compared before and after. Every queued send must have been made.
pub fn expect_abort(
    rt: &mut MockRuntime,
    caller: ActorID,
    method: MethodNum,
    params: Option<IpldBlock>,
    code: ExitCode,
) -> ActorError {
    let root_before = rt.state_root;
    let state_before = root_before.map(|_| rt.state());
    let balance_before = rt.balance.clone();
    rt.caller = caller;
    let err = match paych_actor::dispatch(rt, method, params) {
        Ok(()) => panic!("method {method} from f0{caller} succeeded; expected exit code {code}"),
        Err(e) => e,
    };
    assert_eq!(err.exit_code(), code, "wrong exit code: {err:?}");
    assert_eq!(
        rt.state_root, root_before,
        "a failed call changed the state root"
    );
    assert_eq!(
        root_before.map(|_| rt.state()),
        state_before,
        "a failed call changed the state"
    );
    assert_eq!(rt.balance, balance_before, "a failed call moved funds");
    assert!(!rt.deleted, "a failed call deleted the actor");
    rt.verify();
    err
}

/// Submits `sv` as `caller`, expecting `signer` to be asked and to accept.
pub fn redeem_ok(rt: &mut MockRuntime, caller: ActorID, signer: ActorID, sv: &SignedVoucher) {
    expect_authenticate(rt, signer, sv);
    call_ok(rt, caller, UPDATE, update_params(sv, &[]));
}

/// The state of one lane, read independently of the actor.
pub fn lane(rt: &MockRuntime, lane: u64) -> Option<LaneState> {
    let st = rt.state();
    let amt = Amt::<LaneState, _>::load(&st.lane_states, &rt.store).unwrap();
    amt.get(lane).unwrap().cloned()
}

/// Every lane with its state.
pub fn lanes(rt: &MockRuntime) -> Vec<(u64, LaneState)> {
    rt.state().lanes(&rt.store).unwrap()
}

pub fn lane_state(redeemed: i64, nonce: u64) -> LaneState {
    LaneState {
        redeemed: atto(redeemed),
        nonce,
    }
}

/// Bytes from hex written in groups (`"8b 42 0064"`).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .expect("valid hex")
}
