//! The payment-channel manager over the in-memory repository, with the real
//! Wasm actors executed by the FVM: scenarios read like the walkthrough, with
//! balances checked after each step.

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::SETTLE_DELAY;
use paych_chain::SignedMessage;
use paych_client::{Key, KeyType, voucher};
use paych_devnet::WalletOps;
use paych_devnet::repo::VoucherOrigin;
use paych_devnet::{Devnet, ErrorKind, GenesisOptions, MemoryRepo, MessageSpec, Repo, SqliteRepo};
use paych_manager::rules::decode_voucher;
use paych_manager::{PaychManager, Phase};

fn fil(n: u64) -> TokenAmount {
    TokenAmount::from_whole(n)
}

fn devnet() -> (Devnet<MemoryRepo>, Address, Address, Address) {
    let net = Devnet::init(
        MemoryRepo::new(),
        GenesisOptions {
            timestamp: Some(1_700_000_000),
            ..Default::default()
        },
    )
    .unwrap();
    let wallets = net.wallet_list().unwrap();
    assert_eq!(wallets.len(), 3);
    (
        net,
        wallets[0].address,
        wallets[1].address,
        wallets[2].address,
    )
}

fn fees_of<R: Repo>(net: &Devnet<R>, who: &Address) -> TokenAmount {
    net.messages(usize::MAX)
        .unwrap()
        .iter()
        .filter(|m| m.message.from == *who)
        .map(|m| m.receipt.fee())
        .sum()
}

#[test]
fn walkthrough_story_moves_exactly_the_redeemed_funds_and_charges_gas() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    assert_eq!(net.balance(&payer).unwrap(), fil(1000));

    let created = paych.add_funds(&payer, &payee, &fil(10)).unwrap();
    assert!(created.created);
    assert_eq!(created.balance, fil(10));
    assert_eq!(
        created.channel.protocol(),
        fvm_shared::address::Protocol::Actor
    );
    let message = created.message.as_ref().expect("a create message");
    assert!(message.receipt.fee().is_positive(), "gas is charged");
    assert_eq!(message.message.gas_premium, TokenAmount::default());
    let ch = created.channel;

    let v1 = paych.voucher_create(&ch, &fil(2), 0).unwrap();
    let v2 = paych.voucher_create(&ch, &fil(4), 0).unwrap();
    assert_eq!((v1.voucher.nonce, v2.voucher.nonce), (1, 2));
    assert_eq!(v2.delta, fil(2));
    assert!(voucher::is_signed_by(&v2.voucher, &payer).unwrap());

    // The payee's check of the stored voucher is not confused by the voucher
    // itself (lotus #2582) and says it is already stored.
    let checked = paych.voucher_check(&ch, &v2.voucher).unwrap();
    assert_eq!(checked.already_stored, Some(VoucherOrigin::Created));
    assert_eq!(checked.delta, fil(2));
    assert!(checked.payee_in_wallet && checked.payer_in_wallet);
    // The older voucher is superseded by the newer one.
    let stale = paych.voucher_check(&ch, &v1.voucher).unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::StaleNonce, "{stale}");

    let topped = paych.add_funds(&payer, &payee, &fil(5)).unwrap();
    assert!(!topped.created);
    assert_eq!(topped.channel, ch);
    assert_eq!(topped.balance, fil(15));

    let settled = paych.settle(&ch, None).unwrap();
    assert_eq!(
        settled.message.message.from, payer,
        "the payer settles by default"
    );
    assert_eq!(settled.settling_at, settled.message.epoch + SETTLE_DELAY);

    let best = paych.best_spendable(&ch, &[]).unwrap();
    assert_eq!(best.vouchers, vec![v2.voucher.clone()]);
    let submitted = paych.voucher_submit(&ch, &v2.voucher, &[]).unwrap();
    assert_eq!(submitted.message.message.from, payee, "the payee redeems");
    assert_eq!(submitted.to_send, fil(4));
    assert_eq!(
        submitted.marked, 2,
        "the voucher and the lower nonce on its lane"
    );

    // After submission the superseded voucher is skipped, not an error
    // (lotus #2587), and nothing is left to spend.
    assert!(paych.best_spendable(&ch, &[]).unwrap().vouchers.is_empty());

    let early = paych.collect(&ch, None, false).unwrap_err();
    assert_eq!(early.kind(), ErrorKind::CollectTooEarly);
    assert!(
        early
            .message()
            .contains(&format!("from epoch {}", settled.settling_at)),
        "{early}"
    );

    let head = net.head().unwrap();
    net.advance(settled.settling_at - 1 - head.epoch).unwrap();
    let collected = paych.collect(&ch, None, false).unwrap();
    assert_eq!(
        collected.message.message.from, payee,
        "the payee collects by default"
    );
    assert_eq!(collected.paid_to_payee, fil(4));
    assert_eq!(collected.returned_to_payer, fil(11));

    let payer_fees = fees_of(&net, &payer);
    let payee_fees = fees_of(&net, &payee);
    assert_eq!(
        net.balance(&payer).unwrap(),
        fil(1000) - fil(15) + fil(11) - &payer_fees
    );
    assert_eq!(
        net.balance(&payee).unwrap(),
        fil(1000) + fil(4) - &payee_fees
    );

    // Status reconciles with the deleted actor (lotus #7877).
    let status = paych.status(&ch).unwrap();
    assert_eq!(
        status.phase,
        Phase::Collected {
            epoch: Some(collected.message.epoch)
        }
    );
    assert_eq!(status.balance, TokenAmount::default());
    let gone = paych.voucher_create(&ch, &fil(5), 0).unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::Collected);

    let verified = net.verify().unwrap();
    assert_eq!(verified.total_balance, fil(3000));
}

