//! The node over real HTTP and WebSocket on loopback, each test on an
//! in-process full node over a temporary devnet repo (with its block producer
//! and head observer running):
//!
//! - bad input gets go-jsonrpc's code, HTTP status and body (the reference,
//!   `lotus-api.md` §1-2), the node keeps serving, and nothing stored changes;
//!   junk of every JSON type as any method's params never panics;
//! - WebSocket subscriptions: a subscriber that vanishes mid-stream harms
//!   nobody, `xrpc.cancel` ends a stream with `xrpc.ch.close`, subscribers
//!   joining while blocks race in get each head change once, in order; v0's
//!   differences from v1;
//! - a bounded load test: concurrent clients creating vouchers (own lanes
//!   and one shared lane), adding the same received vouchers and pushing
//!   messages, after which no nonce or voucher is lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use cid::Cid;
use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::SignedVoucher;
use paych_devnet::{GenesisOptions, LocalDevnet, Repo};
use paych_node::auth::{Perm, Secret};
use paych_node::daemon::{self, Background, ServeOptions};
use paych_node::full::{self, BlockTime, FullNode};
use paych_node::lotus_json::{FromLotus, ToLotus};
use paych_node::rpc::Api;
use paych_node::server::{self, DEFAULT_MAX_REQUEST, Service};
use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;

// ----- the node and an HTTP client -----

/// An in-process full node served on 127.0.0.1 (port chosen by the OS),
/// blocks produced as soon as a message is pooled.
struct Node {
    background: Option<Background>,
    node: Arc<FullNode>,
    url: String,
    admin: String,
    secret: Secret,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (net, _) = LocalDevnet::open_or_init_dir(dir.path(), || Ok(GenesisOptions::default()))
            .expect("a devnet repo");
        let node = Arc::new(FullNode::new(net).expect("the full node"));
        let served = full::served(node.clone(), BlockTime::OnDemand, true, Api::new());
        let options = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            max_request: DEFAULT_MAX_REQUEST,
        };
        let background = daemon::spawn(dir.path(), served, &options).expect("the node serves");
        let secret = daemon::secret(dir.path()).expect("the repo's secret");
        Self {
            url: background.info.url.clone(),
            admin: background.info.token.clone().expect("an admin token"),
            background: Some(background),
            node,
            secret,
            _dir: dir,
        }
    }

    fn v1(&self) -> String {
        format!("{}/rpc/v1", self.url)
    }

    fn v0(&self) -> String {
        format!("{}/rpc/v0", self.url)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.admin)
    }

    /// `method` on v1 with the admin token; its result (any error fails).
    fn call(&self, method: &str, params: Value) -> Value {
        result(&post_json(
            &self.v1(),
            Some(&self.bearer()),
            &request(method, params),
        ))
    }

    /// Waits for the message `cid` (v1 StateWaitMsg); its MsgLookup.
    fn wait(&self, cid: &Value) -> Value {
        self.call("StateWaitMsg", json!([cid, 1, -1, true]))
    }

    /// `Version` still answers (the node kept serving).
    fn serving(&self) {
        let version = self.call("Version", json!([]));
        assert_eq!(version["APIVersion"], 131840);
    }

    /// Funds a new channel `from` -> `to` with PaychGet and waits for it.
    fn channel(&self, from: &Value, to: &Value, amount: &str) -> Value {
        let info = self.call("PaychGet", json!([from, to, amount, { "OffChain": false }]));
        assert_eq!(info["Channel"], "<empty>", "a new channel: {info}");
        let channel = self.call("PaychGetWaitReady", json!([info["WaitSentinel"]]));
        assert!(channel.as_str().unwrap().starts_with("t2"), "{channel}");
        channel
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(background) = self.background.take() {
            let _ = background.stop();
        }
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The error's code and message (the body must be one error response).
    fn error(&self) -> (i64, String) {
        let body = self.json();
        assert!(
            body.get("result").is_none(),
            "an error has no result: {body}"
        );
        assert_eq!(body["jsonrpc"], "2.0");
        let code = body["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error code: {body}"));
        let message = body["error"]["message"].as_str().unwrap().to_string();
        (code, message)
    }
}

static AGENT: LazyLock<ureq::Agent> = LazyLock::new(|| {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
});

fn post(url: &str, authorization: Option<&str>, body: &[u8]) -> Reply {
    let mut req = AGENT.post(url).set("Content-Type", "application/json");
    if let Some(value) = authorization {
        req = req.set("Authorization", value);
    }
    let response = match req.send_bytes(body) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("POST {url}: {e}"),
    };
    let status = response.status();
    let content_type = response.header("Content-Type").map(str::to_string);
    let mut body = String::new();
    response
        .into_reader()
        .read_to_string(&mut body)
        .expect("a readable body");
    Reply {
        status,
        content_type,
        body,
    }
}

/// A POST whose answer may come before the body is sent (a body over the
/// limit): the body is written on one thread while the answer is read on
/// this one, and the server may close the connection before the client is
/// done writing (go-jsonrpc's server does the same).
fn post_oversized(url: &str, authorization: &str, body: &[u8]) -> Reply {
    use std::io::Write;
    let (host, path) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .unwrap();
    let mut stream = TcpStream::connect(host).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut writer = stream.try_clone().unwrap();
    let mut answer = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Refused part-way: the answer is already on its way.
            let _ = writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.write_all(body));
        });
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                // A reset after the answer: it was all read.
                Err(e) if e.kind() == ErrorKind::ConnectionReset && !answer.is_empty() => break,
                Err(e) => panic!("reading the answer: {e}"),
            }
        }
        // Unblocks the writer if it is still writing.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let text = String::from_utf8(answer).expect("a text answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-type: ")
            .map(str::to_string)
    });
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.parse().unwrap())
        })
        .expect("a content length");
    assert_eq!(body.len(), length, "the whole body: {body:?}");
    Reply {
        status,
        content_type,
        body: body.to_string(),
    }
}

fn post_json(url: &str, authorization: Option<&str>, body: &Value) -> Reply {
    post(url, authorization, body.to_string().as_bytes())
}

fn request(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": format!("Filecoin.{method}"), "params": params })
}

