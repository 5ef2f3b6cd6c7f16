/**
 * @module webhooks/worker — sends webhook deliveries, at least once, in order per endpoint, on
 * every instance at once.
 *
 * - Claiming follows outbox/worker.ts: a row is leased by moving `available_at` one lease ahead
 *   under `FOR UPDATE SKIP LOCKED`, so two instances never send it at once and one that dies
 *   mid-attempt only delays it by the lease. Every attempt sends the same `webhook-id` and body.
 * - Order: only an endpoint's head — its pending delivery with the lowest `seq` — can be claimed,
 *   so each endpoint has at most one attempt in flight and later deliveries wait while the head
 *   backs off. The head leaves the line when delivered or given up (24 h after the event).
 * - Failures back off exponentially (WEBHOOK_RETRY_BASE_MS doubling, capped at 1 h, jittered). An
 *   endpoint whose attempts have failed for 3 days without a success is disabled, its pending
 *   deliveries failed, and its owner mailed through the outbox — all in one transaction.
 * - Sending does not hold the poll loop: up to CONCURRENCY attempts run at once, and a slow
 *   endpoint (up to WEBHOOK_TIMEOUT_MS) delays only its own line.
 */
import { sql as dsql, eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db, Sql } from '../db/client.js'
import { users, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../db/schema/index.js'
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'
import { enqueueMail } from '../outbox/outbox.js'
import { WEBHOOKS_CHANNEL } from './emit.js'
import type { SecretBox } from './secret.js'
import { type AttemptResult, sendWebhook } from './send.js'
import type { Resolver } from './ssrf.js'

const LEASE_S = 60
const CONCURRENCY = 16
const MAX_BACKOFF_MS = 3600_000
export const RETRY_WINDOW_S = 24 * 3600
export const DISABLE_AFTER_S = 3 * 24 * 3600
const RETENTION_DAYS = 30

export type WebhookWorker = {
  /** Sends everything due now, and what becomes due meanwhile within this call (tests). */
  drain(): Promise<number>
  start(): Promise<void>
  stop(): Promise<void>
}

type Claimed = {
  id: string
  endpoint_id: string
  message_id: string
  seq: string
  body: string
  attempts: number
  url: string
  secret_enc: string
  /** The secret before a rotation, while it still signs. */
  previous_secret_enc: string | null
  disabled: boolean
}

/** base, 2×base, 4×base … capped at 1 h, with jitter so instances do not retry in lockstep. */
export function webhookBackoffMs(attempts: number, baseMs: number, random = Math.random): number {
  const raw = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1))
  return Math.max(1, Math.round(raw * (0.5 + random() / 2)))
}

