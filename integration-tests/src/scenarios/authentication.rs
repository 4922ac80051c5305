use super::*;

/// The payee is a probe whose AuthenticateMessage reply is chosen; the payer
/// submits vouchers "signed" by it. Each reply maps to the reference's code.
pub fn authenticate_message_outcomes(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, _) = genesis(bundle);
    let probe = b.probe(Config::default(), atto(0));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &probe, atto(1000));
    let cases = [
        ("reply false", auth_reply::FALSE, 0, CODE_16),
        (
            "no return value",
            auth_reply::NO_VALUE,
            0,
            ExitCode::USR_ASSERTION_FAILED,
        ),
        (
            "undecodable return",
            auth_reply::GARBAGE,
            0,
            ExitCode::USR_SERIALIZATION,
        ),
        ("signer exits 16", auth_reply::EXIT, 16, CODE_16),
        (
            "signer exits 22",
            auth_reply::EXIT,
            22,
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        // An actor cannot exit with a system code: the FVM turns it into
        // SYS_ILLEGAL_EXIT_CODE, which the channel reports as 23.
        (
            "signer exits with system code 4",
            auth_reply::EXIT,
            4,
            ExitCode::USR_UNSPECIFIED,
        ),
    ];
    let before = h.view(channel.id);
    for (i, (label, reply, code, expected)) in cases.into_iter().enumerate() {
        configure_probe(
            &mut h,
            &payer,
            &probe,
            Config {
                auth_reply: reply,
                exit_code: code,
                ..Default::default()
            },
        );
        let mut sv = h.voucher(&channel, 0, i as u64 + 1, atto(5));
        sv.signature = Some(fvm_shared::crypto::signature::Signature::new_secp256k1(
            vec![7; 65],
        ));
        let ret = h.update(label, &payer, &channel, &sv, &[]);
        h.expect_code(label, &ret, expected);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    configure_probe(
        &mut h,
        &payer,
        &probe,
        Config {
            auth_reply: auth_reply::TRUE,
            ..Default::default()
        },
    );
    let mut sv = h.voucher(&channel, 0, 1, atto(5));
    sv.signature = Some(fvm_shared::crypto::signature::Signature::new_secp256k1(
        vec![7; 65],
    ));
    let ret = h.update("reply true", &payer, &channel, &sv, &[]);
    h.expect_ok("reply true", &ret);
    h.expect_eq(
        "redeemed",
        h.view(channel.id).unwrap().state.to_send,
        atto(5),
    );
    h
}

/// Vouchers signed with BLS keys: the account actor verifies them against its
/// f3 key, in both directions; a voucher signed by another BLS key is refused.
pub fn bls_signed_vouchers(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.bls_account(fil(1000));
    let payee = b.bls_account(fil(1000));
    let impostor = b.bls_account(fil(1));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));

    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    Harness::sign(&mut sv, &payer);
    let ret = h.update(
        "payee submits a BLS voucher from the payer",
        &payee,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("payee submits a BLS voucher from the payer", &ret);

    let mut sv = h.voucher(&channel, 1, 1, atto(20));
    Harness::sign(&mut sv, &payee);
    let ret = h.update(
        "payer submits a BLS voucher from the payee",
        &payer,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("payer submits a BLS voucher from the payee", &ret);

    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 2, atto(500));
    Harness::sign(&mut sv, &impostor);
    let ret = h.update(
        "BLS voucher signed by another key",
        &payee,
        &channel,
        &sv,
        &[],
    );
    h.expect_code("BLS voucher signed by another key", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h.expect_eq(
        "to_send",
        h.view(channel.id).unwrap().state.to_send,
        atto(30),
    );
    h
}

/// A signer whose AuthenticateMessage fails with return data: the channel
/// exits with its code and its data.
pub fn authentication_failure_returns_signer_data(bundle: &Bundle, lenient: bool) -> Harness {
    // CBOR text "bad signature".
    let mut refusal = vec![0x6d];
    refusal.extend_from_slice(b"bad signature");
    let (mut b, payer, _) = genesis(bundle);
    let signer = b.probe(
        Config {
            auth_reply: auth_reply::EXIT,
            exit_code: ExitCode::USR_ILLEGAL_ARGUMENT.value(),
            exit_data: refusal.clone(),
            ..Config::default()
        },
        atto(0),
    );
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &signer, atto(1000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(5));
    sv.signature = any_signature();
    let label = "signer refuses with data";
    let ret = h.update(label, &payer, &channel, &sv, &[]);
    h.expect_code(label, &ret, CODE_16);
    h.expect_eq(
        "the signer's data is returned",
        ret.msg_receipt.return_data.to_vec(),
        refusal,
    );
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}
