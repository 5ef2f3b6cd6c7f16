import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BINS,
  binBounds,
  binOf,
  emptyHistogram,
  MAX_MS,
  merge,
  quantile,
  RELATIVE_ERROR,
  record,
} from './qoe-histogram.js'
import { rebufferRatio } from './qoe-summary.js'

function exactMedian(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.ceil(0.5 * s.length) - 1]!
}

describe('QoE histogram', () => {
  it('has 83 eighth-octave bins from 100 ms to 120 s, ±4.4 % at worst', () => {
    expect(BINS).toBe(83)
    expect(RELATIVE_ERROR).toBeCloseTo(0.0443, 3)
    expect(binOf(0)).toBe(0)
    expect(binOf(99)).toBe(0)
    expect(binOf(100)).toBe(1)
    expect(binOf(MAX_MS)).toBe(BINS - 1)
    for (let i = 1; i < BINS; i++) {
      const [lo, hi] = binBounds(i)
      expect(binOf(lo + 1e-9)).toBe(i)
      expect(hi / lo).toBeCloseTo(2 ** (1 / 8), 9)
    }
  })

  it('clamps absurd values into the first and last bin instead of trusting them', () => {
    const h = emptyHistogram()
    for (const v of [-5, Number.NaN, Number.POSITIVE_INFINITY, 1e12, 86_400_000]) record(h, v)
    expect(h[0]).toBe(2) // negative and NaN count as 0 ms
    expect(h[BINS - 1]).toBe(3) // everything above 120 s counts as 120 s
    expect(quantile(h, 0.5)).toBeLessThanOrEqual(MAX_MS)
  })

  it('p50 of an empty histogram is null', () => {
    expect(quantile(emptyHistogram(), 0.5)).toBeNull()
  })

  it('p50 is within the stated relative error of the exact median, also after merging', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 100, max: MAX_MS, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.double({ min: 100, max: MAX_MS, noNaN: true }), { minLength: 0, maxLength: 200 }),
        (a, b) => {
          const ha = emptyHistogram()
          const hb = emptyHistogram()
          for (const v of a) record(ha, v)
          for (const v of b) record(hb, v)
          const p50 = quantile(merge(ha, hb), 0.5)!
          const exact = exactMedian([...a, ...b])
          // +0.5 ms: the estimate is rounded to whole milliseconds.
          expect(Math.abs(p50 - exact)).toBeLessThanOrEqual(exact * RELATIVE_ERROR + 0.5)
        },
      ),
    )
  })

  it('merges histograms of different lengths (trimmed rows) bin by bin', () => {
    const a = emptyHistogram()
    record(a, 1500, 3)
    const b = [0, 2] // a stored row with its trailing empty bins left off
    const m = merge(a, b)
    expect(m).toHaveLength(BINS)
    expect(m[1]).toBe(2)
    expect(m[binOf(1500)]).toBe(3)
  })
})

describe('rebuffer ratio', () => {
  it('is stalled / (played + stalled), null when nothing was watched', () => {
    expect(rebufferRatio(9000, 1000)).toBe(0.1)
    expect(rebufferRatio(0, 0)).toBeNull()
    expect(rebufferRatio(0, 500)).toBe(1)
    expect(rebufferRatio(60_000, 0)).toBe(0)
  })
})
