//! End-to-end: the real `paych` binary against temporary repos.
//!
//! Scenarios are grouped (each invocation that executes a message compiles
//! the actors it runs), so the suite stays quick on two cores.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use paych_client::keyinfo::KeyInfo;
use paych_client::{Key, KeyType, voucher};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_paych");

struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    /// A fresh repo with the default genesis (3 wallets, 1000 FIL each).
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let repo = Repo { _dir: dir, path };
        repo.ok(&["devnet", "init"]);
        repo
    }

    /// A fresh repo whose genesis also holds two test probes as `extra`
    /// call targets: one whose calls succeed, one whose calls exit 33.
    /// Returns the repo and the probes' addresses.
    fn with_probes() -> (Self, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let probe = |name: &[u8], exit_code: u32| {
            let state = test_probe::State {
                config: test_probe::Config {
                    auth_reply: test_probe::auth_reply::TRUE,
                    exit_code,
                    ..Default::default()
                },
                calls: vec![],
            };
            paych_devnet::GenesisActor {
                wasm: paych_bundle::wasm::TEST_PROBE.to_vec(),
                state: fvm_ipld_encoding::to_vec(&state).unwrap(),
                alias: fvm_shared::address::Address::new_actor(name),
                balance: Default::default(),
            }
        };
        let (ok, failing) = (probe(b"e2e probe ok", 0), probe(b"e2e probe fails", 33));
        let addresses = (
            paych_client::address::testnet(&ok.alias),
            paych_client::address::testnet(&failing.alias),
        );
        paych_devnet::LocalDevnet::init_dir(
            &path,
            paych_devnet::GenesisOptions {
                user_actors: vec![ok, failing],
                ..Default::default()
            },
        )
        .unwrap();
        (Repo { _dir: dir, path }, addresses.0, addresses.1)
    }

    fn epoch(&self) -> i64 {
        self.json(&["chain", "head"])["epoch"].as_i64().unwrap()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("PAYCH_BUILTIN_BUNDLE")
            .env_remove("FULLNODE_API_INFO")
            .arg("--repo")
            .arg(&self.path)
            .args(args);
        cmd
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "paych {args:?} failed: {stderr}\n{stdout}"
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }

    /// Runs a command that must fail with one line on stderr; returns it.
    fn fails(&self, args: &[&str]) -> String {
        fails(self.cmd(args))
    }

    /// Everything a command could change, to prove a failure changed nothing.
    fn snapshot(&self) -> Value {
        let channels = self.json(&["list"]);
        let vouchers: Vec<Value> = channels
            .as_array()
            .unwrap()
            .iter()
            .map(|c| self.json(&["voucher", "list", c["channel"].as_str().unwrap()]))
            .collect();
        serde_json::json!({
            "head": self.json(&["chain", "head"]),
            "wallets": self.json(&["wallet", "list"]),
            "channels": channels,
            "vouchers": vouchers,
        })
    }

    fn wallets(&self) -> Vec<String> {
        self.json(&["wallet", "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["address"].as_str().unwrap().to_string())
            .collect()
    }
}

fn fails(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected failure, got success: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "errors are one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_string()
}

fn atto(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

const FIL: u128 = 1_000_000_000_000_000_000;

#[test]
fn walkthrough_runs_the_whole_story_and_balances_reconcile() {
    let out = Command::new(BIN)
        .env_remove("PAYCH_BUILTIN_BUNDLE")
        .args(["walkthrough", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let commands: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap())
        .collect();
    for verb in [
        "add-funds",
        "voucher create",
        "voucher check",
        "settle",
        "voucher best-spendable",
        "voucher submit",
        "chain advance 1440",
        "collect",
        "wallet list",
    ] {
        assert!(
            commands.iter().any(|c| c.contains(verb)),
            "walkthrough runs {verb}: {commands:?}"
        );
    }
    let payer_fees = atto(&report["payer"]["fees"]);
    let payee_fees = atto(&report["payee"]["fees"]);
    assert!(
        payer_fees > 0 && payee_fees > 0,
        "gas is paid by both sides"
    );
    assert_eq!(
        atto(&report["payer"]["final_balance"]),
        1000 * FIL - 15 * FIL + 11 * FIL - payer_fees
    );
    assert_eq!(
        atto(&report["payee"]["final_balance"]),
        1000 * FIL + 4 * FIL - payee_fees
    );

    // The text form prints each command before its output.
    let text = Command::new(BIN)
        .env_remove("PAYCH_BUILTIN_BUNDLE")
        .arg("walkthrough")
        .output()
        .unwrap();
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("$ paych add-funds t1"), "{stdout}");
    assert!(stdout.contains("$ paych voucher submit t2"), "{stdout}");
    assert!(
        stdout.contains("Walkthrough complete: balances reconcile"),
        "{stdout}"
    );
}

#[test]
fn a_session_by_hand_persists_across_invocations() {
    let repo = Repo::new();
    let wallets = repo.wallets();
    let (a, b) = (&wallets[0], &wallets[1]);
    assert_eq!(repo.ok(&["wallet", "default"]).trim(), a);
    assert_eq!(repo.ok(&["wallet", "balance", b]).trim(), "1000 FIL");

    let added = repo.json(&["add-funds", a, b, "10"]);
    assert_eq!(added["created"], true);
    let ch = added["channel"].as_str().unwrap().to_string();
    assert!(ch.starts_with("t2"), "{ch}");
    // The channel is reachable by its f form too, and its last text line is
    // the bare address (for `$(paych add-funds ... | tail -1)`).
    let f_form = format!("f{}", &ch[1..]);
    let topped = repo.ok(&["add-funds", a, b, "0.5FIL"]);
    assert_eq!(topped.lines().last().unwrap(), ch);
    assert!(topped.contains("balance now 10.5 FIL"), "{topped}");

    let v1 = repo.json(&["voucher", "create", &f_form, "1"])["voucher"]
        .as_str()
        .unwrap()
        .to_string();
    let v2 = repo.ok(&["voucher", "create", &ch, "3", "--lane", "0"]);
    let v2 = v2.lines().last().unwrap().to_string();
    let lane7 = repo.json(&["voucher", "create", &ch, "2000000000000000000attoFIL", "7"]);
    assert_eq!(lane7["decoded"]["lane"], 7);
    assert_eq!(lane7["decoded"]["nonce"], 1);
    let listed = repo.ok(&["voucher", "list", &ch]);
    assert_eq!(
        listed,
        "Lane 0, Nonce 1: 1 FIL\nLane 0, Nonce 2: 3 FIL\nLane 7, Nonce 1: 2 FIL\n"
    );
    let exported = repo.ok(&["voucher", "list", &ch, "--export"]);
    assert!(
        exported.contains(&format!("Lane 0, Nonce 1: 1 FIL; {v1}")),
        "{exported}"
    );

    let check = repo.ok(&["voucher", "check", &ch, &v2]);
    assert!(check.starts_with("voucher is valid"), "{check}");
    assert!(
        check.contains("already stored here (created here by the payer)"),
        "{check}"
    );
    let add = repo.json(&["voucher", "add", &ch, &v2]);
    assert_eq!(add["added"], false, "a duplicate is a no-op");

    let status = repo.json(&["status", &ch]);
    assert_eq!(atto(&status["confirmed_amount"]), 10 * FIL + FIL / 2);
    assert_eq!(atto(&status["voucher_redeemed_amount"]), 5 * FIL);
    assert_eq!(atto(&status["available_amount"]), 5 * FIL + FIL / 2);
    assert_eq!(repo.json(&["status-by-from-to", a, b])["channel"], ch);
    assert_eq!(
        repo.ok(&["status-by-from-to", b, a]).trim(),
        "Channel does not exist"
    );

    let head = repo.json(&["chain", "head"]);
    assert_eq!(head["epoch"], 2);
    assert_eq!(head["messages"], 2);
    assert_eq!(repo.json(&["chain", "advance", "5"])["epoch"], 7);
    assert_eq!(repo.json(&["chain", "head"])["epoch"], 7);
    let messages = repo.json(&["chain", "messages"]);
    assert_eq!(messages.as_array().unwrap().len(), 2);
    assert_eq!(messages[0]["method_name"], "Exec");

    // Keys move in Lotus's format, both ways.
    let new = repo.ok(&["wallet", "new", "bls"]).trim().to_string();
    assert!(new.starts_with("t3"), "{new}");
    let exported = repo.ok(&["wallet", "export", &new]).trim().to_string();
    let key = KeyInfo::from_lotus_hex(&exported)
        .unwrap()
        .to_key()
        .unwrap();
    assert_eq!(paych_client::address::testnet(&key.address()), new);
    let other = Repo::new();
    let key_file = other.path.parent().unwrap().join("key.hex");
    std::fs::write(&key_file, &exported).unwrap();
    assert!(
        other
            .ok(&["wallet", "import", key_file.to_str().unwrap()])
            .contains(&new)
    );
    let imported = KeyInfo::from_key(&Key::generate(KeyType::Secp256k1));
    let out = other
        .cmd(&["wallet", "import"])
        .write_stdin(imported.to_lotus_hex())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(other.wallets().len(), 5);
    assert_eq!(other.ok(&["wallet", "balance", &new]).trim(), "0 FIL");

    repo.ok(&["wallet", "set-default", b]);
    assert_eq!(repo.ok(&["wallet", "default"]).trim(), b);
    let inspect = repo.json(&["inspect", &ch]);
    assert_eq!(inspect["from"], a.as_str());
    assert_eq!(atto(&inspect["balance"]), 10 * FIL + FIL / 2);
    assert_eq!(
        inspect["lanes"].as_array().unwrap().len(),
        0,
        "nothing redeemed on chain yet"
    );
    let listed = repo.json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    repo.ok(&["devnet", "verify"]);
}

#[test]
fn every_error_is_one_line_and_leaves_the_repo_unchanged() {
    let repo = Repo::new();
    let wallets = repo.wallets();
    let (a, b, c) = (&wallets[0], &wallets[1], &wallets[2]);
    let ch = repo.json(&["add-funds", a, b, "10"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    let other = repo.json(&["add-funds", c, b, "1"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    let v1 = repo.json(&["voucher", "create", &ch, "2"])["voucher"]
        .as_str()
        .unwrap()
        .to_string();
    let v2 = repo.json(&["voucher", "create", &ch, "4"])["voucher"]
        .as_str()
        .unwrap()
        .to_string();
    let elsewhere = repo.json(&["voucher", "create", &other, "1"])["voucher"]
        .as_str()
        .unwrap()
        .to_string();

    // A voucher for the channel signed by the payee instead of the payer.
    let payee_key = KeyInfo::from_lotus_hex(repo.ok(&["wallet", "export", b]).trim())
        .unwrap()
        .to_key()
        .unwrap();
    let mut forged = voucher::decode(&v2).unwrap();
    forged.nonce = 9;
    voucher::sign(&mut forged, &payee_key);
    let forged = voucher::encode(&forged);
    let stranger = paych_client::address::testnet(&Key::generate(KeyType::Secp256k1).address());

    let before = repo.snapshot();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["status", "t2nuqrg7vuysaue2pistjjnt3fadsdzvyuatqtfei"],
            "unknown channel",
        ),
        (vec!["voucher", "create", "t099999", "1"], "unknown channel"),
        (vec!["inspect", a], "is not a payment channel"),
        (
            vec!["wallet", "balance", "t099999"],
            "unknown address t099999",
        ),
        (
            vec!["add-funds", a, "t099999", "1"],
            "unknown address t099999",
        ),
        (
            vec!["wallet", "balance", "t1notanaddress"],
            "invalid address",
        ),
        (
            vec!["voucher", "check", &ch, "not-a-voucher!"],
            "bad voucher text",
        ),
        (vec!["voucher", "add", &ch, "i1UC"], "bad voucher text"),
        (
            vec!["voucher", "check", &ch, &elsewhere],
            "voucher is for channel",
        ),
        (vec!["voucher", "check", &ch, &forged], "wrong signer"),
        (
            vec!["voucher", "check", &ch, &v1],
            "stale nonce: lane 0 is already at nonce 2",
        ),
        (
            vec!["voucher", "create", &ch, "11"],
            "insufficient funds in channel, shortfall: 1000000000000000000 attoFIL",
        ),
        (
            vec!["voucher", "create", &ch, "3"],
            "amounts are cumulative per lane",
        ),
        (vec!["add-funds", a, b, "5000"], "insufficient funds"),
        (vec!["add-funds", &stranger, b, "1"], "wallet has no key"),
        (vec!["wallet", "export", &stranger], "wallet has no key"),
        (vec!["collect", &ch], "not settling"),
        (vec!["add-funds", a, b, "1.5 mFIL"], "invalid amount"),
        (vec!["add-funds", a, b, "-1"], "must be positive"),
        (
            vec!["add-funds", a, b, "0.0000000000000000001"],
            "not a whole number of attoFIL",
        ),
        (
            vec!["voucher", "create", &ch, "1", "1", "--lane", "2"],
            "lane given twice",
        ),
        (vec!["chain", "advance", "0"], "epochs must be between"),
        (
            vec!["add-funds", a, b],
            "required arguments were not provided",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, expected) in &cases {
        let err = repo.fails(args);
        assert!(
            err.contains(expected),
            "paych {args:?}: expected {expected:?} in {err:?}"
        );
    }
    // --json errors also come as JSON on stdout.
    let out = repo.cmd(&["status", "t099999", "--json"]).output().unwrap();
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["kind"], "unknown_channel");
    assert_eq!(repo.snapshot(), before, "failed commands change nothing");

    // Settling: no new vouchers, no second settle, collect reports when.
    let settled = repo.json(&["settle", &ch]);
    let settling_at = settled["settling_at"].as_i64().unwrap();
    let before = repo.snapshot();
    assert!(
        repo.fails(&["voucher", "create", &ch, "5"])
            .contains("is settling")
    );
    assert!(repo.fails(&["settle", &ch]).contains("already settling"));
    let early = repo.fails(&["collect", &ch]);
    assert!(
        early.contains(&format!(
            "collect too early: channel {ch} can be collected from epoch {settling_at}"
        )),
        "{early}"
    );
    assert_eq!(repo.snapshot(), before);

    // A settling channel is not reused by add-funds.
    let fresh = repo.json(&["add-funds", a, b, "1"]);
    assert_eq!(fresh["created"], true);
    assert_ne!(fresh["channel"], ch.as_str());

    // Past settling_at, vouchers are refused and collect works.
    let head = repo.json(&["chain", "head"])["epoch"].as_i64().unwrap();
    repo.ok(&["chain", "advance", &(settling_at - head).to_string()]);
    assert!(
        repo.fails(&["voucher", "submit", &ch, &v2])
            .contains("vouchers can no longer be submitted")
    );
    // The payee's key is here and its vouchers were never redeemed: collect
    // names what it would give up, and only --force goes ahead.
    let refused = repo.fails(&["collect", &ch]);
    assert!(
        refused.contains("were never submitted") && refused.contains("--force"),
        "{refused}"
    );
    let collected = repo.json(&["collect", &ch, "--force"]);
    assert_eq!(atto(&collected["paid_to_payee"]), 0);
    assert_eq!(atto(&collected["returned_to_payer"]), 10 * FIL);
    let status = repo.json(&["status", &ch]);
    assert_eq!(status["status"]["state"], "collected");
    assert!(
        repo.fails(&["collect", &ch])
            .contains("was collected at epoch")
    );
    assert!(
        repo.ok(&["inspect", &ch])
            .contains("no longer exists on chain")
    );
    repo.ok(&["devnet", "verify"]);
}

#[test]
fn shared_vectors_decode_and_check() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/vouchers.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let repo = Repo::new();
    for v in doc["vectors"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let text = v["lotus_text"].as_str().unwrap();
        // Decoding needs no repo.
        let out = Command::new(BIN)
            .args(["voucher", "decode", text, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{id}");
        let decoded: Value = serde_json::from_slice(&out.stdout).unwrap();
        let expected = &v["decoded"];
        let channel = fvm_shared::address::Address::from_bytes(
            &data_encoding::HEXLOWER
                .decode(
                    expected["channel_addr_bytes_hex"]
                        .as_str()
                        .unwrap()
                        .as_bytes(),
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            decoded["channel_addr"],
            paych_client::address::testnet(&channel),
            "{id}"
        );
        assert_eq!(
            decoded["lane"].to_string(),
            expected["lane"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            decoded["nonce"].to_string(),
            expected["nonce"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(decoded["amount"], v["input"]["amount"], "{id}");
        assert_eq!(decoded["secret_hash"], expected["secret_hash_hex"], "{id}");
        assert_eq!(decoded["text"], text, "{id}: re-encodes byte for byte");
        let signer = paych_client::address::parse(v["signer_address"].as_str().unwrap()).unwrap();
        assert_eq!(
            decoded["signer"],
            paych_client::address::testnet(&signer),
            "{id}: recovered signer"
        );
        assert_eq!(decoded["signature"]["data"], v["signature_hex"], "{id}");

        // Checking needs the channel on this devnet, which it is not.
        let err = repo.fails(&[
            "voucher",
            "check",
            v["input"]["channel"].as_str().unwrap(),
            text,
        ]);
        assert!(err.contains("unknown channel"), "{id}: {err}");
    }
    // The standard-base64 form (Zondax) is not the Lotus text form.
    let zondax = doc["vectors"][0]["zondax_std_base64"].as_str().unwrap();
    let mut decode = Command::new(BIN);
    decode.args(["voucher", "decode", zondax]);
    assert!(fails(decode).contains("bad voucher text"));
}

#[test]
fn killing_a_chain_changing_command_leaves_a_consistent_repo() {
    let repo = Repo::new();
    let payer = repo.wallets()[0].clone();
    let fresh = || paych_client::address::testnet(&Key::generate(KeyType::Secp256k1).address());
    let add_funds = |payee: &str| {
        let mut cmd = StdCommand::new(BIN);
        cmd.arg("--repo")
            .arg(&repo.path)
            .args(["add-funds", &payer, payee, "1"])
            .env_remove("PAYCH_BUILTIN_BUNDLE")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // How long one uninterrupted channel creation takes (Init Exec, the
    // constructor, and an account for the new payee), to spread the kills
    // over its whole life.
    let start = std::time::Instant::now();
    assert!(add_funds(&fresh()).status().unwrap().success());
    let full = start.elapsed();

    let mut applied = 1u128;
    let mut killed_midway = 0;
    for (round, fraction) in [0.0, 0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 0.97, 1.3]
        .into_iter()
        .enumerate()
    {
        let before = repo.json(&["chain", "head"]);
        let before_list = repo.json(&["list"]);
        let mut child = add_funds(&fresh()).spawn().unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL: no chance to clean up
        child.wait().unwrap();

        let verified = repo.json(&["devnet", "verify"]);
        assert_eq!(verified["ok"], true, "round {round}");
        let after = repo.json(&["chain", "head"]);
        let (m0, m1) = (
            before["messages"].as_u64().unwrap(),
            after["messages"].as_u64().unwrap(),
        );
        if m1 == m0 {
            assert_eq!(after, before, "round {round}: nothing half-applied");
            assert_eq!(repo.json(&["list"]), before_list, "round {round}");
            if fraction > 0.0 {
                killed_midway += 1;
            }
        } else {
            assert_eq!(m1, m0 + 1, "round {round}: one message at most");
            assert_eq!(
                after["epoch"].as_i64().unwrap(),
                before["epoch"].as_i64().unwrap() + 1
            );
            assert_eq!(
                repo.json(&["list"]).as_array().unwrap().len(),
                before_list.as_array().unwrap().len() + 1
            );
            applied += 1;
        }
        let _ = finished;
    }
    eprintln!(
        "kill test: {applied} channel creations committed, {killed_midway} killed after starting"
    );
    // Whatever was committed is whole: one channel per applied add-funds,
    // each holding its 1 FIL, and the repo keeps working.
    let channels = repo.json(&["list"]);
    assert_eq!(channels.as_array().unwrap().len() as u128, applied);
    let total: u128 = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| atto(&c["balance"]))
        .sum();
    assert_eq!(total, applied * FIL);
    assert!(add_funds(&fresh()).status().unwrap().success());
    repo.ok(&["devnet", "verify"]);
}

#[test]
fn concurrent_voucher_creates_on_one_lane_never_share_a_nonce() {
    let repo = Repo::new();
    let wallets = repo.wallets();
    let ch = repo.json(&["add-funds", &wallets[0], &wallets[1], "100"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    let mut created = 0usize;
    for round in 0..3u64 {
        // Amounts rise from round to round, so each round starts above the
        // previous; within a round, order decides which creators succeed.
        let children: Vec<_> = (0..3u64)
            .map(|i| {
                let amount = format!("{}", 1 + round * 10 + i);
                StdCommand::new(BIN)
                    .arg("--repo")
                    .arg(&repo.path)
                    .args(["voucher", "create", &ch, &amount, "--json"])
                    .env_remove("PAYCH_BUILTIN_BUNDLE")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut nonces = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                nonces.push(v["decoded"]["nonce"].as_u64().unwrap());
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("amounts are cumulative"), "{err}");
            }
        }
        assert!(
            !nonces.is_empty(),
            "round {round}: the largest amount always succeeds"
        );
        let mut unique = nonces.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            nonces.len(),
            "round {round}: distinct nonces {nonces:?}"
        );
        created += nonces.len();
    }
    let listed = repo.json(&["voucher", "list", &ch]);
    let nonces: Vec<u64> = listed["vouchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["nonce"].as_u64().unwrap())
        .collect();
    assert_eq!(nonces, (1..=created as u64).collect::<Vec<_>>());
}

#[test]
fn a_builtin_actors_bundle_car_can_replace_the_stand_ins() {
    let dir = tempfile::tempdir().unwrap();
    let car = dir.path().join("bundle.car");
    paych_bundle::Bundle::devnet()
        .write_car(std::fs::File::create(&car).unwrap())
        .unwrap();

    // Chosen explicitly with --bundle ...
    let explicit = dir.path().join("explicit");
    let mut init = Command::new(BIN);
    init.arg("--repo")
        .arg(&explicit)
        .args(["devnet", "init", "--bundle"])
        .arg(&car);
    assert!(init.output().unwrap().status.success());
    let mut info = Command::new(BIN);
    info.arg("--repo")
        .arg(&explicit)
        .args(["devnet", "info", "--json"]);
    let info: Value = serde_json::from_slice(&info.output().unwrap().stdout).unwrap();
    let origin = info["bundle"].as_str().unwrap();
    assert!(
        origin.contains("bundle.car") && origin.contains("with our paymentchannel"),
        "{origin}"
    );

    // ... or through the harness's environment variable on first use, and
    // channels work on it.
    let from_env = dir.path().join("from-env");
    let mut first = Command::new(BIN);
    first
        .env("PAYCH_BUILTIN_BUNDLE", &car)
        .arg("--repo")
        .arg(&from_env)
        .args(["wallet", "list", "--json"]);
    let out = first.output().unwrap();
    assert!(out.status.success());
    let wallets: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(wallets["notes"].is_null(), "wallet list prints an array");
    let repo = Repo {
        _dir: tempfile::tempdir().unwrap(),
        path: from_env,
    };
    let info = repo.json(&["devnet", "info"]);
    assert!(info["bundle"].as_str().unwrap().contains("bundle.car"));
    let w = repo.wallets();
    let added = repo.json(&["add-funds", &w[0], &w[1], "2"]);
    assert_eq!(atto(&added["balance"]), 2 * FIL);

    // A file that is not a bundle is refused in one line.
    let bad = dir.path().join("bad.car");
    std::fs::write(&bad, b"not a car").unwrap();
    let mut init = Command::new(BIN);
    init.arg("--repo")
        .arg(dir.path().join("bad"))
        .args(["devnet", "init", "--bundle"])
        .arg(&bad);
    assert!(fails(init).contains("cannot load the actor bundle"));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `paych wallet list | head -0`: the reader is gone before anything is
    // written. The command must end quietly, not panic on the broken pipe.
    let repo = Repo::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = StdCommand::new(BIN)
        .env_remove("PAYCH_BUILTIN_BUNDLE")
        .arg("--repo")
        .arg(&repo.path)
        .args(["wallet", "list"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}

fn voucher_text(out: &Value) -> String {
    out["voucher"].as_str().unwrap().to_string()
}

#[test]
fn conditional_vouchers_are_created_checked_kept_and_redeemed() {
    let (repo, probe_ok, probe_fails) = Repo::with_probes();
    let wallets = repo.wallets();
    let (a, b) = (&wallets[0], &wallets[1]);
    let ch = repo.json(&["add-funds", a, b, "20"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    let to_send = |repo: &Repo| atto(&repo.json(&["inspect", &ch])["to_send"]);

    // A hash lock: the payee needs the secret; the actor checks it.
    let secret = "5ec4e7";
    let locked = voucher_text(&repo.json(&[
        "voucher", "create", &ch, "2", "--lane", "1", "--secret", secret,
    ]));
    let check = repo.json(&["voucher", "check", &ch, &locked]);
    assert_eq!(check["spendable"]["now"], false);
    assert_eq!(check["spendable"]["waiting"][0]["waits_for"], "secret");
    assert!(
        repo.ok(&["voucher", "check", &ch, &locked])
            .contains("the secret is needed")
    );
    // Accepted (here it is already stored: this repo holds both keys).
    assert_eq!(
        repo.json(&["voucher", "add", &ch, &locked])["already_stored"],
        "created"
    );
    let best = repo.json(&["voucher", "best-spendable", &ch]);
    assert_eq!(best["vouchers"].as_array().unwrap().len(), 0);
    assert_eq!(best["later"][0]["lane"], 1);
    let best = repo.json(&["voucher", "best-spendable", &ch, "--secret", secret]);
    assert_eq!(best["vouchers"][0]["lane"], 1);
    assert_eq!(best["vouchers"][0]["secret"], secret);
    let wrong = repo.fails(&["voucher", "submit", &ch, &locked, "--secret", "deadbeef"]);
    assert!(wrong.contains("ErrIllegalArgument(16)"), "{wrong}");
    assert_eq!(to_send(&repo), 0, "the wrong secret redeemed nothing");
    repo.ok(&["voucher", "submit", &ch, &locked, "--secret", secret]);
    assert_eq!(to_send(&repo), 2 * FIL);

    // A time lock: refused before its window and after it, accepted inside.
    let now = repo.epoch();
    let (open, close) = ((now + 5).to_string(), (now + 10).to_string());
    let windowed = voucher_text(&repo.json(&[
        "voucher",
        "create",
        &ch,
        "3",
        "--lane",
        "2",
        "--time-lock-min",
        &open,
        "--time-lock-max",
        &close,
    ]));
    let check = repo.json(&["voucher", "check", &ch, &windowed]);
    assert_eq!(check["spendable"]["waiting"][0]["waits_for"], "epoch");
    assert_eq!(check["spendable"]["waiting"][0]["epoch"], now + 5);
    let early = repo.fails(&["voucher", "submit", &ch, &windowed]);
    assert!(early.contains("ErrIllegalArgument(16)"), "{early}");
    repo.ok(&["chain", "advance", "4"]);
    assert_eq!(
        repo.json(&["voucher", "check", &ch, &windowed])["spendable"]["now"],
        true
    );
    repo.ok(&["voucher", "submit", &ch, &windowed]);
    assert_eq!(to_send(&repo), 5 * FIL);
    let now = repo.epoch();
    let closing = (now + 2).to_string();
    let short = voucher_text(&repo.json(&[
        "voucher",
        "create",
        &ch,
        "1",
        "--lane",
        "3",
        "--time-lock-max",
        &closing,
    ]));
    repo.ok(&["chain", "advance", "3"]);
    let check = repo.json(&["voucher", "check", &ch, &short]);
    assert_eq!(check["spendable"]["expired_after"], now + 2);
    let late = repo.fails(&["voucher", "submit", &ch, &short]);
    assert!(late.contains("ErrIllegalArgument(16)"), "{late}");
    let past = (repo.epoch() - 1).to_string();
    let closed = repo.fails(&[
        "voucher",
        "create",
        &ch,
        "1",
        "--lane",
        "9",
        "--time-lock-max",
        &past,
    ]);
    assert!(closed.contains("--force"), "{closed}");
    repo.ok(&[
        "voucher",
        "create",
        &ch,
        "1",
        "--lane",
        "9",
        "--time-lock-max",
        &past,
        "--force",
    ]);

    // An extra call: it must succeed for the voucher to.
    let calls_ok = voucher_text(&repo.json(&[
        "voucher",
        "create",
        &ch,
        "1",
        "--lane",
        "4",
        "--extra",
        &format!("{probe_ok}:7:8201f6"),
    ]));
    assert!(
        repo.ok(&["voucher", "list", &ch])
            .contains(&format!("extra call {probe_ok} method 7 params 8201f6"))
    );
    repo.ok(&["voucher", "submit", &ch, &calls_ok]);
    assert_eq!(to_send(&repo), 6 * FIL);
    let calls_failing = voucher_text(&repo.json(&[
        "voucher",
        "create",
        &ch,
        "1",
        "--lane",
        "5",
        "--extra",
        &format!("{probe_fails}:7:"),
    ]));
    let refused = repo.fails(&["voucher", "check", &ch, &calls_failing]);
    assert!(refused.contains("exit code 33"), "{refused}");
    let failed = repo.fails(&["voucher", "submit", &ch, &calls_failing]);
    assert!(failed.contains("exit code 33"), "{failed}");
    assert_eq!(to_send(&repo), 6 * FIL);

    // A merge redeems two lanes at once; the merged lane's old voucher is
    // then unspendable.
    let first = voucher_text(&repo.json(&["voucher", "create", &ch, "1", "--lane", "6"]));
    repo.ok(&["voucher", "submit", &ch, &first]);
    let old = repo.json(&["voucher", "create", &ch, "1.5", "--lane", "6"]);
    assert_eq!(old["decoded"]["nonce"], 2);
    let merging = repo.json(&[
        "voucher", "create", &ch, "3.5", "--lane", "7", "--merge", "6:3",
    ]);
    // 3.5 FIL in place of the 1.5 FIL lane 6 was promised.
    assert_eq!(atto(&merging["delta"]), 2 * FIL);
    repo.ok(&["voucher", "submit", &ch, &voucher_text(&merging)]);
    assert_eq!(to_send(&repo), 7 * FIL + 2 * FIL + FIL / 2);
    let best = repo.json(&["voucher", "best-spendable", &ch]);
    let skipped: Vec<(u64, u64)> = best["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["lane"].as_u64().unwrap(), s["nonce"].as_u64().unwrap()))
        .collect();
    assert!(skipped.contains(&(6, 2)), "{best}");
    let stale = repo.fails(&["voucher", "submit", &ch, &voucher_text(&old)]);
    assert!(
        stale.contains("stale nonce: lane 6 on chain is already at nonce 3"),
        "{stale}"
    );

    // A minimum settle height keeps the channel open past the settle delay.
    let height = repo.epoch() + 5000;
    let keeps_open = voucher_text(&repo.json(&[
        "voucher",
        "create",
        &ch,
        "0.1",
        "--lane",
        "8",
        "--min-settle-height",
        &height.to_string(),
    ]));
    repo.ok(&["voucher", "submit", &ch, &keeps_open]);
    assert_eq!(repo.json(&["settle", &ch])["settling_at"], height);
    repo.ok(&["devnet", "verify"]);
}

#[test]
fn reservations_and_lanes_follow_lotus() {
    let repo = Repo::new();
    let wallets = repo.wallets();
    let (a, b) = (&wallets[0], &wallets[1]);
    let funds = |repo: &Repo, ch: &str| repo.json(&["status", ch, "--lotus-json"]);

    let created = repo.json(&["add-funds", "--reserve", a, b, "10"]);
    let ch = created["channel"].as_str().unwrap().to_string();
    assert_eq!(atto(&created["reserved"]), 10 * FIL);
    let f = funds(&repo, &ch);
    assert_eq!(
        (atto(&f["ConfirmedAmt"]), atto(&f["NonReservedAmt"])),
        (10 * FIL, 0)
    );

    let free = repo.json(&["add-funds", a, b, "5"]);
    assert_eq!(atto(&free["non_reserved"]), 5 * FIL);
    // Covered by the unreserved funds: nothing is sent.
    let covered = repo.json(&["add-funds", "--reserve", a, b, "3"]);
    assert!(covered["message"].is_null(), "{covered}");
    assert_eq!(atto(&covered["sent"]), 0);
    let f = funds(&repo, &ch);
    assert_eq!(
        (atto(&f["ConfirmedAmt"]), atto(&f["NonReservedAmt"])),
        (15 * FIL, 2 * FIL)
    );
    // Partly covered: only the shortfall is sent.
    let partly = repo.json(&["add-funds", "--reserve", a, b, "4"]);
    assert_eq!(atto(&partly["sent"]), 2 * FIL);
    assert_eq!(atto(&partly["balance"]), 17 * FIL);
    repo.ok(&["voucher", "create", &ch, "4"]);
    let f = funds(&repo, &ch);
    assert_eq!(atto(&f["ConfirmedAmt"]), 17 * FIL);
    assert_eq!(atto(&f["NonReservedAmt"]), 0);
    assert_eq!(atto(&f["VoucherReedeemedAmt"]), 4 * FIL);
    assert_eq!(atto(&f["PendingAmt"]), 0);
    assert!(f["PendingWaitSentinel"].is_null());
    // Lotus's ten keys, then the value at stake in a settle and its deadline.
    let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 12, "{keys:?}");
    assert_eq!(
        atto(&f["UnsubmittedAmt"]),
        4 * FIL,
        "the voucher not redeemed"
    );
    assert!(f["RedeemDeadline"].is_null());
    assert_eq!(
        atto(&repo.json(&["status", &ch])["available_amount"]),
        13 * FIL
    );

    // Allocated lanes skip every lane a voucher uses and never repeat.
    repo.ok(&["voucher", "create", &ch, "1", "--lane", "5"]);
    let lanes: Vec<u64> = (0..4)
        .map(|_| {
            repo.json(&["lane", "allocate", &ch])["lane"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lanes, vec![6, 7, 8, 9]);
    repo.ok(&["voucher", "create", &ch, "1", "--lane", "20"]);
    assert_eq!(repo.ok(&["lane", "allocate", &ch]).trim(), "21");
}

#[test]
fn bad_condition_flags_are_one_line_errors_that_change_nothing() {
    let repo = Repo::new();
    let wallets = repo.wallets();
    let ch = repo.json(&["add-funds", &wallets[0], &wallets[1], "10"])["channel"]
        .as_str()
        .unwrap()
        .to_string();
    let v = voucher_text(&repo.json(&["voucher", "create", &ch, "1"]));
    let before = repo.snapshot();
    let create = |extra: &[&str]| {
        let mut args = vec!["voucher", "create", ch.as_str(), "2"];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (create(&["--secret-hash", "zz"]), "not hex"),
        (
            create(&["--secret-hash", "0102"]),
            "a secret hash is 32 bytes",
        ),
        (create(&["--secret", "0x1g"]), "not hex"),
        (create(&["--merge", "0:5"]), "another lane"),
        (create(&["--merge", "9:1"]), "unknown lane 9"),
        (create(&["--merge", "nine"]), "LANE:NONCE"),
        (
            create(&["--time-lock-min", "20", "--time-lock-max", "10"]),
            "upside down",
        ),
        (create(&["--extra", "t0100"]), "ACTOR:METHOD:HEX-PARAMS"),
        (
            create(&["--extra", "t0100:seven:"]),
            "the method is not a number",
        ),
        (create(&["--extra", "t0100:7:xyz"]), "not hex"),
        (
            vec![
                "voucher".into(),
                "submit".into(),
                ch.clone(),
                v.clone(),
                "--secret".into(),
                "q".into(),
            ],
            "not hex",
        ),
        (
            vec![
                "voucher".into(),
                "best-spendable".into(),
                ch.clone(),
                "--secret".into(),
                "q".into(),
            ],
            "not hex",
        ),
        (
            vec![
                "voucher".into(),
                "add".into(),
                ch.clone(),
                v.clone(),
                "--min-delta".into(),
                "lots".into(),
            ],
            "invalid amount",
        ),
        (
            vec!["lane".into(), "allocate".into(), "t099999".into()],
            "unknown channel",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = repo.fails(&args);
        assert!(
            err.contains(expected),
            "paych {args:?}: expected {expected:?} in {err:?}"
        );
    }
    assert_eq!(repo.snapshot(), before, "failed commands change nothing");
}

/// A repo kept by `paych walkthrough --keep`, removed when dropped.
struct KeptWalkthrough {
    repo: PathBuf,
}

impl Drop for KeptWalkthrough {
    fn drop(&mut self) {
        if let Some(parent) = self.repo.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}

#[test]
fn walkthrough_history_can_be_traced_checked_diffed_and_exported_as_vectors() {
    let out = Command::new(BIN)
        .env_remove("PAYCH_BUILTIN_BUNDLE")
        .args(["walkthrough", "--keep", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kept = KeptWalkthrough {
        repo: PathBuf::from(report["repo"].as_str().expect("kept repo path")),
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo {
        _dir: dir,
        path: kept.repo.clone(),
    };

    // chain trace on the voucher submit: the channel calls the account
    // actor's AuthenticateMessage, with gas per call.
    let messages = repo.json(&["chain", "messages"]);
    let messages = messages.as_array().unwrap();
    let submit = messages
        .iter()
        .find(|m| m["method_name"] == "UpdateChannelState")
        .expect("the walkthrough submits a voucher");
    let cid = submit["cid"].as_str().unwrap();
    let text = repo.ok(&["chain", "trace", cid]);
    assert!(
        text.contains("(t0103, paymentchannel) UpdateChannelState"),
        "{text}"
    );
    let auth = text
        .lines()
        .find(|l| l.contains("AuthenticateMessage"))
        .unwrap_or_else(|| panic!("no AuthenticateMessage call: {text}"));
    assert!(
        auth.contains("└─ t0103 -> t0100 (account) AuthenticateMessage"),
        "{auth}"
    );
    assert!(auth.contains("Ok(0)") && auth.contains("; gas "), "{auth}");
    let with_gas = repo.ok(&["chain", "trace", cid, "--gas"]);
    assert!(with_gas.contains("OnRecoverSecpPublicKey"), "{with_gas}");
    assert!(with_gas.contains("OnChainMessage"), "{with_gas}");
    assert!(with_gas.contains(" compute + "), "{with_gas}");
    let trace = repo.json(&["chain", "trace", cid]);
    let top = &trace["calls"][0];
    assert_eq!(top["method_name"], "UpdateChannelState");
    assert_eq!(top["actor"], "paymentchannel");
    let inner = &top["calls"][0];
    assert_eq!(inner["method_name"], "AuthenticateMessage");
    assert_eq!(inner["actor"], "account");
    assert_eq!(inner["exit_code"], 0);
    assert!(inner["gas"].as_u64().unwrap() > 0);
    assert!(top["total_gas"].as_u64().unwrap() > inner["total_gas"].as_u64().unwrap());
    let charged: u64 = inner["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["compute_milligas"].as_u64().unwrap() + c["storage_milligas"].as_u64().unwrap())
        .sum();
    assert_eq!(charged.div_ceil(1000), inner["gas"].as_u64().unwrap());
    // The Collect deletes the channel; its calls are still named.
    let collect = messages
        .iter()
        .find(|m| m["method_name"] == "Collect")
        .unwrap();
    let text = repo.ok(&["chain", "trace", collect["cid"].as_str().unwrap()]);
    assert!(text.contains("(t0103, paymentchannel) Collect"), "{text}");
    assert_eq!(text.matches("(account) Send, value ").count(), 2, "{text}");
    let err = repo.fails(&["chain", "trace", "not-a-cid"]);
    assert!(err.contains("invalid message CID"), "{err}");
    // A well-formed CID that names no applied message.
    let mut unknown = cid.to_string().into_bytes();
    unknown[20] = if unknown[20] == b'a' { b'b' } else { b'a' };
    let unknown = String::from_utf8(unknown).unwrap();
    let err = repo.fails(&["chain", "trace", &unknown]);
    assert!(err.contains("no message"), "{err}");

    // state diff across settle: the channel starts settling.
    let settle = messages
        .iter()
        .find(|m| m["method_name"] == "Settle")
        .unwrap();
    let at = settle["epoch"].as_i64().unwrap();
    let diff = repo.json(&["state", "diff", &(at - 1).to_string(), &at.to_string()]);
    let channel = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["actor"] == "paymentchannel")
        .expect("the channel changed");
    assert_eq!(channel["before"]["channel"]["settling_at"], 0);
    assert_eq!(channel["after"]["channel"]["settling_at"], at + 1440);
    let text = repo.ok(&["state", "diff", &(at - 1).to_string(), &at.to_string()]);
    assert!(
        text.contains(&format!("settling_at: 0 -> {}", at + 1440)),
        "{text}"
    );
    let submitted = submit["epoch"].as_i64().unwrap();
    let text = repo.ok(&["state", "diff", &at.to_string(), &submitted.to_string()]);
    assert!(
        text.contains("lane 0: (none) -> redeemed 4 FIL, nonce 2"),
        "{text}"
    );
    assert!(text.contains("to_send: 0 FIL -> 4 FIL"), "{text}");
    let err = repo.fails(&["state", "diff", "5", "2"]);
    assert!(err.contains("must not be after"), "{err}");
    let err = repo.fails(&["state", "diff", "0", "99999"]);
    assert!(err.contains("not on the chain"), "{err}");

    // The history as vectors, each replayed from its file alone as the
    // standard runner would.
    let out = tempfile::tempdir().unwrap();
    let exported = repo.json(&["devnet", "export-vectors", out.path().to_str().unwrap()]);
    let files = exported["files"].as_array().unwrap();
    assert_eq!(files.len(), messages.len());
    for file in files {
        let vector =
            paych_chain::vector::TestVector::from_file(Path::new(file.as_str().unwrap())).unwrap();
        paych_chain::vector::replay(&vector).unwrap_or_else(|e| panic!("{file}: {e:#}"));
    }

    // devnet check: verify's checks and the invariants of every channel on
    // chain (the walkthrough's was collected; a new one is checked).
    let checked = repo.json(&["devnet", "check"]);
    assert_eq!(checked["ok"], true);
    assert_eq!(checked["payment_channels"].as_array().unwrap().len(), 0);
    let wallets = repo.wallets();
    repo.ok(&["add-funds", &wallets[0], &wallets[2], "1"]);
    let checked = repo.json(&["devnet", "check"]);
    let channels = checked["payment_channels"].as_array().unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["violations"].as_array().unwrap().len(), 0);
    let text = repo.ok(&["devnet", "check"]);
    assert!(text.contains("invariants hold on all 1 channels"), "{text}");
}
