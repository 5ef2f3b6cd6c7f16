/**
 * Recordings become videos, against real nginx-rtmp, ffmpeg/ffprobe and BullMQ on Redis: a
 * recorded broadcast appears as an HLS VOD and an MP4 of the right length with a thumbnail; a blip
 * inside the reconnect window stays one video; delete removes the files; an app killed in the middle
 * of a remux still ends with exactly one video. The app runs as a child process so it can be killed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channels, videos } from '../../src/db/schema/index.js'
import { PASSWORD } from '../factories.js'
import { launchBrowser, seriousProblems } from '../support/browser.js'
import { httpFrom, loopback } from '../support/edge-clients.js'
import { ffprobe, startPublisher, waitFor } from '../support/ffmpeg.js'
import { broadcaster, channelStatus, sessionsOf } from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'
import { type Receiver, startReceiver } from '../support/webhook-receiver.js'

type VideoJson = {
  id: string
  sessionId: string
  title: string
  status: string
  durationS: number | null
  visibility: string | null
  thumbnailUrl: string | null
  playbackUrl: string | null
  downloadUrl: string | null
}

let stack: Stack
let rx: Receiver
beforeAll(async () => {
  stack = await startStack({
    childApps: true,
    env: {
      RECONNECT_WINDOW_S: '3',
      THUMBNAIL_INTERVAL_S: '2',
      VIDEO_JOB_LOCK_S: '3',
      IDLE_TIMEOUT_S: '5',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
  })
  rx = await startReceiver()
})
afterAll(async () => {
  await stack?.stop()
  await rx?.close()
})

/** The container duration ffprobe reads from a URL (HLS playlist or MP4). */
async function probeDuration(url: string): Promise<number> {
  const { durationS } = await ffprobe(url)
  if (durationS === null) throw new Error(`ffprobe reads no duration for ${url}`)
  return durationS
}

async function recordingChannel() {
  const b = await broadcaster(stack.deps)
  const res = await fetch(`${stack.http}/api/v1/channels/${b.channel}`, {
    method: 'PATCH',
    headers: { ...b.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ record: true }),
  })
  expect(res.status).toBe(200)
  expect(((await res.json()) as { record: boolean }).record).toBe(true)
  return b
}

const live = (name: string) =>
  waitFor(async () => (await channelStatus(stack.http, name)) === 'live', { timeoutMs: 15_000, what: 'live' })

async function videosOf(name: string, auth?: Record<string, string>): Promise<VideoJson[]> {
  const res = await fetch(`${stack.http}/api/v1/channels/${name}/videos`, { headers: auth })
  expect(res.status).toBe(200)
  return (await res.json()) as VideoJson[]
}

/** The channel's videos once one is ready ("appears within 60 s" of the stop). */
const readyVideos = (name: string) =>
  waitFor(
    async () => {
      const list = await videosOf(name)
      return list.some((v) => v.status === 'ready') ? list : null
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `a ready video of ${name}` },
  )

const recordingsLeft = (channel: string) =>
  readdirSync(join(stack.mediaDir, 'recordings')).filter((n) => n.startsWith(`${channel}-`))

let blip: { video: VideoJson; b: Awaited<ReturnType<typeof recordingChannel>> }
let recorded: { video: VideoJson; b: Awaited<ReturnType<typeof recordingChannel>> }

