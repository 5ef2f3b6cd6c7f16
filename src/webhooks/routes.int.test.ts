/**
 * `/api/v1/webhooks` through the app: create (secret once), list, change, delete, the plan limit,
 * SSRF refusals with WEBHOOK_ALLOW_PRIVATE off, and the OpenAPI document covering every route.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { users, webhookEndpoints } from '../db/schema/index.js'

describe('webhook endpoints API (private targets refused)', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } })
  })
  afterAll(() => t.close())

  const create = (auth: Record<string, string>, body: unknown) =>
    t.json('POST', '/api/v1/webhooks', body, auth)

  it.each([
    ['http://127.0.0.1:9/hook', /loopback/],
    ['http://10.1.2.3/hook', /private/],
    ['http://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['http://[::1]:9/hook', /loopback/],
    ['http://100.64.1.1/', /carrierGradeNat/],
    ['http://localhost:9/hook', /resolves to .* loopback/],
    ['https://user:pass@example.com/hook', /credentials/],
    ['ftp://example.com/hook', /only http and https/],
  ])('refuses %s with URL_NOT_ALLOWED', async (url, why) => {
    const me = await loggedIn(t.deps)
    const res = await create(me.auth, { url, events: ['stream.online'] })
    expect(res.status).toBe(422)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    const p = await res.json()
    expect(p.code).toBe('URL_NOT_ALLOWED')
    expect(p.detail).toMatch(why)
    expect(
      await t.deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, me.user.id)),
    ).toEqual([])
  })

  it('refuses an unknown event or no event with VALIDATION', async () => {
    const me = await loggedIn(t.deps)
    for (const events of [['stream.exploded'], [], undefined]) {
      const res = await create(me.auth, { url: 'https://example.com/h', events })
      expect(res.status).toBe(422)
      expect((await res.json()).code).toBe('VALIDATION')
    }
  })
})

describe('webhook endpoints API', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        PLAN_LIMITS: JSON.stringify({ free: { maxWebhooks: 2 } }),
      },
    })
  })
  afterAll(() => t.close())

  it('creates (the secret shown once), lists, reads, changes and deletes an endpoint', async () => {
    const me = await loggedIn(t.deps)
    const res = await t.json(
      'POST',
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: ['stream.online', 'stream.offline', 'stream.online'] },
      me.auth,
    )
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const created = await res.json()
    expect(created).toMatchObject({
      id: expect.any(String),
      url: 'http://127.0.0.1:9/hook',
      events: ['stream.online', 'stream.offline'],
      enabled: true,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    })
    // Stored encrypted: the database never holds the secret in the clear.
    const [row] = await t.deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, created.id))
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6))

    const list = await (await t.json('GET', '/api/v1/webhooks', undefined, me.auth)).text()
    expect(list).toContain(created.id)
    expect(list).not.toContain(created.secret.slice(6))
    expect(list).not.toMatch(/secret/i)
    const one = await (await t.json('GET', `/api/v1/webhooks/${created.id}`, undefined, me.auth)).json()
    expect(one).not.toHaveProperty('secret')

    const patched = await t.json(
      'PATCH',
      `/api/v1/webhooks/${created.id}`,
      { events: ['follow.created'], enabled: false },
      me.auth,
    )
    expect(patched.status).toBe(200)
    expect(await patched.json()).toMatchObject({
      events: ['follow.created'],
      enabled: false,
      disabledReason: 'user',
    })
    const enabled = await t.json('PATCH', `/api/v1/webhooks/${created.id}`, { enabled: true }, me.auth)
    expect(await enabled.json()).toMatchObject({ enabled: true, disabledReason: null })

    const rotated = await t.json('POST', `/api/v1/webhooks/${created.id}/rotate-secret`, undefined, me.auth)
    expect(rotated.status).toBe(200)
    const { secret } = await rotated.json()
    expect(secret).toMatch(/^whsec_/)
    expect(secret).not.toBe(created.secret)

    // Someone else's endpoint does not exist for me.
    const other = await loggedIn(t.deps)
    for (const [method, path] of [
      ['GET', `/api/v1/webhooks/${created.id}`],
      ['DELETE', `/api/v1/webhooks/${created.id}`],
      ['POST', `/api/v1/webhooks/${created.id}/test`],
      ['POST', `/api/v1/webhooks/${created.id}/rotate-secret`],
      ['GET', `/api/v1/webhooks/${created.id}/deliveries`],
    ] as const) {
      const r = await t.json(method, path, undefined, other.auth)
      expect(r.status, `${method} ${path}`).toBe(404)
    }

    expect((await t.json('DELETE', `/api/v1/webhooks/${created.id}`, undefined, me.auth)).status).toBe(204)
    expect((await t.json('GET', `/api/v1/webhooks/${created.id}`, undefined, me.auth)).status).toBe(404)
  })

  it('enforces the plan limit (maxWebhooks)', async () => {
    const me = await loggedIn(t.deps)
    const body = { url: 'http://127.0.0.1:9/hook', events: ['stream.online'] }
    expect((await t.json('POST', '/api/v1/webhooks', body, me.auth)).status).toBe(201)
    expect((await t.json('POST', '/api/v1/webhooks', body, me.auth)).status).toBe(201)
    const third = await t.json('POST', '/api/v1/webhooks', body, me.auth)
    expect(third.status).toBe(403)
    expect((await third.json()).code).toBe('PLAN_LIMIT')
    await t.deps.db.update(users).set({ plan: 'pro' }).where(eq(users.id, me.user.id))
    expect((await t.json('POST', '/api/v1/webhooks', body, me.auth)).status).toBe(201)
  })

  it('OpenAPI covers every webhook route', async () => {
    const doc = await (await t.json('GET', '/api/v1/openapi.json')).json()
    const routes = t.app.routes.filter((r) => r.path.startsWith('/api/v1/webhooks') && r.method !== 'ALL')
    expect(routes.length).toBeGreaterThanOrEqual(9)
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '')
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`).toBeDefined()
    }
  })
})
