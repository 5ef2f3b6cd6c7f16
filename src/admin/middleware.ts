/** @module admin/middleware — admin endpoints trust the database, not the token's role claim. */
import { eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { ForbiddenError } from '../http/errors.js'

/**
 * The token says who the caller was when it was issued (≤ ACCESS_TOKEN_TTL_S ago). For admin
 * powers we also ask Postgres, so a demotion or a disable takes effect on the very next request.
 */
export const requireAdminNow = (deps: Deps) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    if (c.var.user.role !== 'admin') throw new ForbiddenError('admins only')
    const [row] = await deps.db
      .select({ role: users.role, disabledAt: users.disabledAt })
      .from(users)
      .where(eq(users.id, c.var.user.id))
    if (row?.role !== 'admin' || row.disabledAt) throw new ForbiddenError('admins only')
    await next()
  })
