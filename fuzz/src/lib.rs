//! The fuzz targets' bodies (the files in `fuzz_targets/` only call these).
//!
//! - [`actor_params`]: arbitrary bytes as parameters to any method, from any
//!   caller, through the native actor logic under `MockRuntime`, with the
//!   other actors' replies chosen by the input too.
//! - [`voucher`]: arbitrary bytes as a voucher through the path the CLI uses:
//!   the Lotus text form and raw CBOR, signing bytes, signature checks
//!   against secp256k1 and BLS parties, signer recovery.
//! - [`address`] and [`amount`]: the CLI's address and FIL amount parsers.
//!
//! Each asserts what must hold for every input, not just "no panic".

use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_ipld_encoding::{CBOR, DAG_CBOR, IPLD_RAW};
use fvm_shared::address::{Address, Network};
use fvm_shared::econ::TokenAmount;
use fvm_shared::error::{ErrorNumber, ExitCode};
use fvm_shared::{ActorID, METHOD_SEND, Response};
use paych_actor::ext::account::AUTHENTICATE_MESSAGE_METHOD;
use paych_actor::BuiltinType::{Account as ACCOUNT, Evm as EVM, Init as INIT};
use paych_actor::mock::{MockRuntime, Sent, exit_response, ok_response};
use paych_actor::testing::check_state_invariants;
use paych_actor::{ActorKind, ConstructorParams, SignedVoucher, UpdateChannelStateParams};
use paych_client::{address as addr, amount as fil, keys, voucher as text};

const INIT_ID: ActorID = 1;
const CHANNEL_ID: ActorID = 100;
const PAYER_ID: ActorID = 101;
const PAYEE_ID: ActorID = 102;
const STRANGER_ID: ActorID = 103;
const USER_ID: ActorID = 104;
const EVM_ID: ActorID = 105;
const MISSING_ID: ActorID = 106;

/// Every exit code the channel may end a call with (the user codes a callee
/// can pass through are the probe-like replies below).
const DOCUMENTED: [u32; 12] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 32, 33];

/// A channel with two lanes, built the way the unit tests build it.
fn channel(reply: u8, epoch_byte: u8, settled: bool) -> MockRuntime {
    let mut rt = MockRuntime::new(CHANNEL_ID);
    rt.add_actor(INIT_ID, ActorKind::Builtin(INIT), None);
    for id in [PAYER_ID, PAYEE_ID, STRANGER_ID] {
        rt.add_actor(id, ActorKind::Builtin(ACCOUNT), None);
    }
    rt.add_actor(USER_ID, ActorKind::User, None);
    rt.add_actor(EVM_ID, ActorKind::Builtin(EVM), None);
    rt.addresses
        .insert(Address::new_actor(b"fuzz channel"), CHANNEL_ID);
    rt.epoch = 10;
    rt.balance = TokenAmount::from_atto(1_000_000);
    rt.send_handler = Some(Box::new(|_: &Sent| ok_response(Some(&true))));
    let ctor = IpldBlock::serialize_cbor(&ConstructorParams {
        from: Address::new_id(PAYER_ID),
        to: Address::new_id(PAYEE_ID),
    })
    .unwrap();
    rt.call(INIT_ID, 1, ctor).expect("constructor");
    for lane in 0..2u64 {
        let sv = SignedVoucher {
            signature: Some(fvm_shared::crypto::signature::Signature::new_bls(vec![
                1;
                96
            ])),
            ..SignedVoucher::new(
                Address::new_id(CHANNEL_ID),
                lane,
                3,
                TokenAmount::from_atto(100 + lane),
            )
        };
        let params =
            IpldBlock::serialize_cbor(&UpdateChannelStateParams { sv, secret: vec![] }).unwrap();
        rt.call(PAYEE_ID, 2, params).expect("lane");
    }
    if settled {
        rt.call(PAYER_ID, 3, None).expect("settle");
    }
    rt.epoch = 10 + (epoch_byte as i64) * 12;
    // How the other actors answer from now on, chosen by the input.
    rt.send_handler = Some(Box::new(
        move |sent: &Sent| -> Result<Response, ErrorNumber> {
            match (sent.method, reply % 8) {
                (METHOD_SEND, 7) => Err(ErrorNumber::InsufficientFunds),
                (METHOD_SEND, _) => ok_response::<()>(None),
                (AUTHENTICATE_MESSAGE_METHOD, 0 | 1) => ok_response(Some(&true)),
                (AUTHENTICATE_MESSAGE_METHOD, 2) => ok_response(Some(&false)),
                (AUTHENTICATE_MESSAGE_METHOD, 3) => ok_response::<()>(None),
                (AUTHENTICATE_MESSAGE_METHOD, 4) => Ok(Response {
                    exit_code: ExitCode::OK,
                    return_data: Some(IpldBlock {
                        codec: CBOR,
                        data: vec![0x63, 0x61],
                    }),
                }),
                (AUTHENTICATE_MESSAGE_METHOD, 5) => exit_response(ExitCode::USR_ILLEGAL_ARGUMENT),
                (AUTHENTICATE_MESSAGE_METHOD, _) => {
                    exit_response(ExitCode::SYS_ILLEGAL_INSTRUCTION)
                }
                (_, 0 | 2) => ok_response::<()>(None),
                (_, 1) => exit_response(ExitCode::new(33)),
                (_, 3) => Err(ErrorNumber::NotFound),
                (_, _) => exit_response(ExitCode::USR_UNSPECIFIED),
            }
        },
    ));
    rt
}

