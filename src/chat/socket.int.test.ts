import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatter, type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { createUser } from '../../test/factories.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { chatMessages } from '../db/schema/index.js'
import { CloseCode } from './protocol.js'

let env: Awaited<ReturnType<typeof startInstances>>
let strictEnv: Awaited<ReturnType<typeof startInstances>>
let a: Instance
/** Same stack with the default flood budget (20 frames burst, 5/s). */
let strict: Instance

beforeAll(async () => {
  env = await startInstances(1, {
    env: { CHAT_FLOOD_BURST: '10000', CHAT_FLOOD_FRAMES_PER_S: '10000', CHAT_RATE_LIMIT: '100' },
  })
  strictEnv = await startInstances(1, { env: { CHAT_FLOOD_BURST: '20', CHAT_FLOOD_FRAMES_PER_S: '5' } })
  a = env.instances[0]!
  strict = strictEnv.instances[0]!
})
afterAll(() => Promise.all([env.close(), strictEnv.close()]))

async function channel() {
  const owner = await createUser(a.deps)
  return owner.username
}

describe('handshake', () => {
  it('refuses an Origin outside ALLOWED_ORIGINS with 403, accepts the allowed one and none', async () => {
    const ch = await channel()
    await expect(TestSocket.open(a.url(ch), { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
    await withSockets(async (track) => {
      track(await TestSocket.join(a.url(ch)))
      track(await TestSocket.join(a.url(ch), { origin: null }))
    })
  })

  it('answers 404 for an unknown channel and 400 for a plain GET', async () => {
    await expect(TestSocket.open(a.url('nosuchchannel_zz'))).rejects.toThrow('HTTP 404')
    const res = await fetch(`${a.http}/ws/channels/${await channel()}`)
    expect(res.status).toBe(400)
  })

  it('accepts a ticket once; a reused, forged or missing-user ticket is refused with 401', async () => {
    const ch = await channel()
    const u = await chatter(a.deps, a.http)
    const ticket = await u.ticket()
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(ch), { ticket }))
      expect(s.welcome.you).toMatchObject({ username: u.user.username, role: 'user' })
      await expect(TestSocket.open(a.url(ch), { ticket })).rejects.toThrow('HTTP 401')
      await expect(TestSocket.open(a.url(ch), { ticket: 'x'.repeat(43) })).rejects.toThrow('HTTP 401')
    })
  })

  it('does not issue tickets without a bearer token', async () => {
    const res = await fetch(`${a.http}/api/v1/chat/tickets`, { method: 'POST' })
    expect(res.status).toBe(401)
  })
})

describe('welcome, history and sending', () => {
  it('welcome carries the last 50 messages in order and the current seq; messages are stored in Postgres', async () => {
    const ch = await channel()
    const u = await chatter(a.deps, a.http)
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      expect(sender.welcome).toMatchObject({ type: 'welcome', channel: ch, history: [], seq: 0, live: false })
      for (let i = 1; i <= 55; i++) {
        const ack = await sender.request({ type: 'chat.send', text: `message ${i}` })
        expect(ack).toMatchObject({ type: 'ack', seq: i })
      }
      const viewer = track(await TestSocket.join(a.url(ch)))
      const w = viewer.welcome
      expect(w.seq).toBe(55)
      expect(w.history).toHaveLength(50)
      expect(w.history.map((m: { seq: number }) => m.seq)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 6),
      )
      expect(w.history[49]).toMatchObject({
        type: 'chat',
        text: 'message 55',
        user: { username: u.user.username, role: 'user' },
      })
      expect(w.you).toBeNull()
      // The durable copy follows from chat:persist (chat/store.ts), a moment after the ack.
      const stored = await waitFor(async () => {
        const rows = await a.deps.db.select().from(chatMessages).where(eq(chatMessages.text, 'message 55'))
        return rows.length > 0 ? rows : null
      })
      expect(stored).toHaveLength(1)
      expect(stored[0]!.seq).toBe(55)
    })
  })

  it('delivers a message to every socket of the channel exactly once, with id, seq and ts', async () => {
    const ch = await channel()
    const u = await chatter(a.deps, a.http)
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      const viewers = [track(await TestSocket.join(a.url(ch))), track(await TestSocket.join(a.url(ch)))]
      const ack = await sender.request({ type: 'chat.send', text: '  hello\tworld  ' })
      for (const v of [...viewers, sender]) {
        const msg = await v.next((f) => f.type === 'chat')
        expect(msg).toEqual({
          type: 'chat',
          id: ack.id,
          seq: ack.seq,
          user: { username: u.user.username, role: 'user' },
          text: 'hello world',
          ts: expect.any(String),
        })
      }
      await sender.request({ type: 'ping' })
      for (const v of viewers) expect(v.chats()).toHaveLength(1)
    })
  })

  it('refuses sending from an anonymous socket with UNAUTHORIZED and keeps the socket open', async () => {
    const ch = await channel()
    await withSockets(async (track) => {
      const anon = track(await TestSocket.join(a.url(ch)))
      const reply = await anon.request({ type: 'chat.send', text: 'hi' })
      expect(reply).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' })
      expect(await anon.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    })
  })

  it('answers bad frames with error frames, not a dropped connection', async () => {
    const ch = await channel()
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(ch)))
      s.send('not json')
      expect(await s.next((f) => f.type === 'error')).toMatchObject({ code: 'BAD_FRAME' })
      expect(await s.request({ type: 'chat.send', text: '' })).toMatchObject({
        type: 'error',
        code: 'VALIDATION',
      })
      expect(await s.request({ type: 'chat.send', text: 'x'.repeat(501) })).toMatchObject({
        type: 'error',
        code: 'VALIDATION',
      })
      expect(await s.request({ type: 'nope' })).toMatchObject({ type: 'error', code: 'BAD_FRAME' })
      s.ws.send(Buffer.from([1, 2, 3]), { binary: true })
      expect(await s.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      expect(s.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual([
        'BAD_FRAME',
        'VALIDATION',
        'VALIDATION',
        'BAD_FRAME',
        'BAD_FRAME',
      ])
    })
  })
})

describe('abuse', () => {
  it('keeps a socket that stays within the flood budget', async () => {
    const owner = await createUser(strict.deps)
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(strict.url(owner.username)))
      for (let i = 0; i < 15; i++) s.send({ type: 'ping', ref: i })
      await s.next((f) => f.type === 'pong' && f.ref === 14)
      expect(s.frames.filter((f) => f.type === 'pong')).toHaveLength(15)
    })
  })

  it('closes a socket that sends a frame over CHAT_MAX_FRAME_BYTES with 4513', async () => {
    const ch = await channel()
    const s = await TestSocket.join(a.url(ch))
    s.send({ type: 'ping', pad: 'x'.repeat(10_000) })
    expect((await s.closed).code).toBe(CloseCode.FRAME_TOO_LARGE)
  })

  it('closes a socket that sends a frame over 64 KiB at the protocol level (1009)', async () => {
    const ch = await channel()
    const s = await TestSocket.join(a.url(ch))
    s.send({ type: 'ping', pad: 'x'.repeat(70_000) })
    expect((await s.closed).code).toBe(1009)
  })

  it('closes a flooding socket with 4529', async () => {
    const owner = await createUser(strict.deps)
    const s = await TestSocket.join(strict.url(owner.username))
    for (let i = 0; i < 200; i++) s.send({ type: 'ping' })
    expect((await s.closed).code).toBe(CloseCode.FLOOD)
  })
})
