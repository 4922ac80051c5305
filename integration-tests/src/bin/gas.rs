//! `make gas`: gas used per step of the reference sequence, next to what
//! Filecoin's built-in payment channel used for the same steps in the same FVM
//! (builtin-actors v18, measured in fvm 4.8.4 at network version 27), plus the
//! Wasm size.
//!
//! `gas --breakdown` also lists, per step, the gas charged in each actor's
//! frame by charge name (wasm execution, IPLD reads and writes, sends, ...).
//!
//! With `PAYCH_BUILTIN_BUNDLE=bundle.car` the machine runs that bundle's real
//! system/init/account actors and a second column measures the bundle's own
//! payment channel, so both are measured in one run.

use std::collections::BTreeMap;

use fvm::executor::ApplyRet;
use fvm::trace::ExecutionEvent;
use fvm_shared::econ::TokenAmount;
use paych_actor::Merge;
use paych_bundle::{BuiltinType, Bundle};
use paych_integration_tests::{Harness, HarnessBuilder};

/// (step, gas used by the built-in payment channel, measured with real
/// built-ins in the same FVM)
const STEPS: [(&str, u64); 9] = [
    ("create channel: Exec on init with 10 FIL", 8_181_648),
    (
        "first voucher on a new lane (lane 0, nonce 1, 2 FIL)",
        7_354_830,
    ),
    (
        "voucher on an existing lane (lane 0, nonce 2, 4 FIL)",
        7_374_769,
    ),
    ("a second lane (lane 1, nonce 1, 1 FIL)", 7_422_433),
    ("a third lane (lane 2, nonce 1, 1 FIL)", 7_476_296),
    (
        "voucher with a merge (lane 0, nonce 3, 5 FIL, merging lane 2)",
        7_498_132,
    ),
    ("add funds: plain send of 5 FIL", 1_226_263),
    ("settle", 2_904_378),
    ("collect at settling_at", 3_164_234),
];
const BUILTIN_WASM_SIZE: usize = 380_794;

/// Gas charged per (actor frame, charge name), in milligas.
type Breakdown = BTreeMap<(String, String), i64>;

/// Attributes every gas charge of a message to the actor whose frame made it.
fn breakdown(ret: &ApplyRet) -> Breakdown {
    let mut frames = vec!["message".to_string()];
    let mut out = Breakdown::new();
    for event in &ret.exec_trace {
        match event {
            ExecutionEvent::Call { to, method, .. } => frames.push(format!("{to} m{method}")),
            ExecutionEvent::CallReturn(..) | ExecutionEvent::CallError(_) => {
                frames.pop();
            }
            ExecutionEvent::GasCharge(charge) => {
                let frame = frames.last().cloned().unwrap_or_default();
                *out.entry((frame, charge.name.to_string())).or_default() +=
                    charge.total().as_milligas() as i64;
            }
            _ => {}
        }
    }
    out
}

