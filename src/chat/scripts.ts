/**
 * @module chat/scripts — the Lua behind chat: admission + ordered publish, and sequence
 * seeding. Time always comes in as ARGV (the caller's injected clock); PEXPIRE only
 * garbage-collects idle keys. Every key a script touches belongs to the channel's partition
 * (redis/keys.ts), so each runs in one hash slot of a Redis Cluster (scriptKeys below).
 */
import type { Keys } from '../redis/keys.js'

/**
 * Sends one chat message: the admission check (optional) and the publish, in ONE round trip.
 *
 * Admission — everything a message must pass in Redis, checked and recorded together so
 * concurrent sends on different instances cannot overshoot: slow mode, duplicate text, then the
 * sliding-window rate limit. Nothing is recorded unless all pass.
 *
 * Publish — allocates the next sequence number, appends the frame to the history stream and
 * publishes it. Because Redis runs scripts one at a time, the order subscribers see equals the
 * sequence order equals the history order: a reader that subscribes first and then reads the
 * stream can never fall into a gap between the two.
 *
 * Persist — the same step appends the frame to the partition's `chat:persist` stream, whose consumer group
 * writes Postgres (chat/store.ts): an acknowledged message is durable whatever Postgres is doing.
 *
 * KEYS: state hash (seq, floor), history stream, pub/sub topic, rate zset, last-message hash,
 *       persist stream
 * ARGV: frame head (ends with `"seq":`), frame tail, stream MAXLEN, stream TTL ms,
 *       gate ('1' = check admission), now, rate window ms, rate max, slow mode ms, duplicate ms,
 *       text hash, unique member, channel id, sender's user id
 * → {1, seq} · {2, retryMs} slow mode · {3, retryMs} duplicate · {4, retryMs} rate limited
 *   · {-1} the sequence state is missing and must be seeded from Postgres first (nothing recorded)
 */
export const SEND_MESSAGE = `
local gate = ARGV[5] == '1'
local now = tonumber(ARGV[6])
local window = tonumber(ARGV[7])
local slow = tonumber(ARGV[9])
local dup = tonumber(ARGV[10])
if gate then
  local last = redis.call('HMGET', KEYS[5], 'at', 'hash')
  local lastAt = tonumber(last[1])
  if slow > 0 and lastAt and now - lastAt < slow then return {2, slow - (now - lastAt)} end
  if dup > 0 and lastAt and last[2] == ARGV[11] and now - lastAt < dup then return {3, dup - (now - lastAt)} end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[8]) then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    return {4, math.max(1, tonumber(oldest[2]) + window - now)}
  end
end
if not redis.call('HGET', KEYS[1], 'seq') then return {-1} end
if gate then
  redis.call('ZADD', KEYS[4], now, ARGV[12])
  redis.call('PEXPIRE', KEYS[4], window)
  redis.call('HSET', KEYS[5], 'at', now, 'hash', ARGV[11])
  redis.call('PEXPIRE', KEYS[5], math.max(slow, dup, 1000))
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HSET', KEYS[1], 'floor', seq) end
local frame = ARGV[1] .. seq .. ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], seq .. '-0', 'f', frame)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SPUBLISH', KEYS[3], 'm ' .. seq .. '\\n' .. frame)
-- The durable copy is owed from here on: chat/store.ts writes it to Postgres with retries.
redis.call('XADD', KEYS[6], '*', 'c', ARGV[13], 'u', ARGV[14], 'f', frame)
return {1, seq}
`

/**
 * Seeds a lost sequence state: never below Postgres' highest stored seq (ARGV[1]) nor the
 * stream's last generated id, so no seq is ever handed out twice. Entries already in the stream
 * are not trusted as complete (floor = next seq), so reads fall back to Postgres for them.
 * KEYS: state hash, history stream · ARGV: highest seq in Postgres → the current seq
 */
export const SEED_SEQ = `
local floor = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      local s = tonumber(string.match(info[i + 1], '^(%d+)'))
      if s and s > floor then floor = s end
    end
  end
end
if redis.call('HSETNX', KEYS[1], 'seq', floor) == 1 then
  redis.call('HSET', KEYS[1], 'floor', floor + 1)
end
return tonumber(redis.call('HGET', KEYS[1], 'seq'))
`

/**
 * The KEYS of each script above, in order. A send without admission (`gate` off) passes the state
 * hash in the rate and last-message places: same slot, never touched.
 */
export const scriptKeys = {
  sendMessage: (k: Keys, channel: string, userId?: string) => [
    k.chatSeq(channel),
    k.chatHistory(channel),
    k.chatTopic(channel),
    userId ? k.chatRate(channel, userId) : k.chatSeq(channel),
    userId ? k.chatLast(channel, userId) : k.chatSeq(channel),
    k.chatPersist(channel),
  ],
  seedSeq: (k: Keys, channel: string) => [k.chatSeq(channel), k.chatHistory(channel)],
}
