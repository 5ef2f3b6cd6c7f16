import { randomUUID } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatter, type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { manualClock } from '../../test/harness.js'
import { auditEvents, channels, chatMessages } from '../db/schema/index.js'

const clock = manualClock()
let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance

beforeAll(async () => {
  // Default chat limits (20 per 30 s, 100 for moderators); the clock only moves when a test moves it.
  env = await startInstances(1, {
    env: { CHAT_FLOOD_BURST: '100000', CHAT_FLOOD_FRAMES_PER_S: '1' },
    now: clock.now,
  })
  a = env.instances[0]!
})
afterAll(() => env.close())

type Chatter = Awaited<ReturnType<typeof chatter>>

/** A channel with its owner, a moderator, two plain users and an anonymous viewer, all connected. */
async function room(track: <S extends TestSocket>(s: S) => S) {
  const owner = await chatter(a.deps, a.http)
  const ch = owner.user.username
  const mod = await chatter(a.deps, a.http)
  const res = await fetch(`${a.http}/api/v1/channels/${ch}/moderators/${mod.user.username}`, {
    method: 'PUT',
    headers: owner.auth,
  })
  expect(res.status).toBe(204)
  const alice = await chatter(a.deps, a.http)
  const bob = await chatter(a.deps, a.http)
  const join = async (c: Chatter) => track(await TestSocket.join(a.url(ch), { ticket: await c.ticket() }))
  return {
    ch,
    owner: { ...owner, ws: await join(owner) },
    mod: { ...mod, ws: await join(mod) },
    alice: { ...alice, ws: await join(alice) },
    bob: { ...bob, ws: await join(bob) },
    viewer: track(await TestSocket.join(a.url(ch))),
  }
}

async function audit(type: string, channel: string) {
  const rows = await a.deps.db.select().from(auditEvents).where(eq(auditEvents.type, type))
  return rows.filter((r) => r.data.channel === channel)
}

const say = (s: TestSocket, text: string) => s.request({ type: 'chat.send', text })

describe('moderators', () => {
  it('the owner names moderators over HTTP; only owners can, and the moderator sees its new role', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      expect(r.mod.ws.welcome.you).toMatchObject({ role: 'moderator' })
      expect(r.owner.ws.welcome.you).toMatchObject({ role: 'owner' })
      const list = await fetch(`${a.http}/api/v1/channels/${r.ch}/moderators`, { headers: r.owner.auth })
      expect(await list.json()).toEqual([{ username: r.mod.user.username, since: expect.any(String) }])
      const byMod = await fetch(`${a.http}/api/v1/channels/${r.ch}/moderators/${r.alice.user.username}`, {
        method: 'PUT',
        headers: r.mod.auth,
      })
      expect(byMod.status).toBe(403)

      // Promotion reaches an already connected socket.
      await fetch(`${a.http}/api/v1/channels/${r.ch}/moderators/${r.alice.user.username}`, {
        method: 'PUT',
        headers: r.owner.auth,
      })
      await r.alice.ws.next((f) => f.type === 'you' && f.role === 'moderator')
      await fetch(`${a.http}/api/v1/channels/${r.ch}/moderators/${r.alice.user.username}`, {
        method: 'DELETE',
        headers: r.owner.auth,
      })
      await r.alice.ws.next((f) => f.type === 'you' && f.role === 'user')
      expect(await audit('chat.moderator.added', r.ch)).toHaveLength(2)
      expect(await audit('chat.moderator.removed', r.ch)).toHaveLength(1)
    })
  })
})

