// Glif's LotusRpcEngine (axios, HTTP POST, id always 1): wallet reads, a
// channel funded with PaychGet and paid with PaychNewPayment, vouchers
// checked; its error handling: the message surfaces on HTTP 200 only.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import glif from '@glif/filecoin-rpc-client'

import { fil, isAddress, isBigInt, isCid, startDaemon, within } from '../lib/daemon.mjs'

// A CommonJS module whose default export is `exports.default`.
const LotusRpcEngine = glif.default

describe('glif LotusRpcEngine', { timeout: 90_000 }, () => {
  let daemon
  let lotus
  let from
  let to
  let ch
  let payment

  before(async () => {
    daemon = await startDaemon()
    lotus = new LotusRpcEngine({ apiAddress: daemon.http, token: daemon.token })
  }, { timeout: 45_000 })

  after(async () => {
    await daemon?.stop()
  }, { timeout: 20_000 })

  it("request('Version')", async () => {
    const v = await lotus.request('Version')
    assert.equal(v.APIVersion, 131840)
    assert.equal(v.Agent, 'lotus')
  })

  it("request('WalletList'), request('WalletDefaultAddress'), request('WalletBalance', a)", async () => {
    const list = await lotus.request('WalletList')
    assert.equal(list.length, 3)
    from = await lotus.request('WalletDefaultAddress')
    to = list.find((a) => a !== from)
    assert.equal(await lotus.request('WalletBalance', to), fil(1000))
    // An address no actor has: "0", not an error.
    const fresh = await lotus.request('WalletNew', 'secp256k1')
    assert.ok(isAddress(fresh, '1'))
    assert.equal(await lotus.request('WalletBalance', fresh), '0')
    assert.equal(await lotus.request('WalletHas', fresh), true)
  })

  it("request('PaychGet', from, to, amt, {OffChain:false}) and PaychGetWaitReady", async () => {
    const info = await lotus.request('PaychGet', from, to, fil(8), { OffChain: false })
    assert.equal(info.Channel, '<empty>')
    assert.ok(isCid(info.WaitSentinel))
    ch = await lotus.request('PaychGetWaitReady', info.WaitSentinel)
    assert.ok(isAddress(ch, '2'))
    const actor = await lotus.request('StateGetActor', ch, [])
    assert.equal(actor.Balance, fil(8))
    assert.ok(isCid(actor.Code) && isCid(actor.Head))
    const state = await lotus.request('StateReadState', ch, null)
    assert.equal(state.Balance, fil(8))
    assert.equal(await lotus.request('StateAccountKey', state.State.From, []), from)
    assert.equal(await lotus.request('StateAccountKey', state.State.To, []), to)
    assert.equal(state.State.ToSend, '0')
  })

  it("request('PaychAvailableFundsByFromTo') after PaychGet reserved the funds", async () => {
    const funds = await lotus.request('PaychAvailableFundsByFromTo', from, to)
    assert.equal(funds.Channel, ch)
    assert.equal(funds.ConfirmedAmt, fil(8))
    assert.equal(funds.VoucherReedeemedAmt, '0')
    // No channel the other way round: zeros and a null Channel, no error.
    const none = await lotus.request('PaychAvailableFundsByFromTo', to, from)
    assert.equal(none.Channel, null)
    assert.equal(none.ConfirmedAmt, '0')
  })

  it("request('PaychNewPayment') makes vouchers on a new lane", async () => {
    // PaychGet for the last amount: 8 FIL are reserved already, so this adds
    // funds to the channel.
    payment = await lotus.request('PaychNewPayment', from, to, [
      { Amount: fil(1), TimeLockMin: 0, TimeLockMax: 0, MinSettle: 0, Extra: null },
      { Amount: fil(2), TimeLockMin: 0, TimeLockMax: 0, MinSettle: 0, Extra: null }
    ])
    assert.equal(payment.Channel, ch)
    assert.ok(payment.WaitSentinel === null || isCid(payment.WaitSentinel))
    assert.equal(payment.Vouchers.length, 2)
    const [v1, v2] = payment.Vouchers
    assert.equal(v1.Lane, v2.Lane)
    assert.deepEqual([v1.Nonce, v1.Amount], [1, fil(1)])
    assert.deepEqual([v2.Nonce, v2.Amount], [2, fil(2)])
  })

  it("request('PaychVoucherCheckValid'), request('PaychVoucherCheckSpendable')", async () => {
    const v = payment.Vouchers[1]
    assert.equal(await lotus.request('PaychVoucherCheckValid', ch, v), null)
    assert.equal(await lotus.request('PaychVoucherCheckSpendable', ch, v, null, null), true)
    const list = await lotus.request('PaychVoucherList', ch)
    assert.equal(list.length, 2)
  })

  it("request('PaychAllocateLane'), request('PaychVoucherCreate') and the channel's status", async () => {
    const lane = await lotus.request('PaychAllocateLane', ch)
    assert.ok(Number.isInteger(lane))
    assert.notEqual(lane, payment.Vouchers[0].Lane, 'a new lane')
    const created = await lotus.request('PaychVoucherCreate', ch, fil(2), lane)
    assert.equal(created.Shortfall, '0')
    assert.deepEqual([created.Voucher.Lane, created.Voucher.Nonce], [lane, 1])
    assert.deepEqual(await lotus.request('PaychStatus', ch), { ControlAddr: from, Direction: 2 })
    const funds = await lotus.request('PaychAvailableFunds', ch)
    assert.ok(isBigInt(funds.ConfirmedAmt))
  })

  it('errors: a method error (HTTP 200) is thrown with the node message', async () => {
    // A voucher whose amount was changed after signing.
    const forged = { ...payment.Vouchers[1], Amount: fil(3), Nonce: 3 }
    await assert.rejects(lotus.request('PaychVoucherCheckValid', ch, forged), (e) => {
      assert.ok(e instanceof Error)
      assert.ok(!/status code/.test(e.message), e.message)
      assert.match(e.message, /sign/i)
      return true
    })
    const reader = new LotusRpcEngine({
      apiAddress: daemon.http,
      token: await daemon.createToken('read')
    })
    await assert.rejects(reader.request('PaychSettle', ch), {
      message: "missing permission to invoke 'PaychSettle' (need 'sign')"
    })
  })

  it('errors: on HTTP 500 axios throws and the JSON-RPC message is lost', async () => {
    await assert.rejects(lotus.request('PaychNoSuchMethod'), (e) => {
      assert.equal(e.message, 'Request failed with status code 500')
      // What the node said is still in the response body.
      assert.equal(e.response.status, 500)
      assert.deepEqual(e.response.data, {
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32601, message: "method 'Filecoin.PaychNoSuchMethod' not found" }
      })
      return true
    })
    // Wrong param count: -32602, also HTTP 500.
    await assert.rejects(lotus.request('PaychStatus'), (e) => {
      assert.equal(e.response.status, 500)
      assert.equal(e.response.data.error.code, -32602)
      assert.equal(
        e.response.data.error.message,
        "wrong param count (method 'Filecoin.PaychStatus'): 0 != 1"
      )
      return true
    })
  })

  it('errors: a bad token is HTTP 401', async () => {
    const bad = new LotusRpcEngine({ apiAddress: daemon.http, token: 'bad' })
    await assert.rejects(bad.request('Version'), (e) => {
      assert.equal(e.message, 'Request failed with status code 401')
      assert.equal(e.response.data, '')
      return true
    })
  })

  it('a raw call in another namespace: Devnet.Advance', async () => {
    const devnet = new LotusRpcEngine({
      apiAddress: daemon.http,
      token: daemon.token,
      namespace: 'Devnet'
    })
    const before = await lotus.request('ChainHead')
    const head = await within(devnet.request('Advance', 5), 30_000, 'Devnet.Advance')
    assert.equal(head.Height, before.Height + 5)
  })
})
