/**
 * @module analytics/tally — this instance's counts since its last flush, in memory. Work per
 * event is a hash-map update; memory is one entry per viewer seen in the last few minutes plus a
 * few numbers per channel and minute. flush.ts turns a drained tally into Redis and Postgres writes.
 */
import { floorTo } from './buckets.js'
import { createSegmentClock, type SegmentClock } from './segments.js'

type ViewerState = {
  last: number
  /** First segment of this flush window (the start of a view, if Redis says it is a new one). */
  windowFirst: number
  dirty: boolean
  /** The last segment this viewer got: a retry or a second range of it is not more watching. */
  lastSegment: string
}

type ChannelTally = {
  viewers: Map<string, ViewerState>
  /** minute start → segment name → deliveries in that minute. */
  deliveries: Map<number, Map<string, number>>
  clock: SegmentClock
}

export type DrainedChannel = {
  channel: string
  /** Viewers seen in this window: [id, first segment at, last segment at]. */
  viewers: [string, number, number][]
  /** minute start → ms of media delivered. */
  watchMs: Map<number, number>
}

export type Tally = {
  add(channel: string, viewer: string, at: number, segment: string): void
  /** Everything since the last drain, per channel (also channels whose viewers went quiet, for their samples). */
  drain(now: number): DrainedChannel[]
  /** Events added since the last drain. */
  readonly pending: number
  /** Viewers (over all channels) whose last segment came at or after `since`: who is watching now. */
  active(since: number): number
}

/** `gapMs`: how long a viewer's state is kept after their last segment (the view rule's 5 minutes). */
export function createTally(gapMs: number): Tally {
  const channels = new Map<string, ChannelTally>()
  let pending = 0
  return {
    get pending() {
      return pending
    },
    active(since) {
      let n = 0
      for (const ch of channels.values()) for (const v of ch.viewers.values()) if (v.last >= since) n++
      return n
    },
    add(channel, viewer, at, segment) {
      pending++
      let ch = channels.get(channel)
      if (!ch) {
        ch = { viewers: new Map(), deliveries: new Map(), clock: createSegmentClock() }
        channels.set(channel, ch)
      }
      let v = ch.viewers.get(viewer)
      if (!v) {
        v = { last: at, windowFirst: at, dirty: true, lastSegment: '' }
        ch.viewers.set(viewer, v)
      } else if (!v.dirty) {
        v.dirty = true
        v.windowFirst = at
      } else if (at < v.windowFirst) v.windowFirst = at
      if (at > v.last) v.last = at
      if (segment === v.lastSegment) return
      v.lastSegment = segment
      ch.clock.note(segment)
      const minute = floorTo(at, 'minute')
      let bySegment = ch.deliveries.get(minute)
      if (!bySegment) {
        bySegment = new Map()
        ch.deliveries.set(minute, bySegment)
      }
      bySegment.set(segment, (bySegment.get(segment) ?? 0) + 1)
    },
    drain(now) {
      pending = 0
      const out: DrainedChannel[] = []
      for (const [channel, ch] of channels) {
        const viewers: [string, number, number][] = []
        for (const [id, v] of ch.viewers) {
          if (v.dirty) {
            viewers.push([id, v.windowFirst, v.last])
            v.dirty = false
          } else if (v.last < now - gapMs) ch.viewers.delete(id)
        }
        const watchMs = new Map<number, number>()
        for (const [minute, bySegment] of ch.deliveries) {
          let ms = 0
          for (const [segment, n] of bySegment) ms += n * ch.clock.durationMs(segment)
          watchMs.set(minute, ms)
        }
        ch.deliveries.clear()
        out.push({ channel, viewers, watchMs })
        if (ch.viewers.size === 0) channels.delete(channel)
      }
      return out
    },
  }
}
