import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, streamKeyFor } from '../../test/factories.js'
import { createTestApp, fromPeer, manualClock, type TestApp } from '../../test/harness.js'
import { effectsSettled, historyRow } from '../../test/support/live-helpers.js'
import { streamKeys } from '../db/schema/index.js'

const clock = manualClock()
let t: TestApp
let clientSeq = 1000

beforeAll(async () => {
  t = await createTestApp({ env: { RECONNECT_WINDOW_S: '30', NOTIFY_UPDATE_S: '30' }, now: clock.now })
})
afterAll(() => t.close())

function hook(
  path: 'publish' | 'update' | 'publish-done',
  fields: string,
  opts: { secret?: string; node?: string; peer?: string } = {},
) {
  const q = new URLSearchParams({ node: opts.node ?? 'n1', secret: opts.secret ?? t.deps.config.HOOK_SECRET })
  // nginx calls the hooks from loopback; the peer is what the allowlist checks.
  return t.app.request(
    `/hooks/rtmp/${path}?${q}`,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields },
    fromPeer(opts.peer ?? '127.0.0.1'),
  )
}
const publishBody = (key: string, clientid: number, extra = '') =>
  `app=live&flashver=FMLE%2F3.0&swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1%2Flive&pageurl=&addr=127.0.0.1&clientid=${clientid}&call=publish&name=${encodeURIComponent(key)}&type=live${extra}`
const updateBody = (key: string, clientid: number) =>
  `app=live&flashver=FMLE%2F3.0&addr=127.0.0.1&clientid=${clientid}&call=update_publish&time=30&timestamp=30000&name=${encodeURIComponent(key)}`
const doneBody = (key: string, clientid: number) =>
  `app=live&flashver=FMLE%2F3.0&addr=127.0.0.1&clientid=${clientid}&call=publish_done&name=${encodeURIComponent(key)}`

async function broadcaster() {
  const user = await createUser(t.deps)
  const { key, row } = await streamKeyFor(t.deps, user)
  return { user, key, keyId: row.id, channel: user.username, clientId: clientSeq++ }
}

describe('hook authentication', () => {
  it('refuses a wrong secret, a missing secret and a bad node id with 403', async () => {
    const b = await broadcaster()
    expect(
      (await hook('publish', publishBody(b.key, b.clientId), { secret: 'wrong-secret-wrong-secret' })).status,
    ).toBe(403)
    expect(
      (
        await t.app.request(
          '/hooks/rtmp/publish?node=n1',
          { method: 'POST', body: publishBody(b.key, b.clientId) },
          fromPeer('127.0.0.1'),
        )
      ).status,
    ).toBe(403)
    expect((await hook('publish', publishBody(b.key, b.clientId), { node: 'BAD NODE' })).status).toBe(403)
    expect(await t.deps.live.get(b.channel)).toBeNull()
  })

  it('refuses a peer outside HOOK_ALLOWED_IPS, and one whose address cannot be determined, despite the right secret', async () => {
    const b = await broadcaster()
    expect((await hook('publish', publishBody(b.key, b.clientId), { peer: '10.1.2.3' })).status).toBe(403)
    const q = new URLSearchParams({ node: 'n1', secret: t.deps.config.HOOK_SECRET })
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: publishBody(b.key, b.clientId),
    }
    // No socket at all (app.request without env), and a socket that reports no address (closed).
    expect((await t.app.request(`/hooks/rtmp/publish?${q}`, init)).status).toBe(403)
    expect((await t.app.request(`/hooks/rtmp/publish?${q}`, init, { incoming: { socket: {} } })).status).toBe(
      403,
    )
    expect(await t.deps.live.get(b.channel)).toBeNull()
    // The same request from loopback is admitted: the refusal above was the peer, nothing else.
    expect((await hook('publish', publishBody(b.key, b.clientId))).status).toBe(302)
  })
})

