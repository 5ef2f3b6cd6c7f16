/**
 * @module test/faults/support — the scene every fault case plays out: the real stack (nginx, app
 * child processes) on a private Postgres and Redis, one live ffmpeg broadcast, a chatter and two
 * viewers through nginx; then what was lost, measured the same way for every fault, printed as a
 * table and asserted against issue 10's expectations.
 */
import { eq } from 'drizzle-orm'
import { expect } from 'vitest'
import { channels, chatMessages } from '../../src/db/schema/index.js'
import type { Deps } from '../../src/deps.js'
import { type PublisherHandle, startPublisher, waitFor } from '../support/ffmpeg.js'
import {
  broadcaster,
  channelStatus,
  lastSegment,
  playlistAdvances,
  sessionsOf,
} from '../support/live-helpers.js'
import { type Stack, type StackOptions, startStack } from '../support/stack.js'
import { Follower, Sender } from './chat.js'
import { type FaultServices, startFaultServices } from './services.js'

/** Short, so a missed-update deadline (2 × this + 5 s) passes within the suite's budget. */
export const NOTIFY_UPDATE_S = 3
export const UPDATE_DEADLINE_MS = (2 * NOTIFY_UPDATE_S + 5) * 1000
export const RECONNECT_WINDOW_S = 2
/** Generous but finite: an outage is over and everything must have converged by then. */
const CONVERGE_MS = 60_000

/** Scenes a failed case left running: their clients would otherwise reconnect forever. */
const unfinished = new Set<Scene>()

export type FaultStack = { services: FaultServices; stack: Stack; stop(): Promise<void> }

export async function startFaultStack(opts: Pick<StackOptions, 'instances'> = {}): Promise<FaultStack> {
  const services = await startFaultServices()
  try {
    const stack = await startStack({
      childApps: true,
      instances: opts.instances ?? 1,
      notifyUpdateS: NOTIFY_UPDATE_S,
      env: {
        DATABASE_URL: services.pg.url,
        REDIS_URL: services.redis.url,
        RECONNECT_WINDOW_S: String(RECONNECT_WINDOW_S),
        // The chatter sends several messages a second for a whole case.
        CHAT_RATE_LIMIT: '10000',
        CHAT_RATE_LIMIT_MOD: '10000',
        CHAT_FLOOD_BURST: '10000',
        CHAT_FLOOD_FRAMES_PER_S: '10000',
      },
    })
    // The test's own clients see every outage too; ioredis would print each reconnect failure.
    for (const conn of [stack.deps.redis, stack.deps.redisSub]) conn.on('error', () => {})
    return {
      services,
      stack,
      stop: async () => {
        await Promise.all([...unfinished].map((s) => s.abandon()))
        services.redis.thaw()
        await services.pg.allow().catch(() => {})
        await stack.stop()
        await services.stop()
      },
    }
  } catch (err) {
    await services.stop()
    throw err
  }
}

type LifecycleEvent = { type: string; channel?: string; sessionId?: string }

/** The durable lifecycle events of one channel, whatever the entry layout (flat fields or a JSON `data`). */
export async function channelEvents(deps: Deps, channel: string): Promise<LifecycleEvent[]> {
  const entries = await deps.redis.xrange(deps.keys.events(channel), '-', '+')
  return entries
    .map(([, fields]) => {
      const e: Record<string, unknown> = {}
      for (let i = 0; i + 1 < fields.length; i += 2) e[fields[i]!] = fields[i + 1]
      if (typeof e.data === 'string') Object.assign(e, JSON.parse(e.data))
      return e as LifecycleEvent
    })
    .filter((e) => e.channel === channel)
}

export type Measured = {
  case: string
  'stream dropped': boolean
  /** n/a when the broadcaster stopped on purpose before the fault was over. */
  'HLS after fault': boolean | 'n/a'
  sessions: number
  'left open': number
  'end reasons': string
  online: number
  offline: number
  /** Chat acknowledged again after the fault was repaired. */
  'chat back': boolean
  'chat acked': number
  /** Sends answered with an error frame (e.g. UNAVAILABLE), by code. */
  'chat refused': string
  /** Sends whose socket dropped before an answer: outcome unknown to the client. */
  'chat unanswered': number
  /** Sends left with no answer at all for 20 s on an open socket. */
  'chat timed out': number
  'missing in PG': number
  'missing on resume': number
  'follower resumes': number
  'resume gaps': number
  'stream up during fault s': number
  'converged s': number
}

