/**
 * Fault: the control plane SIGKILLed mid-stream and mid-chat. With two instances the other one
 * carries hooks and chat; with one, down past the update deadline, nginx answers on_update itself
 * until the app is back (which must ask nginx's /stat before calling the stream lost). Either
 * way the stream must not notice, and the session, events and chat history must come out whole.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { waitFor } from '../support/ffmpeg.js'
import { type FaultStack, NOTIFY_UPDATE_S, Scene, startFaultStack, UPDATE_DEADLINE_MS } from './support.js'

const CASE_TIMEOUT = 180_000

describe('app SIGKILL, two instances', () => {
  let f: FaultStack
  beforeAll(async () => {
    f = await startFaultStack({ instances: 2 })
  }, CASE_TIMEOUT)
  afterAll(() => f?.stop(), CASE_TIMEOUT)

  it(
    'keeps the stream, one session, one online/offline pair and every acknowledged message',
    async () => {
      const scene = await Scene.start(f.stack, 'app SIGKILL (1 of 2)')
      await scene.fault(
        async () => {
          await f.stack.apps[0]!.kill('SIGKILL')
          // Chat keeps working on the surviving instance while this one is dead.
          await scene.sender.acks(5)
        },
        () => f.stack.apps[0]!.start(),
      )
      Scene.expectNothingLost(await scene.finish(), { reason: 'publisher_left' })
    },
    CASE_TIMEOUT,
  )
})

describe('app SIGKILL, one instance', () => {
  let f: FaultStack
  beforeAll(async () => {
    f = await startFaultStack({ instances: 1 })
  }, CASE_TIMEOUT)
  afterAll(() => f?.stop(), CASE_TIMEOUT)

  it(
    'down past the update deadline: nginx keeps the stream, still one session once the app is back',
    async () => {
      const scene = await Scene.start(f.stack, 'app SIGKILL (only one)')
      const fallbackLog = join(f.stack.nginx.logDir, 'hook-fallback.log')
      const fallbacks = () =>
        existsSync(fallbackLog)
          ? readFileSync(fallbackLog, 'utf8')
              .split('\n')
              .filter((l) => l.includes('/hooks/rtmp/update')).length
          : 0
      await scene.fault(
        async () => {
          const before = fallbacks()
          const killedAt = Date.now()
          await f.stack.apps[0]!.kill('SIGKILL')
          // Down past the update deadline (a crash loop in backoff, a slow deploy), nginx's hook
          // proxy answering on_update meanwhile: the app's own view says "lost", nginx's does not.
          await waitFor(
            () => fallbacks() > before && Date.now() - killedAt > UPDATE_DEADLINE_MS + NOTIFY_UPDATE_S * 1000,
            { timeoutMs: 60_000, what: 'on_update answered by nginx past the deadline' },
          )
        },
        () => f.stack.apps[0]!.start(),
      )
      Scene.expectNothingLost(await scene.finish(), { reason: 'publisher_left' })
    },
    CASE_TIMEOUT,
  )
})
