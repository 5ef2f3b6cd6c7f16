/** @module admin/schemas — queries and bodies of the admin endpoints. */
import { z } from 'zod'

/** Keyset cursor: the last row's created_at in microseconds and its id, base64url-encoded. */
export const Cursor = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    try {
      const [us, id] = JSON.parse(Buffer.from(s, 'base64url').toString()) as [unknown, unknown]
      if (
        typeof us === 'string' &&
        /^\d{1,20}$/.test(us) &&
        typeof id === 'string' &&
        z.uuid().safeParse(id).success
      )
        return { us, id }
    } catch {}
    ctx.addIssue({ code: 'custom', message: 'is not a cursor from a previous page' })
    return z.NEVER
  })

export const encodeCursor = (us: string, id: string) =>
  Buffer.from(JSON.stringify([us, id])).toString('base64url')

export const ListUsersQuery = z.object({
  /** Part of an email or username, case-insensitive. */
  q: z.string().trim().max(254).optional(),
  role: z.enum(['user', 'admin']).optional(),
  disabled: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: Cursor.optional(),
})

export const UserParam = z.object({ id: z.uuid({ message: 'must be a user id' }) })
export const DisableBody = z.object({ reason: z.string().trim().max(500).optional() })
