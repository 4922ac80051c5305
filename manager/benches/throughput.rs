//! Throughput of the library on this machine: vouchers created and checked
//! per second (through the channel manager, on the SQLite repository and in
//! memory), next to raw secp256k1 sign and verify rates measured in the same
//! run, and messages applied per second on the devnet.
//!
//! Run with `cargo bench -p paych-devnet` (or `make bench`). Set
//! `PAYCH_BENCH_SCALE` (default 1) to multiply the iteration counts.

use paych_devnet::WalletOps;
use std::time::{Duration, Instant};

use fvm_shared::econ::TokenAmount;
use paych_client::{Key, KeyType, keys, voucher};
use paych_devnet::{Devnet, GenesisOptions, MemoryRepo, Repo, SqliteRepo};
use paych_manager::PaychManager;
use paych_manager::rules::decode_voucher;

fn scale() -> u64 {
    std::env::var("PAYCH_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

struct Rate {
    name: String,
    count: u64,
    elapsed: Duration,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

fn measure(name: &str, count: u64, mut f: impl FnMut(u64)) -> Rate {
    let start = Instant::now();
    for i in 0..count {
        f(i);
    }
    Rate {
        name: name.to_string(),
        count,
        elapsed: start.elapsed(),
    }
}

fn setup<R: Repo>(
    repo: R,
) -> (
    Devnet<R>,
    fvm_shared::address::Address,
    fvm_shared::address::Address,
    fvm_shared::address::Address,
) {
    let net = Devnet::init(repo, GenesisOptions::default()).expect("genesis");
    let wallets = net.wallet_list().expect("wallets");
    let (a, b) = (wallets[0].address, wallets[1].address);
    let ch = PaychManager::new(&net)
        .add_funds(&a, &b, &TokenAmount::from_whole(500))
        .expect("channel")
        .channel;
    (net, a, b, ch)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let n = scale();
    let mut rates = Vec::new();

    // Raw secp256k1 on a voucher's signing bytes, as a payer and payee do.
    let key = Key::generate(KeyType::Secp256k1);
    let sample = paych_actor::SignedVoucher::new(
        fvm_shared::address::Address::new_id(1000),
        0,
        1,
        TokenAmount::from_whole(1),
    );
    let bytes = sample.signing_bytes().unwrap();
    let sig = key.sign(&bytes);
    rates.push(measure(
        "raw secp256k1 sign (blake2b + ECDSA)",
        2000 * n,
        |_| {
            std::hint::black_box(key.sign(std::hint::black_box(&bytes)));
        },
    ));
    rates.push(measure(
        "raw secp256k1 verify (recover + compare)",
        2000 * n,
        |_| {
            assert!(keys::verify(
                std::hint::black_box(&sig),
                &key.address(),
                &bytes
            ));
        },
    ));

    // The SQLite repository, as the CLI uses it.
    let dir = tempfile::tempdir().unwrap();
    let (net, a, b, ch) = setup(SqliteRepo::open(dir.path()).unwrap());
    let paych = PaychManager::new(&net);
    let created = 300 * n;
    rates.push(measure(
        "voucher create (SQLite repo: lane nonce, funds check, sign, store)",
        created,
        |i| {
            paych
                .voucher_create(&ch, &TokenAmount::from_atto(1 + i), 0)
                .unwrap();
        },
    ));
    let stored = paych.voucher_list(&ch).unwrap().vouchers;
    let best = voucher::encode(&stored.last().unwrap().voucher);
    // Warm the engine (compiles the actors the dry run invokes) before timing.
    paych
        .voucher_check(&ch, &decode_voucher(&best).unwrap())
        .unwrap();
    rates.push(measure(
        "voucher check (SQLite repo: decode text, payee checks, FVM dry run)",
        100 * n,
        |_| {
            paych
                .voucher_check(&ch, &decode_voucher(&best).unwrap())
                .unwrap();
        },
    ));
    rates.push(measure(
        "messages applied: send (estimate, sign, mpool check, execute, commit)",
        50 * n,
        |_| {
            net.send(&a, &b, &TokenAmount::from_atto(1)).unwrap();
        },
    ));
    let mut amount = 1_000_000u64;
    let submits = measure(
        "messages applied: voucher submit (UpdateChannelState)",
        30 * n,
        |_| {
            amount += 1;
            let v = paych
                .voucher_create(&ch, &TokenAmount::from_atto(amount), 1)
                .unwrap();
            paych.voucher_submit(&ch, &v.voucher, &[]).unwrap();
        },
    );
    rates.push(Rate {
        name: format!("{} (incl. its create)", submits.name),
        ..submits
    });
    net.verify().unwrap();

    // The same manager over the in-memory repository: what storage costs.
    let (mem, _, _, mem_ch) = setup(MemoryRepo::new());
    let mem = PaychManager::new(&mem);
    rates.push(measure("voucher create (in-memory repo)", 300 * n, |i| {
        mem.voucher_create(&mem_ch, &TokenAmount::from_atto(1 + i), 0)
            .unwrap();
    }));

    println!();
    println!(
        "{:<92} {:>8} {:>10} {:>12}",
        "operation", "count", "seconds", "per second"
    );
    for r in &rates {
        println!(
            "{:<92} {:>8} {:>10.3} {:>12.1}",
            r.name,
            r.count,
            r.elapsed.as_secs_f64(),
            r.per_second()
        );
    }
}
