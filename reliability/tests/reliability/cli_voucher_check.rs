//! The CLI's voucher decoding and checking path (`decode_voucher` then
//! `PaychManager::voucher_check`, what `paych voucher check` / `add` run) on
//! random input over an in-memory devnet with the real Wasm actor: arbitrary
//! text, corrupted encodings of valid vouchers, and well-formed vouchers with
//! random fields, signers and conditions (extra calls, time locks, secret
//! hashes, merges).
//!
//! Properties: nothing panics; whatever the check accepts is signed by the
//! payer and names this channel; if the check says it is spendable now,
//! `voucher submit` redeems it on chain with exit code 0, and if it says the
//! voucher waits (for its window or its secret), the voucher carries that
//! condition and submitting it now fails; and a voucher that is plainly valid
//! (payer-signed, this channel, no conditions, newer nonce, higher amount,
//! within the balance) is never refused.
//!
//! `PAYCH_CLI_CHECK_CASES` (default 48) scales it.

use paych_devnet::WalletOps;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::{MAX_LANE, Merge, SignedVoucher};
use paych_client::{Key, voucher};
use paych_devnet::{Devnet, GenesisOptions, MemoryRepo};
use paych_manager::rules::decode_voucher;
use paych_manager::{PaychManager, Spendable, Waiting};
use paych_reliability::report::{env_count, write_counts};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signer {
    Payer,
    Payee,
    Stranger,
    Nobody,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    This,
    ThisById,
    Other,
    Nowhere,
}

#[derive(Clone, Debug)]
enum Input {
    /// Any text at all.
    Text(String),
    /// A valid voucher's CBOR with bytes overwritten, in Lotus's text form.
    Corrupted { lane: u64, edits: Vec<(usize, u8)> },
    /// A well-formed voucher.
    Built {
        lane: u64,
        /// Relative to the lane's last redeemed nonce.
        nonce_delta: i64,
        /// Relative to the lane's last redeemed amount, in milliFIL.
        amount_delta: i64,
        target: Target,
        signer: Signer,
        /// 0 none, 1 extra, 2 time lock, 3 secret hash, 4 a merge, 5 a window
        /// that opens later, 6 a window that has closed.
        oddity: u8,
    },
}

fn input() -> impl Strategy<Value = Input> {
    let lane = prop_oneof![8 => 0u64..3, 1 => Just(MAX_LANE), 1 => Just(MAX_LANE + 1)];
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..160)
            .prop_map(|b| Input::Text(String::from_utf8_lossy(&b).into_owned())),
        2 => "[A-Za-z0-9_-]{0,160}".prop_map(Input::Text),
        3 => (0u64..3, proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4))
            .prop_map(|(lane, edits)| Input::Corrupted { lane, edits }),
        8 => (
            lane,
            -1i64..3,
            -2i64..6,
            prop_oneof![
                8 => Just(Target::This),
                2 => Just(Target::ThisById),
                1 => Just(Target::Other),
                1 => Just(Target::Nowhere),
            ],
            prop_oneof![
                8 => Just(Signer::Payer),
                1 => Just(Signer::Payee),
                1 => Just(Signer::Stranger),
                1 => Just(Signer::Nobody),
            ],
            prop_oneof![12 => Just(0u8), 6 => 1u8..7],
        )
            .prop_map(
                |(lane, nonce_delta, amount_delta, target, signer, oddity)| Input::Built {
                    lane,
                    nonce_delta,
                    amount_delta,
                    target,
                    signer,
                    oddity,
                },
            ),
    ]
}

const MILLI: u64 = 1_000_000_000_000_000;

struct World {
    net: Devnet<MemoryRepo>,
    channel: Address,
    channel_id: Address,
    other: Address,
    keys: HashMap<&'static str, Key>,
    /// lane → (nonce, amount in milliFIL) last redeemed through the CLI.
    redeemed: RefCell<BTreeMap<u64, (u64, u64)>>,
}

