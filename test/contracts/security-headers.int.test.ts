/** Every response carries the security headers, errors included; auth responses are never cached. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from '../auth-client.js'
import { createUser, loggedIn, PASSWORD } from '../factories.js'
import { createTestApp, type TestApp } from '../harness.js'

let t: TestApp
let https: TestApp

beforeAll(async () => {
  t = await createTestApp()
  https = await createTestApp({ env: { PUBLIC_URL: 'https://live.example' } })
})
afterAll(async () => {
  await t.close()
  await https.close()
})

function expectSecurityHeaders(res: Response, label: string) {
  const h = res.headers
  expect(h.get('x-content-type-options'), label).toBe('nosniff')
  expect(h.get('x-frame-options'), label).toBe('DENY')
  expect(h.get('referrer-policy'), label).toBe('strict-origin-when-cross-origin')
  expect(h.get('cross-origin-opener-policy'), label).toBe('same-origin')
  expect(h.get('content-security-policy'), label).toContain("frame-ancestors 'none'")
  expect(h.get('content-security-policy'), label).toContain("default-src 'self'")
}

describe('security headers', () => {
  it('are on successes, errors, validation failures, 404s and 429s alike', async () => {
    const s = await loggedIn(t.deps)
    const user = await createUser(t.deps)
    const cases: [string, Promise<Response>, number][] = [
      [
        '200 login',
        call(t, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } }),
        200,
      ],
      ['200 me', call(t, 'GET', '/api/v1/me', { token: s.accessToken }), 200],
      ['401', call(t, 'GET', '/api/v1/me'), 401],
      ['404', call(t, 'GET', '/api/v1/nothing-here'), 404],
      ['422', call(t, 'POST', '/api/v1/auth/register', { body: {} }), 422],
      [
        '400 malformed JSON',
        call(t, 'POST', '/api/v1/auth/login', { raw: '{', headers: { 'content-type': 'application/json' } }),
        400,
      ],
      ['200 jwks', call(t, 'GET', '/.well-known/jwks.json'), 200],
    ]
    for (const [label, pending, status] of cases) {
      const res = await pending
      expect(res.status, label).toBe(status)
      expectSecurityHeaders(res, label)
    }
    const ip = '10.99.0.1'
    let last: Response | undefined
    for (let i = 0; i < 61; i++) last = await call(t, 'GET', '/api/v1/auth/availability?username=abc', { ip })
    expect(last!.status).toBe(429)
    expectSecurityHeaders(last!, '429')
  })

  it("limit connect-src to the app's own origins, in http(s) and ws(s) form", async () => {
    const connectSrc = (res: Response) =>
      /(?:^|;)\s*connect-src ([^;]*)/
        .exec(res.headers.get('content-security-policy') ?? '')![1]!
        .trim()
        .split(/\s+/)
    expect(connectSrc(await call(t, 'GET', '/healthz'))).toEqual([
      "'self'",
      'http://localhost:8080',
      'ws://localhost:8080',
    ])
    expect(connectSrc(await call(https, 'GET', '/healthz'))).toEqual([
      "'self'",
      'https://live.example',
      'wss://live.example',
    ])
    const multi = await createTestApp({
      env: {
        PUBLIC_URL: 'https://live.example',
        ALLOWED_ORIGINS: 'https://live.example,https://www.live.example',
      },
    })
    try {
      const sources = connectSrc(await call(multi, 'GET', '/healthz'))
      expect(sources).toEqual([
        "'self'",
        'https://live.example',
        'wss://live.example',
        'https://www.live.example',
        'wss://www.live.example',
      ])
      // Never a bare scheme (ws:, wss:, https:) or a wildcard: that would allow any host.
      for (const s of sources) expect(s).not.toMatch(/^(?:[a-z]+:|\*.*)$/)
    } finally {
      await multi.close()
    }
  })

  it('add HSTS only when the public URL is https', async () => {
    expect((await call(t, 'GET', '/healthz')).headers.get('strict-transport-security')).toBeNull()
    const res = await call(https, 'GET', '/healthz')
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/)
    expectSecurityHeaders(res, 'https')
  })

  it('mark every /auth and /admin answer no-store', async () => {
    const admin = await loggedIn(t.deps, { role: 'admin' })
    for (const res of [
      await call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: admin.refreshToken } }),
      await call(t, 'POST', '/api/v1/auth/login', { body: { email: 'x@example.test', password: 'y' } }),
      await call(t, 'GET', '/api/v1/admin/users', { token: admin.accessToken }),
    ]) {
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })
})
