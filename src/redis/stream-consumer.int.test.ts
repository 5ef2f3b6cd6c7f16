import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testConfig } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { createLogger } from '../log.js'
import { createRedis, type Redis } from './client.js'
import { createStreamConsumer, type StreamConsumerOptions, trimConsumed } from './stream-consumer.js'

const log = createLogger({ level: 'silent' })
let redis: Redis
let sub: Redis
let n = 0
const stream = () => `t:consumer:${process.pid}:${n++}`

beforeAll(() => {
  ;({ redis, redisSub: sub } = createRedis(testConfig().REDIS_URL))
})
afterAll(async () => {
  await Promise.all([redis.quit(), sub.quit()])
})

type Handler = Pick<StreamConsumerOptions, 'handle' | 'handleBatch'>

function consumer(name: string, key: string | string[], handler: Handler['handle'] | Handler) {
  return createStreamConsumer({
    redis,
    stream: key,
    group: 'g',
    consumer: name,
    ...(typeof handler === 'function' ? { handle: handler } : handler),
    log,
    blockMs: 200,
    claimIdleMs: 300,
  })
}

/** A batch consumer that records each batch's values and gives back, once, those `fails` picks. */
function batcher(name: string, key: string | string[], fails: (value: string) => boolean) {
  const batches: string[][] = []
  let failures = 1
  const c = consumer(name, key, {
    handleBatch: async (entries) => {
      batches.push(entries.map((e) => e.fields[1]!))
      return { retry: failures-- > 0 ? entries.filter((e) => fails(e.fields[1]!)) : [] }
    },
  })
  return { c, batches }
}

