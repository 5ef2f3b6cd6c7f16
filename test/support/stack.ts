/**
 * @module test/support/stack — the real system for end-to-end tests: app instance(s) on free ports
 * and an nginx ingest node (Debian's RTMP module) in front of them, with every app log line kept
 * in memory so tests can assert what was (never) logged.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type NginxHandle, startNginx } from '../../scripts/lib/nginx.js'
import { freePort } from '../../scripts/lib/proc.js'
import { createLogger } from '../../src/log.js'
import { type Running, startServer } from '../../src/server.js'
import { testConfig } from '../harness.js'

export type Stack = {
  apps: Running[]
  nginx: NginxHandle
  nodeId: string
  http: string
  rtmp: string
  /** Every app log line so far (JSON). */
  appLogs(): string
  /** Every file under nginx's run dir (logs, HLS, config excluded): path → content. */
  nginxFiles(): Map<string, string>
  stop(): Promise<void>
}

function collectFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const st = statSync(path, { throwIfNoEntry: false })
    if (!st) continue // HLS cleanup can remove files while we walk
    if (st.isDirectory()) collectFiles(path, out)
    else {
      try {
        out.set(path, readFileSync(path, 'latin1'))
      } catch {
        // removed meanwhile
      }
    }
  }
  return out
}

export async function startStack(opts: { env?: Record<string, string>; instances?: number; nodeId?: string; notifyUpdateS?: number } = {}): Promise<Stack> {
  const nodeId = opts.nodeId ?? 'e2e'
  const [rtmpPort, httpPort, controlPort, internalRtmpPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const appPorts = await Promise.all(Array.from({ length: opts.instances ?? 1 }, () => freePort()))
  const notifyUpdateS = opts.notifyUpdateS ?? 30
  const config = testConfig({
    INGEST_NODES: `${nodeId}=http://127.0.0.1:${controlPort}`,
    HTTP_PORT: String(httpPort),
    RTMP_PORT: String(rtmpPort),
    PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    NOTIFY_UPDATE_S: String(notifyUpdateS),
    ...opts.env,
  })
  let logs = ''
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += chunk.toString()
      done()
    },
  })
  const log = createLogger({ level: 'debug', destination: sink })
  const apps: Running[] = []
  const runDir = mkdtempSync(join(tmpdir(), 'live-e2e-'))
  let nginx: NginxHandle | undefined
  const stop = async () => {
    await nginx?.stop()
    await Promise.all(apps.map((a) => a.shutdown()))
    rmSync(runDir, { recursive: true, force: true })
  }
  try {
    for (const port of appPorts) apps.push(await startServer(config, { log, port }))
    nginx = await startNginx({
      runDir,
      nodeId,
      hookSecret: config.HOOK_SECRET,
      rtmpPort,
      internalRtmpPort,
      httpPort,
      controlPort,
      appUpstreams: appPorts.map((p) => `127.0.0.1:${p}`),
      notifyUpdateTimeoutS: notifyUpdateS,
    })
  } catch (err) {
    await stop()
    throw err
  }
  const n = nginx
  return {
    apps,
    nginx: n,
    nodeId,
    http: `http://127.0.0.1:${httpPort}`,
    rtmp: `rtmp://127.0.0.1:${rtmpPort}/live`,
    appLogs: () => logs,
    nginxFiles: () => {
      const files = collectFiles(runDir)
      files.delete(join(runDir, 'nginx.conf'))
      return files
    },
    stop,
  }
}
