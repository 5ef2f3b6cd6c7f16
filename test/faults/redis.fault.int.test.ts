/**
 * Fault: Redis, the live registry and chat bus, killed (SIGKILL, restarted on the same port and
 * AOF) or frozen (SIGSTOP) past the on_update deadline. nginx still holds the publisher, so the
 * broadcast must stay one live session; chat must come back with nothing acknowledged missing.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import { waitFor } from '../support/ffmpeg.js'
import {
  appsSee,
  type FaultStack,
  NOTIFY_UPDATE_S,
  Scene,
  startFaultStack,
  UPDATE_DEADLINE_MS,
} from './support.js'

const CASE_TIMEOUT = 180_000
const passed = (since: number, ms: number) => () => Date.now() - since > ms

let f: FaultStack
beforeAll(async () => {
  f = await startFaultStack({ instances: 2 })
}, CASE_TIMEOUT)
afterAll(() => f?.stop(), CASE_TIMEOUT)

describe('Redis faults', () => {
  it(
    'SIGKILL and restart: the stream, its one session, its events and every acknowledged message survive',
    async () => {
      const scene = await Scene.start(f.stack, 'Redis SIGKILL + restart')
      await scene.fault(
        async () => {
          const at = Date.now()
          await f.services.redis.kill()
          await appsSee(f.stack, 'redis', 'down')
          // Down across at least one on_update round.
          await waitFor(passed(at, NOTIFY_UPDATE_S * 1000), { timeoutMs: 30_000 })
        },
        async () => {
          await f.services.redis.restart()
          await appsSee(f.stack, 'redis', 'ok')
        },
      )
      Scene.expectNothingLost(await scene.finish(), { reason: 'publisher_left' })
    },
    CASE_TIMEOUT,
  )

  it(
    'frozen past the update deadline: still one session (no false offline/online), nothing lost',
    async () => {
      const scene = await Scene.start(f.stack, 'Redis frozen (SIGSTOP)')
      await scene.fault(
        async () => {
          const at = Date.now()
          f.services.redis.freeze()
          await appsSee(f.stack, 'redis', 'down')
          // Past the deadline by a full update interval: the app's own view says "lost", nginx's does not.
          await waitFor(passed(at, UPDATE_DEADLINE_MS + NOTIFY_UPDATE_S * 1000), { timeoutMs: 60_000 })
        },
        async () => {
          f.services.redis.thaw()
          await appsSee(f.stack, 'redis', 'ok')
        },
      )
      Scene.expectNothingLost(await scene.finish(), { reason: 'publisher_left' })
    },
    CASE_TIMEOUT,
  )
})
