/**
 * @module rtmp-hooks/routes — on_publish / on_update / on_publish_done, as nginx-rtmp calls them.
 * Answers are bare statuses (nginx reads only the status and Location): 302 + Location renames
 * the stream to the channel, 2xx allows, anything else refuses or drops. Hook bodies are never
 * logged: their `name` is the stream key.
 */

import type { Context } from 'hono'
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import { type HookEnv, hookAuth } from '../http/middleware/hook-auth.js'
import { DELIBERATE } from '../live/entry.js'
import { errText } from '../log.js'
import type { HookName } from '../metrics/metrics.js'
import { admitPublisher } from './admit.js'
import { DoneForm, firstOccurrence, PublishForm, parseHookForm, UpdateForm } from './form.js'

const MAX_BODY = 8 * 1024

async function readBody(c: Context<HookEnv>): Promise<string | null> {
  const len = Number(c.req.header('content-length') ?? 0)
  if (len > MAX_BODY) return null
  const text = await c.req.text()
  return text.length > MAX_BODY ? null : text
}

/**
 * A dependency failure (Redis or Postgres down) answers without leaking details: on_publish fails
 * closed (503: nginx refuses the publisher), on_update and on_publish_done fail OPEN (200). nginx
 * drops a live publisher on any non-2xx update answer, and an outage of ours must never cut a
 * broadcast (DESIGN.md "the ingest is the truth"); a publish_done we could not record is found
 * later by the /stat reconciler.
 */
async function guarded(
  deps: Pick<Deps, 'metrics'>,
  c: Context<HookEnv>,
  hook: HookName,
  fn: () => Promise<Response>,
  onFailure: 'refuse' | 'keep',
): Promise<Response> {
  try {
    return await fn()
  } catch (err) {
    c.var.log.error({ hook, node: c.var.node, err: errText(err) }, 'hook failed')
    deps.metrics.hook(hook, onFailure === 'refuse' ? 'failed_closed' : 'failed_open')
    deps.metrics.storeError('hooks', err)
    return onFailure === 'refuse' ? c.text('unavailable', 503) : c.text('ok (degraded)', 200)
  }
}

const HOOK_OF_PATH: Record<string, HookName> = {
  '/publish': 'publish',
  '/update': 'update',
  '/publish-done': 'publish_done',
}

export const rtmpHookRoutes = (deps: Deps) => {
  const m = deps.metrics
  const invalid = (c: Context<HookEnv>, hook: HookName) => {
    m.hook(hook, 'invalid')
    return c.text('bad request', 400)
  }
  return new Hono<HookEnv>()
    .use(
      hookAuth({
        secret: deps.config.HOOK_SECRET,
        allowedIps: deps.config.HOOK_ALLOWED_IPS,
        onRefused: (path) => {
          const hook = HOOK_OF_PATH[path.slice(path.lastIndexOf('/'))]
          if (hook) m.hook(hook, 'unauthorized')
        },
      }),
    )
    .post('/publish', (c) =>
      guarded(
        deps,
        c,
        'publish',
        async () => {
          const body = await readBody(c)
          const form = body === null ? null : parseHookForm(PublishForm, body)
          if (!form) return invalid(c, 'publish')
          const admission = await admitPublisher(deps, c.var.node, form.clientid, form.name, {
            replace: true,
          })
          if (!admission.ok) {
            c.var.log.info(
              { node: c.var.node, clientId: form.clientid, reason: admission.reason },
              'publish refused',
            )
            if (admission.status === 409) m.hook('publish', 'busy')
            else m.hook('publish', 'refused', admission.reason)
            return c.text(admission.reason, admission.status)
          }
          m.hook('publish', 'accepted')
          // A relative Location renames the stream; HLS and playback only ever see the channel name.
          c.header('Location', admission.channel)
          return c.body(null, 302)
        },
        'refuse',
      ),
    )
    .post('/update', (c) =>
      guarded(
        deps,
        c,
        'update',
        async () => {
          const body = await readBody(c)
          // nginx also sends on_update for players of the ingest app, and the static push to the
          // internal hls app is one (call=update_play). Refusing it would cut HLS off after the
          // first update interval, so only publishers are judged here.
          if (body !== null && firstOccurrence(body).call !== 'update_publish') {
            m.hook('update', 'ignored')
            return c.text('ok', 200)
          }
          const form = body === null ? null : parseHookForm(UpdateForm, body)
          if (!form) return invalid(c, 'update')
          const node = c.var.node
          if (await deps.live.update(node, form.clientid)) {
            m.hook('update', 'accepted')
            return c.text('ok', 200)
          }
          // Ended on purpose (kicked, revoked, limit, idle): drop it. Otherwise the registry lost
          // track of a healthy stream; re-verify the key nginx still reports and adopt it — back into
          // its open session when we know of no end (Redis restarted empty), else into a new one.
          const ended = await deps.live.endedReason(node, form.clientid)
          if (ended && DELIBERATE.has(ended)) {
            m.hook('update', 'refused', ended)
            return c.text('forbidden', 403)
          }
          const admission = await admitPublisher(deps, node, form.clientid, form.name, {
            replace: false,
            adoptOpenSession: ended === null,
          })
          c.var.log.info(
            { node, clientId: form.clientid, adopted: admission.ok },
            'update from an unknown publisher',
          )
          if (admission.ok) m.hook('update', 'adopted')
          else m.hook('update', 'refused', admission.reason)
          return admission.ok ? c.text('ok', 200) : c.text('forbidden', 403)
        },
        'keep',
      ),
    )
    .post('/publish-done', (c) =>
      guarded(
        deps,
        c,
        'publish_done',
        async () => {
          const body = await readBody(c)
          const form = body === null ? null : parseHookForm(DoneForm, body)
          if (!form) return invalid(c, 'publish_done')
          await deps.live.publishDone(c.var.node, form.clientid)
          m.hook('publish_done', 'accepted')
          return c.text('ok', 200)
        },
        'keep',
      ),
    )
}