/// Input layout: method selector, caller selector, reply selector, epoch,
/// codec selector, then the parameter bytes.
pub fn actor_params(data: &[u8]) {
    let [method_sel, caller_sel, reply, epoch, codec_sel, params @ ..] = data else {
        return;
    };
    let method = match method_sel % 8 {
        0..=3 => (method_sel % 8) as u64 + 1,
        4 => 0,
        5 => 5,
        6 => 1 << 24,
        _ => *method_sel as u64 * 0x0101_0101,
    };
    let caller = [
        PAYER_ID,
        PAYEE_ID,
        STRANGER_ID,
        INIT_ID,
        USER_ID,
        EVM_ID,
        MISSING_ID,
    ][*caller_sel as usize % 7];
    let block = match codec_sel % 4 {
        0 if params.is_empty() => None,
        0 | 1 => Some(IpldBlock {
            codec: DAG_CBOR,
            data: params.to_vec(),
        }),
        2 => Some(IpldBlock {
            codec: CBOR,
            data: params.to_vec(),
        }),
        _ => Some(IpldBlock {
            codec: IPLD_RAW,
            data: params.to_vec(),
        }),
    };
    let mut rt = channel(*reply, *epoch, caller_sel & 0x80 != 0);
    let root = rt.state_root;
    let balance = rt.balance.clone();
    let lanes_before = rt.state().lanes(&rt.store).expect("lanes");
    rt.caller = caller;
    match paych_actor::dispatch(&mut rt, method, block) {
        Err(e) => {
            let code = e.exit_code().value();
            assert!(
                DOCUMENTED.contains(&code),
                "undocumented exit code {code}: {e:?}"
            );
            assert_eq!(
                rt.state_root, root,
                "a failed call changed the state: {e:?}"
            );
            if method != 4 {
                assert_eq!(rt.balance, balance, "a failed call moved funds: {e:?}");
            }
            assert!(!rt.deleted, "a failed call deleted the channel");
        }
        Ok(()) if rt.deleted => {
            assert!(rt.balance.is_zero(), "a collected channel kept funds");
            let paid: TokenAmount = rt.sent.iter().map(|s| s.value.clone()).sum();
            assert_eq!(paid, balance, "collect paid out other than the balance");
        }
        Ok(()) => {
            let st = rt.state();
            let broken = check_state_invariants(&st, &rt.store, &rt.balance);
            assert!(broken.is_empty(), "invariants broken: {broken:?}");
            let lanes = st.lanes(&rt.store).expect("lanes load");
            // The constructor creates a state only over a new actor's empty
            // one: on this live channel it is refused (20), never a success.
            assert_ne!(method, 1, "a second constructor succeeded");
            for (lane, before) in &lanes_before {
                let now = lanes.iter().find(|(l, _)| l == lane).expect("lane kept");
                assert!(now.1.nonce >= before.nonce, "lane {lane} nonce went down");
            }
        }
    }
}

