/** @module stream-keys/schemas — request bodies and params. */
import { z } from 'zod'

export const CreateKeyBody = z.object({ label: z.string().trim().max(64).optional().default('') })
export const KeyIdParam = z.object({ id: z.string().regex(/^[a-z0-9]{12}$/, 'is not a stream key id') })
