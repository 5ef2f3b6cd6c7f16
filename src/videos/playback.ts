/**
 * @module videos/playback — the playback check and grants for video files (`/vod/…`), on the
 * same rules and grants as a channel's live HLS (visibility/playback-auth.ts, playback-token.ts):
 * nginx asks for every playlist, segment, MP4 and thumbnail request under `/vod/`; a private video
 * needs a grant in the path, `/vod/t/<grant>/<videoId>/<file>`. A grant names the channel: whoever
 * may watch a private video may watch that channel's private things, so one grant serves both.
 */
import { eq } from 'drizzle-orm'
import { channels, users, videos } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { NotFoundError, ValidationError } from '../http/errors.js'
import type { PlaybackVerdict } from '../visibility/playback-auth.js'
import { type PlaybackGrant, signPlaybackGrant, verifyPlaybackGrant } from '../visibility/playback-token.js'
import { canWatchVideo, type Viewer } from './access.js'
import { VOD_FILES } from './paths.js'
import { getVideo } from './service.js'

export type VodTarget = { videoId: string; token: string | null }

const VOD = /^\/vod\/(?:t\/([^/]+)\/)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/[^/]+$/

/** `/vod/<videoId>/<file>` or `/vod/t/<grant>/<videoId>/<file>`; null for anything else. */
export function parseVodUri(uri: string): VodTarget | null {
  const m = VOD.exec(uri.split('?', 1)[0]!)
  return m ? { videoId: m[2]!, token: m[1] ?? null } : null
}

/** The player URL a grant opens for a video. */
export const tokenVodPath = (token: string, videoId: string) =>
  `/vod/t/${token}/${videoId}/${VOD_FILES.playlist}`

/** How long a public "allow" may be served from nginx's cache while no app instance answers. */
const PUBLIC_STALE_S = 600

export async function checkVideoPlayback(
  deps: Pick<Deps, 'db' | 'tokens' | 'config' | 'now'>,
  target: VodTarget,
): Promise<PlaybackVerdict> {
  const cacheS = deps.config.PLAYBACK_AUTH_CACHE_S
  const deny = (status: 401 | 403): PlaybackVerdict => ({ status, cacheControl: `max-age=${cacheS}` })
  const [row] = await deps.db
    .select({ video: videos, channel: channels })
    .from(videos)
    .innerJoin(channels, eq(channels.id, videos.channelId))
    .where(eq(videos.id, target.videoId))
  if (!row) return deny(403)
  if (target.token === null) {
    if (!(await canWatchVideo(deps.db, null, row.video, row.channel))) return deny(401)
    return { status: 200, cacheControl: `max-age=${cacheS}, stale-if-error=${PUBLIC_STALE_S}` }
  }
  const claims = await verifyPlaybackGrant(deps.tokens, target.token)
  if (!claims || claims.channel !== row.channel.name) return deny(403)
  // Checked on every cache miss: a revoked member loses playback within PLAYBACK_AUTH_CACHE_S.
  const [user] = await deps.db
    .select({ id: users.id, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, claims.userId))
  const viewer: Viewer = user && !user.disabledAt ? user : null
  if (!viewer || !(await canWatchVideo(deps.db, viewer, row.video, row.channel))) return deny(403)
  const left = claims.expiresAtS - Math.floor(deps.now() / 1000)
  if (left <= 0) return deny(403)
  const fresh = Math.min(cacheS, left)
  return {
    status: 200,
    cacheControl: `max-age=${fresh}, stale-if-error=${Math.min(left - fresh, PUBLIC_STALE_S)}`,
  }
}

/** `POST /videos/:id/playback-tokens`: a grant for a viewer who may watch the video right now. */
export async function grantVideoPlayback(
  deps: Pick<Deps, 'db' | 'tokens' | 'config' | 'now'>,
  viewer: NonNullable<Viewer>,
  videoId: string,
  ttlS?: number,
): Promise<PlaybackGrant> {
  const max = deps.config.PLAYBACK_TOKEN_MAX_TTL_S
  if (ttlS !== undefined && ttlS > max)
    throw new ValidationError([{ field: 'ttlS', message: `must be at most ${max}` }])
  const video = await getVideo(deps, videoId, viewer) // 404 unless they may watch it
  if (video.status !== 'ready') throw new NotFoundError('video')
  const grant = await signPlaybackGrant(deps.tokens, {
    userId: viewer.id,
    channel: video.channel,
    ttlS: ttlS ?? deps.config.PLAYBACK_TOKEN_TTL_S,
    now: deps.now(),
    publicUrl: deps.config.PUBLIC_URL,
  })
  return { ...grant, playbackUrl: `${deps.config.PUBLIC_URL}${tokenVodPath(grant.token, videoId)}` }
}
