/**
 * Prometheus metrics end to end: a real ffmpeg publisher through nginx-rtmp, chat over a
 * WebSocket through the public origin, and `/metrics` scraped from the app's own port — parsed,
 * not grepped. The public origin must not serve it at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatter, TestSocket } from '../chat-client.js'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import { broadcaster } from '../support/live-helpers.js'
import { parseExposition, sample } from '../support/prom.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack

beforeAll(async () => {
  // A short reconnect window so "stopped → no longer counted" is observable in seconds.
  stack = await startStack({ notifyUpdateS: 2, env: { RECONNECT_WINDOW_S: '2' } })
})
afterAll(async () => {
  await stack?.stop()
})

/** A scrape as Prometheus on the same host does it: straight to the app port, from loopback. */
async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.apps[0]!.port}/metrics`)
  expect(res.status).toBe(200)
  const text = await res.text()
  parseExposition(text) // every line must be valid exposition format
  return text
}

const streams = async (state: 'live' | 'reconnecting') =>
  sample(await scrape(), 'live_streams', { node: stack.nodeId, state })

describe('GET /metrics', () => {
  it('follows a stream 0 → 1 → 0 and counts chat sent and delivered', async () => {
    const before = await scrape()
    expect(sample(before, 'live_streams', { node: stack.nodeId, state: 'live' })).toBe(0)
    expect(sample(before, 'live_ingest_up', { node: stack.nodeId })).toBe(1)
    expect(sample(before, 'live_ingest_publishers', { node: stack.nodeId })).toBe(0)

    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    try {
      await waitFor(async () => (await streams('live')) === 1, { timeoutMs: 20_000, what: 'live_streams 1' })
      // The ingest's own view, from its /stat: the publisher, bytes arriving, the hls relay. The
      // relay is nginx's `push`, which connects on its own schedule after the publish is accepted
      // (CI once scraped between the two), so all three are waited for together.
      const live = await waitFor(
        async () => {
          const text = await scrape()
          return (sample(text, 'live_ingest_received_bytes_total', { node: stack.nodeId }) ?? 0) > 0 &&
            sample(text, 'live_ingest_publishers', { node: stack.nodeId }) === 1 &&
            (sample(text, 'live_ingest_clients', { node: stack.nodeId, app: 'hls' }) ?? 0) >= 1
            ? text
            : null
        },
        { timeoutMs: 20_000, what: 'the ingest reporting the publisher and its hls relay' },
      )
      expect(sample(live, 'live_ingest_clients', { node: stack.nodeId, app: 'live' })).toBeGreaterThanOrEqual(
        1,
      )
      expect(
        sample(live, 'live_hook_decisions_total', { hook: 'publish', outcome: 'accepted', reason: '' }),
      ).toBeGreaterThanOrEqual(1)

      // Chat while live, over a WebSocket through the public origin.
      const fan = await chatter(stack.deps, stack.http)
      const socket = await TestSocket.join(`${stack.http.replace(/^http/, 'ws')}/ws/channels/${b.channel}`, {
        ticket: await fan.ticket(),
        origin: stack.http,
      })
      try {
        const mid = await scrape()
        expect(sample(mid, 'live_websocket_connections')).toBeGreaterThanOrEqual(1)
        const sent0 = sample(mid, 'live_chat_messages_sent_total')!
        const delivered0 = sample(mid, 'live_chat_messages_delivered_total')!
        for (const text of ['hello from the metrics test', 'and a second line'])
          expect((await socket.request({ type: 'chat.send', text })).type).toBe('ack')
        await socket.next((f) => f.type === 'chat' && f.text === 'and a second line')
        // A refusal is counted apart, by reason.
        expect((await socket.request({ type: 'chat.send', text: 'and a second line' })).code).toBe(
          'DUPLICATE',
        )
        const after = await waitFor(
          async () => {
            const text = await scrape()
            return sample(text, 'live_chat_messages_delivered_total')! >= delivered0 + 2 ? text : null
          },
          { what: 'both messages counted as delivered' },
        )
        expect(sample(after, 'live_chat_messages_sent_total')).toBe(sent0 + 2)
        expect(sample(after, 'live_chat_messages_refused_total', { reason: 'DUPLICATE' })).toBe(1)
      } finally {
        socket.close()
      }
    } finally {
      await pub.stop()
    }

    // Stopped: reconnecting for the window, then neither.
    await waitFor(async () => (await streams('live')) === 0 && (await streams('reconnecting')) === 0, {
      timeoutMs: 20_000,
      what: 'live_streams back to 0',
    })
    await waitFor(
      async () => sample(await scrape(), 'live_ingest_publishers', { node: stack.nodeId }) === 0,
      {
        what: 'the ingest reporting no publisher',
      },
    )
  })

  it('is not served on the public origin, however the path is spelled', async () => {
    for (const path of [
      '/metrics',
      '/metrics/',
      '/metrics?format=text',
      '//metrics',
      '/./metrics',
      '/%6Detrics',
    ]) {
      const res = await fetch(`${stack.http}${path}`)
      expect(res.status, path).toBe(404)
      expect(await res.text(), path).not.toContain('live_')
    }
  })
})