#[test]
fn settling_channels_take_no_vouchers_and_are_not_reused_by_add_funds() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    let first = paych.add_funds(&payer, &payee, &fil(3)).unwrap().channel;
    paych.voucher_create(&first, &fil(1), 0).unwrap();
    paych.settle(&first, None).unwrap();

    let refused = paych.voucher_create(&first, &fil(2), 0).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Settling);
    let again = paych.settle(&first, None).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Settling);

    let second = paych.add_funds(&payer, &payee, &fil(1)).unwrap();
    assert!(second.created, "a settling channel is never topped up");
    assert_ne!(second.channel, first);
    // A new channel has its own voucher history (lotus #2585).
    let v = paych.voucher_create(&second.channel, &fil(1), 0).unwrap();
    assert_eq!(v.voucher.nonce, 1);
    let by_pair = paych.status_by_from_to(&payer, &payee).unwrap().unwrap();
    assert_eq!(
        by_pair.channel, second.channel,
        "the open channel is preferred"
    );
    assert_eq!(paych.list().unwrap().len(), 2);
}

#[test]
fn vouchers_are_refused_beyond_the_channel_balance_with_the_shortfall() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    let ch = paych.add_funds(&payer, &payee, &fil(10)).unwrap().channel;
    paych.voucher_create(&ch, &fil(6), 0).unwrap();
    let err = paych.voucher_create(&ch, &fil(5), 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsufficientFunds);
    assert!(
        err.message()
            .starts_with("insufficient funds in channel, shortfall: 1000000000000000000"),
        "{err}"
    );
    // Lanes add up: 6 on lane 0 and 4 on lane 1 fit exactly.
    let v = paych.voucher_create(&ch, &fil(4), 1).unwrap();
    assert_eq!((v.voucher.lane, v.voucher.nonce), (1, 1));
    let not_more = paych.voucher_create(&ch, &fil(6), 0).unwrap_err();
    assert_eq!(
        not_more.kind(),
        ErrorKind::InvalidInput,
        "amounts are cumulative: {not_more}"
    );
}

#[test]
fn payee_side_checks_reject_foreign_signers_and_other_channels() {
    let (net, payer, payee, third) = devnet();
    let paych = PaychManager::new(&net);
    let ch = paych.add_funds(&payer, &payee, &fil(10)).unwrap().channel;
    let other = paych.add_funds(&third, &payee, &fil(10)).unwrap().channel;

    let mut forged = paych.voucher_create(&ch, &fil(1), 0).unwrap().voucher;
    forged.nonce = 7;
    let stranger = Key::generate(KeyType::Secp256k1);
    voucher::sign(&mut forged, &stranger);
    let err = paych.voucher_check(&ch, &forged).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongSigner);
    assert!(
        err.message()
            .contains(&paych_devnet::addr::show(&stranger.address())),
        "{err}"
    );

    let elsewhere = paych.voucher_create(&other, &fil(1), 0).unwrap().voucher;
    let err = paych.voucher_check(&ch, &elsewhere).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadVoucher);

    let err = decode_voucher("not a voucher").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadVoucher);

    let unknown = paych
        .voucher_check(&Address::new_id(4242), &elsewhere)
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::UnknownChannel);
}

