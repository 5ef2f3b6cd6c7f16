/**
 * @module outbox/worker — applies outbox rows with retries, on every instance at once.
 *
 * A row is claimed by moving its `available_at` one lease ahead (`FOR UPDATE SKIP LOCKED`, so two
 * instances never claim the same row at the same moment); a worker that dies mid-row simply lets
 * the lease run out and another instance takes the row over. Handlers must therefore be idempotent
 * (they run at least once). A failure schedules the next attempt with exponential backoff; a row
 * whose payload no longer validates, or whose handler gave up, is marked done with the reason.
 * Wake-ups come from `LISTEN outbox` (pg_notify at commit) and from a slow poll as the backstop.
 */
import type { Sql } from '../db/client.js'
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'
import { OUTBOX_CHANNEL } from './outbox.js'
import { isTopic, type Payload, parsePayload, type Topic } from './topics.js'

export type OutboxHandler<T extends Topic> = {
  run(payload: Payload<T>): Promise<void>
  /** After this many failed attempts the row is given up (logged as an error); default: never. */
  maxAttempts?: number
}
export type OutboxHandlers = { [T in Topic]: OutboxHandler<T> }

type Row = { id: string; topic: string; payload: unknown; attempts: number }

export type OutboxWorker = {
  /** Claims and applies whatever is due now; resolves with how many rows were handled. */
  drain(): Promise<number>
  /**
   * Applies one row now, whatever its `available_at` (a request applying its own `inline` row).
   * Never throws: a failure is logged and left to the workers' retries. True if it was applied.
   */
  applyNow(id: string): Promise<boolean>
  start(): Promise<void>
  stop(): Promise<void>
}

const LEASE_S = 60
const BATCH = 20

/** 1 s, 2 s, 4 s … capped at 5 min, with jitter so instances do not retry in lockstep. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1))
  return Math.round(base * (0.5 + random() / 2))
}

export function createOutboxWorker(o: {
  sql: Sql
  log: Logger
  handlers: OutboxHandlers
  pollMs?: number
  retentionDays?: number
  /** Every failure, for metrics: `query` the worker's own SQL, `handler` a row's handler that threw. */
  onError?: (err: unknown, kind: 'query' | 'handler') => void
}): OutboxWorker {
  const { sql, log } = o
  let stopped = false
  let unlisten: (() => Promise<void>) | null = null

  async function claim(): Promise<Row[]> {
    return sql<Row[]>`
      update outbox set attempts = attempts + 1, available_at = now() + make_interval(secs => ${LEASE_S})
      where id in (
        select id from outbox where done_at is null and available_at <= now()
        order by id limit ${BATCH} for update skip locked)
      returning id, topic, payload, attempts`
  }

  async function claimOne(id: string): Promise<Row | null> {
    const [row] = await sql<Row[]>`
      update outbox set attempts = attempts + 1, available_at = now() + make_interval(secs => ${LEASE_S})
      where id in (select id from outbox where id = ${id} and done_at is null for update skip locked)
      returning id, topic, payload, attempts`
    return row ?? null
  }

  async function finish(id: string, error: string | null) {
    await sql`update outbox set done_at = now(), last_error = ${error} where id = ${id}`
  }

  async function apply(row: Row): Promise<boolean> {
    const payload = isTopic(row.topic) ? parsePayload(row.topic, row.payload) : null
    if (!isTopic(row.topic) || payload === null) {
      log.error({ outboxId: row.id, topic: row.topic }, 'outbox: unknown topic or invalid payload; skipped')
      await finish(row.id, 'invalid payload')
      return false
    }
    const handler = o.handlers[row.topic] as OutboxHandler<Topic>
    try {
      await handler.run(payload)
      await finish(row.id, null)
      return true
    } catch (err) {
      o.onError?.(err, 'handler')
      const message = errText(err).slice(0, 500)
      if (handler.maxAttempts !== undefined && row.attempts >= handler.maxAttempts) {
        log.error(
          { outboxId: row.id, topic: row.topic, attempts: row.attempts, err: message },
          'outbox: gave up',
        )
        await finish(row.id, `gave up: ${message}`)
        return false
      }
      const delay = backoffMs(row.attempts)
      log.warn(
        { outboxId: row.id, topic: row.topic, attempts: row.attempts, retryInMs: delay, err: message },
        'outbox: attempt failed',
      )
      await sql`update outbox set last_error = ${message},
        available_at = now() + make_interval(secs => ${delay / 1000}) where id = ${row.id}`
      return false
    }
  }

  async function drain(): Promise<number> {
    let handled = 0
    while (!stopped) {
      const rows = await claim()
      for (const row of rows) await apply(row)
      handled += rows.length
      if (rows.length < BATCH) break
    }
    return handled
  }

  const onError = (err: unknown) => {
    o.onError?.(err, 'query')
    log.warn({ err: errText(err) }, 'outbox: drain failed')
  }
  const loop = every(o.pollMs ?? 1000, drain, { onError })
  const retention = every(
    3600_000,
    async () => {
      await sql`delete from outbox where done_at < now() - make_interval(days => ${o.retentionDays ?? 7})`
    },
    { onError },
  )

  return {
    async start() {
      // postgres.js keeps the LISTEN connection alive and re-listens after a reconnect.
      const listening = await sql
        .listen(
          OUTBOX_CHANNEL,
          () => void loop.now(),
          () => void loop.now(),
        )
        .catch((err: Error) => {
          log.warn({ err: errText(err) }, 'outbox: LISTEN failed; polling only')
          return null
        })
      unlisten = listening ? () => listening.unlisten() : null
      void loop.now()
    },
    drain,
    async applyNow(id) {
      try {
        const row = await claimOne(id)
        return row ? await apply(row) : false
      } catch (err) {
        o.onError?.(err, 'query')
        log.warn({ outboxId: id, err: errText(err) }, 'outbox: inline apply failed; workers will retry')
        return false
      }
    },
    async stop() {
      stopped = true
      loop.stop()
      retention.stop()
      await unlisten?.().catch(() => {})
    },
  }
}
