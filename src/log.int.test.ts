/**
 * What a failed query leaves in the log, from a real Postgres through drizzle: the database's
 * reason and the statement, never the bound values (drizzle's message and stack repeat them after
 * `params:`, postgres.js's error keeps them as `parameters`).
 */
import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testConfig } from '../test/harness.js'
import { createDb, type Db } from './db/client.js'
import { createLogger, errText } from './log.js'

let db: Db
let close: () => Promise<void>
beforeAll(() => {
  const c = createDb(testConfig().DATABASE_URL)
  db = c.db
  close = () => c.sql.end()
})
afterAll(async () => {
  await close()
})

const SENTINEL = 'lvp_secret_value_that_must_not_be_logged'

async function failingQuery(): Promise<unknown> {
  try {
    await db.execute(sql`select ${SENTINEL}::int`)
  } catch (err) {
    return err
  }
  throw new Error('the query was expected to fail')
}

function captured() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  return { log: createLogger({ level: 'info', destination }), lines }
}

describe('logging a failed query', () => {
  it('keeps the reason and the statement and drops the values, as an error object or as a string', async () => {
    const err = await failingQuery()
    expect(String((err as Error).message)).toContain(SENTINEL) // what drizzle itself puts there
    const { log, lines } = captured()
    log.error({ err }, 'as an object')
    log.warn({ err: (err as Error).message }, 'as a message')
    log.warn({ err: errText(err) }, 'as errText')
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line).not.toContain(SENTINEL)
    const [obj, , text] = lines.map((l) => JSON.parse(l) as { err: unknown })
    expect(obj!.err).toMatchObject({
      message: expect.stringContaining('Failed query: select $1::int'),
      cause: { code: '22P02', message: expect.stringContaining('invalid input syntax for type integer') },
    })
    expect(text!.err).toMatch(
      /^invalid input syntax for type integer.*\(22P02\); Failed query: select \$1::int/,
    )
  })

  it('leaves other errors as they are', () => {
    expect(errText(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    )
    expect(errText('plain')).toBe('plain')
  })
})