describe('recording a broadcast', () => {
  it('records 15 s into an HLS VOD and an MP4 of 15 ± 2 s with a thumbnail; live thumbnails meanwhile', async () => {
    const b = await recordingChannel()
    const hook = await fetch(`${stack.http}/api/v1/webhooks`, {
      method: 'POST',
      headers: { ...b.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ url: rx.url, events: ['video.ready', 'stream.thumbnail'] }),
    })
    expect(hook.status).toBe(201)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}`, durationS: 15 })
    try {
      await live(b.channel)
      // A live thumbnail of the stream (refreshed every THUMBNAIL_INTERVAL_S) while it runs.
      const thumb = await waitFor(
        async () => {
          const res = await fetch(`${stack.http}/thumbs/${b.channel}.jpg`)
          return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null
        },
        { timeoutMs: 15_000, what: 'a live thumbnail' },
      )
      expect(thumb.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
      expect((await pub.exited).code).toBe(0)
    } finally {
      await pub.stop()
    }
    const [video, ...more] = await readyVideos(b.channel)
    expect(more).toHaveLength(0)
    expect(video).toMatchObject({
      status: 'ready',
      visibility: null,
      playbackUrl: `/vod/${video!.id}/index.m3u8`,
      downloadUrl: `/vod/${video!.id}/download.mp4`,
      thumbnailUrl: `/vod/${video!.id}/thumb.jpg`,
    })
    expect(Math.abs(video!.durationS! - 15)).toBeLessThanOrEqual(2)

    const playlist = await (await fetch(`${stack.http}${video!.playbackUrl}`)).text()
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD')
    expect(playlist).toContain('#EXT-X-ENDLIST')
    for (const url of [video!.playbackUrl!, video!.downloadUrl!]) {
      expect(Math.abs((await probeDuration(`${stack.http}${url}`)) - 15), url).toBeLessThanOrEqual(2)
    }
    const img = await fetch(`${stack.http}${video!.thumbnailUrl}`)
    expect(img.headers.get('content-type')).toBe('image/jpeg')
    expect(Buffer.from(await img.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))

    // Webhooks: the live thumbnail refreshes, then the video, once.
    const ready = await waitFor(
      () => {
        const l = rx.received.filter((r) => r.json.type === 'video.ready')
        return l.length ? l : null
      },
      { what: 'video.ready delivered' },
    )
    expect(ready).toHaveLength(1)
    expect(ready[0]!.json.data).toMatchObject({
      id: video!.id,
      channel: b.channel,
      sessionId: video!.sessionId,
      playbackUrl: video!.playbackUrl,
    })
    const thumbs = rx.received.filter((r) => r.json.type === 'stream.thumbnail')
    expect(thumbs.length).toBeGreaterThan(0)
    expect(thumbs[0]!.json.data).toMatchObject({
      channel: b.channel,
      thumbnailUrl: `/thumbs/${b.channel}.jpg`,
    })

    // The parts are gone once the video holds them; the raw directory is never served.
    expect(recordingsLeft(b.channel)).toEqual([])
    expect((await fetch(`${stack.http}/recordings/`)).status).toBe(404)
    expect((await fetch(`${stack.http}/vod/../recordings/`)).status).not.toBe(200)
    recorded = { video: video!, b }
  })

  it('keeps one video across a blip inside the reconnect window', async () => {
    const b = await recordingChannel()
    const first = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    await live(b.channel)
    // At least one part on disk with a few seconds in it, then a blip.
    await waitFor(
      async () =>
        (await stack.deps.live.get(b.channel))?.state === 'live' && recordingsLeft(b.channel).length > 0,
    )
    await new Promise((r) => setTimeout(r, 4000)) // let the first part hold some seconds of video
    first.kill('SIGKILL')
    await first.exited
    await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'reconnecting', {
      what: 'reconnecting',
    })
    const second = startPublisher({ url: `${stack.rtmp}/${b.key}`, durationS: 4 })
    await live(b.channel)
    await second.exited
    const list = await readyVideos(b.channel)
    expect(list).toHaveLength(1)
    // Both parts are in it: longer than the second alone.
    expect(list[0]!.durationS!).toBeGreaterThan(6)
    const sessions = await sessionsOf(stack.deps, b.keyId)
    expect(sessions).toHaveLength(1)
    expect(list[0]!.sessionId).toBe(sessions[0]!.id)
    blip = { video: list[0]!, b }
  })

  it('does not keep broadcasts of channels that do not record', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}`, durationS: 3 })
    await live(b.channel)
    await waitFor(() => recordingsLeft(b.channel).length > 0, { what: 'the part being written' })
    await pub.exited
    await waitFor(() => recordingsLeft(b.channel).length === 0, {
      timeoutMs: 30_000,
      what: 'the part deleted',
    })
    expect(await videosOf(b.channel)).toEqual([])
  })
})

describe('the video page', () => {
  it('plays a VOD in Chromium and seeks in it', async () => {
    const { video } = recorded
    const browser = await launchBrowser()
    try {
      const { page } = browser
      await page.goto(`${stack.http}/v/${video.id}`)
      // A VOD playlist gives the element a finite duration: the controls can seek.
      await page.waitForFunction(() => {
        const v = document.querySelector('video')
        return v !== null && Number.isFinite(v.duration) && v.duration > 10
      })
      await page.evaluate(() => {
        const v = document.querySelector('video')!
        v.muted = true
        return v.play()
      })
      await page.waitForFunction(() => document.querySelector('video')!.currentTime > 0.5)
      const target = await page.evaluate(() => {
        const v = document.querySelector('video')!
        v.currentTime = v.duration - 3
        return v.currentTime
      })
      // Seeked far past anything buffered at the start, and playing on from there.
      await page.waitForFunction((t) => {
        const v = document.querySelector('video')!
        return !v.seeking && v.currentTime > t + 0.3 && v.readyState >= 3
      }, target)
      expect(seriousProblems(browser.problems)).toEqual([])
    } finally {
      await browser.close()
    }
  })
})

