/** @module visibility/openapi — members and playback grants in the OpenAPI document (http/openapi.ts). */
import type { OpenApiOps } from '../http/openapi.js'
import { PlaybackTokenBody } from './schemas.js'

export const visibilityOpenApiOps: OpenApiOps = {
  '/api/v1/channels/{name}/members': {
    get: {
      tag: 'channels',
      summary: "The channel's members: who may watch it when private (owner, admin)",
      auth: true,
      params: ['name'],
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/members/{username}': {
    put: {
      tag: 'channels',
      summary: 'Let a user watch the private channel (owner, admin; idempotent)',
      auth: true,
      params: ['name', 'username'],
      ok: 204,
    },
    delete: {
      tag: 'channels',
      summary:
        'Revoke a membership: no new playback grants at once, existing ones refused within PLAYBACK_AUTH_CACHE_S, chat sockets closed (4503)',
      auth: true,
      params: ['name', 'username'],
      ok: 204,
    },
  },
  '/api/v1/channels/{name}/playback-tokens': {
    post: {
      tag: 'channels',
      summary:
        'A short-lived playback grant `{token, expiresAt, playbackUrl}` for a viewer who may watch; playbackUrl (`/hls/t/<token>/<name>/index.m3u8`) plays in VLC/ffplay as is. Optional `ttlS` (10 … PLAYBACK_TOKEN_MAX_TTL_S, default PLAYBACK_TOKEN_TTL_S). 404 for a channel the caller may not watch.',
      auth: true,
      params: ['name'],
      body: PlaybackTokenBody,
      ok: 201,
    },
  },
}
