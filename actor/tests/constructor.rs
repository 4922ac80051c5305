//! Constructor (method 1): Init-only, party resolution (to first, then from),
//! the initial state (reference §6, §7 "Constructor").

mod common;

use common::*;
use fvm_ipld_blockstore::Blockstore;
use fvm_shared::error::{ErrorNumber, ExitCode};
use paych_actor::BuiltinType::{
    Account as ACCOUNT, EthAccount as ETHACCOUNT, Evm as EVM, Init as INIT, Multisig as MULTISIG,
    PaymentChannel as PAYMENT_CHANNEL, Placeholder as PLACEHOLDER, System as SYSTEM,
};
use paych_actor::mock::{ExpectedSend, exit_response, ok_response};
use paych_actor::{ActorKind, State};

fn expect_zero_send_creating(
    rt: &mut paych_actor::mock::MockRuntime,
    addr: fvm_shared::address::Address,
    creates: Option<(fvm_shared::address::Address, u64, ActorKind)>,
) {
    rt.expect_send(ExpectedSend {
        sent: zero_send(addr),
        result: ok_response::<()>(None),
        creates,
        reenters: None,
    });
}

#[test]
fn constructs_channel_between_id_addressed_accounts() {
    let mut rt = new_runtime();
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYEE_ID)),
    );

    let st = rt.state();
    assert_eq!(st.from, id(PAYER_ID));
    assert_eq!(st.to, id(PAYEE_ID));
    assert!(st.to_send.is_zero());
    assert_eq!(st.settling_at, 0);
    assert_eq!(st.min_settle_height, 0);
    assert_eq!(st.lane_states, empty_lanes_cid());
    assert!(lanes(&rt).is_empty());
    assert!(
        rt.sent.is_empty(),
        "ID parties need no sends: {:?}",
        rt.sent
    );
}

#[test]
fn stores_state_as_dag_cbor_six_tuple_with_empty_bitwidth_3_amt() {
    let rt = create_channel();
    let root = rt.state_root.unwrap();
    assert_eq!(root.codec(), 0x71, "state is DAG-CBOR");
    assert_eq!(root.hash().code(), 0xb220, "state CIDs are blake2b-256");

    let lanes_cid = rt.state().lane_states;
    let mut expected = hex("86 420066 420067 40 00 00 d82a 5827 00");
    expected.extend(lanes_cid.to_bytes());
    assert_eq!(rt.store.get(&root).unwrap().unwrap(), expected);

    // AMT v3 root [bit_width 3, height 0, count 0, [bmap 1 byte, [], []]].
    assert_eq!(lanes_cid.codec(), 0x71);
    assert_eq!(
        rt.store.get(&lanes_cid).unwrap().unwrap(),
        hex("84 03 00 00 83 4100 80 80")
    );
}

#[test]
fn rejects_constructor_from_caller_that_is_not_init() {
    for caller_kind in [
        ActorKind::Builtin(ACCOUNT),
        ActorKind::Builtin(SYSTEM),
        ActorKind::Builtin(MULTISIG),
        ActorKind::Builtin(PAYMENT_CHANNEL),
        ActorKind::Builtin(PLACEHOLDER),
        ActorKind::Builtin(ETHACCOUNT),
    ] {
        let mut rt = new_runtime();
        rt.add_actor(200, caller_kind, None);
        let params = constructor_params(id(PAYER_ID), id(PAYEE_ID));
        expect_abort(&mut rt, 200, CONSTRUCTOR, params, ExitCode::USR_FORBIDDEN);
        assert!(
            rt.state_root.is_none(),
            "{caller_kind:?} constructed the channel"
        );
        assert!(rt.sent.is_empty());
    }
}

