use super::*;

/// A channel from an account to a multisig-typed probe, which can call the
/// channel read-only (the FVM's `SendFlags::READ_ONLY`).
fn channel_with_built_in_party(
    bundle: &Bundle,
    lenient: bool,
    balance: TokenAmount,
) -> (Harness, Party, Party, Channel) {
    let mut b = HarnessBuilder::new(with_probe_in(bundle, BuiltinType::Multisig)).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let party = b.probe_in_slot(BuiltinType::Multisig.name(), accepting(), atto(0));
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &party, balance);
    (h, payer, party, channel)
}

fn read_only(mut call: ForwardParams) -> ForwardParams {
    call.read_only = true;
    call
}

/// In a read-only call the channel cannot write its state: Settle and a
/// voucher exit 25 (USR_READ_ONLY) at the write, and Collect's payout (a
/// value transfer) is refused with 25 too.
pub fn read_only_state_writes(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut h, payer, party, channel) = channel_with_built_in_party(bundle, lenient, atto(1000));
    let before = h.view(channel.id);

    let settle = channel_call(&channel, Method::Settle, RawBytes::default());
    let code = forward(
        &mut h,
        "read-only Settle",
        &payer,
        &party,
        read_only(settle.clone()),
    );
    h.expect_eq("read-only Settle", code, ExitCode::USR_READ_ONLY.value());

    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    Harness::sign(&mut sv, &payer);
    let update = channel_call(&channel, Method::UpdateChannelState, update_params(&sv));
    let code = forward(
        &mut h,
        "read-only voucher",
        &payer,
        &party,
        read_only(update),
    );
    h.expect_eq("read-only voucher", code, ExitCode::USR_READ_ONLY.value());
    h.expect_eq("state unchanged", h.view(channel.id), before);

    let code = forward(&mut h, "settle", &payer, &party, settle);
    h.expect_eq("settle", code, 0);
    let settling_at = h.channel_state(&channel).expect("channel").settling_at;
    h.set_epoch(settling_at);
    let collect = channel_call(&channel, Method::Collect, RawBytes::default());
    let code = forward(
        &mut h,
        "read-only Collect",
        &payer,
        &party,
        read_only(collect),
    );
    h.expect_eq("read-only Collect", code, ExitCode::USR_READ_ONLY.value());
    h.expect_eq(
        "the channel keeps its funds",
        h.balance(channel.id),
        atto(1000),
    );
    h
}

/// A read-only Collect of a channel holding nothing: both payouts are zero
/// (allowed read-only) and the self-destruct is refused, which the built-in
/// runtime reports as 16. The channel stays.
pub fn read_only_collect_of_an_empty_channel(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut h, payer, party, channel) = channel_with_built_in_party(bundle, lenient, atto(0));
    let settle = channel_call(&channel, Method::Settle, RawBytes::default());
    let code = forward(&mut h, "settle", &payer, &party, settle);
    h.expect_eq("settle", code, 0);
    let settling_at = h.channel_state(&channel).expect("channel").settling_at;
    h.set_epoch(settling_at);
    let before = h.view(channel.id);
    let collect = channel_call(&channel, Method::Collect, RawBytes::default());
    let code = forward(
        &mut h,
        "read-only Collect of an empty channel",
        &payer,
        &party,
        read_only(collect.clone()),
    );
    h.expect_eq(
        "read-only Collect of an empty channel",
        code,
        CODE_16.value(),
    );
    h.expect_eq("the channel stays", h.view(channel.id), before);
    let code = forward(&mut h, "Collect", &payer, &party, collect);
    h.expect_eq("Collect", code, 0);
    h.expect_eq("the channel is gone", h.actor(channel.id).is_none(), true);
    h
}

/// A payment channel whose state is not a channel's: every method fails with
/// 16 (the state does not decode), before looking at the caller. A state
/// that decodes but names its parties by key address (only a corrupt state
/// does) matches no caller: 18.
pub fn corrupt_state(bundle: &Bundle, lenient: bool) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let garbage = b.channel_with_state(&(1u8, "not a channel state"), atto(100));
    let lanes = b.empty_lanes();
    let key_parties = b.channel_with_state(
        &paych_actor::State::new(payer.key_address(), payee.key_address(), lanes),
        atto(100),
    );
    let mut h = start(b, lenient);
    for (channel, what, expected) in [
        (&garbage, "undecodable state", CODE_16),
        (
            &key_parties,
            "parties by key address",
            ExitCode::USR_FORBIDDEN,
        ),
    ] {
        let mut sv = h.voucher(channel, 0, 1, atto(1));
        Harness::sign(&mut sv, &payee);
        let label = format!("voucher on a channel with {what}");
        let ret = h.update(&label, &payer, channel, &sv, &[]);
        h.expect_code(&label, &ret, expected);
        let label = format!("Settle a channel with {what}");
        let ret = h.settle(&label, &payer, channel);
        h.expect_code(&label, &ret, expected);
        let label = format!("Collect a channel with {what}");
        let ret = h.collect(&label, &payer, channel);
        h.expect_code(&label, &ret, expected);
    }
    h
}

/// The constructor creates the state only over a new actor's empty one: an
/// init-typed caller (the probe in the init slot; the real init only ever
/// constructs the actor it has just created) calling it on a live channel is
/// refused with 20 and the channel is unchanged.
pub fn second_constructor_is_refused(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(with_probe_in(bundle, BuiltinType::Init)).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let payee = b.secp_account(fil(1000));
    // No init to exec through: the channel is installed as its constructor
    // leaves it.
    let channel = b.channel(&payer, &payee, atto(100));
    let init = b.probe_in_slot(BuiltinType::Init.name(), Config::default(), atto(0));
    let mut h = start(b, lenient);
    let before = h.view(channel.id);
    let params = RawBytes::serialize(paych_actor::ConstructorParams {
        from: payee.address(),
        to: payer.address(),
    })
    .expect("encode constructor params");
    let label = "init-typed caller constructs a live channel again";
    let call = channel_call(&channel, Method::Constructor, params);
    let code = forward(&mut h, label, &payer, &init, call);
    h.expect_eq(label, code, ExitCode::USR_ILLEGAL_STATE.value());
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}

/// Settle within SETTLE_DELAY of the last epoch: `curr_epoch + SETTLE_DELAY`
/// overflows, the actor panics and the FVM entry point's panic hook (under
/// the Wasm profile's `panic = "abort"`) exits 24. One epoch earlier it fits
/// exactly.
pub fn settle_at_the_end_of_the_epoch_range(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(100));
    let before = h.view(channel.id);
    h.set_epoch(i64::MAX - SETTLE_DELAY + 1);
    let label = "Settle when settling_at would overflow";
    let ret = h.settle(label, &payer, &channel);
    h.expect_code(label, &ret, ExitCode::USR_ASSERTION_FAILED);
    let panicked = ret
        .failure_info
        .as_ref()
        .is_some_and(|info| info.to_string().contains("panicked"));
    h.expect_eq("the actor panicked", panicked, true);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h.set_epoch(i64::MAX - SETTLE_DELAY);
    let label = "Settle when settling_at is the last epoch";
    let ret = h.settle(label, &payer, &channel);
    h.expect_ok(label, &ret);
    h.expect_eq(
        "settling_at",
        h.channel_state(&channel).expect("channel").settling_at,
        i64::MAX,
    );
    h
}
