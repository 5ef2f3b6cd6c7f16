/**
 * Fault: the ingest itself (nginx) SIGKILLed mid-stream. The only fault allowed to drop the
 * stream; nginx sends nothing, so the session must end `ingest_lost`, once, from the missed
 * updates; chat (through the restarted nginx) resumes without gaps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/ffmpeg.js'
import { sessionsOf } from '../support/live-helpers.js'
import { type FaultStack, NOTIFY_UPDATE_S, Scene, startFaultStack, UPDATE_DEADLINE_MS } from './support.js'

const CASE_TIMEOUT = 180_000

let f: FaultStack
beforeAll(async () => {
  f = await startFaultStack()
}, CASE_TIMEOUT)
afterAll(() => f?.stop(), CASE_TIMEOUT)

describe('nginx fault', () => {
  it(
    'SIGKILL mid-stream: the session ends ingest_lost within two update intervals, once',
    async () => {
      const scene = await Scene.start(f.stack, 'nginx SIGKILL')
      let killedAt = 0
      await scene.fault(
        async () => {
          killedAt = Date.now()
          f.stack.nginx.kill('SIGKILL')
          await waitFor(() => scene.dropped, { what: 'publisher cut off' })
          // nginx stays down until the app has given up on the ingest (a restarted nginx has a
          // fresh /stat without the publisher, which would end the session some other way).
          await waitFor(async () => (await f.stack.deps.live.get(scene.channel)) === null, {
            timeoutMs: UPDATE_DEADLINE_MS + 30_000,
            what: 'session ended in the registry',
          })
          console.log(
            `nginx SIGKILL: session ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
          )
        },
        () => f.stack.restartNginx(),
      )
      const m = await scene.finish()
      Scene.expectNothingLost(m, { reason: 'ingest_lost', dropped: true })
      // The recorded end is when the ingest was last heard from: within two intervals of its death.
      const [s] = await sessionsOf(f.stack.deps, scene.keyId)
      const endedAt = s!.endedAt!.getTime()
      expect(endedAt).toBeGreaterThanOrEqual(killedAt - 2 * NOTIFY_UPDATE_S * 1000)
      expect(endedAt).toBeLessThanOrEqual(killedAt + 2 * NOTIFY_UPDATE_S * 1000)
    },
    CASE_TIMEOUT,
  )
})
