/**
 * @module http/errors — domain errors and the single place they become HTTP responses
 * (RFC 9457 problem details with a stable `code`).
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from '../log.js'

export type ErrorCode =
  | 'VALIDATION'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'EMAIL_NOT_VERIFIED'
  | 'INSUFFICIENT_SCOPE'
  | 'TOKEN_NOT_ALLOWED'
  | 'OIDC_FAILED'
  | 'IDENTITY_NOT_LINKED'
  | 'LAST_SIGN_IN_METHOD'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'PLAN_LIMIT'
  | 'URL_NOT_ALLOWED'
  | 'UNAVAILABLE'
  | 'INTERNAL'

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION: 422,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  EMAIL_NOT_VERIFIED: 403,
  INSUFFICIENT_SCOPE: 403,
  TOKEN_NOT_ALLOWED: 403,
  OIDC_FAILED: 401,
  IDENTITY_NOT_LINKED: 409,
  LAST_SIGN_IN_METHOD: 409,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  PLAN_LIMIT: 403,
  URL_NOT_ALLOWED: 422,
  UNAVAILABLE: 503,
  INTERNAL: 500,
}

const TITLE: Record<ErrorCode, string> = {
  VALIDATION: 'Invalid request',
  BAD_REQUEST: 'Bad request',
  UNAUTHORIZED: 'Authentication required',
  FORBIDDEN: 'Forbidden',
  EMAIL_NOT_VERIFIED: 'Email address not verified',
  INSUFFICIENT_SCOPE: 'Token scope does not cover this request',
  TOKEN_NOT_ALLOWED: 'Personal access tokens cannot be used here',
  OIDC_FAILED: 'Sign-in with the identity provider failed',
  IDENTITY_NOT_LINKED: 'Account exists but cannot be linked',
  LAST_SIGN_IN_METHOD: 'Last sign-in method',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  RATE_LIMITED: 'Too many requests',
  PLAN_LIMIT: 'Plan limit reached',
  URL_NOT_ALLOWED: 'URL not allowed',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal server error',
}

export type FieldError = { field: string; message: string }

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts?: { cause?: unknown; errors?: FieldError[]; retryAfterS?: number },
  ) {
    super(message, { cause: opts?.cause })
    this.name = new.target.name
    this.errors = opts?.errors
    this.retryAfterS = opts?.retryAfterS
  }
  readonly errors: FieldError[] | undefined
  readonly retryAfterS: number | undefined
  get status(): ContentfulStatusCode {
    return STATUS[this.code]
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[], message = 'the request has invalid fields') {
    super('VALIDATION', message, { errors })
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'authentication required') {
    super('UNAUTHORIZED', message)
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'not allowed') {
    super('FORBIDDEN', message)
  }
}
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`)
  }
}
export class ConflictError extends AppError {
  constructor(message: string, errors?: FieldError[]) {
    super('CONFLICT', message, { errors })
  }
}
export class RateLimitedError extends AppError {
  constructor(retryAfterS: number, message = 'too many requests, try again later') {
    super('RATE_LIMITED', message, { retryAfterS: Math.max(1, Math.ceil(retryAfterS)) })
  }
}
export class EmailNotVerifiedError extends AppError {
  constructor() {
    super('EMAIL_NOT_VERIFIED', 'confirm your email address first')
  }
}

/** A personal access token lacks the scope the route declares (403, not 401: the token is fine, its reach is not). */
export class InsufficientScopeError extends AppError {
  constructor(scope: string) {
    super('INSUFFICIENT_SCOPE', `this token lacks the ${scope} scope`)
  }
}
/** Account changes (password, email, sessions, tokens, admin) need a signed-in session, never a token. */
export class TokenNotAllowedError extends AppError {
  constructor() {
    super('TOKEN_NOT_ALLOWED', 'personal access tokens cannot be used for account changes; sign in')
  }
}

export type Problem = {
  type: string
  title: string
  status: number
  code: ErrorCode
  detail: string
  requestId: string | undefined
  errors?: FieldError[]
}

export function problem(code: ErrorCode, detail: string, requestId?: string, errors?: FieldError[]): Problem {
  return {
    type: `https://docs.live.local/errors/${code.toLowerCase()}`,
    title: TITLE[code],
    status: STATUS[code],
    code,
    detail,
    requestId,
    ...(errors ? { errors } : {}),
  }
}

export function problemResponse(c: Context, p: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
    ...headers,
  })
}

const HTTP_STATUS_CODE: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'VALIDATION',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
}

/**
 * Hono's onError: the only place an exception becomes an HTTP response. `onUnexpected` sees each
 * error that becomes a 500 (metrics count the Postgres and Redis ones).
 */
export function handleError(
  err: Error,
  c: Context,
  log: Logger,
  onUnexpected?: (err: Error) => void,
): Response {
  const requestId = c.get('requestId') as string | undefined
  if (err instanceof AppError) {
    const headers: Record<string, string> = err.retryAfterS ? { 'Retry-After': String(err.retryAfterS) } : {}
    return problemResponse(c, problem(err.code, err.message, requestId, err.errors), headers)
  }
  if (err instanceof HTTPException) {
    const code = HTTP_STATUS_CODE[err.status] ?? (err.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST')
    // HTTPException messages come from Hono's own middleware (body limit, malformed JSON) and
    // are safe to show; for 5xx we still hide the detail.
    const detail = err.status >= 500 ? 'unexpected error' : err.message || TITLE[code]
    return problemResponse(c, { ...problem(code, detail, requestId), status: err.status })
  }
  onUnexpected?.(err)
  log.error({ err, requestId, path: c.req.path }, 'unhandled error')
  return problemResponse(c, problem('INTERNAL', 'unexpected error', requestId))
}
