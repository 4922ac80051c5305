//! The 17 `Paych*` methods over the payment-channel manager, with Lotus's
//! parameters, permissions and result shapes (`node/impl/paych`,
//! `paychmgr`).
//!
//! The node's manager sends each on-chain step and waits for it, so a
//! `WaitSentinel` names a message that has already executed; the sentinel is
//! remembered in the repository so `PaychGetWaitReady` answers it later, as
//! Lotus's datastore does.

use std::sync::Arc;

use fvm_shared::address::Address;
use fvm_shared::econ::TokenAmount;
use paych_actor::{ModVerifyParams, SignedVoucher};
use paych_devnet::addr::show;
use paych_devnet::{ErrorKind, Repo};
use paych_manager::json::LotusAvailableFunds;
use paych_manager::{Conditions, FundsAdded, PaychManager, Status};
use serde_json::{Value, json};

use super::{Node, bytes_param, method_error, require_no_proof};
use crate::auth::Perm;
use crate::jsonrpc::RpcError;
use crate::lotus_json::{Fields, ToLotus};
use crate::rpc::{Api, Params};

/// The repository meta key remembering what channel a sentinel funded.
fn sentinel_key(cid: &cid::Cid) -> String {
    format!("paych.sentinel.{cid}")
}

pub fn register<N: Node>(api: &mut Api, node: &Arc<N>, v0: bool) {
    let n = node.clone();
    if v0 {
        // v0's PaychGet(from, to, amt) runs PaychFund's logic.
        api.method("PaychGet", Perm::Sign, 3, move |p| fund(&*n, &p, false));
    } else {
        api.method("PaychGet", Perm::Sign, 4, move |p| {
            let opts = Fields::of(p.values().get(3).unwrap_or(&Value::Null), "PaychGetOpts")
                .map_err(|e| p.decode_error(3, e))?;
            let off_chain: bool = opts.get("OffChain").map_err(|e| p.decode_error(3, e))?;
            if off_chain {
                get_off_chain(&*n, &p)
            } else {
                fund(&*n, &p, true)
            }
        });
        let n = node.clone();
        api.method("PaychFund", Perm::Sign, 3, move |p| fund(&*n, &p, false));
    }
    let n = node.clone();
    api.method("PaychAvailableFunds", Perm::Sign, 1, move |p| {
        let ch: Address = p.get(0)?;
        let status = manager(&*n).status(&ch).map_err(method_error)?;
        Ok(serde_json::to_value(LotusAvailableFunds(&status)).expect("funds serialize"))
    });
    let n = node.clone();
    api.method("PaychAvailableFundsByFromTo", Perm::Sign, 2, move |p| {
        let (from, to): (Address, Address) = (p.get(0)?, p.get(1)?);
        match manager(&*n)
            .status_by_from_to(&from, &to)
            .map_err(method_error)?
        {
            Some(status) => {
                Ok(serde_json::to_value(LotusAvailableFunds(&status)).expect("funds serialize"))
            }
            None => Ok(no_channel_funds(&from, &to)),
        }
    });
    let n = node.clone();
    api.method("PaychGetWaitReady", Perm::Sign, 1, move |p| {
        let sentinel: cid::Cid = p.get(0)?;
        let channel = n
            .repo()
            .read(|s| s.meta(&sentinel_key(&sentinel)))
            .map_err(method_error)?;
        match channel {
            Some(channel) => Ok(json!(channel)),
            None => Err(RpcError::method(format!(
                "Could not find wait msg cid {sentinel}"
            ))),
        }
    });
    let n = node.clone();
    api.method("PaychAllocateLane", Perm::Sign, 1, move |p| {
        let ch: Address = p.get(0)?;
        let lane = manager(&*n).allocate_lane(&ch).map_err(method_error)?;
        Ok(json!(lane.lane))
    });
    let n = node.clone();
    api.method("PaychNewPayment", Perm::Sign, 3, move |p| {
        new_payment(&*n, &p)
    });
    let n = node.clone();
    api.method("PaychList", Perm::Read, 0, move |_| {
        let channels = manager(&*n).list().map_err(method_error)?;
        Ok(json!(
            channels
                .iter()
                .filter(|s| s.created_epoch.is_some())
                .map(|s| show(&s.channel))
                .collect::<Vec<_>>()
        ))
    });
    let n = node.clone();
    api.method("PaychStatus", Perm::Read, 1, move |p| {
        let ch: Address = p.get(0)?;
        let status = manager(&*n).status(&ch).map_err(method_error)?;
        let Some((control, direction)) = control(&status) else {
            return Err(RpcError::method("channel not tracked"));
        };
        Ok(json!({ "ControlAddr": control.to_lotus(), "Direction": direction }))
    });
    // Settle and Collect are sent from the control address, as Lotus sends
    // them (`ci.Control`): with both keys in the wallet, the payer's.
    let n = node.clone();
    api.method("PaychSettle", Perm::Sign, 1, move |p| {
        let ch: Address = p.get(0)?;
        let paych = manager(&*n);
        let sender = control_of(&paych, &ch);
        let settled = paych.settle(&ch, sender.as_ref()).map_err(method_error)?;
        Ok(settled.message.cid.to_lotus())
    });
    let n = node.clone();
    api.method("PaychCollect", Perm::Sign, 1, move |p| {
        let ch: Address = p.get(0)?;
        let paych = manager(&*n);
        let sender = control_of(&paych, &ch);
        let collected = paych
            .collect(&ch, sender.as_ref(), false)
            .map_err(method_error)?;
        Ok(collected.message.cid.to_lotus())
    });
    let n = node.clone();
    api.method("PaychVoucherCheckValid", Perm::Read, 2, move |p| {
        let (ch, sv): (Address, SignedVoucher) = (p.get(0)?, p.get(1)?);
        manager(&*n).voucher_check(&ch, &sv).map_err(method_error)?;
        Ok(Value::Null)
    });
    let n = node.clone();
    api.method("PaychVoucherCheckSpendable", Perm::Read, 4, move |p| {
        let (ch, sv): (Address, SignedVoucher) = (p.get(0)?, p.get(1)?);
        let secret = bytes_param(&p, 2)?;
        require_no_proof(&p, 3)?;
        let spendable = manager(&*n)
            .voucher_spendable(&ch, &sv, &secret)
            .map_err(method_error)?;
        Ok(json!(spendable))
    });
    let n = node.clone();
    api.method("PaychVoucherCreate", Perm::Sign, 3, move |p| {
        let (ch, amount, lane): (Address, TokenAmount, u64) = (p.get(0)?, p.get(1)?, p.get(2)?);
        Ok(match manager(&*n).voucher_create(&ch, &amount, lane) {
            Ok(created) => voucher_result(Some(&created.voucher), &TokenAmount::default()),
            // Lotus reports a shortfall as a result, not an error.
            Err(e) if e.kind() == ErrorKind::InsufficientFunds && e.shortfall().is_some() => {
                voucher_result(None, e.shortfall().expect("checked"))
            }
            Err(e) => return Err(method_error(e)),
        })
    });
    let n = node.clone();
    api.method("PaychVoucherAdd", Perm::Write, 4, move |p| {
        let (ch, sv): (Address, SignedVoucher) = (p.get(0)?, p.get(1)?);
        require_no_proof(&p, 2)?;
        let min_delta: TokenAmount = p.get(3)?;
        let checked = manager(&*n)
            .voucher_add(&ch, &sv, &min_delta)
            .map_err(method_error)?;
        // The manager reports a re-added voucher's delta as zero, as Lotus.
        Ok(checked.delta.to_lotus())
    });
    let n = node.clone();
    api.method("PaychVoucherList", Perm::Write, 1, move |p| {
        let ch: Address = p.get(0)?;
        let list = manager(&*n).voucher_list(&ch).map_err(method_error)?;
        Ok(Value::Array(
            list.vouchers.iter().map(|r| r.voucher.to_lotus()).collect(),
        ))
    });
    let n = node.clone();
    api.method("PaychVoucherSubmit", Perm::Sign, 4, move |p| {
        let (ch, sv): (Address, SignedVoucher) = (p.get(0)?, p.get(1)?);
        let secret = bytes_param(&p, 2)?;
        require_no_proof(&p, 3)?;
        let submitted = manager(&*n)
            .voucher_submit(&ch, &sv, &secret)
            .map_err(method_error)?;
        Ok(submitted.message.cid.to_lotus())
    });
}

