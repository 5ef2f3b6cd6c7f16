/** @module test/support/live-helpers — small queries e2e tests share: channel views, playlists, events, sessions. */
import { eq } from 'drizzle-orm'
import { streamSessions } from '../../src/db/schema/index.js'
import type { Deps } from '../../src/deps.js'
import { loggedIn, streamKeyFor } from '../factories.js'
import { startPublisher, waitFor } from './ffmpeg.js'

export async function channelStatus(http: string, name: string): Promise<string> {
  return ((await (await fetch(`${http}/api/v1/channels/${name}`)).json()) as { status: string }).status
}

/**
 * The newest segment in the channel's playlist (null while there is none). A new value means
 * the stream is still being packaged; the media sequence number is no signal for that, as it
 * stays 0 until the playlist is full.
 */
export async function lastSegment(http: string, name: string): Promise<string | null> {
  const res = await fetch(`${http}/hls/${name}/index.m3u8`)
  if (res.status !== 200) return null
  return (
    (await res.text())
      .split('\n')
      .filter((l) => l.endsWith('.ts'))
      .at(-1) ?? null
  )
}

/** Waits until the playlist gains a segment newer than `after` (any segment if null). */
export async function playlistAdvances(
  http: string,
  name: string,
  after: string | null,
  what = 'a new HLS segment',
) {
  return waitFor(
    async () => {
      const last = await lastSegment(http, name)
      return last !== null && last !== after ? last : null
    },
    { timeoutMs: 15_000, what },
  )
}

/** Lifecycle events of one session from the durable `events` stream. */
export async function sessionEvents(deps: Deps, sessionId: string): Promise<string[]> {
  // The session's channel is not known here: read every partition's stream.
  const entries = (await Promise.all(deps.keys.allEvents().map((s) => deps.redis.xrange(s, '-', '+')))).flat()
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

/**
 * A session's history row once it satisfies `settled` (history is written from the `events`
 * stream by the live-effects consumer, a moment after the transition).
 */
export async function historyRow(
  deps: Pick<Deps, 'db'>,
  sessionId: string,
  settled: (row: typeof streamSessions.$inferSelect) => boolean = () => true,
) {
  return waitFor(
    async () => {
      const [row] = await deps.db.select().from(streamSessions).where(eq(streamSessions.id, sessionId))
      return row && settled(row) ? row : null
    },
    { what: `history row of session ${sessionId}` },
  )
}

/** Resolves once the live-effects group has nothing pending: every event applied, none failing. */
export async function effectsSettled(deps: Pick<Deps, 'redis' | 'keys'>) {
  await waitFor(
    async () => {
      const pending = await Promise.all(
        deps.keys
          .allEvents()
          .map(async (s) => ((await deps.redis.xpending(s, 'live-effects')) as [number])[0]),
      )
      return pending.every((n) => n === 0)
    },
    { what: 'every lifecycle event applied' },
  )
}

/** A new broadcaster publishing with ffmpeg through `stack`'s first node, once its channel shows live. */
export async function liveBroadcast(stack: { deps: Deps; rtmp: string; http: string }) {
  const b = await broadcaster(stack.deps)
  const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
  try {
    await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'live', {
      timeoutMs: 15_000,
      what: `${b.channel} live`,
    })
  } catch (err) {
    await pub.stop()
    throw err
  }
  return { ...b, pub }
}
