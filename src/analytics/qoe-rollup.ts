/**
 * @module analytics/qoe-rollup — retention of qoe_minutes by coarsening, not deleting: rows
 * older than `minuteDays` are folded into one row per (channel, broadcast, UTC hour), rows older
 * than `hourDays` into one per UTC day (same merge as the flush: histograms bin by bin, sums,
 * error counts), so medians and ratios over old ranges stay exact up to the histogram's ±4.4 %.
 * A folded row keeps its bucket's start in `minute`. Idempotent and safe on several instances at
 * once (a row is moved by whoever deletes it first); bounded work per statement.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'

const BATCH = 5000

export type QoeRetention = {
  /** Minute rows are kept this many days, then folded into hours (0 = never). */
  minuteDays: number
  /** Hour rows are kept this many days, then folded into days (0 = never). */
  hourDays: number
}

/** The defaults: minutes for 30 days, hours for 13 months, days forever. */
export const QOE_RETENTION: QoeRetention = { minuteDays: 30, hourDays: 396 }

/** Folds one batch of rows older than `before` that are not aligned to `unit`; → rows moved. */
async function foldBatch(db: Db, unit: 'hour' | 'day', before: Date): Promise<number> {
  const bucket = sql.raw(`date_trunc('${unit}', m.minute, 'UTC')`)
  const rows = await db.execute<{ moved: number }>(sql`
    with moved as (
      delete from qoe_minutes
      where ctid in (
        select ctid from qoe_minutes
        where minute < ${before.toISOString()}::timestamptz
          and minute <> date_trunc(${unit}, minute, 'UTC')
        limit ${BATCH}
        for update skip locked
      )
      returning *
    ),
    sums as (
      select m.channel_id, m.session_id, ${bucket} as b, sum(m.played_ms) as played_ms,
        sum(m.stalled_ms) as stalled_ms, sum(m.stalls) as stalls, sum(m.reports) as reports
      from moved m group by 1, 2, 3
    ),
    startup as (
      select channel_id, session_id, b, array_agg(n order by i) as h from (
        select m.channel_id, m.session_id, ${bucket} as b, u.i, sum(u.n)::int as n
        from moved m, unnest(m.startup_hist) with ordinality as u(n, i) group by 1, 2, 3, 4
      ) x group by 1, 2, 3
    ),
    latency as (
      select channel_id, session_id, b, array_agg(n order by i) as h from (
        select m.channel_id, m.session_id, ${bucket} as b, u.i, sum(u.n)::int as n
        from moved m, unnest(m.latency_hist) with ordinality as u(n, i) group by 1, 2, 3, 4
      ) x group by 1, 2, 3
    ),
    errs as (
      select channel_id, session_id, b, jsonb_object_agg(k, n) as e from (
        select m.channel_id, m.session_id, ${bucket} as b, e.key as k, sum(e.value::bigint) as n
        from moved m, jsonb_each_text(m.errors) e group by 1, 2, 3, 4
      ) x group by 1, 2, 3
    ),
    folded as (
      insert into qoe_minutes as q (channel_id, session_id, minute, startup_hist, latency_hist,
        played_ms, stalled_ms, stalls, errors, reports)
      select s.channel_id, s.session_id, s.b, coalesce(st.h, '{}'), coalesce(la.h, '{}'), s.played_ms,
        s.stalled_ms, s.stalls, coalesce(er.e, '{}'::jsonb), s.reports
      from sums s
      left join startup st on st.channel_id = s.channel_id and st.session_id is not distinct from s.session_id and st.b = s.b
      left join latency la on la.channel_id = s.channel_id and la.session_id is not distinct from s.session_id and la.b = s.b
      left join errs er on er.channel_id = s.channel_id and er.session_id is not distinct from s.session_id and er.b = s.b
      on conflict (channel_id, minute, session_id) do update set
        startup_hist = array(select coalesce(a, 0) + coalesce(b, 0) from unnest(q.startup_hist, excluded.startup_hist) with ordinality as u(a, b, i) order by i),
        latency_hist = array(select coalesce(a, 0) + coalesce(b, 0) from unnest(q.latency_hist, excluded.latency_hist) with ordinality as u(a, b, i) order by i),
        played_ms = q.played_ms + excluded.played_ms,
        stalled_ms = q.stalled_ms + excluded.stalled_ms,
        stalls = q.stalls + excluded.stalls,
        errors = (select coalesce(jsonb_object_agg(k, n), '{}'::jsonb) from (select key as k, sum(value::bigint) as n from (select * from jsonb_each_text(q.errors) union all select * from jsonb_each_text(excluded.errors)) e group by key) s),
        reports = q.reports + excluded.reports
      returning 1
    )
    select (select count(*) from moved)::int as moved, (select count(*) from folded)::int as folded`)
  return Number(rows[0]?.moved ?? 0)
}

/** Folds everything past retention as of `now`; → rows folded into hours and into days. */
export async function rollUpQoe(db: Db, r: QoeRetention, now: number) {
  const out = { hour: 0, day: 0 }
  for (const [unit, days] of [
    ['hour', r.minuteDays],
    ['day', r.hourDays],
  ] as const) {
    if (days === 0) continue
    const before = new Date(now - days * 86_400_000)
    for (;;) {
      const n = await foldBatch(db, unit, before)
      out[unit] += n
      if (n < BATCH) break
    }
  }
  return out
}

/** Hourly on every instance (the work is shared: rows are claimed with SKIP LOCKED). */
export function startQoeRollup(d: { db: Db; log: Logger; now: () => number }, r = QOE_RETENTION) {
  return every(3_600_000, () => rollUpQoe(d.db, r, d.now()), {
    immediate: true,
    onError: (err) => d.log.warn({ err: errText(err) }, 'qoe: roll-up failed'),
  })
}
