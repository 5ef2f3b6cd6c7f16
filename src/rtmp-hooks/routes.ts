/**
 * @module rtmp-hooks/routes — on_publish / on_update / on_publish_done, as nginx-rtmp calls them.
 * Answers are bare statuses (nginx reads only the status and Location): 302 + Location renames
 * the stream to the channel, 2xx allows, anything else refuses or drops. Hook bodies are never
 * logged: their `name` is the stream key.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import type { Deps } from '../deps.js'
import { type HookEnv, hookAuth } from '../http/middleware/hook-auth.js'
import { touchStreamKey, verifyStreamKey } from '../stream-keys/service.js'
import { DoneForm, PublishForm, parseHookForm, UpdateForm } from './form.js'

const MAX_BODY = 8 * 1024

async function readBody(c: Context<HookEnv>): Promise<string | null> {
  const len = Number(c.req.header('content-length') ?? 0)
  if (len > MAX_BODY) return null
  const text = await c.req.text()
  return text.length > MAX_BODY ? null : text
}

/** Any dependency failure refuses (fail closed for publish) with 503, without leaking details. */
async function guarded(c: Context<HookEnv>, hook: string, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn()
  } catch (err) {
    c.var.log.error({ hook, node: c.var.node, err: (err as Error).message }, 'hook failed')
    return c.text('unavailable', 503)
  }
}

export const rtmpHookRoutes = (deps: Deps) =>
  new Hono<HookEnv>()
    .use(hookAuth({ secret: deps.config.HOOK_SECRET, allowedIps: deps.config.HOOK_ALLOWED_IPS }))
    .post('/publish', (c) =>
      guarded(c, 'publish', async () => {
        const body = await readBody(c)
        const form = body === null ? null : parseHookForm(PublishForm, body)
        if (!form) return c.text('bad request', 400)
        const node = c.var.node
        const verdict = await verifyStreamKey(deps, form.name)
        if (!verdict.ok) {
          c.var.log.info({ node, clientId: form.clientid, reason: verdict.reason }, 'publish refused')
          return c.text('forbidden', 403)
        }
        if (await deps.live.isKicked(verdict.keyId)) {
          c.var.log.info({ node, channel: verdict.channel }, 'publish refused: key kicked, cooling down')
          return c.text('forbidden', 403)
        }
        const result = await deps.live.publish({
          channel: verdict.channel,
          channelId: verdict.channelId,
          userId: verdict.userId,
          keyId: verdict.keyId,
          node,
          clientId: form.clientid,
          maxSessionS: deps.config.PLAN_LIMITS[verdict.plan].maxSessionS,
        })
        if (result.outcome === 'busy') {
          c.var.log.info({ node, channel: verdict.channel }, 'publish refused: channel already live')
          return c.text('channel already live', 409)
        }
        await touchStreamKey(deps, verdict.keyId)
        // A relative Location renames the stream; HLS and playback only ever see the channel name.
        c.header('Location', verdict.channel)
        return c.body(null, 302)
      }),
    )
    .post('/update', (c) =>
      guarded(c, 'update', async () => {
        const body = await readBody(c)
        const form = body === null ? null : parseHookForm(UpdateForm, body)
        if (!form) return c.text('bad request', 400)
        const entry = await deps.live.update(c.var.node, form.clientid)
        // Not (or no longer) a live session — kicked, revoked, ended: drop the publisher.
        if (!entry) return c.text('forbidden', 403)
        return c.text('ok', 200)
      }),
    )
    .post('/publish-done', (c) =>
      guarded(c, 'publish-done', async () => {
        const body = await readBody(c)
        const form = body === null ? null : parseHookForm(DoneForm, body)
        if (!form) return c.text('bad request', 400)
        await deps.live.publishDone(c.var.node, form.clientid)
        return c.text('ok', 200)
      }),
    )
