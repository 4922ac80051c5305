//! The shared voucher and address vectors (agreed by several independent
//! Filecoin implementations) against our voucher, signature and address code.

use std::path::PathBuf;

use data_encoding::HEXLOWER;
use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::{Address, Network};
use fvm_shared::econ::TokenAmount;
use paych_actor::{ModVerifyParams, SignedVoucher};
use paych_client::keys::{Key, KeyType};
use paych_client::{address, voucher};
use serde_json::Value;

fn vectors(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {} ({e})", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn num<T: std::str::FromStr>(v: &Value) -> T
where
    T::Err: std::fmt::Debug,
{
    v.as_str().expect("numbers are strings").parse().unwrap()
}

fn voucher_from_input(input: &Value) -> SignedVoucher {
    let opt_num = |field: &str| input.get(field).map(num::<i64>).unwrap_or(0);
    SignedVoucher {
        channel_addr: address::parse(input["channel"].as_str().unwrap()).unwrap(),
        time_lock_min: opt_num("time_lock_min"),
        time_lock_max: opt_num("time_lock_max"),
        secret_pre_image: input
            .get("secret_hash")
            .map(|h| HEXLOWER.decode(h.as_str().unwrap().as_bytes()).unwrap())
            .unwrap_or_default(),
        extra: input.get("extra").map(|e| ModVerifyParams {
            actor: address::parse(e["actor"].as_str().unwrap()).unwrap(),
            method: num(&e["method"]),
            data: RawBytes::new(
                HEXLOWER
                    .decode(e["data"].as_str().unwrap().as_bytes())
                    .unwrap(),
            ),
        }),
        lane: num(&input["lane"]),
        nonce: num(&input["nonce"]),
        amount: TokenAmount::from_atto(num::<u128>(&input["amount"])),
        min_settle_height: opt_num("min_settle_height"),
        merges: vec![],
        signature: None,
    }
}

#[test]
fn vouchers_built_and_signed_here_match_every_vector_byte_for_byte() {
    let doc = vectors("vouchers.json");
    let all = doc["vectors"].as_array().unwrap();
    assert!(all.len() >= 5);
    for v in all {
        let id = v["id"].as_str().unwrap();
        let key = Key::from_bytes(
            KeyType::Secp256k1,
            &HEXLOWER
                .decode(v["input"]["privkey"].as_str().unwrap().as_bytes())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            address::format(&key.address(), Network::Mainnet),
            v["signer_address"].as_str().unwrap(),
            "{id}: signer address"
        );

        let mut sv = voucher_from_input(&v["input"]);
        let signing_bytes = sv.signing_bytes().unwrap();
        assert_eq!(
            HEXLOWER.encode(&signing_bytes),
            v["signing_bytes_hex"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            HEXLOWER.encode(&actor_interfaces::blake2b_256(&signing_bytes)),
            v["digest_blake2b256_hex"].as_str().unwrap(),
            "{id}: digest"
        );

        voucher::sign(&mut sv, &key);
        let sig = sv.signature.as_ref().unwrap();
        assert_eq!(
            HEXLOWER.encode(&sig.bytes),
            v["signature_hex"].as_str().unwrap(),
            "{id}: signature"
        );
        let signed = fvm_ipld_encoding::to_vec(&sv).unwrap();
        assert_eq!(
            HEXLOWER.encode(&signed),
            v["signed_cbor_hex"].as_str().unwrap(),
            "{id}: signed CBOR"
        );
        assert_eq!(
            voucher::encode(&sv),
            v["lotus_text"].as_str().unwrap(),
            "{id}: Lotus text"
        );

        // And back: the published text decodes to the same voucher, signed by
        // the vector's signer.
        let decoded = voucher::decode(v["lotus_text"].as_str().unwrap()).unwrap();
        assert_eq!(decoded, sv, "{id}: decode");
        assert!(
            voucher::is_signed_by(&decoded, &key.address()).unwrap(),
            "{id}: signer"
        );
        let stranger = Key::from_bytes(KeyType::Secp256k1, &[9u8; 32]).unwrap();
        assert!(
            !voucher::is_signed_by(&decoded, &stranger.address()).unwrap(),
            "{id}"
        );
    }
}

#[test]
fn standard_base64_with_padding_is_not_the_lotus_text_form() {
    let doc = vectors("vouchers.json");
    let v = &doc["vectors"][0];
    assert!(voucher::decode(v["zondax_std_base64"].as_str().unwrap()).is_err());
}

#[test]
fn addresses_parse_and_format_as_every_vector_says() {
    let doc = vectors("addresses.json");
    for v in doc["vectors"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let addr = address::parse(v["text"].as_str().unwrap()).unwrap();
        assert_eq!(
            HEXLOWER.encode(&addr.to_bytes()),
            v["bytes_hex"].as_str().unwrap(),
            "{id}"
        );
        let from_bytes = Address::from_bytes(
            &HEXLOWER
                .decode(v["bytes_hex"].as_str().unwrap().as_bytes())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            address::format(&from_bytes, Network::Mainnet),
            v["mainnet"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            address::format(&from_bytes, Network::Testnet),
            v["testnet"].as_str().unwrap(),
            "{id}"
        );
        let invalid = v["invalid"]["text"].as_str().unwrap();
        assert!(
            address::parse(invalid).is_err(),
            "{id}: {invalid} must be rejected"
        );
    }
    for v in doc["extra_invalid"].as_array().unwrap() {
        let text = v["text"].as_str().unwrap();
        assert!(address::parse(text).is_err(), "{text} must be rejected");
    }
}