impl World {
    fn new() -> Self {
        let net = Devnet::init(
            MemoryRepo::new(),
            GenesisOptions {
                timestamp: Some(1_700_000_000),
                ..Default::default()
            },
        )
        .expect("devnet");
        let wallets = net.wallet_list().expect("wallets");
        let (payer, payee, stranger) = (wallets[0].address, wallets[1].address, wallets[2].address);
        let paych = PaychManager::new(&net);
        let created = paych
            .add_funds(&payer, &payee, &TokenAmount::from_whole(10))
            .expect("channel");
        let other = paych
            .add_funds(&payer, &stranger, &TokenAmount::from_whole(1))
            .expect("other channel");
        let key = |a: &Address| net.wallet_export(a).expect("export").to_key().expect("key");
        let keys = HashMap::from([
            ("payer", key(&payer)),
            ("payee", key(&payee)),
            ("stranger", key(&stranger)),
        ]);
        Self {
            channel: created.channel,
            channel_id: Address::new_id(created.id),
            other: other.channel,
            keys,
            net,
            redeemed: RefCell::new(BTreeMap::new()),
        }
    }

    fn voucher(&self, lane: u64, nonce: u64, milli: u64) -> SignedVoucher {
        SignedVoucher::new(
            self.channel,
            lane,
            nonce,
            TokenAmount::from_atto(milli as u128 * MILLI as u128),
        )
    }

    fn sign(&self, sv: &mut SignedVoucher, who: &str) {
        voucher::sign(sv, &self.keys[who]);
    }

    /// The voucher text for `input`, and whether it is plainly valid.
    fn text(&self, input: &Input) -> (String, bool) {
        let redeemed = self.redeemed.borrow();
        let known = |lane: u64| redeemed.get(&lane).copied().unwrap_or((0, 0));
        match input {
            Input::Text(t) => (t.clone(), false),
            Input::Corrupted { lane, edits } => {
                let (nonce, milli) = known(*lane);
                let mut sv = self.voucher(*lane, nonce + 1, milli + 1);
                self.sign(&mut sv, "payer");
                let mut bytes = fvm_ipld_encoding::to_vec(&sv).expect("encode");
                let original = bytes.clone();
                for (at, byte) in edits {
                    let i = at % bytes.len();
                    bytes[i] = *byte;
                }
                let text = data_encoding::BASE64URL_NOPAD.encode(&bytes);
                (text, bytes == original)
            }
            Input::Built {
                lane,
                nonce_delta,
                amount_delta,
                target,
                signer,
                oddity,
            } => {
                let (nonce, milli) = known(*lane);
                let nonce = (nonce as i64 + nonce_delta).max(0) as u64;
                let amount = (milli as i64 + amount_delta).max(0) as u64;
                let mut sv = self.voucher(*lane, nonce, amount);
                sv.channel_addr = match target {
                    Target::This => self.channel,
                    Target::ThisById => self.channel_id,
                    Target::Other => self.other,
                    Target::Nowhere => Address::new_actor(b"cli check nowhere"),
                };
                match oddity {
                    1 => {
                        sv.extra = Some(paych_actor::ModVerifyParams {
                            actor: Address::new_id(1),
                            method: 7,
                            data: Default::default(),
                        })
                    }
                    2 => sv.time_lock_max = 1_000_000,
                    5 => sv.time_lock_min = 1_000_000,
                    6 => sv.time_lock_max = 1,
                    3 => sv.secret_pre_image = vec![7; 32],
                    4 => sv.merges = vec![Merge { lane: 1, nonce: 50 }],
                    _ => {}
                }
                match signer {
                    Signer::Payer => self.sign(&mut sv, "payer"),
                    Signer::Payee => self.sign(&mut sv, "payee"),
                    Signer::Stranger => self.sign(&mut sv, "stranger"),
                    Signer::Nobody => {}
                }
                let total: u64 = redeemed.values().map(|(_, m)| m).sum::<u64>() - milli + amount;
                let valid = *signer == Signer::Payer
                    && matches!(target, Target::This | Target::ThisById)
                    && *oddity == 0
                    && *lane <= MAX_LANE
                    && nonce > known(*lane).0
                    && amount > milli
                    && total <= 10_000;
                (voucher::encode(&sv), valid)
            }
        }
    }
}

