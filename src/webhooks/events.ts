/**
 * @module webhooks/events — the event catalog: every type an endpoint can subscribe to, and the
 * payload each one carries. A new event (`video.ready`, `stream.thumbnail`, …) is one entry in
 * WEBHOOK_EVENTS plus a call to `emitWebhookEvent` where it is decided; nothing else changes.
 *
 * Every body follows the Standard Webhooks shape `{type, timestamp, data}` (plus `sequence`); `timestamp` is when
 * the event happened (ISO 8601), not when it was sent (that is the `webhook-timestamp` header).
 */
import type { StreamEvent } from '../live/events.js'

export const WEBHOOK_EVENTS = [
  'stream.online',
  'stream.reconnecting',
  'stream.resumed',
  'stream.offline',
  'follow.created',
  'video.ready',
  'stream.thumbnail',
  'webhook.test',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number]

/** What subscribers may list: `webhook.test` goes to the one endpoint being tested, whatever it lists. */
export const SUBSCRIBABLE_EVENTS = WEBHOOK_EVENTS.filter((e) => e !== 'webhook.test')

export type StreamData = { channel: string; sessionId: string; startedAt: string }

export type WebhookEventData = {
  'stream.online': StreamData
  'stream.reconnecting': StreamData
  'stream.resumed': StreamData
  'stream.offline': StreamData & { endedAt: string; reason: string }
  'follow.created': { channel: string; follower: { id: string; username: string }; followedAt: string }
  'webhook.test': { endpointId: string; message: string }
  'video.ready': {
    id: string
    channel: string
    sessionId: string
    title: string
    durationS: number
    playbackUrl: string
    downloadUrl: string
    thumbnailUrl: string
  }
  'stream.thumbnail': { channel: string; sessionId: string; thumbnailUrl: string }
}

export type WebhookEvent<T extends WebhookEventType = WebhookEventType> = {
  type: T
  /** When it happened (ms since epoch). */
  at: number
  /** The owner whose endpoints receive it. */
  userId: string
  /** Unique per event: an event recorded twice (at-least-once consumers) is delivered once. */
  key: string
  data: WebhookEventData[T]
}

/** The webhook event owed for one lifecycle event of the `events` stream. */
export function fromStreamEvent(e: StreamEvent): WebhookEvent {
  const base = { channel: e.channel, sessionId: e.sessionId, startedAt: new Date(e.startedAt).toISOString() }
  const common = { at: e.at, userId: e.userId, key: `${e.type}:${e.sessionId}:${e.at}` }
  if (e.type === 'stream.offline') {
    return {
      ...common,
      type: e.type,
      data: { ...base, endedAt: new Date(e.endedAt).toISOString(), reason: e.reason },
    }
  }
  return { ...common, type: e.type, data: base }
}

/**
 * The exact JSON body of one delivery, built once and sent unchanged on every attempt. `sequence`
 * (the endpoint's delivery number) is in the body so the signature covers it.
 */
export function webhookBody(e: WebhookEvent, sequence: number): string {
  return JSON.stringify({ type: e.type, timestamp: new Date(e.at).toISOString(), sequence, data: e.data })
}
