//! The malformed-input table: for every method, parameters that are garbage,
//! truncated, of the wrong arity or types, oversized, and calls from callers
//! that may not make them, each with the exit code the reference documents.
//!
//! The table is data; the FVM test and the mock test run it. Every case must
//! end with exactly its code (so never out of gas, never an illegal
//! instruction) and leave the channel as it was.

use fvm_ipld_encoding::{BytesSer, to_vec};
use fvm_shared::address::Address;
use fvm_shared::crypto::signature::Signature;
use fvm_shared::econ::TokenAmount;
use paych_actor::{Merge, SignedVoucher, UpdateChannelStateParams};
use serde::Serialize;

use crate::model::code;

/// Who sends a malformed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Payer,
    Payee,
    /// An account that is not a party.
    Stranger,
    /// A user (non-built-in) actor, through the probe's forwarder.
    UserActor,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub label: String,
    pub caller: Caller,
    pub method: u64,
    /// Raw parameter bytes; empty means no parameters.
    pub params: Vec<u8>,
    pub expected: u32,
}

/// What the table needs to know about the channel under test.
pub struct Context<'a> {
    /// The address vouchers name (the channel's robust address).
    pub channel: Address,
    /// Signs as the payer (the payee submits, so the payer must sign).
    pub sign_as_payer: &'a dyn Fn(&[u8]) -> Signature,
}

const CONSTRUCTOR: u64 = 1;
const UPDATE: u64 = 2;
const SETTLE: u64 = 3;
const COLLECT: u64 = 4;

fn cbor<T: Serialize>(value: &T) -> Vec<u8> {
    to_vec(value).expect("encode")
}

