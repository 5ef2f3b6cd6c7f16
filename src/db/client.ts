/** @module db/client — the one postgres.js pool and its drizzle handle. */
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema/index.js'

export type Db = PostgresJsDatabase<typeof schema>
/** A transaction handle; services take `Db | Tx` so callers can thread a transaction through. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type Sql = postgres.Sql

export function createDb(url: string, opts: { max?: number } = {}): { db: Db; sql: Sql } {
  const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => {} })
  return { db: drizzle({ client: sql, schema }), sql }
}
