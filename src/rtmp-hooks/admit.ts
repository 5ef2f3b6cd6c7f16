/**
 * @module rtmp-hooks/admit — the publish decision, shared by on_publish and by on_update for a
 * publisher the registry does not know (it lost track: an app outage longer than the session
 * deadline, a Redis restart). nginx reports the original key in every hook, so the stream can be
 * re-verified and adopted instead of dropped.
 */
import type { Deps } from '../deps.js'
import type { PublishResult } from '../live/registry.js'
import { touchStreamKey, verifyStreamKey } from '../stream-keys/service.js'

export type Admission =
  | { ok: true; channel: string; result: Exclude<PublishResult, { outcome: 'busy' }> }
  | { ok: false; status: 403 | 409; reason: string }

export async function admitPublisher(
  deps: Deps,
  node: string,
  clientId: string,
  key: string,
): Promise<Admission> {
  const verdict = await verifyStreamKey(deps, key)
  if (!verdict.ok) return { ok: false, status: 403, reason: verdict.reason }
  if (await deps.live.isKicked(verdict.keyId)) return { ok: false, status: 403, reason: 'kicked' }
  const result = await deps.live.publish({
    channel: verdict.channel,
    channelId: verdict.channelId,
    userId: verdict.userId,
    keyId: verdict.keyId,
    node,
    clientId,
    maxSessionS: deps.config.PLAN_LIMITS[verdict.plan].maxSessionS,
  })
  if (result.outcome === 'busy') return { ok: false, status: 409, reason: 'channel_live' }
  await touchStreamKey(deps, verdict.keyId)
  return { ok: true, channel: verdict.channel, result }
}
