/** @module videos/openapi — the video endpoints' entries in the OpenAPI document (http/openapi.ts). */
import type { OpenApiOps } from '../http/openapi.js'
import { PlaybackTokenBody } from '../visibility/schemas.js'
import { PatchVideoBody } from './schemas.js'

const VIEW =
  'A video: `{id, sessionId, channel, title, status (processing|ready|failed), durationS, createdAt, ' +
  'recordedAt, visibility (null = the channel’s), effectiveVisibility, thumbnailUrl, playbackUrl ' +
  '(HLS VOD), downloadUrl (MP4)}`; the URLs are null until it is ready, and are paths under `/vod/<id>/`.'

export const videoOpenApiOps: OpenApiOps = {
  '/api/v1/channels/{name}/videos': {
    get: {
      tag: 'videos',
      summary: 'Past broadcasts of a channel that the caller may see, newest first',
      description: `${VIEW} Anonymous callers see ready public videos; the owner (bearer) sees all, processing and failed included (with \`error\`).`,
      params: ['name'],
      query: { limit: '1–100, default 50' },
      ok: 200,
    },
  },
  '/api/v1/videos/{id}': {
    get: {
      tag: 'videos',
      summary: 'One video (404 unless the caller may watch it)',
      description: `${VIEW} Unlisted videos answer anyone with the id.`,
      params: ['id'],
      ok: 200,
    },
    patch: {
      tag: 'videos',
      summary: 'Rename a video or set its visibility (owner, admin)',
      description: 'With API tokens, needs the scope `channel:write`.',
      auth: true,
      params: ['id'],
      body: PatchVideoBody,
      ok: 200,
    },
    delete: {
      tag: 'videos',
      summary: 'Delete a video and its files (owner, admin)',
      description: 'With API tokens, needs the scope `channel:write`.',
      auth: true,
      params: ['id'],
      ok: 204,
    },
  },
  '/api/v1/videos/{id}/playback-tokens': {
    post: {
      tag: 'videos',
      summary:
        'A short-lived playback grant for a video the caller may watch: `{token, expiresAt, playbackUrl}`',
      description:
        '`playbackUrl` (`/vod/t/<token>/<id>/index.m3u8`) plays in VLC or ffplay as it is; nginx checks the grant on ' +
        'every request under it. Needed for private videos only. Body `{ttlS?}` as for channel grants. ' +
        'With API tokens, needs the scope `channel:read`.',
      auth: true,
      params: ['id'],
      body: PlaybackTokenBody,
      ok: 201,
    },
  },
}
