/** Pure parts of the analytics path: log lines, viewer ids, UTC buckets, segment durations, the tally. */
import { describe, expect, it } from 'vitest'
import { bucketStarts, floorTo, MAX_RANGE_MS } from './buckets.js'
import { formatHlsLine, parseHlsLine } from './log-line.js'
import { parseRange } from './schemas.js'
import { createSegmentClock, DEFAULT_SEGMENT_MS } from './segments.js'
import { createTally } from './tally.js'
import { isPageViewer, utcDay, viewerId } from './viewer-id.js'

const T = Date.parse('2026-03-28T23:59:59.500Z')
const line = (
  o: Partial<{
    at: number
    addr: string
    status: number
    bytes: number
    uri: string
    cookie: string | null
    userAgent: string
  }> = {},
) =>
  formatHlsLine({
    at: T,
    addr: '203.0.113.7',
    status: 200,
    bytes: 1234,
    uri: '/hls/alice_tv/1774742399000.ts',
    cookie: null,
    userAgent: 'VLC/3.0.20 LibVLC/3.0.20',
    ...o,
  })

describe('parseHlsLine', () => {
  it('reads what nginx sends: time, real address, channel, segment, cookie and user agent', () => {
    expect(parseHlsLine(line({ cookie: 'abcdefghijklmnop1234' }))).toEqual({
      at: T,
      addr: '203.0.113.7',
      status: 200,
      bytes: 1234,
      channel: 'alice_tv',
      segment: '1774742399000',
      cookie: 'abcdefghijklmnop1234',
      userAgent: 'VLC/3.0.20 LibVLC/3.0.20',
    })
  })

  it('keeps only segments actually served from a well-named channel', () => {
    expect(parseHlsLine(line({ status: 404 }))).toBeNull()
    expect(parseHlsLine(line({ bytes: 0 }))).toBeNull()
    expect(parseHlsLine(line({ uri: '/hls/alice_tv/index.m3u8' }))).toBeNull()
    expect(parseHlsLine(line({ uri: '/hls/Alice/1.ts' }))).toBeNull()
    expect(parseHlsLine(line({ uri: '/hls/alice_tv/../x/1.ts' }))).toBeNull()
    expect(parseHlsLine('garbage')).toBeNull()
    expect(parseHlsLine(line({ status: 206 }))?.status).toBe(206)
    // A members-only stream's segment, as logged after the /hls/t/<grant>/ rewrite.
    expect(parseHlsLine(line({ uri: '/alice_tv/1774742399000.ts' }))?.channel).toBe('alice_tv')
  })

  it('ignores a malformed cookie (it is then an address + user agent viewer)', () => {
    expect(parseHlsLine(line({ cookie: 'short' }))?.cookie).toBeNull()
    expect(parseHlsLine(line({ cookie: 'x'.repeat(20).replace('x', ';') }))?.cookie).toBeNull()
  })
})

describe('viewer ids', () => {
  const hit = { addr: '203.0.113.7', userAgent: 'VLC', cookie: null }
  it('are salted hashes: same viewer and salt → same id; another salt (the next day) → another id', () => {
    expect(viewerId('s1', hit)).toBe(viewerId('s1', { ...hit }))
    expect(viewerId('s2', hit)).not.toBe(viewerId('s1', hit))
    expect(viewerId('s1', { ...hit, userAgent: 'ffplay' })).not.toBe(viewerId('s1', hit))
    expect(viewerId('s1', { ...hit, addr: '203.0.113.8' })).not.toBe(viewerId('s1', hit))
  })
  it('never contain the address, and say whether the viewer is our page (cookie)', () => {
    const a = viewerId('s1', hit)
    expect(a).not.toContain('203')
    expect(isPageViewer(a)).toBe(false)
    const c = viewerId('s1', { ...hit, cookie: 'abcdefghijklmnop1234' })
    expect(isPageViewer(c)).toBe(true)
    // The cookie is the identity: another address with the same cookie is the same viewer.
    expect(viewerId('s1', { addr: '198.51.100.1', userAgent: 'x', cookie: 'abcdefghijklmnop1234' })).toBe(c)
  })
  it('rotate at UTC midnight, whatever the local zone', () => {
    expect(utcDay(T)).toBe('2026-03-28')
    expect(utcDay(T + 500)).toBe('2026-03-29')
  })
})

