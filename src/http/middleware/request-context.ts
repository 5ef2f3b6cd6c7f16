/** @module http/middleware/request-context — request id, client address and a per-request child logger. */
import { createMiddleware } from 'hono/factory'
import type { Logger } from '../../log.js'
import { type ClientAddress, peerAddress } from '../client-address.js'
import type { AppEnv } from '../env.js'

export const requestContext = (log: Logger, clientAddress: ClientAddress) =>
  createMiddleware<AppEnv>(async (c, next) => {
    // Every later use (limits, audit, sessions, viewers, socket caps) reads this one value.
    c.set('clientIp', clientAddress(peerAddress(c), c.req.header('x-forwarded-for')))
    const child = log.child({ requestId: c.get('requestId') })
    c.set('log', child)
    const started = performance.now()
    await next()
    // Path only: query strings carry tickets and hook secrets.
    child.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    )
  })
