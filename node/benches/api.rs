//! Throughput of the node's JSON-RPC API on this machine, next to the same
//! work done in-process in the same run: vouchers checked
//! (`PaychVoucherCheckValid`) and added (`PaychVoucherAdd`) per second, and
//! messages per second through the pool (`MpoolPushMessage` until
//! included), each with 1 and with 8 concurrent clients over loopback HTTP.
//!
//! Run with `make bench` (or `cargo bench -p paych-node --bench api`). Set
//! `PAYCH_BENCH_SCALE` (default 1) to multiply the counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fvm_ipld_encoding::RawBytes;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use fvm_shared::message::Message;
use paych_actor::SignedVoucher;
use paych_client::{Key, voucher};
use paych_devnet::{GenesisOptions, LocalDevnet, Repo};
use paych_manager::PaychManager;
use paych_node::api::Node as _;
use paych_node::daemon::{self, ServeOptions};
use paych_node::full::{self, BlockTime, FullNode};
use paych_node::lotus_json::{FromLotus, ToLotus};
use paych_node::rpc::Api;
use paych_node::server::DEFAULT_MAX_REQUEST;
use serde_json::{Value, json};

const CLIENTS: usize = 8;

fn scale() -> usize {
    std::env::var("PAYCH_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

/// A JSON-RPC client over HTTP with the admin token.
#[derive(Clone)]
struct Client {
    agent: ureq::Agent,
    url: String,
    authorization: String,
}

impl Client {
    fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({
            "jsonrpc": "2.0", "id": 1, "method": format!("Filecoin.{method}"), "params": params,
        });
        let response = self
            .agent
            .post(&self.url)
            .set("Authorization", &self.authorization)
            .send_json(body)
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let answer: Value = response.into_json().expect("a JSON answer");
        if let Some(error) = answer.get("error") {
            panic!("{method}: {error}");
        }
        answer["result"].clone()
    }
}

/// `count` operations split over `clients` threads (client `c` does items
/// `c, c + clients, ...`); the wall time.
fn timed<T: Sync>(items: &[T], clients: usize, op: impl Fn(usize, &T) + Sync) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for c in 0..clients {
            let op = &op;
            scope.spawn(move || {
                for item in items.iter().skip(c).step_by(clients) {
                    op(c, item);
                }
            });
        }
    });
    started.elapsed()
}

/// Vouchers for `lane` of `channel` signed by `payer`: nonces 1.., amounts
/// 1, 2, ... attoFIL (each adds 1 to the lane).
fn vouchers(channel: Address, lane: u64, count: usize, payer: &Key) -> Vec<SignedVoucher> {
    (1..=count as u64)
        .map(|n| {
            let mut sv = SignedVoucher::new(channel, lane, n, TokenAmount::from_atto(n));
            voucher::sign(&mut sv, payer);
            sv
        })
        .collect()
}

/// `count` vouchers for adding with `clients` clients: client `c` adds
/// lane `first_lane + c` in nonce order (item `i` goes to client
/// `i % clients`).
fn add_batches(
    channel: Address,
    first_lane: u64,
    count: usize,
    clients: usize,
    payer: &Key,
) -> Vec<SignedVoucher> {
    let per_client = count / clients;
    let lanes: Vec<Vec<SignedVoucher>> = (0..clients)
        .map(|c| vouchers(channel, first_lane + c as u64, per_client, payer))
        .collect();
    (0..per_client)
        .flat_map(|n| lanes.iter().map(move |lane| lane[n].clone()))
        .collect()
}

fn send(from: Address, to: Address) -> Message {
    Message {
        version: 0,
        from,
        to,
        sequence: 0,
        value: TokenAmount::from_atto(1),
        method_num: 0,
        params: RawBytes::default(),
        gas_limit: 0,
        gas_fee_cap: TokenAmount::default(),
        gas_premium: TokenAmount::default(),
    }
}

