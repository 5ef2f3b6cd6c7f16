/** @module webhooks/openapi — the webhook endpoints' entries in the OpenAPI document (http/openapi.ts). */
import type { OpenApiOps } from '../http/openapi.js'
import { CreateWebhookBody, PatchWebhookBody } from './schemas.js'

const SIGNING =
  'Deliveries are signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, ' +
  '`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`); see docs/webhooks.md. ' +
  'With API tokens, needs the scope `webhooks:write`.'

export const webhookOpenApiOps: OpenApiOps = {
  '/api/v1/webhooks': {
    post: {
      tag: 'webhooks',
      summary:
        'Create a webhook endpoint `{url, events}`; the only response that contains its `secret` (whsec_…)',
      description: `The URL must be http(s) without credentials and resolve to public addresses only (else 422 URL_NOT_ALLOWED). ${SIGNING}`,
      auth: true,
      body: CreateWebhookBody,
      ok: 201,
    },
    get: {
      tag: 'webhooks',
      summary: 'List your webhook endpoints (never their secrets)',
      auth: true,
      ok: 200,
    },
  },
  '/api/v1/webhooks/{id}': {
    get: { tag: 'webhooks', summary: 'One webhook endpoint', auth: true, params: ['id'], ok: 200 },
    patch: {
      tag: 'webhooks',
      summary: 'Change the URL, the events, or enable/disable (`enabled`) an endpoint',
      description: 'Disabling fails its pending deliveries; enabling clears a disable for failing.',
      auth: true,
      params: ['id'],
      body: PatchWebhookBody,
      ok: 200,
    },
    delete: {
      tag: 'webhooks',
      summary: 'Delete an endpoint and its delivery log',
      auth: true,
      params: ['id'],
      ok: 204,
    },
  },
  '/api/v1/webhooks/{id}/rotate-secret': {
    post: {
      tag: 'webhooks',
      summary: 'A new secret `{id, secret}`, shown once; the previous one also signs for 24 h',
      auth: true,
      params: ['id'],
      ok: 200,
    },
  },
  '/api/v1/webhooks/{id}/test': {
    post: {
      tag: 'webhooks',
      summary: 'Queue a `webhook.test` delivery to this endpoint; returns the delivery (see /deliveries)',
      auth: true,
      params: ['id'],
      ok: 202,
    },
  },
  '/api/v1/webhooks/{id}/deliveries': {
    get: {
      tag: 'webhooks',
      summary: 'Delivery log, newest first: each delivery with every attempt (time, status, duration, error)',
      auth: true,
      params: ['id'],
      query: { limit: '1–100 (50)', before: 'nextCursor of the previous page' },
      ok: 200,
    },
  },
}
