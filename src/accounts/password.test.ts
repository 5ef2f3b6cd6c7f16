import * as argon2 from '@node-rs/argon2'
import { describe, expect, it, vi } from 'vitest'
import { hashPassword, needsRehash, verifyPassword } from './password.js'

vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof import('@node-rs/argon2')>()
  return { ...real, verify: vi.fn(real.verify) }
})

const OWASP = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/

describe('password hashing', () => {
  it('uses argon2id with m=19456 KiB, t=2, p=1 and a fresh salt', async () => {
    const a = await hashPassword('correct horse battery staple')
    const b = await hashPassword('correct horse battery staple')
    expect(a).toMatch(OWASP)
    expect(a).not.toBe(b)
    expect(await verifyPassword(a, 'correct horse battery staple')).toBe(true)
    expect(await verifyPassword(a, 'correct horse battery stapl')).toBe(false)
  })

  it('verifies exactly as typed: no trimming, case folding or truncation', async () => {
    const h = await hashPassword(' Mixed Case ')
    expect(await verifyPassword(h, ' Mixed Case ')).toBe(true)
    for (const other of ['Mixed Case', ' mixed case ', ' Mixed Case  '])
      expect(await verifyPassword(h, other)).toBe(false)
    const long = 'x'.repeat(128)
    expect(await verifyPassword(await hashPassword(long), long.slice(0, 127))).toBe(false)
  })

  it('does a full argon2 verification with OWASP parameters for an unknown account too', async () => {
    const verify = vi.mocked(argon2.verify)
    verify.mockClear()
    expect(await verifyPassword(null, 'anything at all')).toBe(false)
    expect(verify).toHaveBeenCalledTimes(1)
    expect(verify.mock.calls[0]![0]).toMatch(OWASP)
    verify.mockClear()
    expect(await verifyPassword(await hashPassword('real one'), 'wrong one')).toBe(false)
    expect(verify).toHaveBeenCalledTimes(1)
  })

  it('treats a corrupt stored hash as a mismatch, not a crash', async () => {
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false)
  })

  it('flags hashes made with other parameters for rehashing', async () => {
    expect(needsRehash(await hashPassword('p'))).toBe(false)
    const weak = await argon2.hash('p', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
    expect(needsRehash(weak)).toBe(true)
    const argon2i = await argon2.hash('p', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 })
    expect(needsRehash(argon2i)).toBe(true)
  })
})
