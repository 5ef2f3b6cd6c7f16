import { describe, expect, it } from 'vitest'
import { isTrustedOrigin } from './origin-check.js'

const allowed = ['http://localhost:8080', 'https://live.example']

describe('isTrustedOrigin', () => {
  it('accepts exactly the configured origins', () => {
    expect(isTrustedOrigin('http://localhost:8080', undefined, allowed)).toBe(true)
    expect(isTrustedOrigin('https://live.example', 'cross-site', allowed)).toBe(true)
  })

  it.each([
    'https://evil.example',
    'http://live.example', // scheme matters
    'https://live.example:8443', // port matters
    'https://live.example.evil.example',
    'null',
    '',
  ])('refuses Origin %j', (origin) => {
    expect(isTrustedOrigin(origin, 'same-origin', allowed)).toBe(false)
  })

  it('falls back to Sec-Fetch-Site only when there is no Origin', () => {
    expect(isTrustedOrigin(undefined, 'same-origin', allowed)).toBe(true)
    for (const site of ['same-site', 'cross-site', 'none', undefined])
      expect(isTrustedOrigin(undefined, site, allowed)).toBe(false)
  })
})
