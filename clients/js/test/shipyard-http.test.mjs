// The Filecoin Shipyard client (LotusRPC + NodejsProvider, node-fetch) over
// HTTP: the whole payment channel story, from the channel's creation to its
// collection, with the shapes lotus-api.md gives for each answer.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { LotusRPC } from '@filecoin-shipyard/lotus-client-rpc'
import { NodejsProvider } from '@filecoin-shipyard/lotus-client-provider-nodejs'
import { mainnet } from '@filecoin-shipyard/lotus-client-schema'

import {
  AVAILABLE_FUNDS_KEYS,
  VOUCHER_KEYS,
  fil,
  isAddress,
  isBigInt,
  isCid,
  startDaemon,
  within
} from '../lib/daemon.mjs'

// The schema was generated from an older v0 API: it lacks PaychFund, which
// a v1 node serves. Patch a copy, as the reference says to.
const schema = {
  ...mainnet.fullNode,
  methods: { ...mainnet.fullNode.methods, PaychFund: {} }
}

describe('shipyard LotusRPC over HTTP', { timeout: 90_000 }, () => {
  let daemon
  let client
  let from
  let to
  let ch
  let createSentinel
  const vouchers = []
  let collectCid

  before(async () => {
    daemon = await startDaemon()
    client = new LotusRPC(new NodejsProvider(daemon.http, { token: daemon.token }), { schema })
  }, { timeout: 45_000 })

  after(async () => {
    await client?.destroy()
    await daemon?.stop()
  }, { timeout: 20_000 })

  it('Version: v1 API 2.3.0 and agent lotus', async () => {
    const v = await client.version()
    assert.equal(v.APIVersion, 131840)
    assert.equal(v.Agent, 'lotus')
    assert.equal(typeof v.Version, 'string')
    assert.equal(typeof v.BlockDelay, 'number')
  })

  it('WalletList, WalletDefaultAddress, WalletBalance', async () => {
    const list = await client.walletList()
    assert.ok(Array.isArray(list))
    assert.equal(list.length, 3, 'the devnet funds three addresses')
    for (const a of list) assert.ok(isAddress(a, '1'), `${a} is a secp256k1 address`)
    from = await client.walletDefaultAddress()
    assert.ok(list.includes(from))
    to = list.find((a) => a !== from)
    for (const a of list) {
      assert.equal(await client.walletBalance(a), fil(1000), `${a} starts with 1000 FIL`)
    }
  })

  it('PaychGet (v1, 4 params) creates the channel: Channel "<empty>" and a WaitSentinel', async () => {
    const info = await client.paychGet(from, to, fil(10), { OffChain: false })
    assert.deepEqual(Object.keys(info).sort(), ['Channel', 'WaitSentinel'])
    assert.equal(info.Channel, '<empty>', 'a channel being created is the undefined address')
    assert.ok(isCid(info.WaitSentinel), JSON.stringify(info.WaitSentinel))
    createSentinel = info.WaitSentinel
  })

  it('PaychGetWaitReady returns the channel robust address', async () => {
    ch = await client.paychGetWaitReady(createSentinel)
    assert.ok(isAddress(ch, '2'), `${ch} is an actor (t2) address`)
  })

  it('StateWaitMsg of the create message decodes Init Exec return', async () => {
    const lookup = await client.stateWaitMsg(createSentinel, 0, -1, true)
    assert.deepEqual(lookup.Message, createSentinel)
    assert.equal(lookup.Receipt.ExitCode, 0)
    assert.equal(lookup.ReturnDec.RobustAddress, ch)
    assert.ok(isAddress(lookup.ReturnDec.IDAddress, '0'))
    assert.ok(Array.isArray(lookup.TipSet) && lookup.TipSet.every(isCid))
    assert.equal(typeof lookup.Height, 'number')
  })

  it('PaychGet OffChain: no message, so short funds are an error', async () => {
    // PaychGet reserved all 10 FIL for vouchers; OffChain never sends a
    // message to add more.
    await assert.rejects(
      client.paychGet(from, to, fil(1), { OffChain: true }),
      /^Error: not enough funds available in the payment channel/
    )
  })

  it('PaychGet on the existing channel adds funds: its address and a WaitSentinel', async () => {
    const info = await client.paychGet(from, to, fil(1), { OffChain: false })
    assert.equal(info.Channel, ch)
    assert.ok(isCid(info.WaitSentinel))
    assert.notDeepEqual(info.WaitSentinel, createSentinel)
    assert.equal(await client.paychGetWaitReady(info.WaitSentinel), ch)
  })

  it('PaychAvailableFunds: Lotus keys (VoucherReedeemedAmt misspelt) and amounts', async () => {
    const funds = await client.paychAvailableFunds(ch)
    for (const key of AVAILABLE_FUNDS_KEYS) assert.ok(key in funds, `key ${key}`)
    assert.ok(!('VoucherRedeemedAmt' in funds), 'the misspelling is the protocol')
    assert.equal(funds.Channel, ch)
    assert.equal(funds.From, from)
    assert.equal(funds.To, to)
    assert.equal(funds.ConfirmedAmt, fil(11))
    assert.equal(funds.VoucherReedeemedAmt, '0')
    assert.equal(funds.PendingWaitSentinel, null)
    for (const key of ['PendingAmt', 'NonReservedAmt', 'PendingAvailableAmt', 'QueuedAmt']) {
      assert.ok(isBigInt(funds[key]), `${key} is a BigInt string`)
    }
  })

  it('PaychVoucherCreate 2 FIL then 4 FIL on lane 0: {Voucher, Shortfall}', async () => {
    for (const [amount, nonce] of [[fil(2), 1], [fil(4), 2]]) {
      const created = await client.paychVoucherCreate(ch, amount, 0)
      assert.deepEqual(Object.keys(created).sort(), ['Shortfall', 'Voucher'])
      assert.equal(created.Shortfall, '0')
      const v = created.Voucher
      assert.deepEqual(Object.keys(v).sort(), [...VOUCHER_KEYS].sort())
      assert.equal(v.ChannelAddr, ch)
      assert.equal(v.Lane, 0)
      assert.equal(v.Nonce, nonce)
      assert.equal(v.Amount, amount, 'the amount is the lane total, not a delta')
      assert.equal(v.TimeLockMin, 0)
      assert.equal(v.TimeLockMax, 0)
      assert.equal(v.MinSettleHeight, 0)
      assert.equal(v.SecretHash, null)
      assert.equal(v.Extra, null)
      assert.equal(v.Merges, null, 'a nil slice is null, not []')
      assert.equal(v.Signature.Type, 1, 'secp256k1')
      assert.match(v.Signature.Data, /^[A-Za-z0-9+/]+={0,2}$/)
      vouchers.push(v)
    }
  })

  it('PaychVoucherCreate beyond the funds: Voucher null and the Shortfall, no error', async () => {
    // 11 FIL in the channel; a 15 FIL lane total is 4 FIL short.
    const created = await client.paychVoucherCreate(ch, fil(15), 0)
    assert.equal(created.Voucher, null)
    assert.equal(created.Shortfall, fil(4))
  })

  it('PaychVoucherCheckValid, PaychVoucherAdd, PaychVoucherList', async () => {
    const latest = vouchers[1]
    assert.equal(await client.paychVoucherCheckValid(ch, latest), null)
    // Both keys are in this node's wallet, so it can take the voucher in as
    // the payee; PaychVoucherCreate already stored it, so adding it again
    // adds nothing.
    const delta = await client.paychVoucherAdd(ch, latest, null, '0')
    assert.ok(isBigInt(delta))
    assert.equal(delta, '0')
    const list = await client.paychVoucherList(ch)
    assert.ok(Array.isArray(list))
    assert.deepEqual(
      list.map((v) => [v.Lane, v.Nonce, v.Amount]).sort(),
      [[0, 1, fil(2)], [0, 2, fil(4)]]
    )
  })

  it('PaychFund (patched into the schema) adds funds to the channel', async () => {
    const info = await client.paychFund(from, to, fil(1))
    assert.equal(info.Channel, ch)
    assert.ok(isCid(info.WaitSentinel))
    assert.equal(await client.paychGetWaitReady(info.WaitSentinel), ch)
    const funds = await client.paychAvailableFunds(ch)
    assert.equal(funds.ConfirmedAmt, fil(12))
  })

  it('PaychStatus: outbound from the payer', async () => {
    assert.deepEqual(await client.paychStatus(ch), { ControlAddr: from, Direction: 2 })
  })

  it('PaychSettle returns a Cid; Devnet.Advance 1440 (raw call); PaychCollect returns a Cid', async () => {
    const settle = await client.paychSettle(ch)
    assert.ok(isCid(settle))
    // Devnet.Advance is no Lotus method: a raw call through the provider.
    const head = await within(
      client.provider.send({ method: 'Devnet.Advance', params: [1440] }),
      60_000,
      'Devnet.Advance 1440'
    )
    assert.equal(typeof head.Height, 'number')
    assert.ok(isCid(head.StateRoot))
    collectCid = await client.paychCollect(ch)
    assert.ok(isCid(collectCid))
  })

  it('StateWaitMsg of the collect message', async () => {
    const lookup = await within(client.stateWaitMsg(collectCid, 0, -1, true), 30_000, 'StateWaitMsg')
    assert.deepEqual(lookup.Message, collectCid)
    assert.equal(lookup.Receipt.ExitCode, 0)
    assert.equal(lookup.ReturnDec, null)
    assert.ok(isCid(lookup.TipSet[0]))
  })

  it('errors: a client without a token gets the permission error thrown', async () => {
    const anonymous = new LotusRPC(new NodejsProvider(daemon.http), { schema })
    const v = await anonymous.version()
    assert.equal(v.APIVersion, 131840, 'anonymous callers may read')
    await assert.rejects(
      anonymous.paychGet(from, to, fil(1), { OffChain: false }),
      { message: "missing permission to invoke 'PaychGet' (need 'sign')" }
    )
    await anonymous.destroy()
  })

  it('errors: a method error is thrown with its message (HTTP 200)', async () => {
    await assert.rejects(client.paychStatus(from), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(typeof e.message, 'string')
      assert.ok(e.message.length > 0)
      return true
    })
  })

  it('errors: shipyard throws the message even on HTTP 500 (unknown method)', async () => {
    const patched = { ...schema, methods: { ...schema.methods, PaychNoSuchMethod: {} } }
    const c = new LotusRPC(new NodejsProvider(daemon.http, { token: daemon.token }), { schema: patched })
    await assert.rejects(c.paychNoSuchMethod(), {
      message: "method 'Filecoin.PaychNoSuchMethod' not found"
    })
    await c.destroy()
  })
})
