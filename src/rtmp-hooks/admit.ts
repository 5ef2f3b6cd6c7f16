/**
 * @module rtmp-hooks/admit — the publish decision, shared by on_publish and by on_update for a
 * publisher the registry does not know (it lost track: an app outage longer than the session
 * deadline, a Redis restart). nginx reports the original key in every hook, so the stream can be
 * re-verified and adopted instead of dropped.
 */
import type { Deps } from '../deps.js'
import { findOpenSession } from '../live/history.js'
import type { PublishResult } from '../live/registry.js'
import { verifyStreamKey } from '../stream-keys/service.js'

export type Admission =
  | { ok: true; channel: string; result: Extract<PublishResult, { startedAt: number }> }
  | { ok: false; status: 403 | 409; reason: string }

/**
 * `replace`: only on_publish may replace the key's own live connection; adoption from on_update
 * must never displace a live publisher. On the critical path of on_publish: one Postgres read (the
 * key) and one Redis script (cool-down + claim); history and `lastUsedAt` follow from the event.
 */
export async function admitPublisher(
  deps: Deps,
  node: string,
  clientId: string,
  key: string,
  opts: { replace: boolean; adoptOpenSession?: boolean },
): Promise<Admission> {
  const verdict = await verifyStreamKey(deps, key)
  if (!verdict.ok) return { ok: false, status: 403, reason: verdict.reason }
  // Adoption after a registry loss (Redis restarted empty): one broadcast stays one session.
  const open = opts.adoptOpenSession
    ? await findOpenSession(deps.db, verdict.channelId, node, clientId)
    : null
  const claim = () =>
    deps.live.publish({
      channel: verdict.channel,
      channelId: verdict.channelId,
      userId: verdict.userId,
      keyId: verdict.keyId,
      node,
      clientId,
      maxSessionS: deps.config.PLAN_LIMITS[verdict.plan].maxSessionS,
      ...(open ? { adopt: { sessionId: open.id, startedAt: open.startedAt.getTime() } } : {}),
    })
  let result = await claim()
  if (
    result.outcome === 'busy' &&
    opts.replace &&
    (await replacesOwnConnection(deps, verdict.channel, verdict.keyId))
  )
    result = await claim()
  if (result.outcome === 'kicked') return { ok: false, status: 403, reason: 'kicked' }
  if (result.outcome === 'busy') return { ok: false, status: 409, reason: 'channel_live' }
  return { ok: true, channel: verdict.channel, result }
}

/**
 * The same key publishing while its channel is live is the broadcaster's own encoder coming back
 * while nginx still holds the old, often half-open, connection (OBS reconnects faster than TCP
 * notices). The new connection replaces the old one: the old session ends as `replaced` and its
 * publisher is dropped before we answer, or nginx would refuse the renamed stream as "already
 * publishing". Another key of the same channel is a second encoder and stays refused.
 */
async function replacesOwnConnection(deps: Deps, channel: string, keyId: string): Promise<boolean> {
  const current = await deps.live.get(channel)
  if (current?.state !== 'live' || current.keyId !== keyId) return false
  return deps.live.end(channel, 'replaced', { onlyKeyId: keyId })
}
