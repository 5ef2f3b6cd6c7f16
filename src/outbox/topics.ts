/**
 * @module outbox/topics — what may be put in the outbox, and the shape of each payload. Payloads are
 * validated when written and again when read (a row written by an older or newer version of the app
 * must not crash the worker).
 */
import { z } from 'zod'

export const topicSchemas = {
  /** An account mail (verification, password reset, …): sent off the request path, with retries. */
  'mail.send': z.object({
    to: z.string().min(3).max(320),
    subject: z.string().min(1).max(200),
    text: z.string().max(20_000),
    html: z.string().max(100_000).optional(),
  }),
  /** The key is revoked in Postgres; its live publisher (if any) must be ended and dropped. */
  'stream_key.revoked': z.object({ keyId: z.string().min(1).max(64), userId: z.string().uuid() }),
  /** The account is disabled in Postgres; its stream and its sockets everywhere must end. */
  'user.disabled': z.object({ userId: z.string().uuid() }),
} as const

export type Topic = keyof typeof topicSchemas
export type Payload<T extends Topic> = z.infer<(typeof topicSchemas)[T]>

/** Validates a payload read back from Postgres; null when it is not (or no longer) a valid one. */
export function parsePayload<T extends Topic>(topic: T, payload: unknown): Payload<T> | null {
  const parsed = topicSchemas[topic].safeParse(payload)
  return parsed.success ? (parsed.data as Payload<T>) : null
}

export function isTopic(topic: string): topic is Topic {
  return Object.hasOwn(topicSchemas, topic)
}
