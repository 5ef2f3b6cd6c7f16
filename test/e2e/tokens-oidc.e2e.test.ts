/**
 * Personal access tokens and OIDC sign-in as deployed: every request goes through nginx's public
 * origin from its own loopback source address. A token's lastUsedIp is the real peer (a spoofed
 * X-Forwarded-For from the client is not believed), and neither the token nor the provider's code
 * reaches the app log or nginx's files; the OIDC round trip ends with a working browser session.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens } from '../../src/db/schema/index.js'
import { loggedIn } from '../factories.js'
import { httpFrom, loopback, postJson } from '../support/edge-clients.js'
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let op: TestProvider

beforeAll(async () => {
  op = await startTestProvider()
  const provider = {
    id: 'test',
    name: 'Test IdP',
    issuer: op.issuer,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
  }
  stack = await startStack({ env: { OIDC_PROVIDERS: JSON.stringify([provider]) } })
  // The provider learns our callback once the public origin's port is known (discovery is lazy).
  op.setRedirectUris([`${stack.http}/api/v1/auth/oidc/test/callback`])
})
afterAll(async () => {
  await stack?.stop()
  await op?.close()
})

const cookiePair = (headers: Record<string, string | string[] | undefined>, name: string) =>
  ([headers['set-cookie']].flat().filter(Boolean) as string[])
    .map((l) => l.split(';')[0]!)
    .find((p) => p.startsWith(`${name}=`))

describe('through the public origin', () => {
  it('a token works within its scopes and records the real client address, never a spoofed one', async () => {
    const s = await loggedIn(stack.deps)
    const created = await postJson(
      loopback(1, 21),
      `${stack.http}/api/v1/tokens`,
      { name: 'e2e', scopes: ['channel:read'] },
      s.auth,
    )
    expect(created.status).toBe(201)
    const { id, token } = JSON.parse(created.body) as { id: string; token: string }
    const me = await httpFrom(loopback(1, 22), `${stack.http}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.66' },
    })
    expect(me.status).toBe(200)
    const [row] = await stack.deps.db.select().from(apiTokens).where(eq(apiTokens.id, id))
    expect(row!.lastUsedIp).toBe(loopback(1, 22))
    const keys = await httpFrom(loopback(1, 22), `${stack.http}/api/v1/stream-keys`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(keys.status).toBe(403)
    expect(JSON.parse(keys.body).code).toBe('INSUFFICIENT_SCOPE')
    expect(stack.appLogs()).not.toContain(token.slice(4))
    for (const [path, content] of stack.nginxFiles()) expect(content, path).not.toContain(token.slice(4))
  })

  it('signs up with the provider and ends with a session the page can refresh', async () => {
    const me = loopback(1, 23)
    const start = await httpFrom(me, `${stack.http}/api/v1/auth/oidc/test/start?next=%2Fdashboard`)
    expect(start.status).toBe(302)
    const flow = cookiePair(start.headers, 'oidc_flow')!
    op.signInAs({ sub: `e2e-${Date.now()}`, email: `e2e${Date.now()}@example.test`, email_verified: true })
    const back = await op.authorize(String(start.headers.location))
    expect(back.origin).toBe(stack.http)
    const done = await httpFrom(me, `${stack.http}${back.pathname}${back.search}`, {
      headers: { cookie: flow },
    })
    expect(done.status).toBe(302)
    expect(done.headers.location).toBe('/dashboard')
    const refresh = cookiePair(done.headers, 'refresh_token')!
    const session = await postJson(
      me,
      `${stack.http}/api/v1/auth/refresh`,
      {},
      { cookie: refresh, origin: stack.http },
    )
    expect(session.status).toBe(200)
    const code = back.searchParams.get('code')!
    expect(stack.appLogs()).not.toContain(code)
    for (const [path, content] of stack.nginxFiles()) expect(content, path).not.toContain(code)
  })
})