/// A success's result.
fn result(reply: &Reply) -> Value {
    let body = reply.json();
    assert_eq!(reply.status, 200, "{body}");
    assert!(body.get("error").is_none(), "an error: {body}");
    body["result"].clone()
}

/// Asserts a bad request's HTTP status, code and message.
fn assert_error(reply: &Reply, status: u16, code: i64, message: &str) {
    let (got_code, got_message) = reply.error();
    assert_eq!(
        (reply.status, got_code),
        (status, code),
        "status and code for {:?}",
        reply.body
    );
    assert!(
        got_message.contains(message),
        "message {got_message:?} lacks {message:?}"
    );
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert!(reply.body.ends_with('\n'), "a trailing newline");
}

/// What the repository holds that a request could change: head, messages,
/// pool, wallet, channels and their vouchers, the latest block.
fn stored(node: &FullNode) -> String {
    node.devnet()
        .repo()
        .read(|s| {
            let keys: Vec<_> = s.keys()?.iter().map(|k| k.address()).collect();
            let pool: Vec<Cid> = s.pool()?.iter().map(|m| m.cid()).collect();
            let mut out = format!(
                "head {:?}; {} messages; pool {pool:?}; keys {keys:?}; block {:?}",
                s.head()?,
                s.message_count()?,
                s.latest_chain_block()?.map(|b| b.cid)
            );
            for channel in s.channels()? {
                out += &format!("; {channel:?}: {:?}", s.vouchers(&channel.robust)?);
            }
            Ok(out)
        })
        .expect("the repo reads")
}

fn wallets(node: &Node) -> Vec<Value> {
    let list = node.call("WalletList", json!([]));
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "the devnet's three funded wallets");
    list
}

/// A plain send for MpoolPushMessage: the node fills nonce and gas.
fn send(from: &Value, to: &Value, atto: u64) -> Value {
    json!({
        "Version": 0, "To": to, "From": from, "Nonce": 0, "Value": atto.to_string(),
        "GasLimit": 0, "GasFeeCap": "0", "GasPremium": "0", "Method": 0, "Params": null,
    })
}

/// Runs `f` on a thread of its own and fails if it takes longer than
/// `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match finished.recv_timeout(limit) {
        Ok(value) => {
            worker.join().unwrap();
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {limit:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: pass its panic on.
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
    }
}

// ----- bad input -----

