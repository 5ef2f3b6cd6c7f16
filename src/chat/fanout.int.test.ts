import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chatter,
  type Frame,
  type Instance,
  startInstances,
  TestSocket,
  withSockets,
} from '../../test/chat-client.js'
import { createUser } from '../../test/factories.js'
import { startStack } from '../../test/support/stack.js'
import { publishUserRevoked } from '../accounts/user-events.js'
import { users } from '../db/schema/index.js'
import type { StreamEvent } from '../live/events.js'
import { CloseCode } from './protocol.js'

let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance
let b: Instance

const LIMITS = { CHAT_RATE_LIMIT: '10000', CHAT_FLOOD_BURST: '10000', CHAT_FLOOD_FRAMES_PER_S: '10000' }

beforeAll(async () => {
  env = await startInstances(2, { env: LIMITS })
  ;[a, b] = env.instances as [Instance, Instance]
})
afterAll(() => env.close())

const seqsOf = (frames: Frame[]) => frames.map((f) => f.seq as number)

describe('fan-out across instances', () => {
  it('delivers every message to every socket on every instance exactly once, in one global order', async () => {
    const owner = await createUser(a.deps)
    const ch = owner.username
    const [ua, ub] = [await chatter(a.deps, a.http), await chatter(b.deps, b.http)]
    await withSockets(async (track) => {
      const senderA = track(await TestSocket.join(a.url(ch), { ticket: await ua.ticket() }))
      const senderB = track(await TestSocket.join(b.url(ch), { ticket: await ub.ticket() }))
      const viewers: TestSocket[] = []
      for (let i = 0; i < 4; i++) viewers.push(track(await TestSocket.join((i % 2 ? a : b).url(ch))))
      expect(a.deps.chat.hub.rooms.get(ch)?.conns.size).toBe(3)
      expect(b.deps.chat.hub.rooms.get(ch)?.conns.size).toBe(3)

      const N = 25
      const send = async (s: TestSocket, tag: string) => {
        for (let i = 0; i < N; i++) await s.request({ type: 'chat.send', text: `${tag}${i}` })
      }
      await Promise.all([send(senderA, 'a'), send(senderB, 'b')])
      const everyone = [senderA, senderB, ...viewers]
      for (const s of everyone) await s.next((f) => f.type === 'chat' && f.seq === 2 * N)
      await Promise.all(everyone.map((s) => s.request({ type: 'ping' }))) // anything late would arrive before the pong
      const reference = everyone[0]!.chats()
      expect(seqsOf(reference)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1))
      for (const s of everyone) expect(s.chats()).toEqual(reference)
      expect(reference.filter((f) => f.text.startsWith('a'))).toHaveLength(N)
    })
  })

  it('moderation on one instance reaches the target and viewers on the other', async () => {
    const owner = await chatter(a.deps, a.http)
    const ch = owner.user.username
    const target = await chatter(b.deps, b.http)
    await withSockets(async (track) => {
      const mod = track(await TestSocket.join(a.url(ch), { ticket: await owner.ticket() }))
      const victim = track(await TestSocket.join(b.url(ch), { ticket: await target.ticket() }))
      const viewer = track(await TestSocket.join(b.url(ch)))
      await mod.request({ type: 'mod.timeout', username: target.user.username, seconds: 120 })
      expect(await viewer.next((f) => f.type === 'user.timedout')).toMatchObject({
        username: target.user.username,
      })
      await victim.next((f) => f.type === 'error' && f.code === 'TIMED_OUT')
      expect(await victim.request({ type: 'chat.send', text: 'hi' })).toMatchObject({ code: 'TIMED_OUT' })
    })
  })

  it('forwards stream online / reconnecting / offline to sockets on every instance', async () => {
    const owner = await createUser(a.deps)
    const ch = owner.username
    await withSockets(async (track) => {
      const sockets = [track(await TestSocket.join(a.url(ch))), track(await TestSocket.join(b.url(ch)))]
      const startedAt = Date.parse('2026-01-01T00:00:00.000Z')
      const base = {
        channel: ch,
        sessionId: '00000000-0000-4000-8000-000000000001',
        channelId: '00000000-0000-4000-8000-000000000002',
        userId: owner.id,
        keyId: 'k1',
        node: 'n1',
        clientId: '7',
        startedAt,
        reconnects: 0,
        at: startedAt,
      }
      const emit = (e: StreamEvent | string) =>
        a.deps.redis.spublish(a.deps.keys.channelEvents(ch), typeof e === 'string' ? e : JSON.stringify(e))
      await emit({ type: 'stream.online', ...base })
      // Whatever else lands on the topic (another version, a hand-typed PUBLISH) is skipped, not thrown.
      await emit('{not json')
      await emit(JSON.stringify({ type: 'stream.offline', channel: ch }))
      await emit({ type: 'stream.reconnecting', ...base })
      await emit({
        type: 'stream.offline',
        ...base,
        reason: 'publisher_left',
        endedAt: startedAt + 3600_000,
        wasLive: false,
      })
      for (const s of sockets) {
        await s.next((f) => f.type === 'stream.offline')
        expect(s.frames.filter((f) => f.type.startsWith('stream.'))).toEqual([
          { type: 'stream.online', startedAt: '2026-01-01T00:00:00.000Z', resumed: false },
          { type: 'stream.reconnecting' },
          { type: 'stream.offline', reason: 'publisher_left' },
        ])
      }
    })
  })
})

