/**
 * The public edge as the internet sees it: real nginx in front of the app, clients on distinct
 * loopback source addresses (127.0.1.x, 127.0.2.x), and a trusted proxy on 127.0.3.1 in front of
 * nginx for the compose-like topology. Nothing a client writes in a header may change who it is.
 */
import { createServer, request, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitUntil } from '../../scripts/lib/proc.js'
import { chatter } from '../chat-client.js'
import { createUser, PASSWORD } from '../factories.js'
import {
  HandshakeRefused,
  httpFrom,
  inBatches,
  loopback,
  postJson,
  settleAll,
  Viewer,
} from '../support/edge-clients.js'
import { type Stack, startStack } from '../support/stack.js'

const PROXY_ADDR = '127.0.3.1'
const CROWD_ADDRESSES = 30
const PER_ADDRESS = 100 // = WS_MAX_PER_IP
const CAP_EXTRA = 10
// Room for the crowd and one address's whole burst (a handshake holds its instance slot while
// its address is checked); the test then fills what is left and sees the instance refuse.
const MAX_CONNECTIONS = CROWD_ADDRESSES * PER_ADDRESS + PER_ADDRESS + CAP_EXTRA + 1

let stack: Stack
let proxy: { server: Server; url: string }

beforeAll(async () => {
  stack = await startStack({
    env: {
      // nginx (127.0.0.1) and the proxy in front of it; never the clients' own networks.
      TRUSTED_PROXIES: `127.0.0.1,${PROXY_ADDR}`,
      WS_MAX_PER_IP: String(PER_ADDRESS),
      WS_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
    nginx: { trustedProxies: [PROXY_ADDR] },
  })
  proxy = await startAppendingProxy(PROXY_ADDR, stack.http)
}, 90_000)
afterAll(async () => {
  await new Promise((r) => proxy?.server.close(r))
  await stack?.stop()
})

const wsUrl = (base: string, ch: string) => `${base.replace('http', 'ws')}/ws/channels/${ch}`
const viewers = async (ch: string) =>
  ((await (await fetch(`${stack.http}/api/v1/channels/${ch}`)).json()) as { viewers: number }).viewers

describe('thousands of viewers through the public origin', () => {
  it('keeps 3,000 sockets from 30 addresses open with chat, caps each address and the instance', async () => {
    const ch = (await createUser(stack.deps)).username
    const url = wsUrl(stack.http, ch)
    const origin = stack.http
    const all: Viewer[] = []
    try {
      const plan = Array.from({ length: CROWD_ADDRESSES * PER_ADDRESS }, (_, i) =>
        loopback(1, 1 + (i % CROWD_ADDRESSES)),
      )
      const crowd = await inBatches(plan, 200, (localAddress) =>
        Viewer.connect(url, { localAddress, origin }),
      )
      all.push(...crowd)
      expect(crowd.every((v) => v.open)).toBe(true)
      await waitUntil('3000 viewers counted', async () => (await viewers(ch)) === crowd.length, 30_000)

      // One address over its cap: refused at the handshake, and adds exactly its cap.
      const capped = loopback(2, 1)
      const tries = await settleAll(
        Array.from({ length: PER_ADDRESS + CAP_EXTRA }, () =>
          Viewer.connect(url, { localAddress: capped, origin }),
        ),
      )
      all.push(...tries.ok)
      expect(tries.ok).toHaveLength(PER_ADDRESS)
      expect(tries.failed).toHaveLength(CAP_EXTRA)
      for (const err of tries.failed) {
        expect(err).toBeInstanceOf(HandshakeRefused)
        const r = err as HandshakeRefused
        expect(r.status).toBe(429)
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
        expect(r.headers['content-type']).toBe('application/problem+json')
        expect(JSON.parse(r.body)).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
      }
      await waitUntil('cap counted', async () => (await viewers(ch)) === crowd.length + PER_ADDRESS, 30_000)
      expect(await stack.deps.redis.zcard(stack.deps.keys.socketsOfAddress(capped))).toBe(PER_ADDRESS)

      // The last slot of the instance, then a full instance: 503.
      const alice = await chatter(stack.deps, stack.http)
      const speaker = await Viewer.connect(`${url}?ticket=${await alice.ticket()}`, {
        localAddress: loopback(2, 2),
        origin,
      })
      all.push(speaker)
      for (let i = 0; i < CAP_EXTRA; i++)
        all.push(await Viewer.connect(url, { localAddress: loopback(2, 3), origin }))
      const full = await Viewer.connect(url, { localAddress: loopback(2, 4), origin }).catch(
        (e: unknown) => e,
      )
      expect(full).toBeInstanceOf(HandshakeRefused)
      expect((full as HandshakeRefused).status).toBe(503)
      expect(JSON.parse((full as HandshakeRefused).body)).toMatchObject({ code: 'UNAVAILABLE' })

      speaker.ws.send(JSON.stringify({ type: 'chat.send', text: 'hello, crowd' }))
      await waitUntil('every viewer has the chat', async () => all.every((v) => v.chats >= 1), 30_000)
      expect(all.every((v) => v.open && v.lastChat?.text === 'hello, crowd')).toBe(true)
    } finally {
      for (const v of all) v.ws.terminate()
    }
    // Closed sockets give their slots back (no waiting for expiry).
    await waitUntil(
      'slots released',
      async () => (await stack.deps.redis.zcard(stack.deps.keys.socketsOfAddress(loopback(2, 1)))) === 0,
      30_000,
    )
    await waitUntil('viewers gone', async () => (await viewers(ch)) === 0, 30_000)
  })
})

describe('the client address', () => {
  const login = (
    from: string,
    email: string,
    password: string,
    headers: Record<string, string> = {},
    base = stack.http,
  ) => postJson(from, `${base}/api/v1/auth/login`, { email, password }, { origin: stack.http, ...headers })
  const spoof = (addr: string) => ({ 'x-forwarded-for': addr, 'x-real-ip': addr })

  it('ignores spoofed X-Forwarded-For / X-Real-IP: failed-login limits stay per real address', async () => {
    const user = await createUser(stack.deps)
    const [a, b] = [loopback(1, 101), loopback(1, 102)]
    // Every attempt claims a fresh address; if any layer believed it, the backoff (per account
    // and address) would never start.
    let status = 0
    for (let i = 1; i <= 12 && status !== 429; i++)
      status = (await login(a, user.email, 'wrong password!', spoof(`198.51.100.${i}`))).status
    expect(status).toBe(429)
    // Claiming to be b does not unlock a ...
    expect((await login(a, user.email, PASSWORD, spoof(b))).status).toBe(429)
    // ... and b, even claiming to be a, is not locked by a's failures.
    const ok = await login(b, user.email, PASSWORD, spoof(a))
    expect(ok.status).toBe(200)
    const { accessToken } = JSON.parse(ok.body) as { accessToken: string }
    const sessions = await httpFrom(b, `${stack.http}/api/v1/auth/sessions`, {
      headers: { authorization: `Bearer ${accessToken}` },
    })
    const mine = (JSON.parse(sessions.body) as { current: boolean; ip: string }[]).find((s) => s.current)
    expect(mine?.ip).toBe(b)
  })

  it('sees the real client behind a trusted proxy (compose-like topology), and only there', async () => {
    const user = await createUser(stack.deps)
    const c = loopback(1, 103)
    const res = await login(c, user.email, PASSWORD, spoof('6.6.6.6'), proxy.url)
    expect(res.status).toBe(200)
    const { accessToken } = JSON.parse(res.body) as { accessToken: string }
    const sessions = await httpFrom(c, `${proxy.url}/api/v1/auth/sessions`, {
      headers: { authorization: `Bearer ${accessToken}` },
    })
    expect((JSON.parse(sessions.body) as { current: boolean; ip: string }[]).find((s) => s.current)?.ip).toBe(
      c,
    )

    // A WebSocket through the proxy is counted against the client's address, not the proxy's.
    const ch = (await createUser(stack.deps)).username
    const v = await Viewer.connect(wsUrl(proxy.url, ch), { localAddress: c, origin: stack.http })
    try {
      expect(await stack.deps.redis.zcard(stack.deps.keys.socketsOfAddress(c))).toBe(1)
      expect(await stack.deps.redis.zcard(stack.deps.keys.socketsOfAddress(PROXY_ADDR))).toBe(0)
      expect(await stack.deps.redis.zcard(stack.deps.keys.socketsOfAddress('6.6.6.6'))).toBe(0)
    } finally {
      v.ws.terminate()
    }
  })
})

/**
 * A load balancer in front of nginx: listens on `addr`, connects to nginx from `addr`, and
 * appends its peer to X-Forwarded-For (keeping what the client sent, as real proxies do).
 */
async function startAppendingProxy(addr: string, target: string) {
  const t = new URL(target)
  const forwarded = (h: Record<string, string | string[] | undefined>, peer: string) => {
    const prior = h['x-forwarded-for']
    return prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}` : peer
  }
  const server = createServer((req, res) => {
    const headers = {
      ...req.headers,
      host: t.host,
      'x-forwarded-for': forwarded(req.headers, req.socket.remoteAddress!),
    }
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers,
        localAddress: addr,
        agent: false,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      },
    )
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    const headers = {
      ...req.headers,
      host: t.host,
      'x-forwarded-for': forwarded(req.headers, req.socket.remoteAddress!),
    }
    const up = connect({ host: t.hostname, port: Number(t.port), localAddress: addr }, () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`)
      if (head.length) up.write(head)
      up.pipe(socket)
      socket.pipe(up)
    })
    const end = () => {
      up.destroy()
      socket.destroy()
    }
    up.on('error', end)
    socket.on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, addr, r))
  const port = (server.address() as { port: number }).port
  return { server, url: `http://${addr}:${port}` }
}
