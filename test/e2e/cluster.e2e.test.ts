/**
 * Scale-out on real engines: a 3-master Redis Cluster with a replica each (started here on
 * loopback), two app instances as separate processes, two nginx ingest nodes, one Postgres.
 * Everything runs with REDIS_CLUSTER_NODES, so a script whose keys crossed slots would fail with
 * CROSSSLOT, and unsharded pub/sub would not be what carries chat.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisClusterHandle, startRedisCluster } from '../../scripts/lib/redis-cluster.js'
import { chatMessages } from '../../src/db/schema/index.js'
import { chatter, type Frame, TestSocket } from '../chat-client.js'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import {
  broadcaster,
  channelStatus,
  lastSegment,
  playlistAdvances,
  sessionEvents,
} from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

let cluster: RedisClusterHandle
let stack: Stack

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 })
  stack = await startStack({
    instances: 2,
    childApps: true,
    nodeIds: ['ingest-a', 'ingest-b'],
    notifyUpdateS: 2,
    env: { REDIS_CLUSTER_NODES: cluster.spec, RECONNECT_WINDOW_S: '4' },
  })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  await cluster?.stop()
})

const appUrl = (i: number) => `http://127.0.0.1:${stack.apps[i]!.port}`
const wsUrl = (i: number, channel: string) => `ws://127.0.0.1:${stack.apps[i]!.port}/ws/channels/${channel}`
const liveOn = (http: string, channel: string) =>
  waitFor(async () => (await channelStatus(http, channel)) === 'live', {
    timeoutMs: 20_000,
    what: `${channel} live`,
  })

describe('recordings on a Redis Cluster', () => {
  it('makes a video of a broadcast on the second node (BullMQ queues in one slot each)', async () => {
    const b = await broadcaster(stack.deps)
    const patch = await fetch(`${stack.http}/api/v1/channels/${b.channel}`, {
      method: 'PATCH',
      headers: { ...b.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ record: true }),
    })
    expect(patch.status).toBe(200)
    const pub = startPublisher({ url: `${stack.nodes[1]!.rtmp}/${b.key}`, durationS: 4 })
    await liveOn(stack.nodes[1]!.http, b.channel)
    await pub.exited
    const video = await waitFor(
      async () => {
        const list = (await (await fetch(`${appUrl(0)}/api/v1/channels/${b.channel}/videos`)).json()) as {
          status: string
          durationS: number
          playbackUrl: string
        }[]
        return list.find((v) => v.status === 'ready') ?? null
      },
      { timeoutMs: 60_000, what: 'the video ready' },
    )
    expect(video.durationS).toBeGreaterThan(2)
    // Served by either node's edge: the media directory is shared.
    for (const node of stack.nodes)
      expect((await fetch(`${node.http}${video.playbackUrl}`)).status, node.id).toBe(200)
  })
})

describe('two app instances and two ingest nodes on a Redis Cluster', () => {
  it('runs channels on both nodes, with chat and viewer counts correct across instances', async () => {
    const [a, b] = [await broadcaster(stack.deps), await broadcaster(stack.deps)]
    const pubA = startPublisher({ url: `${stack.nodes[0]!.rtmp}/${a.key}` })
    const pubB = startPublisher({ url: `${stack.nodes[1]!.rtmp}/${b.key}` })
    try {
      await liveOn(stack.nodes[0]!.http, a.channel)
      await liveOn(stack.nodes[1]!.http, b.channel)
      expect((await stack.deps.live.get(a.channel))?.node).toBe('ingest-a')
      expect((await stack.deps.live.get(b.channel))?.node).toBe('ingest-b')
      // The live directory, read through either instance, lists both.
      for (const i of [0, 1]) {
        const list = (await (await fetch(`${appUrl(i)}/api/v1/channels?live=true`)).json()) as {
          items?: { name: string }[]
        }
        const names = JSON.stringify(list)
        expect(names).toContain(a.channel)
        expect(names).toContain(b.channel)
      }

      // One viewer on each instance of channel b; a message sent on one reaches the other.
      const [u1, u2] = [await chatter(stack.deps, appUrl(0)), await chatter(stack.deps, appUrl(1))]
      const s1 = await TestSocket.join(wsUrl(0, b.channel), { ticket: await u1.ticket(), origin: stack.http })
      const s2 = await TestSocket.join(wsUrl(1, b.channel), { ticket: await u2.ticket(), origin: stack.http })
      try {
        // Each socket sees 2 viewers: in its welcome, or in a later count push.
        const two = (f: Frame) =>
          (f.type === 'viewers' && f.count === 2) || (f.type === 'welcome' && f.viewers === 2)
        await s1.next(two, { timeoutMs: 15_000 })
        await s2.next(two, { timeoutMs: 15_000 })
        expect(s1.frames.at(-1)).toMatchObject({ type: 'viewers', count: 2 })
        expect((await s1.request({ type: 'chat.send', text: 'across the cluster' })).type).toBe('ack')
        const got = await s2.next((f) => f.type === 'chat' && f.text === 'across the cluster')
        expect(got.seq).toBeGreaterThan(0)
        // Stored in Postgres by a chat-store consumer of the channel's partition stream.
        await waitFor(
          async () => {
            const rows = await stack.deps.db
              .select({ seq: chatMessages.seq })
              .from(chatMessages)
              .where(eq(chatMessages.text, 'across the cluster'))
            return rows.length === 1 && rows[0]!.seq === got.seq
          },
          { what: 'the message stored in Postgres' },
        )
      } finally {
        s1.ws.close()
        s2.ws.close()
      }
    } finally {
      await Promise.all([pubA.stop(), pubB.stop()])
    }
  })

  it('drops a publisher on node B when its key is revoked through instance A', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.nodes[1]!.rtmp}/${b.key}` })
    try {
      await liveOn(stack.nodes[1]!.http, b.channel)
      const res = await fetch(`${appUrl(0)}/api/v1/stream-keys/${b.keyId}`, {
        method: 'DELETE',
        headers: { ...b.auth, origin: stack.http },
      })
      expect(res.status).toBe(204)
      // nginx on node B closed the connection: ffmpeg ends by itself.
      const exit = await Promise.race([
        pub.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 20_000)),
      ])
      expect(exit, 'ffmpeg still publishing after the revoke').not.toBeNull()
      await waitFor(async () => (await channelStatus(stack.nodes[1]!.http, b.channel)) === 'offline', {
        what: `${b.channel} offline`,
      })
    } finally {
      await pub.stop()
    }
  })

  it('keeps a stream live while the master holding its channel dies and its replica takes over', async () => {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.nodes[0]!.rtmp}/${b.key}` })
    try {
      await liveOn(stack.nodes[0]!.http, b.channel)
      const before = (await stack.deps.live.get(b.channel))!
      const master = await cluster.masterOf(stack.deps.keys.liveChannel(b.channel))
      await cluster.kill(master)
      const heir = await cluster.waitForFailover(stack.deps.keys.liveChannel(b.channel))
      expect(heir).not.toBe(master)

      // Through and after the failover: the same session, refreshed by on_update on the new
      // master, HLS still advancing, nothing ended.
      await waitFor(
        async () => {
          const e = await stack.deps.live.get(b.channel).catch(() => null)
          return e !== null && e.sessionId === before.sessionId && e.deadline > before.deadline
        },
        { timeoutMs: 30_000, what: 'the session refreshed on the promoted replica' },
      )
      const seg = await lastSegment(stack.nodes[0]!.http, b.channel)
      await playlistAdvances(stack.nodes[0]!.http, b.channel, seg)
      expect(await channelStatus(stack.http, b.channel)).toBe('live')
      expect(pub.stderr()).not.toMatch(/Connection reset|Broken pipe|Error writing/i)
      expect(await sessionEvents(stack.deps, before.sessionId)).not.toContain('stream.offline')

      // Chat on the moved slot works again (sharded subscribers follow the failover).
      const u = await chatter(stack.deps, appUrl(1))
      const s = await TestSocket.join(wsUrl(1, b.channel), { ticket: await u.ticket(), origin: stack.http })
      try {
        await waitFor(
          async () => (await s.request({ type: 'chat.send', text: 'after failover' })).type === 'ack',
          {
            timeoutMs: 20_000,
            what: 'chat accepted after the failover',
          },
        )
        await s.next((f) => f.type === 'chat' && f.text === 'after failover', { timeoutMs: 15_000 })
      } finally {
        s.ws.close()
      }
    } finally {
      await pub.stop()
    }
  })
})
