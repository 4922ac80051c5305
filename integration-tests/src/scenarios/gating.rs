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

    let forward = test_probe::ForwardParams {
        to: channel.address(),
        method: 3,
        params: RawBytes::default(),
    };
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
