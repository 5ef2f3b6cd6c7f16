/**
 * @module db/schema/webhooks — webhook endpoints (per user), the deliveries owed to them and every
 * attempt made. `webhook_deliveries` is the endpoints' outbox: a row is written in the transaction
 * (or by the stream consumer) that decides the event, and webhooks/worker.ts sends it with retries.
 */
import { sql } from 'drizzle-orm'
import { bigint, bigserial, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz, updatedAt } from '../columns.js'
import { users } from './users.js'

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** Event types this endpoint receives (webhooks/events.ts). */
    events: text('events').array().notNull(),
    /** `whsec_…` encrypted with AES-256-GCM (webhooks/secret.ts): the app must sign with it. */
    secretEnc: text('secret_enc').notNull(),
    /** The secret before the last rotation, still signed with until `previousSecretExpiresAt`. */
    previousSecretEnc: text('previous_secret_enc'),
    previousSecretExpiresAt: tstz('previous_secret_expires_at'),
    /** Last sequence number handed out; each delivery takes the next one (per endpoint). */
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
    /** Set by the first failed attempt after a success; an endpoint failing for 3 days is disabled. */
    failingSince: tstz('failing_since'),
    disabledAt: tstz('disabled_at'),
    /** `failing` (disabled by us) or `user` (PATCH enabled:false). */
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_endpoints_user_idx').on(t.userId)],
)

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
    messageId: text('message_id').notNull(),
    /** Per-endpoint, increasing: receivers can order deliveries and see a gap. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    eventType: text('event_type').notNull(),
    /** What makes the event unique (deduplicates an event recorded twice by an at-least-once consumer). */
    eventKey: text('event_key').notNull(),
    /** The exact JSON body sent (and signed) on every attempt. */
    body: text('body').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Next attempt not before: backoff, or the lease of a running attempt. */
    availableAt: tstz('available_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    finishedAt: tstz('finished_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_idx').on(t.endpointId, t.eventKey),
    uniqueIndex('webhook_deliveries_seq_idx').on(t.endpointId, t.seq),
    // The worker's head-of-line scan: pending rows per endpoint in seq order.
    index('webhook_deliveries_pending_idx').on(t.endpointId, t.seq).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_created_idx').on(t.createdAt),
  ],
)

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: bigint('delivery_id', { mode: 'number' })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    at: tstz('at').notNull().defaultNow(),
    /** HTTP status of the answer; null when there was none (refused, timed out, blocked address). */
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
    /** The first bytes of the answer (capped), for the delivery log. */
    responseBody: text('response_body'),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId)],
)

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect
export type WebhookAttempt = typeof webhookAttempts.$inferSelect
