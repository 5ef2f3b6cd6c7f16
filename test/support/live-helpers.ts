/** @module test/support/live-helpers — small queries e2e tests share: channel views, playlists, events, sessions. */
import { eq } from 'drizzle-orm'
import { streamSessions } from '../../src/db/schema/index.js'
import type { Deps } from '../../src/deps.js'
import { loggedIn, streamKeyFor } from '../factories.js'

export async function channelStatus(http: string, name: string): Promise<string> {
  return ((await (await fetch(`${http}/api/v1/channels/${name}`)).json()) as { status: string }).status
}

/** The playlist's media sequence number, or -1 while there is none. */
export async function mediaSequence(http: string, name: string): Promise<number> {
  const res = await fetch(`${http}/hls/${name}/index.m3u8`)
  if (res.status !== 200) return -1
  const m = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(await res.text())
  return m ? Number(m[1]) : -1
}

/** Lifecycle events of one session from the durable `events` stream. */
export async function sessionEvents(deps: Deps, sessionId: string): Promise<string[]> {
  const entries = await deps.redis.xrange(deps.keys.events(), '-', '+')
  return entries
    .map(
      ([, fields]) => JSON.parse(fields[fields.indexOf('data') + 1]!) as { type: string; sessionId: string },
    )
    .filter((e) => e.sessionId === sessionId)
    .map((e) => e.type)
}

export async function sessionsOf(deps: Deps, keyId: string) {
  return deps.db
    .select()
    .from(streamSessions)
    .where(eq(streamSessions.streamKeyId, keyId))
    .orderBy(streamSessions.startedAt)
}

export async function broadcaster(deps: Deps) {
  const me = await loggedIn(deps)
  const { key, row } = await streamKeyFor(deps, me.user)
  return { ...me, channel: me.user.username, key, keyId: row.id }
}
