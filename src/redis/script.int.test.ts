import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createRedis, type Redis } from './client.js'
import { createScript } from './script.js'

let redis: Redis
let sub: Redis
beforeAll(() => {
  ;({ redis, redisSub: sub } = createRedis(inject('redisUrl')))
})
afterAll(async () => {
  await Promise.all([redis.quit(), sub.quit()])
})

describe('createScript', () => {
  it('runs by SHA once cached and recovers after the script cache is flushed', async () => {
    const incr = createScript(redis, "return redis.call('INCRBY', KEYS[1], ARGV[1])")
    const key = `script-test:${Date.now()}`
    expect(await incr([key], [2])).toBe(2) // NOSCRIPT → EVAL loads it
    expect(await incr([key], [3])).toBe(5) // EVALSHA
    await redis.script('FLUSH')
    expect(await incr([key], [1])).toBe(6)
    await redis.del(key)
  })

  it('passes real script errors through', async () => {
    const bad = createScript(redis, "return redis.call('NOPE')")
    await expect(bad([], [])).rejects.toThrow(/Unknown Redis command|unknown command/i)
  })
})
