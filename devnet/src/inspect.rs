//! Looking into what the chain did: a message's execution trace with its
//! calls named ([`Devnet::message_trace`]), the payment channel actor's
//! state invariants over every channel in the current state
//! ([`Devnet::check_invariants`]), what changed between two epochs
//! ([`Devnet::state_diff`]), and the chain's history as test vectors
//! ([`Devnet::export_vectors`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actor_interfaces::BuiltinType;
use actor_interfaces::builtin::SYSTEM_ACTOR_ID;
use cid::Cid;
use fvm::state_tree::ActorState;
use fvm::system_actor;
use fvm_ipld_encoding::CborStore;
use fvm_shared::ActorID;
use fvm_shared::address::Address;
use fvm_shared::clock::ChainEpoch;
use fvm_shared::econ::TokenAmount;
use paych_actor::testing::check_state_invariants;
use paych_chain::Head;
use paych_chain::receipt::method_name;
use paych_chain::state::{PaychState, robust_address};
use paych_chain::trace::{Call, Charge, MessageTrace, Payload};
use paych_chain::vector::{MessageGroup, TestVector, VectorContext, VectorReceipt};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::addr::show;
use crate::chain_node::ChainNode;
use crate::error::{Context, Error, Result};
use crate::json;
use crate::node::{Devnet, StateView, head_of};
use crate::repo::{MessageRecord, Repo, Store, StoreBlocks};

// ----- traces ----------------------------------------------------------------

/// `chain trace`: a message, its receipt, and its execution trace with every
/// call's callee and method named.
#[derive(Clone, Debug)]
pub struct TraceReport {
    pub message: MessageRecord,
    /// Charges made outside any call (inclusion, validation, refund).
    pub charges: Vec<Charge>,
    pub calls: Vec<CallView>,
}

/// One call of a trace, named.
#[derive(Clone, Debug)]
pub struct CallView {
    pub call: Call,
    /// The callee's actor ID, when it is known.
    pub to_id: Option<ActorID>,
    /// The callee's built-in type name, `user actor`, or `None` when it has
    /// no actor.
    pub actor: Option<String>,
    pub method_name: String,
    pub calls: Vec<CallView>,
}

impl CallView {
    /// Gas charged in this call alone, in gas units (rounded up).
    pub fn own_gas(&self) -> u64 {
        self.call.own_milligas().div_ceil(1000)
    }

    /// Gas charged in this call and its subcalls, in gas units (rounded up).
    pub fn total_gas(&self) -> u64 {
        self.total_milligas().div_ceil(1000)
    }

    fn total_milligas(&self) -> u64 {
        self.call.own_milligas() + self.calls.iter().map(CallView::total_milligas).sum::<u64>()
    }

    /// This call's own charges summed by name, in the order first charged:
    /// (name, how many, compute, storage) in milligas.
    pub fn charges_by_name(&self) -> Vec<(String, usize, u64, u64)> {
        charges_by_name(&self.call.charges)
    }
}

/// Charges summed by name, in the order first charged: (name, how many,
/// compute, storage) in milligas.
pub fn charges_by_name(charges: &[Charge]) -> Vec<(String, usize, u64, u64)> {
    let mut sums: Vec<(String, usize, u64, u64)> = Vec::new();
    for c in charges {
        match sums.iter_mut().find(|(name, ..)| *name == c.name) {
            Some(sum) => {
                sum.1 += 1;
                sum.2 += c.compute_milligas;
                sum.3 += c.other_milligas;
            }
            None => sums.push((c.name.clone(), 1, c.compute_milligas, c.other_milligas)),
        }
    }
    sums
}

impl<R: Repo> Devnet<R> {
    /// The applied message with this CID, with the state roots before and
    /// after it.
    fn message_with_roots(
        &self,
        store: &dyn Store,
        cid: &Cid,
    ) -> Result<(MessageRecord, Cid, Cid)> {
        let record = store.message_by_cid(cid)?.ok_or_else(|| {
            Error::invalid(format!("no message {cid} was applied on this devnet"))
        })?;
        let history = store.messages(store.message_count()? as usize)?;
        let pre = history
            .iter()
            .take_while(|m| m.seq < record.seq)
            .last()
            .map_or(self.info().genesis_root, |m| m.state_root);
        let post = record.state_root;
        Ok((record, pre, post))
    }

