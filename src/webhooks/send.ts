/**
 * @module webhooks/send — one delivery attempt: a signed POST (Standard Webhooks headers) to a
 * checked address, with a connect and a total timeout, no redirects followed (a 3xx is a failed
 * attempt: following it would leave the checked host) and at most RESPONSE_CAP bytes of the answer
 * read, for the delivery log. Never throws: every outcome is an AttemptResult.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { bareHost, checkHost, checkUrlShape, guardedLookup, type Resolver } from './ssrf.js'

export const RESPONSE_CAP = 4096
const USER_AGENT = 'live-control-plane-webhooks/1'

export type AttemptResult = {
  ok: boolean
  statusCode: number | null
  durationMs: number
  error: string | null
  responseBody: string | null
}

export type SendOptions = {
  url: string
  messageId: string
  sequence: number
  body: string
  /** Current secret first; during a rotation the previous one too (one signature each). */
  secrets: string[]
  timeoutMs: number
  resolve: Resolver
  allowPrivate: boolean
  /** Signing time (the `webhook-timestamp`): now, on every attempt. */
  now?: () => number
  /** Aborts the attempt (shutdown): it ends at once with `error: 'aborted'`. */
  signal?: AbortSignal
}

/** `v1,<sig>` per secret, space-separated: receivers holding either secret verify. */
export function signatures(secrets: string[], messageId: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(' ')
}

export async function sendWebhook(o: SendOptions): Promise<AttemptResult> {
  const now = o.now ?? Date.now
  const started = performance.now()
  const done = (r: Omit<AttemptResult, 'durationMs'>): AttemptResult => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
  })
  let url: URL
  try {
    url = checkUrlShape(o.url)
    // An IP literal never reaches the lookup below: check it here. A name is checked only there,
    // on the very answer the connection uses (resolving twice would let a rebinding DNS server
    // answer a public address here and a private one there).
    const host = bareHost(url)
    if (isIP(host)) await checkHost(host, { resolve: o.resolve, allowPrivate: o.allowPrivate })
  } catch (err) {
    return done({ ok: false, statusCode: null, error: (err as Error).message, responseBody: null })
  }
  const at = new Date(now())
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': o.messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures(o.secrets, o.messageId, at, o.body),
    'webhook-sequence': String(o.sequence),
    'content-length': String(Buffer.byteLength(o.body)),
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<AttemptResult>((resolve) => {
    let settled = false
    const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return
      settled = true
      clearTimeout(total)
      clearTimeout(connect)
      req.destroy()
      resolve(done(r))
    }
    const fail = (error: string, statusCode: number | null = null, responseBody: string | null = null) =>
      finish({ ok: false, statusCode, error, responseBody })
    const req = request(url, {
      method: 'POST',
      headers,
      // A fresh connection per attempt: a pooled socket would skip the lookup (and its check).
      agent: false,
      lookup: guardedLookup({ resolve: o.resolve, allowPrivate: o.allowPrivate }),
    })
    const total = setTimeout(() => fail(`timed out after ${o.timeoutMs} ms`), o.timeoutMs)
    if (o.signal?.aborted) queueMicrotask(() => fail('aborted'))
    o.signal?.addEventListener('abort', () => fail('aborted'), { once: true })
    const connect = setTimeout(
      () => fail(`connect timed out after ${Math.min(o.timeoutMs, 5000)} ms`),
      Math.min(o.timeoutMs, 5000),
    )
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connect)
      else socket.once('connect', () => clearTimeout(connect))
    })
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.message || err.code || 'request failed'))
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      const end = () => {
        const status = res.statusCode ?? 0
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_CAP).toString('utf8')
        const ok = status >= 200 && status < 300
        finish({
          ok,
          statusCode: status,
          error: ok
            ? null
            : status >= 300 && status < 400
              ? `redirect (${status}) not followed`
              : `HTTP ${status}`,
          responseBody: text || null,
        })
      }
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        // Enough for the log: stop reading (and stop a huge or endless answer) right here.
        if (size >= RESPONSE_CAP) end()
      })
      res.on('end', end)
      res.on('error', (err) => fail(err.message, res.statusCode ?? null))
    })
    req.end(o.body)
  })
}
