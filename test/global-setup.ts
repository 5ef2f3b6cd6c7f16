/**
 * @module global-setup — vitest globalSetup: a throwaway, migrated Postgres and Redis for the run,
 * and the browser bundle built from the current source, so a page test never runs yesterday's
 * scripts (or none, on a fresh clone) whatever order the files run in.
 */
import type { TestProject } from 'vitest/node'
import { buildWeb } from '../scripts/build-web.js'
import { startEphemeralServices } from '../scripts/lib/ephemeral.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [services] = await Promise.all([startEphemeralServices('live-test'), buildWeb()])
  project.provide('databaseUrl', services.databaseUrl)
  project.provide('redisUrl', services.redisUrl)
  return services.stop
}
