/**
 * @module api-tokens/scopes — what a personal access token may be granted. Each protected route
 * declares one of these, or SESSION_ONLY (account changes: a token never reaches those).
 */
export const SCOPES = [
  'channel:read',
  'channel:write',
  'stream-keys:write',
  'chat:write',
  'analytics:read',
  'webhooks:write',
] as const
export type Scope = (typeof SCOPES)[number]

/** Password, email, sessions, tokens themselves, linked identities, admin: a signed-in session only. */
export const SESSION_ONLY = 'session-only' as const
export type Access = Scope | typeof SESSION_ONLY
