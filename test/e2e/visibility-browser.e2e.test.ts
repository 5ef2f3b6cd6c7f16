/**
 * A private stream in Chromium through the real stack: the owner's page gets a playback grant by
 * itself and hls.js plays through nginx's per-request check; an anonymous visitor gets neither
 * the stream nor its state.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb } from '../../scripts/build-web.js'
import { PASSWORD } from '../factories.js'
import { launchBrowser, screenshot, seriousProblems, type TestBrowser } from '../support/browser.js'
import { type PublisherHandle, startPublisher } from '../support/ffmpeg.js'
import { broadcaster } from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let pub: PublisherHandle | undefined
const browsers: TestBrowser[] = []

beforeAll(async () => {
  await buildWeb()
  stack = await startStack()
}, 120_000)
afterAll(async () => {
  await pub?.stop()
  await Promise.all(browsers.map((b) => b.close()))
  await stack?.stop()
})

const currentTime = (page: Page) => page.$eval('#video', (v: HTMLVideoElement) => v.currentTime)

describe('a private channel in the browser', () => {
  it('plays for its owner, with a grant in every media request; shows strangers nothing', async () => {
    const owner = await broadcaster(stack.deps)
    const patch = await fetch(`${stack.http}/api/v1/channels/${owner.channel}`, {
      method: 'PATCH',
      headers: { ...owner.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'private', title: 'members night' }),
    })
    expect(patch.status).toBe(200)
    pub = startPublisher({ url: `${stack.rtmp}/${owner.key}` })

    const studio = await launchBrowser()
    browsers.push(studio)
    const page = studio.page
    const media: { url: string; status: number }[] = []
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/hls/')) media.push({ url: r.url(), status: r.status() })
    })
    await page.goto(`${stack.http}/login`)
    await page.fill('#f-email', owner.user.email)
    await page.fill('#f-password', PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await page.waitForURL(`${stack.http}/dashboard`)
    await page.goto(`${stack.http}/c/${owner.channel}`)
    await page.waitForFunction(
      () => (document.querySelector('#video') as HTMLVideoElement).currentTime > 0,
      null,
      {
        timeout: 45_000,
      },
    )
    const first = await currentTime(page)
    await page.waitForFunction(
      (t) => (document.querySelector('#video') as HTMLVideoElement).currentTime > t + 1,
      first,
      { timeout: 20_000 },
    )
    await page.waitForFunction(
      () => document.querySelector('#channel-title')?.textContent === 'members night',
    )
    // The poster is the live thumbnail under the same grant (a bare /thumbs/ URL would be refused).
    expect(await page.$eval('#video', (v: HTMLVideoElement) => v.poster)).toMatch(
      new RegExp(`/thumbs/t/[^/]+/${owner.channel}\\.jpg\\?t=\\d+$`),
    )
    await screenshot(page, 'private-channel-owner')
    const segments = media.filter((m) => m.url.endsWith('.ts'))
    expect(segments.length).toBeGreaterThan(0)
    for (const m of media) {
      expect(new URL(m.url).pathname).toMatch(new RegExp(`^/hls/t/[^/]+/${owner.channel}/`))
      expect(m.status).not.toBe(401)
      expect(m.status).not.toBe(403)
    }
    expect(seriousProblems(studio.problems)).toEqual([])

    // A stranger's browser: the page is a shell, the player never gets a playlist.
    const visitor = await launchBrowser()
    browsers.push(visitor)
    const visitorMedia: string[] = []
    visitor.page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/hls/')) visitorMedia.push(r.url())
    })
    const res = await visitor.page.goto(`${stack.http}/c/${owner.channel}`)
    expect(res?.status()).toBe(200)
    const html = await res!.text()
    expect(html).not.toContain('members night')
    await visitor.page.waitForFunction(() =>
      document.querySelector('#offline-overlay')?.textContent?.includes('only its members can watch'),
    )
    expect(visitorMedia).toEqual([])
  })
})
