/**
 * @module webhooks/service — endpoints: create (the secret is shown once), list, change, delete,
 * rotate the secret, send a test event, and the delivery log. An endpoint belongs to one user; a
 * request for someone else's endpoint is answered as if it did not exist.
 */
import { randomUUID } from 'node:crypto'
import { and, count, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import {
  users,
  type WebhookEndpoint,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from '../db/schema/index.js'
import { AppError, ConflictError, NotFoundError } from '../http/errors.js'
import { emitWebhookEvent } from './emit.js'
import type { WebhookEventType } from './events.js'
import { generateWebhookSecret, type SecretBox } from './secret.js'
import { checkWebhookUrl, type Resolver } from './ssrf.js'

/** How long the previous secret keeps signing after a rotation (receivers switch over meanwhile). */
export const ROTATION_OVERLAP_S = 24 * 3600

export type WebhookDeps = {
  db: Db
  config: Pick<Config, 'PLAN_LIMITS' | 'WEBHOOK_ALLOW_PRIVATE'>
  box: SecretBox
  resolve: Resolver
  now: () => number
}

export type PublicWebhook = {
  id: string
  url: string
  events: string[]
  enabled: boolean
  disabledAt: string | null
  disabledReason: string | null
  failingSince: string | null
  createdAt: string
  updatedAt: string
}

export function toPublicWebhook(e: WebhookEndpoint): PublicWebhook {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    enabled: e.disabledAt === null,
    disabledAt: e.disabledAt?.toISOString() ?? null,
    disabledReason: e.disabledReason,
    failingSince: e.failingSince?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  }
}

const urlCheck = (d: WebhookDeps) => ({ resolve: d.resolve, allowPrivate: d.config.WEBHOOK_ALLOW_PRIVATE })

export async function createWebhook(
  d: WebhookDeps,
  userId: string,
  body: { url: string; events: WebhookEventType[] },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = (await checkWebhookUrl(body.url, urlCheck(d))).href
  const id = randomUUID()
  const secret = generateWebhookSecret()
  const endpoint = await d.db.transaction(async (tx) => {
    // Locks the user row: two concurrent creates cannot both pass the limit.
    const [user] = await tx.select({ plan: users.plan }).from(users).where(eq(users.id, userId)).for('update')
    const max = d.config.PLAN_LIMITS[user?.plan ?? 'free'].maxWebhooks
    const [n] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.userId, userId))
    if ((n?.n ?? 0) >= max) {
      throw new AppError('PLAN_LIMIT', `your plan allows ${max} webhook endpoints; delete one first`)
    }
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({ id, userId, url, events: body.events, secretEnc: d.box.seal(secret, id) })
      .returning()
    return row!
  })
  // The only moment the secret leaves the server.
  return { endpoint, secret }
}

export async function listWebhooks(db: Db, userId: string): Promise<WebhookEndpoint[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.userId, userId))
    .orderBy(desc(webhookEndpoints.createdAt))
}

export async function getWebhook(db: Db, userId: string, id: string): Promise<WebhookEndpoint> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)))
  if (!row) throw new NotFoundError('webhook')
  return row
}

export async function updateWebhook(
  d: WebhookDeps,
  userId: string,
  id: string,
  body: { url?: string; events?: WebhookEventType[]; enabled?: boolean },
): Promise<WebhookEndpoint> {
  await getWebhook(d.db, userId, id)
  const url = body.url === undefined ? undefined : (await checkWebhookUrl(body.url, urlCheck(d))).href
  return d.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(body.events !== undefined ? { events: body.events } : {}),
        ...(body.enabled === true ? { disabledAt: null, disabledReason: null, failingSince: null } : {}),
        ...(body.enabled === false
          ? { disabledAt: sql`coalesce(${webhookEndpoints.disabledAt}, now())`, disabledReason: 'user' }
          : {}),
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)))
      .returning()
    if (!row) throw new NotFoundError('webhook')
    if (body.enabled === false) {
      // A disabled endpoint's line is closed: nothing queued is sent later by surprise.
      await tx
        .update(webhookDeliveries)
        .set({ status: 'failed', finishedAt: sql`now()`, lastError: 'endpoint disabled' })
        .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, 'pending')))
    }
    return row
  })
}

