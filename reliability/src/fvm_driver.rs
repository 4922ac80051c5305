//! The Wasm actor in a real FVM machine, as a [`Chain`].
//!
//! Every operation is a real message through the harness: vouchers are
//! signed with the accounts' real keys (the payer secp256k1, the payee BLS,
//! the stranger secp256k1) and authenticated by the account actor; `extra`
//! calls go to probe actors that succeed or exit with 33; a second channel
//! between the same parties is the target of replayed vouchers. The harness
//! itself checks the actor's state invariants after every message.

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use num_bigint::BigInt;
use num_traits::One;
use paych_bundle::Bundle;
use paych_integration_tests::{Channel, Harness, HarnessBuilder, Party};

use crate::model::{Op, Who, code};
use crate::ops::START_EPOCH;
use crate::runner::wire_voucher;
use crate::runner::{Chain, Executed, Observed, ObservedPayout, VoucherAddresses, big, tokens};

/// The channel in a fresh FVM machine.
pub struct FvmChain {
    pub h: Harness,
    payer: Party,
    payee: Party,
    stranger: Party,
    pub channel: Channel,
    addrs: VoucherAddresses,
    payout: Option<ObservedPayout>,
    harness_findings_seen: usize,
    last_info: String,
}

impl FvmChain {
    /// Genesis (accounts, probes), then at [`START_EPOCH`] a second channel
    /// (for replays) and the channel under test holding `balance`.
    pub fn new(bundle: &Bundle, balance: &BigInt) -> anyhow::Result<Self> {
        let mut b = HarnessBuilder::new(bundle.clone())?;
        // Anyone tops channels up, with amounts up to the FVM's 128-bit
        // limit, several times over.
        let rich = || TokenAmount::from_atto(BigInt::one() << 130);
        let payer = b.secp_account(rich());
        let payee = b.bls_account(rich());
        let stranger = b.secp_account(rich());
        let extra_ok = b.probe(test_probe::Config::default(), TokenAmount::default());
        let extra_fails = b.probe(
            test_probe::Config {
                auth_reply: test_probe::auth_reply::TRUE,
                exit_code: code::EXTRA_TARGET_FAILURE,
                ..Default::default()
            },
            TokenAmount::default(),
        );
        let mut h = b.build()?;
        // Strict invariant checks would panic inside the harness; collect
        // them as findings instead.
        h.set_lenient(true);
        h.set_epoch(START_EPOCH);
        let mut create = |label: &str, amount: TokenAmount| {
            let (ret, channel) =
                h.try_create_channel(label, &payer, payer.address(), payee.address(), amount);
            channel.ok_or_else(|| {
                anyhow::anyhow!(
                    "{label}: exit code {}: {}",
                    ret.msg_receipt.exit_code,
                    ret.failure_info.map(|f| f.to_string()).unwrap_or_default()
                )
            })
        };
        let other = create("create the other channel", TokenAmount::from_atto(1))?;
        let channel = create("create the channel", tokens(balance))?;
        let addrs = VoucherAddresses {
            this: channel.robust,
            this_by_id: channel.address(),
            other: other.robust,
            nowhere: Address::new_actor(b"reliability nowhere"),
            extra_ok: extra_ok.address(),
            extra_fails: extra_fails.address(),
        };
        Ok(Self {
            h,
            payer,
            payee,
            stranger,
            channel,
            addrs,
            payout: None,
            harness_findings_seen: 0,
            last_info: String::new(),
        })
    }

    fn party(&self, who: Who) -> &Party {
        match who {
            Who::Payer => &self.payer,
            Who::Payee => &self.payee,
            Who::Stranger => &self.stranger,
        }
    }

    fn record(&mut self, ret: &fvm::executor::ApplyRet) -> Executed {
        self.last_info = ret
            .failure_info
            .as_ref()
            .map(|f| f.to_string())
            .unwrap_or_default();
        Executed::Exit(ret.msg_receipt.exit_code.value())
    }
}

impl Chain for FvmChain {
    fn execute(&mut self, label: &str, op: &Op) -> Executed {
        let channel = self.channel;
        match op {
            Op::SetEpoch(epoch) => {
                self.h.set_epoch(*epoch);
                Executed::Tick
            }
            Op::AddFunds(who, amount) => {
                let sender = self.party(*who).clone();
                let ret = self.h.add_funds(label, &sender, &channel, tokens(amount));
                self.record(&ret)
            }
            Op::Settle(who) => {
                let caller = self.party(*who).clone();
                let ret = self.h.settle(label, &caller, &channel);
                self.record(&ret)
            }
            Op::Collect(who) => {
                let caller = self.party(*who).clone();
                let payee_before = big(&self.h.balance(self.payee.id));
                let payer_before = big(&self.h.balance(self.payer.id));
                let balance_before = big(&self.h.balance(channel.id));
                let ret = self.h.collect(label, &caller, &channel);
                if ret.msg_receipt.exit_code.is_success() {
                    // The caller also paid gas for the message.
                    let gas = big(&Harness::gas_cost(&ret));
                    let gain = |id, before: BigInt, paid_gas: bool| {
                        let after = big(&self.h.balance(id));
                        after - before + if paid_gas { gas.clone() } else { BigInt::ZERO }
                    };
                    self.payout = Some(ObservedPayout {
                        to_payee: gain(self.payee.id, payee_before, *who == Who::Payee),
                        to_payer: gain(self.payer.id, payer_before, *who == Who::Payer),
                        balance_before,
                    });
                }
                self.record(&ret)
            }
            Op::Update(v) => {
                let (sv, secret) = {
                    let party = |who: Who| self.party(who).key().clone();
                    wire_voucher(v, &self.addrs, |who, bytes| party(who).sign(bytes))
                };
                let caller = self.party(v.caller).clone();
                let ret = self.h.update(label, &caller, &channel, &sv, &secret);
                self.record(&ret)
            }
        }
    }

    fn observe(&self) -> Option<Observed> {
        let view = self.h.view(self.channel.id)?;
        Some(Observed {
            to_send: big(&view.state.to_send),
            settling_at: view.state.settling_at,
            min_settle_height: view.state.min_settle_height,
            lanes: view
                .lanes
                .into_iter()
                .map(|(lane, s)| (lane, (big(&s.redeemed), s.nonce)))
                .collect(),
            balance: big(&view.balance),
            // The harness checks the actor's invariants after every message
            // and reports breaches through `take_findings`.
            broken_invariants: vec![],
        })
    }

    fn payout(&self) -> Option<ObservedPayout> {
        self.payout.clone()
    }

    fn take_findings(&mut self) -> Vec<String> {
        let all = self.h.mismatches();
        let new = all[self.harness_findings_seen..].to_vec();
        self.harness_findings_seen = all.len();
        new
    }

    fn last_message_info(&self) -> String {
        self.last_info.clone()
    }
}
