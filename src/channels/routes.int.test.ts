import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, loggedIn, streamKeyFor } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

async function goLive(user: { id: string; username: string }, clientId: string) {
  const { key, row } = await streamKeyFor(t.deps, user as never)
  const { channels } = await import('../db/schema/index.js')
  const { eq } = await import('drizzle-orm')
  const [ch] = await t.deps.db.select().from(channels).where(eq(channels.name, user.username))
  await t.deps.live.publish({
    channel: user.username,
    channelId: ch!.id,
    userId: user.id,
    keyId: row.id,
    node: 'n1',
    clientId,
    maxSessionS: 3600,
  })
  return key
}

describe('/api/v1/channels', () => {
  it('shows an offline channel with its playback path', async () => {
    const u = await createUser(t.deps)
    const res = await t.json('GET', `/api/v1/channels/${u.username}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      name: u.username,
      title: '',
      visibility: 'public',
      status: 'offline',
      live: false,
      startedAt: null,
      viewers: 0,
      playback: { hls: `/hls/${u.username}/index.m3u8` },
      record: false,
    })
  })

  it('lists live channels with startedAt, and never a key anywhere', async () => {
    const u = await createUser(t.deps)
    const key = await goLive(u, '41')
    const live = await (await t.json('GET', '/api/v1/channels?live=true')).text()
    const mine = JSON.parse(live).find((c: { name: string }) => c.name === u.username)
    expect(mine).toMatchObject({
      status: 'live',
      live: true,
      playback: { hls: `/hls/${u.username}/index.m3u8` },
    })
    expect(Date.parse(mine.startedAt)).toBeGreaterThan(0)
    expect(live).not.toContain(key)
    expect(live).not.toContain(key.split('_')[1]) // not even the key id
  })

  it('lets the owner (only) set a title', async () => {
    const me = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const res = await t.json(
      'PATCH',
      `/api/v1/channels/${me.user.username}`,
      { title: '  Speedrun night ' },
      me.auth,
    )
    expect(res.status).toBe(200)
    expect((await res.json()).title).toBe('Speedrun night')
    expect(
      (await t.json('PATCH', `/api/v1/channels/${me.user.username}`, { title: 'x' }, other.auth)).status,
    ).toBe(403)
    expect((await t.json('PATCH', `/api/v1/channels/${me.user.username}`, { title: 'x' })).status).toBe(401)
  })

  it('lets the owner turn recording on and off (record), and nothing else', async () => {
    const me = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const path = `/api/v1/channels/${me.user.username}`
    const on = await t.json('PATCH', path, { record: true }, me.auth)
    expect(await on.json()).toMatchObject({ record: true, title: '' })
    expect((await (await t.json('GET', path)).json()).record).toBe(true)
    expect((await t.json('PATCH', path, { record: false }, other.auth)).status).toBe(403)
    const empty = await t.json('PATCH', path, {}, me.auth)
    expect(empty.status).toBe(422)
    expect((await empty.json()).code).toBe('VALIDATION')
    expect((await t.json('PATCH', path, { record: 'yes' }, me.auth)).status).toBe(422)
    expect(await (await t.json('PATCH', path, { record: false }, me.auth)).json()).toMatchObject({
      record: false,
    })
  })

  it('shows the owner the session history', async () => {
    const me = await loggedIn(t.deps)
    await goLive(me.user, '42')
    await t.deps.live.end(me.user.username, 'kicked')
    // History follows from the offline event a moment later (live/effects.ts).
    const s = await waitFor(async () => {
      const res = await t.json('GET', `/api/v1/channels/${me.user.username}/sessions`, undefined, me.auth)
      expect(res.status).toBe(200)
      const [row] = await res.json()
      return row?.endedAt ? row : null
    })
    expect(s).toMatchObject({ endReason: 'kicked', ingestNode: 'n1', endedAt: expect.any(String) })
  })

  it('answers unknown and invalid names with problem+json', async () => {
    const missing = await t.json('GET', '/api/v1/channels/nobody_here')
    expect(missing.status).toBe(404)
    expect((await missing.json()).code).toBe('NOT_FOUND')
    expect((await t.json('GET', '/api/v1/channels/NOT-VALID')).status).toBe(422)
    expect((await t.json('GET', '/api/v1/nope')).status).toBe(404)
  })
})

describe('service endpoints', () => {
  it('serves health, readiness, JWKS and the OpenAPI document', async () => {
    expect((await t.json('GET', '/healthz')).status).toBe(200)
    const ready = await t.json('GET', '/readyz')
    expect(await ready.json()).toMatchObject({ status: 'ready', postgres: 'ok', redis: 'ok' })
    const jwks = await (await t.json('GET', '/.well-known/jwks.json')).json()
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: expect.any(String) })
    expect(jwks.keys[0].d).toBeUndefined()
    const doc = await (await t.json('GET', '/api/v1/openapi.json')).json()
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toContain('/api/v1/stream-keys')
  })
})
