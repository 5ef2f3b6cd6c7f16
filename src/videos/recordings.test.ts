import { describe, expect, it } from 'vitest'
import { selectParts } from './recordings.js'

describe('selectParts', () => {
  const t0 = 1_700_000_000_000
  it('takes the parts of one channel within the session, oldest first', () => {
    const names = [
      'alice-1700000010.flv',
      'alice-1700000000.flv',
      'alice-1699999990.flv', // an earlier session
      'alice-1700000100.flv', // after the end
      'bob-1700000005.flv',
      'alice_x-1700000005.flv',
      'alice-1700000005.flv.tmp',
    ]
    expect(selectParts(names, 'alice', t0 + 400, t0 + 60_000).map((p) => p.name)).toEqual([
      'alice-1700000000.flv',
      'alice-1700000010.flv',
    ])
  })
  it('allows the second of flooring before the start', () => {
    expect(selectParts(['alice-1699999999.flv'], 'alice', t0 + 10, t0 + 5000)).toHaveLength(0)
    expect(selectParts(['alice-1700000000.flv'], 'alice', t0 + 999, t0 + 5000)).toHaveLength(1)
  })
})
