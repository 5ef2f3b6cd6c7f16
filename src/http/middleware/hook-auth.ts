/**
 * @module http/middleware/hook-auth — only our nginx may call the RTMP hooks: a shared secret
 * in the hook URL (nginx-rtmp cannot send headers) and a source-address allowlist.
 */
import { createMiddleware } from 'hono/factory'
import { createIpAllowlist } from '../../lib/ip-allowlist.js'
import { compareSecret } from '../../lib/secrets.js'
import { peerAddress } from '../client-address.js'
import type { AppEnv } from '../env.js'

export type HookEnv = AppEnv & { Variables: { node: string } }

const NODE_RE = /^[a-z0-9-]{1,32}$/

export const hookAuth = (opts: { secret: string; allowedIps: string[] }) => {
  const allowed = createIpAllowlist(opts.allowedIps)
  return createMiddleware<HookEnv>(async (c, next) => {
    // The TCP peer itself, never a forwarded address: hooks come straight from nginx. A request
    // whose peer cannot be determined fails the allowlist (fail closed) like a stranger's would.
    const peer = peerAddress(c)
    const node = c.req.query('node') ?? ''
    const secretOk = compareSecret(c.req.query('secret') ?? '', opts.secret)
    if (!secretOk || !NODE_RE.test(node) || !allowed(peer)) {
      c.var.log.warn(
        { peer: peer ?? '(unknown)', node: NODE_RE.test(node) ? node : '(invalid)' },
        'hook call refused',
      )
      return c.text('forbidden', 403)
    }
    c.set('node', node)
    await next()
  })
}
