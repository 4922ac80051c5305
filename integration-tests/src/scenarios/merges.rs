use super::*;

pub fn merge_success(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 3);
    let before = h.view(channel.id).expect("channel");
    let lanes = h.lanes(&channel);
    let mut sv = h.voucher(&channel, 0, 4, atto(3));
    sv.merges = vec![Merge { lane: 1, nonce: 11 }];
    Harness::sign(&mut sv, &payee);
    let ret = h.update("merge lane 1 into lane 0", &payer, &channel, &sv, &[]);
    h.expect_ok("merge lane 1 into lane 0", &ret);
    let after = h.lanes(&channel);
    h.expect_eq(
        "lane 0",
        after[&0].clone(),
        LaneState {
            redeemed: atto(3),
            nonce: 4,
        },
    );
    h.expect_eq(
        "lane 1 nonce moves, redeemed stays",
        after[&1].clone(),
        LaneState {
            redeemed: lanes[&1].redeemed.clone(),
            nonce: 11,
        },
    );
    let expected = &before.state.to_send + atto(3) - (&lanes[&0].redeemed + &lanes[&1].redeemed);
    h.expect_eq(
        "to_send",
        h.view(channel.id).unwrap().state.to_send,
        expected,
    );
    h
}

pub fn merge_failure(bundle: &Bundle, lenient: bool) -> Harness {
    // Two lanes ({1,1}, {2,2}) in a channel holding exactly their sum, 3.
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = fixture(bundle, lenient, 2, atto(3));
    let before = h.view(channel.id);
    let cases: [(&str, u64, u64, i64, Vec<Merge>); 4] = [
        (
            "merge nonce 1 <= lane 1's 2",
            0,
            5,
            1,
            vec![Merge { lane: 1, nonce: 1 }],
        ),
        (
            "voucher nonce 0 <= lane 0's 1",
            0,
            0,
            1,
            vec![Merge { lane: 1, nonce: 5 }],
        ),
        (
            "to_send 4 would exceed balance 3",
            0,
            5,
            4,
            vec![Merge { lane: 1, nonce: 5 }],
        ),
        (
            "merge lane 0 into itself",
            0,
            5,
            1,
            vec![Merge { lane: 0, nonce: 5 }],
        ),
    ];
    for (label, lane, nonce, amount, merges) in cases {
        let mut sv = h.voucher(&channel, lane, nonce, atto(amount));
        sv.merges = merges;
        Harness::sign(&mut sv, &payee);
        let ret = h.update(label, &payer, &channel, &sv, &[]);
        h.expect_code(label, &ret, CODE_16);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            before.clone(),
        );
    }
    h
}

pub fn invalid_merge_lane_999(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        mut next,
    } = standard_fixture(bundle, lenient, 2);
    let before = h.view(channel.id);
    next.merges = vec![Merge {
        lane: 999,
        nonce: 1,
    }];
    Harness::sign(&mut next, &payee);
    let ret = h.update(
        "merge of a lane that does not exist",
        &payer,
        &channel,
        &next,
        &[],
    );
    h.expect_code("merge of a lane that does not exist", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}

/// Lane MAX_LANE+1 is refused; MAX_LANE itself is a valid lane.
pub fn lane_limits(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        ..
    } = standard_fixture(bundle, lenient, 1);
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, MAX_LANE + 1, 1, atto(1));
    Harness::sign(&mut sv, &payee);
    let ret = h.update("lane MAX_LANE+1", &payer, &channel, &sv, &[]);
    h.expect_code("lane MAX_LANE+1", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);

    let mut sv = h.voucher(&channel, MAX_LANE, 1, atto(5));
    Harness::sign(&mut sv, &payee);
    let ret = h.update("lane MAX_LANE", &payer, &channel, &sv, &[]);
    h.expect_ok("lane MAX_LANE", &ret);
    h.expect_eq(
        "lane MAX_LANE stored",
        h.lanes(&channel).get(&MAX_LANE).cloned(),
        Some(LaneState {
            redeemed: atto(5),
            nonce: 1,
        }),
    );

    let mut sv = h.voucher(&channel, 0, 2, atto(2));
    sv.merges = vec![Merge {
        lane: MAX_LANE + 1,
        nonce: 1,
    }];
    Harness::sign(&mut sv, &payee);
    let ret = h.update("merge lane MAX_LANE+1", &payer, &channel, &sv, &[]);
    h.expect_code("merge lane MAX_LANE+1", &ret, CODE_16);
    h
}
