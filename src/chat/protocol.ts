/**
 * @module chat/protocol — the WebSocket wire format: every client frame parsed by one zod
 * discriminated union, the server frames, the stable error codes and the close codes.
 *
 * Close codes follow centrifuge's split (`disconnect.go`): 4000–4499 means "reconnect (with
 * backoff) and resume", 4500–4999 means "do not reconnect automatically". The 45xx codes mirror
 * the HTTP status they resemble (4513 ≈ 413, 4529 ≈ 429, 4501 ≈ 401).
 */
import { z } from 'zod'

export const CloseCode = {
  /** Server shutdown (RFC 6455 "going away"): reconnect, another instance will answer. */
  GOING_AWAY: 1001,
  /** The instance lost its Redis subscription and may have missed messages: reconnect and resume. */
  RESYNC: 4000,
  /** The socket's unsent bytes passed CHAT_MAX_BUFFERED_BYTES: reconnect and resume. */
  TOO_SLOW: 4008,
  /** Logout, password reset, account disabled, idle or absolute expiry: the ticket's session is over. */
  SESSION_ENDED: 4501,
  /** The channel turned private, or the viewer's membership was revoked: may not watch any more. */
  NOT_ALLOWED: 4503,
  /** A frame larger than CHAT_MAX_FRAME_BYTES (frames over 64 KiB get ws's own 1009). */
  FRAME_TOO_LARGE: 4513,
  /** More frames than the flood budget allows. */
  FLOOD: 4529,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Stable, upper-case, like the HTTP API's `code`. */
export type ChatErrorCode =
  | 'BAD_FRAME'
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BANNED'
  | 'TIMED_OUT'
  | 'RATE_LIMITED'
  | 'SLOW_MODE'
  | 'DUPLICATE'
  | 'FOLLOWERS_ONLY'
  | 'EMOTE_ONLY'
  | 'MESSAGE_TOO_LONG'
  | 'BLOCKED_TERM'
  | 'UNAVAILABLE'
  | 'INTERNAL'

/** A refusal that goes back to the client as an `error` frame (never closes the socket). */
export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message)
    this.name = 'ChatError'
  }
}

export const MAX_TEXT = 500
export const MAX_TIMEOUT_S = 14 * 24 * 3600
export const MAX_SLOW_MODE_S = 3600
export const MAX_FOLLOW_AGE_MIN = 90 * 24 * 60
export const MAX_BLOCKED_TERMS = 200

/** Echoed on the `ack` or `error` that answers the frame, so clients can match replies. */
const Ref = z.union([z.string().max(64), z.number().int().safe()]).optional()
const Username = z.string().regex(/^[a-z0-9_]{3,24}$/, 'is not a username')
const Term = z.string().trim().toLowerCase().min(1).max(100)

export const ChatSettingsPatch = z
  .object({
    slowModeSeconds: z.number().int().min(0).max(MAX_SLOW_MODE_S),
    /** null turns followers-only off; 0 means "any follower". */
    followersOnlyMinutes: z.number().int().min(0).max(MAX_FOLLOW_AGE_MIN).nullable(),
    emoteOnly: z.boolean(),
    maxMessageLength: z.number().int().min(1).max(MAX_TEXT),
    blockedTerms: z.array(Term).max(MAX_BLOCKED_TERMS),
  })
  .partial()
export type ChatSettingsPatch = z.infer<typeof ChatSettingsPatch>

export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chat.send'), text: z.string().trim().min(1).max(MAX_TEXT), ref: Ref }),
  z.object({ type: z.literal('resume'), afterSeq: z.number().int().min(0).safe(), ref: Ref }),
  z.object({ type: z.literal('ping'), ref: Ref }),
  z.object({ type: z.literal('chat.delete'), id: z.uuid(), ref: Ref }),
  z.object({
    type: z.literal('mod.timeout'),
    username: Username,
    seconds: z.number().int().min(1).max(MAX_TIMEOUT_S),
    reason: z.string().max(200).optional(),
    ref: Ref,
  }),
  z.object({
    type: z.literal('mod.ban'),
    username: Username,
    reason: z.string().max(200).optional(),
    ref: Ref,
  }),
  z.object({ type: z.literal('mod.unban'), username: Username, ref: Ref }),
  z.object({ type: z.literal('mod.clear'), ref: Ref }),
  z.object({ type: z.literal('mod.settings'), ref: Ref }).extend(ChatSettingsPatch.shape),
])
export type ClientFrame = z.infer<typeof ClientFrame>
export type Ref = string | number | undefined