    /// The execution trace of the applied message `cid`, each callee's type
    /// and method named from its code (as invoked, else as the state before
    /// or after the message has it).
    pub fn message_trace(&self, cid: &Cid) -> Result<TraceReport> {
        self.repo().read(|store| {
            let (message, pre, post) = self.message_with_roots(store, cid)?;
            let bytes = store.trace(message.seq)?.ok_or_else(|| {
                Error::invalid(format!(
                    "message {cid} has no trace (it was applied before the devnet kept traces)"
                ))
            })?;
            let trace = MessageTrace::decode(&bytes).context("cannot read the trace")?;
            let (pre, post) = (self.state(store, &pre)?, self.state(store, &post)?);
            let calls = trace
                .calls
                .into_iter()
                .map(|c| self.name_call(&pre, &post, c))
                .collect::<Result<_>>()?;
            Ok(TraceReport {
                message,
                charges: trace.charges,
                calls,
            })
        })
    }

    fn name_call(
        &self,
        pre: &StateView<'_>,
        post: &StateView<'_>,
        mut call: Call,
    ) -> Result<CallView> {
        let (to_id, code) = match call.invoked {
            Some((id, code)) => (Some(id), Some(code)),
            None => {
                let found = match self.lookup(pre, &call.to)? {
                    Some(found) => Some(found),
                    None => self.lookup(post, &call.to)?,
                };
                (
                    found.as_ref().map(|(id, _)| *id),
                    found.map(|(_, a)| a.code),
                )
            }
        };
        let builtin = code.and_then(|c| self.builtin_type(&c));
        let actor = match (code, builtin) {
            (_, Some(b)) => Some(b.name().to_string()),
            (Some(_), None) => Some("user actor".to_string()),
            (None, _) => None,
        };
        let calls = std::mem::take(&mut call.calls)
            .into_iter()
            .map(|c| self.name_call(pre, post, c))
            .collect::<Result<_>>()?;
        Ok(CallView {
            method_name: method_name(builtin, call.method),
            call,
            to_id,
            actor,
            calls,
        })
    }
}

fn payload_json(p: &Option<Payload>) -> Option<String> {
    p.as_ref().map(|p| data_encoding::HEXLOWER.encode(&p.data))
}

struct ChargeJson<'a>(&'a Charge);

impl Serialize for ChargeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let c = self.0;
        let mut out = s.serialize_struct("Charge", 4)?;
        out.serialize_field("name", &c.name)?;
        out.serialize_field("compute_milligas", &c.compute_milligas)?;
        out.serialize_field("storage_milligas", &c.other_milligas)?;
        out.serialize_field("total_milligas", &c.total_milligas())?;
        out.end()
    }
}

impl Serialize for CallView {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let c = &self.call;
        let charges: Vec<ChargeJson> = c.charges.iter().map(ChargeJson).collect();
        let mut out = s.serialize_struct("Call", 16)?;
        out.serialize_field("from", &show(&Address::new_id(c.from)))?;
        out.serialize_field("to", &show(&c.to))?;
        out.serialize_field("to_id", &self.to_id.map(|id| show(&Address::new_id(id))))?;
        out.serialize_field("actor", &self.actor)?;
        out.serialize_field("method", &c.method)?;
        out.serialize_field("method_name", &self.method_name)?;
        out.serialize_field("value", &json::Atto(&c.value))?;
        out.serialize_field("params", &payload_json(&c.params))?;
        out.serialize_field("gas_limit", &c.gas_limit)?;
        out.serialize_field("read_only", &c.read_only)?;
        out.serialize_field("exit_code", &c.exit_code)?;
        out.serialize_field("return", &payload_json(&c.returned))?;
        out.serialize_field("error", &c.error)?;
        out.serialize_field("gas", &self.own_gas())?;
        out.serialize_field("total_gas", &self.total_gas())?;
        out.serialize_field("charges", &charges)?;
        out.serialize_field("calls", &self.calls)?;
        out.end()
    }
}

impl Serialize for TraceReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let charges: Vec<ChargeJson> = self.charges.iter().map(ChargeJson).collect();
        let mut out = s.serialize_struct("TraceReport", 3)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("charges", &charges)?;
        out.serialize_field("calls", &self.calls)?;
        out.end()
    }
}

