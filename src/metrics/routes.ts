/**
 * @module metrics/routes — `GET /metrics`, Prometheus text exposition, on the app's own port only.
 *
 * Who may scrape (the hook allowlist's style: judge the TCP peer, never a header a client wrote):
 * - a direct peer on loopback (127.0.0.0/8, ::1) whose request carries no forwarding header — a
 *   Prometheus (or agent) on the same host. Our nginx always adds X-Forwarded-For, so a request
 *   relayed from the public origin is never "direct", even though nginx's own address is loopback;
 *   the public server also answers 404 for /metrics before it gets here (nginx.conf.template);
 * - anyone else only with `Authorization: Bearer <METRICS_TOKEN>`, when METRICS_TOKEN is set
 *   (a Prometheus in another container or pod). Without it they get 403; a wrong token 401.
 */
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import { peerAddress } from '../http/client-address.js'
import type { AppEnv } from '../http/env.js'
import { problem, problemResponse } from '../http/errors.js'
import { createIpAllowlist } from '../lib/ip-allowlist.js'
import { compareSecret } from '../lib/secrets.js'

const LOOPBACK = createIpAllowlist(['127.0.0.0/8', '::1'])
const FORWARDING_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded', 'x-forwarded-host']

export const metricsRoutes = (deps: Pick<Deps, 'config' | 'metrics'>) =>
  new Hono<AppEnv>().get('/metrics', async (c) => {
    const token = deps.config.METRICS_TOKEN
    const direct = LOOPBACK(peerAddress(c)) && FORWARDING_HEADERS.every((h) => !c.req.header(h))
    if (!direct) {
      const auth = c.req.header('authorization') ?? ''
      const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : ''
      if (!token) {
        const detail = 'metrics are served to loopback only (set METRICS_TOKEN to allow other scrapers)'
        return problemResponse(c, problem('FORBIDDEN', detail, c.get('requestId')))
      }
      // Hashes both sides first: no length or prefix leaks through the comparison's timing.
      if (!compareSecret(given, token))
        return problemResponse(
          c,
          problem('UNAUTHORIZED', 'a valid metrics token is required', c.get('requestId')),
          {
            'WWW-Authenticate': 'Bearer realm="metrics"',
          },
        )
    }
    deps.metrics.enableDefaults()
    await deps.metrics.refresh()
    c.header('Cache-Control', 'no-store')
    return c.body(await deps.metrics.registry.metrics(), 200, {
      'Content-Type': deps.metrics.registry.contentType,
    })
  })
