/**
 * @module rate-limit/scripts — the Lua behind the limiters. Time comes in as ARGV (the caller's
 * injected clock), never from Redis' own clock, so tests move time by advancing a number and
 * every instance judges a window the same way. PEXPIRE only garbage-collects idle keys.
 */

/**
 * Sliding-window log: a sorted set of events scored by time. Only admitted events are stored,
 * so the set never grows past `max` members whatever an attacker sends.
 * KEYS: zset · ARGV: now, windowMs, max, member ('' = check only, count nothing)
 * → {1, remaining} when admitted, {0, retryAfterMs} when the window is full.
 */
export const SLIDING_WINDOW = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now)}
end
if ARGV[4] == '' then return {1, max - n} end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, max - n - 1}
`

/**
 * Exponential backoff after consecutive failures. Hash fields: n (failures in a row), last (ms),
 * until (ms, locked before this). A quiet spell of `forgetMs` starts the count again.
 * KEYS: hash · ARGV: now, freeFailures, baseMs, maxMs, forgetMs
 * → {failures, lockMs} (lockMs = 0 while failures ≤ freeFailures)
 */
export const BACKOFF_FAIL = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local forget = tonumber(ARGV[5])
local f = redis.call('HMGET', KEYS[1], 'n', 'last')
local n = tonumber(f[1]) or 0
if now - (tonumber(f[2]) or 0) >= forget then n = 0 end
n = n + 1
local lock = 0
if n > free then lock = math.min(base * 2 ^ (n - free - 1), max) end
redis.call('HSET', KEYS[1], 'n', n, 'last', now, 'until', now + lock)
redis.call('PEXPIRE', KEYS[1], math.max(forget, lock))
return {n, lock}
`