#[test]
fn voucher_add_stores_once_and_reports_the_delta() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    let ch = paych.add_funds(&payer, &payee, &fil(10)).unwrap().channel;
    let v = paych.voucher_create(&ch, &fil(3), 2).unwrap().voucher;
    // A voucher received from elsewhere (not in the store): sign one as the
    // payer outside the store by exporting the payer's key.
    let key = net.wallet_export(&payer).unwrap().to_key().unwrap();
    let mut received = v.clone();
    received.nonce = 2;
    received.amount = fil(5);
    voucher::sign(&mut received, &key);
    let text = voucher::encode(&received);

    let added = paych
        .voucher_add(
            &ch,
            &decode_voucher(&text).unwrap(),
            &TokenAmount::default(),
        )
        .unwrap();
    assert!(added.added);
    assert_eq!(added.delta, fil(2));
    let again = paych
        .voucher_add(
            &ch,
            &decode_voucher(&text).unwrap(),
            &TokenAmount::default(),
        )
        .unwrap();
    assert_eq!(again.already_stored, Some(VoucherOrigin::Received));
    assert_eq!(
        again.delta,
        TokenAmount::default(),
        "a duplicate is a no-op"
    );
    let stored = paych.voucher_list(&ch).unwrap().vouchers;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        paych.voucher_create(&ch, &fil(6), 2).unwrap().voucher.nonce,
        3
    );
}

#[test]
fn message_pool_rejects_bad_signatures_and_nonces() {
    let (net, payer, payee, _) = devnet();
    let key = net.wallet_export(&payer).unwrap().to_key().unwrap();
    let head = net.head().unwrap();
    net.repo()
        .read(|store| {
            let message = fvm_shared::message::Message {
                version: 0,
                from: payer,
                to: payee,
                sequence: 0,
                value: fil(1),
                method_num: 0,
                params: RawBytes::default(),
                gas_limit: 10_000_000,
                gas_fee_cap: net.info().config.base_fee.clone(),
                gas_premium: TokenAmount::default(),
            };
            let good = SignedMessage::sign(message.clone(), &key);
            net.check_message(&net.state(store, &head.state_root)?, &[], &good)
                .unwrap();

            let mut tampered = good.clone();
            tampered.message.value = fil(2);
            let err = net
                .check_message(&net.state(store, &head.state_root)?, &[], &tampered)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Rejected);
            assert!(err.message().contains("signature"), "{err}");

            let stale = SignedMessage::sign(
                fvm_shared::message::Message {
                    sequence: 5,
                    ..message.clone()
                },
                &key,
            );
            assert!(
                net.check_message(&net.state(store, &head.state_root)?, &[], &stale)
                    .unwrap_err()
                    .message()
                    .contains("nonce")
            );

            let cheap = SignedMessage::sign(
                fvm_shared::message::Message {
                    gas_fee_cap: TokenAmount::from_atto(1),
                    ..message.clone()
                },
                &key,
            );
            assert!(
                net.check_message(&net.state(store, &head.state_root)?, &[], &cheap)
                    .unwrap_err()
                    .message()
                    .contains("base fee")
            );

            let other = Key::generate(KeyType::Secp256k1);
            let foreign = SignedMessage::sign(message, &other);
            assert_eq!(
                net.check_message(&net.state(store, &head.state_root)?, &[], &foreign)
                    .unwrap_err()
                    .kind(),
                ErrorKind::Rejected
            );
            Ok(())
        })
        .unwrap();

    // Nothing above touched the chain.
    assert_eq!(net.head().unwrap(), head);
}

