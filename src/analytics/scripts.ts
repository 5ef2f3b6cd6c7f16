/**
 * @module analytics/scripts — the Lua of the view rule. One key (the channel's viewer zset), so it
 * runs in the channel's slot on a Redis Cluster (scriptKeys below).
 */
import type { Keys } from '../redis/keys.js'

/**
 * Records a batch of viewers seen by one instance and says which of them started a new view: a
 * viewer is new unless their last segment (from any instance) is at most `gap` before this
 * window's first. Redis runs scripts one at a time, so two instances that both saw a newcomer
 * count one view. Then drops viewers gone longer than the gap and counts the active ones.
 *
 * KEYS: viewer zset (member viewer id, score last segment ms)
 * ARGV: gap ms, active-since ms, drop-before ms, key TTL ms, then per viewer: id, first ms, last ms
 * → {active viewers, index (1-based, in ARGV order) of each new view…}
 */
export const RECORD_VIEWERS = `
local gap = tonumber(ARGV[1])
local out = {0}
local n = 0
for i = 5, #ARGV, 3 do
  n = n + 1
  local first = tonumber(ARGV[i + 1])
  local last = tonumber(ARGV[i + 2])
  local old = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
  if not old or first - old > gap then out[#out + 1] = n end
  if not old or last > old then redis.call('ZADD', KEYS[1], last, ARGV[i]) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
out[1] = redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return out
`

export const scriptKeys = {
  recordViewers: (k: Keys, channel: string) => [k.analyticsViewers(channel)],
}
