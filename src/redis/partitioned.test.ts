import { describe, expect, it } from 'vitest'
import { coalesce } from './partitioned.js'
import type { StreamEntry } from './stream-consumer.js'

const entry = (id: string): StreamEntry => ({ id, fields: ['v', id] })

describe('coalesce (the partition readers of a Cluster sharing one batch handler)', () => {
  it('runs one call at a time and hands the batches that waited over together, each getting its own retries', async () => {
    const calls: string[][] = []
    let release!: () => void
    const first = new Promise<void>((r) => {
      release = r
    })
    const handle = coalesce(async (entries) => {
      calls.push(entries.map((e) => e.id))
      if (calls.length === 1) await first
      return { retry: entries.filter((e) => e.id.endsWith('!')) }
    })
    const a = handle([entry('a1')])
    const b = handle([entry('b1'), entry('b2!')])
    const c = handle([entry('c1!')])
    await Promise.resolve()
    expect(calls).toEqual([['a1']]) // b and c wait for a's turn
    release()
    const [ra, rb, rc] = await Promise.all([a, b, c])
    expect(calls).toEqual([['a1'], ['b1', 'b2!', 'c1!']])
    expect(ra.retry).toEqual([])
    expect(rb.retry.map((e) => e.id)).toEqual(['b2!'])
    expect(rc.retry.map((e) => e.id)).toEqual(['c1!'])
  })

  it('fails every batch of a call that threw, and goes on with the next', async () => {
    let n = 0
    const handle = coalesce(async () => {
      if (n++ === 0) throw new Error('Postgres is down')
    })
    await expect(handle([entry('x')])).rejects.toThrow('Postgres is down')
    await expect(handle([entry('y')])).resolves.toEqual({ retry: [] })
  })
})
