/**
 * @module redis/keys — every Redis key and pub/sub channel name, in one place, laid out for Redis
 * Cluster (and working unchanged on a single Redis).
 *
 * ## Partitions
 * A Lua script may only touch keys of one hash slot, and the scripts that move a channel's state
 * also append to a durable stream (`events`, `chat:persist`) and sort it into the sweeper's index
 * (`live:deadlines`). So streams and indexes cannot be global: they are split into
 * REDIS_PARTITIONS partitions, and partition N's keys all carry the hash tag `{pN}`. A channel
 * belongs to partition `fnv1a(channel) mod REDIS_PARTITIONS`, and every key of that channel —
 * registry, presence, chat sequence, history, topic, rate limits — carries its partition's tag,
 * so every script over a channel (and its partition's stream and indexes) is single-slot. The
 * partitions spread over the cluster's masters like any other slots; consumers read each
 * partition's stream (src/redis/partitioned.ts). REDIS_PARTITIONS is fixed for the life of a
 * deployment's Redis data: changing it moves channels to other partitions.
 *
 * Everything else is touched one key per command or script and needs no tag: `{…}` below is a
 * literal hash tag, `<…>` a placeholder.
 *
 * | key                                        | type    | TTL / lifetime                                  |
 * |--------------------------------------------|---------|-------------------------------------------------|
 * | live:{pN}:ch:<channel>                     | hash    | state, sessionId, node, clientId, keyId, userId, startedAt, deadline, leftAt, pendingEnd; PEXPIRE = deadline + grace (GC backstop) |
 * | live:{pN}:deadlines                        | zset    | member channel, score = deadline ms (sweeper)   |
 * | live:{pN}:started                          | zset    | member channel, score = startedAt ms (listing)  |
 * | live:{pN}:kicked:<channel>:<keyId>         | string  | 1; cool-down after a kick (KICK_COOLDOWN_S)     |
 * | events:{pN}                                | stream  | every session transition of the partition's channels (live/events.ts); written by the registry's Lua scripts, consumed by groups live-effects, webhooks and videos, trimmed once acknowledged and older than 1 day |
 * | events:{pN}:ch:<channel>                   | sharded pub/sub | the same events for one channel's live pages (SPUBLISH) |
 * | presence:{pN}:ch:<channel>                 | zset    | member connection id, score = expiry ms (viewers) |
 * | chat:{pN}:ch:<channel>                     | sharded pub/sub | chat fan-out between instances (chat/broker.ts envelope: `m <seq>` or `i`) |
 * | chat:{pN}:seq:<channel>                    | hash    | seq (last chat sequence number), floor (first seq chat:hist holds); no TTL, re-seeded from Postgres if lost |
 * | chat:{pN}:hist:<channel>                   | stream  | recent chat frames, id `<seq>-0`, MAXLEN = CHAT_REDIS_HISTORY; PEXPIRE 7 days |
 * | chat:{pN}:persist                          | stream  | every accepted chat message of the partition (channelId, userId, frame), written by the send script; group chat-store writes them to Postgres, trimmed once acknowledged and older than 1 hour |
 * | chat:{pN}:rate:<channel>:<userId>          | zset    | sliding-window log of sent messages, score = ms; PEXPIRE = window |
 * | chat:{pN}:last:<channel>:<userId>          | hash    | at, hash of the last message (slow mode, duplicates); PEXPIRE = longest rule |
 * | live:client:<node>:<clientId>              | string  | channel name: an index from a publisher to its channel, sent with the publish script (written before the hook answers) and checked against the channel hash by every script; same expiry as the channel hash |
 * | live:ended:<node>:<clientId>               | string  | end reason of a publisher ended on purpose; 1 h; written after the end script and again by live-effects from the offline event |
 * | auth:revoked-sid:<sid>                     | string  | 1; TTL = access token lifetime                  |
 * | users:revoked                              | pub/sub | {userId, reason}: close that user's sockets everywhere (classic PUBLISH reaches every node of a cluster) |
 * | rl:<bucket>:<id>                           | zset    | sliding-window log (rate-limit/), score = ms; PEXPIRE = window |
 * | bo:<policy>:<id>                           | hash    | n, last, until: backoff after failures (rate-limit/); PEXPIRE = forget window |
 * | chat:ticket:<sha256(ticket)>               | string  | {userId, sid}; PX = CHAT_TICKET_TTL_S, deleted on first use (GETDEL) |
 * | viewers:uniq:<sessionId>                   | hll     | unique viewers of one stream session; EXPIRE 2 days |
 * | {bull}:<queue>:…                          | BullMQ  | the job queues of videos/jobs.ts (`videos`, `thumbnails`): BullMQ's own keys under one hash tag, so each queue's scripts stay in one slot; completed jobs kept 7 days, failed 30 |
 * | ws:ip:{<addr>}                             | zset    | open WebSockets of one client address, all instances (chat/admission.ts): member connection id, score = expiry ms, re-added by each instance's presence heartbeat; PEXPIRE 2 × PRESENCE_TTL_S |
 * | an:{pN}:viewers:<channel>                  | zset    | HLS viewers of the channel (analytics/): member viewer id (salted hash), score = last segment ms; the 5-minute view rule and concurrent counts; members older than 5 min removed each flush; PEXPIRE 10 min |
 * | an:{pN}:uniq:<channel>:<h|d|s>:<id>        | hll     | distinct HLS viewers of an hour / day (id = start ms) / stream session; copied to Postgres each flush; EXPIRE 3 h / 2 days / 2 days |
 * | an:{pN}:tmp:<channel>:<id>                 | hll     | copies of stored HyperLogLogs merged for one query; PEXPIRE 30 s, deleted after use |
 * | an:{site}:uniq:d:<dayMs>                   | hll     | distinct HLS viewers of all channels in a UTC day; EXPIRE 2 days |
 * | an:{site}:tmp:<id>                         | hll     | site-wide merge copies for one query; PEXPIRE 30 s |
 * | an:salt:<yyyy-mm-dd>                       | string  | the day's viewer-id salt (random, shared by all instances); EXPIRE 3 days: raw addresses are unlinkable once it is gone |
 *
 * Keys are prefixed by REDIS_PREFIX so several deployments (or test files) can share one Redis;
 * the prefix sits outside the hash tag, so it never changes a key's slot.
 */

