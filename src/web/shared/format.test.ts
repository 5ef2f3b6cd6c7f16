import { describe, expect, it } from 'vitest'
import { compactCount, hueOf, liveFor, safeNext, uptime, viewersLabel } from './format.js'

describe('safeNext', () => {
  it('keeps same-origin paths', () => {
    expect(safeNext('/c/alice')).toBe('/c/alice')
    expect(safeNext('/dashboard?tab=keys')).toBe('/dashboard?tab=keys')
  })

  it('refuses anything that could leave the site after login', () => {
    for (const next of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
      'c/alice',
      '',
    ]) {
      expect(safeNext(next), next).toBe('/dashboard')
    }
    expect(safeNext(null, '/')).toBe('/')
    expect(safeNext(undefined)).toBe('/dashboard')
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
