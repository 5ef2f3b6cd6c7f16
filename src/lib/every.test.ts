import { describe, expect, it } from 'vitest'
import { every } from './every.js'

const tick = () => new Promise((r) => setImmediate(r))

describe('every', () => {
  it('never runs the job twice at once, and runs once more for a wake-up that came mid-run', async () => {
    let running = 0
    let maxRunning = 0
    let runs = 0
    let release: () => void = () => {}
    const job = every(0, async () => {
      running++
      runs++
      maxRunning = Math.max(maxRunning, running)
      await new Promise<void>((r) => {
        release = r
      })
      running--
    })
    const first = job.now()
    void job.now() // arrives mid-run: not doubled, but remembered
    void job.now()
    await tick()
    expect(runs).toBe(1)
    release()
    await first
    await tick()
    expect(runs).toBe(2) // the remembered wake-up, once
    release()
    await tick()
    expect(maxRunning).toBe(1)
    job.stop()
  })

  it('reports a failing run and keeps going', async () => {
    const errors: unknown[] = []
    let n = 0
    const job = every(
      0,
      () => {
        n++
        if (n === 1) throw new Error('boom')
      },
      { onError: (e) => errors.push(e) },
    )
    await job.now()
    await job.now()
    expect(n).toBe(2)
    expect(errors).toHaveLength(1)
    job.stop()
  })
})
