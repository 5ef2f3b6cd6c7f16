/**
 * Fault: Postgres refusing connections (ALLOW_CONNECTIONS false, backends terminated) while a
 * stream ends, another starts, and chat is sent. Once Postgres is back, history must converge:
 * no session left open, one online and one offline event per broadcast, every acknowledged
 * message stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPublisher, waitFor } from '../support/ffmpeg.js'
import { broadcaster, sessionsOf } from '../support/live-helpers.js'
import { appsSee, channelEvents, type FaultStack, Scene, startFaultStack } from './support.js'

const CASE_TIMEOUT = 180_000

let f: FaultStack
beforeAll(async () => {
  f = await startFaultStack({ instances: 2 })
}, CASE_TIMEOUT)
afterAll(() => f?.stop(), CASE_TIMEOUT)

describe('Postgres fault', () => {
  it(
    'connections refused while streams start and end and chat is sent: history converges, nothing lost',
    async () => {
      const { stack } = f
      const scene = await Scene.start(stack, 'Postgres refused')
      const late = await broadcaster(stack.deps) // made now: accounts need Postgres
      let latePub: ReturnType<typeof startPublisher> | undefined
      let lateExited = false
      await scene.fault(
        async () => {
          await f.services.pg.refuse()
          await appsSee(stack, 'postgres', 'down')
          // A stream starts: accepted if the key check can be answered without Postgres, else
          // refused (fail closed). Either is fine; a half-open session is not.
          latePub = startPublisher({ url: `${stack.rtmp}/${late.key}` })
          void latePub.exited.then(() => {
            lateExited = true
          })
          await waitFor(async () => lateExited || (await stack.deps.live.get(late.channel)) !== null, {
            timeoutMs: 30_000,
            what: 'late publish accepted or refused',
          })
          // A stream ends, and the reconnect window closes, all while Postgres refuses.
          await scene.stopPublisher()
          await waitFor(async () => (await stack.deps.live.get(scene.channel)) === null, {
            timeoutMs: 30_000,
            what: 'session ended in the registry',
          })
          await scene.sender.tried(5) // chat while Postgres refuses (acknowledged or not)
        },
        async () => {
          await f.services.pg.allow()
          await appsSee(stack, 'postgres', 'ok')
        },
      )
      const m = await scene.finish()
      const lateAccepted = !lateExited
      await latePub?.stop()
      const lateSessions = await waitFor(
        async () => {
          const rows = await sessionsOf(stack.deps, late.keyId)
          return rows.every((r) => r.endedAt !== null) ? rows : null
        },
        { timeoutMs: 60_000, what: 'late session closed' },
      ).catch(() => sessionsOf(stack.deps, late.keyId))
      const lateEvents = await channelEvents(stack.deps, late.channel)
      const lateRow = {
        case: 'stream started while Postgres refused',
        accepted: lateAccepted,
        sessions: lateSessions.length,
        'left open': lateSessions.filter((s) => s.endedAt === null).length,
        online: lateEvents.filter((e) => e.type === 'stream.online').length,
        offline: lateEvents.filter((e) => e.type === 'stream.offline').length,
      }
      console.table([lateRow])

      Scene.expectNothingLost(m, { reason: 'publisher_left', stoppedInFault: true })
      const n = lateAccepted ? 1 : 0
      expect(lateRow).toMatchObject({ sessions: n, 'left open': 0, online: n, offline: n })
    },
    CASE_TIMEOUT,
  )
})
