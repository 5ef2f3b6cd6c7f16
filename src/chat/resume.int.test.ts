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
import { waitFor } from '../../test/support/ffmpeg.js'
import { channels } from '../db/schema/index.js'
import { startServer } from '../server.js'
import { CloseCode } from './protocol.js'

let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance

const LIMITS = {
  CHAT_RATE_LIMIT: '10000',
  CHAT_RATE_LIMIT_MOD: '10000',
  CHAT_FLOOD_BURST: '10000',
  CHAT_FLOOD_FRAMES_PER_S: '10000',
}

beforeAll(async () => {
  // The smallest Redis history allowed, so resumes past 50 messages must come from Postgres.
  env = await startInstances(1, { env: { ...LIMITS, CHAT_REDIS_HISTORY: '50' } })
  a = env.instances[0]!
})
afterAll(() => env.close())

async function setup(inst = a) {
  const owner = await createUser(inst.deps)
  const u = await chatter(inst.deps, inst.http)
  return { ch: owner.username, u }
}

async function sendMany(sender: TestSocket, from: number, to: number) {
  const seqs: number[] = []
  for (let i = from; i <= to; i++) seqs.push((await sender.request({ type: 'chat.send', text: `m${i}` })).seq)
  return seqs
}

/** Resumes until the server says there is nothing more; returns the pages oldest first. */
async function resumeAll(s: TestSocket, afterSeq: number): Promise<Frame[]> {
  const pages: Frame[][] = []
  for (;;) {
    const page = await s.request({ type: 'resume', afterSeq })
    expect(page.type).toBe('history')
    pages.unshift(page.messages)
    if (!page.more) break
  }
  return pages.flat()
}

const seqsOf = (frames: Frame[]) => frames.map((f) => f.seq as number)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('resume', () => {
  it('gives a reconnecting client exactly what it missed, from Redis and Postgres, with no gap and no duplicate', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      let viewer = track(await TestSocket.join(a.url(ch)))
      await sendMany(sender, 1, 10)
      await viewer.next((f) => f.type === 'chat' && f.seq === 10)
      const before = viewer.chats()
      const lastSeen = before.at(-1)!.seq as number
      viewer.ws.terminate() // forced disconnect: no close handshake
      await viewer.closed

      await sendMany(sender, 11, 300) // 290 missed: 50 in Redis, the rest only in Postgres
      viewer = track(await TestSocket.join(a.url(ch)))
      const fromWelcome = viewer.welcome.history as Frame[]
      const resumed = await resumeAll(viewer, lastSeen)
      await sendMany(sender, 301, 305)
      await viewer.next((f) => f.type === 'chat' && f.seq === 305)
      const live = viewer.chats()

      const all = [...before, ...resumed, ...fromWelcome, ...live]
      expect(seqsOf(all)).toEqual(range(1, 305))
      expect(new Set(all.map((f) => f.id)).size).toBe(305)
      expect(all.map((f) => f.text)).toEqual(range(1, 305).map((i) => `m${i}`))
    })
  })

  it('answers a resume that asks for nothing new with an empty page', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      await sendMany(sender, 1, 3)
      const v = track(await TestSocket.join(a.url(ch)))
      expect(await v.request({ type: 'resume', afterSeq: 3 })).toMatchObject({
        type: 'history',
        messages: [],
        more: false,
      })
      expect(await v.request({ type: 'resume', afterSeq: 0 })).toMatchObject({
        type: 'history',
        messages: [],
        more: false,
      })
    })
  })

  it('rebuilds history and the sequence from Postgres when Redis lost them', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      await sendMany(sender, 1, 60)
      // Postgres holds them once chat-store caught up (a moment after the acks)…
      const [row] = await a.deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, ch))
      await waitFor(async () => (await a.deps.chat.history.maxStoredSeq(row!.id)) === 60, {
        what: 'all 60 messages stored in Postgres',
      })
      // …then Redis restarts without persistence.
      await a.deps.redis.del(a.deps.keys.chatHistory(ch), a.deps.keys.chatSeq(ch))
      const v = track(await TestSocket.join(a.url(ch)))
      expect(v.welcome.seq).toBe(60)
      expect(seqsOf(v.welcome.history)).toEqual(range(11, 60))
      expect(seqsOf(await resumeAll(v, 0))).toEqual(range(1, 10))
      // The sequence continues where Postgres left off: no seq is handed out twice.
      expect((await sender.request({ type: 'chat.send', text: 'after the loss' })).seq).toBe(61)
      await v.next((f) => f.type === 'chat' && f.seq === 61)
    })
  })

  it('loses no chat across an instance restart: sockets get "going away", and the next instance has it all', async () => {
    const own = await startInstances(1, { env: LIMITS })
    const first = own.instances[0]!
    const { ch, u } = await setup(first)
    const sender = await TestSocket.join(first.url(ch), { ticket: await u.ticket() })
    await sendMany(sender, 1, 20)
    await first.shutdown()
    expect((await sender.closed).code).toBe(CloseCode.GOING_AWAY)

    const second = await startServer(own.config, { port: 0 })
    try {
      await withSockets(async (track) => {
        const v = track(await TestSocket.join(`ws://127.0.0.1:${second.port}/ws/channels/${ch}`))
        expect(v.welcome.seq).toBe(20)
        expect(v.welcome.history.map((f: Frame) => f.text)).toEqual(range(1, 20).map((i) => `m${i}`))
      })
    } finally {
      await second.shutdown()
    }
  })
})

describe('what is read back from Redis', () => {
  it('skips a malformed history entry instead of failing the welcome or the resume', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const sender = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      await sendMany(sender, 1, 2)
      // Seq 3 is not a frame (another version, a partial write, a hand-typed XADD).
      await a.deps.redis.xadd(a.deps.keys.chatHistory(ch), '3-0', 'f', '{"type":"chat","seq":"x"')
      await a.deps.redis.hset(a.deps.keys.chatSeq(ch), 'seq', 3)
      expect((await sendMany(sender, 4, 4))[0]).toBe(4)
      const late = track(await TestSocket.join(a.url(ch)))
      const welcome = await late.next((f) => f.type === 'welcome')
      expect(seqsOf(welcome.history as Frame[])).toEqual([1, 2, 4])
      // Resume pages back from what the welcome covered: nothing older is missing.
      expect(seqsOf(await resumeAll(late, 0))).toEqual([])
    })
  })
})
