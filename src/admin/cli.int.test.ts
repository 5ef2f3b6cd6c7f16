import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from '../../test/auth-client.js'
import { createUser, loggedIn, reloadUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { auditEvents } from '../db/schema/index.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
let t: TestApp

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

/** `npm run admin -- …` as an operator runs it, against the test databases. */
async function admin(...args: string[]) {
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: t.deps.config.DATABASE_URL,
    REDIS_URL: t.deps.config.REDIS_URL,
    REDIS_PREFIX: t.deps.config.REDIS_PREFIX,
  }
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
      cwd: ROOT,
      env,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('npm run admin', () => {
  it('promotes an account by email (any case) and audits it', async () => {
    const user = await createUser(t.deps)
    const out = await admin('promote', user.email.toUpperCase())
    expect(out).toMatchObject({ code: 0, stdout: `${user.username} <${user.email}> is now an admin\n` })
    expect((await reloadUser(t.deps, user.id)).role).toBe('admin')
    const rows = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, user.id), eq(auditEvents.type, 'admin.user.promoted')))
    expect(rows[0]!.data).toEqual({ via: 'cli' })
    expect((await admin('promote', user.email)).stdout).toContain('was already admin')
  })

  it('demotes an admin and ends their sessions at once', async () => {
    const a = await loggedIn(t.deps, { role: 'admin' })
    expect((await call(t, 'GET', '/api/v1/me', { token: a.accessToken })).status).toBe(200)
    const out = await admin('demote', a.user.email)
    expect(out.code).toBe(0)
    expect((await reloadUser(t.deps, a.user.id)).role).toBe('user')
    expect((await call(t, 'GET', '/api/v1/me', { token: a.accessToken })).status).toBe(401)
  })

  it('fails with a message for an unknown email, and with usage for bad arguments', async () => {
    expect(await admin('promote', 'nobody@example.test')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no account'),
    })
    expect(await admin('delete', 'x@example.test')).toMatchObject({
      code: 64,
      stderr: expect.stringContaining('usage'),
    })
    expect((await admin()).code).toBe(64)
  })
})