// ----- invariants ----------------------------------------------------------

/// One payment channel's invariants.
#[derive(Clone, Debug, Serialize)]
pub struct ChannelInvariants {
    #[serde(serialize_with = "json::id_address")]
    pub id: ActorID,
    #[serde(serialize_with = "json::opt_address")]
    pub robust: Option<Address>,
    #[serde(serialize_with = "json::atto")]
    pub balance: TokenAmount,
    /// Every invariant the channel breaks (empty when sound).
    pub violations: Vec<String>,
}

/// The actor's state invariants over every payment channel in a state.
#[derive(Clone, Debug)]
pub struct InvariantReport {
    pub head: Head,
    pub channels: Vec<ChannelInvariants>,
}

impl InvariantReport {
    /// Every violation, as `channel: what`.
    pub fn violations(&self) -> Vec<String> {
        self.channels
            .iter()
            .flat_map(|c| {
                let name = c.robust.unwrap_or(Address::new_id(c.id));
                c.violations.iter().map(move |v| {
                    format!("{} ({}): {v}", show(&name), show(&Address::new_id(c.id)))
                })
            })
            .collect()
    }
}

impl<R: Repo> Devnet<R> {
    /// Runs the payment channel actor's state invariants
    /// (`paych_actor::testing::check_state_invariants`) on every payment
    /// channel in the head's state.
    pub fn check_invariants(&self) -> Result<InvariantReport> {
        self.repo().read(|store| {
            let head = head_of(store)?;
            let tree = self.state(store, &head.state_root)?;
            let mut channels = Vec::new();
            tree.for_each(|addr, actor| {
                if self.builtin_type(&actor.code) == Some(BuiltinType::PaymentChannel) {
                    channels.push((addr.id()?, actor.clone()));
                }
                Ok(())
            })
            .context("cannot walk the state tree")?;
            let blocks = StoreBlocks::new(store);
            let mut checked = Vec::new();
            for (id, actor) in channels {
                let violations = match blocks.get_cbor::<paych_actor::State>(&actor.state) {
                    Ok(Some(st)) => check_state_invariants(&st, &blocks, &actor.balance),
                    Ok(None) => vec![format!("state block {} is missing", actor.state)],
                    Err(e) => vec![format!("state does not decode: {e}")],
                };
                checked.push(ChannelInvariants {
                    id,
                    robust: robust_address(&tree, id).context("cannot read init's map")?,
                    balance: actor.balance,
                    violations,
                });
            }
            Ok(InvariantReport {
                head,
                channels: checked,
            })
        })
    }
}

// ----- state diff ------------------------------------------------------------

/// An actor as a state diff shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorSide {
    pub balance: TokenAmount,
    pub nonce: u64,
    pub state: Cid,
    /// The decoded channel, for a payment channel.
    pub channel: Option<PaychState>,
}

/// One actor whose balance, nonce or state changed (or that appeared or
/// went away).
#[derive(Clone, Debug)]
pub struct ActorChange {
    pub id: ActorID,
    /// The built-in type name (or `user actor`).
    pub actor: String,
    pub before: Option<ActorSide>,
    pub after: Option<ActorSide>,
}

/// `state diff`.
#[derive(Clone, Debug)]
pub struct StateDiff {
    pub from_epoch: ChainEpoch,
    pub to_epoch: ChainEpoch,
    pub from_root: Cid,
    pub to_root: Cid,
    pub changes: Vec<ActorChange>,
}

impl<R: Repo> Devnet<R> {
    /// The state root in force at `epoch`: after the last message applied at
    /// or before it.
    fn root_at(&self, history: &[MessageRecord], epoch: ChainEpoch) -> Cid {
        history
            .iter()
            .take_while(|m| m.epoch <= epoch)
            .last()
            .map_or(self.info().genesis_root, |m| m.state_root)
    }

