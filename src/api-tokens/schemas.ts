/** @module api-tokens/schemas — request bodies and params of `/api/v1/tokens`. */
import { z } from 'zod'
import { SCOPES } from './scopes.js'

export const CreateTokenBody = z.object({
  name: z.string().trim().min(1).max(64),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .transform((s) => [...new Set(s)]),
  /** Every token expires: a forgotten one stops working on its own. */
  expiresInDays: z.number().int().min(1).max(365).optional().default(30),
})
export const TokenIdParam = z.object({ id: z.uuid({ message: 'must be a token id' }) })
