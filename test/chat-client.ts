/**
 * @module test/chat-client — real app instances on port 0 and real `ws` clients for chat tests.
 * Waits are bounded only so a broken build fails instead of hanging; no test asserts on time.
 */
import WebSocket from 'ws'
import type { Config } from '../src/config.js'
import type { Deps } from '../src/deps.js'
import { type Running, startServer } from '../src/server.js'
import { loggedIn } from './factories.js'
import { testConfig, uniquePrefix } from './harness.js'

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever the server sent; tests inspect them
export type Frame = Record<string, any>

export const ORIGIN = 'http://localhost:8080'

export class TestSocket {
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: (() => void)[] = []

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? { binary: true } : (JSON.parse(data.toString()) as Frame))
      for (const w of this.waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const w of this.waiters.splice(0)) w()
      })
    })
    ws.on('error', () => {})
  }

  /** Opens a socket; rejects with `HTTP <status>` when the handshake is refused. */
  static open(url: string, opts: { origin?: string | null; ticket?: string } = {}): Promise<TestSocket> {
    const full = opts.ticket
      ? `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(opts.ticket)}`
      : url
    const origin = opts.origin === undefined ? ORIGIN : opts.origin
    const ws = new WebSocket(full, origin === null ? {} : { origin })
    const sock = new TestSocket(ws)
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(sock))
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`HTTP ${res.statusCode}`))
        ws.terminate()
      })
      ws.once('error', reject)
    })
  }

  /** Opens and waits for the welcome frame. */
  static async join(
    url: string,
    opts: { origin?: string | null; ticket?: string } = {},
  ): Promise<TestSocket> {
    const s = await TestSocket.open(url, opts)
    await s.next((f) => f.type === 'welcome')
    return s
  }

  get welcome(): Frame {
    return this.frames.find((f) => f.type === 'welcome')!
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** First frame (from index `from`) matching `pred`, waiting for it if needed. */
  async next(pred: (f: Frame) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<Frame> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
    for (;;) {
      const found = this.frames.slice(opts.from ?? 0).find(pred)
      if (found) return found
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting; frames: ${JSON.stringify(this.frames.slice(-5))}`)
      }
      const left = deadline - Date.now()
      if (left <= 0)
        throw new Error(`no matching frame; last frames: ${JSON.stringify(this.frames.slice(-5))}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Sends a frame with a fresh ref and returns the reply that carries it (ack, error, history, pong). */
  async request(frame: Frame): Promise<Frame> {
    const ref = `r${Math.random().toString(36).slice(2)}`
    this.send({ ...frame, ref })
    return this.next((f) => f.ref === ref)
  }

  chats(): Frame[] {
    return this.frames.filter((f) => f.type === 'chat')
  }

  close(): void {
    this.ws.close()
  }
}

export type Instance = Running & { url: (channel: string) => string; http: string }

/** Starts N app instances that share Postgres, Redis and one REDIS_PREFIX, like a real deployment. */
export async function startInstances(
  n: number,
  opts: { env?: Record<string, string>; now?: () => number } = {},
) {
  const config: Config = testConfig({ REDIS_PREFIX: uniquePrefix(), ...opts.env })
  const instances: Instance[] = []
  for (let i = 0; i < n; i++) {
    const running = await startServer(config, { port: 0, now: opts.now })
    instances.push({
      ...running,
      http: `http://127.0.0.1:${running.port}`,
      url: (channel: string) => `ws://127.0.0.1:${running.port}/ws/channels/${channel}`,
    })
  }
  return { config, instances, close: () => Promise.allSettled(instances.map((i) => i.shutdown())) }
}

/** A verified, signed-in user and a function that mints a fresh WebSocket ticket over HTTP. */
export async function chatter(deps: Deps, base: string, opts: Parameters<typeof loggedIn>[1] = {}) {
  const login = await loggedIn(deps, opts)
  const ticket = async () => {
    const res = await fetch(`${base}/api/v1/chat/tickets`, { method: 'POST', headers: login.auth })
    if (res.status !== 201) throw new Error(`ticket: HTTP ${res.status} ${await res.text()}`)
    return ((await res.json()) as { ticket: string }).ticket
  }
  return { ...login, ticket }
}

/** Runs `fn` with sockets that are always closed afterwards, even when an assertion fails. */
export async function withSockets<T>(
  fn: (track: <S extends TestSocket>(s: S) => S) => Promise<T>,
): Promise<T> {
  const open: TestSocket[] = []
  try {
    return await fn((s) => {
      open.push(s)
      return s
    })
  } finally {
    for (const s of open) s.ws.terminate()
  }
}