let viewerAddress = 10

/** One broadcast, its chat, and what each fault did to them. */
export class Scene {
  private faultStart = 0
  private faultEnd = 0
  private stopping = false
  /** The publisher ended without us stopping it. */
  dropped = false
  private constructor(
    readonly stack: Stack,
    readonly name: string,
    readonly channel: string,
    readonly keyId: string,
    readonly pub: PublisherHandle,
    readonly sender: Sender,
    readonly followers: Follower[],
  ) {
    void pub.exited.then(() => {
      if (!this.stopping) this.dropped = true
    })
  }

  /** After a failed case: stops every client and the publisher, measuring nothing. */
  async abandon(): Promise<void> {
    unfinished.delete(this)
    this.stopping = true
    await Promise.all([this.sender.stop(), ...this.followers.map((f) => f.stop()), this.pub.stop()])
  }

  /** The broadcaster ends the stream on purpose (OBS "Stop streaming"). */
  async stopPublisher(): Promise<void> {
    this.stopping = true
    await this.pub.stop()
  }

  /** A live broadcast with HLS flowing, a chatter and two viewers (distinct client addresses), chat working. */
  static async start(stack: Stack, name: string): Promise<Scene> {
    const b = await broadcaster(stack.deps)
    const pub = startPublisher({ url: `${stack.rtmp}/${b.key}` })
    await waitFor(async () => (await channelStatus(stack.http, b.channel)) === 'live', {
      timeoutMs: 20_000,
      what: `${b.channel} live`,
    })
    await playlistAdvances(stack.http, b.channel, null, 'first HLS segment')
    const target = (n: number) => ({ http: stack.http, channel: b.channel, localAddress: `127.0.1.${n}` })
    const followers = [new Follower(target(viewerAddress++)), new Follower(target(viewerAddress++))]
    await Promise.all(followers.map((f) => f.start()))
    const sender = new Sender(target(viewerAddress++), b.auth)
    await sender.start()
    await sender.acks(3, 20_000)
    const scene = new Scene(stack, name, b.channel, b.keyId, pub, sender, followers)
    unfinished.add(scene)
    return scene
  }

  /** Runs the fault: `inject` breaks something, `heal` repairs it; chat keeps being sent throughout. */
  async fault(inject: () => Promise<void>, heal: () => Promise<void>): Promise<void> {
    await this.sender.acks(2)
    this.faultStart = Date.now()
    await inject()
    await heal()
    this.faultEnd = Date.now()
  }

