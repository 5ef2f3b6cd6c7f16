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
  type BatchOutcome,
  createStreamConsumer,
  groupLag,
  type StreamConsumer,
  type StreamConsumerOptions,
  type StreamEntry,
  trimConsumed,
} from './stream-consumer.js'

export function createPartitionedConsumer(
  o: Omit<StreamConsumerOptions, 'stream'> & { streams: string[] },
): StreamConsumer {
  const { streams, ...rest } = o
  if (!isCluster(o.redis)) return createStreamConsumer({ ...rest, stream: streams })
  // One reader per partition, but the handlers take turns, as they do behind the single reader
  // on one Redis: sixteen partitions' worth of Postgres writes at once would queue the hooks'
  // own queries behind them in the pool (bench:hooks --redis-cluster showed it). Batches that
  // wait for their turn are handled together, so a batch handler sees what one read of every
  // partition would have given it on one Redis.
  const turn = createTurns()
  const together = rest.handleBatch ? coalesce(rest.handleBatch) : undefined
  const consumers = streams.map((stream) =>
    createStreamConsumer({
      ...rest,
      stream,
      ...(rest.handle && { handle: (e) => turn(() => rest.handle!(e)) }),
      ...(together && { handleBatch: together }),
    }),
  )
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

/** Runs one function at a time, in the order they were asked for. */
function createTurns() {
  let last: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = last.then(fn, fn)
    last = next.catch(() => {})
    return next
  }
}

/**
 * One batch handler call at a time; batches that arrive while one runs are handed over in a
 * single call once it finished, and each caller gets back the part of the outcome that is its
 * own (the entries of its batch to retry, or the error).
 */
export function coalesce(
  handleBatch: NonNullable<StreamConsumerOptions['handleBatch']>,
): (entries: StreamEntry[]) => Promise<BatchOutcome> {
  type Waiting = { entries: StreamEntry[]; done: (o: BatchOutcome) => void; fail: (e: unknown) => void }
  let queue: Waiting[] = []
  let running = false
  async function drain() {
    running = true
    while (queue.length > 0) {
      const waiting = queue
      queue = []
      try {
        const retry = new Set((await handleBatch(waiting.flatMap((w) => w.entries)))?.retry)
        for (const w of waiting) w.done({ retry: w.entries.filter((e) => retry.has(e)) })
      } catch (err) {
        for (const w of waiting) w.fail(err)
      }
    }
    running = false
  }
  return (entries) =>
    new Promise<BatchOutcome>((done, fail) => {
      queue.push({ entries, done, fail })
      if (!running) void drain()
    })
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
