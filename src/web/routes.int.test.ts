/**
 * The pages as HTTP: server-rendered HTML that is CSP-clean (no inline script), escapes what users
 * typed, answers browsers with HTML 404s and API clients with problem+json, and serves the hashed
 * bundle with an immutable cache. (Behaviour in a real browser: test/e2e/browser.e2e.test.ts.)
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb, type Manifest } from '../../scripts/build-web.js'
import { createUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { channels } from '../db/schema/index.js'

let t: TestApp
let manifest: Manifest

beforeAll(async () => {
  manifest = await buildWeb()
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

const get = (path: string, headers: Record<string, string> = {}) =>
  t.app.request(path, { headers: { accept: 'text/html', ...headers } })

/** Every <script> either loads a same-origin file or is a JSON data block (never executed). */
function scriptTags(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])
}

describe('pages', () => {
  it('renders the directory with the bundle, the CSP and no inline script', async () => {
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('cache-control')).toBe('private, no-cache')
    const html = await res.text()
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).toContain(`<script type="module" src="${manifest.files['home.js']}"></script>`)
    expect(html).toContain(`href="${manifest.files['app.css']}"`)
    for (const tag of scriptTags(html)) expect(tag).toMatch(/ src="\/assets\/| type="application\/json"/)
  })

  it('renders a channel with its state, escaping its title in the markup and in the page data', async () => {
    const user = await createUser(t.deps)
    const title = '</script><img src=x onerror=alert(1)> & "quotes"'
    await t.deps.db.update(channels).set({ title }).where(eq(channels.ownerId, user.id))
    const res = await get(`/c/${user.username}`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('data-state="offline"')
    expect(html).toContain(`<h1 class="channel-name">${user.username}</h1>`)
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;')
    const data = /<script type="application\/json" id="page-data">([^<]*)<\/script>/.exec(html)
    expect(data, 'the page data block ends only where it should').not.toBeNull()
    expect(JSON.parse(data![1]!).channel).toMatchObject({ name: user.username, title, status: 'offline' })
    for (const tag of scriptTags(html)) expect(tag).toMatch(/ src="\/assets\/| type="application\/json"/)
  })

  it('answers an unknown channel or page with an HTML 404, and API clients with problem+json', async () => {
    for (const path of ['/c/nobody_at_all', '/c/NOT-A-NAME', '/no/such/page']) {
      const res = await get(path)
      expect(res.status, path).toBe(404)
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/)
    }
    const api = await t.app.request('/api/v1/nothing', { headers: { accept: 'text/html' } })
    expect(api.status).toBe(404)
    expect(api.headers.get('content-type')).toBe('application/problem+json')
    const json = await t.app.request('/no/such/page', { headers: { accept: 'application/json' } })
    expect(json.headers.get('content-type')).toBe('application/problem+json')
  })

  it('keeps one-time tokens of confirmation and reset links out of Referer and caches', async () => {
    for (const path of ['/verify-email?token=abc', '/reset-password?token=abc']) {
      const res = await get(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control'), path).toBe('no-store')
      expect(await res.text(), path).toContain('<meta name="referrer" content="no-referrer"/>')
    }
  })

  it('answers a form posted without scripts with the page and a note, processing nothing', async () => {
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'email=a%40b.c&password=secret',
    })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('needs JavaScript')
    expect(html).not.toContain('secret')
  })

  it('draws the top bar from the username hint cookie, ignoring a malformed one', async () => {
    const signedIn = await (await get('/', { cookie: 'live_user=alice_01' })).text()
    expect(signedIn).toContain('href="/c/alice_01"')
    expect(signedIn).toContain('data-action="logout"')
    const bogus = await (await get('/', { cookie: 'live_user=<b>x' })).text()
    expect(bogus).toContain('href="/signup"')
    expect(bogus).not.toContain('<b>x')
  })
})

describe('/assets', () => {
  it('serves hashed files for a year, precompressed when the browser accepts it', async () => {
    const url = manifest.files['channel.js']!
    const plain = await t.app.request(url)
    expect(plain.status).toBe(200)
    expect(plain.headers.get('content-type')).toMatch(/javascript/)
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const body = await plain.arrayBuffer()
    const br = await t.app.request(url, { headers: { 'accept-encoding': 'gzip, br' } })
    expect(br.headers.get('content-encoding')).toBe('br')
    expect(Number(br.headers.get('content-length'))).toBeLessThan(body.byteLength)
    expect((await t.app.request(manifest.files['hls.worker.js']!)).status).toBe(200)
  })

  it('serves nothing outside the bundle', async () => {
    for (const path of ['/assets/../manifest.json', '/assets/%2e%2e/manifest.json', '/assets/nope.js']) {
      expect((await t.app.request(path)).status, path).toBe(404)
    }
  })
})
