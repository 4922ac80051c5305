//! Repo crash safety: the real `paych` binary is killed (SIGKILL) at random
//! points of repo- and chain-changing commands, many times over, and after
//! every kill the repo must open and verify, its head must agree with its
//! receipts, and no acknowledged voucher (one whose `voucher create` printed
//! it) or acknowledged submission may be missing.
//!
//! Commands: top-ups (`add-funds`), plain sends, `chain advance`, `voucher
//! create` and `voucher submit`. Kill points are uniform over 0–150 % of an
//! uninterrupted run of the same command, so some kills land before the
//! command starts writing, some in the middle and some after it finished.
//!
//! `PAYCH_KILL_ROUNDS` (default 8) and `PAYCH_KILL_SEED` scale it. The binary
//! is `$PAYCH_BIN`, or `paych` next to this test's directory (cargo builds it
//! for `cargo test --workspace`; `make reliability-tests` builds it first).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use paych_reliability::report::{env_count, write_counts};
use paych_reliability::rng::SeededRng;
use serde_json::Value;

fn paych_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PAYCH_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join("paych");
    assert!(
        bin.exists(),
        "the paych binary is not at {} (build it with `cargo build -p paych-cli` or set PAYCH_BIN)",
        bin.display()
    );
    bin
}

struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bin: PathBuf,
}

impl Repo {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env_remove("PAYCH_BUILTIN_BUNDLE")
            .arg("--repo")
            .arg(&self.path)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run paych")
    }

    /// Runs a command that must succeed with `--json`; returns its output.
    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = self.run(&with_json);
        assert!(
            out.status.success(),
            "paych {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("paych {args:?} printed no JSON: {e}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    TopUp,
    Send,
    Advance,
    VoucherCreate,
    VoucherSubmit,
}

const KINDS: [Kind; 5] = [
    Kind::TopUp,
    Kind::Send,
    Kind::Advance,
    Kind::VoucherCreate,
    Kind::VoucherSubmit,
];

/// What the tests know for sure about the repo.
#[derive(Default)]
struct Acknowledged {
    /// Voucher texts printed by a `voucher create` that exited successfully.
    vouchers: Vec<String>,
    /// Voucher texts whose `voucher submit` exited successfully.
    submitted: Vec<String>,
    /// The highest amount created per lane, in milliFIL.
    lane_amounts: HashMap<u64, u64>,
    /// Messages applied, as last seen.
    messages: u64,
}

fn args_for(
    kind: Kind,
    ack: &mut Acknowledged,
    rng: &mut SeededRng,
    w: &[String],
    ch: &str,
) -> Vec<String> {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match kind {
        Kind::TopUp => owned(&["add-funds", &w[0], &w[1], "0.01"]),
        Kind::Send => owned(&["send", &w[2], "0.001", "--from", &w[0]]),
        Kind::Advance => owned(&["chain", "advance", "3"]),
        Kind::VoucherCreate => {
            let lane = rng.below(0..3);
            let milli = ack.lane_amounts.entry(lane).or_insert(0);
            *milli += rng.below(1..5);
            let amount = format!("0.{:03}", *milli);
            owned(&[
                "voucher",
                "create",
                ch,
                &amount,
                "--lane",
                &lane.to_string(),
            ])
        }
        Kind::VoucherSubmit => {
            let pending: Vec<&String> = ack
                .vouchers
                .iter()
                .filter(|v| !ack.submitted.contains(v))
                .collect();
            match pending.last() {
                Some(v) => owned(&["voucher", "submit", ch, v]),
                None => owned(&["chain", "advance", "1"]),
            }
        }
    }
}

/// Everything that must hold after a kill. Returns how many messages and
/// stored vouchers the repo has.
fn check(repo: &Repo, ch: &str, ack: &mut Acknowledged, round: usize) -> (u64, usize) {
    let verified = repo.json(&["devnet", "verify"]);
    assert_eq!(verified["ok"], true, "round {round}: {verified}");

    let head = repo.json(&["chain", "head"]);
    let count = head["messages"].as_u64().expect("message count");
    assert!(
        count >= ack.messages,
        "round {round}: messages went from {} to {count}",
        ack.messages
    );
    ack.messages = count;
    let messages = repo.json(&["chain", "messages", "--limit", "1000000"]);
    let messages = messages.as_array().expect("message list");
    assert_eq!(
        messages.len() as u64,
        count,
        "round {round}: the head counts {count} messages, the receipts {}",
        messages.len()
    );
    let epoch = head["epoch"].as_i64().expect("epoch");
    for m in messages {
        let e = m["epoch"].as_i64().expect("receipt epoch");
        assert!(
            e <= epoch,
            "round {round}: a receipt at epoch {e} beyond the head {epoch}"
        );
        assert!(
            m["exit_code"].is_u64(),
            "round {round}: a message without a receipt: {m}"
        );
    }

    let list = repo.json(&["voucher", "list", ch]);
    let stored: BTreeMap<String, bool> = list["vouchers"]
        .as_array()
        .expect("vouchers")
        .iter()
        .map(|v| {
            (
                v["voucher"].as_str().expect("text").to_string(),
                v["submitted"].as_bool().expect("submitted"),
            )
        })
        .collect();
    for v in &ack.vouchers {
        assert!(
            stored.contains_key(v),
            "round {round}: acknowledged voucher {v} is missing"
        );
    }
    for v in &ack.submitted {
        assert_eq!(
            stored.get(v),
            Some(&true),
            "round {round}: acknowledged submission {v} is not marked"
        );
    }
    (count, stored.len())
}

