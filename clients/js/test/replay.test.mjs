// The requests lotus-api.md section 6 captured from the three JavaScript
// clients, replayed byte for byte (bodies, headers, ids 0 and 1, `params`
// left out, `?token=` on the WebSocket upgrade) with plain fetch and the
// `ws` package, and the node's answers checked: HTTP status, Content-Type,
// the trailing newline, and the exact body shape.
//
// The captures name f0100, f0101, f0200 and f1abjx...: the devnet has the
// accounts f0100-f0102 (no actor f0200, none for f1abjx...), so the requests
// mean something here; where the devnet's answer legitimately differs from
// the fake server the captures were made against, a comment says so.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import WebSocket from 'ws'

import { isCid, startDaemon, within } from '../lib/daemon.mjs'

/** POSTs `body` (a string, sent as is) with `headers`; the raw answer. */
async function post (url, headers, body) {
  const response = await within(fetch(url, { method: 'POST', headers, body }), 20_000, `POST ${body}`)
  const text = await response.text()
  return { status: response.status, type: response.headers.get('content-type'), text }
}

/** A go-jsonrpc JSON answer: application/json, one line and a newline. */
function json (answer) {
  assert.equal(answer.type, 'application/json')
  assert.ok(answer.text.endsWith('\n'), 'a trailing newline')
  assert.equal(answer.text.indexOf('\n'), answer.text.length - 1, 'one line')
  return JSON.parse(answer.text)
}

function assertVersion (result) {
  assert.deepEqual(Object.keys(result).sort(), ['APIVersion', 'Agent', 'BlockDelay', 'Version'])
  assert.equal(result.APIVersion, 131840)
  assert.equal(result.BlockDelay, 30)
  assert.equal(result.Agent, 'lotus')
  assert.equal(typeof result.Version, 'string')
}

