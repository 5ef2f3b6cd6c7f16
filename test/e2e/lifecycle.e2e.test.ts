/**
 * Stream lifecycle against real nginx-rtmp and ffmpeg: reconnect window, kick, duplicate
 * publisher, plan duration limit, frozen publisher. Each `it` makes its own broadcaster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import {
  broadcaster,
  channelStatus,
  playlistAdvances,
  sessionEvents,
  sessionsOf,
} from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({
    env: {
      RECONNECT_WINDOW_S: '4',
      IDLE_TIMEOUT_S: '3',
      KICK_COOLDOWN_S: '60',
      PLAN_LIMITS: JSON.stringify({ pro: { maxSessionS: 10 } }),
    },
  })
})
afterAll(async () => {
  await stack?.stop()
})

const live = (name: string) =>
  waitFor(async () => (await channelStatus(stack.http, name)) === 'live', {
    timeoutMs: 15_000,
    what: `${name} live`,
  })
const offline = (name: string, timeoutMs = 15_000) =>
  waitFor(async () => (await channelStatus(stack.http, name)) === 'offline', {
    timeoutMs,
    what: `${name} offline`,
  })
const exitedWithin = (pub: ReturnType<typeof startPublisher>, ms: number) =>
  Promise.race([pub.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

describe('reconnect window', () => {
  it('continues the same session after a blip, then ends it once the window passes', async () => {
    const b = await broadcaster(stack.deps)
    const first = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    await live(b.channel)
    first.kill('SIGKILL') // a network blip: no clean close from OBS's side
    await first.exited
    await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'reconnecting', {
      what: 'reconnecting',
    })

    const second = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await live(b.channel)
      // History follows from the events stream (live/effects.ts) a moment after the hook.
      const [session] = await waitFor(async () => {
        const s = await sessionsOf(stack.deps, b.keyId)
        return s[0]?.reconnects === 1 ? s : null
      })
      expect(await sessionsOf(stack.deps, b.keyId)).toHaveLength(1)
      expect(session).toMatchObject({ endedAt: null, reconnects: 1 })
      expect(await sessionEvents(stack.deps, session!.id)).toEqual([
        'stream.online',
        'stream.reconnecting',
        'stream.resumed',
      ])
    } finally {
      await second.stop()
    }
    await offline(b.channel)
    const sessions = await waitFor(async () => {
      const s = await sessionsOf(stack.deps, b.keyId)
      return s[0]?.endedAt ? s : null
    })
    expect(sessions).toHaveLength(1)
    expect(sessions[0]!.endReason).toBe('publisher_left')
    // One online and one offline for the whole broadcast: the blip, then the stop and its window.
    expect(await sessionEvents(stack.deps, sessions[0]!.id)).toEqual([
      'stream.online',
      'stream.reconnecting',
      'stream.resumed',
      'stream.reconnecting',
      'stream.offline',
    ])
  })
})

describe('taking a stream down', () => {
  it('kick drops the publisher at once and refuses the key during the cool-down', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await live(b.channel)
      const res = await fetch(`${stack.http}/api/v1/channels/${b.channel}/kick`, {
        method: 'POST',
        headers: b.auth,
      })
      expect(await res.json()).toEqual({ kicked: true })
      expect(await exitedWithin(pub, 5_000)).toBe(true)
      expect(await channelStatus(stack.http, b.channel)).toBe('offline')
      const [s] = await sessionsOf(stack.deps, b.keyId)
      expect(s!.endReason).toBe('kicked')

      const retry = startPublisher({ url: `${stack.rtmp}/${b.key}`, durationS: 10 })
      expect((await retry.exited).code).not.toBe(0)
      expect(await channelStatus(stack.http, b.channel)).toBe('offline')
    } finally {
      await pub.stop()
    }
  })

  it('refuses a second publisher for a live channel and leaves the first untouched', async () => {
    const b = await broadcaster(stack.deps)
    const { streamKeyFor } = await import('../factories.js')
    const backup = await streamKeyFor(stack.deps, b.user, 'backup')
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await live(b.channel)
      const before = await stack.deps.live.get(b.channel)
      const segment = await playlistAdvances(stack.http, b.channel, null)
      const dup = startPublisher({ url: `${stack.rtmp}/${backup.key}`, durationS: 10 })
      expect((await dup.exited).code).not.toBe(0)
      // nginx sent a publish_done for the refused client; the live one is unaffected.
      expect(await stack.deps.live.get(b.channel)).toMatchObject({
        state: 'live',
        sessionId: before!.sessionId,
        clientId: before!.clientId,
      })
      await playlistAdvances(stack.http, b.channel, segment, 'playlist still advancing')
      expect(pub.stderr()).not.toMatch(/error/i)
    } finally {
      await pub.stop()
    }
  })

  it('lets the same key replace its own live connection (the encoder came back before nginx noticed)', async () => {
    const b = await broadcaster(stack.deps)
    const first = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    const second = startPublisher({ url: `${stack.rtmp}/${b.key}`, realtime: true })
    try {
      await live(b.channel)
      // Whichever connected first is replaced by the other; nginx must accept the newcomer.
      const [s1, s2] = await waitFor(
        async () => {
          const rows = await sessionsOf(stack.deps, b.keyId)
          return rows.length === 2 && rows[0]!.endedAt ? rows : null
        },
        { timeoutMs: 15_000, what: 'old session replaced' },
      )
      expect(s1!.endReason).toBe('replaced')
      expect(s2!.endedAt).toBeNull()
      const exited = await Promise.race([first.exited.then(() => 1), second.exited.then(() => 2)])
      const survivor = exited === 1 ? second : first
      const segment = await playlistAdvances(stack.http, b.channel, null)
      await playlistAdvances(stack.http, b.channel, segment, 'the replacing stream is packaged')
      expect(await stack.deps.live.get(b.channel)).toMatchObject({ state: 'live', sessionId: s2!.id })
      expect(survivor.stderr()).not.toMatch(/error/i)
    } finally {
      await Promise.all([first.stop(), second.stop()])
    }
  })

  it('drops the stream when the plan’s maximum duration is reached', async () => {
    const b = await broadcaster(stack.deps)
    const { users } = await import('../../src/db/schema/index.js')
    const { eq } = await import('drizzle-orm')
    await stack.deps.db.update(users).set({ plan: 'pro' }).where(eq(users.id, b.user.id)) // pro: 10 s in this stack
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await live(b.channel)
      expect(await exitedWithin(pub, 20_000)).toBe(true)
      const [s] = await waitFor(async () => {
        const rows = await sessionsOf(stack.deps, b.keyId)
        return rows[0]?.endedAt ? rows : null
      })
      expect(s!.endReason).toBe('max_duration')
      const seconds = (s!.endedAt!.getTime() - s!.startedAt.getTime()) / 1000
      expect(seconds).toBeGreaterThanOrEqual(10)
    } finally {
      await pub.stop()
    }
  })

  it('drops a frozen publisher (TCP open, no data) into the reconnect window, then ends it as idle', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await live(b.channel)
      pub.kill('SIGSTOP') // OBS hangs: the connection stays open, nothing arrives
      await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'reconnecting', {
        timeoutMs: 20_000,
        what: 'dropped into the reconnect window',
      })
      await offline(b.channel)
      const [s] = await waitFor(async () => {
        const rows = await sessionsOf(stack.deps, b.keyId)
        return rows[0]?.endedAt ? rows : null
      })
      expect(s!.endReason).toBe('idle')
    } finally {
      pub.kill('SIGCONT')
      await pub.stop()
    }
  })
})
