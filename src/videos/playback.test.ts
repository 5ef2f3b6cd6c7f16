import { describe, expect, it } from 'vitest'
import { parseVodUri } from './playback.js'

const id = '0b7c6a52-3f4e-4d1a-9c55-2f1e8d3a7b10'

describe('parseVodUri', () => {
  it('reads the video (and the grant) from the shapes nginx serves', () => {
    expect(parseVodUri(`/vod/${id}/index.m3u8`)).toEqual({ videoId: id, token: null })
    expect(parseVodUri(`/vod/${id}/seg00001.ts?x=1`)).toEqual({ videoId: id, token: null })
    expect(parseVodUri(`/vod/t/a.b.c/${id}/download.mp4`)).toEqual({ videoId: id, token: 'a.b.c' })
  })
  it('refuses every other shape (the check then fails closed)', () => {
    for (const uri of [
      `/vod/${id}`,
      `/vod/${id}/`,
      `/vod/${id}/../x`,
      `/vod/${id.toUpperCase()}/index.m3u8`,
      `/vod/t/${id}/index.m3u8`,
      '/vod/recordings/alice-1.flv',
      `/hls/${id}/index.m3u8`,
    ])
      expect(parseVodUri(uri), uri).toBeNull()
  })
})
