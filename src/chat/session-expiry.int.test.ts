/** Sockets die with their login session however it ends: idle, absolute expiry, or a lost revocation. */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatter, type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { createUser } from '../../test/factories.js'
import { manualClock } from '../../test/harness.js'
import { SESSION_IDLE_MS, SESSION_TTL_MS } from '../accounts/sessions.js'
import { createApiToken, revokeApiToken } from '../api-tokens/service.js'
import { authSessions } from '../db/schema/index.js'
import { CloseCode } from './protocol.js'

const clock = manualClock()
let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance

beforeAll(async () => {
  env = await startInstances(1, { now: clock.now })
  a = env.instances[0]!
})
afterAll(() => env.close())

const HOUR = 3600_000

async function setup() {
  const ch = (await createUser(a.deps)).username
  return { ch, u: await chatter(a.deps, a.http), other: await chatter(a.deps, a.http) }
}

/** Exchanges the refresh token over HTTP, as a client keeping its session busy would. */
async function refreshed(token: string): Promise<string> {
  const res = await fetch(`${a.http}/api/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: token }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { refreshToken: string }).refreshToken
}

describe('the hub closes sockets whose login session ran out', () => {
  it('after the idle timeout, with 4501, leaving other sessions open', async () => {
    const { ch, u, other } = await setup()
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      const viewer = track(await TestSocket.join(a.url(ch)))
      const bystander = track(await TestSocket.join(a.url(ch), { ticket: await other.ticket() }))
      clock.advance(SESSION_IDLE_MS - HOUR)
      // `other` stays active; `u` does not.
      await refreshed(other.refreshToken)
      expect(await a.deps.chat.hub.checkSessions()).toBe(0)
      clock.advance(HOUR)
      expect(await a.deps.chat.hub.checkSessions()).toBe(1)
      expect(await s.closed).toMatchObject({ code: CloseCode.SESSION_ENDED })
      expect(await bystander.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      expect(await viewer.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    })
  })

  it('at the absolute end of the session, however active it was', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      let token = u.refreshToken
      for (let h = 1; h < SESSION_TTL_MS / HOUR; h++) {
        clock.advance(HOUR)
        token = await refreshed(token)
        expect(await a.deps.chat.hub.checkSessions()).toBe(0)
      }
      expect(await s.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      clock.advance(HOUR)
      expect(await a.deps.chat.hub.checkSessions()).toBe(1)
      expect(await s.closed).toMatchObject({ code: CloseCode.SESSION_ENDED })
    })
  })

  it('when the session was revoked and the users:revoked message never arrived', async () => {
    const { ch, u } = await setup()
    await withSockets(async (track) => {
      const s1 = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      const s2 = track(await TestSocket.join(a.url(ch), { ticket: await u.ticket() }))
      // Straight in Postgres: nothing is published.
      await a.deps.db
        .update(authSessions)
        .set({ revokedAt: new Date(clock.now()), revokeReason: 'test' })
        .where(eq(authSessions.id, u.sid))
      expect(await a.deps.chat.hub.checkSessions()).toBe(2)
      expect((await s1.closed).code).toBe(CloseCode.SESSION_ENDED)
      expect((await s2.closed).code).toBe(CloseCode.SESSION_ENDED)
    })
  })

  it('a socket opened with an API token lives as long as the token: kept by the check, closed by revoke or expiry', async () => {
    const ch = (await createUser(a.deps)).username
    const owner = await createUser(a.deps)
    const ticketWith = async (token: string) => {
      const res = await fetch(`${a.http}/api/v1/chat/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.status).toBe(201)
      return ((await res.json()) as { ticket: string }).ticket
    }
    const mint = (days: number) =>
      createApiToken(a.deps, owner.id, { name: `bot ${days}`, scopes: ['chat:write'], expiresInDays: days })
    const [revoked, expiring] = [await mint(30), await mint(1)]
    await withSockets(async (track) => {
      const r = track(await TestSocket.join(a.url(ch), { ticket: await ticketWith(revoked.token) }))
      const e = track(await TestSocket.join(a.url(ch), { ticket: await ticketWith(expiring.token) }))
      expect(await a.deps.chat.hub.checkSessions()).toBe(0)
      expect(await r.request({ type: 'ping' })).toMatchObject({ type: 'pong' })

      await revokeApiToken(a.deps, owner.id, revoked.row.id)
      expect((await r.closed).code).toBe(CloseCode.SESSION_ENDED)
      expect(await e.request({ type: 'ping' })).toMatchObject({ type: 'pong' })

      clock.advance(24 * HOUR)
      expect(await a.deps.chat.hub.checkSessions()).toBe(1)
      expect((await e.closed).code).toBe(CloseCode.SESSION_ENDED)
    })
  })
})
