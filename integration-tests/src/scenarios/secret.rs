use super::*;

pub fn secret_preimage(bundle: &Bundle, lenient: bool) -> Harness {
    let Fixture {
        mut h,
        payer,
        payee,
        channel,
        next,
    } = standard_fixture(bundle, lenient, 1);
    // No hash, empty secret: fine.
    let mut sv = next.clone();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("no hash, empty secret", &payer, &channel, &sv, &[]);
    h.expect_ok("no hash, empty secret", &ret);

    // The reference's incorrect secret: "Profesr" against "Magneto" + 25 zeros.
    let mut hash = b"Magneto".to_vec();
    hash.resize(32, 0);
    let mut sv = next.clone();
    sv.nonce += 1;
    sv.secret_pre_image = hash;
    Harness::sign(&mut sv, &payee);
    let before = h.view(channel.id);
    let ret = h.update("incorrect secret", &payer, &channel, &sv, b"Profesr");
    h.expect_code("incorrect secret", &ret, CODE_16);
    h.expect_eq("state unchanged", h.view(channel.id), before);

    // The right secret for a real blake2b-256 hash.
    let mut sv = next.clone();
    sv.nonce += 1;
    sv.secret_pre_image = actor_interfaces::blake2b_256(b"Professor").to_vec();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("correct secret", &payer, &channel, &sv, b"Professor");
    h.expect_ok("correct secret", &ret);

    // A secret longer than 256 bytes is refused even with a matching hash.
    let long = vec![1u8; 257];
    let mut sv = next.clone();
    sv.nonce += 2;
    sv.secret_pre_image = actor_interfaces::blake2b_256(&long).to_vec();
    Harness::sign(&mut sv, &payee);
    let ret = h.update("secret of 257 bytes", &payer, &channel, &sv, &long);
    h.expect_code("secret of 257 bytes", &ret, CODE_16);
    h
}
