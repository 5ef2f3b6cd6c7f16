/**
 * @module redis/keys — every Redis key and pub/sub channel name, in one place.
 *
 * | key                                   | type   | TTL / lifetime                                   |
 * |---------------------------------------|--------|--------------------------------------------------|
 * | live:ch:{channel}                     | hash   | state, sessionId, node, clientId, keyId, userId, startedAt, deadline, leftAt, pendingEnd; PEXPIRE = deadline + grace (GC backstop) |
 * | live:client:{node}:{clientId}         | string | channel name; same expiry as the hash            |
 * | live:deadlines                        | zset   | member channel, score = deadline ms (sweeper)    |
 * | live:started                          | zset   | member channel, score = startedAt ms (listing)   |
 * | live:kicked:{keyId}                   | string | reason; cool-down after a kick                   |
 * | events                                | stream | online / reconnecting / offline, MAXLEN ~ 10000  |
 * | events:ch:{channel}                   | pubsub | the same events for one channel's live pages     |
 * | presence:ch:{channel}                 | zset   | member connection id, score = expiry ms (viewers) |
 * | auth:revoked-sid:{sid}                | string | 1; TTL = access token lifetime                   |
 * | users:revoked                         | pubsub | {userId, reason}: close that user's sockets everywhere |
 * | rl:{bucket}:{id}                      | zset   | sliding-window log (rate-limit/), score = ms; PEXPIRE = window |
 * | bo:{policy}:{id}                      | hash   | n, last, until: backoff after failures (rate-limit/); PEXPIRE = forget window |
 *
 * Keys are prefixed by REDIS_PREFIX so several deployments (or test files) can share one Redis.
 */
export function createKeys(prefix = '') {
  const p = prefix
  return {
    liveChannel: (channel: string) => `${p}live:ch:${channel}`,
    liveClient: (node: string, clientId: string) => `${p}live:client:${node}:${clientId}`,
    liveDeadlines: () => `${p}live:deadlines`,
    liveStarted: () => `${p}live:started`,
    kicked: (keyId: string) => `${p}live:kicked:${keyId}`,
    events: () => `${p}events`,
    channelEvents: (channel: string) => `${p}events:ch:${channel}`,
    presence: (channel: string) => `${p}presence:ch:${channel}`,
    revokedSid: (sid: string) => `${p}auth:revoked-sid:${sid}`,
    userRevoked: () => `${p}users:revoked`,
    rateLimit: (bucket: string, id: string) => `${p}rl:${bucket}:${id}`,
    backoff: (policy: string, id: string) => `${p}bo:${policy}:${id}`,
  }
}

export type Keys = ReturnType<typeof createKeys>
