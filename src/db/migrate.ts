/** @module db/migrate — applies the committed SQL migrations in ./drizzle on a dedicated connection. */
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url))

export async function runMigrations(databaseUrl: string): Promise<void> {
  // max: 1 as drizzle's postgres-js guide asks: migrations run in order on one connection.
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await migrate(drizzle({ client: sql }), { migrationsFolder: MIGRATIONS })
  } finally {
    await sql.end({ timeout: 5 })
  }
}
