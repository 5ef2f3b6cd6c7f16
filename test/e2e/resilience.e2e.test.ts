/**
 * What operators rely on: a crashed control plane never drops a live stream; a crashed ingest
 * ends its sessions as ingest_lost; several ingest nodes share one registry.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import {
  broadcaster,
  channelStatus,
  lastSegment,
  playlistAdvances,
  sessionsOf,
} from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

describe('control plane crash (app as a child process, SIGKILL)', () => {
  let stack: Stack
  beforeAll(async () => {
    // on_update every second, so the outage below spans several of them.
    stack = await startStack({ childApps: true, notifyUpdateS: 1, env: { RECONNECT_WINDOW_S: '3' } })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('keeps the stream up while the app is dead and recovers the same session when it returns', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'live', {
        timeoutMs: 15_000,
      })
      const { sessionId } = (await stack.deps.live.get(b.channel))!

      const atCrash = await playlistAdvances(stack.http, b.channel, null, 'HLS before the crash')
      await stack.apps[0]!.kill('SIGKILL')
      // Several on_update rounds with no app: nginx's hook proxy answers them itself.
      const fallbackLog = join(stack.nginx.logDir, 'hook-fallback.log')
      await waitFor(
        () =>
          existsSync(fallbackLog) &&
          readFileSync(fallbackLog, 'utf8')
            .split('\n')
            .filter((l) => l.includes('/hooks/rtmp/update')).length >= 3,
        {
          timeoutMs: 15_000,
          what: 'three on_update answered by nginx',
        },
      )
      await playlistAdvances(stack.http, b.channel, atCrash, 'HLS advancing while the app is dead')
      expect(pub.stderr()).not.toMatch(/error|broken pipe/i)

      await stack.apps[0]!.start()
      await playlistAdvances(
        stack.http,
        b.channel,
        await lastSegment(stack.http, b.channel),
        'HLS advancing after restart',
      )
      // The next on_update reaches the app again and refreshes the same session.
      const before = (await stack.deps.live.get(b.channel))!.lastUpdateAt
      await waitFor(async () => (await stack.deps.live.get(b.channel))!.lastUpdateAt > before, {
        what: 'registry updated by on_update',
      })
      expect(await stack.deps.live.get(b.channel)).toMatchObject({ state: 'live', sessionId })
      expect(await sessionsOf(stack.deps, b.keyId)).toHaveLength(1)
    } finally {
      await pub.stop()
    }
  })

  it('ends the session as ingest_lost when nginx dies', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'live', {
        timeoutMs: 15_000,
      })
      stack.nginx.kill('SIGKILL') // nginx sends nothing: no publish_done, no more updates
      const [s] = await waitFor(
        async () => {
          const rows = await sessionsOf(stack.deps, b.keyId)
          return rows[0]?.endedAt ? rows : null
        },
        { timeoutMs: 20_000, what: 'session ended' },
      )
      expect(s!.endReason).toBe('ingest_lost')
      // Two update intervals (1 s) plus slack, measured from the last update, not from the kill.
      expect(await stack.deps.live.get(b.channel)).toBeNull()
    } finally {
      await pub.stop()
    }
  })
})

describe('two ingest nodes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ nodeIds: ['edge-a', 'edge-b'], instances: 2 })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('records which node carries each channel, keeps a channel on one node, and drops through the right node', async () => {
    const [a, b] = stack.nodes as [(typeof stack.nodes)[0], (typeof stack.nodes)[0]]
    const alice = await broadcaster(stack.deps)
    const bob = await broadcaster(stack.deps)
    const { streamKeyFor } = await import('../factories.js')
    const aliceBackup = await streamKeyFor(stack.deps, alice.user, 'backup')
    const pubA = startPublisher({ url: `${a.rtmp}/${alice.key}` })
    const pubB = startPublisher({ url: `${b.rtmp}/${bob.key}` })
    try {
      await waitFor(
        async () =>
          (await channelStatus(a.http, alice.channel)) === 'live' &&
          (await channelStatus(a.http, bob.channel)) === 'live',
        {
          timeoutMs: 20_000,
          what: 'both live',
        },
      )
      expect((await stack.deps.live.get(alice.channel))!.node).toBe('edge-a')
      expect((await stack.deps.live.get(bob.channel))!.node).toBe('edge-b')
      // Each node serves the HLS of the streams it ingests.
      await playlistAdvances(b.http, bob.channel, null)

      // Alice's other key on the other node: refused, the channel stays on edge-a.
      const dup = startPublisher({ url: `${b.rtmp}/${aliceBackup.key}`, durationS: 10 })
      expect((await dup.exited).code).not.toBe(0)
      expect((await stack.deps.live.get(alice.channel))!.node).toBe('edge-a')

      // Kicking Bob drops him through edge-b's control endpoint.
      await fetch(`${a.http}/api/v1/channels/${bob.channel}/kick`, { method: 'POST', headers: bob.auth })
      await waitFor(() => pubB.exited.then(() => true), { timeoutMs: 5_000, what: 'bob dropped' })
      expect(await channelStatus(a.http, alice.channel)).toBe('live')
      const [s] = await waitFor(async () => {
        const rows = await sessionsOf(stack.deps, bob.keyId)
        return rows[0]?.endedAt ? rows : null
      })
      expect(s).toMatchObject({ ingestNode: 'edge-b', endReason: 'kicked' })
    } finally {
      await Promise.all([pubA.stop(), pubB.stop()])
    }
  })
})