describe('on_publish', () => {
  it('accepts a good key with 302 to the channel name and opens a session', async () => {
    const b = await broadcaster()
    const res = await hook('publish', publishBody(b.key, b.clientId))
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(b.channel)
    const entry = await t.deps.live.get(b.channel)
    expect(entry).toMatchObject({ state: 'live', node: 'n1', clientId: String(b.clientId), keyId: b.keyId })
    const row = await historyRow(t.deps, entry!.sessionId)
    expect(row).toMatchObject({ ingestNode: 'n1', clientId: String(b.clientId), endedAt: null })
    // The key's lastUsedAt follows from the same event, and nothing is left to retry.
    await effectsSettled(t.deps)
    const [key] = await t.deps.db.select().from(streamKeys).where(eq(streamKeys.id, b.keyId))
    expect(key!.lastUsedAt).not.toBeNull()
  })

  it('judges the real key when the publish URL injects name= and call= args', async () => {
    const b = await broadcaster()
    const other = await broadcaster()
    // nginx appends the publisher's query raw: the first occurrence is nginx's own field.
    const res = await hook(
      'publish',
      publishBody(
        'live_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
        b.clientId,
        `&name=${other.key}&call=play`,
      ),
    )
    expect(res.status).toBe(403)
    const ok = await hook('publish', publishBody(b.key, b.clientId, '&name=evil&call=play&app=hls'))
    expect(ok.status).toBe(302)
    expect(ok.headers.get('location')).toBe(b.channel)
  })

  it.each([
    ['wrong secret', (k: string) => `${k.slice(0, -4)}aaaa`],
    ['malformed', () => 'not-a-key'],
    ['path traversal', () => '../../etc/passwd'],
    ['empty', () => ''],
    ['oversized', () => 'x'.repeat(5000)],
    ['unknown id', () => 'live_zzzzzzzzzzzz_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'],
  ])('refuses a %s key with 403', async (_label, mutate) => {
    const b = await broadcaster()
    const res = await hook('publish', publishBody(mutate(b.key), b.clientId))
    expect([400, 403]).toContain(res.status)
    expect(await t.deps.live.get(b.channel)).toBeNull()
  })

  it('refuses a revoked key and an unverified account', async () => {
    const b = await broadcaster()
    await t.json('DELETE', `/api/v1/stream-keys/${b.keyId}`) // unauthenticated: must not revoke
    const { revokeStreamKey } = await import('../stream-keys/service.js')
    await revokeStreamKey(t.deps, b.user.id, b.keyId)
    expect((await hook('publish', publishBody(b.key, b.clientId))).status).toBe(403)

    const unverified = await createUser(t.deps, { verified: false })
    const { key } = await streamKeyFor(t.deps, unverified)
    expect((await hook('publish', publishBody(key, clientSeq++))).status).toBe(403)
  })

  it('refuses a second publisher for a live channel with 409 and keeps the first', async () => {
    const b = await broadcaster()
    const second = await streamKeyFor(t.deps, b.user, 'backup')
    expect((await hook('publish', publishBody(b.key, b.clientId))).status).toBe(302)
    const first = await t.deps.live.get(b.channel)
    expect((await hook('publish', publishBody(second.key, clientSeq++))).status).toBe(409)
    // nginx sends publish_done for the refused client: it must be ignored.
    await hook('publish-done', doneBody(second.key, clientSeq - 1))
    expect(await t.deps.live.get(b.channel)).toMatchObject({
      state: 'live',
      sessionId: first!.sessionId,
      clientId: String(b.clientId),
    })
  })

  it('lets the same key replace its own live connection, ending the old session as replaced', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const old = (await t.deps.live.get(b.channel))!
    const reconnect = clientSeq++
    const res = await hook('publish', publishBody(b.key, reconnect))
    expect(res.status).toBe(302)
    const now = (await t.deps.live.get(b.channel))!
    expect(now).toMatchObject({ state: 'live', clientId: String(reconnect) })
    expect(now.sessionId).not.toBe(old.sessionId)
    const row = await historyRow(t.deps, old.sessionId, (r) => r.endedAt !== null)
    expect(row.endReason).toBe('replaced')
    // The replaced connection's own hooks are ignored or refused from now on.
    await hook('publish-done', doneBody(b.key, b.clientId))
    expect(await t.deps.live.get(b.channel)).toMatchObject({ state: 'live', clientId: String(reconnect) })
    expect((await hook('update', updateBody(b.key, b.clientId))).status).toBe(403)
  })

  it('refuses a malformed form with 400', async () => {
    expect((await hook('publish', 'app=live&call=publish&clientid=abc&name=x')).status).toBe(400)
    expect((await hook('publish', 'app=other&call=publish&clientid=1&name=x')).status).toBe(400)
  })
})

