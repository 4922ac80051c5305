use super::*;

/// The reference's create-lane table: balance 9 attoFIL, epoch 1, a voucher
/// (tl_min 1, lane 0, nonce 0, amount 1) signed by the payer and submitted by
/// the payee. Every failure leaves the state as it was.
pub fn create_lane(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let stranger = b.secp_account(fil(10));
    let unknown_bls = b.unused_key(KeyType::Bls);
    let mut h = start(b, lenient);
    h.set_epoch(1);
    let channel = h.create_channel(&payer, &payee, atto(9));
    let other_channel = h.create_channel(&payer, &payee, atto(9));
    let initial = h.view(channel.id);

    let base = {
        let mut sv = h.voucher(&channel, 0, 0, atto(1));
        sv.time_lock_min = 1;
        sv
    };
    let signed = |sv: &SignedVoucher, by: &Party| {
        let mut sv = sv.clone();
        Harness::sign(&mut sv, by);
        sv
    };

    type Case = (
        &'static str,
        i64,
        Box<dyn Fn(&mut SignedVoucher)>,
        Option<bool>,
    );
    // (label, epoch, change, sign with payer? None = unsigned / Some(false) = stranger)
    let cases: Vec<Case> = vec![
        (
            "channel_addr of another channel",
            1,
            Box::new(move |sv| sv.channel_addr = other_channel.robust),
            Some(true),
        ),
        (
            "channel_addr unresolvable BLS",
            1,
            Box::new(move |sv| sv.channel_addr = unknown_bls.address()),
            Some(true),
        ),
        (
            "amount -1",
            1,
            Box::new(|sv| sv.amount = atto(-1)),
            Some(true),
        ),
        (
            "amount 10 > balance 9",
            1,
            Box::new(|sv| sv.amount = atto(10)),
            Some(true),
        ),
        ("no signature", 1, Box::new(|_| {}), None),
        (
            "epoch 1 < time_lock_min 10",
            1,
            Box::new(|sv| sv.time_lock_min = 10),
            Some(true),
        ),
        (
            "epoch 10 > time_lock_max 5",
            10,
            Box::new(|sv| sv.time_lock_max = 5),
            Some(true),
        ),
        (
            "signed by a stranger (AuthenticateMessage exits 16)",
            1,
            Box::new(|_| {}),
            Some(false),
        ),
    ];
    for (label, epoch, change, signer) in cases {
        h.set_epoch(epoch);
        let mut sv = base.clone();
        change(&mut sv);
        let sv = match signer {
            Some(true) => signed(&sv, &payer),
            Some(false) => signed(&sv, &stranger),
            None => sv,
        };
        let ret = h.update(label, &payee, &channel, &sv, &[]);
        h.expect_code(label, &ret, CODE_16);
        h.expect_eq(
            &format!("{label}: state unchanged"),
            h.view(channel.id),
            initial.clone(),
        );
    }

    h.set_epoch(1);
    // The channel's ID address (a different alias of the same actor) works too.
    let mut by_id = base.clone();
    by_id.channel_addr = channel.address();
    let ret = h.update(
        "channel_addr as ID address",
        &payee,
        &channel,
        &signed(&by_id, &payer),
        &[],
    );
    h.expect_ok("channel_addr as ID address", &ret);
    h.expect_eq(
        "lane 0 after ID-addressed voucher",
        h.lanes(&channel).get(&0).cloned(),
        Some(LaneState {
            redeemed: atto(1),
            nonce: 0,
        }),
    );

    // And the robust address, on a fresh channel: one lane, redeemed 1, nonce 0.
    let fresh = h.create_channel(&payer, &payee, atto(9));
    let mut sv = h.voucher(&fresh, 0, 0, atto(1));
    sv.time_lock_min = 1;
    let ret = h.update("succeeds", &payee, &fresh, &signed(&sv, &payer), &[]);
    h.expect_ok("succeeds", &ret);
    let view = h.view(fresh.id).expect("channel");
    h.expect_eq(
        "one lane",
        view.lanes,
        vec![(
            0,
            LaneState {
                redeemed: atto(1),
                nonce: 0,
            },
        )],
    );
    h.expect_eq("to_send", view.state.to_send, atto(1));
    h
}
