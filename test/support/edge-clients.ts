/**
 * @module test/support/edge-clients — clients that stand for different people: every request or
 * socket is bound to a chosen loopback source address (Linux routes all of 127/8 to lo), so
 * nginx and the app see distinct peers exactly as they would on the internet.
 */
import { request } from 'node:http'
import WebSocket from 'ws'

export type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** `127.0.<group>.<n>`: n in 1..254. */
export const loopback = (group: number, n: number) => `127.0.${group}.${n}`

export function httpFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, localAddress, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

/** POSTs JSON from `localAddress`. */
export function postJson(
  localAddress: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return httpFrom(localAddress, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/**
 * A lean viewer socket for crowds: it keeps counts and the last few frames, not every frame, so
 * ten thousand of them stay cheap in the test process.
 */
export class Viewer {
  welcome: Record<string, unknown> | undefined
  chats = 0
  lastChat: Record<string, unknown> | undefined
  /** Called with every parsed frame (latency measurement). */
  onFrame: ((f: Record<string, unknown>) => void) | undefined
  readonly closed: Promise<number>

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Record<string, unknown>
      if (f.type === 'welcome') this.welcome = f
      else if (f.type === 'chat') {
        this.chats++
        this.lastChat = f
      }
      this.onFrame?.(f)
    })
    ws.on('error', () => {})
    this.closed = new Promise((r) => ws.on('close', (code) => r(code)))
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  /**
   * Opens a socket from `localAddress` and waits for its welcome. A refused handshake rejects
   * with a HandshakeRefused carrying the status, headers and body.
   */
  static connect(url: string, opts: { localAddress: string; origin: string }): Promise<Viewer> {
    const ws = new WebSocket(url, {
      origin: opts.origin,
      localAddress: opts.localAddress,
      perMessageDeflate: false,
    })
    const v = new Viewer(ws)
    return new Promise((resolve, reject) => {
      const prev = v.onFrame
      v.onFrame = (f) => {
        if (f.type === 'welcome') {
          v.onFrame = prev
          resolve(v)
        }
      }
      ws.once('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => {
          reject(new HandshakeRefused(res.statusCode ?? 0, res.headers, body))
          ws.terminate()
        })
      })
      ws.once('error', reject)
      ws.once('close', () => reject(new Error('closed before the welcome')))
    })
  }
}

export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string,
  ) {
    super(`HTTP ${status}`)
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Settles every promise; fulfilled values and rejection reasons, in order. */
export async function settleAll<T>(ps: Promise<T>[]) {
  const r = await Promise.allSettled(ps)
  return {
    ok: r.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : [])),
    failed: r.flatMap((x) => (x.status === 'rejected' ? [x.reason as unknown] : [])),
  }
}
