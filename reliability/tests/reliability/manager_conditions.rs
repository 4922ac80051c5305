//! The payment-channel manager over conditional vouchers, against the actor
//! in the FVM: random sequences of creates (by the payer), adds (of vouchers
//! the payee received from elsewhere), submissions (with the right secret, a
//! wrong one or none) and epochs passing, with random conditions (secret
//! hashes, time lock windows, minimum settle heights, extra calls to a probe
//! that succeeds or one that fails, merges of other lanes).
//!
//! Properties, checked after every step for every stored voucher and every
//! secret the payee might hold: the manager's "spendable now"
//! (`voucher_spendable`) agrees with the actor's exit code for
//! UpdateChannelState from the payee in the next epoch (0 disagreements);
//! and no voucher the manager accepted is ever lost from the store.
//!
//! `PAYCH_MANAGER_SEQUENCES` (default 6) and `PAYCH_MANAGER_STEPS` (default
//! 10) scale it; `PAYCH_MANAGER_SEED` picks other sequences.

use paych_devnet::WalletOps;
use std::collections::BTreeMap;

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::{Merge, Method, ModVerifyParams, SignedVoucher, UpdateChannelStateParams};
use paych_client::{Key, voucher};
use paych_devnet::{Devnet, GenesisActor, GenesisOptions, MemoryRepo};
use paych_manager::{Conditions, PaychManager};
use paych_reliability::report::{env_count, write_counts};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

const MILLI: u64 = 1_000_000_000_000_000;
/// The secrets a voucher may be locked to; the payee knows the first.
const SECRETS: [&[u8]; 2] = [b"the secret", b"another secret"];

#[derive(Clone, Debug)]
struct Terms {
    /// Index into SECRETS.
    secret: Option<usize>,
    /// Window relative to the next epoch: (start offset, length), if any.
    window: Option<(i64, i64)>,
    /// Minimum settle height relative to the head.
    settle_height: Option<i64>,
    /// The probe called first: true succeeds, false fails.
    extra: Option<bool>,
    /// Merge another lane (0..4) up to its known nonce plus this.
    merge: Option<(u64, u64)>,
}

#[derive(Clone, Debug)]
enum Step {
    /// The payer creates a voucher through the manager.
    Create {
        lane: u64,
        milli: u64,
        terms: Terms,
    },
    /// The payee adds a payer-signed voucher made elsewhere.
    Receive {
        lane: u64,
        milli: u64,
        terms: Terms,
    },
    /// The payee submits a stored voucher (index modulo the store) with the
    /// known secret, a wrong one, or none.
    Submit {
        index: usize,
        secret: Option<usize>,
    },
    Advance {
        epochs: i64,
    },
}

fn terms() -> impl Strategy<Value = Terms> {
    (
        prop_oneof![2 => Just(None), 1 => (0usize..2).prop_map(Some)],
        prop_oneof![2 => Just(None), 1 => (-4i64..4, 0i64..6).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0i64..3000).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => any::<bool>().prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0u64..4, 1u64..3).prop_map(Some)],
    )
        .prop_map(|(secret, window, settle_height, extra, merge)| Terms {
            secret,
            window,
            settle_height,
            extra,
            merge,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u64..4, 1u64..400, terms()).prop_map(|(lane, milli, terms)| Step::Create { lane, milli, terms }),
        2 => (0u64..4, 1u64..400, terms()).prop_map(|(lane, milli, terms)| Step::Receive { lane, milli, terms }),
        3 => (any::<usize>(), prop_oneof![Just(None), (0usize..2).prop_map(Some)])
            .prop_map(|(index, secret)| Step::Submit { index, secret }),
        1 => (1i64..4).prop_map(|epochs| Step::Advance { epochs }),
    ]
}

struct World {
    net: Devnet<MemoryRepo>,
    channel: Address,
    channel_id: u64,
    payee_id: u64,
    payer_key: Key,
    probes: [Address; 2],
}

