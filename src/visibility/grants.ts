/**
 * @module visibility/grants — `POST /channels/:name/playback-tokens`: a playback grant for a viewer
 * who may watch the channel right now (so a revoked member gets none).
 */
import type { Deps } from '../deps.js'
import { NotFoundError, ValidationError } from '../http/errors.js'
import { type Viewer, watchableChannel } from './access.js'
import { type PlaybackGrant, signPlaybackGrant } from './playback-token.js'

export async function grantChannelPlayback(
  deps: Pick<Deps, 'db' | 'tokens' | 'config' | 'now'>,
  viewer: NonNullable<Viewer>,
  name: string,
  ttlS?: number,
): Promise<PlaybackGrant> {
  const max = deps.config.PLAYBACK_TOKEN_MAX_TTL_S
  if (ttlS !== undefined && ttlS > max)
    throw new ValidationError([{ field: 'ttlS', message: `must be at most ${max}` }])
  // Not-allowed looks exactly like not-there: a stranger learns nothing about a private channel.
  const ch = await watchableChannel(deps.db, viewer, name)
  if (!ch) throw new NotFoundError('channel')
  return signPlaybackGrant(deps.tokens, {
    userId: viewer.id,
    channel: ch.name,
    ttlS: ttlS ?? deps.config.PLAYBACK_TOKEN_TTL_S,
    now: deps.now(),
    publicUrl: deps.config.PUBLIC_URL,
  })
}
