/** @module accounts/schemas — request bodies for the auth endpoints. */
import { z } from 'zod'

/** Channel names double as URL path segments and RTMP stream names: keep them boring. */
export const RESERVED_USERNAMES = new Set([
  'admin', 'administrator', 'api', 'hls', 'live', 'ws', 'www', 'root', 'system', 'support', 'help',
  'login', 'logout', 'signup', 'register', 'dashboard', 'settings', 'static', 'assets', 'healthz',
  'readyz', 'hooks', 'stat', 'control', 'moderator', 'mod', 'staff', 'null', 'undefined', 'anonymous',
])

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }))

export const Username = z
  .string()
  .regex(/^[a-z0-9_]{3,24}$/, 'must be 3–24 characters: lower-case letters, digits and _')
  .refine((u) => !RESERVED_USERNAMES.has(u), 'is reserved')

export const Password = z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters')

export const RegisterBody = z.object({ email: Email, username: Username, password: Password })
export const LoginBody = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(1024),
  remember: z.boolean().optional().default(false),
})
export const TokenBody = z.object({ token: z.string().min(1).max(256) })
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(256).optional() })
export const ForgotBody = z.object({ email: z.string().trim().toLowerCase().max(254) })
export const ResetBody = z.object({ token: z.string().min(1).max(256), password: Password })