  /**
   * After the fault: chat must work again and HLS keep advancing; then the broadcaster stops and
   * the case waits for the session to close. Returns the measurements (printed before asserting).
   */
  async finish(): Promise<Measured> {
    const { stack, channel } = this
    const streamUp = !this.stopping && !this.dropped
    let hlsAfter: boolean | 'n/a' = this.stopping ? 'n/a' : false
    if (streamUp) {
      hlsAfter = await playlistAdvances(
        stack.http,
        channel,
        await lastSegment(stack.http, channel),
        'HLS after the fault',
      )
        .then(() => true)
        .catch(() => false)
    }
    const chatBack = await this.sender
      .acks(3, CONVERGE_MS)
      .then(() => true)
      .catch(() => false)
    await this.sender.stop()
    const lastAcked = this.sender.acked.at(-1)?.seq ?? 0
    // Followers must have caught up (live or by resume) to the last acknowledged message.
    await waitFor(() => this.followers.every((f) => f.lastSeq >= lastAcked), {
      timeoutMs: CONVERGE_MS,
      what: 'followers caught up',
    }).catch(() => {})
    await Promise.all(this.followers.map((f) => f.stop()))
    const dropped = this.dropped
    await this.stopPublisher()

    const stoppedAt = Date.now()
    const sessions = await waitFor(
      async () => {
        const rows = await sessionsOf(stack.deps, this.keyId)
        const events = await channelEvents(stack.deps, channel)
        const closed = rows.length > 0 && rows.every((r) => r.endedAt !== null)
        return closed && events.some((e) => e.type === 'stream.offline') ? rows : null
      },
      { timeoutMs: CONVERGE_MS, what: `${channel}: sessions closed and offline event written` },
    ).catch(async () => sessionsOf(stack.deps, this.keyId))
    const convergedS = (Date.now() - stoppedAt) / 1000

    const events = await channelEvents(stack.deps, channel)
    const acked = this.sender.acked
    const stored = await waitFor(
      async () => {
        const rows = await storedChat(stack.deps, channel)
        return acked.every((a) => rows.get(a.seq) === a.id) ? rows : null
      },
      { timeoutMs: 20_000, what: 'acknowledged chat stored in Postgres' },
    ).catch(() => storedChat(stack.deps, channel))
    // A brand-new client: welcome history + resume from 0 must show every acknowledged message.
    const fresh = await resumeFromZero(stack, channel)
    const viaResume = fresh.seen
    unfinished.delete(this)

    const m: Measured = {
      case: this.name,
      'stream dropped': dropped,
      'HLS after fault': hlsAfter,
      sessions: sessions.length,
      'left open': sessions.filter((s) => s.endedAt === null).length,
      'end reasons': sessions.map((s) => s.endReason ?? 'open').join(','),
      online: events.filter((e) => e.type === 'stream.online').length,
      offline: events.filter((e) => e.type === 'stream.offline').length,
      'chat back': chatBack,
      'chat acked': acked.length,
      'chat refused': [...this.sender.refused].map(([code, n]) => `${code}×${n}`).join(',') || '-',
      'chat unanswered': this.sender.unanswered,
      'chat timed out': this.sender.timedOut,
      'missing in PG': acked.filter((a) => stored.get(a.seq) !== a.id).length,
      'missing on resume': acked.filter((a) => viaResume.get(a.seq) !== a.id).length,
      'follower resumes': this.followers.reduce((n, f) => n + f.resumes, 0),
      'resume gaps': [...this.followers, fresh].reduce((n, f) => n + f.resumeGaps.length, 0),
      'stream up during fault s': dropped ? 0 : Math.round((this.faultEnd - this.faultStart) / 100) / 10,
      'converged s': Math.round(convergedS * 10) / 10,
    }
    console.table(m)
    return m
  }

  /** Issue 10's expectations, all of them. */
  static expectNothingLost(
    m: Measured,
    end: { reason?: string; dropped?: boolean; stoppedInFault?: boolean } = {},
  ) {
    expect({
      'stream dropped': m['stream dropped'],
      'HLS after fault': m['HLS after fault'],
      sessions: m.sessions,
      'left open': m['left open'],
      online: m.online,
      offline: m.offline,
      'chat back': m['chat back'],
      'missing in PG': m['missing in PG'],
      'missing on resume': m['missing on resume'],
      'resume gaps': m['resume gaps'],
    }).toEqual({
      'stream dropped': end.dropped ?? false,
      'HLS after fault': end.stoppedInFault ? 'n/a' : !(end.dropped ?? false),
      sessions: 1,
      'left open': 0,
      online: 1,
      offline: 1,
      'chat back': true,
      'missing in PG': 0,
      'missing on resume': 0,
      'resume gaps': 0,
    })
    if (end.reason) expect(m['end reasons']).toBe(end.reason)
  }
}

async function storedChat(deps: Deps, channel: string): Promise<Map<number, string>> {
  const rows = await deps.db
    .select({ seq: chatMessages.seq, id: chatMessages.id })
    .from(chatMessages)
    .innerJoin(channels, eq(channels.id, chatMessages.channelId))
    .where(eq(channels.name, channel))
  return new Map(rows.map((r) => [r.seq, r.id]))
}

/** What a client that saw nothing is given: welcome history plus every resume page from seq 0. */
async function resumeFromZero(stack: Stack, channel: string): Promise<Follower> {
  const f = new Follower({ http: stack.http, channel, localAddress: '127.0.1.251' })
  await f.start()
  await f.resumeFrom(0)
  await f.stop()
  return f
}

/** Polls the apps' /readyz until each reports `dep` as `state` (the app itself saw the fault or the repair). */
export async function appsSee(
  stack: Stack,
  dep: 'redis' | 'postgres',
  state: 'ok' | 'down',
  ports?: number[],
) {
  await waitFor(
    async () => {
      const seen = await Promise.all(
        (ports ?? stack.apps.map((a) => a.port)).map(async (port) => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) })
          return ((await res.json()) as Record<string, string>)[dep] === state
        }),
      )
      return seen.every(Boolean)
    },
    { timeoutMs: 30_000, what: `apps see ${dep} ${state}` },
  )
}
