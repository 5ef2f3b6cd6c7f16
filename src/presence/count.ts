/** @module presence/count — reading viewer counts from the presence sets (entries carry their expiry as score). */
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'

/** Counts unexpired entries; expired ones (a crashed instance's viewers) simply stop counting. */
export async function countViewers(
  redis: Redis,
  keys: Keys,
  channels: string[],
  now: number,
): Promise<Map<string, number>> {
  if (channels.length === 0) return new Map()
  const pipeline = redis.pipeline()
  for (const ch of channels) pipeline.zcount(keys.presence(ch), `(${now}`, '+inf')
  const results = (await pipeline.exec()) ?? []
  return new Map(channels.map((ch, i) => [ch, Number(results[i]?.[1] ?? 0)]))
}
