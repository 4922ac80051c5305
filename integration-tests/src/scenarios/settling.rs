use super::*;

/// Settle at epoch 10 gives settling_at 1450; vouchers with min_settle_height
/// 0, 2, 12, 1451 leave (msh, settling_at) at (0,1450), (2,1450), (12,1450),
/// (1451,1451).
pub fn update_channel_settling(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    h.set_epoch(10);
    let ret = h.settle("settle at 10", &payer, &channel);
    h.expect_ok("settle at 10", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.expect_eq(
        "settling_at",
        (st.min_settle_height, st.settling_at),
        (0, 1450),
    );
    let expectations = [
        (0, (0, 1450)),
        (2, (2, 1450)),
        (12, (12, 1450)),
        (1451, (1451, 1451)),
    ];
    for (i, (msh, expected)) in expectations.into_iter().enumerate() {
        let mut sv = next.clone();
        sv.nonce = next.nonce + i as u64;
        sv.min_settle_height = msh;
        Harness::sign(&mut sv, &payee);
        let label = format!("voucher with min_settle_height {msh}");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_ok(&label, &ret);
        let st = h.channel_state(&channel).unwrap();
        h.expect_eq(&label, (st.min_settle_height, st.settling_at), expected);
    }
    h
}

pub fn settle(bundle: &Bundle, lenient: bool) -> Harness {
    // adjust_settling_at and call_twice.
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    h.set_epoch(10);
    let ret = h.settle("settle at 10", &payee, &channel);
    h.expect_ok("settle at 10", &ret);
    let st = h.channel_state(&channel).unwrap();
    h.expect_eq(
        "settling_at 1450, msh 0",
        (st.settling_at, st.min_settle_height),
        (1450, 0),
    );
    let ret = h.settle("settle twice", &payer, &channel);
    h.expect_code("settle twice", &ret, ExitCode::USR_ILLEGAL_STATE);
    h.expect_eq(
        "settling_at unchanged",
        h.channel_state(&channel).unwrap().settling_at,
        1450,
    );

    // Updates are accepted up to settling_at - 1 and refused from settling_at on (32).
    h.set_epoch(1449);
    let mut sv = next.clone();
    Harness::sign(&mut sv, &payee);
    let ret = h.update(
        "voucher one epoch before settling_at",
        &payer,
        &channel,
        &sv,
        &[],
    );
    h.expect_ok("voucher one epoch before settling_at", &ret);
    for epoch in [1450, 1450 + 40] {
        h.set_epoch(epoch);
        let mut sv = next.clone();
        sv.nonce += 1;
        Harness::sign(&mut sv, &payee);
        let label = format!("voucher at epoch {epoch} (settling_at 1450)");
        let ret = h.update(&label, &payer, &channel, &sv, &[]);
        h.expect_code(&label, &ret, ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED);
    }
    // The signature-presence check comes first: unsigned after settling_at is 16.
    let ret = h.update(
        "unsigned voucher after settling_at",
        &payer,
        &channel,
        &next,
        &[],
    );
    h.expect_code("unsigned voucher after settling_at", &ret, CODE_16);

    // settle_if_height_less: a voucher's min_settle_height before Settle.
    let fresh = h.create_channel(&payer, &payee, atto(100_000));
    h.set_epoch(10);
    let mut sv2 = h.voucher(&fresh, 0, 1, atto(1));
    sv2.min_settle_height = 1451;
    Harness::sign(&mut sv2, &payee);
    let ret = h.update(
        "voucher with msh 1451 before settling",
        &payer,
        &fresh,
        &sv2,
        &[],
    );
    h.expect_ok("voucher with msh 1451 before settling", &ret);
    let st = h.channel_state(&fresh).unwrap();
    h.expect_eq(
        "not settling, msh 1451",
        (st.settling_at, st.min_settle_height),
        (0, 1451),
    );
    let ret = h.settle("settle with msh 1451", &payer, &fresh);
    h.expect_ok("settle with msh 1451", &ret);
    h.expect_eq(
        "settling_at = msh",
        h.channel_state(&fresh).unwrap().settling_at,
        1451,
    );
    h
}
