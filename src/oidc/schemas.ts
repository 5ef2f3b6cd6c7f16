/** @module oidc/schemas — params and queries of the sign-in routes. */
import { z } from 'zod'

export const ProviderParam = z.object({
  provider: z.string().regex(/^[a-z0-9-]{1,32}$/, 'is not a provider id'),
})
export const StartQuery = z.object({ next: z.string().max(2048).optional() })
/** The provider's answer is read by openid-client from the URL; this only bounds its size. */
export const CallbackQuery = z.record(z.string(), z.string().max(4096))
