/**
 * @module live/scripts — the Lua scripts that move a channel's live state atomically.
 * Each script touches only keys it is given (KEYS), so a multi-instance deployment can never
 * interleave two transitions of one channel.
 *
 * Hash fields of live:ch:{channel}: state (live|reconnecting), sessionId, node, clientId, keyId,
 * userId, channelId, startedAt, deadline, lastUpdateAt, leftAt, reconnects, maxEndAt (plan limit),
 * pendingReason (why the publisher was dropped into the reconnect window, e.g. idle).
 * The sweeper's zset score is min(deadline, maxEndAt): whichever comes first ends the session.
 */

/**
 * KEYS: chKey, clientKey, deadlines, started
 * ARGV: channel, sessionId, node, clientId, keyId, userId, channelId, now, liveTtlMs, gcMs, maxSessionMs
 * → {'started'|'resumed'|'same'|'busy'|'stale', sessionId, startedAt}
 */
export const PUBLISH = `
local now = tonumber(ARGV[8])
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
  redis.call('HSET', KEYS[1], 'state', 'live', 'sessionId', sid, 'node', ARGV[3], 'clientId', ARGV[4],
    'keyId', ARGV[5], 'userId', ARGV[6], 'channelId', ARGV[7], 'startedAt', now, 'deadline', deadline,
    'lastUpdateAt', now, 'reconnects', 0, 'maxEndAt', now + tonumber(ARGV[11]))
  redis.call('ZADD', KEYS[4], now, ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], deadline - now + tonumber(ARGV[10]))
redis.call('SET', KEYS[2], ARGV[1], 'PX', deadline - now + tonumber(ARGV[10]))
redis.call('ZADD', KEYS[3], math.min(deadline, tonumber(redis.call('HGET', KEYS[1], 'maxEndAt'))), ARGV[1])
return {outcome, sid, redis.call('HGET', KEYS[1], 'startedAt')}
`

/**
 * KEYS: chKey, deadlines, clientKey   ARGV: channel, node, clientId, now, liveTtlMs, gcMs
 * → flat HGETALL of the entry when (node, clientId) is the live publisher, else nil.
 */
export const UPDATE = `
local f = redis.call('HMGET', KEYS[1], 'state', 'node', 'clientId', 'deadline', 'maxEndAt')
if f[1] ~= 'live' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then return nil end
local now = tonumber(ARGV[4])
if math.min(tonumber(f[4]), tonumber(f[5])) <= now then return nil end
local deadline = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'deadline', deadline, 'lastUpdateAt', now)
redis.call('PEXPIRE', KEYS[1], deadline - now + tonumber(ARGV[6]))
redis.call('PEXPIRE', KEYS[3], deadline - now + tonumber(ARGV[6]))
redis.call('ZADD', KEYS[2], math.min(deadline, tonumber(f[5])), ARGV[1])
return redis.call('HGETALL', KEYS[1])
`

/**
 * KEYS: chKey, deadlines, clientKey   ARGV: channel, node, clientId, now, windowMs, gcMs
 * → {'reconnecting', sessionId} | {'end', sessionId} (window 0) | nil (not the live publisher)
 */
export const PUBLISH_DONE = `
local f = redis.call('HMGET', KEYS[1], 'state', 'node', 'clientId', 'sessionId', 'maxEndAt')
if f[1] ~= 'live' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then return nil end
redis.call('DEL', KEYS[3])
local now = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'state', 'reconnecting', 'leftAt', now, 'deadline', now + window)
redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[6]))
redis.call('ZADD', KEYS[2], math.min(now + window, tonumber(f[5])), ARGV[1])
if window == 0 then return {'end', f[4]} end
return {'reconnecting', f[4]}
`

/**
 * Ends the session if it is still the one the caller saw (and, with onlyIfDue, only if its
 * deadline has passed), so two instances racing to end it produce exactly one end.
 * KEYS: chKey, deadlines, started   ARGV: channel, sessionId, now, onlyIfDue (0|1)
 * → flat HGETALL of the ended entry, or nil.
 */
export const END = `
local f = redis.call('HMGET', KEYS[1], 'sessionId', 'deadline', 'maxEndAt')
if f[1] ~= ARGV[2] then
  if not f[1] then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
  return nil
end
if ARGV[4] == '1' and math.min(tonumber(f[2]), tonumber(f[3] or f[2])) > tonumber(ARGV[3]) then return nil end
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
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
