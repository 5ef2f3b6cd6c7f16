/**
 * The sign-in buttons and the dashboard's "API tokens" and "Sign-in methods" sections in a real
 * browser (headless chromium) through nginx's public origin, against a real OIDC provider: sign
 * up with the provider from /login, create a token (shown once, copied, then forgotten), use it
 * from outside, revoke it, and see the linked provider that cannot be unlinked without a password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb } from '../../scripts/build-web.js'
import { launchBrowser, screenshot, seriousProblems, type TestBrowser } from '../support/browser.js'
import { httpFrom, loopback } from '../support/edge-clients.js'
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let op: TestProvider
let b: TestBrowser | undefined

beforeAll(async () => {
  await buildWeb()
  op = await startTestProvider()
  const provider = {
    id: 'test',
    name: 'Test IdP',
    issuer: op.issuer,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
  }
  stack = await startStack({ env: { OIDC_PROVIDERS: JSON.stringify([provider]) } })
  op.setRedirectUris([`${stack.http}/api/v1/auth/oidc/test/callback`])
}, 120_000)
afterAll(async () => {
  await b?.close()
  await stack?.stop()
  await op?.close()
})

describe('tokens and provider sign-in in a browser', () => {
  it('signs up with the provider, then creates, copies, uses and revokes a token', async () => {
    b = await launchBrowser()
    const page = b.page
    await b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.http })
    page.on('dialog', (d) => void d.accept())
    const id = Date.now().toString(36)
    op.signInAs({
      sub: `web-${id}`,
      email: `web${id}@example.test`,
      email_verified: true,
      preferred_username: `web_${id}`,
    })

    await page.goto(`${stack.http}/login?next=%2Fdashboard`)
    await screenshot(page, 'login-providers')
    await page.click('#oidc-buttons a[data-provider="test"]')
    await page.waitForURL(`${stack.http}/dashboard`)
    await page.waitForSelector('#dashboard[data-ready="true"]')
    expect(await page.textContent('#dash-whoami')).toContain(`web_${id}`)
    expect(await page.textContent('#identities-list')).toContain('Test IdP')
    expect(await page.isVisible('#password-note')).toBe(true)
    await page.click('#identities-list [data-unlink="test"]')
    await page.waitForFunction(() => document.querySelector('#identity-error')?.textContent !== '')
    expect(await page.textContent('#identity-error')).toContain('only way to sign in')

    await page.fill('#token-name', 'bot')
    await page.check('#token-form input[value="channel:read"]')
    await page.click('#token-form button[type="submit"]')
    await page.waitForSelector('#new-token:not([hidden])')
    const token = await page.inputValue('#new-token-value')
    expect(token).toMatch(/^lvp_[A-Za-z0-9_-]{43}$/)
    await page.click('#new-token [data-copy="new-token-value"]')
    await page.waitForFunction(
      () => document.querySelector('#new-token .copy-label')?.textContent === 'Copied',
    )
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token)
    expect(await page.textContent('#tokens-list')).toContain(`lvp_…${token.slice(-4)}`)
    await (await page.$('#tokens'))!.scrollIntoViewIfNeeded()
    await screenshot(page, 'dashboard-tokens', { fullPage: true })

    const use = () =>
      httpFrom(loopback(1, 31), `${stack.http}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    expect((await use()).status).toBe(200)
    await page.click('#new-token-done')
    expect(await page.inputValue('#new-token-value')).toBe('')

    await page.click('#tokens-list [data-revoke-token]')
    await page.waitForFunction(() =>
      document.querySelector('#tokens-list')?.textContent?.includes('No tokens yet'),
    )
    expect((await use()).status).toBe(401)
    // The one 409 the page logs is the refused unlink, on purpose.
    const unexpected = seriousProblems(b.problems).filter((p) => !/ 409 /.test(p))
    expect(unexpected, b.problems.join('\n')).toEqual([])
  }, 120_000)
})