#[test]
fn rejects_constructor_from_evm_user_or_missing_caller_at_the_gate() {
    for caller_kind in [ActorKind::Builtin(EVM), ActorKind::User, ActorKind::Missing] {
        let mut rt = new_runtime();
        rt.add_actor(200, caller_kind, None);
        let params = constructor_params(id(PAYER_ID), id(PAYEE_ID));
        expect_abort(&mut rt, 200, CONSTRUCTOR, params, ExitCode::USR_FORBIDDEN);
        assert!(rt.state_root.is_none());
    }
}

#[test]
fn rejects_to_id_without_code_before_resolving_from() {
    // actor_doesnt_exist_test: `to` is an ID with no actor; `from` is an
    // unresolvable secp address that would need a send, but `to` is resolved
    // first, so no send happens. (The reference test uses f0100, the channel
    // itself, which has code in this mock as it does on chain; f0199 has none.)
    let mut rt = new_runtime();
    let params = constructor_params(secp_addr(2), id(199));
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_NOT_FOUND,
    );
    assert!(rt.sent.is_empty(), "no zero send expected: {:?}", rt.sent);
}

#[test]
fn rejects_from_id_without_code() {
    let mut rt = new_runtime();
    let params = constructor_params(id(199), id(PAYEE_ID));
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_NOT_FOUND,
    );
}

#[test]
fn rejects_key_address_that_resolves_to_an_id_without_code() {
    let mut rt = new_runtime();
    let payee_key = bls_addr(7);
    rt.addresses.insert(payee_key, 199);
    let params = constructor_params(id(PAYER_ID), payee_key);
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_NOT_FOUND,
    );
    assert!(rt.sent.is_empty());
}

#[test]
fn rejects_new_key_address_that_resolves_to_an_id_without_code_after_zero_send() {
    // The existence check also applies to the second resolution.
    let mut rt = new_runtime();
    let payee_key = bls_addr(7);
    expect_zero_send_creating(
        &mut rt,
        payee_key,
        Some((payee_key, 320, ActorKind::Missing)),
    );
    let params = constructor_params(id(PAYER_ID), payee_key);
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_NOT_FOUND,
    );
    assert_eq!(rt.sent, vec![zero_send(payee_key)]);
}

#[test]
fn resolves_known_key_addresses_to_ids() {
    // create_paych_actor_after_resolving_to_id_address
    let mut rt = new_runtime();
    let (payer_key, payee_key) = (bls_addr(1), bls_addr(2));
    rt.addresses.insert(payer_key, PAYER_ID);
    rt.addresses.insert(payee_key, PAYEE_ID);
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(payer_key, payee_key),
    );
    let st = rt.state();
    assert_eq!((st.from, st.to), (id(PAYER_ID), id(PAYEE_ID)));
    assert!(
        rt.sent.is_empty(),
        "known addresses need no sends: {:?}",
        rt.sent
    );
}

#[test]
fn creates_accounts_for_new_key_addresses_to_first_then_from() {
    let mut rt = new_runtime();
    let (payer_key, payee_key) = (secp_addr(1), bls_addr(2));
    // `to` is resolved (and created) before `from`.
    expect_zero_send_creating(
        &mut rt,
        payee_key,
        Some((payee_key, 301, ActorKind::Builtin(ACCOUNT))),
    );
    expect_zero_send_creating(
        &mut rt,
        payer_key,
        Some((payer_key, 300, ActorKind::Builtin(ACCOUNT))),
    );
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(payer_key, payee_key),
    );
    let st = rt.state();
    assert_eq!((st.from, st.to), (id(300), id(301)));
    assert_eq!(rt.sent, vec![zero_send(payee_key), zero_send(payer_key)]);
}

#[test]
fn creates_placeholder_for_new_delegated_address() {
    let mut rt = new_runtime();
    let f4 = fvm_shared::address::Address::new_delegated(10, &[0xab; 20]).unwrap();
    expect_zero_send_creating(
        &mut rt,
        f4,
        Some((f4, 310, ActorKind::Builtin(PLACEHOLDER))),
    );
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), f4),
    );
    assert_eq!(rt.state().to, id(310));
}

