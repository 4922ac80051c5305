//! The built-in actors as a payment channel sees them: as signers
//! (AuthenticateMessage) and as the targets of a voucher's `extra` call. The
//! expected codes are the real actors'; the suite runs these scenarios on the
//! devnet stand-ins and, with `PAYCH_BUILTIN_BUNDLE`, on a real bundle, so
//! both are held to them.

use actor_interfaces::account::{PUBKEY_ADDRESS_METHOD, UNIVERSAL_RECEIVER_HOOK_METHOD};
use actor_interfaces::builtin::INIT_ACTOR_ID;
use actor_interfaces::init::{EXEC_METHOD, EXEC4_METHOD, Exec4Params, ExecParams};
use paych_actor::{ConstructorParams, FIRST_EXPORTED_METHOD_NUMBER};

use super::*;

/// An f410 (EVM-style) address.
fn eth_address(byte: u8) -> Address {
    Address::new_delegated(10, &[byte; 20]).expect("f410 address")
}

/// A placeholder (what the FVM creates for a new f410 address) and an
/// EthAccount (what it becomes once its key sends), installed at genesis as
/// the FVM creates them: empty state, the f410 address as their own.
fn genesis_with_eth_actors(bundle: &Bundle) -> (HarnessBuilder, Party, Party, Party, Party) {
    let (mut b, payer, payee) = genesis(bundle);
    let empty: [(); 0] = [];
    let install = |b: &mut HarnessBuilder, builtin: BuiltinType, byte: u8| Party {
        id: b.builtin_actor(builtin.name(), &empty, &eth_address(byte), atto(0)),
        key: None,
    };
    let placeholder = install(&mut b, BuiltinType::Placeholder, 0x51);
    let ethaccount = install(&mut b, BuiltinType::EthAccount, 0x52);
    (b, payer, payee, placeholder, ethaccount)
}

/// A voucher signed by a placeholder (a new f410 address) or an EthAccount
/// cannot be authenticated: both answer AuthenticateMessage with nothing, and
/// the channel reports a missing return value as 24.
pub fn placeholder_and_ethaccount_signers_give_24(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, _, _, ethaccount) = genesis_with_eth_actors(bundle);
    let mut h = start(b, lenient);
    // The constructor's zero-value send creates the placeholder.
    let (ret, placeholder_channel) = h.try_create_channel(
        "to a new f410 address",
        &payer,
        payer.address(),
        eth_address(0x42),
        atto(100),
    );
    h.expect_ok("to a new f410 address", &ret);
    let ethaccount_channel = h.create_channel(&payer, &ethaccount, atto(100));
    for (channel, signer) in [
        (placeholder_channel.expect("channel"), "placeholder"),
        (ethaccount_channel, "EthAccount"),
    ] {
        let before = h.view(channel.id);
        let mut sv = h.voucher(&channel, 0, 1, atto(5));
        sv.signature = any_signature();
        let label = format!("voucher signed by a {signer}");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, ExitCode::USR_ASSERTION_FAILED);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before,
        );
    }
    h
}