/// Runs the sequence and returns the gas of each step (and its breakdown
/// when tracing).
fn measure(bundle: &Bundle, tracing: bool) -> (Vec<u64>, Vec<Breakdown>) {
    let fil = TokenAmount::from_whole;
    let mut b = HarnessBuilder::new(bundle.clone()).expect("genesis");
    if tracing {
        b = b.with_tracing();
    }
    let payer = b.secp_account(fil(1000));
    let payee = b.secp_account(fil(1000));
    let mut h = b.build().expect("machine");
    h.set_epoch(1);

    let mut gas = Vec::new();
    let mut breakdowns = Vec::new();
    let mut record = |h: &Harness, label: &str, ret: &ApplyRet| {
        h.expect_ok(label, ret);
        gas.push(ret.msg_receipt.gas_used);
        breakdowns.push(breakdown(ret));
    };
    let (ret, channel) =
        h.try_create_channel("create", &payer, payer.address(), payee.address(), fil(10));
    record(&h, "create", &ret);
    let channel = channel.expect("channel");
    let vouchers: [(u64, u64, i64, Vec<Merge>); 5] = [
        (0, 1, 2, vec![]),
        (0, 2, 4, vec![]),
        (1, 1, 1, vec![]),
        (2, 1, 1, vec![]),
        (0, 3, 5, vec![Merge { lane: 2, nonce: 2 }]),
    ];
    for (lane, nonce, amount, merges) in vouchers {
        let mut sv = h.voucher(&channel, lane, nonce, fil(amount));
        sv.merges = merges;
        Harness::sign(&mut sv, &payer);
        let ret = h.update("voucher", &payee, &channel, &sv, &[]);
        record(&h, "voucher", &ret);
    }
    let ret = h.add_funds("add funds", &payer, &channel, fil(5));
    record(&h, "add funds", &ret);
    let ret = h.settle("settle", &payer, &channel);
    record(&h, "settle", &ret);
    let settling_at = h.channel_state(&channel).expect("channel").settling_at;
    h.set_epoch(settling_at);
    let ret = h.collect("collect", &payee, &channel);
    record(&h, "collect", &ret);
    (gas, breakdowns)
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

fn main() -> anyhow::Result<()> {
    let real = Bundle::from_env()?;
    let ours_bundle = match &real {
        Some(real) => real.clone().with_our_payment_channel()?,
        None => Bundle::devnet(),
    };
    println!(
        "machine: fvm 4.8.4, network version 27, built-ins: {}",
        ours_bundle.origin()
    );
    if real.is_none() {
        println!(
            "note: init and account are the devnet stand-ins; set PAYCH_BUILTIN_BUNDLE to a \
             builtin-actors CAR to measure with the real ones (as the built-in column was)."
        );
    }
    let tracing = std::env::args().any(|a| a == "--breakdown");
    let (ours, details) = measure(&ours_bundle, tracing);
    let theirs = real.as_ref().map(|b| measure(b, false).0);

    println!();
    print!(
        "{:<64} {:>12} {:>12} {:>8}",
        "step", "gas (ours)", "built-in*", "ratio"
    );
    if theirs.is_some() {
        print!(" {:>14}", "bundle's own");
    }
    println!();
    let mut totals = (0u64, 0u64, 0u64);
    for (i, ((label, target), used)) in STEPS.iter().zip(&ours).enumerate() {
        // The target: at most the built-in's gas on every step. (A voucher
        // cannot cost much less than 0.87x: inclusion, the account actor's
        // signature check and the state layout are fixed.)
        let mark = if used <= target {
            ""
        } else {
            "  (over target)"
        };
        print!(
            "{label:<64} {used:>12} {target:>12} {:>8}",
            percent(*used, *target)
        );
        if let Some(theirs) = &theirs {
            print!(" {:>14}", theirs[i]);
            totals.2 += theirs[i];
        }
        println!("{mark}");
        totals.0 += used;
        totals.1 += target;
    }
    print!(
        "{:<64} {:>12} {:>12} {:>8}",
        "total",
        totals.0,
        totals.1,
        percent(totals.0, totals.1)
    );
    if theirs.is_some() {
        print!(" {:>14}", totals.2);
    }
    println!();

    let size = paych_bundle::wasm::PAYCH_ACTOR.len();
    println!();
    println!(
        "payment channel Wasm: {size} bytes; built-in: {BUILTIN_WASM_SIZE} bytes ({}; size costs no gas in FVM 4)",
        percent(size as u64, BUILTIN_WASM_SIZE as u64)
    );
    if let Some(real) = &real
        && let Some(wasm) = real.wasm(BuiltinType::PaymentChannel)
    {
        println!(
            "the bundle's own payment channel Wasm: {} bytes",
            wasm.len()
        );
    }
    println!();
    println!(
        "* built-in: Filecoin's builtin-actors v18 payment channel, real init/account, fvm 4.8.4, nv 27."
    );

    if tracing {
        for ((label, _), detail) in STEPS.iter().zip(&details) {
            println!("\n{label}");
            for ((frame, name), milligas) in detail {
                println!("  {frame:<40} {name:<36} {:>12}", milligas / 1000);
            }
        }
    }
    Ok(())
}
