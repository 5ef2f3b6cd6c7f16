/**
 * @module analytics/buckets — UTC time buckets. Every boundary is computed on epoch milliseconds
 * (UTC by construction), never with local-time Date methods, so the server's time zone cannot
 * move a bucket.
 */
import type { Granularity } from '../db/schema/index.js'

export const STEP_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

/** The longest range each bucket size may be asked for (bounds the points and rows of one query). */
export const MAX_RANGE_MS: Record<Granularity, number> = {
  minute: 2 * 86_400_000,
  hour: 93 * 86_400_000,
  day: 3660 * 86_400_000,
}

/** Start of the bucket holding `ms`. */
export function floorTo(ms: number, g: Granularity): number {
  const step = STEP_MS[g]
  return Math.floor(ms / step) * step
}

/** Bucket starts covering [from, to): the first is the bucket holding `from`. */
export function bucketStarts(from: number, to: number, g: Granularity): number[] {
  const out: number[] = []
  for (let t = floorTo(from, g); t < to; t += STEP_MS[g]) out.push(t)
  return out
}