struct Row {
    name: &'static str,
    count: usize,
    /// In-process, API with 1 client, API with 8 clients.
    times: [Duration; 3],
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    let n = scale();
    let dir = tempfile::tempdir().expect("temp dir");
    let (net, _) = LocalDevnet::open_or_init_dir(dir.path(), || Ok(GenesisOptions::default()))
        .expect("a devnet repo");
    let node = Arc::new(FullNode::new(net).expect("the full node"));
    let served = full::served(node.clone(), BlockTime::OnDemand, false, Api::new());
    let options = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_request: DEFAULT_MAX_REQUEST,
    };
    let background = daemon::spawn(dir.path(), served, &options).expect("the node serves");
    let client = Client {
        agent: ureq::AgentBuilder::new()
            .max_idle_connections_per_host(CLIENTS)
            .build(),
        url: format!("{}/rpc/v1", background.info.url),
        authorization: format!("Bearer {}", background.info.token.clone().unwrap()),
    };
    let keys = node.devnet().repo().read(|s| s.keys()).expect("the wallet");
    let addr: Vec<Address> = keys.iter().map(Key::address).collect();
    let manager = PaychManager::new(&*node);

    // Three channels (each party's key is in the wallet, so this node both
    // signs and receives): checks on the first, then each add run on a
    // channel of its own, so every run starts from an empty voucher store.
    let channels: Vec<(Address, &Key)> = (0..3)
        .map(|i| {
            let (from, to) = (addr[i], addr[(i + 1) % 3]);
            let info = client.call(
                "PaychGet",
                json!([from.to_lotus(), to.to_lotus(), "100000000000000000000", {"OffChain": false}]),
            );
            let ch = client.call("PaychGetWaitReady", json!([info["WaitSentinel"]]));
            let ch = Address::from_lotus(&ch).expect("a channel address");
            (ch, &keys[i])
        })
        .collect();

    let mut rows = Vec::new();

    // Checks: a voucher the channel would redeem, checked again and again
    // (a check stores nothing).
    let (ch, payer) = channels[0];
    let sv = vouchers(ch, 0, 1, payer).remove(0);
    manager.voucher_check(&ch, &sv).expect("valid"); // warms the engine
    let checks = vec![sv.clone(); 1200 * n];
    let sv_json = sv.to_lotus();
    let ch_json = ch.to_lotus();
    let check_api = |_: usize, _: &SignedVoucher| {
        client.call("PaychVoucherCheckValid", json!([ch_json, sv_json]));
    };
    rows.push(Row {
        name: "voucher check (PaychVoucherCheckValid)",
        count: checks.len(),
        times: [
            timed(&checks, 1, |_, sv| {
                manager.voucher_check(&ch, sv).expect("valid");
            }),
            timed(&checks, 1, check_api),
            timed(&checks, CLIENTS, check_api),
        ],
    });

    // Adds: new vouchers signed by the payer, each adding 1 attoFIL to its
    // lane; with 8 clients each adds its own lane in nonce order.
    let adds = 720 * n;
    let zero = TokenAmount::default();
    let mut add_times = [Duration::ZERO; 3];
    for (run, clients) in [(0, 1), (1, 1), (2, CLIENTS)] {
        let (ch, payer) = channels[run];
        let batch = add_batches(ch, 1, adds, clients, payer);
        let ch_json = ch.to_lotus();
        add_times[run] = if run == 0 {
            timed(&batch, 1, |_, sv| {
                let added = manager.voucher_add(&ch, sv, &zero).expect("added");
                assert!(added.added);
            })
        } else {
            timed(&batch, clients, |_, sv| {
                let delta = client.call(
                    "PaychVoucherAdd",
                    json!([ch_json, sv.to_lotus(), null, "0"]),
                );
                assert_eq!(delta, "1", "each voucher adds 1 attoFIL");
            })
        };
        let stored = manager.voucher_list(&ch).expect("the list").vouchers.len();
        assert_eq!(stored, batch.len(), "every voucher stored once");
    }
    rows.push(Row {
        name: "voucher add (PaychVoucherAdd)",
        count: adds,
        times: add_times,
    });

    // Messages: pushed through the pool (nonce, gas estimate, signature),
    // timed until every one is in a block.
    let messages = 360 * n;
    let items: Vec<usize> = (0..messages).collect();
    let in_process = timed(&items, 1, |_, _| {
        node.push_message(send(addr[0], addr[1])).expect("pooled");
    });
    let waited = Instant::now();
    while !node.pool_is_empty().expect("the pool") {
        std::thread::sleep(Duration::from_millis(2));
    }
    let in_process = in_process + waited.elapsed();
    let through_api = |clients: usize| {
        timed(&(0..clients).collect::<Vec<_>>(), clients, |c, _| {
            let (from, to) = (addr[c % 3], addr[(c + 1) % 3]);
            let message = send(from, to).to_lotus();
            let pushed: Vec<Value> = (0..messages / clients)
                .map(|_| client.call("MpoolPushMessage", json!([message, null]))["CID"].clone())
                .collect();
            for cid in pushed {
                let found = client.call("StateWaitMsg", json!([cid, 1, -1, true]));
                assert_eq!(found["Receipt"]["ExitCode"], 0);
            }
        })
    };
    rows.push(Row {
        name: "messages pushed until included (MpoolPushMessage)",
        count: messages,
        times: [in_process, through_api(1), through_api(CLIENTS)],
    });
    node.devnet().verify().expect("the chain verifies");
    background.stop().expect("the node stops");

    println!();
    println!(
        "API throughput: loopback HTTP, {} cores; in-process = the same work called directly on the same node, same run",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<52} {:>6} {:>14} {:>16} {:>16}",
        "operation (per second)", "count", "in-process", "API, 1 client", "API, 8 clients"
    );
    for row in &rows {
        let rate = |t: &Duration| row.count as f64 / t.as_secs_f64();
        println!(
            "{:<52} {:>6} {:>14.1} {:>16.1} {:>16.1}",
            row.name,
            row.count,
            rate(&row.times[0]),
            rate(&row.times[1]),
            rate(&row.times[2])
        );
    }
}
