// iso-filecoin's RPC (global fetch, HTTP POST, id always 1): it never
// throws but answers `{result, error}`. Its helpers (version, balance,
// nonce, chainHead, waitMsg, ...) and `call` for the payment channel
// methods: a channel created, paid, settled, advanced past its settle delay
// and collected; errors as JsonRpcError (HTTP 200), JsonError (HTTP 500) and
// HttpError (401).

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { HttpError, JsonError, JsonRpcError, RPC } from 'iso-filecoin/rpc'

import { fil, isAddress, isCid, startDaemon } from '../lib/daemon.mjs'

/** The result of an iso-filecoin call that must have succeeded. */
function ok ({ result, error }) {
  assert.equal(error, undefined, error && `${error.name}: ${error.message}`)
  return result
}

describe('iso-filecoin RPC', { timeout: 90_000 }, () => {
  let daemon
  let rpc
  let from
  let to
  let ch
  let settleCid

  // `call` a Filecoin method with positional params.
  const call = (method, params, options) => rpc.call({ method: `Filecoin.${method}`, params }, options)

  before(async () => {
    daemon = await startDaemon()
    // The devnet writes testnet (`t`) addresses; iso-filecoin's helpers check
    // the prefix against `network`.
    rpc = new RPC({ api: daemon.http, token: daemon.token, network: 'testnet' })
  }, { timeout: 45_000 })

  after(async () => {
    await daemon?.stop()
  }, { timeout: 20_000 })

  it('version() (sent without params)', async () => {
    const v = ok(await rpc.version())
    assert.equal(v.APIVersion, 131840)
    assert.equal(v.Agent, 'lotus')
    assert.equal(v.BlockDelay, 30)
  })

  it('wallet and chain helpers: balance, nonce, chainHead, stateLookupID, stateAccountKey', async () => {
    from = ok(await call('WalletDefaultAddress', []))
    to = ok(await call('WalletList', [])).find((a) => a !== from)
    assert.equal(ok(await rpc.balance(from)), fil(1000))
    assert.equal(ok(await rpc.nonce(from)), 0)
    const head = ok(await rpc.chainHead())
    assert.ok(head.Cids.every(isCid))
    const id = ok(await rpc.stateLookupID({ address: from }))
    assert.ok(isAddress(id, '0'))
    assert.equal(ok(await rpc.stateAccountKey({ address: id })), from)
  })

  it("call('PaychList') on a fresh node: []", async () => {
    assert.deepEqual(ok(await call('PaychList', [])), [])
  })

  it("call('PaychGet') then call('PaychGetWaitReady'); waitMsg() of the create message", async () => {
    const info = ok(await call('PaychGet', [from, to, fil(5), { OffChain: false }]))
    assert.equal(info.Channel, '<empty>')
    ch = ok(await call('PaychGetWaitReady', [info.WaitSentinel]))
    assert.ok(isAddress(ch, '2'))
    const lookup = ok(await rpc.waitMsg({ cid: info.WaitSentinel, confidence: 0 }))
    assert.equal(lookup.Receipt.ExitCode, 0)
    assert.equal(lookup.ReturnDec.RobustAddress, ch)
    assert.deepEqual(ok(await call('PaychList', [])), [ch])
    assert.equal(ok(await rpc.nonce(from)), 1, 'the create message used nonce 0')
  })

  it("call('PaychVoucherCreate'), call('PaychVoucherAdd'), call('PaychVoucherCheckSpendable')", async () => {
    const v2 = ok(await call('PaychVoucherCreate', [ch, fil(2), 0])).Voucher
    const v4 = ok(await call('PaychVoucherCreate', [ch, fil(4), 0])).Voucher
    assert.deepEqual([v2.Nonce, v4.Nonce], [1, 2])
    assert.equal(ok(await call('PaychVoucherCheckValid', [ch, v4])), null)
    assert.equal(ok(await call('PaychVoucherAdd', [ch, v4, null, '0'])), '0')
    assert.equal(ok(await call('PaychVoucherCheckSpendable', [ch, v4, null, null])), true)
    assert.equal(ok(await call('PaychVoucherList', [ch])).length, 2)
  })

  it("call('PaychSettle'), Devnet.Advance 1440, call('PaychCollect'), waitMsg()", async () => {
    settleCid = ok(await call('PaychSettle', [ch]))
    assert.ok(isCid(settleCid))
    const settled = ok(await rpc.waitMsg({ cid: settleCid, confidence: 0 }))
    assert.equal(settled.Receipt.ExitCode, 0)
    const state = ok(await call('StateReadState', [ch, null]))
    assert.equal(state.State.SettlingAt, settled.Height + 1440)

    // Too early: collecting before the settle delay has passed is refused.
    const early = await call('PaychCollect', [ch])
    assert.ok(JsonRpcError.is(early.error), early.error?.message)

    // A raw call in the devnet's own namespace (iso's default 5 s timeout
    // is too short for 1440 blocks made one by one).
    const head = ok(await rpc.call({ method: 'Devnet.Advance', params: [1440] }, { timeout: 60_000 }))
    assert.ok(head.Height >= settled.Height + 1440)

    const collect = ok(await call('PaychCollect', [ch]))
    assert.ok(isCid(collect))
    const lookup = ok(await rpc.waitMsg({ cid: collect, confidence: 0 }))
    assert.deepEqual(lookup.Message, collect)
    assert.equal(lookup.Receipt.ExitCode, 0)
    // The channel is gone; its balance went to the parties.
    const gone = await call('StateGetActor', [ch, null])
    assert.ok(JsonRpcError.is(gone.error))
  })

  it('errors: HTTP 200 method error -> JsonRpcError {code, message}', async () => {
    const reader = new RPC({ api: daemon.http, token: await daemon.createToken('read'), network: 'testnet' })
    const { result, error } = await reader.call({
      method: 'Filecoin.PaychGet',
      params: [from, to, fil(1), { OffChain: false }]
    })
    assert.equal(result, undefined)
    assert.ok(JsonRpcError.is(error))
    assert.ok(error instanceof JsonRpcError)
    assert.deepEqual(error.cause, {
      code: 1,
      message: "missing permission to invoke 'PaychGet' (need 'sign')"
    })
    // A registered error code: StateLookupID of an absent actor is 11.
    const absent = await rpc.stateLookupID({ address: 't1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za' })
    assert.ok(JsonRpcError.is(absent.error))
    assert.equal(absent.error.cause.code, 11)
  })

  it('errors: HTTP 500 -> JsonError whose cause is the whole body', async () => {
    const { result, error } = await rpc.call({ method: 'Filecoin.PaychNoSuchMethod', params: [] })
    assert.equal(result, undefined)
    assert.ok(JsonError.is(error))
    assert.ok(error instanceof JsonError)
    assert.deepEqual(error.cause, {
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: "method 'Filecoin.PaychNoSuchMethod' not found" }
    })
    // ChainNotify needs a WebSocket.
    const notify = await rpc.call({ method: 'Filecoin.ChainNotify', params: [] })
    assert.ok(JsonError.is(notify.error))
    assert.equal(notify.error.cause.error.code, -32601)
    assert.match(notify.error.cause.error.message, /no out channel support/)
  })

  it('errors: a bad token -> HttpError 401 - Unauthorized', async () => {
    const bad = new RPC({ api: daemon.http, token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJhZG1pbiJdfQ.bad' })
    const { result, error } = await bad.version()
    assert.equal(result, undefined)
    assert.ok(HttpError.is(error))
    assert.equal(error.code, 401)
    assert.equal(error.message, '401 - Unauthorized')
  })
})