describe('moderation actions, seen from the receiving side', () => {
  it('delete: every socket gets chat.deleted, and the message is gone from history', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      const sent = await say(r.alice.ws, 'delete me')
      expect(await r.bob.ws.request({ type: 'chat.delete', id: sent.id })).toMatchObject({
        type: 'error',
        code: 'FORBIDDEN',
      })
      expect(await r.mod.ws.request({ type: 'chat.delete', id: sent.id })).toMatchObject({ type: 'ack' })
      for (const s of [r.viewer, r.alice.ws, r.bob.ws])
        expect(await s.next((f) => f.type === 'chat.deleted')).toEqual({ type: 'chat.deleted', id: sent.id })
      const late = track(await TestSocket.join(a.url(r.ch)))
      expect(late.welcome.history.map((f: { id: string }) => f.id)).not.toContain(sent.id)
      expect(await late.request({ type: 'resume', afterSeq: 0 })).toMatchObject({ messages: [] })
      expect(await audit('chat.message.deleted', r.ch)).toMatchObject([
        { actorId: r.mod.user.id, userId: r.alice.user.id },
      ])
    })
  })

  it('delete sticks for a message chat-store has not written to Postgres yet', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      const [channel] = await a.deps.db.select().from(channels).where(eq(channels.name, r.ch))
      // Delivered and in the Redis history, its Postgres copy still on its way (chat:persist).
      const seq = 1 + Number((await a.deps.redis.hget(a.deps.keys.chatSeq(r.ch), 'seq')) ?? 0)
      const frame = {
        type: 'chat',
        id: randomUUID(),
        seq,
        user: { username: r.alice.user.username, role: 'user' },
        text: 'not stored yet',
        ts: new Date(clock.now()).toISOString(),
      }
      await a.deps.redis.hset(a.deps.keys.chatSeq(r.ch), 'seq', seq)
      await a.deps.redis.xadd(a.deps.keys.chatHistory(r.ch), `${seq}-0`, 'f', JSON.stringify(frame))
      expect(await r.mod.ws.request({ type: 'chat.delete', id: frame.id })).toMatchObject({ type: 'ack' })
      // chat-store's insert arriving afterwards changes nothing: the line stays deleted.
      await a.deps.db
        .insert(chatMessages)
        .values({
          id: frame.id,
          channelId: channel!.id,
          seq,
          userId: r.alice.user.id,
          role: 'user',
          text: frame.text,
          createdAt: new Date(frame.ts),
        })
        .onConflictDoNothing()
      const [row] = await a.deps.db.select().from(chatMessages).where(eq(chatMessages.id, frame.id))
      expect(row!.deletedAt).not.toBeNull()
    })
  })

  it('timeout: everyone sees user.timedout, the user gets TIMED_OUT with a retry hint until it ends', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      expect(
        await r.mod.ws.request({ type: 'mod.timeout', username: r.alice.user.username, seconds: 60 }),
      ).toMatchObject({ type: 'ack' })
      expect(await r.viewer.next((f) => f.type === 'user.timedout')).toMatchObject({
        username: r.alice.user.username,
        seconds: 60,
        until: expect.any(String),
      })
      expect(await r.alice.ws.next((f) => f.type === 'error')).toMatchObject({
        code: 'TIMED_OUT',
        retryAfterMs: 60_000,
      })
      expect(await say(r.alice.ws, 'let me talk')).toMatchObject({
        type: 'error',
        code: 'TIMED_OUT',
        retryAfterMs: 60_000,
      })
      clock.advance(30_000)
      expect(await say(r.alice.ws, 'please')).toMatchObject({ code: 'TIMED_OUT', retryAfterMs: 30_000 })
      clock.advance(30_001)
      expect(await say(r.alice.ws, 'thanks')).toMatchObject({ type: 'ack' })
      expect(await audit('chat.timeout', r.ch)).toMatchObject([
        { actorId: r.mod.user.id, userId: r.alice.user.id, data: { seconds: 60 } },
      ])
    })
  })

  it('ban and unban: everyone is told, the banned user gets BANNED — also on a new socket — until unbanned', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      await r.owner.ws.request({ type: 'mod.ban', username: r.bob.user.username, reason: 'spam' })
      expect(await r.viewer.next((f) => f.type === 'user.banned')).toEqual({
        type: 'user.banned',
        username: r.bob.user.username,
      })
      expect(await r.bob.ws.next((f) => f.type === 'error')).toMatchObject({ code: 'BANNED' })
      expect(await say(r.bob.ws, 'hello?')).toMatchObject({ code: 'BANNED' })
      const again = track(await TestSocket.join(a.url(r.ch), { ticket: await r.bob.ticket() }))
      expect(again.welcome.you).toMatchObject({ bannedUntil: 'forever' })
      expect(await say(again, 'hello?')).toMatchObject({ code: 'BANNED' })
      const bans = await fetch(`${a.http}/api/v1/channels/${r.ch}/bans`, { headers: r.mod.auth })
      expect(await bans.json()).toMatchObject([
        { username: r.bob.user.username, until: null, reason: 'spam' },
      ])

      await r.mod.ws.request({ type: 'mod.unban', username: r.bob.user.username })
      expect(await r.viewer.next((f) => f.type === 'user.unbanned')).toEqual({
        type: 'user.unbanned',
        username: r.bob.user.username,
      })
      await again.next((f) => f.type === 'you' && f.bannedUntil === null)
      expect(await say(again, 'back')).toMatchObject({ type: 'ack' })
      expect(await audit('chat.ban', r.ch)).toHaveLength(1)
      expect(await audit('chat.unban', r.ch)).toHaveLength(1)
    })
  })

  it('moderators cannot act on the owner or on each other; users cannot moderate at all', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      expect(await r.mod.ws.request({ type: 'mod.ban', username: r.owner.user.username })).toMatchObject({
        code: 'FORBIDDEN',
      })
      expect(
        await r.alice.ws.request({ type: 'mod.timeout', username: r.bob.user.username, seconds: 5 }),
      ).toMatchObject({ code: 'FORBIDDEN' })
      expect(await r.viewer.request({ type: 'mod.clear' })).toMatchObject({ code: 'UNAUTHORIZED' })
      expect(await r.mod.ws.request({ type: 'mod.ban', username: 'nobody_here_1' })).toMatchObject({
        code: 'NOT_FOUND',
      })
      await fetch(`${a.http}/api/v1/channels/${r.ch}/moderators/${r.alice.user.username}`, {
        method: 'PUT',
        headers: r.owner.auth,
      })
      await r.alice.ws.next((f) => f.type === 'you' && f.role === 'moderator')
      expect(await r.mod.ws.request({ type: 'mod.ban', username: r.alice.user.username })).toMatchObject({
        code: 'FORBIDDEN',
      })
      expect(
        await r.owner.ws.request({ type: 'mod.timeout', username: r.alice.user.username, seconds: 1 }),
      ).toMatchObject({ type: 'ack' })
    })
  })

  it('clear: everyone gets chat.cleared and history starts over', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      await say(r.alice.ws, 'one')
      await say(r.bob.ws, 'two')
      await r.mod.ws.request({ type: 'mod.clear' })
      for (const s of [r.viewer, r.alice.ws]) await s.next((f) => f.type === 'chat.cleared')
      const late = track(await TestSocket.join(a.url(r.ch)))
      expect(late.welcome.history).toEqual([])
      expect(late.welcome.seq).toBe(2)
      expect(await late.request({ type: 'resume', afterSeq: 0 })).toMatchObject({ messages: [] })
      expect(await audit('chat.clear', r.ch)).toHaveLength(1)
    })
  })
})

