//! Writes the fuzz targets' seed corpora (`fuzz/seeds/<target>/`): small,
//! valid inputs for every method and parser, from which libFuzzer mutates.
//! Run once after changing a target's input layout; the files are committed.
//!
//! Usage: `write-fuzz-seeds [DIR]` (default `fuzz/seeds`).

use std::path::{Path, PathBuf};

use fvm_ipld_encoding::{RawBytes, to_vec};
use fvm_shared::address::{Address, Network};
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use paych_actor::{
    ConstructorParams, Merge, ModVerifyParams, SignedVoucher, UpdateChannelStateParams,
};
use paych_client::{Key, KeyType, address, voucher};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).expect("create seed dir");
    std::fs::write(dir.join(name), bytes).expect("write seed");
}

fn sv(lane: u64, nonce: u64, amount: u64) -> SignedVoucher {
    SignedVoucher {
        signature: Some(Signature::new_bls(vec![1; 96])),
        ..SignedVoucher::new(
            Address::new_id(100),
            lane,
            nonce,
            TokenAmount::from_atto(amount),
        )
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/seeds"));

    // actor_params: [method, caller, reply, epoch, codec] ++ params. Method
    // selector 0..=3 is methods 1..=4; caller 0 payer, 1 payee, 3 init, and
    // bit 7 settles the channel first.
    let update = |v: SignedVoucher, secret: &[u8]| {
        to_vec(&UpdateChannelStateParams {
            sv: v,
            secret: secret.to_vec(),
        })
        .unwrap()
    };
    let mut seeds: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "update-new-lane",
            vec![1, 1, 0, 0, 1],
            update(sv(2, 1, 50), &[]),
        ),
        (
            "update-existing-lane",
            vec![1, 0, 0, 0, 2],
            update(sv(0, 4, 300), &[]),
        ),
        ("settle", vec![2, 0, 0, 0, 0], vec![]),
        ("collect-after-settle", vec![3, 0x81, 0, 200, 0], vec![]),
        (
            "constructor-new-key",
            vec![0, 3, 0, 0, 1],
            to_vec(&ConstructorParams {
                from: Address::new_id(101),
                to: Address::new_secp256k1(&[4; 65]).unwrap(),
            })
            .unwrap(),
        ),
    ];
    let mut merged = sv(0, 5, 150);
    merged.merges = vec![Merge { lane: 1, nonce: 9 }];
    merged.min_settle_height = 3000;
    seeds.push(("update-merge", vec![1, 1, 0, 0, 1], update(merged, &[])));
    let mut secret = sv(3, 1, 10);
    secret.secret_pre_image = actor_interfaces::blake2b_256(b"open sesame").to_vec();
    secret.extra = Some(ModVerifyParams {
        actor: Address::new_id(104),
        method: 7,
        data: RawBytes::new(vec![0x80]),
    });
    secret.time_lock_min = 5;
    secret.time_lock_max = 20;
    seeds.push((
        "update-secret-extra",
        vec![1, 1, 0, 0, 1],
        update(secret, b"open sesame"),
    ));
    for (name, header, params) in &seeds {
        let mut bytes = header.clone();
        bytes.extend_from_slice(params);
        write(&dir, "actor_params", name, &bytes);
    }

    // voucher: the Lotus text form and raw CBOR of signed vouchers.
    let secp = Key::from_seed(KeyType::Secp256k1, b"fuzz payer");
    let bls = Key::from_seed(KeyType::Bls, b"fuzz payee");
    let mut v = sv(0, 1, 1_000_000_000_000_000_000);
    v.channel_addr = Address::new_actor(b"fuzz channel");
    voucher::sign(&mut v, &secp);
    write(&dir, "voucher", "secp-text", voucher::encode(&v).as_bytes());
    write(&dir, "voucher", "secp-cbor", &to_vec(&v).unwrap());
    let mut w = sv(7, 3, 5);
    w.merges = vec![Merge { lane: 1, nonce: 2 }];
    voucher::sign(&mut w, &bls);
    write(&dir, "voucher", "bls-text", voucher::encode(&w).as_bytes());
    write(&dir, "voucher", "bls-cbor", &to_vec(&w).unwrap());

    // address: every protocol, both networks.
    let addrs = [
        Address::new_id(1234),
        secp.address(),
        bls.address(),
        Address::new_actor(b"fuzz channel"),
        Address::new_delegated(10, &[0x11; 20]).unwrap(),
    ];
    for (i, a) in addrs.iter().enumerate() {
        write(
            &dir,
            "address",
            &format!("mainnet-{i}"),
            address::format(a, Network::Mainnet).as_bytes(),
        );
        write(
            &dir,
            "address",
            &format!("testnet-{i}"),
            address::testnet(a).as_bytes(),
        );
        write(&dir, "address", &format!("bytes-{i}"), &a.to_bytes());
    }

    // amount: the forms Lotus accepts.
    for (i, text) in [
        "1",
        "2.5 FIL",
        "100 attofil",
        "-1.5",
        ".5",
        "0.000000000000000001",
        "7aFIL",
        "12345678901234567890.123456789012345678 fil",
    ]
    .iter()
    .enumerate()
    {
        write(&dir, "amount", &format!("seed-{i}"), text.as_bytes());
    }
    println!("seeds written under {}", dir.display());
}