/// A voucher's `extra` call reaches any actor with any method and the
/// voucher's data as CBOR parameters (always a parameter block). Each
/// built-in answers as the real one: the account's PubkeyAddress takes no
/// parameters (16), its other exported methods return nothing, its
/// constructor is the system actor's (18); a placeholder returns nothing to
/// everything; an EthAccount returns nothing to exported methods and 22 to
/// internal ones; init's Exec4 is the EAM's (18) once its parameters decode.
pub fn built_ins_answer_extra_calls_as_the_real_ones(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee, placeholder, ethaccount) = genesis_with_eth_actors(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(100_000));
    let init = Address::new_id(INIT_ACTOR_ID);
    let exec4 = Exec4Params {
        code_cid: h.paych_code(),
        constructor_params: RawBytes::default(),
        subaddress: RawBytes::new(vec![1; 20]),
    };
    let exported = FIRST_EXPORTED_METHOD_NUMBER + 7;
    let cases: Vec<(&str, Address, MethodNum, Vec<u8>, ExitCode)> = vec![
        (
            "account PubkeyAddress with parameters",
            payee.address(),
            PUBKEY_ADDRESS_METHOD,
            vec![0x80],
            CODE_16,
        ),
        (
            "account receiver hook",
            payee.address(),
            UNIVERSAL_RECEIVER_HOOK_METHOD,
            vec![0x80],
            ExitCode::OK,
        ),
        (
            "account exported method",
            payee.address(),
            exported,
            vec![1, 2, 3],
            ExitCode::OK,
        ),
        (
            "account constructor",
            payee.address(),
            1,
            cbor(&payee.key_address()),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "account internal method 5",
            payee.address(),
            5,
            vec![0x80],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        (
            "placeholder internal method",
            placeholder.address(),
            2,
            vec![0x80],
            ExitCode::OK,
        ),
        (
            "placeholder exported method",
            placeholder.address(),
            exported,
            vec![0x80],
            ExitCode::OK,
        ),
        (
            "EthAccount internal method",
            ethaccount.address(),
            2,
            vec![0x80],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        (
            "EthAccount exported method",
            ethaccount.address(),
            exported,
            vec![0x80],
            ExitCode::OK,
        ),
        (
            "EthAccount constructor with parameters",
            ethaccount.address(),
            1,
            vec![0x80],
            CODE_16,
        ),
        (
            "init Exec4 from a payment channel",
            init,
            EXEC4_METHOD,
            cbor(&exec4),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "init Exec4 with undecodable parameters",
            init,
            EXEC4_METHOD,
            vec![0x80],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "init constructor",
            init,
            1,
            cbor(&("network",)),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "init internal method 5",
            init,
            5,
            vec![0x80],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
    ];
    let mut redeemed = atto(0);
    for (lane, (label, actor, method, data, expected)) in cases.into_iter().enumerate() {
        let before = h.view(channel.id);
        let mut sv = h.voucher(&channel, lane as u64, 1, atto(1));
        sv.extra = Some(ModVerifyParams {
            actor,
            method,
            data: RawBytes::new(data),
        });
        Harness::sign(&mut sv, &payee);
        let label = format!("extra call: {label}");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, expected);
        if expected.is_success() {
            redeemed += atto(1);
        } else {
            h.expect_eq(
                &format!("{label}: state unchanged"),
                h.view(channel.id),
                before,
            );
        }
    }
    h.expect_eq(
        "the vouchers whose extra call succeeded",
        h.view(channel.id).expect("channel").state.to_send,
        redeemed,
    );
    h
}

/// Internal methods (below 2^24) of the built-in actors are for built-in
/// callers: a user actor calling the account's PubkeyAddress, init's Exec or
/// an EthAccount's internal method is refused (18), whatever the method does.
pub fn built_ins_refuse_user_actor_callers(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee, placeholder, ethaccount) = genesis_with_eth_actors(bundle);
    let user = b.probe(Config::default(), atto(0));
    let mut h = start(b, lenient);
    let exec = ExecParams {
        code_cid: h.paych_code(),
        constructor_params: RawBytes::serialize(ConstructorParams {
            from: payer.address(),
            to: payee.address(),
        })
        .expect("encode"),
    };
    let cases = [
        (
            "user actor calls account PubkeyAddress",
            ForwardParams::new(payee.address(), PUBKEY_ADDRESS_METHOD, RawBytes::default()),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "user actor calls init Exec for a payment channel",
            ForwardParams::new(
                Address::new_id(INIT_ACTOR_ID),
                EXEC_METHOD,
                RawBytes::serialize(exec).expect("encode"),
            ),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "user actor calls an EthAccount internal method",
            ForwardParams::new(ethaccount.address(), 2, RawBytes::default()),
            ExitCode::USR_FORBIDDEN,
        ),
        (
            "user actor calls a placeholder",
            ForwardParams::new(placeholder.address(), 2, RawBytes::default()),
            ExitCode::OK,
        ),
    ];
    for (label, call, expected) in cases {
        let code = forward(&mut h, label, &payer, &user, call);
        h.expect_eq(label, code, expected.value());
    }
    h
}

/// CBOR of `value`, for a parameter block.
fn cbor(value: &impl serde::Serialize) -> Vec<u8> {
    fvm_ipld_encoding::to_vec(value).expect("encode")
}