describe('a private video page', () => {
  it('plays for its signed-in owner through a grant, with seeking; shows strangers a bare shell', async () => {
    const { video, b } = blip
    const patch = await fetch(`${stack.http}/api/v1/videos/${video.id}`, {
      method: 'PATCH',
      headers: { ...b.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'private' }),
    })
    expect(patch.status).toBe(200)
    const anon = await fetch(`${stack.http}/v/${video.id}`, { headers: { accept: 'text/html' } })
    expect(anon.status).toBe(404)
    const html = await anon.text()
    expect(html).toContain('private or does not exist')
    expect(html).not.toContain(video.title)

    const browser = await launchBrowser()
    try {
      const { page } = browser
      const media: { path: string; status: number }[] = []
      page.on('response', (r) => {
        const path = new URL(r.url()).pathname
        if (path.startsWith('/vod/')) media.push({ path, status: r.status() })
      })
      await page.goto(`${stack.http}/login`)
      await page.fill('#f-email', b.user.email)
      await page.fill('#f-password', PASSWORD)
      await page.click('#login-form button[type="submit"]')
      await page.waitForURL(`${stack.http}/dashboard`)
      await page.goto(`${stack.http}/v/${video.id}`)
      await page.waitForFunction(() => {
        const v = document.querySelector('video')
        return v !== null && Number.isFinite(v.duration) && v.duration > 5
      })
      await page.evaluate(() => {
        const v = document.querySelector('video')!
        v.muted = true
        v.currentTime = v.duration - 2
        return v.play()
      })
      await page.waitForFunction(() => {
        const v = document.querySelector('video')!
        return !v.seeking && v.currentTime > v.duration - 1.7 && v.readyState >= 3
      })
      expect(await page.textContent('#video-title')).toBe(video.title)
      // Every media request carried the grant, and nginx let each through.
      expect(media.length).toBeGreaterThan(1)
      for (const m of media) {
        expect(m.path).toMatch(new RegExp(`^/vod/t/[^/]+/${video.id}/`))
        expect(m.status).toBeLessThan(300)
      }
      expect(seriousProblems(browser.problems)).toEqual([])
    } finally {
      await browser.close()
    }
  })
})