#[test]
fn failed_commands_leave_the_chain_untouched() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    let ch = paych.add_funds(&payer, &payee, &fil(1)).unwrap().channel;
    let before = net.head().unwrap();
    let count = net.messages(usize::MAX).unwrap().len();

    let stranger = Key::generate(KeyType::Secp256k1).address();
    assert_eq!(
        paych
            .add_funds(&stranger, &payee, &fil(1))
            .unwrap_err()
            .kind(),
        ErrorKind::MissingKey
    );
    assert_eq!(
        paych
            .add_funds(&payer, &payee, &fil(5000))
            .unwrap_err()
            .kind(),
        ErrorKind::InsufficientFunds
    );
    assert_eq!(
        paych.collect(&ch, None, false).unwrap_err().kind(),
        ErrorKind::CollectTooEarly
    );
    let spec = MessageSpec {
        from: payer,
        to: ch,
        method: 4,
        params: RawBytes::default(),
        value: TokenAmount::default(),
    };
    let err = net.repo().write(|tx| net.push(tx, &spec)).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Rejected,
        "collect before settling fails on chain: {err}"
    );
    assert!(err.message().contains("ErrForbidden(18)"), "{err}");

    assert_eq!(net.head().unwrap(), before);
    assert_eq!(net.messages(usize::MAX).unwrap().len(), count);
}

#[test]
fn bls_wallets_pay_and_sign_vouchers() {
    let (net, payer, payee, _) = devnet();
    let paych = PaychManager::new(&net);
    let bls = net.wallet_new(KeyType::Bls).unwrap();
    net.send(&payer, &bls, &fil(20)).unwrap();
    assert_eq!(net.balance(&bls).unwrap(), fil(20));
    let ch = paych.add_funds(&bls, &payee, &fil(5)).unwrap().channel;
    let v = paych.voucher_create(&ch, &fil(2), 0).unwrap();
    assert_eq!(v.voucher.signature.as_ref().unwrap().bytes.len(), 96);
    paych.voucher_check(&ch, &v.voucher).unwrap();
    let submitted = paych.voucher_submit(&ch, &v.voucher, &[]).unwrap();
    assert_eq!(submitted.to_send, fil(2));
}

#[test]
fn sqlite_repo_never_gives_two_concurrent_creators_the_same_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let ch = {
        let net = Devnet::init(
            SqliteRepo::open(dir.path()).unwrap(),
            GenesisOptions::default(),
        )
        .unwrap();
        let wallets = net.wallet_list().unwrap();
        PaychManager::new(&net)
            .add_funds(&wallets[0].address, &wallets[1].address, &fil(100))
            .unwrap()
            .channel
    };
    // Four creators on lane 0, each with its own repository handle (as
    // separate processes have). Amounts interleave, so a creator that comes
    // after a larger voucher is refused ("amounts are cumulative"), but no two
    // vouchers ever share a nonce.
    let results: Vec<Result<u64, ErrorKind>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let path = dir.path().to_path_buf();
                scope.spawn(move || {
                    let net = Devnet::open(SqliteRepo::open(&path).unwrap()).unwrap();
                    let paych = PaychManager::new(&net);
                    (0..5u64)
                        .map(|i| {
                            let amount = TokenAmount::from_atto(1 + i * 4 + t);
                            paych
                                .voucher_create(&ch, &amount, 0)
                                .map(|v| v.voucher.nonce)
                                .map_err(|e| e.kind())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut nonces: Vec<u64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert!(!nonces.is_empty());
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(ErrorKind::InvalidInput))),
        "{results:?}"
    );
    nonces.sort();
    let expected: Vec<u64> = (1..=nonces.len() as u64).collect();
    assert_eq!(
        nonces, expected,
        "every successful create got its own next nonce"
    );

    let net = Devnet::open(SqliteRepo::open(dir.path()).unwrap()).unwrap();
    let stored = PaychManager::new(&net).voucher_list(&ch).unwrap().vouchers;
    let mut stored_nonces: Vec<u64> = stored.iter().map(|r| r.voucher.nonce).collect();
    stored_nonces.sort();
    assert_eq!(stored_nonces, expected);
    let amounts: Vec<TokenAmount> = stored.iter().map(|r| r.voucher.amount.clone()).collect();
    assert!(
        amounts.windows(2).all(|w| w[0] < w[1]),
        "amounts rise with nonces"
    );
}
