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
  // One command per channel, sent together by auto-pipelining (grouped per node on a Cluster,
  // where an explicit pipeline must not span slots).
  const counts = await Promise.all(channels.map((ch) => redis.zcount(keys.presence(ch), `(${now}`, '+inf')))
  return new Map(channels.map((ch, i) => [ch, counts[i]!]))
}
