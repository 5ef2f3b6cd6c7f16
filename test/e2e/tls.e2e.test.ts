/**
 * TLS at the public edge, end to end: nginx serves the same site over HTTPS and WSS, and takes
 * RTMPS through its stream module, with the self-signed certificate scripts/lib/tls.ts makes for
 * `npm run dev`. Every client verifies the server against that certificate as its only CA.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ensureSelfSignedCert, type SelfSignedCert } from '../../scripts/lib/tls.js'
import { createUser, loggedIn, PASSWORD } from '../factories.js'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import { channelStatus, lastSegment } from '../support/live-helpers.js'
import { type IngestNode, type Stack, startStack } from '../support/stack.js'

let stack: Stack
let node: Required<IngestNode>
let cert: SelfSignedCert
let ca: Buffer
let certDir: string

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'live-tls-'))
  cert = ensureSelfSignedCert(certDir)
  ca = readFileSync(cert.certFile)
  stack = await startStack({ tls: cert, env: { RECONNECT_WINDOW_S: '1' } })
  node = stack.nodes[0] as Required<IngestNode>
})
afterAll(async () => {
  await stack?.stop()
  rmSync(certDir, { recursive: true, force: true })
})

type Reply = { status: number; headers: IncomingHttpHeaders; body: string; protocol: string | null }

/** One HTTPS request that trusts only the generated certificate (or nothing, with `ca: null`). */
function httpsRequest(
  path: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string>; ca?: Buffer | null } = {},
): Promise<Reply> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request(
      `${node.https}${path}`,
      {
        method: opts.method ?? 'GET',
        ca: opts.ca === null ? undefined : (opts.ca ?? ca),
        headers: { ...(body && { 'content-type': 'application/json' }), ...opts.headers },
      },
      (res) => {
        // Read now: the socket is detached from the response once it ends.
        const protocol = (res.socket as TLSSocket).getProtocol()
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            protocol,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const tlsArgs = () => ['-tls_verify', '1', '-ca_file', cert.certFile]

describe('HTTPS on the public origin', () => {
  it('serves pages and the API over TLS 1.3 to a client that trusts the certificate, with HSTS', async () => {
    const page = await httpsRequest('/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.protocol).toBe('TLSv1.3')
    // PUBLIC_URL is https, so the app sends HSTS (through nginx, unchanged).
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains')

    const user = await createUser(stack.deps)
    const api = await httpsRequest(`/api/v1/channels/${user.username}`)
    expect(api.status).toBe(200)
    expect(JSON.parse(api.body)).toMatchObject({ name: user.username, status: 'offline' })

    // A client that does not trust the certificate is refused: TLS is really verified.
    await expect(httpsRequest('/', { ca: null })).rejects.toThrow(/self[- ]signed/i)
  })

  it('sets the refresh cookie Secure (and __Secure- prefixed) on a login over HTTPS', async () => {
    const user = await createUser(stack.deps)
    const res = await httpsRequest('/api/v1/auth/login', {
      method: 'POST',
      body: { email: user.email, password: PASSWORD },
      headers: { origin: node.https },
    })
    expect(res.status).toBe(200)
    const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Secure-refresh_token='))
    expect(cookie).toBeDefined()
    expect(cookie!.split(/;\s*/)).toEqual(expect.arrayContaining(['Secure', 'HttpOnly']))
  })

  it('hands broadcasters the rtmps:// ingest URL', async () => {
    const me = await loggedIn(stack.deps)
    const res = await httpsRequest('/api/v1/stream-keys', {
      method: 'POST',
      body: { label: 'tls' },
      headers: me.auth,
    })
    expect(res.status).toBe(201)
    expect(JSON.parse(res.body).ingest.server).toBe(node.rtmps)
  })
})

describe('WSS on the public origin', () => {
  it('opens a chat socket over wss:// and receives the welcome frame', async () => {
    const user = await createUser(stack.deps)
    const ws = new WebSocket(`${node.https.replace(/^https:/, 'wss:')}/ws/channels/${user.username}`, {
      ca,
      origin: node.https, // what a browser on the https page sends
    })
    try {
      const welcome = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as Record<string, unknown>
          if (frame.type === 'welcome') resolve(frame)
        })
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
        ws.once('error', reject)
      })
      expect(welcome).toMatchObject({ type: 'welcome' })
    } finally {
      ws.terminate()
    }
  })
})

describe('RTMPS ingest', () => {
  it('takes a publish with a real key over rtmps:// and serves its HLS under the channel name', async () => {
    const me = await loggedIn(stack.deps)
    const created = await httpsRequest('/api/v1/stream-keys', {
      method: 'POST',
      body: { label: 'obs-rtmps' },
      headers: me.auth,
    })
    const { key, ingest } = JSON.parse(created.body) as { key: string; ingest: { server: string } }
    const channel = me.user.username
    // Exactly what OBS would be configured with, verifying the server certificate.
    const pub = startPublisher({ url: `${ingest.server}/${key}`, outputArgs: tlsArgs() })
    try {
      const segment = await waitFor(() => lastSegment(stack.http, channel), {
        timeoutMs: 20_000,
        what: `HLS for ${channel} published over RTMPS (ffmpeg: ${pub.stderr()})`,
      })
      expect(segment).toMatch(/\.ts$/)
      expect(await channelStatus(stack.http, channel)).toBe('live')
      const playlist = await httpsRequest(`/hls/${channel}/index.m3u8`)
      expect(playlist.status).toBe(200)
      expect(playlist.body).toContain('#EXTM3U')
    } finally {
      await pub.stop()
    }
  })

  it('refuses a wrong key and a publish aimed at the internal hls app, writing no HLS', async () => {
    const me = await loggedIn(stack.deps)
    const channel = me.user.username
    const refusals = () => stack.appLogs().split('publish refused').length - 1
    const base = node.rtmps.replace(/\/live$/, '')
    // The proxy delivers to the ingest server, which has no hls app: the packager's port (whose
    // only rule is "publish from 127.0.0.1") is never reachable through RTMPS.
    const smuggled = startPublisher({ url: `${base}/hls/${channel}`, outputArgs: tlsArgs(), durationS: 10 })
    expect((await smuggled.exited).code).not.toBe(0)
    expect(await lastSegment(stack.http, channel)).toBeNull()
    // The wrong key gets through TLS and is judged (and refused) by on_publish, like any key.
    const before = refusals()
    const wrong = startPublisher({
      url: `${base}/live/live_${'x'.repeat(12)}_${'y'.repeat(32)}`,
      outputArgs: tlsArgs(),
      durationS: 10,
    })
    expect((await wrong.exited).code).not.toBe(0)
    expect(refusals()).toBe(before + 1)
    expect(await lastSegment(stack.http, channel)).toBeNull()
    expect(await channelStatus(stack.http, channel)).toBe('offline')
  })
})
