/** @module live/entry — a channel's live entry as stored in Redis, and the rules for how it ends. */
import type { EndReason } from '../db/schema/index.js'

export type LiveState = 'live' | 'reconnecting'

export type LiveEntry = {
  channel: string
  state: LiveState
  sessionId: string
  node: string
  clientId: string
  keyId: string
  userId: string
  channelId: string
  startedAt: number
  deadline: number
  lastUpdateAt: number
  leftAt: number | null
  reconnects: number
  /** When the plan's maximum session duration is reached. */
  maxEndAt: number
  /** Why the publisher was dropped into the reconnect window, if not by leaving (e.g. idle). */
  pendingReason: EndReason | null
}

/** Ends that must stick even if the publisher keeps sending on_update (vs. ingest_lost, publisher_left). */
export const DELIBERATE: ReadonlySet<EndReason> = new Set([
  'key_revoked',
  'kicked',
  'account_disabled',
  'max_duration',
  'idle',
  'replaced',
])

export function parseEntry(channel: string, flat: string[] | null): LiveEntry | null {
  if (!flat || flat.length === 0) return null
  const h: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!
  if (!h.state || !h.sessionId) return null
  return {
    channel,
    state: h.state as LiveState,
    sessionId: h.sessionId,
    node: h.node ?? '',
    clientId: h.clientId ?? '',
    keyId: h.keyId ?? '',
    userId: h.userId ?? '',
    channelId: h.channelId ?? '',
    startedAt: Number(h.startedAt),
    deadline: Number(h.deadline),
    lastUpdateAt: Number(h.lastUpdateAt ?? h.startedAt),
    leftAt: h.leftAt ? Number(h.leftAt) : null,
    reconnects: Number(h.reconnects ?? 0),
    maxEndAt: Number(h.maxEndAt ?? Number.MAX_SAFE_INTEGER),
    pendingReason: (h.pendingReason as EndReason | undefined) ?? null,
  }
}

/** Why a session whose deadline passed ends: the plan limit first, then how it was last seen. */
export function dueReason(entry: LiveEntry, now: number): EndReason {
  if (entry.maxEndAt <= now) return 'max_duration'
  return entry.state === 'reconnecting' ? (entry.pendingReason ?? 'publisher_left') : 'ingest_lost'
}
