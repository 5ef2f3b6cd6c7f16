import { DrizzleQueryError } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { storeOf } from './store-error.js'

const named = (name: string, message = 'x', extra: object = {}) =>
  Object.assign(Object.defineProperty(new Error(message), 'name', { value: name }), extra)

describe('storeOf', () => {
  it('recognises Postgres failures, also wrapped by drizzle', () => {
    expect(storeOf(named('PostgresError', 'relation "x" does not exist'))).toBe('postgres')
    expect(storeOf(new DrizzleQueryError('select 1', [], new Error('connect ECONNREFUSED')))).toBe('postgres')
    expect(storeOf(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' }))).toBe(
      'postgres',
    )
    expect(storeOf(new Error('outer', { cause: named('PostgresError') }))).toBe('postgres')
  })

  it('recognises Redis failures: error classes and commands given up on', () => {
    expect(storeOf(named('ReplyError', 'NOSCRIPT No matching script'))).toBe('redis')
    expect(storeOf(named('MaxRetriesPerRequestError'))).toBe('redis')
    expect(storeOf(new Error('Command timed out'))).toBe('redis')
    expect(storeOf(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('redis')
  })

  it('leaves everything else alone', () => {
    expect(storeOf(new Error('ingest n1 unreachable'))).toBeNull()
    expect(storeOf(new TypeError('x is undefined'))).toBeNull()
    // A bare refused connection could be anything (fetch to an ingest node, SMTP): not counted.
    expect(storeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeNull()
    expect(storeOf('a string')).toBeNull()
    expect(storeOf(undefined)).toBeNull()
  })
})
