import { describe, expect, it } from 'vitest'
import { canListVideo, canWatchVideo, effectiveVisibility } from './access.js'

const owner = { id: 'o', role: 'user' as const }
const admin = { id: 'a', role: 'admin' as const }
const someone = { id: 's', role: 'user' as const }
const channel = { ownerId: 'o' }

describe('canWatchVideo', () => {
  it.each([
    ['public', null, true, true],
    ['unlisted', null, true, false],
    ['private', null, false, false],
  ] as const)('%s video: anyone may watch %s/%s, list %s', (visibility, _x, watch, list) => {
    for (const viewer of [null, someone]) {
      expect(canWatchVideo(viewer, { visibility }, channel)).toBe(watch)
      expect(canListVideo(viewer, { visibility }, channel)).toBe(list)
    }
    for (const viewer of [owner, admin]) {
      expect(canWatchVideo(viewer, { visibility }, channel)).toBe(true)
      expect(canListVideo(viewer, { visibility }, channel)).toBe(true)
    }
  })
  it("inherits the channel's visibility unless the video sets its own", () => {
    expect(effectiveVisibility({ visibility: null }, channel)).toBe('public')
    expect(effectiveVisibility({ visibility: null }, { ownerId: 'o', visibility: 'private' })).toBe('private')
    expect(canWatchVideo(null, { visibility: null }, { ownerId: 'o', visibility: 'private' })).toBe(false)
    expect(canWatchVideo(null, { visibility: 'public' }, { ownerId: 'o', visibility: 'private' })).toBe(true)
  })
})
