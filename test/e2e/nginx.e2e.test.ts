/**
 * @module nginx.e2e — proves nginx/nginx.conf.template against real nginx-rtmp
 * and a real ffmpeg publisher. The "app" is a scripted hook responder, so
 * this tests the config (renames, HA fallbacks, exposure, logging), not the
 * control plane.
 */

import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server as TcpServer,
} from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type NginxHandle, type NginxOptions, startNginx } from '../../scripts/lib/nginx.js'
import { freePort, isGroupAlive, isPortFree } from '../../scripts/lib/proc.js'
import { ensureSelfSignedCert } from '../../scripts/lib/tls.js'
import { ffprobe, type PublisherHandle, startPublisher, waitFor } from '../support/ffmpeg.js'

interface HookCall {
  hook: string
  query: URLSearchParams
  contentType: string | undefined
  body: string
  form: URLSearchParams
}
/** `hang`: never answer, like an app with a blocked event loop. */
type Answer = { status: number; location?: string } | 'hang'

/** Stands in for the app on the upstream port: records hooks, answers per test. */
class Responder {
  readonly calls: HookCall[] = []
  readonly publicRequests: IncomingMessage[] = []
  channels = new Map<string, string>()
  answer: (call: HookCall) => Answer = (call) => this.defaultAnswer(call)
  private server: Server = this.create()
  port = 0

  defaultAnswer(call: HookCall): Answer {
    if (call.hook !== 'publish') return { status: 200 }
    // URLSearchParams.get returns the first occurrence, as the app must.
    const channel = this.channels.get(call.form.get('name') ?? '')
    return channel ? { status: 302, location: channel } : { status: 403 }
  }

  hooks(hook: string, clientid?: string): HookCall[] {
    return this.calls.filter((c) => c.hook === hook && (!clientid || c.form.get('clientid') === clientid))
  }

  private create(): Server {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x')
        if (!url.pathname.startsWith('/hooks/rtmp/')) {
          this.publicRequests.push(req)
          res.end('app')
          return
        }
        const body = Buffer.concat(chunks).toString()
        const call: HookCall = {
          hook: url.pathname.slice('/hooks/rtmp/'.length),
          query: url.searchParams,
          contentType: req.headers['content-type'],
          body,
          form: new URLSearchParams(body),
        }
        this.calls.push(call)
        const answer = this.answer(call)
        if (answer === 'hang') return
        res.writeHead(answer.status, answer.location ? { Location: answer.location } : {}).end()
      })
    })
    // A bare 101 is enough to prove nginx forwards the upgrade.
    server.on('upgrade', (req, socket) => {
      this.publicRequests.push(req)
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    })
    return server
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((ok, ko) => {
      this.server.once('error', ko)
      this.server.listen(port, '127.0.0.1', ok)
    })
    this.port = (this.server.address() as AddressInfo).port
  }

  /** The app goes away: connections are refused until restart(). */
  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      this.server.close(() => done())
      this.server.closeAllConnections()
    })
  }

  async restart(): Promise<void> {
    this.server = this.create()
    await this.listen(this.port)
  }
}

const NODE_ID = 'ingest-e2e'
const HOOK_SECRET = randomBytes(24).toString('base64url')
const KEY = 'live_abc_secret'
const ARGS = 'name=evil&call=play'
const POLL = { timeoutMs: 20_000, intervalMs: 100 }

let runDir: string
let opts: NginxOptions
let nginx: NginxHandle
const responder = new Responder()
const publishers: PublisherHandle[] = []

const rtmpUrl = (path: string, port = opts.rtmpPort) => `rtmp://127.0.0.1:${port}/${path}`
const publicUrl = (path: string) => `http://127.0.0.1:${opts.httpPort}${path}`
const hookUrl = (hook: string) =>
  `${nginx.controlUrl}/hooks/rtmp/${hook}?node=${NODE_ID}&secret=${HOOK_SECRET}`

