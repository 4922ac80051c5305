//! The malformed-input table (`paych_reliability::malformed`) through real
//! messages in the FVM and through the native logic: every case ends with
//! its documented exit code and leaves the channel exactly as it was.

use std::collections::BTreeMap;

use fvm_ipld_encoding::RawBytes;
use fvm_ipld_encoding::ipld_block::IpldBlock;
use fvm_shared::econ::TokenAmount;
use fvm_shared::{ActorID, MethodNum};
use paych_actor::ActorKind;
use paych_integration_tests::HarnessBuilder;
use paych_reliability::malformed::{Caller, Context, table};
use paych_reliability::mock_driver::{self, MockChain, keys};
use paych_reliability::report::write_counts;
use paych_reliability::runner::Chain;

use crate::bundle;

#[test]
fn fvm_malformed_inputs_end_with_their_documented_codes_and_change_nothing() {
    let mut b = HarnessBuilder::new(bundle().clone()).expect("genesis");
    let payer = b.secp_account(TokenAmount::from_whole(1000));
    let payee = b.bls_account(TokenAmount::from_whole(1000));
    let stranger = b.secp_account(TokenAmount::from_whole(1000));
    let forwarder = b.probe(test_probe::Config::default(), TokenAmount::default());
    let mut h = b.build().expect("start");
    h.set_lenient(true);
    h.set_epoch(1);
    let channel = h.create_channel(&payer, &payee, TokenAmount::from_atto(1000));
    let payer_key = payer.key().clone();
    let sign = move |bytes: &[u8]| payer_key.sign(bytes);
    let cases = table(&Context {
        channel: channel.robust,
        sign_as_payer: &sign,
    });

    let before = h.view(channel.id).expect("channel");
    let mut failures = Vec::new();
    for case in &cases {
        let code = match case.caller {
            Caller::UserActor => {
                let forward = test_probe::ForwardParams::new(
                    channel.address(),
                    case.method,
                    RawBytes::new(case.params.clone()),
                );
                let ret = h.apply(
                    &case.label,
                    &payer,
                    forwarder.address(),
                    test_probe::FORWARD_METHOD,
                    RawBytes::serialize(forward).expect("encode"),
                    TokenAmount::default(),
                );
                if !ret.msg_receipt.exit_code.is_success() {
                    failures.push(format!("{}: the forwarder failed: {ret:?}", case.label));
                    continue;
                }
                ret.msg_receipt
                    .return_data
                    .deserialize::<u32>()
                    .expect("forwarder returns the inner exit code")
            }
            caller => {
                let party = match caller {
                    Caller::Payer => &payer,
                    Caller::Payee => &payee,
                    _ => &stranger,
                };
                let ret = h.call_raw(
                    &case.label,
                    party,
                    &channel,
                    case.method,
                    case.params.clone(),
                );
                if ret.msg_receipt.exit_code.value() != case.expected {
                    failures.push(format!(
                        "{}: expected exit code {}, got {}\n{}",
                        case.label,
                        case.expected,
                        ret.msg_receipt.exit_code.value(),
                        ret.failure_info.map(|f| f.to_string()).unwrap_or_default()
                    ));
                }
                ret.msg_receipt.exit_code.value()
            }
        };
        if case.caller == Caller::UserActor && code != case.expected {
            failures.push(format!(
                "{}: expected exit code {}, got {code}",
                case.label, case.expected
            ));
        }
        if h.view(channel.id).as_ref() != Some(&before) {
            failures.push(format!("{}: the channel changed", case.label));
        }
    }
    failures.extend(h.mismatches());

    let counts = BTreeMap::from([
        ("malformed_inputs_fvm".to_string(), cases.len() as u64),
        ("mismatches".to_string(), failures.len() as u64),
    ]);
    write_counts("malformed-fvm", &counts);
    eprintln!("FVM malformed inputs tried: {}", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A user (non-built-in) actor in the mock world.
const USER_ACTOR_ID: ActorID = 106;

#[test]
fn mock_malformed_inputs_end_with_their_documented_codes_and_change_nothing() {
    let mut chain = MockChain::new(&1000.into());
    chain.rt.add_actor(USER_ACTOR_ID, ActorKind::User, None);
    let sign = |bytes: &[u8]| keys().payer.sign(bytes);
    let cases = table(&Context {
        channel: mock_driver::mock_addresses().this,
        sign_as_payer: &sign,
    });
    let before = chain.observe();
    let root = chain.rt.state_root;
    let mut failures = Vec::new();
    for case in &cases {
        chain.rt.caller = match case.caller {
            Caller::Payer => mock_driver::PAYER_ID,
            Caller::Payee => mock_driver::PAYEE_ID,
            Caller::Stranger => mock_driver::STRANGER_ID,
            Caller::UserActor => USER_ACTOR_ID,
        };
        // As the FVM delivers message params: DAG-CBOR, none when empty.
        let params = (!case.params.is_empty()).then(|| IpldBlock {
            codec: fvm_ipld_encoding::DAG_CBOR,
            data: case.params.clone(),
        });
        let code = match paych_actor::dispatch(&mut chain.rt, case.method as MethodNum, params) {
            Ok(()) => 0,
            Err(e) => e.exit_code().value(),
        };
        if code != case.expected {
            failures.push(format!(
                "{}: expected exit code {}, got {code}",
                case.label, case.expected
            ));
        }
        if chain.rt.state_root != root || chain.observe() != before {
            failures.push(format!("{}: the channel changed", case.label));
        }
    }
    let counts = BTreeMap::from([
        ("malformed_inputs_mock".to_string(), cases.len() as u64),
        ("mismatches".to_string(), failures.len() as u64),
    ]);
    write_counts("malformed-mock", &counts);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
