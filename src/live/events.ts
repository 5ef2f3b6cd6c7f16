/**
 * @module live/events — stream lifecycle events, as the registry's Lua scripts write them (scripts.ts).
 * Durable: the Redis Stream `events`; every transition is one entry, written in the same script
 * as the transition itself — `stream.online` and `stream.offline` exactly once per session, with
 * `stream.resumed` / `stream.reconnecting` in between. Live: the same JSON on the channel's pub/sub
 * topic for open pages and chat sockets. Everything read back is validated here before use: a
 * malformed entry (another version, a hand-written XADD) is skipped, never thrown.
 */
import { z } from 'zod'
import { END_REASONS } from '../db/schema/index.js'

const base = {
  channel: z.string().min(1),
  sessionId: z.string().uuid(),
  channelId: z.string().uuid(),
  userId: z.string().uuid(),
  keyId: z.string().min(1),
  node: z.string().min(1),
  clientId: z.string().min(1),
  startedAt: z.number().int().positive(),
  reconnects: z.number().int().min(0).default(0),
  at: z.number().int().positive(),
}

export const StreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stream.online'), ...base }),
  z.object({ type: z.literal('stream.resumed'), ...base }),
  z.object({ type: z.literal('stream.reconnecting'), ...base }),
  z.object({
    type: z.literal('stream.offline'),
    ...base,
    reason: z.enum(END_REASONS),
    endedAt: z.number().int().positive(),
    wasLive: z.boolean(),
  }),
])

export type StreamEvent = z.output<typeof StreamEventSchema>

/** One event from its JSON (pub/sub payload or the stream entry's `data` field); null if invalid. */
export function parseStreamEvent(json: string): StreamEvent | null {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    return null
  }
  const parsed = StreamEventSchema.safeParse(raw)
  return parsed.success ? parsed.data : null
}

/**
 * The events of a batch of stream entries, each with its entry; a malformed entry is reported
 * to `onMalformed` (to be logged and acknowledged: a retry cannot fix it) and left out.
 */
export function parseEventEntries<E extends { id: string; fields: string[] }>(
  entries: E[],
  onMalformed: (id: string) => void,
): { entry: E; event: StreamEvent }[] {
  const out: { entry: E; event: StreamEvent }[] = []
  for (const entry of entries) {
    const data = entryData(entry.fields)
    const event = data === null ? null : parseStreamEvent(data)
    if (event) out.push({ entry, event })
    else onMalformed(entry.id)
  }
  return out
}

/** The `data` field of a stream entry's flat field list. */
export function entryData(fields: string[]): string | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'data') return fields[i + 1]!
  return null
}