    /// Every actor whose balance, nonce or state differs between the states
    /// in force at `from` and at `to`, payment channels decoded.
    pub fn state_diff(&self, from: ChainEpoch, to: ChainEpoch) -> Result<StateDiff> {
        self.repo().read(|store| {
            let head = head_of(store)?;
            for epoch in [from, to] {
                if !(0..=head.epoch).contains(&epoch) {
                    return Err(Error::invalid(format!(
                        "epoch {epoch} is not on the chain (0 to the head, {})",
                        head.epoch
                    )));
                }
            }
            if from > to {
                return Err(Error::invalid(format!(
                    "the first epoch ({from}) must not be after the second ({to})"
                )));
            }
            let history = store.messages(store.message_count()? as usize)?;
            let (from_root, to_root) = (self.root_at(&history, from), self.root_at(&history, to));
            let before = self.actors(store, &from_root)?;
            let after = self.actors(store, &to_root)?;
            let ids: std::collections::BTreeSet<ActorID> =
                before.keys().chain(after.keys()).copied().collect();
            let mut changes = Vec::new();
            for id in ids {
                let (a, b) = (before.get(&id), after.get(&id));
                if a == b {
                    continue;
                }
                let code = b.or(a).map(|x| x.code).expect("one side exists");
                let actor = self
                    .builtin_type(&code)
                    .map_or("user actor".to_string(), |t| t.name().to_string());
                let side = |root: &Cid, x: Option<&ActorState>| -> Result<Option<ActorSide>> {
                    let Some(x) = x else { return Ok(None) };
                    let channel = if self.builtin_type(&x.code) == Some(BuiltinType::PaymentChannel)
                    {
                        let tree = self.state(store, root)?;
                        Some(
                            PaychState::decode(tree.store(), &x.state, x.balance.clone())
                                .context("cannot decode a payment channel")?,
                        )
                    } else {
                        None
                    };
                    Ok(Some(ActorSide {
                        balance: x.balance.clone(),
                        nonce: x.sequence,
                        state: x.state,
                        channel,
                    }))
                };
                changes.push(ActorChange {
                    id,
                    actor,
                    before: side(&from_root, a)?,
                    after: side(&to_root, b)?,
                });
            }
            Ok(StateDiff {
                from_epoch: from,
                to_epoch: to,
                from_root,
                to_root,
                changes,
            })
        })
    }

    fn actors(&self, store: &dyn Store, root: &Cid) -> Result<BTreeMap<ActorID, ActorState>> {
        let tree = self.state(store, root)?;
        let mut actors = BTreeMap::new();
        tree.for_each(|addr, actor| {
            actors.insert(addr.id()?, actor.clone());
            Ok(())
        })
        .context("cannot walk the state tree")?;
        Ok(actors)
    }
}

struct SideJson<'a>(&'a ActorSide);

impl Serialize for SideJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let x = self.0;
        let mut out = s.serialize_struct("ActorSide", 4)?;
        out.serialize_field("balance", &json::Atto(&x.balance))?;
        out.serialize_field("nonce", &x.nonce)?;
        out.serialize_field("state", &x.state.to_string())?;
        out.serialize_field("channel", &x.channel.as_ref().map(ChannelJson))?;
        out.end()
    }
}

/// A decoded payment channel: every field and lane.
pub struct ChannelJson<'a>(pub &'a PaychState);

impl Serialize for ChannelJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let c = self.0;
        let mut out = s.serialize_struct("Channel", 6)?;
        out.serialize_field("from", &show(&c.state.from))?;
        out.serialize_field("to", &show(&c.state.to))?;
        out.serialize_field("to_send", &json::Atto(&c.state.to_send))?;
        out.serialize_field("settling_at", &c.state.settling_at)?;
        out.serialize_field("min_settle_height", &c.state.min_settle_height)?;
        out.serialize_field("lanes", &json::Lanes(&c.lanes))?;
        out.end()
    }
}

impl Serialize for StateDiff {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        struct Change<'a>(&'a ActorChange);
        impl Serialize for Change<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let c = self.0;
                let mut out = s.serialize_struct("ActorChange", 4)?;
                out.serialize_field("id", &show(&Address::new_id(c.id)))?;
                out.serialize_field("actor", &c.actor)?;
                out.serialize_field("before", &c.before.as_ref().map(SideJson))?;
                out.serialize_field("after", &c.after.as_ref().map(SideJson))?;
                out.end()
            }
        }
        let changes: Vec<Change> = self.changes.iter().map(Change).collect();
        let mut out = s.serialize_struct("StateDiff", 5)?;
        out.serialize_field("from_epoch", &self.from_epoch)?;
        out.serialize_field("to_epoch", &self.to_epoch)?;
        out.serialize_field("from_root", &self.from_root.to_string())?;
        out.serialize_field("to_root", &self.to_root.to_string())?;
        out.serialize_field("changes", &changes)?;
        out.end()
    }
}

