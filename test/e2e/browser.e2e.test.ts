/**
 * The web app in a real browser (Debian's headless chromium via playwright-core), against the real
 * stack: nginx-rtmp in front of the app, Postgres, Redis, a real SMTP server for the confirmation
 * mail and ffmpeg as OBS. Every request the browser makes goes through the public nginx origin.
 *
 * The story: a broadcaster signs up through the form, confirms through the mail, logs in, sets a
 * title and creates a key on the dashboard; ffmpeg publishes with the server URL and key read from
 * the page. An anonymous viewer in a separate browser (own profile, no cookies) has the channel
 * open from before the stream starts: it turns live and plays without a reload, shows the viewer
 * count and the broadcaster's chat message, and turns offline when the publisher stops.
 */
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb } from '../../scripts/build-web.js'
import { chatter, TestSocket } from '../chat-client.js'
import { createUser, PASSWORD } from '../factories.js'
import { linkIn, type SmtpCapture, startSmtpCapture } from '../smtp.js'
import { launchBrowser, screenshot, seriousProblems, type TestBrowser } from '../support/browser.js'
import { type PublisherHandle, startPublisher } from '../support/ffmpeg.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let smtp: SmtpCapture
const browsers: TestBrowser[] = []
const publishers: PublisherHandle[] = []

beforeAll(async () => {
  // The pages reference the bundle by content hash; build it as `npm run build` would (≈1 s).
  await buildWeb()
  smtp = await startSmtpCapture()
  // A short reconnect window so "publisher stopped → offline" is observable in seconds.
  stack = await startStack({ notifyUpdateS: 2, env: { SMTP_URL: smtp.url, RECONNECT_WINDOW_S: '2' } })
}, 120_000)

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.stop()))
  await Promise.all(browsers.map((b) => b.close()))
  await stack?.stop()
  await smtp?.close()
})

async function browser(opts?: Parameters<typeof launchBrowser>[0]): Promise<TestBrowser> {
  const b = await launchBrowser(opts)
  browsers.push(b)
  return b
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref(),
    ),
  ])
}

/** The video's playback position and decode counters, read in the page. */
function media(page: Page) {
  return page.$eval('#video', (v: HTMLVideoElement) => ({
    currentTime: v.currentTime,
    paused: v.paused,
    readyState: v.readyState,
    buffered: v.buffered.length > 0 ? v.buffered.end(v.buffered.length - 1) - v.buffered.start(0) : 0,
    decodedFrames: v.getVideoPlaybackQuality().totalVideoFrames,
    width: v.videoWidth,
    /** NETWORK_EMPTY with nothing loaded: the player was torn down (currentSrc keeps the old URL). */
    stopped:
      v.networkState === HTMLMediaElement.NETWORK_EMPTY && v.readyState === HTMLMediaElement.HAVE_NOTHING,
  }))
}

/** The chat panel as text, for failure messages. */
function chatState(page: Page): Promise<string> {
  return page.evaluate(() =>
    JSON.stringify({
      status: document.querySelector('#chat-status')?.textContent,
      note: document.querySelector('#chat-note')?.textContent,
      input: (document.querySelector('#chat-input') as HTMLInputElement | null)?.value,
      log: [...document.querySelectorAll('#chat-log > *')].map((e) => e.textContent),
    }),
  )
}

/** Waits until the video has played at least one more second of media than it had. */
async function expectPlaying(page: Page, who: string) {
  await page.waitForFunction(
    () => (document.querySelector('#video') as HTMLVideoElement).currentTime > 0,
    null,
    {
      timeout: 30_000,
    },
  )
  const first = await media(page)
  await page.waitForFunction(
    (t) => (document.querySelector('#video') as HTMLVideoElement).currentTime > t + 1,
    first.currentTime,
    { timeout: 20_000 },
  )
  const later = await media(page)
  expect(later.currentTime, `${who}: currentTime advances`).toBeGreaterThan(first.currentTime + 1)
  expect(later.paused, `${who}: not paused`).toBe(false)
  expect(later.decodedFrames, `${who}: frames were decoded`).toBeGreaterThan(first.decodedFrames)
  expect(later.width, `${who}: decoded the test pattern's size`).toBe(320)
  expect(later.buffered, `${who}: buffered media`).toBeGreaterThan(0)
}

