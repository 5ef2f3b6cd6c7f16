/**
 * @module rtmp-hooks/form — parsing nginx-rtmp's notify bodies.
 *
 * nginx appends the publish URL's query string raw to every hook body, so publishing to
 * `KEY?name=evil&call=play` sends `…&call=publish&name=KEY&type=live&name=evil&call=play`.
 * The first occurrence of each field is nginx's own; later ones are the publisher's. Hono's
 * parseBody keeps the last value for a repeated key, so we parse the raw text ourselves.
 */
import { z } from 'zod'

export function firstOccurrence(body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(body)) if (!(k in out)) out[k] = v
  return out
}

const ClientId = z.string().regex(/^\d{1,20}$/, 'clientid must be numeric')
/** Bounded so a hostile publish URL cannot make us process megabytes; the key format check comes later. */
const Name = z.string().min(1).max(256)

export const PublishForm = z.object({
  call: z.literal('publish'),
  app: z.literal('live'),
  name: Name,
  clientid: ClientId,
  addr: z.string().max(64).optional(),
})
export const UpdateForm = z.object({
  call: z.literal('update_publish'),
  app: z.literal('live'),
  name: Name,
  clientid: ClientId,
  time: z.string().optional(),
})
export const DoneForm = z.object({
  call: z.string().max(32),
  app: z.literal('live'),
  name: Name,
  clientid: ClientId,
})

export type PublishForm = z.infer<typeof PublishForm>

export function parseHookForm<T extends z.ZodType>(schema: T, body: string): z.infer<T> | null {
  const r = schema.safeParse(firstOccurrence(body))
  return r.success ? r.data : null
}