/** The default partition count: enough to spread over 16 masters, few enough to read cheaply. */
export const DEFAULT_PARTITIONS = 16

/** FNV-1a (32-bit) over the UTF-8 bytes: stable across processes and versions, unlike anything seeded. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

export function createKeys(prefix = '', partitions = DEFAULT_PARTITIONS) {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error('redis keys: partitions must be ≥ 1')
  const p = prefix
  const partitionOf = (channel: string) => fnv1a(channel) % partitions
  /** The hash tag of a partition: `{p3}`. */
  const tag = (n: number) => `{p${n}}`
  const ch = (channel: string) => tag(partitionOf(channel))
  const all = <T>(fn: (n: number) => T) => Array.from({ length: partitions }, (_, n) => fn(n))
  return {
    partitions,
    partitionOf,
    liveChannel: (channel: string) => `${p}live:${ch(channel)}:ch:${channel}`,
    liveDeadlines: (channel: string) => `${p}live:${ch(channel)}:deadlines`,
    liveStarted: (channel: string) => `${p}live:${ch(channel)}:started`,
    /** Every partition's deadline index (the sweeper reads them all). */
    allLiveDeadlines: () => all((n) => `${p}live:${tag(n)}:deadlines`),
    /** Every partition's started index (listing reads them all). */
    allLiveStarted: () => all((n) => `${p}live:${tag(n)}:started`),
    kicked: (channel: string, keyId: string) => `${p}live:${ch(channel)}:kicked:${channel}:${keyId}`,
    liveClient: (node: string, clientId: string) => `${p}live:client:${node}:${clientId}`,
    liveEnded: (node: string, clientId: string) => `${p}live:ended:${node}:${clientId}`,
    /** The events stream of the channel's partition. */
    events: (channel: string) => `${p}events:${ch(channel)}`,
    /** Every partition's events stream, index = partition. */
    allEvents: () => all((n) => `${p}events:${tag(n)}`),
    channelEvents: (channel: string) => `${p}events:${ch(channel)}:ch:${channel}`,
    presence: (channel: string) => `${p}presence:${ch(channel)}:ch:${channel}`,
    chatTopic: (channel: string) => `${p}chat:${ch(channel)}:ch:${channel}`,
    chatSeq: (channel: string) => `${p}chat:${ch(channel)}:seq:${channel}`,
    chatHistory: (channel: string) => `${p}chat:${ch(channel)}:hist:${channel}`,
    chatPersist: (channel: string) => `${p}chat:${ch(channel)}:persist`,
    /** Every partition's chat persistence stream, index = partition. */
    allChatPersist: () => all((n) => `${p}chat:${tag(n)}:persist`),
    chatRate: (channel: string, userId: string) => `${p}chat:${ch(channel)}:rate:${channel}:${userId}`,
    chatLast: (channel: string, userId: string) => `${p}chat:${ch(channel)}:last:${channel}:${userId}`,
    revokedSid: (sid: string) => `${p}auth:revoked-sid:${sid}`,
    userRevoked: () => `${p}users:revoked`,
    rateLimit: (bucket: string, id: string) => `${p}rl:${bucket}:${id}`,
    backoff: (policy: string, id: string) => `${p}bo:${policy}:${id}`,
    chatTicket: (ticketHash: string) => `${p}chat:ticket:${ticketHash}`,
    uniqueViewers: (sessionId: string) => `${p}viewers:uniq:${sessionId}`,
    socketsOfAddress: (addr: string) => `${p}ws:ip:{${addr}}`,
    analyticsViewers: (channel: string) => `${p}an:${ch(channel)}:viewers:${channel}`,
    /** scope: `h:<hourMs>`, `d:<dayMs>` or `s:<sessionId>`. */
    analyticsUnique: (channel: string, scope: string) => `${p}an:${ch(channel)}:uniq:${channel}:${scope}`,
    analyticsTmp: (channel: string, id: string) => `${p}an:${ch(channel)}:tmp:${channel}:${id}`,
    analyticsSiteUnique: (dayMs: number) => `${p}an:{site}:uniq:d:${dayMs}`,
    analyticsSiteTmp: (id: string) => `${p}an:{site}:tmp:${id}`,
    analyticsSalt: (day: string) => `${p}an:salt:${day}`,
    /** BullMQ's `prefix` option (videos/jobs.ts): every queue's keys under the `{bull}` tag. */
    bull: () => `${p}{bull}`,
  }
}

export type Keys = ReturnType<typeof createKeys>
