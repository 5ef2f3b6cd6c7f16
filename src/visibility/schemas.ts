/** @module visibility/schemas — member and playback-grant params and bodies. */
import { z } from 'zod'

export const MemberParam = z.object({
  name: z.string().regex(/^[a-z0-9_]{3,24}$/, 'is not a channel name'),
  username: z.string().regex(/^[a-z0-9_]{3,24}$/, 'is not a username'),
})

/** Optional: without a body (or without ttlS) the grant lives PLAYBACK_TOKEN_TTL_S. */
export const PlaybackTokenBody = z.object({
  ttlS: z.number().int().min(10).optional(),
})
