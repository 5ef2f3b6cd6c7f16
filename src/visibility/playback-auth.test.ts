import { describe, expect, it } from 'vitest'
import { parsePlaybackUri } from './playback-auth.js'

describe('parsePlaybackUri', () => {
  it('reads the channel and grant of the shapes nginx serves', () => {
    expect(parsePlaybackUri('/hls/alice/index.m3u8')).toEqual({ area: 'hls', channel: 'alice', token: null })
    expect(parsePlaybackUri('/hls/alice/1795995138195.ts?x=1')).toEqual({
      area: 'hls',
      channel: 'alice',
      token: null,
    })
    expect(parsePlaybackUri('/hls/t/a.b.c/alice/index.m3u8')).toEqual({
      area: 'hls',
      channel: 'alice',
      token: 'a.b.c',
    })
    expect(parsePlaybackUri('/thumbs/alice.jpg')).toEqual({ area: 'thumbs', channel: 'alice', token: null })
    expect(parsePlaybackUri('/thumbs/t/a.b.c/alice.jpg')).toEqual({
      area: 'thumbs',
      channel: 'alice',
      token: 'a.b.c',
    })
  })

  it('refuses every other spelling (nginx would normalise some of them past the check)', () => {
    for (const uri of [
      '',
      '/hls/alice',
      '/hls/alice/',
      '/hls/%61lice/index.m3u8',
      '/hls/x/../alice/index.m3u8',
      '/hls//alice/index.m3u8',
      '/hls/alice/sub/index.m3u8',
      '/hls/Alice/index.m3u8',
      '/hls/t//alice/index.m3u8',
      '/vod/0b4c/index.m3u8',
      '/thumbs/alice.png',
    ])
      expect(parsePlaybackUri(uri), uri).toBeNull()
  })
})