describe('the web app in a browser', () => {
  it('takes a broadcaster from sign-up to live, and a viewer watches and chats without logging in', async () => {
    const username = `nightowl_${randomBytes(2).toString('hex')}`
    const email = `${username}@example.test`
    const password = 'violet lantern orbit 42'
    const studio = await browser()
    const page = studio.page

    // Sign up through the form.
    await page.goto(`${stack.http}/signup`)
    await page.fill('#f-email', email)
    await page.fill('#f-username', username)
    await page.fill('#f-password', password)
    await screenshot(page, 'signup')
    await page.click('#signup-form button[type="submit"]')
    await page.waitForSelector('#form-status .notice-ok')
    expect(await page.textContent('#form-status')).toContain('Check your inbox')

    // Confirm through the mail the real SMTP server received.
    const mail = await within(smtp.next(email), 15_000, 'the confirmation mail')
    const link = linkIn(mail, `${stack.http}/verify-email?token=`)
    await page.goto(link.href)
    await page.waitForSelector('#form-status .notice-ok')
    expect(await page.textContent('#form-status')).toContain('Your email is confirmed')
    expect(page.url(), 'the one-time token is removed from the address bar').not.toContain('token=')

    // Log in; the dashboard signs in with the HttpOnly refresh cookie.
    await page.goto(`${stack.http}/login`)
    await page.fill('#f-email', email)
    await page.fill('#f-password', password)
    await page.click('#login-form button[type="submit"]')
    await page.waitForURL(`${stack.http}/dashboard`)
    await page.waitForSelector('#dashboard[data-ready="true"]')
    expect(await page.textContent('#dash-whoami')).toContain(username)

    await page.fill('#title-input', 'Late-night synth build: patching the filter')
    await page.click('#title-form button[type="submit"]')
    await page.waitForFunction(() => document.querySelector('#title-status')?.textContent === 'Saved')

    // Create a key and read the OBS settings from the page, as a broadcaster would.
    await page.fill('#key-label', 'OBS on the studio PC')
    await page.click('#key-form button[type="submit"]')
    await page.waitForSelector('#new-key:not([hidden])')
    const server = await page.inputValue('#obs-server')
    const key = await page.inputValue('#new-key-value')
    expect(server).toBe(stack.rtmp)
    expect(key).toMatch(/^live_[a-z0-9]+_[A-Za-z0-9_-]+$/)
    await page.waitForSelector('#keys td:has-text("OBS on the studio PC")')
    await screenshot(page, 'dashboard')
    await screenshot(page, 'dashboard-full', { fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, 'dashboard-phone', { fullPage: true })
    await page.setViewportSize({ width: 1280, height: 720 })

    // Nothing secret in script-readable storage: tokens live in memory and the HttpOnly cookie.
    const storage = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
    }))
    expect(storage).toEqual({ local: 0, session: 0, cookie: `live_user=${username}` })

    // An anonymous viewer, in a browser of its own, has the channel open before the stream starts.
    const viewer = await browser()
    const watch = viewer.page
    await watch.goto(`${stack.http}/`)
    await watch.waitForSelector('.empty-state')
    await screenshot(watch, 'home-empty')
    await watch.goto(`${stack.http}/c/${username}`)
    await watch.waitForSelector('#watch[data-state="offline"] #offline-overlay')
    expect(await watch.isVisible('#offline-overlay')).toBe(true)
    await watch.waitForFunction(() => document.querySelector('#chat-status')?.textContent === '')
    await screenshot(watch, 'channel-offline')
    await watch.evaluate(() => {
      ;(window as unknown as { sameDocument: boolean }).sameDocument = true
    })

    // OBS's stand-in goes live with what the dashboard showed.
    const pub = startPublisher({ url: `${server}/${key}` })
    publishers.push(pub)

    // The viewer's page turns live and plays by itself: no reload.
    await watch.waitForSelector('#watch[data-state="live"]', { timeout: 20_000 })
    await expectPlaying(watch, 'viewer')
    expect(await watch.getAttribute('#player', 'data-engine')).toBe('hls.js')
    expect(await watch.textContent('#channel-title')).toBe('Late-night synth build: patching the filter')

    // The broadcaster watches their own channel, loaded while live, and chats.
    await page.goto(`${stack.http}/c/${username}`)
    await expectPlaying(page, 'broadcaster')
    await page.waitForSelector('#chat-form:not([hidden])')
    expect(await page.textContent('.channel-actions')).toContain('Stream settings')

    // Two sockets on the channel: the signed-in broadcaster and the anonymous viewer.
    await watch.waitForSelector('#viewers[data-count="2"]', { timeout: 20_000 })
    expect(await watch.textContent('#viewers')).toBe('2 viewers')

    await page.fill('#chat-input', 'hello from the studio, welcome in!')
    await page.press('#chat-input', 'Enter')
    const line = watch.locator('.msg', { hasText: 'hello from the studio, welcome in!' })
    await line.waitFor({ timeout: 20_000 }).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\nbroadcaster: ${await chatState(page)}\nviewer: ${await chatState(watch)}`,
      )
    })
    expect(await line.locator('.msg-user').textContent()).toBe(username)
    expect(await line.locator('.msg-badge').textContent()).toBe('Broadcaster')
    // Anonymous: can read, cannot write, and is invited to log in.
    expect(await watch.isVisible('#chat-form')).toBe(false)
    expect(await watch.textContent('#chat-note')).toContain('Log in')

    // Another viewer (a plain WebSocket client) chats; one message is spam, and the broadcaster
    // deletes it with the moderation controls on their own page.
    const fan = await chatter(stack.deps, stack.http, {
      username: `synthfan_${randomBytes(2).toString('hex')}`,
    })
    const fanSocket = await TestSocket.join(`${stack.http.replace(/^http/, 'ws')}/ws/channels/${username}`, {
      ticket: await fan.ticket(),
      origin: stack.http,
    })
    try {
      for (const text of [
        'first time here, that filter sweep sounds huge',
        'what oscillator is that?',
        'FREE FOLLOWERS at spam.example',
      ]) {
        expect((await fanSocket.request({ type: 'chat.send', text })).type).toBe('ack')
      }
    } finally {
      fanSocket.close()
    }
    const spam = page.locator('.msg', { hasText: 'FREE FOLLOWERS' })
    await spam.hover()
    await spam.locator('button[data-mod="delete"]').click()
    await watch
      .locator('.msg-deleted', { hasText: 'message deleted by a moderator' })
      .waitFor({ timeout: 20_000 })
    expect(await watch.locator('.msg', { hasText: 'what oscillator is that?' }).count()).toBe(1)
    expect(
      await watch.locator('.msg-actions').count(),
      'no moderation controls for an anonymous viewer',
    ).toBe(0)

    // Let hls.js settle a moment of playback for a representative picture.
    await watch.waitForFunction(() => !document.querySelector('#watch')?.classList.contains('is-waiting'))
    await screenshot(watch, 'channel')
    const phone = await viewer.context.newPage()
    await phone.setViewportSize({ width: 390, height: 844 })
    await phone.goto(`${stack.http}/c/${username}`)
    await expectPlaying(phone, 'phone')
    await phone.waitForSelector('.msg')
    await screenshot(phone, 'channel-phone')
    await phone.close()

    // The live directory lists the channel with its title and viewers.
    const home = await viewer.context.newPage()
    await home.goto(`${stack.http}/`)
    const card = home.locator(`a[href="/c/${username}"]`)
    await card.waitFor()
    expect(await card.textContent()).toContain('Late-night synth build')
    await screenshot(home, 'home')
    await home.close()

    // The publisher stops: the viewer's page turns offline in place.
    await pub.stop()
    await watch.waitForSelector('#watch[data-state="offline"]', { timeout: 20_000 })
    expect(await watch.isVisible('#offline-overlay')).toBe(true)
    expect((await media(watch)).stopped, 'the player was stopped').toBe(true)
    expect(await watch.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    )

    // Logging out ends the session on the server: the dashboard then asks to log in again.
    await page.click('#account [data-action="logout"]')
    await page.waitForURL(`${stack.http}/`)
    await page.waitForSelector('#account a[href="/signup"]')
    await page.goto(`${stack.http}/dashboard`)
    await page.waitForURL(/\/login\?next=%2Fdashboard$/)

    const problems = [...studio.problems, ...viewer.problems]
    expect(seriousProblems(problems), problems.join('\n')).toEqual([])
  }, 240_000)

  it('resets a forgotten password through the mailed link, then logs in with the new one', async () => {
    const user = await createUser(stack.deps)
    const b = await browser()
    const page = b.page
    await page.goto(`${stack.http}/forgot-password`)
    await page.fill('#f-email', user.email)
    await page.click('#forgot-form button[type="submit"]')
    await page.waitForSelector('#form-status .notice-ok')

    const mail = await within(smtp.next(user.email), 15_000, 'the reset mail')
    await page.goto(linkIn(mail, `${stack.http}/reset-password?token=`).href)
    expect(page.url(), 'the one-time token is removed from the address bar').not.toContain('token=')
    const password = 'amber kettle drifting north'
    await page.fill('#f-password', password)
    await page.fill('#f-confirm', `${password}!`)
    await page.click('#reset-form button[type="submit"]')
    expect(await page.textContent('[data-error-for="confirm"]')).toBe('The two passwords differ')
    await page.fill('#f-confirm', password)
    await page.click('#reset-form button[type="submit"]')
    await page.waitForSelector('#form-status .notice-ok')

    await page.goto(`${stack.http}/login`)
    await page.fill('#f-email', user.email)
    await page.fill('#f-password', PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await page.waitForSelector('#form-status .notice-error')
    expect(await page.textContent('#form-status')).toContain('Wrong email or password')
    await page.fill('#f-password', password)
    await page.click('#login-form button[type="submit"]')
    await page.waitForURL(`${stack.http}/dashboard`)
    await page.waitForSelector('#dashboard[data-ready="true"]')
    // The one 401 the browser logs is the old password's refused login, on purpose.
    const unexpected = seriousProblems(b.problems).filter((p) => !/\/login console: .* 401 /.test(p))
    expect(unexpected, b.problems.join('\n')).toEqual([])
  })

  it('renders the pages on the server, so they still say something useful without JavaScript', async () => {
    const nojs = await browser({ javaScriptEnabled: false })
    const page = nojs.page
    await page.goto(`${stack.http}/`)
    expect(await page.textContent('h1')).toBe('Live now')
    await page.goto(`${stack.http}/c/nobody_here`)
    expect(await page.textContent('h1')).toContain('nobody_here')
    const signup = await page.goto(`${stack.http}/signup`)
    expect(signup?.status()).toBe(200)
    // A submit without scripts posts to the page itself and is refused in words, not processed.
    await page.fill('#f-email', 'x@example.test')
    await page.click('#signup-form button[type="submit"]')
    expect(await page.textContent('.notice-error')).toContain('needs JavaScript')
    expect(page.url()).toBe(`${stack.http}/signup`)
  })
})