describe('managing videos', () => {
  it('lets only the owner rename and delete; delete removes the files', async () => {
    const { video, b } = recorded
    const dir = join(stack.mediaDir, 'videos', video.id)
    expect(existsSync(join(dir, 'index.m3u8'))).toBe(true)

    const other = await broadcaster(stack.deps)
    const json = { 'content-type': 'application/json' }
    const byOther = await fetch(`${stack.http}/api/v1/videos/${video.id}`, {
      method: 'DELETE',
      headers: other.auth,
    })
    expect(byOther.status).toBe(403)
    const renamed = await fetch(`${stack.http}/api/v1/videos/${video.id}`, {
      method: 'PATCH',
      headers: { ...b.auth, ...json },
      body: JSON.stringify({ title: 'Best of', visibility: 'private' }),
    })
    expect(await renamed.json()).toMatchObject({ title: 'Best of', visibility: 'private' })
    // Private: gone for anyone else, still there for the owner.
    expect((await fetch(`${stack.http}/api/v1/videos/${video.id}`)).status).toBe(404)
    expect(await videosOf(b.channel)).toEqual([])
    expect(await videosOf(b.channel, b.auth)).toHaveLength(1)

    // Its files too, wherever they are asked for (nginx's playback check, cached ≤ 5 s).
    const seg = readdirSync(dir).find((n) => n.endsWith('.ts'))!
    const vod = (file: string) => fetch(`${stack.http}/vod/${video.id}/${file}`)
    await waitFor(async () => (await vod('index.m3u8')).status === 401, { what: 'the playlist refused' })
    for (const file of [seg, 'download.mp4', 'thumb.jpg', 'seg99999.ts'])
      expect((await vod(file)).status, file).toBe(401)
    // The owner's grant plays in ffprobe as it is; nobody else gets one.
    const grantRes = await fetch(`${stack.http}/api/v1/videos/${video.id}/playback-tokens`, {
      method: 'POST',
      headers: { ...b.auth, ...json },
      body: '{}',
    })
    expect(grantRes.status).toBe(201)
    const grant = (await grantRes.json()) as { token: string; playbackUrl: string }
    expect(grant.playbackUrl).toBe(`${stack.http}/vod/t/${grant.token}/${video.id}/index.m3u8`)
    expect(Math.abs((await probeDuration(grant.playbackUrl)) - 15)).toBeLessThanOrEqual(2)
    // The check's answer, now cached for the grant, serves only requests that carry it — from
    // any address, whatever they claim to forward.
    const bare = `${stack.http}/vod/${video.id}/index.m3u8`
    expect((await httpFrom(loopback(4, 1), bare)).status).toBe(401)
    expect(
      (await httpFrom(loopback(4, 2), bare, { headers: { 'x-forwarded-for': '127.0.0.1' } })).status,
    ).toBe(401)
    expect((await httpFrom(loopback(4, 3), grant.playbackUrl)).status).toBe(200)
    const strangerGrant = await fetch(`${stack.http}/api/v1/videos/${video.id}/playback-tokens`, {
      method: 'POST',
      headers: { ...other.auth, ...json },
      body: '{}',
    })
    expect(strangerGrant.status).toBe(404)
    // A grant for another channel opens nothing here.
    const otherGrant = (await (
      await fetch(`${stack.http}/api/v1/channels/${other.channel}/playback-tokens`, {
        method: 'POST',
        headers: { ...other.auth, ...json },
        body: '{}',
      })
    ).json()) as { token: string }
    expect((await fetch(`${stack.http}/vod/t/${otherGrant.token}/${video.id}/index.m3u8`)).status).toBe(403)
    // No grant ever reaches the access log.
    const accessLog = readFileSync(join(stack.nginx.logDir, 'edge-access.log'), 'utf8')
    expect(accessLog).not.toContain(grant.token)
    expect(accessLog).toContain(`/vod/t/-/${video.id}/index.m3u8`)

    const del = await fetch(`${stack.http}/api/v1/videos/${video.id}`, { method: 'DELETE', headers: b.auth })
    expect(del.status).toBe(204)
    expect(existsSync(dir)).toBe(false)
    // Refused like any unknown video (the check's answer, possibly still the cached 401).
    expect([401, 403]).toContain((await fetch(`${stack.http}${video.playbackUrl}`)).status)
    expect((await fetch(`${stack.http}/api/v1/videos/${video.id}`, { headers: b.auth })).status).toBe(404)
  })
})

async function channelId(name: string): Promise<string> {
  const [ch] = await stack.deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, name))
  return ch!.id
}

/** The app's child processes that are ffmpeg/ffprobe: the remux in progress. */
function mediaChildrenOf(pid: number): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid && /^ff(mpeg|probe)$/.test(comm)) found.push(Number(name))
    } catch {
      // exited meanwhile
    }
  }
  return found
}

describe('restarts', () => {
  it('ends with one video when the app is killed in the middle of a remux', async () => {
    const app = stack.apps[0]!
    const b = await recordingChannel()
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}`, durationS: 6 })
    await live(b.channel)
    await pub.exited
    // Kill the app the moment its remux (an ffmpeg child) runs.
    const pid = app.pid()!
    await waitFor(() => mediaChildrenOf(pid).length > 0, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: 'the remux to start',
    })
    await app.kill('SIGKILL')
    const rows = await stack.deps.db
      .select()
      .from(videos)
      .where(eq(videos.channelId, await channelId(b.channel)))
    expect(rows).toMatchObject([{ status: 'processing' }])
    await app.start()
    // Its lock expires (VIDEO_JOB_LOCK_S) and the restarted instance takes the job over.
    const list = await readyVideos(b.channel)
    expect(list).toHaveLength(1)
    expect(Math.abs(list[0]!.durationS! - 6)).toBeLessThanOrEqual(2)
    const dirs = readdirSync(join(stack.mediaDir, 'videos')).filter((n) => n === list[0]!.id)
    expect(dirs).toHaveLength(1)
    // The job really was taken over from the killed worker, not merely started late.
    const queue = new Queue('videos', { connection: stack.deps.redis, prefix: stack.deps.keys.bull() })
    try {
      const job = await queue.getJob(`remux-${list[0]!.id}`)
      expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2)
    } finally {
      await queue.close()
    }
  })
})
