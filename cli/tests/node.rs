//! End-to-end with nodes: real `paych daemon` processes on loopback, the
//! payer on a full node and the payee on a lite node with its own repo, and
//! the `paych` command line going through them.
//!
//! The full nodes here serve only Lotus's methods (`--no-devnet-api`): the
//! lite node must work with nothing but the standard API, as it would in
//! front of a Lotus node. Every wait is bounded.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use paych_node::client::{ApiInfo, CallError, Client};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_paych");
const FIL: u128 = 1_000_000_000_000_000_000;

/// A running `paych daemon`; stopped (SIGTERM) when dropped.
struct Daemon {
    child: Option<Child>,
    repo: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn start(repo: &Path, args: &[&str]) -> Self {
        let log = repo.with_extension("log");
        let _ = std::fs::remove_file(repo.join("api"));
        let child = Command::new(BIN)
            .env_remove("FULLNODE_API_INFO")
            .env_remove("PAYCH_BUILTIN_BUNDLE")
            .arg("--repo")
            .arg(repo)
            .arg("daemon")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut daemon = Daemon {
            child: Some(child),
            repo: repo.to_path_buf(),
            log,
        };
        let api = daemon.repo.join("api");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !api.exists() {
            if let Some(status) = daemon.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the daemon exited ({status}): {}", daemon.log());
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not start: {}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon
    }

    fn full(repo: &Path, block_time: &str) -> Self {
        Self::start(repo, &["--block-time", block_time, "--no-devnet-api"])
    }

    fn lite(repo: &Path, full: &Daemon) -> Self {
        Self::start(repo, &["--lite", "--api", &full.api_info("admin")])
    }

    /// `TOKEN:MULTIADDR` with a token of `perm`.
    fn api_info(&self, perm: &str) -> String {
        let line = paych(&self.repo, &["auth", "api-info", "--perm", perm]);
        line.trim()
            .strip_prefix("FULLNODE_API_INFO=")
            .unwrap()
            .to_string()
    }

    fn client(&self, perm: &str) -> Client {
        Client::new(ApiInfo::parse(&self.api_info(perm)).unwrap())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the daemon as Ctrl-C does, and waits for it.
    fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = wait_exit(&mut child);
        assert!(status.success(), "daemon exit: {status:?}\n{}", self.log());
    }

    /// `kill -9`.
    fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn command(repo: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .env_remove("FULLNODE_API_INFO")
        .env_remove("PAYCH_BUILTIN_BUNDLE")
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `paych --repo REPO ARGS`, which must succeed; its stdout.
fn paych(repo: &Path, args: &[&str]) -> String {
    let out = command(repo, args);
    assert!(
        out.status.success(),
        "paych {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn paych_json(repo: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&paych(repo, &args)).unwrap()
}

/// Runs a command that must fail; its one line of stderr.
fn paych_fails(repo: &Path, args: &[&str]) -> String {
    let out = command(repo, args);
    assert!(!out.status.success(), "paych {args:?} succeeded");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

fn atto(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

fn address(v: &Value) -> String {
    v["address"].as_str().unwrap().to_string()
}

/// Two parties: the payer's wallet on a full node's repo, the payee's on a
/// lite node's, and a channel from one to the other with two vouchers (2
/// then 4 FIL) the payee has added.
struct Parties {
    _tmp: tempfile::TempDir,
    full_repo: PathBuf,
    payee_repo: PathBuf,
    full: Daemon,
    lite: Option<Daemon>,
    payer: String,
    payee: String,
    channel: String,
}

impl Parties {
    fn new(block_time: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (full_repo, payee_repo) = (tmp.path().join("payer"), tmp.path().join("payee"));
        let full = Daemon::full(&full_repo, block_time);
        let lite = Daemon::lite(&payee_repo, &full);
        let payer = address(&paych_json(&full_repo, &["wallet", "default"]));
        let payee = address(&paych_json(&payee_repo, &["wallet", "new"]));
        // Each party holds only its own key.
        let payee_keys = paych_json(&payee_repo, &["wallet", "list"]);
        assert_eq!(payee_keys.as_array().unwrap().len(), 1);
        assert!(!payee_keys.to_string().contains(&payer));
        assert!(
            !paych_json(&full_repo, &["wallet", "list"])
                .to_string()
                .contains(&payee)
        );
        // The payee's account comes to exist with a first payment.
        paych(&full_repo, &["send", &payee, "1"]);

        // The walkthrough: add-funds 10, vouchers for 2 then 4, added by the
        // payee on its own node, then 5 more.
        let created = paych_json(&full_repo, &["add-funds", &payer, &payee, "10"]);
        assert_eq!(created["created"], true);
        let channel = created["channel"].as_str().unwrap().to_string();
        for amount in ["2", "4"] {
            let voucher = paych_json(&full_repo, &["voucher", "create", &channel, amount]);
            let text = voucher["voucher"].as_str().unwrap();
            let added = paych_json(&payee_repo, &["voucher", "add", &channel, text]);
            assert_eq!(atto(&added["delta"]), 2 * FIL, "{added}");
        }
        let topped = paych_json(&full_repo, &["add-funds", &payer, &payee, "5"]);
        assert_eq!(topped["created"], false);
        assert_eq!(atto(&topped["balance"]), 15 * FIL);
        Parties {
            _tmp: tmp,
            full_repo,
            payee_repo,
            full,
            lite: Some(lite),
            payer,
            payee,
            channel,
        }
    }

    fn payee_status(&self) -> Value {
        paych_json(&self.payee_repo, &["status", &self.channel])
    }

    /// Waits for the payee's settler to redeem the 4 FIL voucher.
    fn wait_for_settler(&self) -> Value {
        let mut status = Value::Null;
        wait_for(Duration::from_secs(60), "the payee's settler", || {
            status = self.payee_status();
            !status["settler"].as_array().unwrap().is_empty()
        });
        status
    }

    fn settling_at(&self, settled: &Value) -> i64 {
        settled["settling_at"].as_i64().unwrap()
    }

    fn head(&self) -> i64 {
        paych_json(&self.full_repo, &["chain", "head"])["epoch"]
            .as_i64()
            .unwrap()
    }
}

#[test]
fn the_payee_node_redeems_its_vouchers_when_the_payer_settles() {
    let p = Parties::new("500ms");
    // The full node serves Lotus's methods only; the lite node forwards
    // them and answers the payment-channel and wallet ones itself.
    let full_api = p.full.client("read");
    match full_api.call("Devnet.Info", vec![]) {
        Err(CallError::Rpc(e)) => assert_eq!(e.code, -32601),
        other => panic!("no devnet namespace: {other:?}"),
    }
    let lite_api = p.lite.as_ref().unwrap().client("sign");
    let id = lite_api
        .call("StateLookupID", vec![json!(p.payee), json!([])])
        .unwrap();
    assert_eq!(
        id,
        full_api
            .call("StateLookupID", vec![json!(p.payee), json!([])])
            .unwrap()
    );
    assert_eq!(
        lite_api.call("PaychList", vec![]).unwrap(),
        json!([p.channel])
    );
    assert_eq!(
        lite_api.call("WalletList", vec![]).unwrap(),
        json!([p.payee])
    );
    let status = lite_api
        .call("PaychStatus", vec![json!(p.channel)])
        .unwrap();
    assert_eq!(status, json!({"ControlAddr": p.payee, "Direction": 1}));

    let before = p.payee_status();
    assert_eq!(atto(&before["unsubmitted_amount"]), 4 * FIL);
    assert!(before["redeem_deadline"].is_null());

    // The payer settles and tries to walk away with everything.
    let settled = paych_json(&p.full_repo, &["settle", &p.channel]);
    let settling_at = p.settling_at(&settled);
    let status = p.wait_for_settler();
    let action = &status["settler"][0];
    assert_eq!(
        (action["lane"].as_u64(), action["nonce"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(atto(&action["amount"]), 4 * FIL);
    assert!(action["failure"].is_null(), "{action}");
    assert!(action["epoch"].as_i64().unwrap() < settling_at);
    assert_eq!(atto(&status["to_send"]), 4 * FIL, "redeemed on chain");
    assert_eq!(atto(&status["unsubmitted_amount"]), 0);
    assert!(
        p.lite.as_ref().unwrap().log().contains("settler: at epoch"),
        "the lite node logs what it did"
    );
    // Lotus's funds view shows the same through the lite node's API.
    let funds = p
        .lite
        .as_ref()
        .unwrap()
        .client("sign")
        .call("PaychAvailableFunds", vec![json!(p.channel)])
        .unwrap();
    assert_eq!(atto(&funds["UnsubmittedAmt"]), 0);
    assert_eq!(funds["RedeemDeadline"], json!(settling_at));

    // After the delay the payee collects the full value of its best voucher.
    paych(&p.full_repo, &["chain", "advance", "1440"]);
    assert!(p.head() >= settling_at);
    let collected = paych_json(&p.payee_repo, &["collect", &p.channel]);
    assert_eq!(atto(&collected["paid_to_payee"]), 4 * FIL);
    assert_eq!(atto(&collected["returned_to_payer"]), 11 * FIL);
    let wallet = paych_json(&p.payee_repo, &["wallet", "list"]);
    let balance = atto(&wallet[0]["balance"]);
    assert!(
        balance > 4 * FIL && balance < 5 * FIL,
        "1 sent + 4 paid - gas: {balance}"
    );
    let _ = (&p.payer, &p.payee);
    p.lite.unwrap().stop();
    p.full.stop();
}

#[test]
fn a_payee_node_down_during_the_settle_redeems_when_it_comes_back() {
    let mut p = Parties::new("500ms");
    p.lite.take().unwrap().stop();
    assert!(
        !p.payee_repo.join("api").exists(),
        "the API file goes with the daemon"
    );

    let settled = paych_json(&p.full_repo, &["settle", &p.channel]);
    let settling_at = p.settling_at(&settled);
    paych(&p.full_repo, &["chain", "advance", "100"]);
    assert!(p.head() < settling_at);

    // Back before settling_at: the settler catches up at once.
    p.lite = Some(Daemon::lite(&p.payee_repo, &p.full));
    let status = p.wait_for_settler();
    assert_eq!(atto(&status["to_send"]), 4 * FIL);
    assert!(status["settler"][0]["epoch"].as_i64().unwrap() < settling_at);

    paych(&p.full_repo, &["chain", "advance", "1440"]);
    let collected = paych_json(&p.payee_repo, &["collect", &p.channel]);
    assert_eq!(atto(&collected["paid_to_payee"]), 4 * FIL);
    p.lite.take().unwrap().stop();
    p.full.stop();
}

#[test]
fn a_payee_that_missed_the_deadline_is_told_what_collect_gives_up() {
    let mut p = Parties::new("500ms");
    p.lite.take().unwrap().stop();
    let settled = paych_json(&p.full_repo, &["settle", &p.channel]);
    let settling_at = p.settling_at(&settled);
    paych(&p.full_repo, &["chain", "advance", "1441"]);
    assert!(p.head() >= settling_at);
    p.lite = Some(Daemon::lite(&p.payee_repo, &p.full));

    // Too late to redeem (the settler only acts while a channel settles):
    // collect names what the payee would give up.
    let status = p.payee_status();
    assert_eq!(atto(&status["unsubmitted_amount"]), 4 * FIL);
    let refused = paych_fails(&p.payee_repo, &["collect", &p.channel]);
    assert!(
        refused.contains("4000000000000000000 attoFIL") && refused.contains("--force"),
        "{refused}"
    );
    let api = p.lite.as_ref().unwrap().client("sign");
    match api.call("PaychCollect", vec![json!(p.channel)]) {
        Err(CallError::Rpc(e)) => {
            assert_eq!(e.code, 1);
            assert!(e.message.contains("were never submitted"), "{}", e.message);
        }
        other => panic!("PaychCollect must refuse: {other:?}"),
    }
    // Nothing was sent: the channel is still there.
    assert_eq!(p.payee_status()["status"]["state"], "settled");
    let collected = paych_json(&p.payee_repo, &["collect", &p.channel, "--force"]);
    assert_eq!(atto(&collected["paid_to_payee"]), 0);
    assert_eq!(atto(&collected["returned_to_payer"]), 15 * FIL);
    p.lite.take().unwrap().stop();
    p.full.stop();
}

#[test]
fn commands_go_through_the_daemon_that_holds_the_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    // Embedded first: the repo is created with no daemon.
    paych(&repo, &["devnet", "init"]);
    let embedded = paych(&repo, &["wallet", "list"]);
    let daemon = Daemon::full(&repo, "0");
    // The daemon's files are the owner's alone.
    for file in ["api", "token", "jwt-secret"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(repo.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // The same command, the same output, through the daemon.
    assert_eq!(paych(&repo, &["wallet", "list"]), embedded);
    let a = address(&paych_json(&repo, &["wallet", "default"]));
    let wallets = paych_json(&repo, &["wallet", "list"]);
    let b = address(&wallets[1]);
    let ch = paych_json(&repo, &["add-funds", &a, &b, "3"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    // Errors keep their one line and kind.
    let err = paych_fails(&repo, &["voucher", "create", &ch, "5"]);
    assert!(
        err.starts_with("error: insufficient funds in channel"),
        "{err}"
    );
    let out = command(&repo, &["voucher", "create", &ch, "5", "--json"]);
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["error"]["kind"], "insufficient_funds");
    // A second daemon on the same repo is refused.
    let second = Command::new(BIN)
        .env_remove("FULLNODE_API_INFO")
        .args([
            "--repo",
            repo.to_str().unwrap(),
            "daemon",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));
    // Tokens: read-only callers cannot sign.
    let read_only = daemon.client("read");
    match read_only.call("PaychSettle", vec![json!(ch)]) {
        Err(CallError::Rpc(e)) => {
            assert_eq!(
                e.message,
                "missing permission to invoke 'PaychSettle' (need 'sign')"
            )
        }
        other => panic!("{other:?}"),
    }
    daemon.stop();
    assert!(!repo.join("api").exists());
    // With the daemon gone, commands use the repo again and see its work.
    let status = paych_json(&repo, &["status", &ch]);
    assert_eq!(atto(&status["balance"]), 3 * FIL);
}

#[test]
fn a_message_acknowledged_before_kill_9_is_in_a_block_or_still_pooled() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    // Blocks far apart: what is pushed waits in the pool.
    let daemon = Daemon::full(&repo, "3600s");
    let api = daemon.client("sign");
    let from = api.call("WalletDefaultAddress", vec![]).unwrap();
    let to = api.call("WalletList", vec![]).unwrap()[1].clone();
    let mut cids = Vec::new();
    for nonce in 0..3 {
        let message = json!({"To": to, "From": from, "Value": "1000", "Method": 0});
        let signed = api
            .call("MpoolPushMessage", vec![message, Value::Null])
            .unwrap();
        assert_eq!(signed["Message"]["Nonce"], nonce, "nonces follow the pool");
        cids.push(signed["CID"].clone());
    }
    daemon.kill();
    assert!(
        repo.join("api").exists(),
        "kill -9 leaves the API file behind"
    );

    // Restarted (blocks on demand): the pooled messages are applied.
    let daemon = Daemon::full(&repo, "0");
    let api = daemon.client("read");
    for cid in &cids {
        let found = api
            .call(
                "StateWaitMsg",
                vec![cid.clone(), json!(0), json!(-1), json!(true)],
            )
            .unwrap();
        assert_eq!(found["Receipt"]["ExitCode"], 0, "{found}");
        assert_eq!(found["Message"], *cid);
    }
    assert_eq!(api.call("MpoolGetNonce", vec![from]).unwrap(), 3);
    daemon.stop();
}
