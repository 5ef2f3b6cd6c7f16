import { describe, expect, it } from 'vitest'
import { createClientAddress, normalizeAddress, UNKNOWN_ADDRESS } from './client-address.js'

describe('normalizeAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::ffff:abcd', '::ffff:abcd'],
    ['fe80::1%eth0', undefined],
    ['1.2.3.4:5678', undefined],
    ['unknown', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeAddress(raw)).toBe(expected)
  })
})

describe('createClientAddress (right-most untrusted hop)', () => {
  const clientOf = createClientAddress(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8'])

  it('ignores forwarding headers from an untrusted peer entirely', () => {
    expect(clientOf('203.0.113.9', '6.6.6.6')).toBe('203.0.113.9')
    expect(clientOf('::ffff:203.0.113.9', '6.6.6.6, 10.0.0.1')).toBe('203.0.113.9')
    expect(clientOf('2001:db8::9', '127.0.0.1')).toBe('2001:db8::9')
  })

  it('takes the right-most entry that is not a trusted proxy', () => {
    expect(clientOf('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9')
    // The client prepended a lie; the trusted hops' own entries end the walk before it.
    expect(clientOf('127.0.0.1', '6.6.6.6, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9')
    expect(clientOf('::ffff:127.0.0.1', '6.6.6.6,198.51.100.7')).toBe('198.51.100.7')
    expect(clientOf('::1', '2001:db8::7, fd00::2')).toBe('2001:db8::7')
    expect(clientOf('fd00::5', '::ffff:198.51.100.7')).toBe('198.51.100.7')
  })

  it('uses the peer when a trusted proxy sent no header or an empty one', () => {
    expect(clientOf('127.0.0.1', undefined)).toBe('127.0.0.1')
    expect(clientOf('127.0.0.1', '')).toBe('127.0.0.1')
  })

  it('stops at a garbage entry, keeping the last hop it could verify', () => {
    expect(clientOf('127.0.0.1', '203.0.113.9, not-an-ip')).toBe('127.0.0.1')
    expect(clientOf('127.0.0.1', 'garbage, 10.0.0.7')).toBe('10.0.0.7')
    expect(clientOf('127.0.0.1', ' , ')).toBe('127.0.0.1')
    expect(clientOf('127.0.0.1', '1.2.3.4:80')).toBe('127.0.0.1')
    // Garbage left of the client is never looked at.
    expect(clientOf('127.0.0.1', '<script>, 203.0.113.9')).toBe('203.0.113.9')
  })

  it('gives the farthest hop when every hop is trusted', () => {
    expect(clientOf('127.0.0.1', '10.0.0.1, 10.0.0.2')).toBe('10.0.0.1')
  })

  it('reports an undeterminable peer as unknown, whatever the headers say', () => {
    expect(clientOf(undefined, '203.0.113.9')).toBe(UNKNOWN_ADDRESS)
    expect(clientOf('', '203.0.113.9')).toBe(UNKNOWN_ADDRESS)
  })

  it('trusts nothing with an empty list', () => {
    expect(createClientAddress([])('127.0.0.1', '203.0.113.9')).toBe('127.0.0.1')
  })
})
