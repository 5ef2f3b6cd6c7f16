/**
 * @module analytics/qoe-summary — quality of experience of a channel's playback over a range, from
 * our player's reports. A stub until the QoE reports land (analytics-qoe branch replaces the
 * body; the signature is the contract the analytics API calls).
 */
import type { Db } from '../db/client.js'

export type QoeSummary = {
  startupMsP50: number | null
  rebufferRatio: number | null
  latencyMsP50: number | null
}

export async function qoeSummary(_db: Db, _channelId: string, _from: Date, _to: Date): Promise<QoeSummary> {
  return { startupMsP50: null, rebufferRatio: null, latencyMsP50: null }
}
