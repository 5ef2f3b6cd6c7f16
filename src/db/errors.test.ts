import { describe, expect, it } from 'vitest'
import { isForeignKeyViolation, uniqueViolation } from './errors.js'

// The shapes are the drivers': drizzle's DrizzleQueryError keeps postgres.js's error as `cause`.
const pg = (code: string, constraint_name?: string) =>
  Object.assign(new Error('pg'), { code, constraint_name })
const wrapped = (cause: Error) => Object.assign(new Error('Failed query: insert …'), { cause })

describe('db/errors', () => {
  it('reads the SQLSTATE from a drizzle-wrapped error and from a bare one', () => {
    expect(isForeignKeyViolation(wrapped(pg('23503')))).toBe(true)
    expect(isForeignKeyViolation(pg('23503'))).toBe(true)
    expect(uniqueViolation(wrapped(pg('23505', 'users_email_unique')))).toBe('users_email_unique')
    expect(uniqueViolation(pg('23505', 'users_email_unique'))).toBe('users_email_unique')
  })

  it('says no for other errors and for things that are not errors', () => {
    expect(isForeignKeyViolation(wrapped(pg('23505')))).toBe(false)
    expect(isForeignKeyViolation(wrapped(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })))).toBe(
      false,
    )
    expect(uniqueViolation(wrapped(pg('23503')))).toBeNull()
    for (const v of [null, undefined, 'boom', 42, new Error('plain')]) {
      expect(isForeignKeyViolation(v)).toBe(false)
      expect(uniqueViolation(v)).toBeNull()
    }
  })
})
