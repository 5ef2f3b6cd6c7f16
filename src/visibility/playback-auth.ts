/**
 * @module visibility/playback-auth — the check nginx's `auth_request` makes for every playlist,
 * segment and thumbnail request (nginx/README.md "Playback checks"). It answers an empty 200
 * (allow), 401 (no grant, private channel) or 403 (bad, expired or foreign grant; unknown
 * channel — so a stranger cannot tell a private channel from none), with a Cache-Control that
 * tells nginx's auth cache how long the answer holds: at most PLAYBACK_AUTH_CACHE_S, never past
 * the grant's expiry, and usable while the app is down ("stale-if-error") only for public answers
 * and within the grant's life.
 */
import { eq } from 'drizzle-orm'
import { channels, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { checkVideoPlayback, parseVodUri } from '../videos/playback.js'
import { mayWatch, type Viewer } from './access.js'
import { verifyPlaybackGrant } from './playback-token.js'

export type PlaybackTarget = { area: 'hls' | 'thumbs'; channel: string; token: string | null }
export type PlaybackVerdict = { status: 200 | 401 | 403; cacheControl: string }

/** How long a public "allow" may be served from nginx's cache while no app instance answers. */
const PUBLIC_STALE_S = 600

/**
 * `/hls/<channel>/<file>`, `/hls/t/<token>/<channel>/<file>`, `/thumbs/<channel>.jpg` and
 * `/thumbs/t/<token>/<channel>.jpg` (the thumbnail shape the recordings branch serves); null for
 * anything else (refused: fail closed).
 */
export function parsePlaybackUri(uri: string): PlaybackTarget | null {
  const path = uri.split('?', 1)[0]!
  const m = /^\/(hls|thumbs)\/(?:t\/([^/]+)\/)?([a-z0-9_]{3,24})(?:\/[^/]+|\.jpg)$/.exec(path)
  if (!m) return null
  return { area: m[1] as 'hls' | 'thumbs', token: m[2] ?? null, channel: m[3]! }
}

export async function checkPlayback(
  deps: Pick<Deps, 'db' | 'tokens' | 'config' | 'now'>,
  originalUri: string,
): Promise<PlaybackVerdict> {
  const cacheS = deps.config.PLAYBACK_AUTH_CACHE_S
  const deny = (status: 401 | 403): PlaybackVerdict => ({ status, cacheControl: `max-age=${cacheS}` })
  // Video files: the same check on a video's rules (videos/playback.ts).
  const vod = parseVodUri(originalUri)
  if (vod) return checkVideoPlayback(deps, vod)
  const target = parsePlaybackUri(originalUri)
  if (!target) return deny(403)
  const [ch] = await deps.db
    .select({ id: channels.id, ownerId: channels.ownerId, visibility: channels.visibility })
    .from(channels)
    .where(eq(channels.name, target.channel))
  if (!ch) return deny(403)
  if (target.token === null) {
    if (ch.visibility === 'private') return deny(401)
    return { status: 200, cacheControl: `max-age=${cacheS}, stale-if-error=${PUBLIC_STALE_S}` }
  }
  const claims = await verifyPlaybackGrant(deps.tokens, target.token)
  if (!claims || claims.channel !== target.channel) return deny(403)
  // Checked again on every cache miss, not only when the grant was made: a revoked member, a
  // demoted moderator or a disabled account loses playback within PLAYBACK_AUTH_CACHE_S.
  const [user] = await deps.db
    .select({ id: users.id, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, claims.userId))
  const viewer: Viewer = user && !user.disabledAt ? user : null
  if (!viewer || !(await mayWatch(deps.db, viewer, ch))) return deny(403)
  const left = claims.expiresAtS - Math.floor(deps.now() / 1000)
  if (left <= 0) return deny(403)
  const fresh = Math.min(cacheS, left)
  const stale = Math.min(left - fresh, PUBLIC_STALE_S) // never usable past the grant's expiry
  return { status: 200, cacheControl: `max-age=${fresh}, stale-if-error=${stale}` }
}
