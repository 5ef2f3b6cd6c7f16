/**
 * Sign-in with OpenID Connect against a real provider (oidc-provider, in process on 127.0.0.1):
 * sign-up, sign-in, linking by verified email only, and the flow's protections — a wrong state,
 * nonce or PKCE verifier, or no flow cookie, is refused and signs nobody in.
 */
import { randomBytes } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { identities, users } from '../../src/db/schema/index.js'
import { call, loginAs, problemOf, setCookie } from '../../test/auth-client.js'
import { createUser, PASSWORD, reloadUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { type Account, startTestProvider, type TestProvider } from '../../test/support/oidc-provider.js'
import { flowCookieName, sealFlow } from './flow-cookie.js'

const PUBLIC_URL = 'http://localhost:8080'
const CALLBACK = `${PUBLIC_URL}/api/v1/auth/oidc/test/callback`
let op: TestProvider
let t: TestApp

beforeAll(async () => {
  op = await startTestProvider([CALLBACK])
  const providers = [
    { id: 'test', name: 'Test IdP', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret },
  ]
  t = await createTestApp({ env: { PUBLIC_URL, OIDC_PROVIDERS: JSON.stringify(providers) } })
})
afterAll(async () => {
  await t?.close()
  await op?.close()
})

const account = (over: Partial<Account> = {}): Account => {
  const id = randomBytes(5).toString('hex')
  return { sub: `sub-${id}`, email: `op${id}@example.test`, email_verified: true, ...over }
}

/** The browser's whole round trip: our /start, the provider, our /callback. */
async function signIn(a: Account, next = '/dashboard') {
  const start = await call(t, 'GET', `/api/v1/auth/oidc/test/start?next=${encodeURIComponent(next)}`)
  expect(start.status).toBe(302)
  const flow = setCookie(start, flowCookieName(t.deps))!
  expect(flow.attributes).toMatch(/HttpOnly/i)
  op.signInAs(a)
  const back = await op.authorize(start.headers.get('location')!)
  return callback(back, flow.pair)
}

function callback(back: URL, cookie?: string, headers: Record<string, string> = {}) {
  expect(back.origin + back.pathname).toBe(CALLBACK)
  return call(t, 'GET', `${back.pathname}${back.search}`, { ...(cookie ? { cookie } : {}), headers })
}

/** What the page does after the redirect: trade the refresh cookie for an access token. */
async function accessTokenOf(res: Response): Promise<string> {
  const refresh = setCookie(res, 'refresh_token')
  expect(refresh, 'a refresh cookie').toBeDefined()
  const r = await call(t, 'POST', '/api/v1/auth/refresh', {
    cookie: refresh!.pair,
    headers: { origin: PUBLIC_URL },
  })
  expect(r.status).toBe(200)
  return ((await r.json()) as { accessToken: string }).accessToken
}

async function sessionOf(res: Response) {
  const accessToken = await accessTokenOf(res)
  return (await (await call(t, 'GET', '/api/v1/me', { token: accessToken })).json()) as {
    id: string
    email: string
    emailVerified: boolean
  }
}

/** Our own authorization request, so a test can hold a flow cookie that disagrees with it. */
async function ownFlow(a: Account, flow: { state: string; nonce: string; verifier: string }) {
  const config = await client.discovery(new URL(op.issuer), op.clientId, op.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  })
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email profile',
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
  })
  op.signInAs(a)
  return op.authorize(url.href)
}

async function expectRefused(res: Response) {
  expect(res.status).toBe(401)
  expect((await problemOf(res)).code).toBe('OIDC_FAILED')
  expect(setCookie(res, 'refresh_token')).toBeUndefined()
}

