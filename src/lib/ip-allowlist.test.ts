import { describe, expect, it } from 'vitest'
import { createIpAllowlist } from './ip-allowlist.js'

describe('createIpAllowlist', () => {
  const allowed = createIpAllowlist(['127.0.0.1', '::1', '172.16.0.0/12', 'fd00::/8'])
  it.each([
    ['127.0.0.1', true],
    ['::ffff:127.0.0.1', true],
    ['::1', true],
    ['172.20.0.5', true],
    ['::ffff:172.31.255.255', true],
    ['fd12::1', true],
    ['127.0.0.2', false],
    ['172.32.0.1', false],
    ['10.0.0.1', false],
    ['fe80::1', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (addr, expected) => {
    expect(allowed(addr)).toBe(expected)
  })
})
