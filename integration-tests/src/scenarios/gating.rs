use super::*;

/// Settle, Collect and UpdateChannelState refuse anyone but the two parties
/// (18), and a user actor cannot call the channel at all (18).
pub fn caller_gating(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let stranger = b.secp_account(fil(1000));
    let forwarder = b.probe(Config::default(), atto(0));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(5));
    Harness::sign(&mut sv, &payer);
    let ret = h.update("update from a stranger", &stranger, &channel, &sv, &[]);
    h.expect_code("update from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.settle("settle from a stranger", &stranger, &channel);
    h.expect_code("settle from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.collect("collect from a stranger", &stranger, &channel);
    h.expect_code("collect from a stranger", &ret, ExitCode::USR_FORBIDDEN);
    h.expect_eq("state unchanged", h.view(channel.id), before.clone());

    let forward = test_probe::ForwardParams::new(channel.address(), 3, RawBytes::default());
    let ret = h.apply(
        "user actor calls Settle",
        &payer,
        forwarder.address(),
        test_probe::FORWARD_METHOD,
        RawBytes::serialize(forward).unwrap(),
        atto(0),
    );
    h.expect_ok("forwarder ran", &ret);
    let inner: u32 = ret.msg_receipt.return_data.deserialize().unwrap_or(0);
    h.expect_eq(
        "the channel refused the user actor",
        inner,
        ExitCode::USR_FORBIDDEN.value(),
    );
    h.expect_eq("state unchanged", h.view(channel.id), before);

    // Anyone may add funds: a plain send runs no actor code.
    let ret = h.add_funds("a stranger adds funds", &stranger, &channel, atto(7));
    h.expect_ok("a stranger adds funds", &ret);
    h.expect_eq("balance grew", h.balance(channel.id), atto(1007));
    h
}

/// Unknown methods, missing, unexpected and undecodable parameters.
pub fn dispatch_errors(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let before = h.view(channel.id);
    let cases: Vec<(&str, u64, Vec<u8>, ExitCode)> = vec![
        (
            "unknown method 5",
            5,
            vec![],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        (
            "unknown exported method",
            1 << 24,
            vec![],
            ExitCode::USR_UNHANDLED_MESSAGE,
        ),
        ("Settle with params", 3, vec![0x80], CODE_16),
        ("Collect with params", 4, vec![0xf6], CODE_16),
        ("UpdateChannelState without params", 2, vec![], CODE_16),
        (
            "UpdateChannelState with garbage",
            2,
            vec![0xff, 0x00, 0x13],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with an empty array",
            2,
            vec![0x80],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with a 3-tuple (pre-v2 shape)",
            2,
            vec![0x83, 0xf6, 0x40, 0x40],
            ExitCode::USR_SERIALIZATION,
        ),
        (
            "UpdateChannelState with an integer",
            2,
            vec![0x01],
            ExitCode::USR_SERIALIZATION,
        ),
    ];
    for (label, method, params, expected) in cases {
        let ret = h.call_raw(label, &payer, &channel, method, params);
        h.expect_code(label, &ret, expected);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    h
}

/// The FVM numbers built-in types by manifest position, so a bundle can have
/// a type number no built-in actor knows (a 17th entry). An actor of that
/// code is not built-in to the channel: a party of that type is refused like
/// a user actor (18), where the same probe in a known slot (multisig) may
/// settle.
pub fn unknown_builtin_type_is_not_builtin(bundle: &Bundle, lenient: bool) -> Harness {
    let unknown = "type17";
    let wasm = paych_bundle::tagged_wasm(paych_bundle::wasm::TEST_PROBE, unknown);
    let bundle = with_probe_in(bundle, BuiltinType::Multisig)
        .with_extra_entry(unknown, &wasm)
        .expect("a 17th manifest entry");
    let mut b = HarnessBuilder::new(bundle).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let stranger_type = b.probe_in_slot(unknown, accepting(), atto(0));
    let multisig = b.probe_in_slot(BuiltinType::Multisig.name(), accepting(), atto(0));
    let mut h = start(b, lenient);

    let channel = h.create_channel(&payer, &stranger_type, atto(1000));
    let before = h.view(channel.id);
    let settle = channel_call(&channel, Method::Settle, RawBytes::default());
    let label = "a party of an unknown type number settles";
    let code = forward(&mut h, label, &payer, &stranger_type, settle);
    h.expect_eq(label, code, ExitCode::USR_FORBIDDEN.value());
    h.expect_eq("state unchanged", h.view(channel.id), before);

    let channel = h.create_channel(&payer, &multisig, atto(1000));
    let settle = channel_call(&channel, Method::Settle, RawBytes::default());
    let label = "a multisig party settles";
    let code = forward(&mut h, label, &payer, &multisig, settle);
    h.expect_eq(label, code, 0);
    h
}
