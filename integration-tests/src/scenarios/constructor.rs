use super::*;

pub fn create_paych_actor(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(100));
    let st = h.channel_state(&channel).expect("channel exists");
    h.expect_eq("from", st.from, payer.address());
    h.expect_eq("to", st.to, payee.address());
    h.expect_eq("to_send", st.to_send, atto(0));
    h.expect_eq("settling_at", st.settling_at, 0);
    h.expect_eq("min_settle_height", st.min_settle_height, 0);
    h.expect_eq("balance", h.balance(channel.id), atto(100));
    h.expect_eq(
        "robust address",
        h.resolve(&channel.robust),
        Some(channel.id),
    );
    // The lane AMT: version 3 root [bit_width, height, count, node], empty.
    let (bit_width, height, count, _): (u32, u32, u64, serde::de::IgnoredAny) = h
        .store()
        .get_cbor(&st.lane_states)
        .expect("read")
        .expect("AMT root");
    h.expect_eq("lane AMT bit width", bit_width, 3);
    h.expect_eq("lane AMT height", height, 0);
    h.expect_eq("lane AMT count", count, 0);
    h
}

/// Key addresses of existing accounts (f1, f3) are stored as their IDs.
pub fn constructor_resolves_key_addresses_to_ids(bundle: &Bundle, lenient: bool) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.bls_account(fil(1000));
    let payee = b.secp_account(fil(1000));
    let mut h = start(b, lenient);
    let (ret, channel) = h.try_create_channel(
        "create with key addresses",
        &payer,
        payer.key_address(),
        payee.key_address(),
        atto(10),
    );
    h.expect_ok("create with key addresses", &ret);
    if let Some(channel) = channel {
        let st = h.channel_state(&channel).expect("channel");
        h.expect_eq("from stored as ID", st.from, payer.address());
        h.expect_eq("to stored as ID", st.to, payee.address());
    }
    h
}

/// On chain the constructor's zero-value send to a new f1/f3/f4 address
/// creates the account (or placeholder), so the channel is created with the
/// new actor's ID (the reference's mock tests, where the send creates
/// nothing, end in 16 instead).
pub fn constructor_creates_accounts_for_new_key_addresses(
    bundle: &Bundle,
    lenient: bool,
) -> Harness {
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    let payer = b.secp_account(fil(1000));
    let new_bls = b.unused_key(KeyType::Bls);
    let new_secp = b.unused_key(KeyType::Secp256k1);
    let mut h = start(b, lenient);

    let (ret, channel) = h.try_create_channel(
        "to a new BLS key",
        &payer,
        payer.address(),
        new_bls.address(),
        atto(10),
    );
    h.expect_ok("to a new BLS key", &ret);
    let created = h.resolve(&new_bls.address());
    h.expect_eq("BLS account created", created.is_some(), true);
    if let (Some(channel), Some(id)) = (channel, created) {
        h.expect_eq(
            "to is the new account",
            h.channel_state(&channel).map(|s| s.to),
            Some(Address::new_id(id)),
        );
    }

    let (ret, channel) = h.try_create_channel(
        "from a new secp key",
        &payer,
        new_secp.address(),
        payer.address(),
        atto(10),
    );
    h.expect_ok("from a new secp key", &ret);
    let created = h.resolve(&new_secp.address());
    if let (Some(channel), Some(id)) = (channel, created) {
        h.expect_eq(
            "from is the new account",
            h.channel_state(&channel).map(|s| s.from),
            Some(Address::new_id(id)),
        );
    }

    // A new f410 (EVM-style) address becomes a placeholder: any actor type
    // may be a party.
    let eth = Address::new_delegated(10, &[0x42; 20]).expect("f410 address");
    let (ret, channel) = h.try_create_channel(
        "to a new f410 address",
        &payer,
        payer.address(),
        eth,
        atto(10),
    );
    h.expect_ok("to a new f410 address", &ret);
    let placeholder = h.resolve(&eth);
    h.expect_eq("placeholder created", placeholder.is_some(), true);
    if let (Some(channel), Some(id)) = (channel, placeholder) {
        h.expect_eq(
            "to is the placeholder",
            h.channel_state(&channel).map(|s| s.to),
            Some(Address::new_id(id)),
        );
    }
    h
}

pub fn constructor_rejects_parties_without_code(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, _) = genesis(bundle);
    let mut h = start(b, lenient);
    // An ID address resolves to itself, but nothing lives there: 17.
    let nobody = Address::new_id(9_999_999);
    let (ret, _) = h.try_create_channel(
        "to an ID with no actor",
        &payer,
        payer.address(),
        nobody,
        atto(10),
    );
    h.expect_code("to an ID with no actor", &ret, ExitCode::USR_NOT_FOUND);
    let (ret, _) = h.try_create_channel(
        "from an ID with no actor",
        &payer,
        nobody,
        payer.address(),
        atto(10),
    );
    h.expect_code("from an ID with no actor", &ret, ExitCode::USR_NOT_FOUND);
    // A robust (f2) address no actor has: the zero-value send cannot create
    // one and the FVM reports the receiver missing (23).
    let ghost = Address::new_actor(b"no such actor");
    let (ret, _) =
        h.try_create_channel("to an unknown f2", &payer, payer.address(), ghost, atto(10));
    h.expect_code("to an unknown f2", &ret, ExitCode::USR_UNSPECIFIED);
    h.expect_eq(
        "payer kept its funds (minus gas)",
        h.balance(payer.id) > fil(999),
        true,
    );
    h
}

/// Only Init may call the constructor: an account calling method 1 directly
/// on a live channel is refused (18).
pub fn constructor_only_from_init(bundle: &Bundle, lenient: bool) -> Harness {
    let (b, payer, payee) = genesis(bundle);
    let mut h = start(b, lenient);
    let channel = h.create_channel(&payer, &payee, atto(10));
    let before = h.view(channel.id);
    let params = fvm_ipld_encoding::to_vec(&paych_actor::ConstructorParams {
        from: payee.address(),
        to: payer.address(),
    })
    .unwrap();
    let ret = h.call_raw("constructor from an account", &payer, &channel, 1, params);
    h.expect_code("constructor from an account", &ret, ExitCode::USR_FORBIDDEN);
    h.expect_eq("state unchanged", h.view(channel.id), before);
    h
}
