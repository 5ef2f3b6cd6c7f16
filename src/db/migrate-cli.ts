/** Applies the committed migrations to DATABASE_URL: `npm run migrate`, and the Docker `migrate` service. */
import { errText } from '../log.js'
import { runMigrations } from './migrate.js'

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:54329/live'
try {
  await runMigrations(url)
  console.log('migrations applied')
} catch (err) {
  console.error(`migration failed: ${errText(err)}`)
  process.exit(1)
}
