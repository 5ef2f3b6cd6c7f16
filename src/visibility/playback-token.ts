/**
 * @module visibility/playback-token — short-lived signed playback grants (like Mux signed
 * playback): an EdDSA JWT, `aud: playback`, `typ: playback+jwt`, naming the viewer (`sub`) and
 * the channel (`ch`). It travels as a PATH component, `/hls/t/<token>/<channel>/index.m3u8`, so
 * that any player (VLC, ffplay, hls.js) resolving the playlist's relative segment names gets the
 * token on every segment URL without rewriting the playlist; a query string would be dropped by
 * relative resolution (RFC 3986 §5.2). JWT characters (base64url and dots) need no escaping.
 */
import type { TokenService } from '../accounts/tokens.js'

export const PLAYBACK_AUDIENCE = 'playback'
export const PLAYBACK_TYP = 'playback+jwt'
/** What a token may look like in a path; anything else is refused before any crypto. */
export const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

export type PlaybackGrant = { token: string; expiresAt: string; playbackUrl: string }
export type PlaybackClaims = { userId: string; channel: string; expiresAtS: number }

/** The playlist URL a grant opens; the only shape nginx serves a private channel under. */
export function tokenPlaybackPath(token: string, channel: string) {
  return `/hls/t/${token}/${channel}/index.m3u8`
}

export async function signPlaybackGrant(
  tokens: Pick<TokenService, 'signGrant'>,
  opts: { userId: string; channel: string; ttlS: number; now: number; publicUrl: string },
): Promise<PlaybackGrant> {
  const expiresAtS = Math.floor(opts.now / 1000) + opts.ttlS
  const token = await tokens.signGrant(
    { ch: opts.channel },
    { audience: PLAYBACK_AUDIENCE, typ: PLAYBACK_TYP, subject: opts.userId, expiresAtS },
  )
  return {
    token,
    expiresAt: new Date(expiresAtS * 1000).toISOString(),
    playbackUrl: `${opts.publicUrl}${tokenPlaybackPath(token, opts.channel)}`,
  }
}

/** The grant's claims, or null: malformed, forged, expired, or for another audience. */
export async function verifyPlaybackGrant(
  tokens: Pick<TokenService, 'verifyGrant'>,
  token: string,
): Promise<PlaybackClaims | null> {
  if (!TOKEN_RE.test(token)) return null
  const p = await tokens.verifyGrant(token, {
    audience: PLAYBACK_AUDIENCE,
    typ: PLAYBACK_TYP,
    requiredClaims: ['ch'],
  })
  if (!p || typeof p.sub !== 'string' || typeof p.ch !== 'string' || typeof p.exp !== 'number') return null
  return { userId: p.sub, channel: p.ch, expiresAtS: p.exp }
}
