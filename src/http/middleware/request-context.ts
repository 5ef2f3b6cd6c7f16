/** @module http/middleware/request-context — request id, client IP and a per-request child logger. */
import { getConnInfo } from '@hono/node-server/conninfo'
import { createMiddleware } from 'hono/factory'
import type { Logger } from '../../log.js'
import type { AppEnv } from '../env.js'

/**
 * The public origin is nginx, which sets X-Real-IP; trust it only when the TCP peer is a
 * loopback proxy, so a client talking to the app port directly cannot spoof its address.
 */
function clientIp(peer: string | undefined, realIp: string | undefined, trustProxy: boolean): string {
  const fromLoopback = peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1'
  if (trustProxy && fromLoopback && realIp) return realIp
  return peer ?? 'unknown'
}

export const requestContext = (log: Logger, trustProxy: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    let peer: string | undefined
    try {
      peer = getConnInfo(c).remote.address
    } catch {
      // app.request() in tests has no socket
      peer = undefined
    }
    c.set('clientIp', clientIp(peer, c.req.header('x-real-ip'), trustProxy))
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