#[test]
fn bad_input_gets_go_jsonrpc_s_answer_and_changes_nothing() {
    let node = Node::start();
    let w = wallets(&node);
    // Something stored to protect: a channel with a voucher.
    let ch = node.channel(&w[0], &w[1], "10000000000000000000");
    let created = node.call("PaychVoucherCreate", json!([ch, "1000", 0]));
    assert_eq!(created["Voucher"]["Nonce"], 1);
    // The head is quiet now: nothing is pooled, so no block comes.
    let before = stored(&node.node);
    let head = node.call("ChainHead", json!([]));
    let channels = node.call("PaychList", json!([]));
    let vouchers = node.call("PaychVoucherList", json!([ch]));
    let unchanged = |what: &str| {
        node.serving();
        assert_eq!(stored(&node.node), before, "{what} changed the repo");
        assert_eq!(node.call("ChainHead", json!([])), head, "{what}");
        assert_eq!(node.call("PaychList", json!([])), channels, "{what}");
        assert_eq!(
            node.call("PaychVoucherList", json!([ch])),
            vouchers,
            "{what}"
        );
        assert_eq!(
            node.call("WalletList", json!([])).as_array().unwrap().len(),
            3
        );
    };
    let admin = node.bearer();
    let v1 = node.v1();
    let call = |body: &[u8]| post(&v1, Some(&admin), body);

    // Malformed JSON: -32700, HTTP 500.
    for body in [
        &br#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.Version""#[..],
        b"{]",
        b"\xff\xfe not even UTF-8",
        b"nul\x00l",
    ] {
        assert_error(&call(body), 500, -32700, "Parse error");
    }
    unchanged("malformed JSON");

    // An empty body or batch: -32600, HTTP 400.
    assert_error(&call(b""), 400, -32600, "empty");
    assert_error(&call(b"  \n"), 400, -32600, "empty");
    assert_error(&call(b"[]"), 400, -32600, "empty batch");
    unchanged("an empty body or batch");

    // The wrong number of params: -32602, HTTP 500, go-jsonrpc's wording.
    let count = |method: &str, params: Value, got: usize, want: usize| {
        assert_error(
            &post_json(&v1, Some(&admin), &request(method, params)),
            500,
            -32602,
            &format!("wrong param count (method 'Filecoin.{method}'): {got} != {want}"),
        );
    };
    count("WalletBalance", json!([]), 0, 1);
    count("PaychVoucherCreate", json!([ch, "5000", 1, 2]), 4, 3);
    count("PaychVoucherAdd", json!([ch]), 1, 4);
    count("MpoolPushMessage", json!([send(&w[0], &w[1], 1)]), 1, 2);
    count("Version", json!([1]), 1, 0);
    // Missing params for a method that takes some: zero of them.
    let mut no_params = request("WalletBalance", json!([]));
    no_params.as_object_mut().unwrap().remove("params");
    assert_error(
        &post_json(&v1, Some(&admin), &no_params),
        500,
        -32602,
        "0 != 1",
    );
    unchanged("wrong param counts");

    // Params of the wrong type: -32700, HTTP 500, naming the param.
    let typed = |method: &str, params: Value, index: usize| {
        assert_error(
            &post_json(&v1, Some(&admin), &request(method, params)),
            500,
            -32700,
            &format!("unmarshaling params for 'Filecoin.{method}' (param: {index})"),
        );
    };
    // A JSON number where a BigInt string is required.
    typed("PaychVoucherCreate", json!([ch, 5000, 1]), 1);
    typed("PaychVoucherCreate", json!([ch, "5000", "1"]), 2);
    typed("PaychVoucherCreate", json!([ch, "5000", -1]), 2);
    typed(
        "PaychVoucherCreate",
        json!(["not-an-address", "5000", 1]),
        0,
    );
    typed("PaychVoucherCreate", json!([ch, "5 FIL", 1]), 1);
    typed("WalletBalance", json!([12]), 0);
    typed("PaychVoucherAdd", json!([ch, "a voucher", null, "0"]), 1);
    let mut voucher = created["Voucher"].clone();
    voucher["Amount"] = json!(2000);
    typed("PaychVoucherAdd", json!([ch, voucher, null, "0"]), 1);
    let mut message = send(&w[0], &w[1], 1);
    message["Value"] = json!(1);
    typed("MpoolPushMessage", json!([message, null]), 0);
    // Params that are not an array.
    assert_error(
        &post(
            &v1,
            Some(&admin),
            br#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.Version","params":{"a":1}}"#,
        ),
        500,
        -32700,
        "params",
    );
    unchanged("params of the wrong type");

    // An unknown method: -32601, HTTP 500.
    assert_error(
        &post_json(&v1, Some(&admin), &request("PaychNoSuchMethod", json!([]))),
        500,
        -32601,
        "method 'Filecoin.PaychNoSuchMethod' not found",
    );
    // Method names are case-sensitive and need their namespace.
    let reply = post_json(
        &v1,
        Some(&admin),
        &json!({"jsonrpc": "2.0", "id": 3, "method": "filecoin.version", "params": []}),
    );
    assert_error(&reply, 500, -32601, "method 'filecoin.version' not found");
    assert_eq!(reply.json()["id"], 3);
    let reply = post_json(
        &v1,
        Some(&admin),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "PaychList", "params": []}),
    );
    assert_error(&reply, 500, -32601, "method 'PaychList' not found");
    // ChainNotify needs a channel: over HTTP it is not supported.
    assert_error(
        &post_json(&v1, Some(&admin), &request("ChainNotify", json!([]))),
        500,
        -32601,
        "not supported in this mode (no out channel support)",
    );
    unchanged("unknown methods");

    // No token: read-only. A sign method answers 200 with code 1.
    let get = request("PaychGet", json!([w[0], w[2], "1000", {"OffChain": false}]));
    let reply = post_json(&v1, None, &get);
    let (code, message) = reply.error();
    assert_eq!(
        (reply.status, code, message.as_str()),
        (
            200,
            1,
            "missing permission to invoke 'PaychGet' (need 'sign')"
        )
    );
    let reply = post_json(
        &v1,
        None,
        &request("PaychVoucherCreate", json!([ch, "5000", 0])),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (
            200,
            (
                1,
                "missing permission to invoke 'PaychVoucherCreate' (need 'sign')".into()
            )
        )
    );
    let reply = post_json(&v1, None, &request("WalletList", json!([])));
    assert_eq!(
        reply.error(),
        (
            1,
            "missing permission to invoke 'WalletList' (need 'write')".into()
        )
    );
    // ... but read methods work without one.
    assert_eq!(
        result(&post_json(&v1, None, &request("PaychList", json!([])))),
        channels
    );
    unchanged("calls without a token");

    // A token without the permission: code 1 on HTTP 200 (exact membership,
    // no hierarchy).
    let read = format!("Bearer {}", node.secret.token(&[Perm::Read]));
    let reply = post_json(
        &v1,
        Some(&read),
        &request("WalletSign", json!([w[0], "aGVsbG8="])),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (
            200,
            (
                1,
                "missing permission to invoke 'WalletSign' (need 'sign')".into()
            )
        )
    );
    let write = format!("Bearer {}", node.secret.token(&Perm::Write.up_to()));
    let reply = post_json(
        &v1,
        Some(&write),
        &request("MpoolPushMessage", json!([send(&w[0], &w[1], 1), null])),
    );
    assert_eq!(
        reply.error(),
        (
            1,
            "missing permission to invoke 'MpoolPushMessage' (need 'sign')".into()
        )
    );
    let sign = format!("Bearer {}", node.secret.token(&Perm::Sign.up_to()));
    let reply = post_json(&v1, Some(&sign), &request("WalletExport", json!([w[0]])));
    assert_eq!(
        reply.error(),
        (
            1,
            "missing permission to invoke 'WalletExport' (need 'admin')".into()
        )
    );
    let admin_only = format!("Bearer {}", node.secret.token(&[Perm::Admin]));
    let reply = post_json(&v1, Some(&admin_only), &request("Version", json!([])));
    assert_eq!(
        reply.error(),
        (
            1,
            "missing permission to invoke 'Version' (need 'read')".into()
        )
    );
    // A param count is checked before the permission, as go-jsonrpc does.
    let reply = post_json(&v1, Some(&read), &request("WalletSign", json!([w[0]])));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.error().0, -32602);
    unchanged("tokens lacking a permission");

    // A token that does not verify, or a header without `Bearer `: HTTP 401
    // and an empty body, whatever the call.
    let mut forged = node.admin.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    // A read token's signature under an admin payload.
    let read_token = node.secret.token(&[Perm::Read]);
    let parts: Vec<&str> = read_token.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        data_encoding::BASE64URL_NOPAD.encode(br#"{"Allow":["read","write","sign","admin"]}"#),
        parts[2]
    );
    let others = Secret::generate().token(&Perm::ALL);
    let unauthorized = [
        format!("Bearer {forged}"),
        format!("Bearer {others}"),
        format!("Bearer {swapped}"),
        "Bearer ".to_string(),
        "Bearer not-a-jwt".to_string(),
        node.admin.clone(),
        format!("bearer {}", node.admin),
        format!("Basic {}", node.admin),
        format!("Token {}", node.admin),
    ];
    for header in &unauthorized {
        for body in [
            request("Version", json!([])),
            request("WalletSign", json!([w[0], "aGVsbG8="])),
            json!([request("Version", json!([]))]),
        ] {
            let reply = post_json(&v1, Some(header), &body);
            assert_eq!(reply.status, 401, "{header:?}");
            assert_eq!(reply.body, "", "401 has an empty body");
        }
    }
    // A bad token in the query string is refused too; a good one works.
    let reply = post_json(
        &format!("{v1}?token={forged}"),
        None,
        &request("Version", json!([])),
    );
    assert_eq!((reply.status, reply.body.as_str()), (401, ""));
    let reply = post_json(
        &format!("{v1}?token={}", node.admin),
        None,
        &request("WalletList", json!([])),
    );
    assert_eq!(result(&reply).as_array().unwrap().len(), 3);
    // Over WebSocket, the upgrade itself is refused.
    match Ws::connect(&node.url, "/rpc/v1", Some(&format!("Bearer {forged}"))) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        Err(e) => panic!("expected a 401, got {e}"),
        Ok(_) => panic!("a forged token opened a WebSocket"),
    }
    unchanged("tokens that do not verify");

    // A batch mixing good and bad calls: one answer per call with an id, in
    // order; a notification in it gets none.
    let mut notification = request("Version", json!([]));
    notification.as_object_mut().unwrap().remove("id");
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "Filecoin.Version", "params": []},
        {"jsonrpc": "2.0", "id": "two", "method": "Filecoin.NoSuchMethod", "params": []},
        notification,
        {"jsonrpc": "2.0", "id": 3, "method": "Filecoin.WalletBalance", "params": []},
        {"jsonrpc": "2.0", "id": 4, "method": "Filecoin.WalletBalance", "params": [7]},
        {"jsonrpc": "2.0", "id": 5, "method": "Filecoin.WalletBalance", "params": [w[0]]},
        {"jsonrpc": "2.0", "id": 6, "method": "Filecoin.PaychVoucherList", "params": [ch]},
    ]);
    let reply = post_json(&v1, None, &batch);
    assert_eq!(reply.status, 200);
    let answers = reply.json();
    let answers = answers.as_array().expect("a batch answer is an array");
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [
            &json!(1),
            &json!("two"),
            &json!(3),
            &json!(4),
            &json!(5),
            &json!(6)
        ]
    );
    assert_eq!(answers[0]["result"]["APIVersion"], 131840);
    assert_eq!(answers[1]["error"]["code"], -32601);
    assert_eq!(answers[2]["error"]["code"], -32602);
    assert_eq!(answers[3]["error"]["code"], -32700);
    assert!(
        answers[4]["result"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .is_ok()
    );
    assert_eq!(
        answers[5]["error"]["message"],
        "missing permission to invoke 'PaychVoucherList' (need 'write')"
    );
    unchanged("a mixed batch");

    // A notification (no id) gets no body at all, even when it fails.
    for body in [
        json!({"jsonrpc": "2.0", "method": "Filecoin.Version", "params": []}),
        json!({"jsonrpc": "2.0", "method": "Filecoin.NoSuchMethod", "params": []}),
        json!({"jsonrpc": "2.0", "method": "Filecoin.PaychVoucherCreate", "params": [ch, 5, 0]}),
        json!([{"jsonrpc": "2.0", "method": "Filecoin.Version"}]),
    ] {
        let reply = post_json(&v1, Some(&admin), &body);
        assert_eq!((reply.status, reply.body.as_str()), (200, ""), "{body}");
    }
    unchanged("notifications");

    // A body over the limit: -32700 "request bigger than maximum". First on
    // a server of the same node with a small limit...
    let small = SmallServer::start(&node, 4096);
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"Filecoin.WalletBalance","params":["{}"]}}"#,
        "a".repeat(8192)
    );
    assert_error(
        &post(&small.url, Some(&admin), huge.as_bytes()),
        500,
        -32700,
        "request bigger than maximum 4096 allowed",
    );
    // ... which still serves requests under it.
    let reply = post_json(&small.url, Some(&admin), &request("Version", json!([])));
    assert_eq!(result(&reply)["APIVersion"], 131840);
    drop(small);
    // ... then the default 100 MiB limit, with a 101 MiB body.
    let mut body =
        br#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.WalletBalance","params":[""#.to_vec();
    body.resize(101 << 20, b'a');
    body.extend_from_slice(br#""]}"#);
    assert_error(
        &post_oversized(&v1, &admin, &body),
        500,
        -32700,
        &format!("request bigger than maximum {DEFAULT_MAX_REQUEST} allowed"),
    );
    drop(body);
    unchanged("bodies over the limit");

    // Finally a notification that does something is run: WalletNew.
    let reply = post_json(
        &v1,
        Some(&admin),
        &json!({"jsonrpc": "2.0", "method": "Filecoin.WalletNew", "params": ["secp256k1"]}),
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    assert_eq!(
        node.call("WalletList", json!([])).as_array().unwrap().len(),
        4
    );

    junk_for_every_method(&node, &ch);
    node.node.devnet().verify().expect("the chain verifies");
}

/// Every method the node serves, called with junk of every JSON type as
/// each of its params (the right count): each answer is a well-formed
/// JSON-RPC answer with the status its code calls for, never a panic (code
/// 0), and the node keeps serving. A param that happens to be valid (the
/// channel's address) may do what it asks.
fn junk_for_every_method(node: &Node, ch: &Value) {
    let methods = node.call("Discover", json!([]));
    let admin = node.bearer();
    let mut calls = 0;
    for method in methods["methods"].as_array().unwrap() {
        let name = method["name"].as_str().unwrap();
        if name == "Filecoin.ChainNotify" {
            continue;
        }
        let call = |params: Vec<Value>| {
            post_json(
                &node.v1(),
                Some(&admin),
                &json!({"jsonrpc": "2.0", "id": 1, "method": name, "params": params}),
            )
        };
        // The param count, from the answer to none.
        let arity = match call(vec![]).json()["error"]["message"].as_str() {
            Some(m) if m.starts_with("wrong param count") => {
                m.rsplit(' ').next().unwrap().parse().unwrap()
            }
            _ => 0,
        };
        for junk in [
            json!(null),
            json!({}),
            json!([]),
            json!("x"),
            json!(-1),
            json!(1.5e300),
            json!(u64::MAX),
            json!("18446744073709551616"),
            json!({"/": "not a cid"}),
            ch.clone(),
        ] {
            let reply = call(vec![junk.clone(); arity]);
            calls += 1;
            let body = reply.json();
            let status = match (body.get("result"), body["error"]["code"].as_i64()) {
                (Some(_), None) => 200,
                (None, Some(code)) => {
                    assert_ne!(code, 0, "{name}({junk}) panicked: {body}");
                    match code {
                        -32700 | -32601 | -32602 => 500,
                        -32600 => 400,
                        _ => 200,
                    }
                }
                _ => panic!("{name}({junk}): not a JSON-RPC answer: {body}"),
            };
            assert_eq!(reply.status, status, "{name}({junk}): {body}");
        }
    }
    assert!(calls > 300, "{calls} calls");
    node.serving();
}

/// A second server for the node's own methods with a small request limit
/// (the node's background loops run in its main server).
struct SmallServer {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmallServer {
    fn start(node: &Node, max_request: usize) -> Self {
        let (v1, v0) = paych_node::api::build(node.node.clone(), node.secret.clone(), &Api::new());
        let service = Service {
            v1,
            v0,
            secret: node.secret.clone(),
            heads: node.node.heads(),
            max_request,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/rpc/v1", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime
                .block_on(server::run(listener, service, async move {
                    let _ = stopped.await;
                }))
                .unwrap();
        });
        Self {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for SmallServer {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.thread.take().unwrap().join();
    }
}

// ----- WebSocket -----

/// A blocking WebSocket client.
struct Ws(tungstenite::WebSocket<TcpStream>);

impl Ws {
    /// Connects to `path` (with its query) on the node at `url`.
    fn connect(url: &str, path: &str, authorization: Option<&str>) -> tungstenite::Result<Self> {
        let host = url.strip_prefix("http://").unwrap();
        let stream = TcpStream::connect(host).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut req = format!("ws://{host}{path}").into_client_request()?;
        if let Some(value) = authorization {
            req.headers_mut()
                .insert("Authorization", value.parse().unwrap());
        }
        match tungstenite::client(req, stream) {
            Ok((socket, _)) => Ok(Self(socket)),
            Err(tungstenite::HandshakeError::Failure(e)) => Err(e),
            Err(tungstenite::HandshakeError::Interrupted(_)) => panic!("a blocking handshake"),
        }
    }

    fn send(&mut self, value: &Value) {
        self.0
            .send(Message::text(value.to_string()))
            .expect("sends");
    }

    /// The next text message, or `None` if none comes within `timeout`.
    fn next(&mut self, timeout: Duration) -> Option<Value> {
        self.0.get_ref().set_read_timeout(Some(timeout)).unwrap();
        loop {
            match self.0.read() {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).expect("JSON"));
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(e) => panic!("websocket: {e}"),
            }
        }
    }

    fn recv(&mut self) -> Value {
        self.next(Duration::from_secs(30))
            .expect("a message within 30 s")
    }

    /// Subscribes to ChainNotify with request `id`: the channel id and the
    /// first value's height (`current`).
    fn chain_notify(&mut self, id: Value) -> (u64, i64) {
        self.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "Filecoin.ChainNotify", "params": []}),
        );
        let answer = self.recv();
        assert_eq!(answer["id"], id, "{answer}");
        let channel = answer["result"]
            .as_u64()
            .unwrap_or_else(|| panic!("a channel id: {answer}"));
        let first = self.recv();
        assert_eq!(first["method"], "xrpc.ch.val", "{first}");
        assert_eq!(first["params"][0], channel);
        let changes = first["params"][1].as_array().unwrap();
        assert_eq!(changes.len(), 1, "current is one change");
        assert_eq!(changes[0]["Type"], "current");
        (channel, changes[0]["Val"]["Height"].as_i64().unwrap())
    }
}