describe('chat rules', () => {
  it('slow mode: non-moderators wait between messages, with a retry hint; moderators are exempt', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      await r.mod.ws.request({ type: 'mod.settings', slowModeSeconds: 30 })
      expect(await r.viewer.next((f) => f.type === 'chat.settings')).toMatchObject({ slowModeSeconds: 30 })
      await r.alice.ws.next((f) => f.type === 'chat.settings')
      expect(await say(r.alice.ws, 'first')).toMatchObject({ type: 'ack' })
      expect(await say(r.alice.ws, 'second')).toMatchObject({ code: 'SLOW_MODE', retryAfterMs: 30_000 })
      expect(await say(r.mod.ws, 'mod 1')).toMatchObject({ type: 'ack' })
      expect(await say(r.mod.ws, 'mod 2')).toMatchObject({ type: 'ack' })
      clock.advance(30_000)
      expect(await say(r.alice.ws, 'second')).toMatchObject({ type: 'ack' })
      expect(await audit('chat.settings', r.ch)).toMatchObject([{ data: { slowModeSeconds: 30 } }])
    })
  })

  it('followers-only: non-followers are refused; followers after the minimum follow age may chat', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      await r.owner.ws.request({ type: 'mod.settings', followersOnlyMinutes: 10 })
      await r.alice.ws.next((f) => f.type === 'chat.settings' && f.followersOnlyMinutes === 10)
      expect(await say(r.alice.ws, 'hi')).toMatchObject({ code: 'FOLLOWERS_ONLY' })
      const follow = await fetch(`${a.http}/api/v1/channels/${r.ch}/follow`, {
        method: 'POST',
        headers: r.alice.auth,
      })
      expect(await follow.json()).toMatchObject({ following: true, since: expect.any(String) })
      await r.alice.ws.next((f) => f.type === 'you' && f.followingSince !== null)
      expect(await say(r.alice.ws, 'hi')).toMatchObject({ code: 'FOLLOWERS_ONLY', retryAfterMs: 600_000 })
      clock.advance(600_000)
      expect(await say(r.alice.ws, 'hi')).toMatchObject({ type: 'ack' })
      expect(await say(r.mod.ws, 'mods need no follow')).toMatchObject({ type: 'ack' })
      // Ten minutes passed on the injected clock: the access token from the start of the test has expired.
      const { token } = await a.deps.tokens.signAccess(r.alice.user, r.alice.sid)
      const unfollow = await fetch(`${a.http}/api/v1/channels/${r.ch}/follow`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(unfollow.status).toBe(204)
      await r.alice.ws.next((f) => f.type === 'you' && f.followingSince === null)
      clock.advance(60_000)
      expect(await say(r.alice.ws, 'still here')).toMatchObject({ code: 'FOLLOWERS_ONLY' })
      const own = await a.deps.tokens.signAccess(r.owner.user, r.owner.sid)
      const self = await fetch(`${a.http}/api/v1/channels/${r.ch}/follow`, {
        method: 'POST',
        headers: { authorization: `Bearer ${own.token}` },
      })
      expect(self.status).toBe(400)
    })
  })

  it('emote-only, message length and blocked terms (set over HTTP) refuse with their own codes', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      const patch = await fetch(`${a.http}/api/v1/channels/${r.ch}/chat`, {
        method: 'PATCH',
        headers: { ...r.mod.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ emoteOnly: true, maxMessageLength: 20, blockedTerms: ['Spoiler'] }),
      })
      expect(await patch.json()).toMatchObject({
        emoteOnly: true,
        maxMessageLength: 20,
        blockedTerms: ['spoiler'],
      })
      const settings = await r.alice.ws.next((f) => f.type === 'chat.settings')
      expect(settings).not.toHaveProperty('blockedTerms') // the list is for moderators only
      expect(await say(r.alice.ws, 'words')).toMatchObject({ code: 'EMOTE_ONLY' })
      expect(await say(r.alice.ws, ':kappa: 😀')).toMatchObject({ type: 'ack' })
      expect(await say(r.alice.ws, ':kappa: '.repeat(4))).toMatchObject({ code: 'MESSAGE_TOO_LONG' })
      await r.mod.ws.request({ type: 'mod.settings', emoteOnly: false })
      await r.alice.ws.next((f) => f.type === 'chat.settings' && f.emoteOnly === false)
      expect(await say(r.alice.ws, 'a SPOILER here')).toMatchObject({ code: 'BLOCKED_TERM' })
      expect(await say(r.mod.ws, 'a spoiler here')).toMatchObject({ type: 'ack' })
      expect((await fetch(`${a.http}/api/v1/channels/${r.ch}/chat`, { headers: r.alice.auth })).status).toBe(
        403,
      )
      expect(
        await (await fetch(`${a.http}/api/v1/channels/${r.ch}/chat`, { headers: r.owner.auth })).json(),
      ).toMatchObject({ blockedTerms: ['spoiler'] })
    })
  })
})

