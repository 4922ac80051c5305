use super::*;

pub fn redeem_voucher_one_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        mut next,
    } = standard_fixture(bundle, lenient, 1);
    next.amount = atto(9);
    Harness::sign(&mut next, &payee);
    let ret = h.update("redeem amount 9 nonce 2", &payer, &channel, &next, &[]);
    h.expect_ok("redeem amount 9 nonce 2", &ret);
    let view = h.view(channel.id).expect("channel");
    h.expect_eq("to_send", view.state.to_send, atto(9));
    h.expect_eq(
        "lane 0",
        view.lanes,
        vec![(
            0,
            LaneState {
                redeemed: atto(9),
                nonce: 2,
            },
        )],
    );
    h
}

pub fn redeem_voucher_correct_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id).expect("channel");
    let old = h.lanes(&channel)[&1].clone();
    let mut sv = h.voucher(&channel, 1, old.nonce + 1, atto(9));
    sv.time_lock_min = 2;
    sv.time_lock_max = i64::MAX;
    Harness::sign(&mut sv, &payee);
    let ret = h.update("redeem lane 1", &payer, &channel, &sv, &[]);
    h.expect_ok("redeem lane 1", &ret);
    let after = h.view(channel.id).expect("channel");
    h.expect_eq(
        "to_send grows by the lane's delta",
        after.state.to_send,
        &before.state.to_send + atto(9) - &old.redeemed,
    );
    h.expect_eq(
        "lane 1",
        h.lanes(&channel)[&1].clone(),
        LaneState {
            redeemed: atto(9),
            nonce: old.nonce + 1,
        },
    );
    h.expect_eq(
        "lane 0 untouched",
        h.lanes(&channel)[&0].clone(),
        before.lanes[0].1.clone(),
    );
    h
}

pub fn redeem_voucher_nonce_reuse(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id);
    // Lane 2 holds nonce 3; nonce 1 (and 3 itself) are stale.
    for nonce in [1, 3] {
        let mut sv = h.voucher(&channel, 2, nonce, atto(50));
        Harness::sign(&mut sv, &payee);
        let label = format!("stale nonce {nonce} on lane 2");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, CODE_16);
    }
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}
