/**
 * @module live/scripts — the Lua scripts that move a channel's live state atomically.
 * Each script touches only keys it is given (KEYS), so a multi-instance deployment can never
 * interleave two transitions of one channel — and all of them are keys of the channel's partition
 * (redis/keys.ts), one hash slot, so the scripts run unchanged on a Redis Cluster.
 *
 * Every transition also records its event in the same script (one durable path, DESIGN.md): XADD
 * to the partition's `events` stream, which live/effects.ts applies to Postgres and the ingest
 * with retries, and SPUBLISH (sharded pub/sub, served by the slot's own node) of the same JSON to
 * the channel's topic for open pages and chat sockets. A crash after a script returns can no
 * longer lose the history row or the drop that follows from it.
 *
 * The publisher → channel index (live:client) and the end tombstone (live:ended) are found by
 * (node, clientId) alone, so they cannot share the channel's slot: the registry writes them
 * around the scripts, and every script re-checks (node, clientId) against the channel hash, so a
 * stale index entry can never move a session.
 *
 * Hash fields of live:ch:{channel}: state (live|reconnecting), sessionId, node, clientId, keyId,
 * userId, channelId, startedAt, deadline, lastUpdateAt, leftAt, reconnects, maxEndAt (plan limit),
 * pendingReason (why the publisher was dropped into the reconnect window, e.g. idle).
 * The sweeper's zset score is min(deadline, maxEndAt): whichever comes first ends the session.
 *
 * Event JSON (live/events.ts validates it on read): type, channel, sessionId, channelId, userId,
 * keyId, node, clientId, startedAt (ms), at (ms), reconnects; offline adds reason, endedAt (ms) and
 * wasLive (the publisher was still connected, so the ingest must drop it).
 */

import type { Keys } from '../redis/keys.js'

/** Shared by every script: builds the event from the channel hash and records + publishes it. */
const EMIT = `
local function emit(streamKey, topicKey, etype, h, extra)
  local ev = {type = etype, channel = h.channel, sessionId = h.sessionId, channelId = h.channelId,
    userId = h.userId, keyId = h.keyId, node = h.node, clientId = h.clientId,
    startedAt = tonumber(h.startedAt), reconnects = tonumber(h.reconnects or '0')}
  for k, v in pairs(extra) do ev[k] = v end
  local data = cjson.encode(ev)
  redis.call('XADD', streamKey, '*', 'type', etype, 'data', data)
  redis.call('SPUBLISH', topicKey, data)
end
local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h, flat
end
`

/**
 * KEYS: chKey, deadlines, started, kickedKey, events, topic
 * ARGV: channel, sessionId, node, clientId, keyId, userId, channelId, now, liveTtlMs, gcMs,
 *       maxSessionMs, adoptSessionId, adoptStartedAt (both '' unless re-adopting a known session)
 * → {'started'|'resumed'|'adopted'|'same'|'busy'|'stale'|'kicked', sessionId, startedAt}
 */
export const PUBLISH = `${EMIT}
local now = tonumber(ARGV[8])
if redis.call('EXISTS', KEYS[4]) == 1 then return {'kicked', '', ''} end
local f = redis.call('HMGET', KEYS[1], 'state', 'sessionId', 'node', 'clientId', 'deadline', 'startedAt', 'maxEndAt')
local state, sid = f[1], f[2]
if state then
  if math.min(tonumber(f[5]), tonumber(f[7] or f[5])) <= now then return {'stale', sid, f[6]} end
  if state == 'live' then
    if f[3] == ARGV[3] and f[4] == ARGV[4] then return {'same', sid, f[6]} end
    return {'busy', sid, f[6]}
  end
end
local deadline = now + tonumber(ARGV[9])
local outcome = 'started'
if state == 'reconnecting' then
  outcome = 'resumed'
  redis.call('HSET', KEYS[1], 'state', 'live', 'node', ARGV[3], 'clientId', ARGV[4], 'keyId', ARGV[5],
    'deadline', deadline, 'lastUpdateAt', now)
  redis.call('HDEL', KEYS[1], 'leftAt', 'pendingReason')
  redis.call('HINCRBY', KEYS[1], 'reconnects', 1)
else
  sid = ARGV[2]
  local startedAt = now
  if ARGV[12] ~= '' then
    -- The registry lost a session Postgres still has open (Redis restarted empty): continue it.
    outcome = 'adopted'
    sid = ARGV[12]
    startedAt = tonumber(ARGV[13])
  end
  redis.call('HSET', KEYS[1], 'state', 'live', 'channel', ARGV[1], 'sessionId', sid, 'node', ARGV[3],
    'clientId', ARGV[4], 'keyId', ARGV[5], 'userId', ARGV[6], 'channelId', ARGV[7], 'startedAt', startedAt,
    'deadline', deadline, 'lastUpdateAt', now, 'reconnects', 0, 'maxEndAt', startedAt + tonumber(ARGV[11]))
  redis.call('ZADD', KEYS[3], startedAt, ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], deadline - now + tonumber(ARGV[10]))
redis.call('ZADD', KEYS[2], math.min(deadline, tonumber(redis.call('HGET', KEYS[1], 'maxEndAt'))), ARGV[1])
local h = hgetall(KEYS[1])
h.channel = ARGV[1]
if outcome == 'started' then
  emit(KEYS[5], KEYS[6], 'stream.online', h, {at = now, resumed = false})
else
  emit(KEYS[5], KEYS[6], 'stream.resumed', h, {at = now, resumed = true})
end
return {outcome, sid, h.startedAt}
`

