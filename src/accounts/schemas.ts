/** @module accounts/schemas — request bodies and queries for the auth endpoints. */
import { z } from 'zod'
import { COMMON_PASSWORD_MESSAGE, contextProblem, isCommonPassword } from './password-policy.js'

/** Channel names double as URL path segments and RTMP stream names: keep them boring. */
// biome-ignore format: a word list reads better packed
export const RESERVED_USERNAMES = new Set([
  'admin', 'administrator', 'api', 'hls', 'live', 'ws', 'www', 'root', 'system', 'support', 'help',
  'login', 'logout', 'signup', 'register', 'dashboard', 'settings', 'static', 'assets', 'healthz',
  'readyz', 'hooks', 'stat', 'control', 'moderator', 'mod', 'staff', 'null', 'undefined', 'anonymous',
  'auth', 'me', 'channels', 'stream', 'streams', 'verify_email', 'reset_password', 'well_known', 'openapi',
  'security', 'abuse', 'postmaster', 'webmaster', 'noreply', 'no_reply', 'owner', 'official',
])

export const USERNAME_RE = /^[a-z0-9_]{3,24}$/
export const USERNAME_MESSAGE = 'must be 3–24 characters: lower-case letters, digits and _'

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }))

export const Username = z
  .string()
  .regex(USERNAME_RE, USERNAME_MESSAGE)
  .refine((u) => !RESERVED_USERNAMES.has(u), 'is reserved')

/** A new password: length here, breached-list check too; context words need the account (below). */
export const Password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .refine((p) => !isCommonPassword(p), COMMON_PASSWORD_MESSAGE)

export const RegisterBody = z
  .object({ email: Email, username: Username, password: Password })
  .superRefine((b, ctx) => {
    const problem = contextProblem(b.password, b)
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem })
  })
export const LoginBody = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(1024),
  remember: z.boolean().optional().default(false),
})
export const TokenBody = z.object({ token: z.string().min(1).max(256) })
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(256).optional() })
export const ForgotBody = z.object({ email: z.string().trim().toLowerCase().max(254) })
export const ResetBody = z.object({ token: z.string().min(1).max(256), password: Password })
export const ChangePasswordBody = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: Password,
})
export const AvailabilityQuery = z.object({ username: z.string().max(64) })
export const LogoutQuery = z.object({ everywhere: z.enum(['true', 'false']).optional() })
export const SessionParam = z.object({ id: z.uuid({ message: 'must be a session id' }) })
