/** @module chat/openapi — the chat and follow endpoints' entries in the OpenAPI document (http/openapi.ts). */
import type { OpenApiOps } from '../http/openapi.js'
import { ChatSettingsBody } from './schemas.js'

export const chatOpenApiOps: OpenApiOps = {
  '/api/v1/chat/tickets': {
    post: {
      tag: 'chat',
      summary:
        'A single-use WebSocket ticket (≤ 30 s) for `GET /ws/channels/{name}?ticket=` (verified email)',
      auth: true,
      ok: 201,
    },
  },
  '/api/v1/channels/{name}/chat': {
    get: {
      tag: 'chat',
      summary: 'Chat rules, blocked terms included (owner, moderators)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
    patch: {
      tag: 'chat',
      summary:
        'Change chat rules: slow mode, followers-only, emote-only, length, blocked terms (owner, moderators)',
      auth: true,
      params: ['name'],
      body: ChatSettingsBody,
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/moderators': {
    get: {
      tag: 'chat',
      summary: 'The channel moderators (owner, moderators)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/moderators/{username}': {
    put: {
      tag: 'chat',
      summary: 'Name a moderator (owner)',
      auth: true,
      params: ['name', 'username'],
      ok: 204,
    },
    delete: {
      tag: 'chat',
      summary: 'Remove a moderator (owner)',
      auth: true,
      params: ['name', 'username'],
      ok: 204,
    },
  },
  '/api/v1/channels/{name}/bans': {
    get: {
      tag: 'chat',
      summary: 'Active bans and timeouts (owner, moderators)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/follow': {
    get: {
      tag: 'channels',
      summary: 'Whether I follow the channel, and since when',
      auth: true,
      params: ['name'],
      ok: 200,
    },
    post: {
      tag: 'channels',
      summary: 'Follow the channel (idempotent; keeps the first follow date)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
    delete: { tag: 'channels', summary: 'Unfollow the channel', auth: true, params: ['name'], ok: 204 },
  },
}