/// A CBOR array header for `n` items.
fn array_header(n: usize) -> Vec<u8> {
    match n {
        0..=23 => vec![0x80 | n as u8],
        24..=0xff => vec![0x98, n as u8],
        0x100..=0xffff => {
            let mut v = vec![0x99];
            v.extend((n as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![0x9a];
            v.extend((n as u32).to_be_bytes());
            v
        }
    }
}

fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = array_header(items.len());
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// Deterministic pseudo-random bytes, so the table never changes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    crate::rng::SeededRng::new(seed).bytes(len)
}

/// A voucher a payee could redeem, signed by the payer.
fn signed(ctx: &Context, mut sv: SignedVoucher) -> SignedVoucher {
    sv.signature = None;
    let bytes = sv.signing_bytes().expect("encode");
    sv.signature = Some((ctx.sign_as_payer)(&bytes));
    sv
}

fn base_voucher(ctx: &Context) -> SignedVoucher {
    SignedVoucher::new(ctx.channel, 0, 1, TokenAmount::from_atto(1))
}

/// The 11 fields of a voucher, each encoded on its own.
fn voucher_fields(sv: &SignedVoucher) -> Vec<Vec<u8>> {
    vec![
        cbor(&sv.channel_addr),
        cbor(&sv.time_lock_min),
        cbor(&sv.time_lock_max),
        cbor(&BytesSer(&sv.secret_pre_image)),
        cbor(&sv.extra),
        cbor(&sv.lane),
        cbor(&sv.nonce),
        cbor(&sv.amount),
        cbor(&sv.min_settle_height),
        cbor(&sv.merges),
        cbor(&sv.signature),
    ]
}

fn update_params(sv: &[u8], secret: &[u8]) -> Vec<u8> {
    array(&[sv.to_vec(), cbor(&BytesSer(secret))])
}

fn params_of(sv: &SignedVoucher, secret: &[u8]) -> Vec<u8> {
    cbor(&UpdateChannelStateParams {
        sv: sv.clone(),
        secret: secret.to_vec(),
    })
}

const FIELD_NAMES: [&str; 11] = [
    "channel_addr",
    "time_lock_min",
    "time_lock_max",
    "secret_pre_image",
    "extra",
    "lane",
    "nonce",
    "amount",
    "min_settle_height",
    "merges",
    "signature",
];

/// Every case, in a fixed order.
pub fn table(ctx: &Context) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |label: String, caller: Caller, method: u64, params: Vec<u8>, expected: u32| {
        cases.push(Case {
            label,
            caller,
            method,
            params,
            expected,
        })
    };
    use Caller::*;
    use code::{FORBIDDEN, ILLEGAL_ARGUMENT, SERIALIZATION, UNHANDLED_MESSAGE};

    let valid_sv = signed(ctx, base_voucher(ctx));
    let valid = params_of(&valid_sv, &[]);
    let garbage: Vec<(String, Vec<u8>)> = vec![
        ("break byte".into(), vec![0xff]),
        ("reserved additional info".into(), vec![0x1c]),
        ("lone tag".into(), vec![0xd8, 0x2a]),
        ("undefined".into(), vec![0xf7]),
        ("half-float".into(), vec![0xf9, 0x3c, 0x00]),
        ("indefinite array".into(), vec![0x9f, 0x01, 0xff]),
        ("integer".into(), vec![0x01]),
        ("text string".into(), vec![0x63, b'a', b'b', b'c']),
        ("map".into(), vec![0xa1, 0x01, 0x02]),
        ("null".into(), vec![0xf6]),
        (
            "bytes claiming 4 GiB".into(),
            vec![0x5a, 0xff, 0xff, 0xff, 0xff, 0x00],
        ),
        (
            "array claiming 2^64 items".into(),
            vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        ("20 000 nested arrays".into(), {
            let mut v = vec![0x81; 20_000];
            v.push(0x80);
            v
        }),
        ("trailing bytes after valid params".into(), {
            let mut v = valid.clone();
            v.push(0x00);
            v
        }),
    ]
    .into_iter()
    .chain((1..=6).map(|seed| (format!("noise #{seed}"), noise(seed, 17 * seed as usize))))
    .collect();

    // ----- UpdateChannelState ---------------------------------------------
    add(
        "update: no params".into(),
        Payee,
        UPDATE,
        vec![],
        ILLEGAL_ARGUMENT,
    );
    for (name, bytes) in &garbage {
        add(
            format!("update: {name}"),
            Payee,
            UPDATE,
            bytes.clone(),
            SERIALIZATION,
        );
    }
    for len in 1..valid.len() {
        add(
            format!("update: truncated to {len} of {} bytes", valid.len()),
            Payee,
            UPDATE,
            valid[..len].to_vec(),
            SERIALIZATION,
        );
    }
    let fields = voucher_fields(&valid_sv);
    for n in [0usize, 1, 3, 4] {
        let mut items = vec![array(&fields), cbor(&BytesSer(&[]))];
        items.resize(n, cbor(&0u64));
        add(
            format!("update: params of arity {n}"),
            Payee,
            UPDATE,
            array(&items),
            SERIALIZATION,
        );
    }
    for n in [0usize, 1, 10, 12, 20] {
        let mut items = fields.clone();
        items.resize(n, cbor(&0u64));
        add(
            format!("update: voucher of arity {n}"),
            Payee,
            UPDATE,
            update_params(&array(&items), &[]),
            SERIALIZATION,
        );
    }
    let text = vec![0x61, b'x'];
    for (i, name) in FIELD_NAMES.iter().enumerate() {
        let mut items = fields.clone();
        items[i] = text.clone();
        add(
            format!("update: {name} is a text string"),
            Payee,
            UPDATE,
            update_params(&array(&items), &[]),
            SERIALIZATION,
        );
    }
    add(
        "update: secret is a text string".into(),
        Payee,
        UPDATE,
        array(&[array(&fields), text.clone()]),
        SERIALIZATION,
    );
    let mut big_amount = vec![0x00];
    big_amount.extend(vec![0xff; 128]);
    let wrong_types: Vec<(usize, &str, Vec<u8>)> = vec![
        (
            0,
            "channel_addr of unknown protocol 9",
            cbor(&BytesSer(&[9, 1, 2])),
        ),
        (0, "channel_addr empty", cbor(&BytesSer(&[]))),
        (0, "channel_addr an integer", cbor(&100u64)),
        (
            1,
            "time_lock_min beyond i64",
            vec![0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            4,
            "extra of arity 2",
            array(&[cbor(&Address::new_id(5)), cbor(&1u64)]),
        ),
        (4, "extra an integer", cbor(&7u64)),
        (5, "lane negative", cbor(&-1i64)),
        (5, "lane a byte string", cbor(&BytesSer(&[0]))),
        (6, "nonce negative", cbor(&-5i64)),
        (
            6,
            "nonce beyond u64 (bignum tag)",
            vec![0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        (7, "amount an integer", cbor(&1u64)),
        (7, "amount with sign byte 2", cbor(&BytesSer(&[2, 1]))),
        (7, "amount of 129 bytes", cbor(&BytesSer(&big_amount))),
        (
            8,
            "min_settle_height a float",
            vec![0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
        ),
        (9, "merges a map", vec![0xa0]),
        (9, "merge of arity 1", array(&[array(&[cbor(&1u64)])])),
        (
            9,
            "merge of arity 3",
            array(&[array(&[cbor(&1u64), cbor(&2u64), cbor(&3u64)])]),
        ),
        (
            9,
            "merge lane negative",
            array(&[array(&[cbor(&-1i64), cbor(&2u64)])]),
        ),
        (
            10,
            "signature of unknown type 9",
            cbor(&BytesSer(&[9, 1, 2, 3])),
        ),
        (10, "signature empty", cbor(&BytesSer(&[]))),
        (10, "signature an array", array(&[cbor(&1u64)])),
    ];
    for (i, name, bytes) in wrong_types {
        let mut items = fields.clone();
        items[i] = bytes;
        add(
            format!("update: {name}"),
            Payee,
            UPDATE,
            update_params(&array(&items), &[]),
            SERIALIZATION,
        );
    }
    // Decodable but oversized: refused by the actor's checks with 16.
    for len in [257usize, 1000, 65_536] {
        add(
            format!("update: secret of {len} bytes"),
            Payee,
            UPDATE,
            params_of(&valid_sv, &vec![7; len]),
            ILLEGAL_ARGUMENT,
        );
    }
    for n in [1000usize, 5000] {
        let mut sv = base_voucher(ctx);
        sv.merges = (0..n)
            .map(|i| Merge {
                lane: 1000 + i as u64,
                nonce: 1,
            })
            .collect();
        let sv = signed(ctx, sv);
        add(
            format!("update: {n} merges of unknown lanes"),
            Payee,
            UPDATE,
            params_of(&sv, &[]),
            ILLEGAL_ARGUMENT,
        );
    }
    {
        let mut sv = base_voucher(ctx);
        sv.merges = vec![Merge { lane: 0, nonce: 2 }; 3000];
        let sv = signed(ctx, sv);
        add(
            "update: 3000 merges of the voucher's own lane".into(),
            Payee,
            UPDATE,
            params_of(&sv, &[]),
            ILLEGAL_ARGUMENT,
        );
    }
    {
        let mut sv = base_voucher(ctx);
        sv.secret_pre_image = vec![0xab; 10_000];
        let sv = signed(ctx, sv);
        add(
            "update: 10 000-byte secret hash".into(),
            Payee,
            UPDATE,
            params_of(&sv, b"secret"),
            ILLEGAL_ARGUMENT,
        );
    }
    {
        let mut sv = base_voucher(ctx);
        sv.signature = Some(Signature::new_secp256k1(vec![0x5a; 20_000]));
        add(
            "update: 20 000-byte garbage signature".into(),
            Payee,
            UPDATE,
            params_of(&sv, &[]),
            ILLEGAL_ARGUMENT,
        );
    }
    {
        let sv = base_voucher(ctx);
        add(
            "update: unsigned voucher".into(),
            Payee,
            UPDATE,
            params_of(&sv, &[]),
            ILLEGAL_ARGUMENT,
        );
    }
    // Wrong callers. Parameters are decoded before the caller is checked.
    add(
        "update: valid voucher from a stranger".into(),
        Stranger,
        UPDATE,
        valid.clone(),
        FORBIDDEN,
    );
    add(
        "update: garbage from a stranger".into(),
        Stranger,
        UPDATE,
        vec![0xff],
        SERIALIZATION,
    );
    add(
        "update: valid voucher from a user actor".into(),
        UserActor,
        UPDATE,
        valid.clone(),
        FORBIDDEN,
    );

    // ----- Settle and Collect -------------------------------------------------
    for (method, name) in [(SETTLE, "settle"), (COLLECT, "collect")] {
        for (pname, bytes) in garbage.iter().take(6) {
            add(
                format!("{name}: params ({pname})"),
                Payer,
                method,
                bytes.clone(),
                ILLEGAL_ARGUMENT,
            );
        }
        add(
            format!("{name}: an empty array as params"),
            Payee,
            method,
            vec![0x80],
            ILLEGAL_ARGUMENT,
        );
        add(
            format!("{name}: a voucher as params"),
            Payee,
            method,
            valid.clone(),
            ILLEGAL_ARGUMENT,
        );
        add(
            format!("{name}: 60 000 bytes of params"),
            Payer,
            method,
            noise(99, 60_000),
            ILLEGAL_ARGUMENT,
        );
        add(
            format!("{name}: from a stranger"),
            Stranger,
            method,
            vec![],
            FORBIDDEN,
        );
        add(
            format!("{name}: from a user actor"),
            UserActor,
            method,
            vec![],
            FORBIDDEN,
        );
    }
    add(
        "collect: before settling, from the payee".into(),
        Payee,
        COLLECT,
        vec![],
        FORBIDDEN,
    );

    // ----- Constructor (only init may call it) ----------------------------
    let ctor_valid = array(&[cbor(&Address::new_id(101)), cbor(&Address::new_id(102))]);
    add(
        "constructor: no params".into(),
        Payer,
        CONSTRUCTOR,
        vec![],
        ILLEGAL_ARGUMENT,
    );
    for (name, bytes) in garbage.iter().take(8) {
        add(
            format!("constructor: {name}"),
            Payer,
            CONSTRUCTOR,
            bytes.clone(),
            SERIALIZATION,
        );
    }
    for len in 1..ctor_valid.len() {
        add(
            format!("constructor: truncated to {len} bytes"),
            Payer,
            CONSTRUCTOR,
            ctor_valid[..len].to_vec(),
            SERIALIZATION,
        );
    }
    add(
        "constructor: one address".into(),
        Payer,
        CONSTRUCTOR,
        array(&[cbor(&Address::new_id(101))]),
        SERIALIZATION,
    );
    add(
        "constructor: an address of unknown protocol".into(),
        Payer,
        CONSTRUCTOR,
        array(&[cbor(&BytesSer(&[7, 1])), cbor(&Address::new_id(102))]),
        SERIALIZATION,
    );
    add(
        "constructor: valid params from an account".into(),
        Payer,
        CONSTRUCTOR,
        ctor_valid.clone(),
        FORBIDDEN,
    );
    add(
        "constructor: valid params from a user actor".into(),
        UserActor,
        CONSTRUCTOR,
        ctor_valid,
        FORBIDDEN,
    );

    // ----- Methods the channel does not have ------------------------------
    for method in [5u64, 6, 255, (1 << 24) - 1, 1 << 24, 1 << 32] {
        add(
            format!("method {method}: no params"),
            Payer,
            method,
            vec![],
            UNHANDLED_MESSAGE,
        );
        add(
            format!("method {method}: garbage"),
            Payee,
            method,
            vec![0xff, 0x00],
            UNHANDLED_MESSAGE,
        );
    }
    add(
        "method 5: from a user actor".into(),
        UserActor,
        5,
        vec![],
        FORBIDDEN,
    );
    cases
}