#[test]
fn subscriptions_survive_vanishing_clients_and_end_on_cancel() {
    let node = Node::start();
    let w = wallets(&node);
    let admin = node.bearer();

    let mut a = Ws::connect(&node.url, "/rpc/v1", Some(&admin)).unwrap();
    let (chan_a, h0) = a.chain_notify(json!(1));
    // A token in the query, as the shipyard client sends it over WebSocket.
    let mut b = Ws::connect(&node.url, &format!("/rpc/v1?token={}", node.admin), None).unwrap();
    let (_, hb) = b.chain_notify(json!("sub"));
    assert_eq!(hb, h0);
    // A client without a token may subscribe (ChainNotify is read).
    let mut c = Ws::connect(&node.url, "/rpc/v1", None).unwrap();
    let (chan_c, _) = c.chain_notify(json!(7));
    // Bad JSON over the socket is answered there, and the socket stays.
    c.0.send(Message::text("{nope")).unwrap();
    let answer = c.recv();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    // A permission is checked per call over WebSocket too.
    c.send(&request("WalletList", json!([])));
    assert_eq!(
        c.recv()["error"]["message"],
        "missing permission to invoke 'WalletList' (need 'write')"
    );

    // B goes away mid-subscription, without a close frame.
    drop(b);
    // C cancels its stream: xrpc.ch.close for its channel.
    c.send(&json!({"jsonrpc": "2.0", "method": "xrpc.cancel", "params": [7]}));
    let closed = c.recv();
    assert_eq!(
        closed,
        json!({"jsonrpc": "2.0", "method": "xrpc.ch.close", "params": [chan_c]})
    );

    // A block: A gets it as `apply`, the next height.
    let pushed = node.call("MpoolPushMessage", json!([send(&w[0], &w[1], 1), null]));
    let found = node.wait(&pushed["CID"]);
    assert_eq!(found["Receipt"]["ExitCode"], 0);
    let height = found["Height"].as_i64().unwrap();
    let mut seen = Vec::new();
    while seen.last().copied().unwrap_or(h0) < height {
        let value = a.recv();
        assert_eq!(value["method"], "xrpc.ch.val", "{value}");
        assert_eq!(value["params"][0], chan_a);
        for change in value["params"][1].as_array().unwrap() {
            assert_eq!(change["Type"], "apply");
            seen.push(change["Val"]["Height"].as_i64().unwrap());
        }
    }
    let expected: Vec<i64> = (h0 + 1..=height).collect();
    assert_eq!(seen, expected, "every block applied once, in order");
    // A's socket still answers calls; so does HTTP.
    a.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "Filecoin.Version", "params": []}));
    let answer = a.recv();
    assert_eq!(
        (answer["id"].clone(), answer["result"]["APIVersion"].clone()),
        (json!(2), json!(131840))
    );
    node.serving();
    // C's cancelled stream stays quiet; its socket still answers.
    c.send(&json!({"jsonrpc": "2.0", "id": 8, "method": "Filecoin.ChainHead", "params": []}));
    let answer = c.recv();
    assert_eq!(
        answer["id"], 8,
        "nothing more on the cancelled channel: {answer}"
    );
    assert_eq!(answer["result"]["Height"], height);
    assert_eq!(c.next(Duration::from_millis(500)), None);
    // Cancelling again, or an unknown request, does nothing.
    c.send(&json!({"jsonrpc": "2.0", "method": "xrpc.cancel", "params": [7]}));
    c.send(&json!({"jsonrpc": "2.0", "method": "xrpc.cancel", "params": [99]}));
    assert_eq!(c.next(Duration::from_millis(500)), None);
    // ChainNotify with params: the wrong count.
    c.send(&json!({"jsonrpc": "2.0", "id": 9, "method": "Filecoin.ChainNotify", "params": [1]}));
    assert_eq!(c.recv()["error"]["code"], -32602);
    // A new subscriber after all this starts at the new head.
    let mut d = Ws::connect(&node.url, "/rpc/v0", Some(&admin)).unwrap();
    let (_, hd) = d.chain_notify(json!(1));
    assert_eq!(hd, height);

    // ----- v0's differences -----
    let v0 = node.v0();
    let call0 =
        |method: &str, params: Value| post_json(&v0, Some(&admin), &request(method, params));
    assert_eq!(result(&call0("Version", json!([])))["APIVersion"], 66816);
    assert_eq!(node.call("Version", json!([]))["APIVersion"], 131840);
    assert_error(
        &call0("PaychFund", json!([w[0], w[1], "1000"])),
        500,
        -32601,
        "method 'Filecoin.PaychFund' not found",
    );
    assert_error(
        &call0("PaychGet", json!([w[0], w[1], "1000", {"OffChain": false}])),
        500,
        -32602,
        "wrong param count (method 'Filecoin.PaychGet'): 4 != 3",
    );
    // v0 PaychGet(from, to, amt) funds without reserving, twice.
    let one_fil = "1000000000000000000";
    let info = result(&call0("PaychGet", json!([w[0], w[2], one_fil])));
    assert_eq!(info["Channel"], "<empty>");
    let ch = result(&call0("PaychGetWaitReady", json!([info["WaitSentinel"]])));
    let info = result(&call0("PaychGet", json!([w[0], w[2], one_fil])));
    assert_eq!(info["Channel"], ch, "the existing channel");
    assert!(info["WaitSentinel"].is_object(), "a new add-funds message");
    let funds = result(&call0("PaychAvailableFunds", json!([ch])));
    assert_eq!(funds["ConfirmedAmt"], "2000000000000000000");
    assert_eq!(funds["NonReservedAmt"], "2000000000000000000", "{funds}");
    // StateWaitMsg: 2 params in v0, 4 in v1; StateSearchMsg: 1 in v0.
    let sentinel = info["WaitSentinel"].clone();
    let found = result(&call0("StateWaitMsg", json!([sentinel, 1])));
    assert_eq!(found["Message"], sentinel);
    assert_error(
        &call0("StateWaitMsg", json!([sentinel, 1, -1, true])),
        500,
        -32602,
        "wrong param count (method 'Filecoin.StateWaitMsg'): 4 != 2",
    );
    assert_error(
        &post_json(
            &node.v1(),
            Some(&admin),
            &request("StateWaitMsg", json!([sentinel, 1])),
        ),
        500,
        -32602,
        "wrong param count (method 'Filecoin.StateWaitMsg'): 2 != 4",
    );
    let searched = result(&call0("StateSearchMsg", json!([sentinel])));
    assert_eq!(searched["Height"], found["Height"]);
    // v1 PaychGet reserves: the non-reserved amount goes down.
    let info = node.call("PaychGet", json!([w[0], w[2], "1000", {"OffChain": true}]));
    assert_eq!(info["Channel"], ch);
    let funds = node.call("PaychAvailableFunds", json!([ch]));
    assert_eq!(funds["NonReservedAmt"], "1999999999999999000", "{funds}");

    // Subscribers saw every block of all that, in order.
    let head = node.call("ChainHead", json!([]))["Height"]
        .as_i64()
        .unwrap();
    let mut seen = Vec::new();
    while seen.last().copied().unwrap_or(height) < head {
        let value = a.recv();
        for change in value["params"][1].as_array().unwrap() {
            seen.push(change["Val"]["Height"].as_i64().unwrap());
        }
    }
    assert_eq!(seen, (height + 1..=head).collect::<Vec<_>>());
    drop((a, c, d));
    node.serving();
}

