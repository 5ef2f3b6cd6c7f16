/** @module http/openapi — the OpenAPI 3.1 document of the public HTTP API, built from the same zod schemas the routes validate with. */
import { z } from 'zod'
import {
  ChangePasswordBody,
  ForgotBody,
  LoginBody,
  RefreshBody,
  RegisterBody,
  ResetBody,
  TokenBody,
} from '../accounts/schemas.js'
import { DisableBody } from '../admin/schemas.js'
import { CreateTokenBody } from '../api-tokens/schemas.js'
import { PatchChannelBody } from '../channels/schemas.js'
import { chatOpenApiOps } from '../chat/openapi.js'
import { CreateKeyBody } from '../stream-keys/schemas.js'
import { videoOpenApiOps } from '../videos/openapi.js'
import { visibilityOpenApiOps } from '../visibility/openapi.js'
import { webhookOpenApiOps } from '../webhooks/openapi.js'

/** One operation of the document; the feature modules (chat, webhooks, videos, …) declare theirs with it. */
export type Op = {
  summary: string
  auth?: boolean
  body?: z.ZodType
  ok: number
  tag: string
  params?: string[]
  query?: Record<string, string>
  /** A named schema under components.schemas for the success body. */
  okSchema?: keyof typeof SCHEMAS
  description?: string
}

const REFRESH_DELIVERY =
  'Browsers — requests carrying `Origin` or `Sec-Fetch-Site`, which browsers add to every POST and page ' +
  'scripts cannot remove — get the refresh token ONLY as the HttpOnly cookie, never in the body. API ' +
  'clients (no such headers) get it in the body as `refreshToken` (and the cookie too).'

/** Operations by path, then method. */
export type OpenApiOps = Record<string, Record<string, Op>>