#[test]
fn rejects_from_still_unresolvable_after_zero_send() {
    // sendr_addr_not_resolvable_to_id_addr
    let mut rt = new_runtime();
    let payer_key = bls_addr(1);
    expect_zero_send_creating(&mut rt, payer_key, None);
    let params = constructor_params(payer_key, id(PAYEE_ID));
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.sent, vec![zero_send(payer_key)]);
}

#[test]
fn rejects_to_still_unresolvable_after_zero_send() {
    // target_addr_not_resolvable_to_id_addr: `from` is never looked at.
    let mut rt = new_runtime();
    let payee_key = bls_addr(2);
    expect_zero_send_creating(&mut rt, payee_key, None);
    let params = constructor_params(secp_addr(9), payee_key);
    expect_abort(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        params,
        ExitCode::USR_ILLEGAL_ARGUMENT,
    );
    assert_eq!(rt.sent, vec![zero_send(payee_key)]);
}

#[test]
fn propagates_failure_of_the_zero_send() {
    // A callee's exit code is checked-mapped; a refused send maps by its
    // syscall error.
    let cases = [
        (
            exit_response(ExitCode::USR_FORBIDDEN),
            ExitCode::USR_FORBIDDEN,
        ),
        (exit_response(ExitCode::new(40)), ExitCode::new(40)),
        (
            exit_response(ExitCode::SYS_OUT_OF_GAS),
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (
            exit_response(ExitCode::SYS_MISSING_RETURN),
            ExitCode::USR_UNSPECIFIED,
        ),
        (Err(ErrorNumber::NotFound), ExitCode::USR_UNSPECIFIED),
        (
            Err(ErrorNumber::InsufficientFunds),
            ExitCode::USR_INSUFFICIENT_FUNDS,
        ),
        (
            Err(ErrorNumber::LimitExceeded),
            ExitCode::USR_ASSERTION_FAILED,
        ),
    ];
    for (result, code) in cases {
        let mut rt = new_runtime();
        let payee_key = bls_addr(2);
        rt.expect_send(ExpectedSend {
            sent: zero_send(payee_key),
            result,
            creates: None,
            reenters: None,
        });
        let params = constructor_params(id(PAYER_ID), payee_key);
        expect_abort(&mut rt, INIT_ID, CONSTRUCTOR, params, code);
    }
}

#[test]
fn accepts_parties_of_any_actor_type() {
    // No account requirement since v10: any party with code is accepted.
    for (from_kind, to_kind) in [
        (
            ActorKind::Builtin(PLACEHOLDER),
            ActorKind::Builtin(ETHACCOUNT),
        ),
        (ActorKind::Builtin(MULTISIG), ActorKind::Builtin(EVM)),
        (ActorKind::User, ActorKind::Builtin(PAYMENT_CHANNEL)),
    ] {
        let mut rt = new_runtime();
        rt.add_actor(400, from_kind, None);
        rt.add_actor(401, to_kind, None);
        call_ok(
            &mut rt,
            INIT_ID,
            CONSTRUCTOR,
            constructor_params(id(400), id(401)),
        );
        let st: State = rt.state();
        assert_eq!((st.from, st.to), (id(400), id(401)));
    }
}

#[test]
fn accepts_the_same_party_on_both_sides() {
    let mut rt = new_runtime();
    call_ok(
        &mut rt,
        INIT_ID,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYER_ID)),
    );
    let st = rt.state();
    assert_eq!((st.from, st.to), (id(PAYER_ID), id(PAYER_ID)));
}

#[test]
fn init_type_not_id_decides_who_may_construct() {
    // Any actor whose code is Init may construct, whatever its ID.
    let mut rt = new_runtime();
    rt.add_actor(77, ActorKind::Builtin(INIT), None);
    call_ok(
        &mut rt,
        77,
        CONSTRUCTOR,
        constructor_params(id(PAYER_ID), id(PAYEE_ID)),
    );
    assert_eq!(rt.state().to, id(PAYEE_ID));
}
