/**
 * The video API over rows the remux would have written (the media pipeline itself is covered end
 * to end in test/e2e/recordings.e2e.test.ts): who sees what, who may change what, and the plans'
 * retention.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { channelMembers, channels, users, videos } from '../db/schema/index.js'
import { VIDEOS_QUEUE } from './jobs.js'
import { mediaPaths } from './paths.js'
import { sweepRetention } from './retention.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

async function videoOf(
  user: { id: string },
  values: Partial<typeof videos.$inferInsert> = {},
): Promise<string> {
  const [ch] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, user.id))
  const [v] = await t.deps.db
    .insert(videos)
    .values({
      channelId: ch!.id,
      sessionId: randomUUID(),
      title: 'a broadcast',
      status: 'ready',
      durationS: 60,
      recordedAt: new Date(),
      ...values,
    })
    .returning()
  return v!.id
}

describe('/api/v1/videos', () => {
  it('shows anyone the ready public videos; the owner everything', async () => {
    const me = await loggedIn(t.deps)
    const name = me.user.username
    const pub = await videoOf(me.user)
    const unlisted = await videoOf(me.user, { visibility: 'unlisted' })
    const priv = await videoOf(me.user, { visibility: 'private' })
    const processing = await videoOf(me.user, { status: 'processing', durationS: null })

    const anon = await (await t.json('GET', `/api/v1/channels/${name}/videos`)).json()
    expect(anon.map((v: { id: string }) => v.id)).toEqual([pub])
    expect(anon[0]).toMatchObject({
      id: pub,
      title: 'a broadcast',
      durationS: 60,
      visibility: null,
      playbackUrl: `/vod/${pub}/index.m3u8`,
      downloadUrl: `/vod/${pub}/download.mp4`,
      thumbnailUrl: `/vod/${pub}/thumb.jpg`,
    })
    expect(anon[0].error).toBeUndefined()
    const mine = await (await t.json('GET', `/api/v1/channels/${name}/videos`, undefined, me.auth)).json()
    expect(new Set(mine.map((v: { id: string }) => v.id))).toEqual(new Set([pub, unlisted, priv, processing]))
    expect(mine.find((v: { id: string }) => v.id === processing)).toMatchObject({
      status: 'processing',
      playbackUrl: null,
    })

    expect((await t.json('GET', `/api/v1/videos/${unlisted}`)).status).toBe(200)
    for (const hidden of [priv, processing, randomUUID()]) {
      const res = await t.json('GET', `/api/v1/videos/${hidden}`)
      expect(res.status).toBe(404)
      expect((await res.json()).code).toBe('NOT_FOUND')
    }
    expect((await t.json('GET', `/api/v1/videos/${priv}`, undefined, me.auth)).status).toBe(200)
    expect((await t.json('GET', '/api/v1/videos/not-a-uuid')).status).toBe(422)
    expect(
      (await t.json('GET', `/api/v1/videos/${pub}`, undefined, { authorization: 'Bearer nope' })).status,
    ).toBe(401)
  })

  it("private videos play for the channel's members; a private channel's videos only for its audience", async () => {
    const owner = await loggedIn(t.deps)
    const member = await loggedIn(t.deps)
    const stranger = await loggedIn(t.deps)
    const name = owner.user.username
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, owner.user.id))
    await t.deps.db.insert(channelMembers).values({ channelId: ch!.id, userId: member.user.id })
    const replay = await videoOf(owner.user, { visibility: 'private' })
    const open = await videoOf(owner.user)
    const ids = async (auth?: Record<string, string>) =>
      (
        (await (await t.json('GET', `/api/v1/channels/${name}/videos`, undefined, auth)).json()) as {
          id: string
        }[]
      )
        .map((v) => v.id)
        .sort()
    // A public channel with a members-only replay.
    expect(await ids(member.auth)).toEqual([replay, open].sort())
    expect(await ids(stranger.auth)).toEqual([open])
    expect((await t.json('GET', `/api/v1/videos/${replay}`, undefined, member.auth)).status).toBe(200)
    expect((await t.json('GET', `/api/v1/videos/${replay}`, undefined, stranger.auth)).status).toBe(404)
    // The channel turns private: its videos (inheriting) go with it, for everyone but its audience.
    await t.deps.db.update(channels).set({ visibility: 'private' }).where(eq(channels.id, ch!.id))
    const listed = await t.json('GET', `/api/v1/channels/${name}/videos`)
    expect(listed.status).toBe(404)
    expect((await t.json('GET', `/api/v1/videos/${open}`, undefined, stranger.auth)).status).toBe(404)
    expect((await t.json('GET', `/api/v1/videos/${open}`, undefined, member.auth)).status).toBe(200)
    expect(await ids(member.auth)).toEqual([replay, open].sort())
    // Unless a video says otherwise.
    await t.json('PATCH', `/api/v1/videos/${open}`, { visibility: 'public' }, owner.auth)
    expect((await t.json('GET', `/api/v1/videos/${open}`)).status).toBe(200)
  })

  it('lets the owner or an admin rename and re-scope a video, nobody else', async () => {
    const me = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const admin = await loggedIn(t.deps, { role: 'admin' })
    const id = await videoOf(me.user)
    const patch = (body: unknown, auth?: Record<string, string>) =>
      t.json('PATCH', `/api/v1/videos/${id}`, body, auth)
    expect((await patch({ title: 'x' })).status).toBe(401)
    expect((await patch({ title: 'x' }, other.auth)).status).toBe(403)
    expect((await patch({}, me.auth)).status).toBe(422)
    expect((await patch({ visibility: 'secret' }, me.auth)).status).toBe(422)
    expect(await (await patch({ title: ' Finals ', visibility: 'unlisted' }, me.auth)).json()).toMatchObject({
      title: 'Finals',
      visibility: 'unlisted',
      effectiveVisibility: 'unlisted',
    })
    expect(await (await patch({ visibility: null }, admin.auth)).json()).toMatchObject({ visibility: null })
    // A private video does not even exist for others: 404, not 403.
    await patch({ visibility: 'private' }, me.auth)
    expect((await t.json('DELETE', `/api/v1/videos/${id}`, undefined, other.auth)).status).toBe(404)
    expect((await t.json('DELETE', `/api/v1/videos/${id}`, undefined, me.auth)).status).toBe(204)
    expect((await t.json('GET', `/api/v1/videos/${id}`, undefined, me.auth)).status).toBe(404)
  })
})

describe('remux failures', () => {
  it('marks a video failed, with the reason, when its job cannot succeed', async () => {
    const me = await loggedIn(t.deps)
    const id = await videoOf(me.user, { status: 'processing', durationS: null })
    const queue = new Queue(VIDEOS_QUEUE, { connection: t.deps.redis, prefix: t.deps.keys.bull() })
    try {
      // A broadcast whose recording is missing (nginx never wrote one): nothing a retry could fix.
      const job = {
        videoId: id,
        channel: me.user.username,
        startedAt: Date.now() - 60_000,
        endedAt: Date.now(),
      }
      await queue.add('remux', job, { jobId: `remux-${id}`, attempts: 3 })
    } finally {
      await queue.close()
    }
    const row = await waitFor(async () => {
      const [v] = await t.deps.db.select().from(videos).where(eq(videos.id, id))
      return v?.status === 'failed' ? v : null
    })
    expect(row.error).toBe('no recording found for this broadcast')
    const mine = await (await t.json('GET', `/api/v1/videos/${id}`, undefined, me.auth)).json()
    expect(mine).toMatchObject({
      status: 'failed',
      error: 'no recording found for this broadcast',
      playbackUrl: null,
    })
  })
})

describe('retention', () => {
  it("deletes videos past the plan's retention, then the oldest beyond its recording hours", async () => {
    const me = await loggedIn(t.deps)
    await t.deps.db.update(users).set({ plan: 'pro' }).where(eq(users.id, me.user.id))
    const now = Date.now()
    const day = 86_400_000
    const fresh = await videoOf(me.user, { recordedAt: new Date(now - day), durationS: 3600 })
    const older = await videoOf(me.user, { recordedAt: new Date(now - 2 * day), durationS: 3600 })
    await videoOf(me.user, { recordedAt: new Date(now - 3 * day), durationS: 3600 })
    const expired = await videoOf(me.user, { recordedAt: new Date(now - 11 * day), durationS: 60 })
    const paths = mediaPaths(t.deps.config.MEDIA_DIR)
    for (const id of [fresh, expired]) {
      mkdirSync(join(paths.videos, id), { recursive: true })
      writeFileSync(join(paths.videos, id, 'index.m3u8'), '#EXTM3U\n')
    }
    const config = {
      PLAN_LIMITS: {
        ...t.deps.config.PLAN_LIMITS,
        pro: { ...t.deps.config.PLAN_LIMITS.pro, retentionDays: 10, recordingHours: 2 },
      },
    }
    // Leftovers: a channel's video directory whose row is gone, an unclaimed part, old scratch.
    const orphanDir = join(paths.videos, randomUUID())
    const orphanPart = join(paths.recordings, `${me.user.username}-1600000000.flv`)
    const freshPart = join(paths.recordings, `${me.user.username}-1700000000.flv`)
    for (const dir of [orphanDir, paths.recordings]) mkdirSync(dir, { recursive: true })
    for (const f of [orphanPart, freshPart]) writeFileSync(f, 'FLV')
    const old = new Date(now - 4 * day)
    utimesSync(orphanDir, old, old)
    utimesSync(orphanPart, old, old)
    await sweepRetention({ db: t.deps.db, log: t.deps.log, paths, config, now: () => now })
    expect(existsSync(orphanDir)).toBe(false)
    expect(existsSync(orphanPart)).toBe(false)
    expect(existsSync(freshPart)).toBe(true)
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, me.user.id))
    const left = await t.deps.db.select({ id: videos.id }).from(videos).where(eq(videos.channelId, ch!.id))
    expect(new Set(left.map((v) => v.id))).toEqual(new Set([fresh, older]))
    expect(existsSync(join(paths.videos, expired))).toBe(false)
    expect(existsSync(join(paths.videos, fresh))).toBe(true)
  })
})