describe('stream consumer', () => {
  it('acknowledges only what its handler finished, and retries a failed entry until it succeeds', async () => {
    const key = stream()
    const seen: string[] = []
    let failures = 1
    const c = consumer('a', key, async (e) => {
      if (e.fields[1] === 'flaky' && failures-- > 0) throw new Error('Postgres is down')
      seen.push(e.fields[1]!)
    })
    await c.start()
    try {
      await redis.xadd(key, '*', 'v', 'one')
      await redis.xadd(key, '*', 'v', 'flaky')
      await redis.xadd(key, '*', 'v', 'three')
      await waitFor(() => seen.length === 3, { what: 'all three handled' })
      expect(seen).toEqual(['one', 'three', 'flaky'])
      await waitFor(async () => ((await redis.xpending(key, 'g')) as [number])[0] === 0, {
        what: 'nothing pending',
      })
    } finally {
      await c.stop()
    }
  })

  it('reads several streams with one consumer, acknowledging each entry in its own stream', async () => {
    const keys = [stream(), stream(), stream()]
    const seen: string[] = []
    let failures = 1
    const c = consumer('multi', keys, async (e) => {
      if (e.fields[1] === 'p1:flaky' && failures-- > 0) throw new Error('Postgres is down')
      seen.push(e.fields[1]!)
    })
    await c.start()
    try {
      for (const [i, key] of keys.entries()) await redis.xadd(key, '*', 'v', `p${i}:a`)
      await redis.xadd(keys[1]!, '*', 'v', 'p1:flaky')
      await redis.xadd(keys[2]!, '*', 'v', 'p2:b')
      await waitFor(() => seen.length === 5, { what: 'every entry of every stream handled' })
      expect(seen.filter((v) => v.startsWith('p2'))).toEqual(['p2:a', 'p2:b'])
      expect(seen).toContain('p1:flaky') // retried by the reclaim of its own stream
      for (const key of keys)
        await waitFor(async () => ((await redis.xpending(key, 'g')) as [number])[0] === 0, {
          what: `nothing pending on ${key}`,
        })
    } finally {
      await c.stop()
    }
  })

  it('in batches, acknowledges all but the entries the batch handler gives back, and retries only those', async () => {
    const key = stream()
    const { c, batches } = batcher('batcher', key, (v) => v === 'flaky')
    // Written before the consumer reads, so they arrive as one batch.
    for (const v of ['one', 'flaky', 'three']) await redis.xadd(key, '*', 'v', v)
    await c.start()
    try {
      await waitFor(() => batches.length === 2, { what: 'the batch, then the retry of one entry' })
      expect(batches).toEqual([['one', 'flaky', 'three'], ['flaky']])
      await waitFor(async () => ((await redis.xpending(key, 'g')) as [number])[0] === 0, {
        what: 'nothing pending',
      })
    } finally {
      await c.stop()
    }
  })

  it('hands the entries of every stream read to one batch call, and acknowledges each in its own stream', async () => {
    const keys = [stream(), stream()]
    const { c, batches } = batcher('multi-batcher', keys, (v) => v === 's1:flaky')
    // The same entry id in both streams: what is retried is the entry, not an id.
    await redis.xadd(keys[0]!, '5-1', 'v', 's0:a')
    await redis.xadd(keys[0]!, '6-1', 'v', 's0:b')
    await redis.xadd(keys[1]!, '5-1', 'v', 's1:flaky')
    await c.start()
    try {
      await waitFor(() => batches.length === 2, { what: 'one batch of both streams, then the retry' })
      expect(batches[0]).toEqual(['s0:a', 's0:b', 's1:flaky'])
      expect(batches[1]).toEqual(['s1:flaky'])
      for (const key of keys)
        await waitFor(async () => ((await redis.xpending(key, 'g')) as [number])[0] === 0, {
          what: `nothing pending on ${key}`,
        })
    } finally {
      await c.stop()
    }
  })

  it('takes over what a dead consumer read but never acknowledged', async () => {
    const key = stream()
    await redis.xgroup('CREATE', key, 'g', '0', 'MKSTREAM')
    await redis.xadd(key, '*', 'v', 'orphan')
    // A consumer that read the entry and died before acknowledging it.
    await redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 10, 'STREAMS', key, '>')
    const seen: string[] = []
    const c = consumer('alive', key, async (e) => {
      seen.push(e.fields[1]!)
    })
    await c.start()
    try {
      await waitFor(() => seen.length === 1, { what: 'the orphan taken over' })
      expect(seen).toEqual(['orphan'])
    } finally {
      await c.stop()
    }
  })

  it('skips nothing when its handler returns for an entry it cannot use (the handler decides)', async () => {
    const key = stream()
    const seen: string[] = []
    const c = consumer('a', key, async (e) => {
      seen.push(e.id)
    })
    await c.start()
    try {
      await redis.xadd(key, '*', 'garbage', '{')
      await waitFor(() => seen.length === 1)
      await waitFor(async () => ((await redis.xpending(key, 'g')) as [number])[0] === 0)
    } finally {
      await c.stop()
    }
  })

  it('recreates its group when Redis lost it (restarted empty) and goes on', async () => {
    const key = stream()
    const seen: string[] = []
    const c = consumer('a', key, async (e) => {
      seen.push(e.fields[1]!)
    })
    await c.start()
    try {
      await redis.xadd(key, '*', 'v', 'before')
      await waitFor(() => seen.length === 1)
      await redis.del(key)
      await waitFor(
        async () => {
          await redis.xadd(key, '*', 'v', 'after')
          return seen.includes('after')
        },
        { what: 'an entry handled after the stream was lost' },
      )
    } finally {
      await c.stop()
    }
  })
})

describe('trimConsumed', () => {
  it('drops only old entries that every group acknowledged', async () => {
    const key = stream()
    await redis.xgroup('CREATE', key, 'g1', '0', 'MKSTREAM')
    await redis.xgroup('CREATE', key, 'g2', '0')
    const ids = [
      await redis.xadd(key, '1000-0', 'v', 'a'),
      await redis.xadd(key, '2000-0', 'v', 'b'),
      await redis.xadd(key, '3000-0', 'v', 'c'),
    ]
    // g1 read and acked everything; g2 read all three and acked only the first.
    await redis.xreadgroup('GROUP', 'g1', 'x', 'STREAMS', key, '>')
    await redis.xack(key, 'g1', ...(ids as string[]))
    await redis.xreadgroup('GROUP', 'g2', 'y', 'STREAMS', key, '>')
    await redis.xack(key, 'g2', ids[0]!)
    await trimConsumed(redis, key, 0, 10_000)
    const left = (await redis.xrange(key, '-', '+')).map(([id]) => id)
    expect(left).toEqual(['2000-0', '3000-0'])
    // Young entries are kept however consumed.
    await redis.xack(key, 'g2', ids[1]!, ids[2]!)
    await trimConsumed(redis, key, 60_000, 10_000)
    expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual(['2000-0', '3000-0'])
    await trimConsumed(redis, key, 0, 10_000)
    expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual(['3000-0'])
  })
})
