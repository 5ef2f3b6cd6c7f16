/** Another service verifies our access tokens with nothing but the published JWKS. */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs } from '../../test/auth-client.js'
import { createUser, PASSWORD } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'

let t: TestApp

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public signing key, with which a login token verifies (pinned alg, iss, aud, typ)', async () => {
    const res = await call(t, 'GET', '/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toContain('max-age')
    const jwks = (await res.json()) as JSONWebKeySet
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)
    const user = await createUser(t.deps)
    const { accessToken } = await loginAs(t, user.email, PASSWORD)
    const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: t.deps.config.PUBLIC_URL,
      audience: 'live-api',
      typ: 'at+jwt',
    })
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid)
    expect(payload).toMatchObject({ sub: user.id, role: 'user', sid: expect.any(String) })
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(900)
  })
})
