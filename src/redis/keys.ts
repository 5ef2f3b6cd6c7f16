/**
 * @module redis/keys — every Redis key and pub/sub channel name, in one place.
 *
 * | key                                   | type   | TTL / lifetime                                   |
 * |---------------------------------------|--------|--------------------------------------------------|
 * | live:ch:{channel}                     | hash   | state, sessionId, node, clientId, keyId, userId, startedAt, deadline, leftAt, pendingEnd; PEXPIRE = deadline + grace (GC backstop) |
 * | live:client:{node}:{clientId}         | string | channel name; same expiry as the hash            |
 * | live:deadlines                        | zset   | member channel, score = deadline ms (sweeper)    |
 * | live:started                          | zset   | member channel, score = startedAt ms (listing)   |
 * | live:kicked:{channel}:{keyId}         | string | 1; cool-down after a kick (KICK_COOLDOWN_S)      |
 * | live:ended:{node}:{clientId}          | string | end reason of a publisher ended on purpose; 1 h  |
 * | events                                | stream | every session transition (live/events.ts); written by the registry's Lua scripts, consumed by group live-effects, trimmed once acknowledged and older than 1 day |
 * | events:ch:{channel}                   | pubsub | the same events for one channel's live pages     |
 * | presence:ch:{channel}                 | zset   | member connection id, score = expiry ms (viewers) |
 * | auth:revoked-sid:{sid}                | string | 1; TTL = access token lifetime                   |
 * | users:revoked                         | pubsub | {userId, reason}: close that user's sockets everywhere |
 * | rl:{bucket}:{id}                      | zset   | sliding-window log (rate-limit/), score = ms; PEXPIRE = window |
 * | bo:{policy}:{id}                      | hash   | n, last, until: backoff after failures (rate-limit/); PEXPIRE = forget window |
 * | chat:ch:{channel}                     | pubsub | chat fan-out between instances (chat/broker.ts envelope: `m <seq>` or `i`) |
 * | chat:seq:{channel}                    | hash   | seq (last chat sequence number), floor (first seq chat:hist holds); no TTL, re-seeded from Postgres if lost |
 * | chat:hist:{channel}                   | stream | recent chat frames, id `<seq>-0`, MAXLEN = CHAT_REDIS_HISTORY; PEXPIRE 7 days |
 * | chat:persist                          | stream | every accepted chat message (channelId, userId, frame), written by the send script; group chat-store writes them to Postgres, trimmed once acknowledged and older than 1 day |
 * | chat:ticket:{sha256(ticket)}          | string | {userId, sid}; PX = CHAT_TICKET_TTL_S, deleted on first use (GETDEL) |
 * | chat:rate:{channel}:{userId}          | zset   | sliding-window log of sent messages, score = ms; PEXPIRE = window |
 * | chat:last:{channel}:{userId}          | hash   | at, hash of the last message (slow mode, duplicates); PEXPIRE = longest rule |
 * | viewers:uniq:{sessionId}              | hll    | unique viewers of one stream session; EXPIRE 2 days |
 * | ws:ip:{<addr>}                        | zset   | open WebSockets of one client address, all instances (chat/admission.ts): member connection id, score = expiry ms, re-added by each instance's presence heartbeat; PEXPIRE 2 × PRESENCE_TTL_S. `{…}` is a hash tag: one slot per address |
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
    kicked: (channel: string, keyId: string) => `${p}live:kicked:${channel}:${keyId}`,
    liveEnded: (node: string, clientId: string) => `${p}live:ended:${node}:${clientId}`,
    events: () => `${p}events`,
    channelEvents: (channel: string) => `${p}events:ch:${channel}`,
    presence: (channel: string) => `${p}presence:ch:${channel}`,
    revokedSid: (sid: string) => `${p}auth:revoked-sid:${sid}`,
    userRevoked: () => `${p}users:revoked`,
    rateLimit: (bucket: string, id: string) => `${p}rl:${bucket}:${id}`,
    backoff: (policy: string, id: string) => `${p}bo:${policy}:${id}`,
    chatTopic: (channel: string) => `${p}chat:ch:${channel}`,
    chatSeq: (channel: string) => `${p}chat:seq:${channel}`,
    chatHistory: (channel: string) => `${p}chat:hist:${channel}`,
    chatPersist: () => `${p}chat:persist`,
    chatTicket: (ticketHash: string) => `${p}chat:ticket:${ticketHash}`,
    chatRate: (channel: string, userId: string) => `${p}chat:rate:${channel}:${userId}`,
    chatLast: (channel: string, userId: string) => `${p}chat:last:${channel}:${userId}`,
    uniqueViewers: (sessionId: string) => `${p}viewers:uniq:${sessionId}`,
    socketsOfAddress: (addr: string) => `${p}ws:ip:{${addr}}`,
  }
}

export type Keys = ReturnType<typeof createKeys>