// ----- test vectors -----------------------------------------------------------

/// `devnet export-vectors`: one vector per applied message.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedVectors {
    pub dir: String,
    pub files: Vec<String>,
}

impl<R: Repo> Devnet<R> {
    /// Writes every applied message as a message-class test vector (one
    /// message each: the devnet applies one message per epoch) under `dir`.
    /// Nothing is written unless every vector could be made.
    pub fn export_vectors(&self, dir: &Path) -> Result<ExportedVectors> {
        let info = self.info();
        let vectors = self.repo().read(|store| {
            self.check_runner_manifest(store)?;
            let history = store.messages(store.message_count()? as usize)?;
            let blocks = StoreBlocks::new(store);
            let mut pre_root = info.genesis_root;
            let mut vectors = Vec::new();
            for m in &history {
                let group = MessageGroup {
                    epoch: m.epoch,
                    pre_root,
                    messages: vec![m.message.clone()],
                    receipts: vec![VectorReceipt {
                        exit_code: m.receipt.exit_code,
                        return_data: m.receipt.return_data.clone(),
                        gas_used: m.receipt.gas_used,
                    }],
                    post_root: m.state_root,
                    labels: vec![format!(
                        "{} from {} to {}",
                        m.method_name(),
                        show(&m.message.from),
                        show(&m.message.to)
                    )],
                };
                let context = VectorContext {
                    id: format!("paych/devnet-history/{:04}", m.seq),
                    network_version: info.config.network_version,
                    base_fee: info.config.base_fee.clone(),
                    circ_supply: TokenAmount::default(),
                    comment: format!(
                        "message {} of a paych devnet (bundle {}); the devnet's epoch 0 is at UNIX time {}, the runner's at 0 (no actor here reads the time)",
                        m.cid, info.bundle_origin, info.config.genesis_timestamp
                    ),
                    tags: vec!["paych".into(), "devnet-history".into()],
                };
                let vector = TestVector::record(&context, &group, &blocks)
                    .context("cannot record a test vector")?;
                let name = format!("{:04}-epoch-{}-{}.json", m.seq, m.epoch, m.method_name());
                vectors.push((name, vector));
                pre_root = m.state_root;
            }
            Ok(vectors)
        })?;
        let mut files = Vec::new();
        for (name, vector) in vectors {
            let path: PathBuf = dir.join(name);
            vector
                .write_file(&path)
                .map_err(|e| Error::invalid(format!("{e:#}")))?;
            files.push(path.display().to_string());
        }
        Ok(ExportedVectors {
            dir: dir.display().to_string(),
            files,
        })
    }

