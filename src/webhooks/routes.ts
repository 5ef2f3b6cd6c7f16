/**
 * @module webhooks/routes — `/api/v1/webhooks` (Bearer, confirmed email). Every route here writes
 * or reads webhook configuration: with API tokens, each needs the scope `webhooks:write`
 * (WEBHOOKS_SCOPE; attach it with the token middleware's scope check when that lands).
 */

import { Hono } from 'hono'
import type { Scope } from '../api-tokens/scopes.js'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { requireUser, requireVerified } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { CreateWebhookBody, DeliveriesQuery, PatchWebhookBody, WebhookIdParam } from './schemas.js'
import { createSecretBox, secretKey } from './secret.js'
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  rotateWebhookSecret,
  testWebhook,
  toPublicWebhook,
  updateWebhook,
  type WebhookDeps,
} from './service.js'
import { type Resolver, systemResolver } from './ssrf.js'

/** The API-token scope every route of this router requires (issue 13). */
export const WEBHOOKS_SCOPE: Scope = 'webhooks:write'

export const webhookRoutes = (deps: Deps, opts: { resolve?: Resolver } = {}) => {
  const d: WebhookDeps = {
    db: deps.db,
    config: deps.config,
    box: createSecretBox(secretKey(deps.config)),
    resolve: opts.resolve ?? systemResolver,
    now: deps.now,
  }
  return new Hono<AuthEnv>()
    .use(requireUser(deps, WEBHOOKS_SCOPE), requireVerified(deps))
    .post('/', validate('json', CreateWebhookBody), async (c) => {
      const { endpoint, secret } = await createWebhook(d, c.var.user.id, c.req.valid('json'))
      c.header('Cache-Control', 'no-store')
      return c.json({ ...toPublicWebhook(endpoint), secret }, 201)
    })
    .get('/', async (c) => c.json((await listWebhooks(d.db, c.var.user.id)).map(toPublicWebhook)))
    .get('/:id', validate('param', WebhookIdParam), async (c) =>
      c.json(toPublicWebhook(await getWebhook(d.db, c.var.user.id, c.req.valid('param').id))),
    )
    .patch('/:id', validate('param', WebhookIdParam), validate('json', PatchWebhookBody), async (c) =>
      c.json(
        toPublicWebhook(await updateWebhook(d, c.var.user.id, c.req.valid('param').id, c.req.valid('json'))),
      ),
    )
    .delete('/:id', validate('param', WebhookIdParam), async (c) => {
      await deleteWebhook(d.db, c.var.user.id, c.req.valid('param').id)
      return c.body(null, 204)
    })
    .post('/:id/rotate-secret', validate('param', WebhookIdParam), async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(await rotateWebhookSecret(d, c.var.user.id, c.req.valid('param').id))
    })
    .post('/:id/test', validate('param', WebhookIdParam), async (c) =>
      c.json(await testWebhook(d, c.var.user.id, c.req.valid('param').id), 202),
    )
    .get(
      '/:id/deliveries',
      validate('param', WebhookIdParam),
      validate('query', DeliveriesQuery),
      async (c) =>
        c.json(await listDeliveries(d.db, c.var.user.id, c.req.valid('param').id, c.req.valid('query'))),
    )
}