impl World {
    fn new() -> Self {
        let probe = |name: &[u8], exit_code: u32| GenesisActor {
            wasm: paych_bundle::wasm::TEST_PROBE.to_vec(),
            state: fvm_ipld_encoding::to_vec(&test_probe::State {
                config: test_probe::Config {
                    auth_reply: test_probe::auth_reply::TRUE,
                    exit_code,
                    ..Default::default()
                },
                calls: vec![],
            })
            .expect("encode"),
            alias: Address::new_actor(name),
            balance: TokenAmount::default(),
        };
        let probes = [probe(b"conditions ok", 0), probe(b"conditions fail", 33)];
        let probe_addresses = [probes[0].alias, probes[1].alias];
        let net = Devnet::init(
            MemoryRepo::new(),
            GenesisOptions {
                timestamp: Some(1_700_000_000),
                user_actors: probes.to_vec(),
                ..Default::default()
            },
        )
        .expect("devnet");
        let wallets = net.wallet_list().expect("wallets");
        let (payer, payee) = (wallets[0].address, wallets[1].address);
        let created = PaychManager::new(&net)
            .add_funds(&payer, &payee, &TokenAmount::from_whole(1))
            .expect("channel");
        let payer_key = net
            .wallet_export(&payer)
            .expect("export")
            .to_key()
            .expect("key");
        let payee_id = wallets[1].id.expect("payee on chain");
        Self {
            net,
            channel: created.channel,
            channel_id: created.id,
            payee_id,
            payer_key,
            probes: probe_addresses,
        }
    }

    fn conditions(&self, terms: &Terms, lane: u64) -> Conditions {
        let head = self.net.head().expect("head").epoch;
        let paych = PaychManager::new(&self.net);
        let stored = paych.voucher_list(&self.channel).expect("list").vouchers;
        let known_nonce = |l: u64| {
            stored
                .iter()
                .filter(|r| r.voucher.lane == l)
                .map(|r| r.voucher.nonce)
                .max()
                .unwrap_or(0)
        };
        let (time_lock_min, time_lock_max) = match terms.window {
            Some((start, length)) => {
                let min = (head + 1 + start).max(0);
                (min, min + length)
            }
            None => (0, 0),
        };
        Conditions {
            secret_hash: terms
                .secret
                .map(|i| actor_interfaces::blake2b_256(SECRETS[i]).to_vec())
                .unwrap_or_default(),
            time_lock_min,
            time_lock_max,
            min_settle_height: terms.settle_height.map(|h| head + h).unwrap_or(0),
            extra: terms.extra.map(|succeeds| ModVerifyParams {
                actor: self.probes[usize::from(!succeeds)],
                method: 7,
                data: RawBytes::new(vec![0x80]),
            }),
            merges: terms
                .merge
                .filter(|(other, _)| *other != lane)
                .map(|(other, up)| {
                    vec![Merge {
                        lane: other,
                        nonce: known_nonce(other) + up,
                    }]
                })
                .unwrap_or_default(),
        }
    }

    /// What the actor says, in the next epoch, of UpdateChannelState from the
    /// payee with `secret`.
    fn actor_accepts(&self, sv: &SignedVoucher, secret: &[u8]) -> bool {
        let params = RawBytes::serialize(UpdateChannelStateParams {
            sv: sv.clone(),
            secret: secret.to_vec(),
        })
        .expect("encode");
        let receipt = self
            .net
            .call(
                self.net.head().expect("head"),
                &Address::new_id(self.payee_id),
                &Address::new_id(self.channel_id),
                Method::UpdateChannelState as u64,
                params,
            )
            .expect("dry run");
        receipt.exit_code.is_success()
    }
}

