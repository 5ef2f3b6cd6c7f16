/** @module global-setup — vitest globalSetup: a throwaway, migrated Postgres and Redis for the run. */
import type { TestProject } from 'vitest/node'
import { startEphemeralServices } from '../scripts/lib/ephemeral.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await startEphemeralServices('live-test')
  project.provide('databaseUrl', services.databaseUrl)
  project.provide('redisUrl', services.redisUrl)
  return services.stop
}