/// Blocks come fast (`Devnet.Advance`, each block observed as it is made,
/// while the node's own observer looks too) as subscribers join: each gets
/// every head change after its `current` exactly once, in order.
#[test]
fn head_changes_arrive_once_each_in_order_while_blocks_race() {
    let node = Node::start();
    let admin = node.bearer();
    let mut a = Ws::connect(&node.url, "/rpc/v1", Some(&admin)).unwrap();
    let (_, h0) = a.chain_notify(json!(1));
    // Under the broadcast capacity (256), so no subscriber may lag.
    const BLOCKS: i64 = 200;
    let (url, admin_) = (node.v1(), admin.clone());
    let advance = std::thread::spawn(move || {
        result(&post_json(
            &url,
            Some(&admin_),
            &json!({"jsonrpc": "2.0", "id": 1, "method": "Devnet.Advance", "params": [BLOCKS]}),
        ))
    });
    // Subscribers joining while blocks come: the first apply each gets is
    // the block after its current.
    let mut late = Vec::new();
    while !advance.is_finished() {
        let mut s = Ws::connect(&node.url, "/rpc/v1", Some(&admin)).unwrap();
        let (_, current) = s.chain_notify(json!(1));
        late.push((s, current));
        std::thread::sleep(Duration::from_millis(5));
    }
    let head = advance.join().unwrap()["Height"].as_i64().unwrap();
    assert_eq!(head, h0 + BLOCKS);
    let heights = |s: &mut Ws, from: i64| {
        let mut seen = Vec::new();
        while seen.last().copied().unwrap_or(from) < head {
            let value = s.recv();
            for change in value["params"][1].as_array().unwrap() {
                assert_eq!(change["Type"], "apply");
                seen.push(change["Val"]["Height"].as_i64().unwrap());
            }
        }
        seen
    };
    assert_eq!(heights(&mut a, h0), (h0 + 1..=head).collect::<Vec<_>>());
    eprintln!("{} late subscribers", late.len());
    for (s, current) in &mut late {
        let seen = heights(s, *current);
        assert_eq!(
            seen,
            (*current + 1..=head).collect::<Vec<_>>(),
            "after current {current}"
        );
    }
}