#[test]
fn killing_repo_changing_commands_at_random_points_loses_nothing_acknowledged() {
    let rounds = env_count("PAYCH_KILL_ROUNDS", 8) as usize;
    let seed = env_count("PAYCH_KILL_SEED", 4);
    let mut rng = SeededRng::new(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repo {
        path: dir.path().join("repo"),
        _dir: dir,
        bin: paych_bin(),
    };
    repo.json(&["devnet", "init"]);
    let wallets: Vec<String> = repo
        .json(&["wallet", "list"])
        .as_array()
        .expect("wallets")
        .iter()
        .map(|w| w["address"].as_str().expect("address").to_string())
        .collect();
    assert!(wallets.len() >= 3, "the devnet has three funded wallets");
    let ch = repo.json(&["add-funds", &wallets[0], &wallets[1], "10"])["channel"]
        .as_str()
        .expect("channel")
        .to_string();
    let mut ack = Acknowledged::default();
    check(&repo, &ch, &mut ack, 0);

    // One uninterrupted run of each kind: how long kills are spread over.
    let mut full: HashMap<Kind, Duration> = HashMap::new();
    for kind in KINDS {
        let args = args_for(kind, &mut ack, &mut rng, &wallets, &ch);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let out = repo.json(&args);
        full.insert(kind, start.elapsed());
        if kind == Kind::VoucherCreate {
            ack.vouchers
                .push(out["voucher"].as_str().expect("voucher").to_string());
        }
    }

    let mut kills: BTreeMap<String, u64> = BTreeMap::new();
    let mut killed_after_commit = 0u64;
    let mut completed = 0u64;
    let mut before = check(&repo, &ch, &mut ack, 0);
    for round in 1..=rounds {
        let kind = KINDS[rng.below(0..KINDS.len() as u64) as usize];
        let args = args_for(kind, &mut ack, &mut rng, &wallets, &ch);
        let mut with_json: Vec<&str> = args.iter().map(String::as_str).collect();
        with_json.push("--json");
        let fraction = rng.fraction(1.5);
        let mut child = repo
            .command(&with_json)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn paych");
        std::thread::sleep(full[&kind].mul_f64(fraction));
        let _ = child.kill(); // SIGKILL: no chance to clean up
        let out = child.wait_with_output().expect("wait");
        if out.status.success() {
            // It finished before the kill: what it printed is acknowledged.
            completed += 1;
            let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            match kind {
                Kind::VoucherCreate => ack
                    .vouchers
                    .push(printed["voucher"].as_str().expect("voucher").to_string()),
                Kind::VoucherSubmit if args[0] == "voucher" => ack.submitted.push(args[3].clone()),
                _ => {}
            }
        }
        let after = check(&repo, &ch, &mut ack, round);
        if !out.status.success() {
            *kills.entry(format!("{kind:?}")).or_default() += 1;
            // Killed, yet its write is there: it died after committing.
            if after != before {
                killed_after_commit += 1;
            }
        }
        before = after;
    }

    // The repo keeps working after all that.
    repo.json(&["add-funds", &wallets[0], &wallets[1], "0.01"]);
    check(&repo, &ch, &mut ack, rounds + 1);

    let killed: u64 = kills.values().sum();
    eprintln!(
        "crash safety: {rounds} rounds (seed {seed}), {killed} killed {kills:?} ({killed_after_commit} after committing), {completed} completed, {} acknowledged vouchers kept",
        ack.vouchers.len()
    );
    write_counts(
        "crash-safety",
        &BTreeMap::from([
            ("crash_rounds".to_string(), rounds as u64),
            ("crash_kills".to_string(), killed),
            ("crash_kills_after_commit".to_string(), killed_after_commit),
            (
                "crash_acknowledged_vouchers".to_string(),
                ack.vouchers.len() as u64,
            ),
        ]),
    );
}