fn run(
    world: &World,
    steps: &[Step],
    counts: &mut BTreeMap<String, u64>,
) -> Result<(), TestCaseError> {
    let paych = PaychManager::new(&world.net);
    let mut accepted: Vec<SignedVoucher> = Vec::new();
    let mut bump = |k: &str| *counts.entry(k.to_string()).or_default() += 1;
    for step in steps {
        bump("manager_steps");
        match step {
            Step::Create { lane, milli, terms } => {
                let conditions = world.conditions(terms, *lane);
                let amount = TokenAmount::from_atto(*milli * MILLI);
                if let Ok(created) =
                    paych.voucher_create_with(&world.channel, &amount, *lane, &conditions, true)
                {
                    bump("manager_vouchers_created");
                    accepted.push(created.voucher);
                }
            }
            Step::Receive { lane, milli, terms } => {
                let stored = paych.voucher_list(&world.channel).expect("list").vouchers;
                let nonce = stored
                    .iter()
                    .filter(|r| r.voucher.lane == *lane)
                    .map(|r| r.voucher.nonce)
                    .max()
                    .unwrap_or(0)
                    + 1;
                let mut sv = SignedVoucher::new(
                    world.channel,
                    *lane,
                    nonce,
                    TokenAmount::from_atto(*milli * MILLI),
                );
                let conditions = world.conditions(terms, *lane);
                sv.secret_pre_image = conditions.secret_hash;
                sv.time_lock_min = conditions.time_lock_min;
                sv.time_lock_max = conditions.time_lock_max;
                sv.min_settle_height = conditions.min_settle_height;
                sv.extra = conditions.extra;
                sv.merges = conditions.merges;
                voucher::sign(&mut sv, &world.payer_key);
                if paych
                    .voucher_add(&world.channel, &sv, &TokenAmount::default())
                    .is_ok()
                {
                    bump("manager_vouchers_received");
                    accepted.push(sv);
                }
            }
            Step::Submit { index, secret } => {
                let stored = paych.voucher_list(&world.channel).expect("list").vouchers;
                if stored.is_empty() {
                    continue;
                }
                let sv = &stored[index % stored.len()].voucher;
                let secret = secret.map(|i| SECRETS[i]).unwrap_or_default();
                if paych.voucher_submit(&world.channel, sv, secret).is_ok() {
                    bump("manager_vouchers_submitted");
                }
            }
            Step::Advance { epochs } => {
                world.net.advance(*epochs).expect("advance");
            }
        }
        // Nothing accepted is ever lost.
        let stored = paych.voucher_list(&world.channel).expect("list").vouchers;
        for sv in &accepted {
            prop_assert!(
                stored.iter().any(|r| r.voucher == *sv),
                "accepted voucher (lane {}, nonce {}) is gone from the store",
                sv.lane,
                sv.nonce
            );
        }
        // "Spendable now" agrees with the actor, for every stored voucher and
        // every secret the payee might present.
        for record in stored.iter().filter(|r| !r.submitted) {
            for secret in [&b""[..], SECRETS[0], SECRETS[1]] {
                let manager = paych
                    .voucher_spendable(&world.channel, &record.voucher, secret)
                    .expect("spendable");
                let actor = world.actor_accepts(&record.voucher, secret);
                bump("manager_verdicts");
                if manager {
                    bump("manager_verdicts_spendable");
                }
                if manager != actor {
                    bump("mismatches");
                }
                prop_assert_eq!(
                    manager,
                    actor,
                    "lane {} nonce {}: the manager says {}, the actor {}",
                    record.voucher.lane,
                    record.voucher.nonce,
                    manager,
                    actor
                );
            }
        }
    }
    Ok(())
}

#[test]
fn spendable_now_agrees_with_the_actor_and_no_accepted_voucher_is_lost() {
    let sequences = env_count("PAYCH_MANAGER_SEQUENCES", 6) as u32;
    let steps = env_count("PAYCH_MANAGER_STEPS", 10) as usize;
    let config = Config {
        cases: sequences,
        rng_seed: RngSeed::Fixed(env_count("PAYCH_MANAGER_SEED", 0x00c0_dd17)),
        failure_persistence: None,
        ..Config::default()
    };
    let mut counts = BTreeMap::new();
    let counts_cell = std::cell::RefCell::new(&mut counts);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(step(), steps), |steps| {
        let world = World::new();
        *counts_cell
            .borrow_mut()
            .entry("manager_sequences".into())
            .or_default() += 1;
        run(&world, &steps, &mut counts_cell.borrow_mut())
    });
    counts.entry("mismatches".into()).or_default();
    if result.is_err() {
        *counts.entry("mismatches".into()).or_default() += 1;
    }
    write_counts("manager-conditions", &counts);
    eprintln!("manager conditions: {counts:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        counts
            .get("manager_verdicts_spendable")
            .copied()
            .unwrap_or(0)
            > 0
    );
}