fn manager<N: Node>(node: &N) -> PaychManager<'_, N> {
    PaychManager::new(node)
}

/// A tracked channel's control address and direction, as Lotus keeps them:
/// the payer's (outbound, 2) when its key is in the wallet, else the payee's
/// (inbound, 1).
fn control(status: &Status) -> Option<(Address, u8)> {
    status.created_epoch?;
    match (status.payer_in_wallet, status.from, status.to) {
        (true, Some(from), _) => Some((from, 2)),
        (false, _, Some(to)) if status.payee_in_wallet => Some((to, 1)),
        _ => None,
    }
}

/// The control address of `ch`, if the channel is tracked here; `None`
/// leaves the choice of sender to the manager.
fn control_of<N: Node>(paych: &PaychManager<'_, N>, ch: &Address) -> Option<Address> {
    let status = paych.status(ch).ok()?;
    control(&status).map(|(address, _)| address)
}

/// `{"Voucher": ..., "Shortfall": ...}`.
fn voucher_result(voucher: Option<&SignedVoucher>, shortfall: &TokenAmount) -> Value {
    json!({
        "Voucher": voucher.map(ToLotus::to_lotus).unwrap_or(Value::Null),
        "Shortfall": shortfall.to_lotus(),
    })
}

/// PaychGet (reserving) or PaychFund (not): funds `amt` from `from` to `to`.
fn fund<N: Node>(node: &N, p: &Params, reserve: bool) -> Result<Value, RpcError> {
    let (from, to, amount): (Address, Address, TokenAmount) = (p.get(0)?, p.get(1)?, p.get(2)?);
    let added = if reserve {
        manager(node).reserve_funds(&from, &to, &amount)
    } else {
        manager(node).add_funds(&from, &to, &amount)
    }
    .map_err(method_error)?;
    channel_info(node, &added)
}