    /// The standard runner reads the built-in actors from the system actor's
    /// state (the manifest's data); repos whose genesis named the versioned
    /// manifest there instead cannot be replayed by it.
    fn check_runner_manifest(&self, store: &dyn Store) -> Result<()> {
        let tree = self.state(store, &self.info().genesis_root)?;
        let system = tree
            .get_actor(SYSTEM_ACTOR_ID)
            .context("cannot read the system actor")?
            .ok_or_else(|| Error::repo("the genesis has no system actor"))?;
        let st: system_actor::State = StoreBlocks::new(store)
            .get_cbor(&system.state)
            .context("cannot read the system actor's state")?
            .ok_or_else(|| Error::repo("the system actor's state is missing"))?;
        if st.builtin_actors == self.info().config.manifest {
            return Err(Error::invalid(
                "this repo's genesis predates test vectors (its system actor names the versioned manifest, which the standard runner cannot read): create a new repo to export vectors",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GenesisOptions, MemoryRepo, MessageSpec, WalletOps};
    use actor_interfaces::builtin::INIT_ACTOR_ID;
    use actor_interfaces::init::{EXEC_METHOD, ExecParams, ExecReturn};
    use fvm_ipld_encoding::RawBytes;
    use paych_actor::ConstructorParams;
    use paych_chain::blocks::Overlay;

    /// A devnet with one channel of 10 FIL from the first wallet address to
    /// the second; returns the channel's ID.
    fn devnet_with_channel() -> (Devnet<MemoryRepo>, ActorID) {
        let net = Devnet::init(MemoryRepo::new(), GenesisOptions::default()).unwrap();
        let wallets = net.wallet_list().unwrap();
        let (from, to) = (wallets[0].address, wallets[1].address);
        let paych = net
            .info()
            .manifest
            .code(BuiltinType::PaymentChannel)
            .unwrap();
        let params = ExecParams {
            code_cid: paych,
            constructor_params: RawBytes::serialize(ConstructorParams { from, to }).unwrap(),
        };
        let spec = MessageSpec {
            from,
            to: Address::new_id(INIT_ACTOR_ID),
            method: EXEC_METHOD,
            params: RawBytes::serialize(params).unwrap(),
            value: TokenAmount::from_whole(10),
        };
        let record = net.repo().write(|tx| net.push(tx, &spec)).unwrap();
        let ret: ExecReturn = fvm_ipld_encoding::from_slice(&record.receipt.return_data).unwrap();
        (net, ret.id_address.id().unwrap())
    }

    #[test]
    fn sound_channels_pass_and_each_violation_is_reported() {
        let (net, id) = devnet_with_channel();
        let report = net.check_invariants().unwrap();
        assert_eq!(report.channels.len(), 1);
        assert_eq!(report.channels[0].id, id);
        assert!(report.channels[0].robust.is_some());
        assert!(report.violations().is_empty());

        // Break the channel on chain: it promises more than it holds and
        // settles before its minimum settle height.
        let head = net.head().unwrap();
        let overlay = std::sync::Arc::new(Overlay::new(net.repo().blocks()));
        let mut tree =
            fvm::state_tree::StateTree::new_from_root(overlay.clone(), &head.state_root).unwrap();
        let mut actor = tree.get_actor(id).unwrap().unwrap();
        let mut st: paych_actor::State = overlay.get_cbor(&actor.state).unwrap().unwrap();
        st.to_send = TokenAmount::from_whole(11);
        st.settling_at = 5;
        st.min_settle_height = 9;
        actor.state = overlay
            .put_cbor(&st, multihash_codetable::Code::Blake2b256)
            .unwrap();
        tree.set_actor(id, actor);
        let root = tree.flush().unwrap();
        net.repo()
            .write(|tx| {
                tx.put_blocks(&overlay.take_writes())?;
                tx.set_head(&Head {
                    epoch: head.epoch,
                    state_root: root,
                })
            })
            .unwrap();

        let report = net.check_invariants().unwrap();
        let violations = report.violations();
        assert_eq!(violations.len(), 2, "{violations:?}");
        assert!(
            violations[0].contains("does not cover to_send"),
            "{violations:?}"
        );
        assert!(
            violations[1].contains("min_settle_height"),
            "{violations:?}"
        );
        assert!(
            violations[0].starts_with("t2"),
            "named by the robust address"
        );
    }

    #[test]
    fn traces_are_kept_with_each_message_and_name_their_calls() {
        let (net, _) = devnet_with_channel();
        let record = net.messages(1).unwrap().pop().unwrap();
        let report = net.message_trace(&record.cid).unwrap();
        assert_eq!(report.calls.len(), 1);
        let exec = &report.calls[0];
        assert_eq!(exec.method_name, "Exec");
        assert_eq!(exec.actor.as_deref(), Some("init"));
        let constructor = &exec.calls[0];
        assert_eq!(constructor.method_name, "Constructor");
        assert_eq!(constructor.actor.as_deref(), Some("paymentchannel"));
        assert!(constructor.own_gas() > 0);
        assert!(exec.total_gas() > exec.own_gas());
        assert!(
            !report.charges.is_empty(),
            "inclusion is charged outside calls"
        );
    }

    #[test]
    fn a_state_diff_lists_what_a_message_changed() {
        let (net, id) = devnet_with_channel();
        let diff = net.state_diff(0, 1).unwrap();
        let channel = diff.changes.iter().find(|c| c.id == id).unwrap();
        assert!(channel.before.is_none());
        let after = channel.after.as_ref().unwrap();
        assert_eq!(after.balance, TokenAmount::from_whole(10));
        assert!(after.channel.is_some());
        assert!(net.state_diff(1, 0).is_err());
        assert!(net.state_diff(0, 2).is_err());
        assert!(net.state_diff(1, 1).unwrap().changes.is_empty());
    }
}