function publish(path: string, port = opts.rtmpPort): PublisherHandle {
  const p = startPublisher({ url: rtmpUrl(path, port) })
  publishers.push(p)
  return p
}

const isRunning = async (p: PublisherHandle) =>
  Promise.race([p.exited.then(() => false), new Promise<boolean>((done) => setImmediate(() => done(true)))])

async function stat(): Promise<string> {
  return (await fetch(`${nginx.controlUrl}/stat`)).text()
}

/** Stream names per application, from /stat's XML. */
async function streamsByApp(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const app of (await stat()).split('<application>').slice(1)) {
    const name = /^\s*<name>([^<]*)<\/name>/.exec(app)?.[1] ?? ''
    out[name] = [...app.matchAll(/<stream>\s*<name>([^<]*)<\/name>/g)].map((m) => m[1] ?? '')
  }
  return out
}

/** Newest segment URI once the channel's playlist lists at least `min` segments. */
function lastSegment(channel: string, min = 1): string | undefined {
  try {
    const uris = readFileSync(join(nginx.hlsDir, channel, 'index.m3u8'), 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('.ts'))
    return uris.length >= min ? uris.at(-1) : undefined
  } catch {
    return undefined
  }
}

/** Hook calls nginx answered itself because no instance did (from nginx-rtmp: HTTP/1.0). */
function fallbacks(hook: string): string[] {
  return readFileSync(join(nginx.logDir, 'hook-fallback.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"POST /hooks/rtmp/${hook} HTTP/1.0" 200`))
}

/**
 * A TCP forwarder to 127.0.0.1:`port` whose outgoing connections come from
 * `localAddress` (any 127/8 address is local on Linux), so nginx's
 * allow/deny rules for the loopback-only internal app can be exercised.
 */
async function forwarderFrom(localAddress: string, port: number): Promise<TcpServer> {
  const server = createTcpServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port, localAddress })
    client.pipe(upstream).pipe(client)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  return server
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? [path, ...walk(path)] : [path]
  })
}

async function clientIdOf(key: string): Promise<string> {
  const call = await waitFor(() => responder.hooks('publish').find((c) => c.form.get('name') === key), {
    ...POLL,
    what: `on_publish for ${key}`,
  })
  return call.form.get('clientid') ?? ''
}

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'nginx-e2e-'))
  await responder.listen()
  const [rtmpPort, internalRtmpPort, httpPort, controlPort, deadPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  )
  opts = {
    runDir,
    nodeId: NODE_ID,
    hookSecret: HOOK_SECRET,
    rtmpPort: rtmpPort!,
    internalRtmpPort: internalRtmpPort!,
    httpPort: httpPort!,
    controlPort: controlPort!,
    // A dead instance first: every hook below also proves failover to the
    // next instance on a refused connection.
    appUpstreams: [`127.0.0.1:${deadPort}`, `127.0.0.1:${responder.port}`],
    notifyUpdateTimeoutS: 2,
  }
  nginx = await startNginx(opts)
}, 30_000)

afterEach(async () => {
  responder.answer = (call) => responder.defaultAnswer(call)
  await Promise.all(publishers.splice(0).map((p) => p.stop()))
})

afterAll(async () => {
  await nginx?.stop()
  await responder.stop()
  rmSync(runDir, { recursive: true, force: true })
}, 30_000)

