/** @module webhooks/schemas — request bodies, params and queries of `/api/v1/webhooks`. */
import { z } from 'zod'
import { SUBSCRIBABLE_EVENTS } from './events.js'

const Url = z.string().trim().min(1).max(2048)
const Events = z
  .array(z.enum(SUBSCRIBABLE_EVENTS))
  .min(1, 'subscribe to at least one event')
  .max(SUBSCRIBABLE_EVENTS.length * 2)
  .transform((e) => [...new Set(e)])

export const CreateWebhookBody = z.object({ url: Url, events: Events })

export const PatchWebhookBody = z
  .object({ url: Url.optional(), events: Events.optional(), enabled: z.boolean().optional() })
  .refine((b) => b.url !== undefined || b.events !== undefined || b.enabled !== undefined, {
    message: 'nothing to change: give url, events or enabled',
  })

export const WebhookIdParam = z.object({ id: z.uuid('is not a webhook id') })

export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** `nextCursor` of the previous page: deliveries with a lower sequence number. */
  before: z.coerce.number().int().min(1).optional(),
})