/// The voucher paths the CLI uses, on arbitrary bytes (as text and as CBOR).
pub fn voucher(data: &[u8]) {
    let secp = keys::Key::from_seed(keys::KeyType::Secp256k1, b"fuzz payer").address();
    let bls = Address::new_bls(&[0xa5; 48]).unwrap();
    let check = |sv: &SignedVoucher| {
        // The Lotus text form round-trips.
        let encoded = text::encode(sv);
        let again = text::decode(&encoded).expect("an encoded voucher decodes");
        assert_eq!(&again, sv);
        // Signing bytes and the CLI's signature checks never panic.
        let signing = sv.signing_bytes().expect("a decoded voucher re-encodes");
        for signer in [&secp, &bls] {
            let _ = text::is_signed_by(sv, signer);
        }
        if let Some(sig) = &sv.signature {
            if let Some(signer) = keys::recover_secp256k1(&sig.bytes, &signing) {
                // Recovery agrees with verification.
                assert!(keys::verify(
                    &fvm_shared::crypto::signature::Signature::new_secp256k1(sig.bytes.clone()),
                    &signer,
                    &signing
                ));
            }
        }
    };
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(sv) = text::decode(s) {
            check(&sv);
        }
    }
    if let Ok(sv) = fvm_ipld_encoding::from_slice::<SignedVoucher>(data) {
        check(&sv);
        let bytes = fvm_ipld_encoding::to_vec(&sv).expect("re-encode");
        let again: SignedVoucher = fvm_ipld_encoding::from_slice(&bytes).expect("decode");
        assert_eq!(again, sv);
    }
}

/// Address text as the CLI reads it, and address bytes.
pub fn address(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(a) = addr::parse(s) {
            for network in [Network::Mainnet, Network::Testnet] {
                let printed = addr::format(&a, network);
                let again = addr::parse(&printed).expect("a printed address parses");
                assert_eq!(again, a, "{s:?} -> {printed:?}");
            }
            assert_eq!(
                Address::from_bytes(&a.to_bytes()).expect("bytes round-trip"),
                a
            );
        }
    }
    if let Ok(a) = Address::from_bytes(data) {
        assert_eq!(Address::from_bytes(&a.to_bytes()).expect("round-trip"), a);
    }
}

/// FIL amounts as the CLI reads and prints them.
pub fn amount(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = fil::parse_fil(s) else {
        return;
    };
    let printed = fil::format_fil(&value);
    match fil::parse_fil(&printed) {
        Ok(again) => assert_eq!(again, value, "{s:?} printed as {printed:?}"),
        // Like Lotus, the parser takes at most 50 characters of number; only
        // amounts far beyond the FIL supply print longer than that.
        Err(fil::AmountError::TooLong(_)) => {
            assert!(fil::fil_unitless(&value).len() > 50, "{s:?} -> {printed:?}")
        }
        Err(e) => panic!("{s:?} parsed, but its printed form {printed:?} does not: {e}"),
    }
    // In attoFIL the same value round-trips too.
    let atto = format!("{} attofil", value.atto());
    if atto.len() <= 58 {
        assert_eq!(fil::parse_fil(&atto).expect("atto form parses"), value);
    }
}
