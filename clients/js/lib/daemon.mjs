// Starts a `paych daemon` of our own for one test file: a fresh temporary
// repo (a new devnet with three funded wallet addresses), a free port,
// blocks on demand; reads its API address and admin token from the repo as
// a Lotus client would, and stops it (SIGTERM, then SIGKILL) at the end.
// Every wait here is bounded.

import { spawn, execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** The paych binary: $PAYCH_BIN, or the workspace's debug build. */
export const PAYCH_BIN = resolve(
  here,
  '..',
  process.env.PAYCH_BIN || '../../target/debug/paych'
)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits (at most `ms`) for `promise`; rejects with `what` on timeout.
 *
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function within (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms: ${what}`)),
      ms
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * `/ip4/127.0.0.1/tcp/PORT/http` -> `127.0.0.1:PORT`.
 *
 * @param {string} multiaddr
 */
export function hostPort (multiaddr) {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)(\/http)?$/.exec(multiaddr.trim())
  if (!m) throw new Error(`unexpected API multiaddr ${JSON.stringify(multiaddr)}`)
  return `${m[1]}:${m[2]}`
}

/**
 * A running daemon.
 *
 * @typedef {object} Daemon
 * @property {string} repo the repo directory
 * @property {string} multiaddr the content of repo/api
 * @property {string} token the admin token from repo/token
 * @property {string} http `http://127.0.0.1:PORT/rpc/v1`
 * @property {string} ws `ws://127.0.0.1:PORT/rpc/v1`
 * @property {string} hostPort `127.0.0.1:PORT`
 * @property {(perm: string) => Promise<string>} createToken `paych auth create-token --perm`
 * @property {(args: string[]) => Promise<string>} paych runs a paych command on the repo (through the daemon)
 * @property {() => string} log what the daemon printed so far
 * @property {() => Promise<void>} stop
 */

/**
 * Starts a daemon on a fresh repo; resolves once it listens.
 *
 * @param {{ startTimeoutMs?: number }} [options]
 * @returns {Promise<Daemon>}
 */
export async function startDaemon ({ startTimeoutMs = 30_000 } = {}) {
  if (!existsSync(PAYCH_BIN)) {
    throw new Error(
      `no paych binary at ${PAYCH_BIN}: build it (cargo build --workspace --bin paych) or set PAYCH_BIN`
    )
  }
  const repo = mkdtempSync(join(tmpdir(), 'paych-js-'))
  const child = spawn(
    PAYCH_BIN,
    ['--repo', repo, 'daemon', '--listen', '127.0.0.1:0', '--block-time', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  // The daemon never keeps this process alive: once the tests are done, the
  // process exits and the 'exit' handler below kills whatever still runs.
  child.unref()
  let output = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d) => { output += d })
    stream.unref()
  }
  let exited = null
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      resolve(exited)
    })
  })
  // Never leave a daemon behind, whatever happens to this process.
  const kill = () => { if (exited === null) child.kill('SIGKILL') }
  process.on('exit', kill)

  const cleanup = () => {
    process.off('exit', kill)
    rmSync(repo, { recursive: true, force: true })
  }

  const apiFile = join(repo, 'api')
  const deadline = Date.now() + startTimeoutMs
  while (!existsSync(apiFile)) {
    if (exited !== null) {
      cleanup()
      throw new Error(`paych daemon exited (${JSON.stringify(exited)}) before listening:\n${output}`)
    }
    if (Date.now() > deadline) {
      kill()
      await within(exit, 5000, 'the daemon to exit').catch(() => {})
      cleanup()
      throw new Error(`paych daemon did not listen within ${startTimeoutMs} ms:\n${output}`)
    }
    await sleep(50)
  }
  // The daemon writes the token before the api file.
  const multiaddr = readFileSync(apiFile, 'utf8').trim()
  const token = readFileSync(join(repo, 'token'), 'utf8').trim()
  const hp = hostPort(multiaddr)

  const paych = (args, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      execFile(PAYCH_BIN, ['--repo', repo, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
        if (err) reject(new Error(`paych ${args.join(' ')}: ${err.message}\n${stderr}`))
        else resolve(stdout.trim())
      })
    })

  let stopped = null
  return {
    repo,
    multiaddr,
    token,
    hostPort: hp,
    http: `http://${hp}/rpc/v1`,
    ws: `ws://${hp}/rpc/v1`,
    createToken: (perm) => paych(['auth', 'create-token', '--perm', perm]),
    paych,
    log: () => output,
    stop () {
      if (stopped) return stopped
      stopped = (async () => {
        if (exited === null) {
          child.kill('SIGTERM')
          const done = await within(exit, 10_000, 'the daemon to stop on SIGTERM').catch(() => null)
          if (done === null) {
            kill()
            await within(exit, 5000, 'the daemon to die on SIGKILL').catch(() => {})
          } else if (existsSync(apiFile)) {
            throw new Error('the daemon stopped but left its api file behind')
          }
        }
        cleanup()
      })()
      return stopped
    }
  }
}

/** 1 FIL in attoFIL, and n FIL as an attoFIL string. */
export const FIL = 10n ** 18n
export const fil = (n) => (BigInt(n) * FIL).toString()

/** A Lotus CID in JSON: `{"/": "bafy..."}`. */
export function isCid (value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length === 1 &&
    typeof value['/'] === 'string' &&
    /^b[a-z2-7]{20,}$/.test(value['/']) // CIDv1, base32 (bafy... dag-cbor, bafk... raw)
  )
}

/** An attoFIL BigInt as Lotus writes it: a decimal string. */
export const isBigInt = (value) => typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value)

/**
 * An address of `protocol` (0 ID, 1 secp256k1, 2 actor, 3 BLS). The devnet
 * is a test network, so it writes them with Lotus's `t` prefix (a mainnet
 * build writes `f`; a node decodes either).
 */
export const isAddress = (value, protocol = '[0-4]') =>
  typeof value === 'string' && new RegExp(`^t${protocol}[a-z0-9]+$`).test(value)

/** The keys of ChannelAvailableFunds as Lotus serialises them. */
export const AVAILABLE_FUNDS_KEYS = [
  'Channel',
  'From',
  'To',
  'ConfirmedAmt',
  'PendingAmt',
  'NonReservedAmt',
  'PendingAvailableAmt',
  'PendingWaitSentinel',
  'QueuedAmt',
  'VoucherReedeemedAmt'
]

/** The keys of a SignedVoucher as Lotus serialises them. */
export const VOUCHER_KEYS = [
  'ChannelAddr',
  'TimeLockMin',
  'TimeLockMax',
  'SecretHash',
  'Extra',
  'Lane',
  'Nonce',
  'Amount',
  'MinSettleHeight',
  'Merges',
  'Signature'
]