export type ChatRole = 'owner' | 'moderator' | 'admin' | 'user'

/** A chat line as every client sees it, in `chat` frames, welcome history and resume pages. */
export type ChatFrame = {
  type: 'chat'
  id: string
  seq: number
  user: { username: string; role: ChatRole }
  text: string
  ts: string
}

export type PublicSettings = {
  slowModeSeconds: number
  followersOnlyMinutes: number | null
  emoteOnly: boolean
  maxMessageLength: number
}

/** The signed-in socket's own standing; re-sent as a `you` frame whenever it changes. */
export type You = {
  username: string
  role: ChatRole
  /** ISO time a timeout ends, 'forever' for a ban, null when free to chat. */
  bannedUntil: string | null
  /** When the user followed the channel (followers-only mode counts from here), or null. */
  followingSince: string | null
}

export type ServerFrame =
  | {
      type: 'welcome'
      channel: string
      live: boolean
      status: 'live' | 'reconnecting' | 'offline'
      viewers: number
      you: You | null
      history: ChatFrame[]
      seq: number
      settings: PublicSettings
    }
  | ChatFrame
  | { type: 'history'; messages: ChatFrame[]; more: boolean; ref?: Ref }
  | { type: 'chat.deleted'; id: string }
  | { type: 'chat.cleared' }
  | { type: 'user.timedout'; username: string; seconds: number; until: string }
  | { type: 'user.banned'; username: string }
  | { type: 'user.unbanned'; username: string }
  | ({ type: 'chat.settings' } & PublicSettings)
  | ({ type: 'you' } & You)
  | { type: 'viewers'; count: number }
  | { type: 'stream.online'; startedAt: string; resumed: boolean }
  | { type: 'stream.reconnecting' }
  | { type: 'stream.offline'; reason: string }
  | { type: 'ack'; ref?: Ref; id?: string; seq?: number }
  | { type: 'pong'; ref?: Ref }
  | { type: 'error'; code: ChatErrorCode; message: string; ref?: Ref; retryAfterMs?: number }

export function errorFrame(err: ChatError, ref?: Ref): ServerFrame {
  return {
    type: 'error',
    code: err.code,
    message: err.message,
    ...(ref !== undefined ? { ref } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: Math.max(1, Math.ceil(err.retryAfterMs)) } : {}),
  }
}

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: ChatError; ref?: Ref }

/** Best-effort ref from a frame that failed validation, so even the error can be matched. */
function refOf(value: unknown): Ref {
  if (typeof value !== 'object' || value === null) return undefined
  const ref = (value as { ref?: unknown }).ref
  if (typeof ref === 'string' && ref.length <= 64) return ref
  if (typeof ref === 'number' && Number.isSafeInteger(ref)) return ref
  return undefined
}

/**
 * Parses one inbound frame. Never throws: anything that is not a valid client frame becomes a
 * BAD_FRAME or VALIDATION error for the caller to send back. Size and flood limits are the
 * connection's job (they close the socket instead).
 */
export function parseClientFrame(data: unknown): ParseResult {
  if (typeof data !== 'string')
    return { ok: false, error: new ChatError('BAD_FRAME', 'frames must be JSON text, not binary') }
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return { ok: false, error: new ChatError('BAD_FRAME', 'frame is not valid JSON') }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new ChatError('BAD_FRAME', 'frame must be a JSON object with a type') }
  }
  const type = (value as { type?: unknown }).type
  if (typeof type !== 'string' || !FRAME_TYPES.has(type)) {
    return { ok: false, error: new ChatError('BAD_FRAME', 'unknown frame type'), ref: refOf(value) }
  }
  const parsed = ClientFrame.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
    return {
      ok: false,
      error: new ChatError('VALIDATION', `${where}${issue?.message ?? 'invalid frame'}`),
      ref: refOf(value),
    }
  }
  return { ok: true, frame: parsed.data }
}

const FRAME_TYPES = new Set(ClientFrame.options.map((o) => o.shape.type.value as string))
