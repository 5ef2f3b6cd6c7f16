/**
 * Webhooks end to end: a real broadcast (ffmpeg → nginx-rtmp → hooks → events stream) reaches a
 * receiver on 127.0.0.1 as signed `stream.online`, `stream.reconnecting` and `stream.offline` (with
 * its end reason), in sequence order. The endpoint is created through nginx's public origin; the
 * dashboard's webhook panel is driven in Chromium.
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, PASSWORD } from '../factories.js'
import { launchBrowser, screenshot, seriousProblems } from '../support/browser.js'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import { broadcaster, channelStatus } from '../support/live-helpers.js'
import { sample } from '../support/prom.js'
import { type Stack, startStack } from '../support/stack.js'
import { type Receiver, startReceiver } from '../support/webhook-receiver.js'

describe('webhooks from a real broadcast', () => {
  let stack: Stack
  let rx: Receiver
  beforeAll(async () => {
    rx = await startReceiver()
    stack = await startStack({
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '100', RECONNECT_WINDOW_S: '1' },
    })
  })
  afterAll(async () => {
    await stack?.stop()
    await rx?.close()
  })

  it('delivers stream.online, then stream.offline with the end reason', async () => {
    const b = await broadcaster(stack.deps)
    const res = await fetch(`${stack.http}/api/v1/webhooks`, {
      method: 'POST',
      headers: { ...b.auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: rx.url,
        events: ['stream.online', 'stream.reconnecting', 'stream.resumed', 'stream.offline'],
      }),
    })
    expect(res.status).toBe(201)
    const { secret } = (await res.json()) as { secret: string }

    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'live', {
        timeoutMs: 15_000,
        what: `${b.channel} live`,
      })
      await waitFor(() => rx.received.some((r) => r.json.type === 'stream.online'), { what: 'stream.online' })
    } finally {
      await pub.stop()
    }
    await waitFor(() => rx.received.some((r) => r.json.type === 'stream.offline'), {
      timeoutMs: 20_000,
      what: 'stream.offline',
    })
    const events = rx.received.map((r) => ({
      ...(new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
        type: string
        sequence: number
        data: { channel: string; reason?: string }
      }),
    }))
    expect(events.map((e) => e.type)).toEqual(['stream.online', 'stream.reconnecting', 'stream.offline'])
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3])
    expect(events.every((e) => e.data.channel === b.channel)).toBe(true)
    expect(events.at(-1)!.data.reason).toBe('publisher_left')
    // Never a secret in the app's log.
    expect(stack.appLogs()).not.toContain(secret.slice(6))
    // Counted in the app's metrics: three delivered attempts, nothing left pending.
    await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${stack.apps[0]!.port}/metrics`)).text()
        return (
          sample(text, 'live_webhook_attempts_total', { outcome: 'delivered' }) === 3 &&
          sample(text, 'live_webhook_pending_deliveries') === 0
        )
      },
      { what: 'webhook metrics' },
    )
  })

  it('the dashboard adds an endpoint (secret shown once), sends a test and shows the delivery', async () => {
    const user = await createUser(stack.deps)
    const b = await launchBrowser()
    try {
      const { page } = b
      await page.goto(`${stack.http}/login`)
      await page.fill('#f-email', user.email)
      await page.fill('#f-password', PASSWORD)
      await page.click('#login-form button[type="submit"]')
      await page.waitForURL(`${stack.http}/dashboard`)
      await page.waitForSelector('#dashboard[data-ready="true"]')
      await page.fill('#webhook-url', rx.url)
      await page.check('input[name="events"][value="follow.created"]')
      await page.click('#webhook-form button[type="submit"]')
      await page.waitForSelector('#new-secret:not([hidden])')
      const secret = await page.inputValue('#new-secret-value')
      expect(secret).toMatch(/^whsec_/)
      await page.waitForSelector(`#webhooks td:has-text("${rx.url}")`)
      expect(await page.textContent('#webhooks')).toContain('follow.created')
      await page.click('#new-secret-done')
      expect(await page.inputValue('#new-secret-value')).toBe('')

      const before = rx.received.length
      await page.click('#webhooks button:has-text("Send test")')
      await waitFor(() => rx.received.length > before, { what: 'the test delivery' })
      const got = rx.received.at(-1)!
      expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toMatchObject({
        type: 'webhook.test',
      })
      // The log shows it delivered (reloaded until the worker recorded it).
      await waitFor(
        async () => {
          await page.click('#webhooks button:has-text("Deliveries")')
          return (await page.textContent('#webhook-deliveries'))?.includes('delivered')
        },
        { what: 'the delivery in the log' },
      )
      await screenshot(page, 'dashboard-webhooks', { fullPage: true })
      expect(seriousProblems(b.problems)).toEqual([])
    } finally {
      await b.close()
    }
  })
})