/**
 * KEYS: chKey, deadlines   ARGV: channel, node, clientId, now, liveTtlMs, gcMs, force
 * `force` ('1'): refresh even past the deadline — the ingest confirmed (/stat) that it still
 * carries this publisher, so our missed updates were our own blind spot. The plan limit still holds.
 * → flat HGETALL of the entry when (node, clientId) is the live publisher, else nil.
 */
export const UPDATE = `
local f = redis.call('HMGET', KEYS[1], 'state', 'node', 'clientId', 'deadline', 'maxEndAt')
if f[1] ~= 'live' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then return nil end
local now = tonumber(ARGV[4])
if tonumber(f[5]) <= now then return nil end
if tonumber(f[4]) <= now and ARGV[7] ~= '1' then return nil end
local deadline = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'deadline', deadline, 'lastUpdateAt', now)
redis.call('PEXPIRE', KEYS[1], deadline - now + tonumber(ARGV[6]))
redis.call('ZADD', KEYS[2], math.min(deadline, tonumber(f[5])), ARGV[1])
return redis.call('HGETALL', KEYS[1])
`

/**
 * KEYS: chKey, deadlines, events, topic   ARGV: channel, node, clientId, now, windowMs, gcMs
 * → {'reconnecting', sessionId} | {'end', sessionId} (window 0) | nil (not the live publisher)
 */
export const PUBLISH_DONE = `${EMIT}
local f = redis.call('HMGET', KEYS[1], 'state', 'node', 'clientId', 'sessionId', 'maxEndAt')
if f[1] ~= 'live' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then return nil end
local now = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'state', 'reconnecting', 'leftAt', now, 'deadline', now + window)
redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[6]))
redis.call('ZADD', KEYS[2], math.min(now + window, tonumber(f[5])), ARGV[1])
if window == 0 then return {'end', f[4]} end
local h = hgetall(KEYS[1])
h.channel = ARGV[1]
emit(KEYS[3], KEYS[4], 'stream.reconnecting', h, {at = now})
return {'reconnecting', f[4]}
`

/**
 * Ends the session if it is still the one the caller saw (and, with onlyIfDue, only if its
 * deadline has passed), so two instances racing to end it produce exactly one end — and exactly
 * one `stream.offline` event. The caller then marks the publisher with the reason (live:ended,
 * 1 h): a later on_update from it is refused after a deliberate end, or adopted into a NEW
 * session otherwise — never back into the session just closed. A kick starts the key's cool-down.
 * KEYS: chKey, deadlines, started, events, topic, kickedKey
 * ARGV: channel, sessionId, now, onlyIfDue (0|1), reason, kickCooldownS
 * → flat HGETALL of the ended entry, or nil.
 */
export const END = `${EMIT}
local f = redis.call('HMGET', KEYS[1], 'sessionId', 'deadline', 'maxEndAt')
if f[1] ~= ARGV[2] then
  if not f[1] then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
  return nil
end
local now = tonumber(ARGV[3])
if ARGV[4] == '1' and math.min(tonumber(f[2]), tonumber(f[3] or f[2])) > now then return nil end
local h, all = hgetall(KEYS[1])
h.channel = ARGV[1]
local reason = ARGV[5]
-- A stream that dropped and never came back ended when it dropped, not when the window closed.
local endedAt = now
if h.state == 'reconnecting' and h.leftAt then endedAt = tonumber(h.leftAt)
elseif reason == 'ingest_lost' then endedAt = tonumber(h.lastUpdateAt or h.startedAt)
elseif reason == 'max_duration' then endedAt = math.min(tonumber(h.maxEndAt or now), now) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if reason == 'kicked' and tonumber(ARGV[6]) > 0 then redis.call('SET', KEYS[6], '1', 'EX', tonumber(ARGV[6])) end
emit(KEYS[4], KEYS[5], 'stream.offline', h,
  {at = now, reason = reason, endedAt = endedAt, wasLive = (h.state == 'live')})
return all
`

/**
 * Notes why the live publisher is about to be dropped; the session then goes through the
 * reconnect window and, if nobody comes back, ends with this reason instead of publisher_left.
 * KEYS: chKey   ARGV: sessionId, clientId, reason   → 1 if noted
 */
export const NOTE_PENDING_REASON = `
local f = redis.call('HMGET', KEYS[1], 'sessionId', 'clientId', 'state')
if f[1] ~= ARGV[1] or f[2] ~= ARGV[2] or f[3] ~= 'live' then return 0 end
redis.call('HSET', KEYS[1], 'pendingReason', ARGV[3])
return 1
`

/**
 * The KEYS of each script above, in order, built from the key layout: one place that says which
 * keys a script touches, so a test can check that they all hash to one slot (scripts.test.ts).
 */
export const scriptKeys = {
  publish: (k: Keys, channel: string, keyId: string) => [
    k.liveChannel(channel),
    k.liveDeadlines(channel),
    k.liveStarted(channel),
    k.kicked(channel, keyId),
    k.events(channel),
    k.channelEvents(channel),
  ],
  update: (k: Keys, channel: string) => [k.liveChannel(channel), k.liveDeadlines(channel)],
  publishDone: (k: Keys, channel: string) => [
    k.liveChannel(channel),
    k.liveDeadlines(channel),
    k.events(channel),
    k.channelEvents(channel),
  ],
  end: (k: Keys, channel: string, keyId: string) => [
    k.liveChannel(channel),
    k.liveDeadlines(channel),
    k.liveStarted(channel),
    k.events(channel),
    k.channelEvents(channel),
    k.kicked(channel, keyId),
  ],
  notePendingReason: (k: Keys, channel: string) => [k.liveChannel(channel)],
}
