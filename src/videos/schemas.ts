/** @module videos/schemas — video params and bodies. */
import { z } from 'zod'
import { VISIBILITIES } from '../db/schema/index.js'

export const VideoParam = z.object({ id: z.string().uuid('is not a video id') })
export const VideosQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) })
export const PatchVideoBody = z
  .object({
    title: z.string().trim().min(1).max(140).optional(),
    /** null: inherit the channel's visibility. */
    visibility: z.enum(VISIBILITIES).nullable().optional(),
  })
  .refine((b) => b.title !== undefined || b.visibility !== undefined, 'give title or visibility')
