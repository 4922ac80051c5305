use super::*;

/// The classic CLI walkthrough through real messages, checking balances after
/// every step: a 10 FIL channel; vouchers of 2 then 4 FIL on lane 0 signed by
/// the client; 5 FIL more; settle; the provider submits its best voucher;
/// Collect is refused before the settle delay and then pays 4 FIL to the
/// provider and 11 FIL back to the client.
pub fn walkthrough(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let client = b.secp_account(fil(100));
    let provider = b.secp_account(fil(100));
    let mut h = start(b, lenient);
    h.set_epoch(1);

    // paych add-funds <client> <provider> 10
    let client_before = h.balance(client.id);
    let (ret, channel) = h.try_create_channel(
        "add-funds 10 (create)",
        &client,
        client.address(),
        provider.address(),
        fil(10),
    );
    h.expect_ok("add-funds 10 (create)", &ret);
    let channel = channel.expect("channel created");
    h.expect_eq("channel holds 10 FIL", h.balance(channel.id), fil(10));
    h.expect_eq(
        "client paid 10 FIL + gas",
        h.balance(client.id),
        &client_before - fil(10) - Harness::gas_cost(&ret),
    );

    // paych voucher create <ch> 2 0; paych voucher create <ch> 4 0
    let mut v1 = h.voucher(&channel, 0, 1, fil(2));
    Harness::sign(&mut v1, &client);
    let mut v2 = h.voucher(&channel, 0, 2, fil(4));
    Harness::sign(&mut v2, &client);
    // The provider (voucher add) keeps both after checking the client signed them.
    for v in [&v1, &v2] {
        let text = paych_client::voucher::encode(v);
        let received = paych_client::voucher::decode(&text).expect("voucher text");
        h.expect_eq(
            "voucher signed by the client",
            paych_client::voucher::is_signed_by(&received, &client.key_address()).unwrap(),
            true,
        );
    }

    // paych add-funds <client> <provider> 5 (same channel)
    h.advance(1);
    let client_before = h.balance(client.id);
    let ret = h.add_funds("add-funds 5", &client, &channel, fil(5));
    h.expect_ok("add-funds 5", &ret);
    h.expect_eq("channel holds 15 FIL", h.balance(channel.id), fil(15));
    h.expect_eq(
        "client paid 5 FIL + gas",
        h.balance(client.id),
        &client_before - fil(5) - Harness::gas_cost(&ret),
    );

    // paych settle <ch>
    h.advance(1);
    let ret = h.settle("settle", &client, &channel);
    h.expect_ok("settle", &ret);
    let settling_at = h.channel_state(&channel).unwrap().settling_at;
    h.expect_eq(
        "settling_at = now + 1440",
        settling_at,
        h.epoch() + SETTLE_DELAY,
    );

    // paych voucher best-spendable / submit: the provider submits the 4 FIL voucher.
    h.advance(1);
    let provider_before = h.balance(provider.id);
    let ret = h.update("voucher submit (4 FIL)", &provider, &channel, &v2, &[]);
    h.expect_ok("voucher submit (4 FIL)", &ret);
    h.expect_eq(
        "to_send 4 FIL",
        h.channel_state(&channel).unwrap().to_send,
        fil(4),
    );
    h.expect_eq(
        "provider paid gas only",
        h.balance(provider.id),
        &provider_before - Harness::gas_cost(&ret),
    );
    let ret = h.update(
        "the superseded 2 FIL voucher",
        &provider,
        &channel,
        &v1,
        &[],
    );
    h.expect_code("the superseded 2 FIL voucher", &ret, CODE_16);

    // paych collect before the settle delay has passed: refused.
    h.set_epoch(settling_at - 1);
    let ret = h.collect("collect before the settle delay", &client, &channel);
    h.expect_code(
        "collect before the settle delay",
        &ret,
        ExitCode::USR_FORBIDDEN,
    );
    h.expect_eq("channel still holds 15 FIL", h.balance(channel.id), fil(15));

    // paych collect after it: 4 FIL to the provider, 11 FIL back to the client.
    h.set_epoch(settling_at);
    let (client_before, provider_before) = (h.balance(client.id), h.balance(provider.id));
    let ret = h.collect("collect", &client, &channel);
    h.expect_ok("collect", &ret);
    h.expect_eq(
        "provider received 4 FIL",
        h.balance(provider.id),
        provider_before + fil(4),
    );
    h.expect_eq(
        "client received 11 FIL minus its gas",
        h.balance(client.id),
        client_before + fil(11) - Harness::gas_cost(&ret),
    );
    h.expect_eq("channel actor gone", h.actor(channel.id).is_none(), true);
    h
}
