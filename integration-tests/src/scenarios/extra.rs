use super::*;

fn extra_call(bundle: &Bundle, lenient: bool, exit_code: u32) -> Harness {
    let (mut b, payer, payee) = genesis(bundle);
    let target = b.probe(
        Config {
            auth_reply: auth_reply::TRUE,
            exit_code,
            ..Default::default()
        },
        atto(0),
    );
    let mut h = start(b, lenient);
    h.set_epoch(2);
    let channel = h.create_channel(&payer, &payee, atto(100_000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    sv.extra = Some(ModVerifyParams {
        actor: target.address(),
        method: 2,
        data: RawBytes::new(vec![1, 2, 3, 4]),
    });
    Harness::sign(&mut sv, &payee);
    let ret = h.update("voucher with an extra call", &payer, &channel, &sv, &[]);
    if exit_code == 0 {
        h.expect_ok("voucher with an extra call", &ret);
        let calls = h.probe_state(&target).calls;
        h.expect_eq("one extra call", calls.len(), 1);
        if let Some(call) = calls.first() {
            h.expect_eq("from the channel", call.caller, channel.id);
            h.expect_eq("method", call.method, 2);
            h.expect_eq("codec CBOR", call.codec, fvm_ipld_encoding::CBOR);
            h.expect_eq("data verbatim", call.data.to_vec(), vec![1, 2, 3, 4]);
            h.expect_eq("no value", call.value.clone(), atto(0));
        }
        h.expect_eq(
            "redeemed",
            h.view(channel.id).unwrap().state.to_send,
            atto(10),
        );
    } else {
        h.expect_code("extra call fails", &ret, ExitCode::new(exit_code));
        h.expect_eq("state unchanged", h.view(channel.id), before);
        h.expect_eq(
            "callee's state reverted",
            h.probe_state(&target).calls.len(),
            0,
        );
    }
    h
}

pub fn extra_call_succeed(bundle: &Bundle, lenient: bool) -> Harness {
    extra_call(bundle, lenient, 0)
}

pub fn extra_call_fail(bundle: &Bundle, lenient: bool) -> Harness {
    extra_call(bundle, lenient, ExitCode::USR_UNSPECIFIED.value())
}

/// An `extra` call that fails with return data (as an EVM contract reverts
/// with its revert bytes): the channel exits with the callee's code and its
/// data, which the receipt returns, and nothing changes.
pub fn extra_call_fail_returns_callee_data(bundle: &Bundle, lenient: bool) -> Harness {
    // CBOR byte string "revert".
    let revert = vec![0x46, b'r', b'e', b'v', b'e', b'r', b't'];
    let (mut b, payer, payee) = genesis(bundle);
    let target = b.probe(
        Config {
            exit_code: 33,
            exit_data: revert.clone(),
            ..accepting()
        },
        atto(0),
    );
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(100_000));
    let before = h.view(channel.id);
    let mut sv = h.voucher(&channel, 0, 1, atto(10));
    sv.extra = Some(ModVerifyParams {
        actor: target.address(),
        method: 2,
        data: RawBytes::new(vec![1, 2, 3, 4]),
    });
    Harness::sign(&mut sv, &payee);
    let label = "extra call reverts with data";
    let ret = h.update(label, &payer, &channel, &sv, &[]);
    h.expect_code(label, &ret, ExitCode::new(33));
    h.expect_eq(
        "the callee's data is returned",
        ret.msg_receipt.return_data.to_vec(),
        revert,
    );
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}
