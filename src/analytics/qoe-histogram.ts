/**
 * @module analytics/qoe-histogram — a fixed log-scale histogram for startup times and latencies,
 * so p50 survives aggregation: two histograms add bin by bin (per minute, per broadcast, per
 * channel, across instances) where medians could not.
 *
 * Layout (the same for every row ever written, so any two histograms merge): bin 0 holds
 * [0, 100 ms); bin i ≥ 1 holds [100·2^((i−1)/8), 100·2^(i/8)) ms, eighth-octave steps up to
 * MAX_MS = 120 s, which falls in the last bin. Values are clamped to [0, MAX_MS] first.
 *
 * Error: a quantile is reported as the geometric middle of the bin the true quantile falls in,
 * so for anything ≥ 100 ms it is within a factor 2^(1/16) of the true sample, i.e. ±4.4 %
 * (HdrHistogram/DDSketch-style relative error; a t-digest is not needed for one quantile of a
 * bounded quantity). Below 100 ms the answer is 50 ms: no HLS startup or latency is that short.
 */

export const MAX_MS = 120_000
const BASE_MS = 100
const STEPS_PER_OCTAVE = 8
/** Bin index of MAX_MS, plus one for bin 0. */
export const BINS = 2 + Math.floor(STEPS_PER_OCTAVE * Math.log2(MAX_MS / BASE_MS))
/** Worst relative error of a reported quantile (≥ 100 ms). */
export const RELATIVE_ERROR = 2 ** (1 / (2 * STEPS_PER_OCTAVE)) - 1

export type Histogram = number[]

export function emptyHistogram(): Histogram {
  return new Array<number>(BINS).fill(0)
}

export function clampMs(ms: number): number {
  if (Number.isNaN(ms) || ms < 0) return 0
  return Math.min(ms, MAX_MS)
}

export function binOf(ms: number): number {
  const v = clampMs(ms)
  if (v < BASE_MS) return 0
  return Math.min(BINS - 1, 1 + Math.floor(STEPS_PER_OCTAVE * Math.log2(v / BASE_MS)))
}

/** Lower and upper bound of a bin, in ms. */
export function binBounds(bin: number): [number, number] {
  if (bin === 0) return [0, BASE_MS]
  return [BASE_MS * 2 ** ((bin - 1) / STEPS_PER_OCTAVE), BASE_MS * 2 ** (bin / STEPS_PER_OCTAVE)]
}

export function record(h: Histogram, ms: number, count = 1): void {
  const i = binOf(ms)
  h[i] = (h[i] ?? 0) + count
}

/** Adds `b` into `a` bin by bin; a shorter array (a row from an older layout) counts as zeros. */
export function merge(a: Histogram, b: readonly number[]): Histogram {
  for (let i = 0; i < BINS; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0)
  return a
}

export function total(h: readonly number[]): number {
  let n = 0
  for (const c of h) n += c
  return n
}

/** The q-quantile (0 < q < 1) in whole ms, or null for an empty histogram. */
export function quantile(h: readonly number[], q: number): number | null {
  const n = total(h)
  if (n === 0) return null
  // The rank of the lower median for q = 0.5 (nearest-rank definition).
  const rank = Math.max(1, Math.ceil(q * n))
  let seen = 0
  for (let i = 0; i < h.length; i++) {
    seen += h[i] ?? 0
    if (seen >= rank) {
      if (i === 0) return BASE_MS / 2
      const [lo, hi] = binBounds(i)
      return Math.round(Math.sqrt(lo * Math.min(hi, MAX_MS)))
    }
  }
  return null
}
