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
import { createUser, streamKeyFor } from '../../test/factories.js'
import { startStack } from '../../test/support/stack.js'
import { streamSessions } from '../db/schema/index.js'

let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance
let b: Instance

beforeAll(async () => {
  env = await startInstances(2, { env: { VIEWERS_PUSH_INTERVAL_MS: '100' } })
  ;[a, b] = env.instances as [Instance, Instance]
})
afterAll(() => env.close())

const counted = (n: number) => (f: Frame) => f.type === 'viewers' && f.count === n

async function channelViewers(inst: { http: string }, ch: string) {
  return ((await (await fetch(`${inst.http}/api/v1/channels/${ch}`)).json()) as { viewers: number }).viewers
}

describe('viewer counts', () => {
  it('counts one entry per socket across instances, pushes changes to every socket, and feeds the channel API', async () => {
    const ch = (await createUser(a.deps)).username
    await withSockets(async (track) => {
      const onA = [track(await TestSocket.join(a.url(ch))), track(await TestSocket.join(a.url(ch)))]
      const onB = [
        track(await TestSocket.join(b.url(ch))),
        track(await TestSocket.join(b.url(ch))),
        track(await TestSocket.join(b.url(ch))),
      ]
      const seen5 = (s: TestSocket) => s.welcome.viewers === 5 || s.next(counted(5))
      for (const s of [...onA, ...onB]) await seen5(s)
      expect(await channelViewers(a, ch)).toBe(5)
      expect(await channelViewers(b, ch)).toBe(5)
      onB[2]!.close()
      await onB[2]!.closed
      for (const s of [...onA, onB[0]!, onB[1]!]) await s.next(counted(4))
      expect(await channelViewers(a, ch)).toBe(4)
    })
  })

  it('pushes a count only to sockets that have not seen it (the welcome carries one)', async () => {
    const ch = (await createUser(a.deps)).username
    await withSockets(async (track) => {
      const first = track(await TestSocket.join(a.url(ch)))
      expect(first.welcome.viewers).toBe(1)
      const second = track(await TestSocket.join(a.url(ch)))
      expect(second.welcome.viewers).toBe(2)
      await first.next(counted(2))
      for (let i = 0; i < 3; i++) await a.deps.chat.hub.pushViewers()
      await Promise.all([first.request({ type: 'ping' }), second.request({ type: 'ping' })])
      expect(first.frames.filter((f) => f.type === 'viewers')).toEqual([{ type: 'viewers', count: 2 }])
      expect(second.frames.filter((f) => f.type === 'viewers')).toEqual([])
    })
  })

  it('records peak and unique viewers on the live session (a user in two tabs counts once)', async () => {
    const owner = await createUser(a.deps)
    const ch = owner.username
    const { key } = await streamKeyFor(a.deps, owner)
    const q = new URLSearchParams({ node: 'n1', secret: a.deps.config.HOOK_SECRET })
    const publish = await fetch(`${a.http}/hooks/rtmp/publish?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `app=live&flashver=FMLE%2F3.0&tcurl=rtmp%3A%2F%2F127.0.0.1%2Flive&addr=127.0.0.1&clientid=4242&call=publish&name=${encodeURIComponent(key)}&type=live`,
      redirect: 'manual',
    })
    expect(publish.status).toBe(302)
    const { sessionId } = (await a.deps.live.get(ch))!
    const alice = await chatter(a.deps, a.http)
    const bob = await chatter(b.deps, b.http)
    await withSockets(async (track) => {
      const sockets = [
        track(await TestSocket.join(a.url(ch), { ticket: await alice.ticket() })),
        track(await TestSocket.join(b.url(ch), { ticket: await alice.ticket() })),
        track(await TestSocket.join(b.url(ch), { ticket: await bob.ticket() })),
        track(await TestSocket.join(a.url(ch))), // anonymous viewers count by address:
        track(await TestSocket.join(b.url(ch))), // both of these are 127.0.0.1
      ]
      expect(sockets[0]!.welcome).toMatchObject({ live: true, status: 'live' })
      for (const s of sockets) if (s.welcome.viewers !== 5) await s.next(counted(5))
      await a.deps.chat.hub.pushViewers()
      await b.deps.chat.hub.pushViewers()
      sockets[4]!.close()
      await sockets[0]!.next(counted(4))
      await a.deps.chat.hub.pushViewers()
      const [row] = await a.deps.db.select().from(streamSessions).where(eq(streamSessions.id, sessionId))
      expect(row).toMatchObject({ peakViewers: 5, uniqueViewers: 3 })
    })
  })
})

describe('a crashed instance', () => {
  it('stops counting the viewers of a SIGKILLed instance once their presence expires', async () => {
    const stack = await startStack({
      instances: 2,
      childApps: true,
      env: { PRESENCE_TTL_S: '3', VIEWERS_PUSH_INTERVAL_MS: '200' },
    })
    try {
      const ch = (await createUser(stack.deps)).username
      const url = `${stack.http.replace('http', 'ws')}/ws/channels/${ch}`
      await withSockets(async (track) => {
        const sockets: TestSocket[] = []
        for (let i = 0; i < 6; i++) sockets.push(track(await TestSocket.join(url, { origin: stack.http })))
        for (const s of sockets) if (s.welcome.viewers !== 6) await s.next(counted(6))
        const members = await stack.deps.redis.zrange(stack.deps.keys.presence(ch), '0', '-1')
        const instances = [...new Set(members.map((m) => m.split('.')[0]))]
        expect(instances).toHaveLength(2)

        await stack.apps[1]!.kill('SIGKILL') // no shutdown, no presence cleanup
        await Promise.race(sockets.map((s) => s.closed))
        const survivors = []
        for (const s of sockets)
          if (
            s.ws.readyState === s.ws.OPEN &&
            (await s.request({ type: 'ping' }).then(
              () => true,
              () => false,
            ))
          )
            survivors.push(s)
        expect(survivors.length).toBeGreaterThan(0)
        expect(survivors.length).toBeLessThan(6)
        // Nobody removed the dead instance's entries: they stop counting when they expire.
        for (const s of survivors) await s.next(counted(survivors.length), { timeoutMs: 20_000 })
        const res = await fetch(`${stack.http}/api/v1/channels/${ch}`)
        expect(((await res.json()) as { viewers: number }).viewers).toBe(survivors.length)
      })
    } finally {
      await stack.stop()
    }
  })
})
