/**
 * @module redis/partitioned — a consumer group over every partition's stream (redis/keys.ts).
 *
 * A script appends to the stream of its channel's partition, so one logical stream (`events`,
 * `chat:persist`) is REDIS_PARTITIONS streams in as many hash slots. On a single Redis one
 * blocking XREADGROUP reads them all. On a Cluster the streams of one call must share a slot, so
 * each partition gets its own reader (and blocking connection, opened only to the node serving
 * that slot). Order holds within a partition — within a channel — which is all consumers rely on.
 */
import { isCluster, type Redis } from './client.js'
import {
  createStreamConsumer,
  groupLag,
  type StreamConsumer,
  type StreamConsumerOptions,
  trimConsumed,
} from './stream-consumer.js'

export function createPartitionedConsumer(
  o: Omit<StreamConsumerOptions, 'stream'> & { streams: string[] },
): StreamConsumer {
  const { streams, ...rest } = o
  const consumers = isCluster(o.redis)
    ? streams.map((stream) => createStreamConsumer({ ...rest, stream }))
    : [createStreamConsumer({ ...rest, stream: streams })]
  return {
    async start() {
      await Promise.all(consumers.map((c) => c.start()))
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()))
    },
    async reclaim() {
      const n = await Promise.all(consumers.map((c) => c.reclaim()))
      return n.reduce((a, b) => a + b, 0)
    },
  }
}

/** `groupLag` summed over the partitions. */
export async function partitionedLag(
  redis: Redis,
  streams: string[],
  group: string,
): Promise<{ pending: number; lag: number }> {
  const each = await Promise.all(streams.map((s) => groupLag(redis, s, group)))
  return each.reduce((a, b) => ({ pending: a.pending + b.pending, lag: a.lag + b.lag }), {
    pending: 0,
    lag: 0,
  })
}

/** `trimConsumed` on every partition. */
export async function trimPartitions(redis: Redis, streams: string[], keepMs: number): Promise<void> {
  await Promise.all(streams.map((s) => trimConsumed(redis, s, keepMs)))
}
