/**
 * @module web/client/playback-grant — a private channel's playback grant for the signed-in viewer:
 * fetched before the player starts and renewed well before it expires. The grant is a path
 * component (`/hls/t/<token>/<channel>/…`), so swapping it in every request URL (hls.js
 * xhrSetup) keeps a running player going across renewals without a restart.
 */
import { api } from './api.js'

type Grant = { token: string; expiresAt: string; playbackUrl: string }

export type PlaybackGrant = {
  /** Gets the first grant; false when this viewer may not watch (or is signed out). */
  ready(): Promise<boolean>
  /** The playlist path under the current grant. */
  src(): string
  /** The channel's live thumbnail under the current grant (the player's poster). */
  thumbnail(): string
  /** Any request URL re-pointed at the current grant. */
  rewrite(url: string): string
}

const GRANT_PATH = /\/hls\/t\/[^/]+\//
const RETRY_MS = 10_000

export function createPlaybackGrant(channel: string): PlaybackGrant {
  let token: string | null = null
  let timer: number | undefined

  const fetchGrant = async (): Promise<boolean> => {
    clearTimeout(timer)
    try {
      const g = await api<Grant>(`/api/v1/channels/${channel}/playback-tokens`, { method: 'POST' })
      token = g.token
      // Renew at two thirds of its life, so a slow renewal never leaves the player without one.
      const life = Date.parse(g.expiresAt) - Date.now()
      timer = window.setTimeout(fetchGrant, Math.max(5_000, (life * 2) / 3))
      return true
    } catch {
      if (token) timer = window.setTimeout(fetchGrant, RETRY_MS)
      return false
    }
  }

  return {
    ready: () => (token ? Promise.resolve(true) : fetchGrant()),
    src: () => `/hls/t/${token}/${channel}/index.m3u8`,
    thumbnail: () => `/thumbs/t/${token}/${channel}.jpg`,
    rewrite: (url) => (token ? url.replace(GRANT_PATH, `/hls/t/${token}/`) : url),
  }
}
