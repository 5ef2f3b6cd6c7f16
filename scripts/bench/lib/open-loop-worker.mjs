// Worker side of open-loop.ts (plain JS: worker threads cannot load TypeScript through tsx here).
import { Agent, request } from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'

const pct = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

async function runJob(job) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const target = new URL(job.url)
  const total = Math.round(job.rate * job.durationS)
  const latencies = []
  const statuses = {}
  const intervalMs = 1000 / job.rate
  const t0 = performance.now() + 50
  let next = 0
  let done = 0
  return new Promise((resolve) => {
    const fire = (i, due) => {
      const body = job.bodies?.[i % job.bodies.length]
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: job.method,
          headers: { ...job.headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          res.resume()
          res.on('end', () => finish(res.statusCode ?? 0, due))
        },
      )
      req.on('error', () => finish(0, due))
      req.end(body)
    }
    const finish = (status, due) => {
      latencies.push(performance.now() - due)
      statuses[status] = (statuses[status] ?? 0) + 1
      if (++done === total) {
        clearInterval(timer)
        agent.destroy()
        latencies.sort((a, b) => a - b)
        const elapsed = (performance.now() - t0) / 1000
        resolve({
          sent: total,
          statuses,
          p50: pct(latencies, 50),
          p90: pct(latencies, 90),
          p99: pct(latencies, 99),
          max: latencies.at(-1) ?? 0,
          achievedRate: total / elapsed,
        })
      }
    }
    // A 1 ms tick sends everything that has come due, each stamped with its own due time.
    const timer = setInterval(() => {
      const now = performance.now()
      while (next < total && t0 + next * intervalMs <= now) {
        fire(next, t0 + next * intervalMs)
        next++
      }
    }, 1)
  })
}

runJob(workerData).then((r) => {
  parentPort.postMessage(r)
})
