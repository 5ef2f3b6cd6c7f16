/**
 * @module analytics/segments — how long a segment is, from its name. nginx-rtmp names segments by
 * the wall-clock ms they start at (`hls_fragment_naming system`), so a segment lasts until the next
 * one's name. For the newest segment (its successor not cut yet) the one before it stands in:
 * segments are cut on keyframes at a steady GOP, so consecutive durations barely differ.
 */

/** hls_fragment: what a segment is taken to last when its name says nothing (sequential naming). */
export const DEFAULT_SEGMENT_MS = 1000
const KEEP = 64
const MAX_SEGMENT_MS = 30_000

export type SegmentClock = {
  note(segment: string): void
  durationMs(segment: string): number
}

export function createSegmentClock(): SegmentClock {
  // Sorted, recent segment start times of one channel.
  const starts: number[] = []
  const parse = (s: string) => {
    const n = Number(s)
    // Anything not a plausible epoch-ms name is a sequence number: no clock to read.
    return Number.isSafeInteger(n) && n > 1e12 ? n : null
  }
  return {
    note(segment) {
      const t = parse(segment)
      if (t === null) return
      let i = starts.length
      while (i > 0 && starts[i - 1]! > t) i--
      if (starts[i - 1] === t) return
      starts.splice(i, 0, t)
      if (starts.length > KEEP) starts.shift()
    },
    durationMs(segment) {
      const t = parse(segment)
      if (t === null) return DEFAULT_SEGMENT_MS
      const i = starts.indexOf(t)
      let d = 0
      if (i >= 0 && i + 1 < starts.length) d = starts[i + 1]! - t
      else if (i > 0) d = t - starts[i - 1]!
      return d > 0 && d <= MAX_SEGMENT_MS ? d : DEFAULT_SEGMENT_MS
    },
  }
}
