/**
 * The durable path against the real ingest: our own blind spots (missed updates, a Redis that
 * lost everything) never end or split a broadcast that nginx still carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/ffmpeg.js'
import {
  effectsSettled,
  historyRow,
  lastSegment,
  liveBroadcast,
  playlistAdvances,
  sessionEvents,
  sessionsOf,
} from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

describe('the ingest is the truth about liveness', () => {
  let stack: Stack
  beforeAll(async () => {
    // Long update interval: the deadline below is moved by the test, not by on_update.
    stack = await startStack({ notifyUpdateS: 30 })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('keeps a session whose updates were missed while nginx still carries its publisher', async () => {
    const { pub, ...b } = await liveBroadcast(stack)
    try {
      const { sessionId } = (await stack.deps.live.get(b.channel))!
      // Our blind spot: Redis frozen or every instance down past the deadline (2 update intervals).
      const past = Date.now() - 1000
      const { redis, keys } = stack.deps
      await redis.hset(keys.liveChannel(b.channel), 'deadline', past)
      await redis.zadd(keys.liveDeadlines(b.channel), past, b.channel)
      await stack.deps.live.sweep()
      const kept = (await stack.deps.live.get(b.channel))!
      expect(kept).toMatchObject({ state: 'live', sessionId })
      expect(kept.deadline).toBeGreaterThan(Date.now())
      expect(await sessionEvents(stack.deps, sessionId)).toEqual(['stream.online'])
      await playlistAdvances(stack.http, b.channel, await lastSegment(stack.http, b.channel))
      expect(pub.stderr()).not.toMatch(/error|broken pipe/i)
    } finally {
      await pub.stop()
    }
  })
})

describe('a Redis that lost everything', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ notifyUpdateS: 1, env: { RECONNECT_WINDOW_S: '2' } })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('re-adopts the live publisher into its open session: one broadcast, one session, one online', async () => {
    const { pub, ...b } = await liveBroadcast(stack)
    let sessionId: string
    try {
      ;({ sessionId } = (await stack.deps.live.get(b.channel))!)
      await historyRow(stack.deps, sessionId)

      // Redis restarted without persistence: every key of this deployment is gone, events included.
      const { redis } = stack.deps
      const prefix = stack.deps.config.REDIS_PREFIX
      let cursor = '0'
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        cursor = next
        if (found.length) await redis.del(...found)
      } while (cursor !== '0')
      expect(await stack.deps.live.get(b.channel)).toBeNull()

      // The next on_update re-verifies the key and continues the session Postgres has open.
      const adopted = await waitFor(() => stack.deps.live.get(b.channel), { what: 're-adoption' })
      expect(adopted).toMatchObject({ state: 'live', sessionId })
      await playlistAdvances(stack.http, b.channel, await lastSegment(stack.http, b.channel))
      expect(pub.stderr()).not.toMatch(/error|broken pipe/i)
    } finally {
      await pub.stop()
    }
    const closed = await historyRow(stack.deps, sessionId, (r) => r.endedAt !== null)
    expect(closed.endReason).toBe('publisher_left')
    expect(await sessionsOf(stack.deps, b.keyId)).toHaveLength(1)
    // The stream was lost with Redis; what was recorded since has no second online.
    expect(await sessionEvents(stack.deps, sessionId)).toEqual([
      'stream.resumed',
      'stream.reconnecting',
      'stream.offline',
    ])
    await effectsSettled(stack.deps)
  })
})
