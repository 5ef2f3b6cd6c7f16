import { describe, expect, it } from 'vitest'
import { compareSecret, hashesEqual, randomId, sha256Hex } from './secrets.js'

describe('secrets', () => {
  it('randomId uses only the URL-safe alphabet at the requested length', () => {
    const id = randomId(200)
    expect(id).toMatch(/^[a-km-np-z2-9]{200}$/)
    expect(randomId(12)).not.toBe(randomId(12))
  })
  it('compares hashes and secrets exactly', () => {
    expect(hashesEqual(sha256Hex('a'), sha256Hex('a'))).toBe(true)
    expect(hashesEqual(sha256Hex('a'), sha256Hex('b'))).toBe(false)
    expect(hashesEqual('', '')).toBe(false)
    expect(hashesEqual(sha256Hex('a'), 'abcd')).toBe(false)
    expect(compareSecret('s3cret', 's3cret')).toBe(true)
    expect(compareSecret('s3cret', 's3cret ')).toBe(false)
  })
})