/// ChannelInfo for funds added: a created channel is `<empty>` until its
/// sentinel is waited for, as in Lotus.
fn channel_info<N: Node>(node: &N, added: &FundsAdded) -> Result<Value, RpcError> {
    let sentinel = added.message.as_ref().map(|m| m.cid);
    if let Some(cid) = sentinel {
        let channel = show(&added.channel);
        node.repo()
            .write(|tx| tx.set_meta(&sentinel_key(&cid), &channel))
            .map_err(method_error)?;
    }
    let channel = if added.created {
        json!("<empty>")
    } else {
        added.channel.to_lotus()
    };
    Ok(json!({
        "Channel": channel,
        "WaitSentinel": sentinel.map(|c| c.to_lotus()).unwrap_or(Value::Null),
    }))
}

/// PaychGet with `OffChain`: reserve from what the channel already holds,
/// never sending a message.
fn get_off_chain<N: Node>(node: &N, p: &Params) -> Result<Value, RpcError> {
    let (from, to, amount): (Address, Address, TokenAmount) = (p.get(0)?, p.get(1)?, p.get(2)?);
    let status = manager(node)
        .status_by_from_to(&from, &to)
        .map_err(method_error)?
        .filter(|s| matches!(s.phase, paych_manager::Phase::Open));
    let Some(status) = status else {
        return Err(RpcError::method(format!(
            "payment channel doesn't exist, create with 'lotus paych add-funds {} {} {}'",
            show(&from),
            show(&to),
            paych_client::amount::fil_unitless(&amount)
        )));
    };
    if status.non_reserved < amount {
        return Err(RpcError::method(format!(
            "not enough funds available in the payment channel {}; add funds with 'lotus paych add-funds {} {} {}'",
            show(&status.channel),
            show(&from),
            show(&to),
            paych_client::amount::fil_unitless(&(&amount - &status.non_reserved))
        )));
    }
    let added = manager(node)
        .reserve_funds(&from, &to, &amount)
        .map_err(method_error)?;
    channel_info(node, &added)
}

/// PaychNewPayment: PaychGet for the last voucher's amount, a new lane, and
/// one voucher per spec on it.
fn new_payment<N: Node>(node: &N, p: &Params) -> Result<Value, RpcError> {
    let (from, to): (Address, Address) = (p.get(0)?, p.get(1)?);
    let specs = p
        .values()
        .get(2)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut parsed = Vec::with_capacity(specs.len());
    for spec in &specs {
        let f = Fields::of(spec, "VoucherSpec").map_err(|e| p.decode_error(2, e))?;
        let amount: TokenAmount = f.get("Amount").map_err(|e| p.decode_error(2, e))?;
        let conditions = Conditions {
            time_lock_min: f.get("TimeLockMin").map_err(|e| p.decode_error(2, e))?,
            time_lock_max: f.get("TimeLockMax").map_err(|e| p.decode_error(2, e))?,
            min_settle_height: f.get("MinSettle").map_err(|e| p.decode_error(2, e))?,
            extra: f
                .opt::<ModVerifyParams>("Extra")
                .map_err(|e| p.decode_error(2, e))?,
            ..Conditions::default()
        };
        parsed.push((amount, conditions));
    }
    let Some((total, _)) = parsed.last() else {
        return Err(RpcError::method(
            "must call NewPayment with at least one voucher",
        ));
    };
    let paych = manager(node);
    let added = paych
        .reserve_funds(&from, &to, total)
        .map_err(method_error)?;
    let info = channel_info(node, &added)?;
    let lane = paych
        .allocate_lane(&added.channel)
        .map_err(method_error)?
        .lane;
    let mut vouchers = Vec::with_capacity(parsed.len());
    for (amount, conditions) in &parsed {
        let created = paych
            .voucher_create_with(&added.channel, amount, lane, conditions, false)
            .map_err(|e| match e.shortfall() {
                Some(shortfall) => RpcError::method(format!(
                    "cannot create voucher: not enough funds in channel, shortfall: {}",
                    shortfall.atto()
                )),
                None => method_error(e),
            })?;
        vouchers.push(created.voucher.to_lotus());
    }
    Ok(json!({
        "Channel": added.channel.to_lotus(),
        "WaitSentinel": info["WaitSentinel"].clone(),
        "Vouchers": vouchers,
    }))
}

/// PaychAvailableFundsByFromTo with no channel: zeros, `Channel` null.
fn no_channel_funds(from: &Address, to: &Address) -> Value {
    let zero = TokenAmount::default().to_lotus();
    json!({
        "Channel": Value::Null,
        "From": from.to_lotus(),
        "To": to.to_lotus(),
        "ConfirmedAmt": zero,
        "PendingAmt": zero,
        "NonReservedAmt": zero,
        "PendingAvailableAmt": zero,
        "PendingWaitSentinel": Value::Null,
        "QueuedAmt": zero,
        "VoucherReedeemedAmt": zero,
        "UnsubmittedAmt": zero,
        "RedeemDeadline": Value::Null,
    })
}