// ----- load -----

/// Per client: vouchers created on its own lane, messages pushed.
const CLIENTS: usize = 8;
const VOUCHERS_PER_CLIENT: u64 = 20;
const MESSAGES_PER_CLIENT: u64 = 20;
/// Vouchers each client tries on the lane all of them share.
const SHARED_PER_CLIENT: u64 = 10;
/// Vouchers signed by the payer that every client adds (PaychVoucherAdd).
const RECEIVED: u64 = 12;
const LOAD_LIMIT: Duration = Duration::from_secs(240);

/// What one client did.
#[derive(Default)]
struct Done {
    /// (lane, nonce, amount) of each voucher created, in order.
    vouchers: Vec<(u64, u64, String)>,
    /// (sender, nonce, CID) of each message pushed.
    messages: Vec<(String, u64, Value)>,
    /// (nonce, amount) of each voucher created on the shared lane.
    shared: Vec<(u64, u64)>,
    /// (nonce, delta) of each received voucher this client added.
    added: Vec<(u64, u64)>,
}

#[test]
fn concurrent_clients_lose_and_duplicate_no_nonce_or_voucher() {
    let node = Node::start();
    let w = wallets(&node);
    let ch = node.channel(&w[0], &w[1], "100000000000000000000");
    let start_nonces: BTreeMap<String, u64> = w
        .iter()
        .map(|a| {
            let nonce = node.call("MpoolGetNonce", json!([a])).as_u64().unwrap();
            (a.as_str().unwrap().to_string(), nonce)
        })
        .collect();
    let started = Instant::now();
    let (url, admin) = (node.v1(), node.bearer());
    let (wallets_, ch_) = (w.clone(), ch.clone());
    let shared_lane = node
        .call("PaychAllocateLane", json!([ch]))
        .as_u64()
        .unwrap();
    // Vouchers as a payer's other node would send them: signed by the
    // payer's key, stored nowhere yet; voucher n adds n attoFIL in all.
    let add_lane = node
        .call("PaychAllocateLane", json!([ch]))
        .as_u64()
        .unwrap();
    let channel = Address::from_lotus(&ch).unwrap();
    let payer = Address::from_lotus(&w[0]).unwrap();
    let payer = node
        .node
        .devnet()
        .repo()
        .read(|s| s.key(&payer))
        .unwrap()
        .expect("the payer's key");
    let received: Vec<Value> = (1..=RECEIVED)
        .map(|n| {
            let mut sv = SignedVoucher::new(channel, add_lane, n, TokenAmount::from_atto(n));
            paych_client::voucher::sign(&mut sv, &payer);
            sv.to_lotus()
        })
        .collect();
    let done: Vec<Done> = within(LOAD_LIMIT, move || {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (url, admin, w, ch, received) = (
                    url.clone(),
                    admin.clone(),
                    wallets_.clone(),
                    ch_.clone(),
                    received.clone(),
                );
                std::thread::spawn(move || {
                    let call = |method: &str, params: Value| {
                        result(&post_json(&url, Some(&admin), &request(method, params)))
                    };
                    let mut done = Done::default();
                    let lane = call("PaychAllocateLane", json!([ch])).as_u64().unwrap();
                    let (from, to) = (&w[i % w.len()], &w[(i + 1) % w.len()]);
                    let rounds = VOUCHERS_PER_CLIENT
                        .max(MESSAGES_PER_CLIENT)
                        .max(SHARED_PER_CLIENT)
                        .max(RECEIVED);
                    for j in 1..=rounds {
                        if j <= VOUCHERS_PER_CLIENT {
                            let amount = (j * 1000 + i as u64).to_string();
                            let created = call("PaychVoucherCreate", json!([ch, amount, lane]));
                            assert_eq!(created["Shortfall"], "0");
                            let v = &created["Voucher"];
                            assert_eq!(v["Amount"], amount);
                            done.vouchers.push((
                                v["Lane"].as_u64().unwrap(),
                                v["Nonce"].as_u64().unwrap(),
                                amount,
                            ));
                        }
                        if j <= SHARED_PER_CLIENT {
                            // Amounts grow with j across clients; one lower
                            // than what the lane holds now is refused.
                            let amount = 1_000_000 + j * CLIENTS as u64 + i as u64;
                            let reply = post_json(
                                &url,
                                Some(&admin),
                                &request(
                                    "PaychVoucherCreate",
                                    json!([ch, amount.to_string(), shared_lane]),
                                ),
                            );
                            let body = reply.json();
                            match body.get("result") {
                                Some(created) => {
                                    let v = &created["Voucher"];
                                    assert_eq!(v["Lane"], shared_lane);
                                    done.shared.push((v["Nonce"].as_u64().unwrap(), amount));
                                }
                                None => assert!(
                                    body["error"]["message"]
                                        .as_str()
                                        .unwrap()
                                        .contains("is not above lane"),
                                    "{body}"
                                ),
                            }
                        }
                        if j <= RECEIVED {
                            // Every client adds the same vouchers in nonce
                            // order: a later one may already be stored (then
                            // this one is stale), or this one may be (then
                            // it adds nothing).
                            let sv = &received[j as usize - 1];
                            let reply = post_json(
                                &url,
                                Some(&admin),
                                &request("PaychVoucherAdd", json!([ch, sv, null, "0"])),
                            );
                            let body = reply.json();
                            match body.get("result") {
                                Some(delta) => done
                                    .added
                                    .push((j, delta.as_str().unwrap().parse().unwrap())),
                                None => {
                                    let why = body["error"]["message"].as_str().unwrap();
                                    assert!(
                                        why.starts_with("stale nonce")
                                            || why.contains("is not above"),
                                        "{body}"
                                    );
                                }
                            }
                        }
                        if j <= MESSAGES_PER_CLIENT {
                            let signed = call("MpoolPushMessage", json!([send(from, to, j), null]));
                            let m = &signed["Message"];
                            assert_eq!(&m["From"], from);
                            done.messages.push((
                                from.as_str().unwrap().to_string(),
                                m["Nonce"].as_u64().unwrap(),
                                signed["CID"].clone(),
                            ));
                        }
                    }
                    done
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });

    // Vouchers: every lane its own, each lane's nonces 1, 2, ... in the
    // order they were created; no (lane, nonce) twice.
    let mut lanes = BTreeSet::new();
    let mut created = BTreeSet::new();
    for d in &done {
        let lane = d.vouchers[0].0;
        assert!(lanes.insert(lane), "lane {lane} handed out twice");
        let nonces: Vec<u64> = d.vouchers.iter().map(|v| v.1).collect();
        assert!(d.vouchers.iter().all(|v| v.0 == lane));
        assert_eq!(
            nonces,
            (1..=VOUCHERS_PER_CLIENT).collect::<Vec<_>>(),
            "lane {lane}"
        );
        for v in &d.vouchers {
            assert!(created.insert(v.clone()), "{v:?} twice");
        }
    }
    // The shared lane: each nonce given once, 1, 2, ... with no gap, and
    // the amounts grow with the nonce.
    let mut shared: Vec<(u64, u64)> = done.iter().flat_map(|d| d.shared.clone()).collect();
    shared.sort_unstable();
    let nonces: Vec<u64> = shared.iter().map(|v| v.0).collect();
    assert_eq!(
        nonces,
        (1..=shared.len() as u64).collect::<Vec<_>>(),
        "shared lane nonces"
    );
    assert!(
        shared.windows(2).all(|p| p[0].1 < p[1].1),
        "amounts grow with nonces"
    );
    // The highest amount of all can never be refused.
    let highest = 1_000_000 + SHARED_PER_CLIENT * CLIENTS as u64 + CLIENTS as u64 - 1;
    assert_eq!(shared.last().map(|v| v.1), Some(highest));
    for (nonce, amount) in &shared {
        assert!(created.insert((shared_lane, *nonce, amount.to_string())));
    }
    // Received vouchers: each stored one was added (a positive delta) by
    // exactly one client, and the deltas add up to the lane's total, as if
    // the adds had come one at a time.
    let mut firsts: BTreeMap<u64, usize> = BTreeMap::new();
    let mut total = 0;
    for (nonce, delta) in done.iter().flat_map(|d| d.added.iter()) {
        total += delta;
        if *delta > 0 {
            *firsts.entry(*nonce).or_default() += 1;
        }
    }
    assert_eq!(total, RECEIVED, "the deltas add up to the lane's total");
    assert!(firsts.values().all(|n| *n == 1), "added twice: {firsts:?}");
    assert!(firsts.contains_key(&RECEIVED), "the last voucher is stored");
    for nonce in firsts.keys() {
        assert!(created.insert((add_lane, *nonce, nonce.to_string())));
    }
    // ... and the node stored each voucher exactly once (the channel's
    // voucher list has only these).
    let listed = node.call("PaychVoucherList", json!([ch]));
    let listed: Vec<(u64, u64, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["Lane"].as_u64().unwrap(),
                v["Nonce"].as_u64().unwrap(),
                v["Amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(listed.len(), created.len(), "no voucher stored twice");
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), created);

    // Messages: each sender's nonces are the next ones, with no gap and no
    // duplicate; every message is in a block exactly once and succeeded.
    let mut by_sender: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut pushed = Vec::new();
    for d in &done {
        for (from, nonce, cid) in &d.messages {
            by_sender.entry(from.clone()).or_default().push(*nonce);
            pushed.push(cid.clone());
        }
    }
    for (sender, nonces) in &mut by_sender {
        nonces.sort_unstable();
        let first = start_nonces[sender];
        let want: Vec<u64> = (first..first + nonces.len() as u64).collect();
        assert_eq!(*nonces, want, "{sender}'s nonces");
        let next = node
            .call("MpoolGetNonce", json!([sender]))
            .as_u64()
            .unwrap();
        assert_eq!(next, first + nonces.len() as u64);
    }
    assert_eq!(pushed.len(), CLIENTS * MESSAGES_PER_CLIENT as usize);
    let mut heights = BTreeMap::new();
    for cid in &pushed {
        let found = node.wait(cid);
        assert_eq!(&found["Message"], cid);
        assert_eq!(found["Receipt"]["ExitCode"], 0, "{found}");
        heights.insert(cid.to_string(), found["Height"].as_i64().unwrap());
    }
    let mut included: BTreeMap<Cid, usize> = BTreeMap::new();
    node.node
        .devnet()
        .repo()
        .read(|s| {
            let head = s.head()?.expect("a head").epoch;
            for epoch in 0..=head {
                if let Some(block) = s.chain_block_at(epoch)? {
                    for cid in block.messages {
                        *included.entry(cid).or_default() += 1;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(
        included.values().all(|n| *n == 1),
        "a message in two blocks"
    );
    for cid in &pushed {
        let cid: Cid = cid["/"].as_str().unwrap().parse().unwrap();
        assert_eq!(included.get(&cid), Some(&1), "{cid} in a block once");
    }
    assert!(
        node.node.pool_is_empty().unwrap(),
        "the pool drained into blocks"
    );
    node.node.devnet().verify().expect("no FIL created or lost");
    eprintln!(
        "load: {CLIENTS} clients, {} vouchers ({} on the shared lane) and {} messages in {:.1} s over {} blocks",
        created.len(),
        shared.len(),
        pushed.len(),
        started.elapsed().as_secs_f64(),
        heights.values().collect::<BTreeSet<_>>().len()
    );
    node.serving();
}