const OPS: OpenApiOps = {
  '/api/v1/auth/register': {
    post: {
      tag: 'auth',
      summary: 'Create an account (sends a confirmation mail)',
      body: RegisterBody,
      ok: 201,
    },
  },
  '/api/v1/auth/verify-email': {
    post: {
      tag: 'auth',
      summary: 'Confirm an email address with the mailed token',
      body: TokenBody,
      ok: 200,
    },
  },
  '/api/v1/auth/resend-verification': {
    post: { tag: 'auth', summary: 'Send the confirmation mail again', auth: true, ok: 202 },
  },
  '/api/v1/auth/login': {
    post: {
      tag: 'auth',
      summary: 'Log in; returns an access token and a rotating refresh token',
      description: REFRESH_DELIVERY,
      body: LoginBody,
      ok: 200,
      okSchema: 'TokenPair',
    },
  },
  '/api/v1/auth/refresh': {
    post: {
      tag: 'auth',
      summary: 'Exchange a refresh token (body or cookie) for new tokens',
      description:
        'Each refresh token works once. Presented again within REFRESH_REUSE_GRACE_S (default 10 s) of its ' +
        'rotation — a lost response, two tabs — it yields the same successor; later, the whole session is ' +
        `revoked (401). The cookie needs an Origin from ALLOWED_ORIGINS. ${REFRESH_DELIVERY}`,
      body: RefreshBody,
      ok: 200,
      okSchema: 'TokenPair',
    },
  },
  '/api/v1/auth/logout': {
    post: {
      tag: 'auth',
      summary:
        'End this session (Bearer, or the refresh cookie from our origin); `?everywhere=true`: every session',
      auth: true,
      query: { everywhere: 'true to end every session of the user' },
      ok: 204,
    },
  },
  '/api/v1/auth/password/forgot': {
    post: { tag: 'auth', summary: 'Mail a password reset link (always 202)', body: ForgotBody, ok: 202 },
  },
  '/api/v1/auth/password/reset': {
    post: {
      tag: 'auth',
      summary: 'Set a new password with the mailed token; ends every session',
      body: ResetBody,
      ok: 200,
    },
  },
  '/api/v1/auth/password/change': {
    post: {
      tag: 'auth',
      summary:
        'Change the password (needs the current one); ends every session and returns tokens for a new one',
      description: REFRESH_DELIVERY,
      auth: true,
      body: ChangePasswordBody,
      ok: 200,
      okSchema: 'TokenPair',
    },
  },
  '/api/v1/auth/availability': {
    get: {
      tag: 'auth',
      summary: 'Whether a username (channel name) is free: {available, reason?}',
      query: { username: 'the wanted username' },
      ok: 200,
    },
  },
  '/api/v1/auth/sessions': {
    get: { tag: 'auth', summary: "The caller's open sessions (devices)", auth: true, ok: 200 },
  },
  '/api/v1/auth/sessions/{id}': {
    delete: { tag: 'auth', summary: 'End one of your sessions', auth: true, params: ['id'], ok: 204 },
  },
  '/api/v1/me': { get: { tag: 'auth', summary: 'The current user', auth: true, ok: 200 } },
  '/.well-known/jwks.json': {
    get: {
      tag: 'auth',
      summary: 'Public keys (JWKS) that verify our access tokens (EdDSA, by kid)',
      ok: 200,
    },
  },
  '/api/v1/admin/users': {
    get: {
      tag: 'admin',
      summary: 'List and search accounts, newest first (admin)',
      auth: true,
      ok: 200,
      query: {
        q: 'part of an email or username',
        role: 'user | admin',
        disabled: 'true | false',
        limit: '1–100 (50)',
        cursor: 'nextCursor of the previous page',
      },
    },
  },
  '/api/v1/admin/analytics': {
    get: {
      tag: 'admin',
      summary: 'Site-wide watch totals over whole UTC days, and the top channels (admin)',
      auth: true,
      ok: 200,
      query: {
        from: 'ISO 8601 instant (default: 30 days before `to`)',
        to: 'ISO 8601 instant (default: now)',
      },
      description: 'See docs/analytics.md. Bad or too long a range: 400 BAD_REQUEST.',
    },
  },
  '/api/v1/admin/users/{id}': {
    get: {
      tag: 'admin',
      summary: 'One account and its open session count (admin)',
      auth: true,
      params: ['id'],
      ok: 200,
    },
  },
  '/api/v1/admin/users/{id}/disable': {
    post: {
      tag: 'admin',
      summary: 'Disable an account: ends its sessions, sockets and live stream (admin)',
      auth: true,
      params: ['id'],
      body: DisableBody,
      ok: 200,
    },
  },
  '/api/v1/admin/users/{id}/enable': {
    post: { tag: 'admin', summary: 'Enable a disabled account (admin)', auth: true, params: ['id'], ok: 200 },
  },
  '/api/v1/admin/users/{id}/promote': {
    post: { tag: 'admin', summary: 'Make the account an admin (admin)', auth: true, params: ['id'], ok: 200 },
  },
  '/api/v1/admin/users/{id}/sessions': {
    delete: {
      tag: 'admin',
      summary: 'Sign the account out everywhere (admin)',
      auth: true,
      params: ['id'],
      ok: 200,
    },
  },
  '/api/v1/stream-keys': {
    post: {
      tag: 'stream-keys',
      summary: 'Create a stream key; the only response that contains it',
      auth: true,
      body: CreateKeyBody,
      ok: 201,
    },
    get: { tag: 'stream-keys', summary: 'List stream keys (previews only)', auth: true, ok: 200 },
  },
  '/api/v1/stream-keys/{id}': {
    delete: {
      tag: 'stream-keys',
      summary: 'Revoke a key; drops a live publisher using it',
      auth: true,
      params: ['id'],
      ok: 204,
    },
  },
  '/api/v1/channels': {
    get: {
      tag: 'channels',
      summary: 'List channels',
      query: { live: 'true to list live channels only' },
      ok: 200,
    },
  },
  '/api/v1/channels/{name}': {
    get: {
      tag: 'channels',
      summary:
        'A channel, its visibility, live status and playback URL; a private one only for a caller (optional Bearer) who may watch it, else 404',
      params: ['name'],
      ok: 200,
    },
    patch: {
      tag: 'channels',
      summary:
        'Update the title, visibility (public, unlisted: by link, not listed; private) and/or `record` (broadcasts become videos) (owner)',
      auth: true,
      params: ['name'],
      body: PatchChannelBody,
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/kick': {
    post: {
      tag: 'channels',
      summary: 'End the live stream now and refuse its key for a cool-down (owner, admin)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
  },
  '/api/v1/channels/{name}/analytics': {
    get: {
      tag: 'channels',
      summary: 'Watch analytics of a channel: totals, a time series and QoE (owner, admin; analytics:read)',
      auth: true,
      params: ['name'],
      ok: 200,
      query: {
        from: 'ISO 8601 instant, UTC or with an offset (default: one bucket-dependent span before `to`)',
        to: 'ISO 8601 instant (default: now)',
        bucket: 'minute | hour | day (default hour); at most 2, 93 or 3660 days of range respectively',
      },
      description:
        '→ `{ totals: { views, uniqueViewers, watchTimeS, avgViewDurationS, peakConcurrent }, series: [{ t, views, ' +
        'watchTimeS, avgConcurrent, peakConcurrent }], sources: { page, other }, qoe: { startupMsP50, rebufferRatio, ' +
        "latencyMsP50 } }` (`sources`: views in our page's player and in any other), " +
        'every bucket of the range present (zeros included), `t` the UTC bucket start. Definitions: docs/analytics.md. ' +
        'Bad input: 400 BAD_REQUEST.',
    },
  },
  '/api/v1/channels/{name}/sessions': {
    get: {
      tag: 'channels',
      summary: 'Stream session history with peakViewers, uniqueViewers and watchTimeS (owner)',
      auth: true,
      params: ['name'],
      ok: 200,
    },
  },
  '/api/v1/tokens': {
    post: {
      tag: 'tokens',
      summary: 'Create a personal access token `lvp_…`; the only response that contains it (session only)',
      description:
        'Scopes: channel:read, channel:write, stream-keys:write, chat:write, analytics:read, webhooks:write. ' +
        'Use as `Authorization: Bearer lvp_…`; a route outside its scopes answers 403 INSUFFICIENT_SCOPE, an ' +
        'account change (password, sessions, tokens, identities, admin) 403 TOKEN_NOT_ALLOWED. At most ' +
        'PLAN_LIMITS.<plan>.maxApiTokens active tokens (403 PLAN_LIMIT); 10 creations an hour.',
      auth: true,
      body: CreateTokenBody,
      ok: 201,
    },
    get: {
      tag: 'tokens',
      summary:
        'List your tokens: name, scopes, preview, createdAt, expiresAt, lastUsedAt, lastUsedIp (session only)',
      auth: true,
      ok: 200,
    },
  },
  '/api/v1/tokens/{id}': {
    delete: { tag: 'tokens', summary: 'Revoke a token (session only)', auth: true, params: ['id'], ok: 204 },
  },
  '/api/v1/auth/providers': {
    get: {
      tag: 'auth',
      summary: 'The configured sign-in providers (OIDC_PROVIDERS): [{id, name}] for the login buttons',
      ok: 200,
    },
  },
  '/api/v1/auth/oidc/{provider}/start': {
    get: {
      tag: 'auth',
      summary: 'Start signing in (or up) with a provider: 302 to it, with state, nonce and PKCE (S256)',
      description:
        'Sets a 10-minute encrypted HttpOnly cookie holding the state, nonce and PKCE verifier. `next` is ' +
        'where the callback sends the browser afterwards (a path on this site; anything else becomes /dashboard).',
      params: ['provider'],
      query: { next: 'a path on this site to return to' },
      ok: 302,
    },
  },
  '/api/v1/auth/oidc/{provider}/callback': {
    get: {
      tag: 'auth',
      summary: 'The provider returns here: verifies state, nonce, PKCE and the ID token, then signs in',
      description:
        'Signs in the linked account; else links the account with the same email if the provider asserts ' +
        'email_verified (409 IDENTITY_NOT_LINKED otherwise); else creates an account without a password. ' +
        'Success: the refresh cookie and 302 to `next`. Failure: 401 OIDC_FAILED (state, nonce, PKCE, ID token), ' +
        'or for a browser navigation 302 to /login?error=<code>.',
      params: ['provider'],
      ok: 302,
    },
  },
  '/api/v1/me/identities': {
    get: {
      tag: 'auth',
      summary: 'Your linked sign-in providers and whether you have a password (session only)',
      auth: true,
      ok: 200,
    },
  },
  '/api/v1/me/identities/{provider}': {
    delete: {
      tag: 'auth',
      summary:
        'Unlink a provider; 409 LAST_SIGN_IN_METHOD if no password or other provider remains (session only)',
      auth: true,
      params: ['provider'],
      ok: 204,
    },
  },
  ...chatOpenApiOps,
  ...webhookOpenApiOps,
  ...videoOpenApiOps,
  ...visibilityOpenApiOps,
}

const Problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
}

const TokenPair = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresIn', 'user'],
  properties: {
    accessToken: { type: 'string', description: 'EdDSA JWT; send as `Authorization: Bearer`' },
    tokenType: { const: 'Bearer' },
    expiresIn: { type: 'integer', description: 'seconds' },
    refreshToken: {
      type: 'string',
      description: 'Only for API clients; absent for browsers (HttpOnly cookie only).',
    },
    user: { type: 'object' },
  },
}

const SCHEMAS = { Problem, TokenPair }

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [path, methods] of Object.entries(OPS)) {
    paths[path] = {}
    for (const [method, op] of Object.entries(methods)) {
      paths[path][method] = {
        tags: [op.tag],
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        ...(op.auth ? { security: [{ bearer: [] }] } : {}),
        parameters: [
          ...(op.params ?? []).map((name) => ({
            name,
            in: 'path',
            required: true,
            schema: { type: 'string' },
          })),
          ...Object.entries(op.query ?? {}).map(([name, description]) => ({
            name,
            in: 'query',
            description,
            schema: { type: 'string' },
          })),
        ],
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input' }) } },
              },
            }
          : {}),
        responses: {
          [op.ok]: {
            description: 'success',
            ...(op.okSchema
              ? {
                  content: {
                    'application/json': { schema: { $ref: `#/components/schemas/${op.okSchema}` } },
                  },
                }
              : {}),
          },
          default: {
            description: 'error',
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Live control plane API', version: '1' },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: SCHEMAS,
    },
  }
}