#[test]
fn cli_voucher_check_accepts_only_what_the_chain_redeems() {
    let cases = env_count("PAYCH_CLI_CHECK_CASES", 48) as u32;
    let world = World::new();
    let payer = world.keys["payer"].address();
    let counts = RefCell::new(BTreeMap::<String, u64>::new());
    let bump = |k: &str| *counts.borrow_mut().entry(k.to_string()).or_default() += 1;

    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(0x0c11_c4ec),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&input(), |input| {
        let (text, plainly_valid) = world.text(&input);
        bump("cli_voucher_inputs");
        let paych = PaychManager::new(&world.net);
        match decode_voucher(&text).and_then(|sv| paych.voucher_check(&world.channel, &sv)) {
            Err(e) => {
                prop_assert!(
                    !plainly_valid,
                    "a plainly valid voucher was refused: {e} ({input:?})"
                );
            }
            Ok(checked) => {
                bump("cli_vouchers_accepted");
                let sv = &checked.voucher;
                prop_assert!(voucher::is_signed_by(sv, &payer).unwrap_or(false));
                prop_assert!(
                    sv.channel_addr == world.channel || sv.channel_addr == world.channel_id
                );
                let submitted = decode_voucher(&text)
                    .and_then(|sv| paych.voucher_submit(&world.channel, &sv, &[]));
                match &checked.spendable {
                    Spendable::Now => {}
                    // It waits for its window or its secret, or its window
                    // closed: the voucher carries that condition, and the
                    // chain refuses it now.
                    Spendable::Later(waiting) => {
                        for w in waiting {
                            match w {
                                Waiting::Epoch { epoch } => {
                                    prop_assert_eq!(*epoch, sv.time_lock_min)
                                }
                                Waiting::Secret => prop_assert!(!sv.secret_pre_image.is_empty()),
                            }
                        }
                        prop_assert!(submitted.is_err(), "{input:?} was redeemed while waiting");
                        bump("cli_vouchers_waiting");
                        return Ok(());
                    }
                    Spendable::Expired { at } => {
                        prop_assert_eq!(*at, sv.time_lock_max);
                        prop_assert!(submitted.is_err(), "{input:?} was redeemed after expiry");
                        bump("cli_vouchers_expired");
                        return Ok(());
                    }
                }
                // What the CLI calls spendable now, the chain redeems.
                let submitted = match submitted {
                    Ok(s) => s,
                    Err(e) => {
                        return Err(TestCaseError::fail(format!(
                            "checked, but the submission failed: {e} ({input:?})"
                        )));
                    }
                };
                prop_assert_eq!(submitted.message.receipt.exit_code.value(), 0);
                let milli = sv.amount.atto() / MILLI;
                let milli: u64 = milli.try_into().expect("small amounts");
                let mut redeemed = world.redeemed.borrow_mut();
                redeemed.insert(sv.lane, (sv.nonce, milli));
                for merge in &sv.merges {
                    if let Some(lane) = redeemed.get_mut(&merge.lane) {
                        lane.0 = merge.nonce;
                    }
                }
                bump("cli_vouchers_redeemed");
            }
        }
        Ok(())
    });
    let mut counts = counts.into_inner();
    counts.insert("mismatches".into(), u64::from(result.is_err()));
    write_counts("cli-voucher-check", &counts);
    eprintln!("CLI voucher check: {counts:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(counts.get("cli_vouchers_redeemed").copied().unwrap_or(0) > 0);
}
