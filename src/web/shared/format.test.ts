import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compactCount, hueOf, liveFor, safeNext, uptime, viewersLabel } from './format.js'

describe('safeNext', () => {
  it.each([
    ['/c/alice', '/c/alice'],
    ['/dashboard?tab=keys', '/dashboard?tab=keys'],
    ['/c/alice#chat', '/c/alice#chat'],
    ['/', '/'],
    ['/c/alice/../bob', '/c/bob'],
    ['/c/caf%C3%A9', '/c/caf%C3%A9'],
  ])('keeps the same-origin path %j', (next, expected) => {
    expect(safeNext(next)).toBe(expected)
  })

  it.each([
    'https://evil.example',
    'http:evil.example',
    'HTTPS://evil.example',
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '\\/evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '\t//evil.example',
    ' //evil.example',
    '/ /evil.example',
    '/\u3000/evil.example',
    '/\u0000/evil.example',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '%2F%2Fevil.example',
    '/%2F%2Fevil.example',
    '/%2f/evil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/%09/evil.example',
    '/%0A/evil.example',
    '/%252F%252Fevil.example',
    '/%25252F%25252Fevil.example',
    '/%2525252F%2525252Fevil.example',
    '/%E0%A4%A',
    '/..//evil.example',
    '/./\\evil.example',
    'c/alice',
    'evil.example',
    '',
  ])('sends %j to the fallback', (next) => {
    expect(safeNext(next)).toBe('/dashboard')
  })

  it('falls back for an absurdly long next', () => {
    expect(safeNext(`/${'a'.repeat(3000)}`)).toBe('/dashboard')
  })

  it('falls back when there is no next', () => {
    expect(safeNext(null, '/')).toBe('/')
    expect(safeNext(undefined)).toBe('/dashboard')
  })

  it('always yields one leading slash and a path on this origin, whatever the input', () => {
    const base = 'https://live.example'
    const tricky = fc.constantFrom(
      '/',
      '\\',
      '%2F',
      '%5C',
      '%25',
      '\t',
      '\n',
      ' ',
      ':',
      '.',
      '@',
      'evil',
      '?',
      '#',
    )
    const input = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.array(tricky, { maxLength: 12 }).map((parts) => parts.join('')),
      fc.webUrl(),
    )
    fc.assert(
      fc.property(input, (next) => {
        const out = safeNext(next)
        expect(out.startsWith('/')).toBe(true)
        expect(out.startsWith('//')).toBe(false)
        expect(out.startsWith('/\\')).toBe(false)
        expect(new URL(out, base).origin).toBe(base)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('durations and counts', () => {
  it('says how long a channel has been live', () => {
    expect(liveFor(-5)).toBe('0 s')
    expect(liveFor(42_000)).toBe('42 s')
    expect(liveFor(12 * 60_000 + 59_000)).toBe('12 min')
    expect(liveFor(2 * 3600_000 + 5 * 60_000)).toBe('2 h 05 min')
  })

  it('runs an uptime clock', () => {
    expect(uptime(0)).toBe('0:00')
    expect(uptime(65_000)).toBe('1:05')
    expect(uptime(3600_000 + 2 * 60_000 + 3_000)).toBe('1:02:03')
  })

  it('shortens big viewer counts', () => {
    expect(compactCount(950)).toBe('950')
    expect(compactCount(1000)).toBe('1K')
    expect(compactCount(1234)).toBe('1.2K')
    expect(compactCount(25_400)).toBe('25K')
    expect(compactCount(2_500_000)).toBe('2.5M')
    expect(viewersLabel(1)).toBe('1 viewer')
    expect(viewersLabel(2)).toBe('2 viewers')
  })

  it('gives every name a stable hue', () => {
    expect(hueOf('alice')).toBe(hueOf('alice'))
    expect(hueOf('alice')).toBeGreaterThanOrEqual(0)
    expect(hueOf('alice')).toBeLessThan(360)
  })
})