describe('the captured client requests, replayed verbatim', { timeout: 90_000 }, () => {
  let daemon
  let T

  before(async () => {
    daemon = await startDaemon()
    T = daemon.token
  }, { timeout: 45_000 })

  after(async () => {
    await daemon?.stop()
  }, { timeout: 20_000 })

  const shipyardHeaders = () => ({
    'Content-Type': 'text/plain;charset=UTF-8',
    Accept: '*/*',
    Authorization: `Bearer ${T}`,
    'User-Agent': 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)'
  })

  it('shipyard over HTTP: Version (id 0) and PaychVoucherCreate (id 1), text/plain bodies', async () => {
    const version = await post(
      daemon.http,
      shipyardHeaders(),
      '{"jsonrpc":"2.0","id":0,"method":"Filecoin.Version","params":[]}'
    )
    assert.equal(version.status, 200)
    const v = json(version)
    assert.deepEqual(Object.keys(v).sort(), ['id', 'jsonrpc', 'result'])
    assert.equal(v.jsonrpc, '2.0')
    assert.equal(v.id, 0, 'id 0 is echoed, not taken for a missing id')
    assertVersion(v.result)

    const create = await post(
      daemon.http,
      shipyardHeaders(),
      '{"jsonrpc":"2.0","id":1,"method":"Filecoin.PaychVoucherCreate","params":["f0101","1000",0]}'
    )
    // The devnet differs from the capture's fake server here: f0101 is an
    // account actor, not a payment channel this node tracks, so the method
    // fails; a method error is code 1 on HTTP 200, with no result key.
    assert.equal(create.status, 200)
    const c = json(create)
    assert.equal(c.jsonrpc, '2.0')
    assert.equal(c.id, 1)
    assert.ok(!('result' in c))
    assert.deepEqual(Object.keys(c.error).sort().filter((k) => k !== 'data'), ['code', 'message'])
    assert.equal(c.error.code, 1)
    assert.equal(typeof c.error.message, 'string')
  })

  it("shipyard without a token: PaychGet with v1 opts -> HTTP 200, code 1, need 'sign'", async () => {
    const headers = shipyardHeaders()
    delete headers.Authorization
    const answer = await post(
      daemon.http,
      headers,
      '{"jsonrpc":"2.0","id":0,"method":"Filecoin.PaychGet","params":["f0100","f0200","1000",{"OffChain":false}]}'
    )
    assert.equal(answer.status, 200)
    assert.deepEqual(json(answer), {
      jsonrpc: '2.0',
      id: 0,
      error: { code: 1, message: "missing permission to invoke 'PaychGet' (need 'sign')" }
    })
  })

  it('shipyard over WebSocket: ?token= on the upgrade, Version (id 0), ChainNotify (id 1)', async () => {
    const ws = new WebSocket(`${daemon.ws}?token=${T}`)
    const messages = []
    let waiters = []
    ws.on('message', (data) => {
      messages.push(JSON.parse(data.toString()))
      const w = waiters
      waiters = []
      for (const f of w) f()
    })
    const until = (pred, what) =>
      within(
        new Promise((resolve) => {
          const test = () => (pred() ? resolve() : waiters.push(test))
          test()
        }),
        10_000,
        what
      )
    try {
      await within(
        new Promise((resolve, reject) => {
          ws.once('open', resolve)
          ws.once('error', reject)
        }),
        10_000,
        'the WebSocket to open'
      )
      ws.send('{"jsonrpc":"2.0","id":0,"method":"Filecoin.Version","params":[]}')
      ws.send('{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainNotify","params":[]}')
      const isVal = (m) => m.method === 'xrpc.ch.val'
      await until(() => messages.some((m) => m.id === 0) && messages.some(isVal), 'the answers')

      const version = messages.find((m) => m.id === 0)
      assert.equal(version.jsonrpc, '2.0')
      assertVersion(version.result)

      // The channel id first, then the first value on that channel.
      const opened = messages.findIndex((m) => m.id === 1)
      assert.deepEqual(messages[opened], { jsonrpc: '2.0', id: 1, result: 1 })
      const first = messages.findIndex(isVal)
      assert.ok(first > opened, 'xrpc.ch.val comes after the channel id')
      const val = messages[first]
      assert.equal(val.jsonrpc, '2.0')
      assert.ok(!('id' in val), 'a notification has no id')
      assert.equal(val.params.length, 2)
      assert.equal(val.params[0], 1)
      const changes = val.params[1]
      assert.equal(changes.length, 1)
      assert.equal(changes[0].Type, 'current')
      const ts = changes[0].Val
      assert.deepEqual(Object.keys(ts).sort(), ['Blocks', 'Cids', 'Height'])
      assert.ok(ts.Cids.every(isCid))
      assert.equal(typeof ts.Height, 'number')
      // The capture's fake server sent `"Blocks":[]`; the devnet's tipsets
      // carry their one block header.
      assert.ok(Array.isArray(ts.Blocks))

      // Cancelling the call closes the channel.
      ws.send('{"jsonrpc":"2.0","method":"xrpc.cancel","params":[1]}')
      await until(() => messages.some((m) => m.method === 'xrpc.ch.close'), 'xrpc.ch.close')
      assert.deepEqual(messages.find((m) => m.method === 'xrpc.ch.close'), {
        jsonrpc: '2.0',
        method: 'xrpc.ch.close',
        params: [1]
      })
    } finally {
      ws.close()
    }
  })

  it('glif: Version and WalletBalance (application/json, id 1)', async () => {
    const headers = {
      Accept: '*/*',
      'Content-Type': 'application/json',
      Authorization: `Bearer ${T}`,
      'User-Agent': 'axios/0.27.2'
    }
    const version = await post(
      daemon.http,
      headers,
      '{"jsonrpc":"2.0","method":"Filecoin.Version","params":[],"id":1}'
    )
    assert.equal(version.status, 200)
    const v = json(version)
    assert.equal(v.id, 1)
    assertVersion(v.result)

    const balance = await post(
      daemon.http,
      headers,
      '{"jsonrpc":"2.0","method":"Filecoin.WalletBalance","params":["f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za"],"id":1}'
    )
    assert.equal(balance.status, 200)
    // No actor has this address on the devnet: "0", not an error.
    assert.deepEqual(json(balance), { jsonrpc: '2.0', id: 1, result: '0' })
  })

  const isoHeaders = (token = T) => ({
    'content-type': 'application/json',
    Authorization: `Bearer ${token}`,
    accept: '*/*',
    'user-agent': 'node'
  })

  it('iso-filecoin: Version without a params key, PaychList with []', async () => {
    const version = await post(daemon.http, isoHeaders(), '{"jsonrpc":"2.0","method":"Filecoin.Version","id":1}')
    assert.equal(version.status, 200)
    const v = json(version)
    assert.equal(v.id, 1)
    assertVersion(v.result)

    const list = await post(daemon.http, isoHeaders(), '{"jsonrpc":"2.0","method":"Filecoin.PaychList","params":[],"id":1}')
    assert.equal(list.status, 200)
    // A fresh devnet tracks no channel.
    assert.deepEqual(json(list), { jsonrpc: '2.0', id: 1, result: [] })
  })

  it('unknown method: HTTP 500, -32601', async () => {
    const answer = await post(
      daemon.http,
      isoHeaders(),
      '{"jsonrpc":"2.0","method":"Filecoin.PaychNoSuchMethod","params":[],"id":1}'
    )
    assert.equal(answer.status, 500)
    assert.deepEqual(json(answer), {
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: "method 'Filecoin.PaychNoSuchMethod' not found" }
    })
    // Method names are case-sensitive.
    const lower = await post(daemon.http, isoHeaders(), '{"jsonrpc":"2.0","method":"Filecoin.version","id":1}')
    assert.equal(lower.status, 500)
    assert.equal(json(lower).error.code, -32601)
  })

  it('bad token: HTTP 401 with an empty body, on POST and on the WebSocket upgrade', async () => {
    const answer = await post(daemon.http, isoHeaders('bad'), '{"jsonrpc":"2.0","method":"Filecoin.Version","id":1}')
    assert.equal(answer.status, 401)
    assert.equal(answer.text, '')
    // A header without the `Bearer ` prefix is refused the same way.
    const unprefixed = await post(
      daemon.http,
      { ...isoHeaders(), Authorization: T },
      '{"jsonrpc":"2.0","method":"Filecoin.Version","id":1}'
    )
    assert.equal(unprefixed.status, 401)
    assert.equal(unprefixed.text, '')

    const status = await within(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${daemon.ws}?token=bad`)
        ws.on('unexpected-response', (req, res) => {
          resolve(res.statusCode)
          req.destroy()
        })
        ws.on('open', () => reject(new Error('the upgrade succeeded with a bad token')))
        ws.on('error', () => {})
      }),
      10_000,
      'the refused upgrade'
    )
    assert.equal(status, 401)
  })
})
