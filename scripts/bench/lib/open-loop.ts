/**
 * @module bench/lib/open-loop — a fixed-arrival-rate load generator (open loop), run in a worker
 * thread so its event loop never competes with the server under test.
 *
 * Request i is due at t0 + i / rate, whatever happened to earlier ones (autocannon's `overallRate`
 * instead bursts each connection's quota at the start of every second, and a closed loop slows
 * down with the server). Latency is measured from the DUE time, not the send time, so a stalled
 * server cannot hide its queueing (no coordinated omission).
 */
import { Worker } from 'node:worker_threads'

export type OpenLoopJob = {
  url: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  /** One body per request, used round-robin. */
  bodies?: string[]
  rate: number
  durationS: number
}
export type OpenLoopResult = {
  sent: number
  /** status → count; 0 = transport error */
  statuses: Record<number, number>
  p50: number
  p90: number
  p99: number
  max: number
  achievedRate: number
}

/** Runs `job` in a worker thread (open-loop-worker.mjs) and resolves with its latencies. */
export function openLoop(job: OpenLoopJob): Promise<OpenLoopResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./open-loop-worker.mjs', import.meta.url), { workerData: job })
    worker.once('message', (r: OpenLoopResult) => {
      resolve(r)
      void worker.terminate()
    })
    worker.once('error', reject)
  })
}
