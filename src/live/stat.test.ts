import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseIngestStat } from './stat.js'

// Captured from Debian 12's nginx-rtmp with one ffmpeg publisher renamed to its channel.
const captured = readFileSync(new URL('./fixtures/stat.xml', import.meta.url), 'utf8')

describe('parseIngestStat', () => {
  it('finds the ingest stream, its publisher (not the hls relay) and its bytes', () => {
    expect(parseIngestStat(captured)).toEqual([
      { name: 'u91de58f90', publisherId: '7', bytesIn: 108360, timeMs: 2104 },
    ])
  })
  it('reads the internal app only when asked', () => {
    expect(parseIngestStat(captured, 'hls')).toEqual([
      { name: 'u91de58f90', publisherId: '12', bytesIn: 62959, timeMs: 2013 },
    ])
  })
  it('returns nothing for an empty server or garbage', () => {
    expect(
      parseIngestStat(
        '<rtmp><server><application><name>live</name><live><nclients>0</nclients></live></application></server></rtmp>',
      ),
    ).toEqual([])
    expect(parseIngestStat('not xml')).toEqual([])
    expect(parseIngestStat('')).toEqual([])
  })
})
