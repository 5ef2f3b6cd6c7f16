/** @module app — builds the Hono app from deps: global middleware, error mapping, feature routers. No I/O here. */

import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { authRoutes, meRoutes } from './accounts/routes.js'
import { adminRoutes } from './admin/routes.js'
import { analyticsRoutes } from './analytics/routes.js'
import { apiTokenRoutes } from './api-tokens/routes.js'
import { channelRoutes } from './channels/routes.js'
import { channelChatRoutes, chatRoutes } from './chat/routes.js'
import { chatSocketRoutes } from './chat/ws-route.js'
import type { Deps } from './deps.js'
import { followRoutes } from './follows/routes.js'
import { healthRoutes } from './health/routes.js'
import { createClientAddress } from './http/client-address.js'
import type { AppEnv } from './http/env.js'
import { AppError, handleError, problem, problemResponse } from './http/errors.js'
import { requestContext } from './http/middleware/request-context.js'
import { securityHeaders } from './http/middleware/security-headers.js'
import { openApiDocument } from './http/openapi.js'
import { httpMetrics } from './metrics/http.js'
import { metricsRoutes } from './metrics/routes.js'
import { identityRoutes, oidcAuthRoutes } from './oidc/routes.js'
import { rtmpHookRoutes } from './rtmp-hooks/routes.js'
import { streamKeyRoutes } from './stream-keys/routes.js'
import { channelVideoRoutes, videoRoutes } from './videos/routes.js'
import { channelVisibilityRoutes, playbackAuthRoutes } from './visibility/routes.js'
import { webNotFound, webRoutes } from './web/routes.js'
import { webhookRoutes } from './webhooks/routes.js'

export type AppOptions = { isShuttingDown?: () => boolean }

export function createApp(deps: Deps, opts: AppOptions = {}) {
  const app = new Hono<AppEnv>()
  app.use(requestId({ limitLength: 64 }))
  app.use(requestContext(deps.log, createClientAddress(deps.config.TRUSTED_PROXIES)))
  app.use(httpMetrics(deps.metrics))
  app.use(
    securityHeaders({
      https: deps.config.secureCookies,
      publicUrl: deps.config.PUBLIC_URL,
      allowedOrigins: deps.config.ALLOWED_ORIGINS,
    }),
  )
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', 'request body is larger than 64 KiB')
      },
    }),
  )
  app.onError((err, c) => handleError(err, c, deps.log, (e) => deps.metrics.storeError('http', e)))
  const pageNotFound = webNotFound(deps)
  app.notFound(
    (c) =>
      pageNotFound(c) ??
      problemResponse(
        c,
        problem('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`, c.get('requestId')),
      ),
  )

  app.route('/', healthRoutes(deps, opts.isShuttingDown ?? (() => false)))
  // The app's own port only: the public nginx server answers 404 for it.
  app.route('/', metricsRoutes(deps))
  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300')
    return c.json(deps.tokens.jwks())
  })
  app.route('/hooks/rtmp', rtmpHookRoutes(deps))
  app.route('/api/v1/auth', authRoutes(deps))
  app.route('/api/v1/auth', oidcAuthRoutes(deps))
  app.route('/api/v1/me', meRoutes(deps))
  app.route('/api/v1/me', identityRoutes(deps))
  app.route('/api/v1/admin', adminRoutes(deps))
  app.route('/api/v1/stream-keys', streamKeyRoutes(deps))
  app.route('/api/v1/tokens', apiTokenRoutes(deps))
  app.route('/api/v1/channels', channelRoutes(deps))
  app.route('/api/v1/channels', channelChatRoutes(deps))
  app.route('/api/v1/channels', followRoutes(deps))
  app.route('/api/v1/channels', analyticsRoutes(deps))
  app.route('/api/v1/channels', channelVisibilityRoutes(deps))
  // nginx's auth_request target (nginx/README.md "Playback checks"); the public origin answers 404.
  app.route('/internal', playbackAuthRoutes(deps))
  app.route('/api/v1/chat', chatRoutes(deps))
  app.route('/api/v1/webhooks', webhookRoutes(deps))
  app.route('/api/v1/channels', channelVideoRoutes(deps))
  app.route('/api/v1/videos', videoRoutes(deps))
  app.route('/ws', chatSocketRoutes(deps))
  app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument(deps.config.PUBLIC_URL)))
  // Pages and their bundle (/, /c/:name, /signup, …, /assets/*): last, so no API path is shadowed.
  app.route('/', webRoutes(deps))
  return app
}

export type App = ReturnType<typeof createApp>
