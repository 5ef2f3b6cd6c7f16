/**
 * @module analytics/schemas — the analytics query: UTC ISO-8601 instants, a bucket size and a
 * range no longer than that bucket allows (buckets.ts MAX_RANGE_MS). Bad input is a 400
 * BAD_REQUEST problem naming the fields.
 */
import { z } from 'zod'
import { GRANULARITIES, type Granularity } from '../db/schema/index.js'
import { AppError } from '../http/errors.js'
import { fieldErrors } from '../http/validate.js'
import { MAX_RANGE_MS } from './buckets.js'

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with Z or an offset' })

export const AnalyticsQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  bucket: z.enum(GRANULARITIES).default('hour'),
})

export const AdminAnalyticsQuery = AnalyticsQuery.omit({ bucket: true })

export type Range = { from: number; to: number; bucket: Granularity }

const DEFAULT_SPAN_MS: Record<Granularity, number> = {
  minute: 3_600_000,
  hour: 86_400_000,
  day: 30 * 86_400_000,
}

/** Parses and checks the query; `to` defaults to now, `from` to a span that suits the bucket. */
export function parseRange(query: Record<string, string | undefined>, now: number): Range {
  const parsed = AnalyticsQuery.safeParse(query)
  if (!parsed.success)
    throw new AppError('BAD_REQUEST', 'invalid analytics query', { errors: fieldErrors(parsed.error) })
  const { bucket } = parsed.data
  const to = parsed.data.to ? Date.parse(parsed.data.to) : now
  const from = parsed.data.from ? Date.parse(parsed.data.from) : to - DEFAULT_SPAN_MS[bucket]
  if (from >= to)
    throw new AppError('BAD_REQUEST', 'from must be before to', {
      errors: [{ field: 'from', message: 'must be before to' }],
    })
  if (to - from > MAX_RANGE_MS[bucket]) {
    const days = MAX_RANGE_MS[bucket] / 86_400_000
    throw new AppError('BAD_REQUEST', `a ${bucket} bucket covers at most ${days} days`, {
      errors: [{ field: 'from', message: `range longer than ${days} days for bucket=${bucket}` }],
    })
  }
  return { from, to, bucket }
}