describe('nginx ingest node', () => {
  it('keeps the internal hls app on loopback, in its own server, publishable only from 127.0.0.1', async () => {
    const ss = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' }).stdout
    const internal = ss
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[3] ?? '')
      .filter((local) => local.endsWith(`:${opts.internalRtmpPort}`))
    expect(internal).toEqual([`127.0.0.1:${opts.internalRtmpPort}`])
    expect(statSync(join(runDir, 'nginx.conf')).mode & 0o077).toBe(0)

    // Applications are per server: the public ingest port has no "hls" app.
    const viaIngest = publish('hls/sneaky')
    expect((await viaIngest.exited).code).not.toBe(0)

    // deny publish all: a local client that is not 127.0.0.1 is refused...
    const from2 = await forwarderFrom('127.0.0.2', opts.internalRtmpPort)
    const viaOther = publish('hls/sneaky', (from2.address() as AddressInfo).port)
    expect((await viaOther.exited).code).not.toBe(0)
    from2.close()
    expect(await streamsByApp()).toEqual({ live: [], hls: [] })

    // ...while 127.0.0.1 (where the relay comes from) may publish.
    const from1 = await forwarderFrom('127.0.0.1', opts.internalRtmpPort)
    const viaLoopback = publish('hls/loopback', (from1.address() as AddressInfo).port)
    await waitFor(async () => (await streamsByApp()).hls?.includes('loopback'), {
      ...POLL,
      what: 'loopback publish',
    })
    await viaLoopback.stop()
    from1.close()
  }, 40_000)

  describe('a publish redirected to its channel', () => {
    let publisher: PublisherHandle
    let clientid: string

    beforeAll(async () => {
      responder.channels.set(KEY, 'alice')
      publisher = startPublisher({ url: rtmpUrl(`live/${KEY}?${ARGS}`) })
      clientid = await clientIdOf(KEY)
      await waitFor(() => lastSegment('alice', 2), { ...POLL, what: 'two HLS segments for alice' })
    }, 40_000)

    afterAll(() => publisher.stop())

    it('posts form-encoded hooks with node and secret in the query and the publish args appended raw', () => {
      const call = responder.hooks('publish', clientid)[0]!
      expect(call.contentType).toBe('application/x-www-form-urlencoded')
      expect(call.query.get('node')).toBe(NODE_ID)
      expect(call.query.get('secret')).toBe(HOOK_SECRET)
      // Measured: "...&call=publish&name=<key>&type=live&name=evil&call=play".
      expect(call.body).toContain(`&call=publish&name=${KEY}&type=live&${ARGS}`)
      expect(call.form.getAll('name')).toEqual([KEY, 'evil'])
      expect(call.form.getAll('call')).toEqual(['publish', 'play'])
      expect(call.form.get('app')).toBe('live')
    })

    it('writes HLS only under the channel name, playable through the public port', async () => {
      const paths = walk(nginx.hlsDir).map((p) => p.slice(nginx.hlsDir.length))
      expect(paths.some((p) => p.startsWith('/alice/'))).toBe(true)
      expect(paths.filter((p) => p.includes(KEY))).toEqual([])

      const { streams } = await ffprobe(publicUrl('/hls/alice/index.m3u8'))
      expect(streams.map((s) => [s.codec_type, s.codec_name]).sort()).toEqual([
        ['audio', 'aac'],
        ['video', 'h264'],
      ])
      expect(await streamsByApp()).toEqual({ live: ['alice'], hls: ['alice'] })
    }, 30_000)

    it('serves playlists uncached and segments cacheable, with CORS', async () => {
      const playlist = await fetch(publicUrl('/hls/alice/index.m3u8'))
      expect(playlist.status).toBe(200)
      expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl')
      expect(playlist.headers.get('cache-control')).toBe('no-cache')
      expect(playlist.headers.get('access-control-allow-origin')).toBe('*')

      const segment = await fetch(publicUrl(`/hls/alice/${lastSegment('alice')}`))
      expect(segment.status).toBe(200)
      expect(segment.headers.get('content-type')).toBe('video/mp2t')
      expect(segment.headers.get('cache-control')).toBe('public, max-age=60')

      const preflight = await fetch(publicUrl('/hls/alice/index.m3u8'), { method: 'OPTIONS' })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    })

    it('refuses RTMP playback of the ingest and of the internal app', async () => {
      await expect(ffprobe(rtmpUrl('live/alice'), 10_000)).rejects.toThrow()
      await expect(ffprobe(rtmpUrl(`live/${KEY}`), 10_000)).rejects.toThrow()
      await expect(ffprobe(rtmpUrl('hls/alice', opts.internalRtmpPort), 10_000)).rejects.toThrow()
      expect(await isRunning(publisher)).toBe(true)
    }, 40_000)

    it('sends on_update under the original key and args, for the same clientid', async () => {
      const update = await waitFor(() => responder.hooks('update', clientid)[0], {
        ...POLL,
        what: 'on_update',
      })
      expect(update.form.get('name')).toBe(KEY)
      expect(update.form.get('call')).toBe('update_publish')
      expect(update.body).toContain(ARGS)
      expect(Number(update.form.get('time'))).toBeGreaterThanOrEqual(2)
      expect(update.form.has('timestamp')).toBe(true)
    }, 30_000)

    it('drops the publisher through /control by its channel name', async () => {
      const res = await fetch(`${nginx.controlUrl}/control/drop/publisher?app=live&name=alice`)
      expect(await res.text()).toBe('1')
      expect((await publisher.exited).code).not.toBe(0)
      const done = await waitFor(() => responder.hooks('publish-done', clientid)[0], POLL)
      expect(done.form.get('name')).toBe(KEY)
    }, 30_000)
  })

  it('refuses a publish the app answers 403, without HLS', async () => {
    const refused = publish('live/live_bad_key')
    expect((await refused.exited).code).not.toBe(0)
    expect(responder.hooks('publish').some((c) => c.form.get('name') === 'live_bad_key')).toBe(true)
    expect(walk(nginx.hlsDir).filter((p) => p.includes('live_bad_key'))).toEqual([])
  }, 30_000)

  it('drops the publisher when the app answers on_update with 403', async () => {
    responder.channels.set('live_dave_key', 'dave')
    const p = publish('live/live_dave_key')
    const clientid = await clientIdOf('live_dave_key')
    responder.answer = (call) =>
      call.hook === 'update' && call.form.get('clientid') === clientid
        ? { status: 403 }
        : responder.defaultAnswer(call)
    expect((await p.exited).code).not.toBe(0)
    expect(responder.hooks('update', clientid)).toHaveLength(1)
    await waitFor(() => responder.hooks('publish-done', clientid)[0], POLL)
  }, 30_000)

  it('keeps live streams through an app outage while refusing new publishes', async () => {
    responder.channels.set('live_erin_key', 'erin')
    const erin = publish('live/live_erin_key')
    const clientid = await clientIdOf('live_erin_key')
    await waitFor(() => responder.hooks('update', clientid)[0], { ...POLL, what: 'first on_update' })

    const before = fallbacks('update').length
    await responder.stop()
    try {
      // An update answered by nginx's fallback, then fresh media: the
      // stream outlived the update.
      await waitFor(() => fallbacks('update').length > before, { ...POLL, what: 'a fallback on_update' })
      const segment = lastSegment('erin')
      await waitFor(() => lastSegment('erin') !== segment, { ...POLL, what: 'a new segment for erin' })
      expect(await isRunning(erin)).toBe(true)

      const frank = publish('live/live_frank_key')
      expect((await frank.exited).code).not.toBe(0)
      expect(walk(nginx.hlsDir).filter((p) => p.includes('frank'))).toEqual([])
    } finally {
      await responder.restart()
    }
    // The same session reports again once an instance is back.
    const seen = responder.hooks('update', clientid).length
    await waitFor(() => responder.hooks('update', clientid).length > seen, {
      ...POLL,
      what: 'on_update after restart',
    })
    expect(await isRunning(erin)).toBe(true)
  }, 60_000)

  it('keeps a live stream when the app hangs on on_update', async () => {
    responder.channels.set('live_gail_key', 'gail')
    const gail = publish('live/live_gail_key')
    const clientid = await clientIdOf('live_gail_key')
    responder.answer = (call) =>
      call.hook === 'update' && call.form.get('clientid') === clientid
        ? 'hang'
        : responder.defaultAnswer(call)
    // nginx's own 504 after proxy_read_timeout must reach nginx-rtmp as the
    // fallback 200 before netcall_timeout would drop the stream.
    await waitFor(() => fallbacks('update').some((l) => /\b504$/.test(l)), {
      ...POLL,
      what: 'an on_update answered by the fallback after the upstream timed out',
    })
    const segment = lastSegment('gail')
    await waitFor(() => lastSegment('gail') !== segment, { ...POLL, what: 'a new segment for gail' })
    expect(await isRunning(gail)).toBe(true)
  }, 60_000)

  it('passes the app’s own hook answers through and fails closed on publish only', async () => {
    const post = (hook: string) => fetch(hookUrl(hook), { method: 'POST', body: 'call=x&clientid=999' })
    responder.answer = (call) =>
      call.form.get('clientid') === '999' ? { status: 503 } : responder.defaultAnswer(call)
    expect((await post('update')).status).toBe(503)
    expect(responder.hooks('update', '999')[0]?.query.get('secret')).toBe(HOOK_SECRET)

    await responder.stop()
    try {
      expect((await post('publish')).status).toBe(502)
      expect((await post('update')).status).toBe(200)
      expect((await post('publish-done')).status).toBe(200)
    } finally {
      await responder.restart()
    }
    expect((await fetch(`${nginx.controlUrl}/hooks/rtmp/connect`, { method: 'POST' })).status).toBe(404)
  })

  it('keeps hooks, stat and control off the public port', async () => {
    for (const path of [
      '/hooks/rtmp/publish',
      '/%68ooks/rtmp/publish',
      '//hooks/rtmp/update',
      '/stat',
      '/control/drop/publisher?app=live&name=alice',
    ]) {
      expect((await fetch(publicUrl(path), { method: 'POST', body: 'x=1' })).status, path).toBe(404)
    }
    expect((await fetch(`${nginx.controlUrl}/stat`)).status).toBe(200)
    // The only requests the app saw: the playback checks of the HLS requests above.
    expect(responder.publicRequests.filter((r) => r.url !== '/internal/playback-auth')).toHaveLength(0)
  })

  it('proxies everything else to the app with edge headers, WebSocket upgrades and a body limit', async () => {
    const res = await fetch(publicUrl('/api/v1/channels?ticket=tkt_must_not_be_logged'), {
      headers: { 'X-Forwarded-For': '6.6.6.6' },
    })
    expect(await res.text()).toBe('app')
    const seen = responder.publicRequests.at(-1)!
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen.headers['x-real-ip']).toBe('127.0.0.1')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers.host).toBe(`127.0.0.1:${opts.httpPort}`)
    expect(seen.url).toBe('/api/v1/channels?ticket=tkt_must_not_be_logged')

    const status = await new Promise<number>((done, fail) => {
      request(publicUrl('/ws/channels/alice?ticket=tkt_ws'), {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
      })
        .on('upgrade', (r, socket) => {
          socket.destroy()
          done(r.statusCode ?? 0)
        })
        .on('response', (r) => done(r.statusCode ?? 0))
        .on('error', fail)
        .end()
    })
    expect(status).toBe(101)

    const big = await fetch(publicUrl('/api/v1/auth/login'), { method: 'POST', body: 'x'.repeat(65 * 1024) })
    expect(big.status).toBe(413)
  })

  it('never writes a stream key, hook secret or query string to its logs', () => {
    const logs = readdirSync(nginx.logDir).map((f) => readFileSync(join(nginx.logDir, f), 'utf8'))
    const all = logs.join('\n')
    expect(all.length).toBeGreaterThan(0)
    for (const secret of [
      KEY,
      'live_bad_key',
      'live_dave_key',
      'live_erin_key',
      'live_frank_key',
      'live_gail_key',
      HOOK_SECRET,
      'tkt_',
      'evil',
    ]) {
      expect(all.includes(secret), secret).toBe(false)
    }
  })
})

