import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ env: { RTMP_PUBLIC_URL: 'rtmp://ingest.example:1935/live' } })
})
afterAll(() => t.close())

describe('/api/v1/stream-keys', () => {
  it('shows the key exactly once, with OBS settings, and only previews afterwards', async () => {
    const me = await loggedIn(t.deps)
    const res = await t.json('POST', '/api/v1/stream-keys', { label: 'studio' }, me.auth)
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const created = await res.json()
    expect(created).toMatchObject({
      label: 'studio',
      ingest: { server: 'rtmp://ingest.example:1935/live', streamKey: created.key },
    })
    expect(created.key).toMatch(/^live_[a-z2-9]{12}_[a-z2-9]{32}$/)

    const list = await (await t.json('GET', '/api/v1/stream-keys', undefined, me.auth)).text()
    const secret = created.key.split('_')[2]
    expect(list).toContain(created.id)
    expect(list).not.toContain(secret)
    expect(JSON.parse(list)[0]).toEqual({
      id: created.id,
      label: 'studio',
      preview: created.preview,
      createdAt: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
    })
  })

  it('creates a key with no body at all', async () => {
    const me = await loggedIn(t.deps)
    expect((await t.app.request('/api/v1/stream-keys', { method: 'POST', headers: me.auth })).status).toBe(
      201,
    )
  })

  it('revokes only the owner’s keys, idempotently', async () => {
    const me = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const { id } = await (await t.json('POST', '/api/v1/stream-keys', {}, me.auth)).json()
    const foreign = await t.json('DELETE', `/api/v1/stream-keys/${id}`, undefined, other.auth)
    expect(foreign.status).toBe(404)
    expect((await foreign.json()).code).toBe('NOT_FOUND')
    expect((await t.json('DELETE', `/api/v1/stream-keys/${id}`, undefined, me.auth)).status).toBe(204)
    expect((await t.json('DELETE', `/api/v1/stream-keys/${id}`, undefined, me.auth)).status).toBe(204)
    const [row] = await (await t.json('GET', '/api/v1/stream-keys', undefined, me.auth)).json()
    expect(row.revokedAt).not.toBeNull()
  })

  it('requires a confirmed email', async () => {
    const me = await loggedIn(t.deps, { verified: false })
    const res = await t.json('POST', '/api/v1/stream-keys', {}, me.auth)
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ code: 'EMAIL_NOT_VERIFIED', status: 403 })
  })

  it('validates bodies and params as problem+json', async () => {
    const me = await loggedIn(t.deps)
    const long = await t.json('POST', '/api/v1/stream-keys', { label: 'x'.repeat(65) }, me.auth)
    expect(long.status).toBe(422)
    expect(await long.json()).toMatchObject({ code: 'VALIDATION', errors: [{ field: 'label' }] })
    const bad = await t.json('DELETE', '/api/v1/stream-keys/..%2F..', undefined, me.auth)
    expect([404, 422]).toContain(bad.status)
    const broken = await t.app.request('/api/v1/stream-keys', {
      method: 'POST',
      headers: { ...me.auth, 'content-type': 'application/json' },
      body: '{"label":',
    })
    expect(broken.status).toBe(400)
    expect((await broken.json()).code).toBe('BAD_REQUEST')
  })
})
