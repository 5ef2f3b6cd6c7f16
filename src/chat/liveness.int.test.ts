import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { createUser } from '../../test/factories.js'
import { channels } from '../db/schema/index.js'
import { createKeys } from '../redis/keys.js'
import { CloseCode } from './protocol.js'

let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance

beforeAll(async () => {
  // Timers effectively off (tests drive the heartbeat themselves); a small send buffer.
  env = await startInstances(1, { env: { CHAT_PING_INTERVAL_S: '300', CHAT_MAX_BUFFERED_BYTES: '65536' } })
  a = env.instances[0]!
})
afterAll(() => env.close())

const connsOf = (ch: string) => [...(a.deps.chat.hub.rooms.get(ch)?.conns ?? [])]

/** Polls server-side state that no frame announces (bounded, so a regression fails rather than hangs). */
async function until(probe: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 1000 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 10))
  expect(await probe()).toBe(true)
}

describe('slow consumers', () => {
  it('closes a socket whose unsent bytes pass the limit with 4008 "too slow", and keeps serving the others', async () => {
    const ch = (await createUser(a.deps)).username
    await withSockets(async (track) => {
      const slow = track(await TestSocket.join(a.url(ch)))
      const fast = track(await TestSocket.join(a.url(ch)))
      const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
      raw.pause() // stops reading: the kernel buffers fill, then the server's
      const frame = JSON.stringify({
        type: 'chat',
        id: 'x',
        seq: 0,
        user: { username: 'big', role: 'user' },
        text: 'x'.repeat(30_000),
        ts: '',
      })
      for (let seq = 1; seq <= 400; seq++) {
        await a.deps.redis.spublish(
          a.deps.keys.chatTopic(ch),
          `m ${seq}\n${frame.replace('"seq":0', `"seq":${seq}`)}`,
        )
      }
      await fast.next((f) => f.type === 'chat' && f.seq === 400, { timeoutMs: 30_000 })
      await until(() => connsOf(ch).some((c) => c.closed))
      raw.resume()
      expect(await slow.closed).toEqual({ code: CloseCode.TOO_SLOW, reason: 'too slow' })
      expect(slow.chats().length).toBeLessThan(400)
      expect(fast.chats()).toHaveLength(400)
    })
  })
})

describe('heartbeats', () => {
  it('terminates a socket that stopped answering pings and removes its presence', async () => {
    const ch = (await createUser(a.deps)).username
    await withSockets(async (track) => {
      const healthy = track(await TestSocket.join(a.url(ch)))
      const zombie = new WebSocket(a.url(ch), { origin: 'http://localhost:8080', autoPong: false })
      await new Promise((r) => zombie.once('message', r)) // welcome
      const closed = new Promise<number>((r) => zombie.once('close', r))
      expect(await a.deps.redis.zcard(a.deps.keys.presence(ch))).toBe(2)

      a.deps.chat.hub.heartbeat() // marks both unanswered and pings them
      await until(() => connsOf(ch).filter((c) => c.alive).length === 1) // the healthy one ponged
      a.deps.chat.hub.heartbeat() // the one that did not answer is dead
      expect(await closed).toBe(1006)
      await until(() => connsOf(ch).length === 1)
      expect(await healthy.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      await until(async () => (await a.deps.redis.zcard(a.deps.keys.presence(ch))) === 1)
    })
  })
})

describe('losing the Redis subscription', () => {
  it('asks every socket to reconnect and resume (4000), since pub/sub may have dropped messages meanwhile', async () => {
    const own = await startInstances(1)
    const inst = own.instances[0]!
    try {
      const ch = (await createUser(inst.deps)).username
      const s = await TestSocket.join(inst.url(ch))
      inst.deps.redisSub.disconnect(true)
      expect((await s.closed).code).toBe(CloseCode.RESYNC)
      // After the subscriber is back, new sockets work as before.
      await withSockets(async (track) => {
        const again = track(await TestSocket.join(inst.url(ch)))
        expect(again.welcome.type).toBe('welcome')
      })
    } finally {
      await own.close()
    }
  })
})

describe('room state after a resubscription', () => {
  it('reloads what it missed while deaf: a stream that went live meanwhile shows live to the next socket', async () => {
    const own = await startInstances(1)
    const inst = own.instances[0]!
    try {
      const owner = await createUser(inst.deps)
      const ch = owner.username
      const s = await TestSocket.join(inst.url(ch))
      expect(s.welcome).toMatchObject({ live: false })
      // Deaf: the subscriber is down while the stream goes live (its online event is missed).
      inst.deps.redisSub.disconnect(false)
      const [channel] = await inst.deps.db.select().from(channels).where(eq(channels.name, ch))
      await inst.deps.live.publish({
        channel: ch,
        channelId: channel!.id,
        userId: owner.id,
        keyId: 'k-resub',
        node: 'n1',
        clientId: '1',
        maxSessionS: 3600,
      })
      await inst.deps.redisSub.connect()
      expect((await s.closed).code).toBe(CloseCode.RESYNC)
      // The room outlived its sockets (linger) with a cache from before: it must have reloaded it.
      await withSockets(async (track) => {
        const again = track(await TestSocket.join(inst.url(ch)))
        expect(again.welcome).toMatchObject({ live: true, status: 'live' })
      })
    } finally {
      await own.close()
    }
  })
})

describe('shutdown', () => {
  it('closes sockets with "going away" and removes this instance\'s presence entries', async () => {
    const own = await startInstances(1)
    const inst = own.instances[0]!
    const ch = (await createUser(inst.deps)).username
    const sockets = [await TestSocket.join(inst.url(ch)), await TestSocket.join(inst.url(ch))]
    // The instance's own Redis client closes with it: look from outside, with its key prefix.
    const key = createKeys(own.config.REDIS_PREFIX).presence(ch)
    expect(await a.deps.redis.zcard(key)).toBe(2)
    await inst.shutdown()
    for (const s of sockets)
      expect(await s.closed).toEqual({ code: CloseCode.GOING_AWAY, reason: 'going away' })
    expect(await a.deps.redis.zcard(key)).toBe(0)
  })
})
