import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseIngestStat, parseNodeStat } from './stat.js'

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

describe('parseNodeStat', () => {
  it('reads the node totals, the ingest publishers and each app’s client count from a capture', () => {
    expect(parseNodeStat(captured)).toEqual({
      publishers: 1,
      bytesIn: 175454,
      bytesOut: 65470,
      bwIn: 0,
      bwOut: 0,
      // live: the publisher and the relay's player; hls: the relay publishing into it.
      clients: { live: 2, hls: 1 },
    })
  })

  it('counts only streams with a publisher, and takes the node’s bandwidth, not a stream’s', () => {
    const stream = (name: string, publishing: boolean) =>
      `<stream><name>${name}</name><bw_in>999</bw_in><bytes_in>5</bytes_in>` +
      `<client><id>1</id>${publishing ? '<publishing/>' : ''}<active/></client>` +
      `<nclients>1</nclients></stream>`
    const xml =
      '<rtmp><uptime>60</uptime><bw_in>2048000</bw_in><bytes_in>9000000</bytes_in>' +
      '<bw_out>512000</bw_out><bytes_out>3000000</bytes_out><server>' +
      `<application><name>live</name><live>${stream('a', true)}${stream('b', false)}${stream('c', true)}` +
      '<nclients>3</nclients></live></application></server><server>' +
      '<application><name>hls</name><live><nclients>0</nclients></live></application></server></rtmp>'
    expect(parseNodeStat(xml)).toEqual({
      publishers: 2,
      bytesIn: 9_000_000,
      bytesOut: 3_000_000,
      bwIn: 2_048_000,
      bwOut: 512_000,
      clients: { live: 3, hls: 0 },
    })
  })

  it('reads an idle node as zeros and refuses what is not a stat document', () => {
    expect(
      parseNodeStat(
        '<rtmp><bw_in>0</bw_in><bytes_in>0</bytes_in><server><application><name>live</name>' +
          '<live><nclients>0</nclients></live></application></server></rtmp>',
      ),
    ).toEqual({ publishers: 0, bytesIn: 0, bytesOut: 0, bwIn: 0, bwOut: 0, clients: { live: 0 } })
    expect(parseNodeStat('<html><body>502 Bad Gateway</body></html>')).toBeNull()
    expect(parseNodeStat('')).toBeNull()
    expect(parseNodeStat('<rtmp><bytes_in>-5</bytes_in><bw_in>NaN</bw_in></rtmp>')).toMatchObject({
      bytesIn: 0,
      bwIn: 0,
    })
  })
})
