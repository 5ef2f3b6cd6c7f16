/** @module channels/schemas — channel params, queries and bodies. */
import { z } from 'zod'

export const ChannelParam = z.object({ name: z.string().regex(/^[a-z0-9_]{3,24}$/, 'is not a channel name') })
export const ListQuery = z.object({
  live: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
})
export const PatchChannelBody = z
  .object({
    title: z.string().trim().max(140).optional(),
    visibility: z.enum(['public', 'unlisted', 'private']).optional(),
    /** Broadcasts become videos (videos/). */
    record: z.boolean().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give a title, a visibility or record')
export const SessionsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) })
