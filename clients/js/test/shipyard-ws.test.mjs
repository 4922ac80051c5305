// The Filecoin Shipyard client over WebSocket (the `ws` package; the token
// travels as `?token=` on the upgrade URL, no Authorization header):
// ChainNotify streams `current` then an `apply` for each new block, and
// ordinary calls share the connection.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { LotusRPC } from '@filecoin-shipyard/lotus-client-rpc'
import { NodejsProvider } from '@filecoin-shipyard/lotus-client-provider-nodejs'
import { mainnet } from '@filecoin-shipyard/lotus-client-schema'

import { fil, isAddress, isCid, startDaemon, within } from '../lib/daemon.mjs'

const schema = mainnet.fullNode

/** `ChainNotify`'s values as they arrive, and a way to wait for the next. */
function recorder () {
  const seen = []
  let waiting = []
  return {
    seen,
    push (changes) {
      seen.push(changes)
      const ready = waiting
      waiting = []
      for (const w of ready) w()
    },
    /** Resolves once `pred(seen)` holds (at most `ms`). */
    until (pred, ms, what) {
      const check = new Promise((resolve) => {
        const test = () => (pred(seen) ? resolve(seen) : waiting.push(test))
        test()
      })
      return within(check, ms, what)
    }
  }
}

function assertTipSet (ts) {
  assert.ok(Array.isArray(ts.Cids) && ts.Cids.length >= 1 && ts.Cids.every(isCid))
  assert.ok(Array.isArray(ts.Blocks))
  assert.equal(typeof ts.Height, 'number')
  for (const b of ts.Blocks) {
    assert.equal(b.Height, ts.Height)
    assert.ok(isCid(b.ParentStateRoot))
    assert.ok(Array.isArray(b.Parents))
    assert.equal(typeof b.ParentWeight, 'string')
    assert.equal(typeof b.ParentBaseFee, 'string')
    assert.equal(typeof b.Timestamp, 'number')
  }
}

describe('shipyard LotusRPC over WebSocket', { timeout: 90_000 }, () => {
  let daemon
  let client
  let from
  let to

  before(async () => {
    daemon = await startDaemon()
    client = new LotusRPC(new NodejsProvider(daemon.ws, { token: daemon.token }), { schema })
  }, { timeout: 45_000 })

  after(async () => {
    await client?.destroy()
    await daemon?.stop()
  }, { timeout: 20_000 })

  it('the provider dials ws:// with ?token= and calls Version', async () => {
    assert.equal(client.provider.transport, 'ws')
    assert.ok(client.provider.url.startsWith(`${daemon.ws}?token=`))
    const v = await within(client.version(), 10_000, 'Version over WebSocket')
    assert.equal(v.APIVersion, 131840)
    assert.equal(v.Agent, 'lotus')
  })

  it('ChainNotify: "current" first, then "apply" for the block a PaychGet produces', async () => {
    const changes = recorder()
    const [cancel, subscribed] = client.chainNotify((c) => changes.push(c))
    await within(subscribed, 10_000, 'ChainNotify to answer with a channel id')

    await changes.until((s) => s.length >= 1, 10_000, 'the "current" head')
    const first = changes.seen[0]
    assert.ok(Array.isArray(first))
    assert.equal(first.length, 1)
    assert.equal(first[0].Type, 'current')
    assertTipSet(first[0].Val)
    const height = first[0].Val.Height

    // Calls share the connection with the stream.
    const list = await client.walletList()
    from = await client.walletDefaultAddress()
    to = list.find((a) => a !== from)
    // Creating a channel pools a message; with --block-time 0 that makes a
    // block at once.
    const info = await within(
      client.paychGet(from, to, fil(3), { OffChain: false }),
      30_000,
      'PaychGet'
    )
    assert.equal(info.Channel, '<empty>')
    assert.ok(isCid(info.WaitSentinel))
    const ch = await client.paychGetWaitReady(info.WaitSentinel)
    assert.ok(isAddress(ch, '2'))

    const applied = (s) => s.slice(1).flat().filter((c) => c.Type === 'apply')
    await changes.until((s) => applied(s).length >= 1, 20_000, 'an "apply" head change')
    const apply = applied(changes.seen)[0]
    assertTipSet(apply.Val)
    assert.equal(apply.Val.Height, height + 1, 'the next block')
    for (const c of changes.seen.slice(1).flat()) {
      assert.notEqual(c.Type, 'current', 'only the first value is "current"')
    }

    // Cancelling sends xrpc.cancel; the node closes the channel
    // (xrpc.ch.close), which is what cancel() waits for.
    await within(cancel(), 10_000, 'the channel to close after xrpc.cancel')

    // The channel shows up in the node's books.
    assert.deepEqual(await client.paychList(), [ch])
    const funds = await client.paychAvailableFundsByFromTo(from, to)
    assert.equal(funds.Channel, ch)
    assert.equal(funds.ConfirmedAmt, fil(3))
  })

  it('PaychVoucherCreate over WebSocket', async () => {
    const [ch] = await client.paychList()
    const lane = await client.paychAllocateLane(ch)
    assert.equal(typeof lane, 'number')
    const created = await client.paychVoucherCreate(ch, fil(1), lane)
    assert.equal(created.Shortfall, '0')
    assert.equal(created.Voucher.Lane, lane)
    assert.equal(created.Voucher.Amount, fil(1))
  })

  it('errors: a read-only token over WebSocket gets the permission error thrown', async () => {
    const token = await daemon.createToken('read')
    const reader = new LotusRPC(new NodejsProvider(daemon.ws, { token }), { schema })
    try {
      const head = await within(reader.chainHead(), 10_000, 'ChainHead')
      assertTipSet(head)
      await assert.rejects(
        within(reader.paychGet(from, to, fil(1), { OffChain: false }), 10_000, 'PaychGet'),
        { message: "missing permission to invoke 'PaychGet' (need 'sign')" }
      )
      await assert.rejects(
        within(reader.walletList(), 10_000, 'WalletList'),
        { message: "missing permission to invoke 'WalletList' (need 'write')" }
      )
    } finally {
      await reader.destroy()
    }
  })

  it('errors: a bad token fails the WebSocket upgrade', async () => {
    const bad = new LotusRPC(new NodejsProvider(daemon.ws, { token: 'not.a.jwt' }), { schema })
    const origError = console.error
    console.error = () => {} // the provider logs 'ws error' before rejecting
    try {
      await assert.rejects(within(bad.version(), 10_000, 'the upgrade to fail'), {
        message: 'websocket error'
      })
    } finally {
      console.error = origError
      await bad.destroy()
    }
  })
})