export function createWebhookWorker(o: {
  sql: Sql
  db: Db
  log: Logger
  box: SecretBox
  resolve: Resolver
  config: Pick<
    Config,
    'WEBHOOK_ALLOW_PRIVATE' | 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_TIMEOUT_MS' | 'PUBLIC_URL'
  >
  pollMs?: number
  onError?: (err: unknown) => void
  /** Every attempt that reached an answer or failed on its own (not cut short by our shutdown). */
  onAttempt?: (delivered: boolean) => void
}): WebhookWorker {
  const { sql, db, log } = o
  const inflight = new Set<Promise<void>>()
  let stopped = false
  let unlisten: (() => Promise<void>) | null = null
  let wake: NodeJS.Timeout | undefined
  const shutdown = new AbortController()

  async function claim(limit: number): Promise<Claimed[]> {
    return sql<Claimed[]>`
      update webhook_deliveries d
      set attempts = d.attempts + 1, available_at = now() + make_interval(secs => ${LEASE_S})
      from webhook_endpoints e
      where e.id = d.endpoint_id and d.id in (
        select h.id from webhook_deliveries h
        where h.status = 'pending' and h.available_at <= now() and h.id in (
          -- Each endpoint's head: one probe of webhook_deliveries_pending_idx per endpoint
          -- (measured 3.5 ms for 1,000 endpoints with 50,000 pending; DISTINCT ON took 25 ms).
          select head.id from webhook_endpoints ep cross join lateral (
            select p.id from webhook_deliveries p where p.endpoint_id = ep.id and p.status = 'pending'
            order by p.seq limit 1) head)
        order by h.available_at limit ${limit}
        for update skip locked)
      returning d.id, d.endpoint_id, d.message_id, d.seq, d.body, d.attempts, e.url, e.secret_enc,
        case when e.previous_secret_expires_at > now() then e.previous_secret_enc end as previous_secret_enc,
        e.disabled_at is not null as disabled`
  }

  function secretsOf(row: Claimed): string[] {
    const secrets = [o.box.open(row.secret_enc, row.endpoint_id)]
    if (row.previous_secret_enc) secrets.push(o.box.open(row.previous_secret_enc, row.endpoint_id))
    return secrets
  }

  async function attempt(row: Claimed): Promise<AttemptResult> {
    if (row.disabled) {
      return { ok: false, statusCode: null, durationMs: 0, error: 'endpoint disabled', responseBody: null }
    }
    let secrets: string[]
    try {
      secrets = secretsOf(row)
    } catch {
      // WEBHOOK_SECRET_KEY (or HOOK_SECRET it is derived from) changed: nothing to sign with.
      return {
        ok: false,
        statusCode: null,
        durationMs: 0,
        error: 'signing secret unreadable',
        responseBody: null,
      }
    }
    return sendWebhook({
      url: row.url,
      messageId: row.message_id,
      sequence: Number(row.seq),
      body: row.body,
      secrets,
      timeoutMs: o.config.WEBHOOK_TIMEOUT_MS,
      resolve: o.resolve,
      allowPrivate: o.config.WEBHOOK_ALLOW_PRIVATE,
      signal: shutdown.signal,
    })
  }

  /** Gives a lease back (shutdown mid-attempt): another instance may send it at once, not in 60 s. */
  async function release(row: Claimed): Promise<void> {
    await sql`update webhook_deliveries set available_at = now(), attempts = attempts - 1
      where id = ${row.id} and attempts = ${row.attempts} and status = 'pending'`
  }

  async function record(row: Claimed, r: AttemptResult): Promise<void> {
    const id = Number(row.id)
    await db.transaction(async (tx) => {
      await tx.insert(webhookAttempts).values({
        deliveryId: id,
        statusCode: r.statusCode,
        durationMs: r.durationMs,
        error: r.error,
        responseBody: r.responseBody,
      })
      // Only while the lease is ours: a lease that ran out gave the row to another worker.
      const mine = dsql`${webhookDeliveries.id} = ${id} and ${webhookDeliveries.attempts} = ${row.attempts} and ${webhookDeliveries.status} = 'pending'`
      if (r.ok) {
        await tx
          .update(webhookDeliveries)
          .set({ status: 'delivered', finishedAt: dsql`now()`, lastError: null, availableAt: dsql`now()` })
          .where(mine)
        await tx
          .update(webhookEndpoints)
          .set({ failingSince: null })
          .where(eq(webhookEndpoints.id, row.endpoint_id))
        return
      }
      if (row.disabled) {
        // Disabled while it waited: its line is closed, not retried.
        await tx
          .update(webhookDeliveries)
          .set({ status: 'failed', finishedAt: dsql`now()`, lastError: 'endpoint disabled' })
          .where(mine)
        return
      }
      const delay = webhookBackoffMs(row.attempts, o.config.WEBHOOK_RETRY_BASE_MS)
      const error = (r.error ?? 'failed').slice(0, 500)
      const [gaveUp] = await tx
        .update(webhookDeliveries)
        .set({
          lastError: error,
          availableAt: dsql`now() + make_interval(secs => ${delay / 1000})`,
          // Retried for up to 24 h after the event; then the next delivery may go.
          status: dsql`case when ${webhookDeliveries.createdAt} + make_interval(secs => ${RETRY_WINDOW_S}) < now() + make_interval(secs => ${delay / 1000}) then 'failed' else 'pending' end`,
          finishedAt: dsql`case when ${webhookDeliveries.createdAt} + make_interval(secs => ${RETRY_WINDOW_S}) < now() + make_interval(secs => ${delay / 1000}) then now() end`,
        })
        .where(mine)
        .returning({ status: webhookDeliveries.status })
      if (gaveUp?.status === 'failed') {
        log.warn(
          { endpointId: row.endpoint_id, deliveryId: id, attempts: row.attempts },
          'webhook: delivery given up',
        )
      } else if (delay < 60_000) scheduleWake(delay)
      const [ep] = await tx
        .update(webhookEndpoints)
        .set({ failingSince: dsql`coalesce(${webhookEndpoints.failingSince}, now())` })
        .where(eq(webhookEndpoints.id, row.endpoint_id))
        .returning({
          expired: dsql<boolean>`${webhookEndpoints.failingSince} <= now() - make_interval(secs => ${DISABLE_AFTER_S})`,
          disabledAt: webhookEndpoints.disabledAt,
          url: webhookEndpoints.url,
          userId: webhookEndpoints.userId,
        })
      if (!ep?.expired || ep.disabledAt) return
      await tx
        .update(webhookEndpoints)
        .set({ disabledAt: dsql`now()`, disabledReason: 'failing' })
        .where(eq(webhookEndpoints.id, row.endpoint_id))
      await tx
        .update(webhookDeliveries)
        .set({
          status: 'failed',
          finishedAt: dsql`now()`,
          lastError: 'endpoint disabled after failing for 3 days',
        })
        .where(
          dsql`${webhookDeliveries.endpointId} = ${row.endpoint_id} and ${webhookDeliveries.status} = 'pending'`,
        )
      const [owner] = await tx.select({ email: users.email }).from(users).where(eq(users.id, ep.userId))
      if (owner)
        await enqueueMail(tx, disabledMail(owner.email, ep.url, row.endpoint_id, o.config.PUBLIC_URL))
      log.warn({ endpointId: row.endpoint_id }, 'webhook: endpoint disabled after failing for 3 days')
    })
  }

  function scheduleWake(ms: number) {
    if (stopped) return
    clearTimeout(wake)
    wake = setTimeout(() => void loop.now(), ms + 5)
    wake.unref()
  }

  async function run(row: Claimed) {
    const r = await attempt(row)
    try {
      // Cut short by our own shutdown: not the receiver's failure (it may still have got it).
      if (r.error === 'aborted' && shutdown.signal.aborted) await release(row)
      else {
        o.onAttempt?.(r.ok)
        await record(row, r)
      }
    } catch (err) {
      // The lease runs out and the row is attempted again: at least once, never lost.
      o.onError?.(err)
      log.warn({ deliveryId: row.id, err: errText(err) }, 'webhook: recording an attempt failed')
    }
  }

  /** Claims what free slots allow and starts sending; resolves once the sends are launched. */
  async function pump(): Promise<number> {
    const free = CONCURRENCY - inflight.size
    if (stopped || free <= 0) return 0
    const rows = await claim(free)
    for (const row of rows) {
      const p: Promise<void> = run(row).finally(() => {
        inflight.delete(p)
        // Its line may have a next delivery now, and a slot is free.
        if (!stopped) void loop.now()
      })
      inflight.add(p)
    }
    return rows.length
  }

  const onError = (err: unknown) => {
    o.onError?.(err)
    log.warn({ err: errText(err) }, 'webhook: claim failed')
  }
  const loop = every(o.pollMs ?? 1000, pump, { onError })
  const retention = every(
    3600_000,
    () =>
      sql`delete from webhook_deliveries where finished_at < now() - make_interval(days => ${RETENTION_DAYS})`,
    { onError },
  )

  return {
    async drain() {
      let handled = 0
      for (;;) {
        const n = await pump()
        handled += n
        if (n === 0 && inflight.size === 0) return handled
        if (inflight.size) await Promise.race(inflight)
      }
    },
    async start() {
      const listening = await sql
        .listen(
          WEBHOOKS_CHANNEL,
          () => void loop.now(),
          () => void loop.now(),
        )
        .catch((err: Error) => {
          log.warn({ err: errText(err) }, 'webhook: LISTEN failed; polling only')
          return null
        })
      unlisten = listening ? () => listening.unlisten() : null
      void loop.now()
    },
    async stop() {
      stopped = true
      clearTimeout(wake)
      loop.stop()
      retention.stop()
      await unlisten?.().catch(() => {})
      // A slow receiver must not hold the shutdown for WEBHOOK_TIMEOUT_MS: abort, give leases back.
      shutdown.abort()
      await Promise.allSettled([...inflight])
    },
  }
}

function disabledMail(to: string, url: string, endpointId: string, publicUrl: string) {
  // The URL's origin only: a path or query may carry the receiver's own token.
  let origin = url
  try {
    origin = new URL(url).origin
  } catch {}
  return {
    to,
    subject: 'A webhook endpoint was disabled',
    text:
      `Deliveries to your webhook endpoint ${endpointId} (${origin}) have failed for 3 days, so it was disabled ` +
      `and its pending deliveries dropped.\n\nFix the receiver, then enable it again in your dashboard ` +
      `(${publicUrl}/dashboard) or with PATCH /api/v1/webhooks/${endpointId} {"enabled": true}.\n`,
  }
}
