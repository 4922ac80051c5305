use super::*;

pub fn collect_happy_path(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 1);
    let ret = h.settle("settle", &payer, &channel);
    h.expect_ok("settle", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.set_epoch(st.settling_at + 1);
    let (payer_before, payee_before) = (h.balance(payer.id), h.balance(payee.id));
    let channel_balance = h.balance(channel.id);
    let ret = h.collect("collect after settling_at", &payee, &channel);
    h.expect_ok("collect after settling_at", &ret);
    let gas = Harness::gas_cost(&ret);
    h.expect_eq(
        "payee receives to_send (minus its gas)",
        h.balance(payee.id),
        payee_before + &st.to_send - gas,
    );
    h.expect_eq(
        "payer receives the rest",
        h.balance(payer.id),
        payer_before + channel_balance - &st.to_send,
    );
    h.expect_eq("channel deleted", h.actor(channel.id).is_none(), true);
    h.expect_eq(
        "robust address no longer resolves to an actor",
        h.resolve(&channel.robust)
            .and_then(|id| h.actor(id))
            .is_none(),
        true,
    );
    h
}

pub fn collect_refusals(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, _) = genesis(bundle);
    let probe = b.probe(Config::default(), atto(0));
    let payee = b.secp_account(fil(1000));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(1000));
    let ret = h.collect("collect while not settling", &payer, &channel);
    h.expect_code("collect while not settling", &ret, ExitCode::USR_FORBIDDEN);
    let ret = h.settle("settle", &payee, &channel);
    h.expect_ok("settle", &ret);
    let settling_at = h.channel_state(&channel).unwrap().settling_at;
    h.set_epoch(settling_at - 1);
    let ret = h.collect("collect one epoch early", &payer, &channel);
    h.expect_code("collect one epoch early", &ret, ExitCode::USR_FORBIDDEN);
    h.set_epoch(settling_at);
    let before = h.balance(payer.id);
    let ret = h.collect("collect exactly at settling_at", &payer, &channel);
    h.expect_ok("collect exactly at settling_at", &ret);
    h.expect_eq(
        "nothing redeemed: payer gets it all back",
        h.balance(payer.id),
        before + atto(1000) - Harness::gas_cost(&ret),
    );

    // The payee's actor disappears before Collect: the send to it fails with
    // "receiver not found" (23) and nothing moves.
    let doomed = h.create_channel(&payer, &probe, atto(1000));
    let ret = h.settle("settle (payee will vanish)", &payer, &doomed);
    h.expect_ok("settle (payee will vanish)", &ret);
    let ret = h.apply(
        "payee self-destructs",
        &payer,
        probe.address(),
        test_probe::DESTRUCT_METHOD,
        RawBytes::default(),
        atto(0),
    );
    h.expect_ok("payee self-destructs", &ret);
    h.set_epoch(h.channel_state(&doomed).unwrap().settling_at);
    let ret = h.collect("collect to a vanished payee", &payer, &doomed);
    h.expect_code(
        "collect to a vanished payee",
        &ret,
        ExitCode::USR_UNSPECIFIED,
    );
    h.expect_eq(
        "channel still holds its funds",
        h.balance(doomed.id),
        atto(1000),
    );
    h
}
