import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../lib/secrets.js'
import { generateStreamKey, parseStreamKey } from './token.js'

describe('stream key format', () => {
  it('generates live_<id>_<secret> that parses back to its parts and hashes to the stored hash', () => {
    const g = generateStreamKey()
    expect(g.key).toMatch(/^live_[a-z2-9]{12}_[a-z2-9]{32}$/)
    const parsed = parseStreamKey(g.key)
    expect(parsed).toEqual({ id: g.id, secret: g.key.slice(18) })
    expect(sha256Hex(parsed!.secret)).toBe(g.secretHash)
    expect(g.secretHash).not.toContain(parsed!.secret)
  })

  it('never repeats and keeps the secret out of the preview', () => {
    const keys = Array.from({ length: 500 }, generateStreamKey)
    expect(new Set(keys.map((k) => k.key)).size).toBe(500)
    for (const k of keys.slice(0, 20)) {
      const secret = parseStreamKey(k.key)!.secret
      expect(k.preview.startsWith(`live_${k.id}_`)).toBe(true)
      expect(k.preview).not.toContain(secret.slice(0, 8))
    }
  })

  it.each([
    '',
    'live_',
    'live_abcdefghijkm_',
    'LIVE_abcdefghijkm_abcdefghijkmnpqrstuvwxyz23456789',
    'live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz2345678', // one short
    'live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz234567899', // one long
    'live_abcdefghijkl_abcdefghijkmnpqrstuvwxyz23456789', // l is not in the alphabet
    'live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz2345678/',
    'live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz23456789\n',
    'live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz23456789?x=1',
    '../live_abcdefghijkm_abcdefghijkmnpqrstuvwxyz23456789',
  ])('rejects %j before any lookup', (value) => {
    expect(parseStreamKey(value)).toBeNull()
  })
})