describe('on_update and on_publish_done', () => {
  it('update keeps a live session and drops an unknown one', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const before = await t.deps.live.get(b.channel)
    clock.advance(30_000)
    expect((await hook('update', updateBody(b.key, b.clientId))).status).toBe(200)
    const after = await t.deps.live.get(b.channel)
    expect(after!.deadline).toBeGreaterThan(before!.deadline)
    expect((await hook('update', updateBody(b.key, 999_999))).status).toBe(403)
    expect((await hook('update', updateBody(b.key, b.clientId), { node: 'n2' })).status).toBe(403)
  })

  it('answers 200 to on_update for the internal relay (a player), whatever it carries', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const relay = `app=live&flashver=ngx-local-relay&swfurl=&tcurl=&pageurl=&addr=127.0.0.1&clientid=${clientSeq++}&call=update_play&time=30&timestamp=30000&name=${b.channel}`
    expect((await hook('update', relay)).status).toBe(200)
    expect(await t.deps.live.get(b.channel)).toMatchObject({ state: 'live', clientId: String(b.clientId) })
  })

  it('publish_done opens the reconnect window; a republish within it continues the same session', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const { sessionId } = (await t.deps.live.get(b.channel))!
    expect((await hook('publish-done', doneBody(b.key, b.clientId))).status).toBe(200)
    expect(await t.deps.live.get(b.channel)).toMatchObject({ state: 'reconnecting', sessionId })
    clock.advance(10_000)
    const again = clientSeq++
    expect((await hook('publish', publishBody(b.key, again))).status).toBe(302)
    expect(await t.deps.live.get(b.channel)).toMatchObject({
      state: 'live',
      sessionId,
      clientId: String(again),
      reconnects: 1,
    })
    const row = await historyRow(t.deps, sessionId, (r) => r.reconnects === 1)
    expect(row).toMatchObject({ endedAt: null, clientId: String(again) })
  })

  it('ends the session as publisher_left when the window passes, with the time the publisher left', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const { sessionId } = (await t.deps.live.get(b.channel))!
    const leftAt = clock.now()
    await hook('publish-done', doneBody(b.key, b.clientId))
    // publish_done is idempotent: a repeat changes nothing.
    await hook('publish-done', doneBody(b.key, b.clientId))
    clock.advance(31_000)
    expect(await t.deps.live.sweep()).toBeGreaterThanOrEqual(1)
    expect(await t.deps.live.get(b.channel)).toBeNull()
    const row = await historyRow(t.deps, sessionId, (r) => r.endedAt !== null)
    expect(row.endReason).toBe('publisher_left')
    expect(Math.abs(row.endedAt!.getTime() - leftAt)).toBeLessThan(1000)
  })

  it('ends a session whose ingest stopped calling on_update as ingest_lost', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const { sessionId } = (await t.deps.live.get(b.channel))!
    clock.advance(2 * 30_000 + 6_000)
    await t.deps.live.sweep()
    const row = await historyRow(t.deps, sessionId, (r) => r.endedAt !== null)
    expect(row.endReason).toBe('ingest_lost')
    // The publisher was alive after all (e.g. the app was down longer than the deadline): its next
    // on_update re-verifies the key and adopts it into a new session instead of dropping it.
    expect((await hook('update', updateBody(b.key, b.clientId))).status).toBe(200)
    const adopted = await t.deps.live.get(b.channel)
    expect(adopted).toMatchObject({ state: 'live', clientId: String(b.clientId) })
    expect(adopted!.sessionId).not.toBe(sessionId)
  })

  it('never adopts a publisher that was ended on purpose, a revoked key or a bad key', async () => {
    const kicked = await broadcaster()
    await hook('publish', publishBody(kicked.key, kicked.clientId))
    await t.deps.live.end(kicked.channel, 'kicked')
    expect((await hook('update', updateBody(kicked.key, kicked.clientId))).status).toBe(403)
    // …and the kicked key is refused on reconnect during the cool-down.
    expect((await hook('publish', publishBody(kicked.key, clientSeq++))).status).toBe(403)

    const revoked = await broadcaster()
    await hook('publish', publishBody(revoked.key, revoked.clientId))
    const { revokeStreamKey } = await import('../stream-keys/service.js')
    await revokeStreamKey(t.deps, revoked.user.id, revoked.keyId)
    expect((await hook('update', updateBody(revoked.key, revoked.clientId))).status).toBe(403)
    expect(await t.deps.live.get(revoked.channel)).toBeNull()

    expect(
      (await hook('update', updateBody('live_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', clientSeq++)))
        .status,
    ).toBe(403)
  })

  it('drops an idle publisher into the reconnect window: a return continues the session, silence ends it as idle', async () => {
    const back = await broadcaster()
    await hook('publish', publishBody(back.key, back.clientId))
    const { sessionId } = (await t.deps.live.get(back.channel))!
    expect(await t.deps.live.dropIntoWindow(back.channel, 'idle')).toBe(true)
    await hook('publish-done', doneBody(back.key, back.clientId)) // what nginx sends after the drop
    expect(await t.deps.live.get(back.channel)).toMatchObject({
      state: 'reconnecting',
      pendingReason: 'idle',
    })
    const again = clientSeq++
    expect((await hook('publish', publishBody(back.key, again))).status).toBe(302)
    expect(await t.deps.live.get(back.channel)).toMatchObject({
      state: 'live',
      sessionId,
      pendingReason: null,
    })

    const gone = await broadcaster()
    await hook('publish', publishBody(gone.key, gone.clientId))
    const gs = (await t.deps.live.get(gone.channel))!.sessionId
    await t.deps.live.dropIntoWindow(gone.channel, 'idle')
    await hook('publish-done', doneBody(gone.key, gone.clientId))
    clock.advance(31_000)
    await t.deps.live.sweep()
    const row = await historyRow(t.deps, gs, (r) => r.endedAt !== null)
    expect(row.endReason).toBe('idle')
  })

  it('ends a session at the plan’s maximum duration, even between updates', async () => {
    const b = await broadcaster()
    await hook('publish', publishBody(b.key, b.clientId))
    const { sessionId } = (await t.deps.live.get(b.channel))!
    clock.advance(t.deps.config.PLAN_LIMITS.free.maxSessionS * 1000 + 1)
    await t.deps.live.sweep()
    const row = await historyRow(t.deps, sessionId, (r) => r.endedAt !== null)
    expect(row.endReason).toBe('max_duration')
    expect((await hook('update', updateBody(b.key, b.clientId))).status).toBe(403)
  })

  it('answers 503 when a dependency is down (nginx then refuses the publish)', async () => {
    const broken = await createTestApp({ env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' } })
    try {
      const q = new URLSearchParams({ node: 'n1', secret: broken.deps.config.HOOK_SECRET })
      const res = await broken.app.request(
        `/hooks/rtmp/publish?${q}`,
        { method: 'POST', body: publishBody('live_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 1) },
        fromPeer('127.0.0.1'),
      )
      expect(res.status).toBe(503)
    } finally {
      await broken.close()
    }
  })

  it('keeps live publishers (200 to on_update and on_publish_done) when a dependency is down', async () => {
    // nginx drops a publisher on any non-2xx update: our outage must never cut a broadcast.
    const broken = await createTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } })
    try {
      const q = new URLSearchParams({ node: 'n1', secret: broken.deps.config.HOOK_SECRET })
      const { key } = await broadcaster() // a good key: the answer is Redis', not the key check's
      const call = (path: string, body: string) =>
        broken.app.request(`/hooks/rtmp/${path}?${q}`, { method: 'POST', body }, fromPeer('127.0.0.1'))
      expect((await call('publish', publishBody(key, 1))).status).toBe(503)
      expect((await call('update', updateBody(key, 1))).status).toBe(200)
      expect((await call('publish-done', doneBody(key, 1))).status).toBe(200)
    } finally {
      await broken.close()
    }
  })
})