describe('rate limits', () => {
  it('20 messages per 30 s per user (100 for moderators), then RATE_LIMITED with a retry hint', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      for (let i = 0; i < 20; i++) {
        expect(await say(r.alice.ws, `msg ${i}`)).toMatchObject({ type: 'ack' })
        clock.advance(100)
      }
      expect(await say(r.alice.ws, 'one too many')).toMatchObject({
        type: 'error',
        code: 'RATE_LIMITED',
        retryAfterMs: 30_000 - 2000,
      })
      for (let i = 0; i < 21; i++) expect(await say(r.mod.ws, `mod ${i}`)).toMatchObject({ type: 'ack' })
      clock.advance(30_000)
      expect(await say(r.alice.ws, 'again')).toMatchObject({ type: 'ack' })
    })
  })

  it('suppresses the same message twice in a row', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      expect(await say(r.bob.ws, 'same old')).toMatchObject({ type: 'ack' })
      expect(await say(r.bob.ws, 'Same  old')).toMatchObject({ code: 'DUPLICATE' })
      expect(await say(r.bob.ws, 'something new')).toMatchObject({ type: 'ack' })
      const got = await r.viewer.next((f) => f.type === 'chat' && f.text === 'something new')
      expect(got).toBeDefined()
      expect(r.viewer.chats().filter((f) => f.text.toLowerCase().startsWith('same'))).toHaveLength(1)
    })
  })
})

describe('audit trail', () => {
  it('writes one audit row per moderation action with actor, target and channel', async () => {
    await withSockets(async (track) => {
      const r = await room(track)
      await r.mod.ws.request({ type: 'mod.timeout', username: r.bob.user.username, seconds: 1 })
      const rows = await a.deps.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.actorId, r.mod.user.id), eq(auditEvents.type, 'chat.timeout')))
      expect(rows).toMatchObject([{ userId: r.bob.user.id, data: { channel: r.ch, seconds: 1 } }])
    })
  })
})