describe('one node, two nginx processes', () => {
  /** A node of its own on fresh ports, sharing the responder as its app. */
  async function nodeOptions(): Promise<NginxOptions> {
    const [rtmpPort, internalRtmpPort, httpPort, controlPort] = await Promise.all(
      Array.from({ length: 4 }, () => freePort()),
    )
    return {
      ...opts,
      runDir: mkdtempSync(join(tmpdir(), 'nginx-split-')),
      rtmpPort: rtmpPort!,
      internalRtmpPort: internalRtmpPort!,
      httpPort: httpPort!,
      controlPort: controlPort!,
      appUpstreams: [`127.0.0.1:${responder.port}`],
    }
  }
  // (The ingest also has a cache manager: nginx-rtmp's hls_cleanup runs in it.)
  const workersOf = (pid: number) =>
    spawnSync('ps', ['-o', 'args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes('worker process'))

  it('serves the audience from several edge workers, and keeps serving it when the ingest dies', async () => {
    const o = await nodeOptions()
    const node = await startNginx({ ...o, edgeWorkers: 3 })
    const url = (path: string) => `http://127.0.0.1:${o.httpPort}${path}`
    try {
      expect(node.edge.pid).not.toBe(node.pid)
      expect(workersOf(node.pid)).toHaveLength(1) // /control/drop needs the one RTMP worker
      expect(workersOf(node.edge.pid)).toHaveLength(3)
      // The edge serves what the ingest's packager writes.
      mkdirSync(join(node.hlsDir, 'split'), { recursive: true })
      writeFileSync(join(node.hlsDir, 'split', 'index.m3u8'), '#EXTM3U\n')
      expect(await (await fetch(url('/hls/split/index.m3u8'))).text()).toBe('#EXTM3U\n')

      node.kill('SIGKILL') // the ingest only: RTMP and the control server go, viewers stay
      await waitFor(async () => !isGroupAlive(node.pid) || undefined, { ...POLL, what: 'ingest gone' })
      expect(await isPortFree(o.rtmpPort)).toBe(true)
      expect(await isPortFree(o.controlPort)).toBe(true)
      expect(await (await fetch(url('/hls/split/index.m3u8'))).text()).toBe('#EXTM3U\n')
      expect(await (await fetch(url('/api/v1/channels'))).text()).toBe('app')
    } finally {
      await node.stop()
      rmSync(o.runDir, { recursive: true, force: true })
    }
    expect(isGroupAlive(node.edge.pid)).toBe(false)
    expect(await isPortFree(o.httpPort)).toBe(true)
  })

  it('stops the ingest again when the edge cannot start', async () => {
    const o = await nodeOptions()
    const cert = ensureSelfSignedCert(join(o.runDir, 'tls'))
    const rtmpsPort = await freePort()
    // The RTMPS listener (no reuseport) is taken: nginx's own bind fails in the edge only.
    const squatter = createTcpServer()
    await new Promise<void>((ok) => squatter.listen(rtmpsPort, '127.0.0.1', ok))
    try {
      const tls = { rtmpsPort, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile }
      await expect(startNginx({ ...o, ...tls })).rejects.toThrow(/nginx \(edge\)[\s\S]*edge-error\.log/)
      expect(await isPortFree(o.rtmpPort)).toBe(true)
      expect(await isPortFree(o.controlPort)).toBe(true)
    } finally {
      squatter.close()
      rmSync(o.runDir, { recursive: true, force: true })
    }
  }, 30_000)

  it('never shares its public port with another edge (reuseport would let it)', async () => {
    const [a, b] = [await nodeOptions(), await nodeOptions()]
    const first = await startNginx(a)
    try {
      await expect(startNginx({ ...b, httpPort: a.httpPort })).rejects.toThrow(
        `127.0.0.1:${a.httpPort} is already in use`,
      )
      expect(await isPortFree(b.rtmpPort)).toBe(true)
    } finally {
      await first.stop()
      for (const o of [a, b]) rmSync(o.runDir, { recursive: true, force: true })
    }
  })
})