describe('session revocation closes sockets everywhere', () => {
  it('logout closes that session’s sockets on both instances with 4501 and leaves other sessions alone', async () => {
    const ch = (await createUser(a.deps)).username
    const u = await chatter(a.deps, a.http)
    const other = await chatter(a.deps, a.http)
    await withSockets(async (track) => {
      const onA = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      const onB = track(await TestSocket.join(b.url(ch), { ticket: await u.ticket() }))
      const bystander = track(await TestSocket.join(b.url(ch), { ticket: await other.ticket() }))
      const res = await fetch(`${b.http}/api/v1/auth/logout`, { method: 'POST', headers: u.auth })
      expect(res.status).toBe(204)
      expect(await onA.closed).toMatchObject({ code: CloseCode.SESSION_ENDED })
      expect(await onB.closed).toMatchObject({ code: CloseCode.SESSION_ENDED })
      expect(await bystander.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    })
  })

  it('a disabled account (revocation without a session id) loses every socket, and cannot come back', async () => {
    const ch = (await createUser(a.deps)).username
    const u = await chatter(a.deps, a.http)
    await withSockets(async (track) => {
      const s1 = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      const s2 = track(await TestSocket.join(b.url(ch), { ticket: await u.ticket() }))
      const ticket = await u.ticket()
      await a.deps.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, u.user.id))
      await publishUserRevoked(a.deps.redis, a.deps.keys, { userId: u.user.id, reason: 'disabled' })
      expect((await s1.closed).code).toBe(CloseCode.SESSION_ENDED)
      expect((await s2.closed).code).toBe(CloseCode.SESSION_ENDED)
      await expect(TestSocket.open(a.url(ch), { ticket })).rejects.toThrow('HTTP 401')
    })
  })
})

describe('through nginx', () => {
  it('spreads sockets over two instances behind one nginx, and each message reaches each socket once', async () => {
    const stack = await startStack({ instances: 2, env: LIMITS })
    try {
      const owner = await createUser(stack.deps)
      const ch = owner.username
      const u = await chatter(stack.deps, stack.http)
      const url = `${stack.http.replace('http', 'ws')}/ws/channels/${ch}`
      await withSockets(async (track) => {
        const sockets: TestSocket[] = []
        for (let i = 0; i < 6; i++) sockets.push(track(await TestSocket.join(url, { origin: stack.http })))
        const sender = track(await TestSocket.join(url, { origin: stack.http, ticket: await u.ticket() }))
        // Connection ids start with their instance's id: both instances hold sockets.
        const members = await stack.deps.redis.zrange(stack.deps.keys.presence(ch), '0', '-1')
        expect(new Set(members.map((m) => m.split('.')[0])).size).toBe(2)
        await expect(TestSocket.open(url, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')

        for (let i = 1; i <= 10; i++) await sender.request({ type: 'chat.send', text: `via nginx ${i}` })
        for (const s of [...sockets, sender]) {
          await s.next((f) => f.type === 'chat' && f.seq === 10)
          await s.request({ type: 'ping' })
          expect(seqsOf(s.chats())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        }
      })
    } finally {
      await stack.stop()
    }
  })
})
