/**
 * @module redis/client — the command connection and the subscriber connection (ioredis), to one
 * Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
 *
 * The rest of the code sees one `Redis` type: ioredis' Cluster speaks the same commands and routes
 * each by its key's slot, and the key layout (redis/keys.ts) keeps every script and MULTI within
 * one slot. Two things differ and live here: making another connection (`duplicate` takes other
 * arguments on a Cluster) and sharded pub/sub, which a Cluster serves with one subscriber per
 * master (`shardedSubscribers`), re-subscribing after a failover.
 */
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis'

export type { Redis }

/** Every command on the shared connection answers within this or fails (Redis answers in < 1 ms). */
export const COMMAND_TIMEOUT_MS = 1000

export type RedisTarget = { url: string; clusterNodes?: string[] }

/** The code types both as `Redis`; the object still knows what it is. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster
}

/**
 * Parses REDIS_CLUSTER_NODES (split on commas): `host:port` or `redis://[:password@]host:port` (one
 * URL's credentials apply to every node, as a cluster has one ACL).
 */
export function parseClusterNodes(spec: string[]): { nodes: ClusterNode[]; options: RedisOptions } {
  const options: RedisOptions = {}
  const nodes = spec
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const u = new URL(/^[a-z]+:\/\//i.test(s) ? s : `redis://${s}`)
      if (u.password) options.password = decodeURIComponent(u.password)
      if (u.username) options.username = decodeURIComponent(u.username)
      if (u.protocol === 'rediss:') options.tls = {}
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) }
    })
  if (nodes.length === 0) throw new Error('REDIS_CLUSTER_NODES names no node')
  return { nodes, options }
}

type ConnectionOptions = Pick<
  RedisOptions,
  'maxRetriesPerRequest' | 'commandTimeout' | 'connectionName' | 'enableAutoPipelining'
>

/** A further connection to the same Redis or Cluster (blocking reads, subscribers). */
export function duplicate(redis: Redis, opts: ConnectionOptions): Redis {
  if (!isCluster(redis)) return redis.duplicate(opts)
  const cluster = redis as unknown as Cluster
  const { enableAutoPipelining, ...redisOptions } = opts
  return cluster.duplicate(undefined, {
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: { ...cluster.options.redisOptions, ...redisOptions },
  }) as unknown as Redis
}

export function createRedis(
  target: string | RedisTarget,
  opts: { onError?: (connection: 'command' | 'subscriber', err: Error) => void } = {},
): { redis: Redis; redisSub: Redis } {
  const t = typeof target === 'string' ? { url: target } : target
  // maxRetriesPerRequest and commandTimeout bound how long a request waits on a dead or frozen
  // Redis (a frozen one keeps the TCP connection open and never answers) before the caller's error
  // path runs: on_publish refuses (503), on_update keeps the stream (200), consumers retry later.
  const common: RedisOptions = {
    maxRetriesPerRequest: 2,
    commandTimeout: COMMAND_TIMEOUT_MS,
    lazyConnect: false,
  }
  let redis: Redis
  if (t.clusterNodes?.length) {
    const { nodes, options } = parseClusterNodes(t.clusterNodes)
    const cluster = new Cluster(nodes, {
      redisOptions: { ...common, ...options },
      enableAutoPipelining: true,
      shardedSubscribers: true,
      // During a failover the slot's master is gone until its replica is promoted (about
      // cluster-node-timeout): keep retrying the command against the refreshed slot map.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      slotsRefreshTimeout: 2000,
      // Replicas that come back re-join without a slot change: reconnect to them.
      clusterNodeRetryStrategy: (times: number) => Math.min(times * 100, 2000),
    })
    redis = cluster as unknown as Redis
  } else {
    redis = new Redis(t.url, { ...common, enableAutoPipelining: true })
  }
  // A subscribed connection accepts only (P|S)SUBSCRIBE-family commands (ioredis README); it
  // waits as long as it takes, so no timeout.
  const redisSub = duplicate(redis, { maxRetriesPerRequest: null, commandTimeout: undefined })
  // Connection errors surface where they matter — as failed commands (503s, retried consumers) —
  // and are counted (live_redis_errors_total); without a listener ioredis would print each
  // reconnect attempt as an "unhandled error event".
  redis.on('error', (err: Error) => opts.onError?.('command', err))
  redisSub.on('error', (err: Error) => opts.onError?.('subscriber', err))
  return { redis, redisSub }
}