export async function deleteWebhook(db: Db, userId: string, id: string): Promise<void> {
  const gone = await db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)))
    .returning({ id: webhookEndpoints.id })
  if (gone.length === 0) throw new NotFoundError('webhook')
}

/** A new secret, shown once; the previous one keeps signing (a second signature) for ROTATION_OVERLAP_S. */
export async function rotateWebhookSecret(
  d: Pick<WebhookDeps, 'db' | 'box' | 'now'>,
  userId: string,
  id: string,
): Promise<{ id: string; secret: string }> {
  const secret = generateWebhookSecret()
  const [row] = await d.db
    .update(webhookEndpoints)
    .set({
      secretEnc: d.box.seal(secret, id),
      previousSecretEnc: sql`${webhookEndpoints.secretEnc}`,
      previousSecretExpiresAt: new Date(d.now() + ROTATION_OVERLAP_S * 1000),
    })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)))
    .returning({ id: webhookEndpoints.id })
  if (!row) throw new NotFoundError('webhook')
  return { id, secret }
}

/** Queues a `webhook.test` delivery for this endpoint (in its line, like any other). */
export async function testWebhook(d: Pick<WebhookDeps, 'db' | 'now'>, userId: string, id: string) {
  const endpoint = await getWebhook(d.db, userId, id)
  if (endpoint.disabledAt) throw new ConflictError('the webhook is disabled; enable it first')
  const at = d.now()
  const [deliveryId] = await emitWebhookEvent(
    d.db,
    {
      type: 'webhook.test',
      at,
      userId,
      key: `webhook.test:${randomUUID()}`,
      data: { endpointId: id, message: 'This is a test event.' },
    },
    { endpointId: id },
  )
  // Disabled between the check above and the row lock in emit: nothing was queued.
  if (deliveryId === undefined) throw new ConflictError('the webhook is disabled; enable it first')
  const [row] = await d.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId!))
  return toPublicDelivery(row!, [])
}

export type PublicAttempt = {
  at: string
  status: number | null
  durationMs: number
  error: string | null
  response: string | null
}

export function toPublicDelivery(
  r: typeof webhookDeliveries.$inferSelect,
  attempts: (typeof webhookAttempts.$inferSelect)[],
) {
  return {
    id: String(r.id),
    webhookId: r.messageId,
    sequence: r.seq,
    event: r.eventType,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    nextAttemptAt: r.status === 'pending' ? r.availableAt.toISOString() : null,
    lastError: r.lastError,
    attempts: attempts.map(
      (a): PublicAttempt => ({
        at: a.at.toISOString(),
        status: a.statusCode,
        durationMs: a.durationMs,
        error: a.error,
        response: a.responseBody,
      }),
    ),
  }
}

/** Newest first, each with every attempt (time, HTTP status, duration, error). */
export async function listDeliveries(
  db: Db,
  userId: string,
  id: string,
  q: { limit: number; before?: number },
) {
  await getWebhook(db, userId, id)
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, id),
        q.before !== undefined ? lt(webhookDeliveries.seq, q.before) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.seq))
    .limit(q.limit)
  const attempts = rows.length
    ? await db
        .select()
        .from(webhookAttempts)
        .where(
          inArray(
            webhookAttempts.deliveryId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(webhookAttempts.id)
    : []
  return {
    deliveries: rows.map((r) =>
      toPublicDelivery(
        r,
        attempts.filter((a) => a.deliveryId === r.id),
      ),
    ),
    nextCursor: rows.length === q.limit ? String(rows.at(-1)!.seq) : null,
  }
}