describe('UTC buckets', () => {
  it('floor on UTC boundaries', () => {
    expect(new Date(floorTo(T, 'minute')).toISOString()).toBe('2026-03-28T23:59:00.000Z')
    expect(new Date(floorTo(T, 'hour')).toISOString()).toBe('2026-03-28T23:00:00.000Z')
    expect(new Date(floorTo(T, 'day')).toISOString()).toBe('2026-03-28T00:00:00.000Z')
    expect(new Date(floorTo(T + 500, 'day')).toISOString()).toBe('2026-03-29T00:00:00.000Z')
    // The last Sunday of March: a DST change in Europe, nothing in UTC.
    expect(
      bucketStarts(Date.parse('2026-03-29T00:30:00Z'), Date.parse('2026-03-29T04:00:00Z'), 'hour'),
    ).toHaveLength(4)
  })
  it('cover [from, to): the first is the bucket holding from, to is exclusive', () => {
    const starts = bucketStarts(T, T + 120_500, 'minute').map((t) => new Date(t).toISOString())
    expect(starts).toEqual([
      '2026-03-28T23:59:00.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T00:01:00.000Z',
    ])
    expect(
      bucketStarts(Date.parse('2026-03-29T00:00:00Z'), Date.parse('2026-03-29T00:02:00Z'), 'minute'),
    ).toHaveLength(2)
  })
})

describe('parseRange', () => {
  const now = Date.parse('2026-03-29T12:00:00Z')
  const bad = (q: Record<string, string>) => {
    try {
      parseRange(q, now)
    } catch (err) {
      return (err as { code: string; status: number }).status
    }
    return 'accepted'
  }
  it('accepts UTC or offset instants and reads them as instants', () => {
    const r = parseRange(
      { from: '2026-03-29T02:00:00+02:00', to: '2026-03-29T01:00:00Z', bucket: 'minute' },
      now,
    )
    expect(new Date(r.from).toISOString()).toBe('2026-03-29T00:00:00.000Z')
    expect(r.bucket).toBe('minute')
  })
  it('defaults to = now, bucket = hour, from = a day before', () => {
    expect(parseRange({}, now)).toEqual({ from: now - 86_400_000, to: now, bucket: 'hour' })
  })
  it('refuses bad input with 400', () => {
    expect(bad({ bucket: 'week' })).toBe(400)
    expect(bad({ from: 'yesterday' })).toBe(400)
    expect(bad({ from: '2026-03-29' })).toBe(400)
    expect(bad({ from: '2026-03-29T12:00:00Z', to: '2026-03-29T11:00:00Z' })).toBe(400)
    expect(bad({ from: new Date(now - MAX_RANGE_MS.minute - 1).toISOString(), bucket: 'minute' })).toBe(400)
    expect(bad({ from: new Date(now - MAX_RANGE_MS.minute).toISOString(), bucket: 'minute' })).toBe(
      'accepted',
    )
  })
})

describe('segment durations', () => {
  it('come from the next segment name (wall-clock ms), else the previous one', () => {
    const c = createSegmentClock()
    for (const s of ['1774742399000', '1774742400010', '1774742401030']) c.note(s)
    expect(c.durationMs('1774742399000')).toBe(1010)
    expect(c.durationMs('1774742400010')).toBe(1020)
    // The newest: its successor is not cut yet, the previous one stands in.
    expect(c.durationMs('1774742401030')).toBe(1020)
  })
  it('fall back to hls_fragment for sequential names', () => {
    const c = createSegmentClock()
    c.note('7')
    expect(c.durationMs('7')).toBe(DEFAULT_SEGMENT_MS)
  })
})

describe('tally', () => {
  it('counts each segment once per viewer (retries and ranges are not more watching)', () => {
    const t = createTally(300_000)
    t.add('alice_tv', 'a1', 1_000, '1774742399000')
    t.add('alice_tv', 'a1', 1_100, '1774742399000')
    t.add('alice_tv', 'a1', 2_000, '1774742400000')
    t.add('alice_tv', 'a2', 2_100, '1774742400000')
    const [ch] = t.drain(3_000)
    expect(ch!.viewers).toEqual([
      ['a1', 1_000, 2_000],
      ['a2', 2_100, 2_100],
    ])
    expect([...ch!.watchMs.values()].reduce((a, b) => a + b)).toBe(3_000)
  })

  it('reports a window per drain and forgets viewers gone longer than the gap', () => {
    const t = createTally(300_000)
    t.add('alice_tv', 'a1', 1_000, '1')
    t.drain(2_000)
    t.add('alice_tv', 'a1', 60_000, '2')
    expect(t.drain(61_000)[0]!.viewers).toEqual([['a1', 60_000, 60_000]])
    // Still reported (for its concurrency sample) while someone may come back…
    expect(t.drain(100_000)).toHaveLength(1)
    // …and dropped once they are gone for good.
    expect(t.drain(60_000 + 300_001)).toHaveLength(1)
    expect(t.drain(60_000 + 300_002)).toHaveLength(0)
  })
})
