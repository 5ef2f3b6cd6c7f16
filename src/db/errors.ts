/**
 * @module db/errors — which Postgres error a failed query was. drizzle wraps the driver's error
 * (its `cause` is postgres.js's PostgresError, which carries the SQLSTATE `code`), while a raw
 * `sql` call throws it bare: both are read here, once, so no caller tests `err.code` on a wrapper
 * that never has one (a foreign-key check that never matched made an orphan event a poison entry,
 * retried forever).
 */

type PgFields = { code?: string; constraint_name?: string }

function pgError(err: unknown): PgFields | null {
  if (typeof err !== 'object' || err === null) return null
  const cause = (err as { cause?: unknown }).cause
  if (typeof cause === 'object' && cause !== null && typeof (cause as PgFields).code === 'string')
    return cause as PgFields
  return typeof (err as PgFields).code === 'string' ? (err as PgFields) : null
}

/** A row refers to one that is gone (a channel, user or key deleted meanwhile): SQLSTATE 23503. */
export function isForeignKeyViolation(err: unknown): boolean {
  return pgError(err)?.code === '23503'
}

/** The constraint a unique violation (23505) hit; null for any other error. */
export function uniqueViolation(err: unknown): string | null {
  const e = pgError(err)
  return e?.code === '23505' ? (e.constraint_name ?? '') : null
}
