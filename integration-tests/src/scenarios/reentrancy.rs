use super::*;

/// A channel whose payee is a built-in-typed actor that can call the channel
/// from inside a voucher's `extra` call: the probe in the multisig slot (a
/// multisig party is how this happens on mainnet). It accepts every
/// signature, so the payer's vouchers "signed" by it are authenticated.
struct Reentrant {
    h: Harness,
    payer: Party,
    party: Party,
    channel: Channel,
}

fn reentrant_channel(bundle: &Bundle, lenient: bool) -> Reentrant {
    let mut b = HarnessBuilder::new(with_probe_in(bundle, BuiltinType::Multisig)).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let party = b.probe_in_slot(BuiltinType::Multisig.name(), accepting(), atto(0));
    let mut h = start(b, lenient);
    h.set_epoch(10);
    let channel = h.create_channel(&payer, &party, atto(1000));
    Reentrant {
        h,
        payer,
        party,
        channel,
    }
}

/// The payer submits a voucher (lane 0, nonce 1, `amount`) "signed" by the
/// party, whose `extra` call goes to the party, which makes `nested` on the
/// channel from inside it.
fn voucher_with_nested_call(
    r: &mut Reentrant,
    label: &str,
    lane: u64,
    amount: i64,
    nested: ForwardParams,
) -> fvm::executor::ApplyRet {
    let config = Config {
        reenter: Some(nested),
        ..accepting()
    };
    configure_probe(&mut r.h, &r.payer, &r.party, config);
    let mut sv = r.h.voucher(&r.channel, lane, 1, atto(amount));
    sv.extra = Some(ModVerifyParams {
        actor: r.party.address(),
        method: 2,
        data: RawBytes::new(vec![1, 2, 3, 4]),
    });
    sv.signature = any_signature();
    r.h.update(label, &r.payer, &r.channel, &sv, &[])
}

/// The party settles the channel from inside the extra call. The voucher's
/// lane transaction runs on the state after the call, so the nested Settle
/// is kept: settling_at is set and the lane is redeemed.
pub fn reentrant_settle_in_extra_call(bundle: &Bundle, lenient: bool) -> Harness {
    let mut r = reentrant_channel(bundle, lenient);
    let settle = channel_call(&r.channel, Method::Settle, RawBytes::default());
    let label = "voucher whose extra call settles the channel";
    let ret = voucher_with_nested_call(&mut r, label, 0, 10, settle);
    let h = r.h;
    h.expect_ok(label, &ret);
    let view = h.view(r.channel.id).expect("channel");
    h.expect_eq(
        "the nested Settle is kept",
        view.state.settling_at,
        10 + SETTLE_DELAY,
    );
    h.expect_eq("the voucher is redeemed", view.state.to_send, atto(10));
    h.expect_eq(
        "lane 0",
        view.lanes,
        vec![(
            0,
            LaneState {
                redeemed: atto(10),
                nonce: 1,
            },
        )],
    );
    h
}

/// The party redeems a voucher of the payer's from inside the extra call.
/// On the same lane with a higher nonce, the outer voucher's nonce is
/// outdated by the time its lane transaction runs: 16, and the whole message
/// (the nested voucher too) is undone. On another lane, both are kept.
pub fn reentrant_voucher_in_extra_call(bundle: &Bundle, lenient: bool) -> Harness {
    let mut r = reentrant_channel(bundle, lenient);
    let before = r.h.view(r.channel.id);

    let mut nested = r.h.voucher(&r.channel, 0, 2, atto(30));
    Harness::sign(&mut nested, &r.payer);
    let call = channel_call(
        &r.channel,
        Method::UpdateChannelState,
        update_params(&nested),
    );
    let label = "extra call redeems a later voucher on the same lane";
    let ret = voucher_with_nested_call(&mut r, label, 0, 10, call);
    r.h.expect_code(label, &ret, CODE_16);
    r.h.expect_eq(
        "nothing kept, the nested voucher neither",
        r.h.view(r.channel.id),
        before,
    );

    let mut nested = r.h.voucher(&r.channel, 1, 1, atto(30));
    Harness::sign(&mut nested, &r.payer);
    let call = channel_call(
        &r.channel,
        Method::UpdateChannelState,
        update_params(&nested),
    );
    let label = "extra call redeems a voucher on another lane";
    let ret = voucher_with_nested_call(&mut r, label, 0, 10, call);
    let h = r.h;
    h.expect_ok(label, &ret);
    let view = h.view(r.channel.id).expect("channel");
    h.expect_eq("both redeemed", view.state.to_send, atto(40));
    h.expect_eq(
        "both lanes",
        view.lanes,
        vec![
            (
                0,
                LaneState {
                    redeemed: atto(10),
                    nonce: 1,
                },
            ),
            (
                1,
                LaneState {
                    redeemed: atto(30),
                    nonce: 1,
                },
            ),
        ],
    );
    h
}
