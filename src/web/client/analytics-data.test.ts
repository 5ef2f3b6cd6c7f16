import { describe, expect, it } from 'vitest'
import { analyticsPath, columns, daysBack, duration, ms, percent } from './analytics-data.js'

describe('analytics page data', () => {
  it('asks the API for whole UTC days and ISO bounds', () => {
    const now = Date.UTC(2026, 10, 29, 23, 59, 30)
    expect(daysBack(now, 30).toISOString()).toBe('2026-10-31T00:00:00.000Z')
    expect(daysBack(now, 1).toISOString()).toBe('2026-11-29T00:00:00.000Z')
    expect(analyticsPath('some_one', new Date(0), new Date(60_000), 'minute')).toBe(
      '/api/v1/channels/some_one/analytics?from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T00%3A01%3A00.000Z&bucket=minute',
    )
  })

  it('turns the series into uPlot columns: seconds since the epoch, then one array per figure', () => {
    const series = [
      { t: '2026-11-29T10:00:00.000Z', views: 1, watchTimeS: 30, avgConcurrent: 0.5, peakConcurrent: 1 },
      { t: '2026-11-29T10:01:00.000Z', views: 2, watchTimeS: 90, avgConcurrent: 1.5, peakConcurrent: 2 },
    ]
    expect(columns(series, [(p) => p.avgConcurrent, (p) => p.peakConcurrent])).toEqual([
      [Date.UTC(2026, 10, 29, 10) / 1000, Date.UTC(2026, 10, 29, 10, 1) / 1000],
      [0.5, 1.5],
      [1, 2],
    ])
  })

  it('writes figures for people, and a dash for what is unknown', () => {
    expect([ms(null), ms(850), ms(2240)]).toEqual(['—', '850 ms', '2.2 s'])
    expect([percent(null), percent(0), percent(0.0174), percent(0.25)]).toEqual([
      '—',
      '0 %',
      '1.74 %',
      '25.0 %',
    ])
    expect([duration(42), duration(600), duration(3720), duration(90_000)]).toEqual([
      '42 s',
      '10 min',
      '1 h 02 min',
      '25 h',
    ])
  })
})
