/**
 * The live path end to end: a real ffmpeg publisher (OBS's stand-in) → Debian's nginx-rtmp →
 * hooks through nginx's hook proxy → the app (real Postgres and Redis) → HLS served by nginx.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamSessions } from '../../src/db/schema/index.js'
import { loggedIn } from '../factories.js'
import { ffprobe, startPublisher, waitFor } from '../support/ffmpeg.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
const keysSeen: string[] = []

beforeAll(async () => {
  // A short reconnect window so "stop → offline" is observable in seconds.
  stack = await startStack({ notifyUpdateS: 2, env: { RECONNECT_WINDOW_S: '2' } })
})
afterAll(async () => {
  await stack?.stop()
})

/** A confirmed broadcaster with a key created through the public API, as the dashboard does. */
async function broadcaster() {
  const deps = stack.deps
  const me = await loggedIn(deps)
  const res = await fetch(`${stack.http}/api/v1/stream-keys`, {
    method: 'POST',
    headers: { ...me.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'e2e' }),
  })
  expect(res.status).toBe(201)
  const created = (await res.json()) as {
    id: string
    key: string
    ingest: { server: string; streamKey: string }
  }
  keysSeen.push(created.key)
  return { ...me, channel: me.user.username, key: created.key, keyId: created.id }
}

async function channel(name: string) {
  const res = await fetch(`${stack.http}/api/v1/channels/${name}`)
  return (await res.json()) as {
    status: string
    live: boolean
    startedAt: string | null
    playback: { hls: string }
  }
}

async function playlistSegments(name: string): Promise<string[]> {
  const res = await fetch(`${stack.http}/hls/${name}/index.m3u8`)
  if (res.status !== 200) return []
  return (await res.text()).split('\n').filter((l) => l.endsWith('.ts'))
}

describe('publishing with a good key', () => {
  it('serves HLS at the channel path, lists the channel live, and ends offline with history', async () => {
    const b = await broadcaster()
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      const segments = await waitFor(
        async () => ((await playlistSegments(b.channel)).length >= 2 ? playlistSegments(b.channel) : null),
        {
          timeoutMs: 20_000,
          what: 'two HLS segments at the channel path',
        },
      )
      expect(segments.length).toBeGreaterThanOrEqual(2)

      const playlist = await fetch(`${stack.http}/hls/${b.channel}/index.m3u8`)
      expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl')
      expect(playlist.headers.get('cache-control')).toBe('no-cache')
      const probe = await ffprobe(`${stack.http}/hls/${b.channel}/index.m3u8`)
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264'])

      const view = await channel(b.channel)
      expect(view).toMatchObject({
        status: 'live',
        live: true,
        playback: { hls: `/hls/${b.channel}/index.m3u8` },
      })
      const live = (await (await fetch(`${stack.http}/api/v1/channels?live=true`)).json()) as {
        name: string
        startedAt: string
      }[]
      const listed = live.find((c) => c.name === b.channel)
      expect(listed && Date.parse(listed.startedAt)).toBeGreaterThan(Date.now() - 60_000)
    } finally {
      await pub.stop()
    }

    // A clean stop is indistinguishable from a drop: reconnecting for the window, then offline.
    await waitFor(async () => (await channel(b.channel)).status === 'offline', {
      timeoutMs: 15_000,
      what: 'channel offline',
    })
    const deps = stack.deps
    // Redis flips to offline first; the history row is closed right after.
    const rows = await waitFor(
      async () => {
        const r = await deps.db.select().from(streamSessions).where(eq(streamSessions.streamKeyId, b.keyId))
        return r[0]?.endedAt ? r : null
      },
      { what: 'session row closed' },
    )
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ endReason: 'publisher_left', ingestNode: stack.nodeId })
    expect(rows[0]!.endedAt!.getTime()).toBeGreaterThan(rows[0]!.startedAt.getTime())
  })

  it('judges the real key when the publish URL carries injected name= and call= args', async () => {
    const b = await broadcaster()
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}?name=evil&call=play` })
    try {
      await waitFor(async () => (await playlistSegments(b.channel)).length > 0, {
        timeoutMs: 20_000,
        what: 'HLS under the channel',
      })
      expect(await channel(b.channel)).toMatchObject({ status: 'live' })
    } finally {
      await pub.stop()
    }
  })
})

describe('refused publishes', () => {
  it('refuses a wrong key, a key smuggled in the args, and a revoked key, writing no HLS', async () => {
    const b = await broadcaster()
    const wrong = `${b.key.slice(0, -4)}zzzz`
    keysSeen.push(wrong)
    const revoked = await broadcaster()
    const del = await fetch(`${stack.http}/api/v1/stream-keys/${revoked.keyId}`, {
      method: 'DELETE',
      headers: revoked.auth,
    })
    expect(del.status).toBe(204)

    for (const url of [
      `${stack.rtmp}/${wrong}`,
      `${stack.rtmp}/${wrong}?name=${b.key}`,
      `${stack.rtmp}/${revoked.key}`,
    ]) {
      const pub = startPublisher({ url, durationS: 10 })
      const exit = await pub.exited
      expect(exit.code, `ffmpeg should be refused for ${url.replace(/live_\w+/g, 'KEY')}`).not.toBe(0)
    }
    expect((await channel(b.channel)).status).toBe('offline')
    expect((await channel(revoked.channel)).status).toBe('offline')
    expect(await playlistSegments(b.channel)).toEqual([])
    expect(await playlistSegments(revoked.channel)).toEqual([])
  })

  it('drops a live publisher when its key is revoked', async () => {
    const b = await broadcaster()
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await waitFor(async () => (await channel(b.channel)).status === 'live', {
        timeoutMs: 15_000,
        what: 'live',
      })
      const del = await fetch(`${stack.http}/api/v1/stream-keys/${b.keyId}`, {
        method: 'DELETE',
        headers: b.auth,
      })
      expect(del.status).toBe(204)
      const exit = await Promise.race([
        pub.exited,
        new Promise((r) => setTimeout(() => r('still running'), 10_000)),
      ])
      expect(exit).not.toBe('still running')
      expect((await channel(b.channel)).status).toBe('offline')
      const [row] = await stack.deps.db
        .select()
        .from(streamSessions)
        .where(eq(streamSessions.streamKeyId, b.keyId))
      expect(row!.endReason).toBe('key_revoked') // revoke closes the row before it answers 204
    } finally {
      await pub.stop()
    }
  })
})

describe('the key never leaks', () => {
  it('appears in no HLS file name or content, no nginx log and no app log line', () => {
    expect(keysSeen.length).toBeGreaterThanOrEqual(5)
    const files = stack.nginxFiles()
    expect([...files.keys()].some((p) => p.includes('/hls/'))).toBe(true) // the scan did see HLS output
    const logs = stack.appLogs()
    expect(logs).toContain('publish accepted') // and it did see the app's hook logging
    for (const key of keysSeen) {
      const secret = key.split('_')[2]!
      for (const [path, content] of files) {
        expect(path.includes(secret), `key in path ${path}`).toBe(false)
        expect(content.includes(secret), `key in ${path}`).toBe(false)
      }
      expect(logs.includes(secret), 'key in app logs').toBe(false)
    }
  })
})