describe('sign in with an OpenID Connect provider', () => {
  it('lists the configured providers, and /login and /signup show a button for each that keeps `next`', async () => {
    const res = await call(t, 'GET', '/api/v1/auth/providers')
    expect(await res.json()).toEqual([{ id: 'test', name: 'Test IdP' }])
    for (const page of ['/login', '/signup']) {
      const html = await (
        await call(t, 'GET', `${page}?next=%2Fc%2Fabc`, { headers: { accept: 'text/html' } })
      ).text()
      expect(html, page).toContain('href="/api/v1/auth/oidc/test/start?next=%2Fc%2Fabc"')
      expect(html, page).toContain('with Test IdP')
    }
  })

  it('signs up a new user (no password), then signs the same identity in again', async () => {
    const a = account({ preferred_username: 'Ada Lovelace' })
    const res = await signIn(a, '/c/somewhere')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/c/somewhere')
    const me = await sessionOf(res)
    expect(me.email).toBe(a.email)
    expect(me.emailVerified).toBe(true)
    const user = await reloadUser(t.deps, me.id)
    expect(user.passwordHash).toBeNull()
    expect(user.username).toMatch(/^ada_lovelace/)
    // No password: password login fails cleanly, like a wrong password.
    const pw = await call(t, 'POST', '/api/v1/auth/login', {
      body: { email: a.email, password: 'anything at all 123' },
    })
    expect(pw.status).toBe(401)
    expect((await problemOf(pw)).code).toBe('UNAUTHORIZED')
    const again = await sessionOf(await signIn({ ...a, preferred_username: 'someone_else' }))
    expect(again.id).toBe(me.id)
    expect(await t.deps.db.select().from(users).where(eq(users.email, a.email!))).toHaveLength(1)
  })

  it('links an existing account by email when the provider asserts email_verified; the password still works', async () => {
    const existing = await createUser(t.deps)
    const res = await signIn(account({ email: existing.email, email_verified: true }))
    expect(res.status).toBe(302)
    expect((await sessionOf(res)).id).toBe(existing.id)
    const [link] = await t.deps.db.select().from(identities).where(eq(identities.userId, existing.id))
    expect(link?.provider).toBe('test')
    await loginAs(t, existing.email, PASSWORD)
  })

  it('does NOT link by an unverified email: 409, no identity, no session', async () => {
    const existing = await createUser(t.deps)
    for (const email_verified of [false, undefined]) {
      const res = await signIn(account({ email: existing.email, email_verified }))
      expect(res.status).toBe(409)
      expect((await problemOf(res)).code).toBe('IDENTITY_NOT_LINKED')
      expect(setCookie(res, 'refresh_token')).toBeUndefined()
    }
    expect(await t.deps.db.select().from(identities).where(eq(identities.userId, existing.id))).toHaveLength(
      0,
    )
  })

  it('a verified identity claims an account whose own email was never confirmed (its password is removed)', async () => {
    const squatter = await createUser(t.deps, { verified: false })
    const res = await signIn(account({ email: squatter.email, email_verified: true }))
    expect((await sessionOf(res)).id).toBe(squatter.id)
    const after = await reloadUser(t.deps, squatter.id)
    expect(after.passwordHash).toBeNull()
    expect(after.emailVerifiedAt).not.toBeNull()
  })

  it('refuses a callback whose state does not match the flow', async () => {
    const start = await call(t, 'GET', '/api/v1/auth/oidc/test/start')
    const flow = setCookie(start, flowCookieName(t.deps))!
    const a = account()
    op.signInAs(a)
    const back = await op.authorize(start.headers.get('location')!)
    back.searchParams.set('state', client.randomState())
    await expectRefused(await callback(back, flow.pair))
    expect(await t.deps.db.select().from(identities).where(eq(identities.subject, a.sub))).toHaveLength(0)
  })

  it('refuses an ID token whose nonce is not the flow’s', async () => {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const back = await ownFlow(account(), { state, nonce: client.randomNonce(), verifier })
    const cookie = await sealFlow(t.deps, {
      provider: 'test',
      state,
      nonce: client.randomNonce(),
      verifier,
      next: '/',
    })
    await expectRefused(await callback(back, `${flowCookieName(t.deps)}=${cookie}`))
  })

  it('refuses a code redeemed with another PKCE verifier (the provider says invalid_grant)', async () => {
    const nonce = client.randomNonce()
    const state = client.randomState()
    const back = await ownFlow(account(), { state, nonce, verifier: client.randomPKCECodeVerifier() })
    const cookie = await sealFlow(t.deps, {
      provider: 'test',
      state,
      nonce,
      verifier: client.randomPKCECodeVerifier(),
      next: '/',
    })
    await expectRefused(await callback(back, `${flowCookieName(t.deps)}=${cookie}`))
  })

  it('control: the same hand-made flow with matching state, nonce and verifier signs in', async () => {
    const flow = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
    }
    const back = await ownFlow(account(), flow)
    const cookie = await sealFlow(t.deps, { provider: 'test', ...flow, next: '/' })
    expect((await callback(back, `${flowCookieName(t.deps)}=${cookie}`)).status).toBe(302)
  })

  it('refuses a callback without the flow cookie (a code injected into another browser); a navigation goes back to /login', async () => {
    const start = await call(t, 'GET', '/api/v1/auth/oidc/test/start')
    op.signInAs(account())
    const back = await op.authorize(start.headers.get('location')!)
    const nav = await callback(back, undefined, { 'sec-fetch-mode': 'navigate' })
    expect(nav.status).toBe(302)
    expect(nav.headers.get('location')).toBe('/login?error=OIDC_FAILED')
    await expectRefused(await callback(back))
  })

  it('sends `next` through the login page’s check: another site becomes /dashboard', async () => {
    const res = await signIn(account(), 'https://evil.example/')
    expect(res.headers.get('location')).toBe('/dashboard')
  })

  it('lists identities and unlinks only while another sign-in method remains', async () => {
    const a = account()
    const res = await signIn(a)
    const token = await accessTokenOf(res)
    const me = (await (await call(t, 'GET', '/api/v1/me', { token })).json()) as { id: string }
    const list = await call(t, 'GET', '/api/v1/me/identities', { token })
    expect(await list.json()).toMatchObject({
      hasPassword: false,
      identities: [{ provider: 'test', name: 'Test IdP', email: a.email }],
    })
    const only = await call(t, 'DELETE', '/api/v1/me/identities/test', { token })
    expect(only.status).toBe(409)
    expect((await problemOf(only)).code).toBe('LAST_SIGN_IN_METHOD')
    await t.deps.db.update(users).set({ passwordHash: 'set-by-reset-flow' }).where(eq(users.id, me.id))
    expect((await call(t, 'DELETE', '/api/v1/me/identities/test', { token })).status).toBe(204)
    expect(
      await t.deps.db
        .select()
        .from(identities)
        .where(and(eq(identities.userId, me.id), eq(identities.provider, 'test'))),
    ).toHaveLength(0)
    expect((await call(t, 'DELETE', '/api/v1/me/identities/test', { token })).status).toBe(404)
  })
})
