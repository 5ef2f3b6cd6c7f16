/**
 * @module test/support/stack — the real system for end-to-end tests: app instances on free ports
 * (in-process, or child processes a test can SIGKILL and restart) and one or more nginx ingest
 * nodes (Debian's RTMP module) in front of them. App log lines are kept so tests can assert what
 * was (never) logged.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type NginxHandle, type NginxOptions, startNginx } from '../../scripts/lib/nginx.js'
import { freePort, waitUntil } from '../../scripts/lib/proc.js'
import { loadConfig } from '../../src/config.js'
import type { Deps } from '../../src/deps.js'
import { createLogger } from '../../src/log.js'
import { buildDeps, type Running, startServer } from '../../src/server.js'
import { testEnv } from '../harness.js'

export type IngestNode = {
  id: string
  nginx: NginxHandle
  http: string
  rtmp: string
  /** With StackOptions.tls: https://127.0.0.1:<port> and rtmps://127.0.0.1:<port>/live */
  https?: string
  rtmps?: string
}

export type AppInstance = {
  port: number
  /** Kills the instance (SIGKILL for a crash); in-process instances shut down instead. */
  kill(signal?: NodeJS.Signals): Promise<void>
  start(): Promise<void>
  /** The process serving it (this one for in-process instances). */
  pid(): number | undefined
}

export type Stack = {
  /** Deps against the same Postgres, Redis and key prefix, for the test's own queries and factories. */
  deps: Deps
  apps: AppInstance[]
  nodes: IngestNode[]
  /** The first node's public origin and RTMP ingest URL. */
  http: string
  rtmp: string
  nginx: NginxHandle
  nodeId: string
  /** Starts a node's nginx again (after a kill) on the same ports and run dir, as a supervisor would. */
  restartNginx(index?: number): Promise<void>
  appLogs(): string
  /** Recordings, videos and thumbnails (the app's MEDIA_DIR), shared by every node. */
  mediaDir: string
  /** Every file nginx wrote (logs, HLS; not its config): path → content. */
  nginxFiles(): Map<string, string>
  stop(): Promise<void>
}

function collectFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const st = statSync(path, { throwIfNoEntry: false })
    if (!st) continue // HLS cleanup can remove files while we walk
    if (st.isDirectory()) collectFiles(path, out)
    else if (name !== 'nginx.conf') {
      try {
        out.set(path, readFileSync(path, 'latin1'))
      } catch {
        // removed meanwhile
      }
    }
  }
  return out
}

export type StackOptions = {
  env?: Record<string, string>
  instances?: number
  nodeIds?: string[]
  notifyUpdateS?: number
  /** Run app instances as child processes (`node --import tsx src/main.ts`). */
  childApps?: boolean
  /**
   * Serve HTTPS/WSS and RTMPS too, with this certificate (scripts/lib/tls.ts), and make the first
   * node's https origin the PUBLIC_URL (so cookies are Secure and HSTS is sent).
   */
  tls?: { certFile: string; keyFile: string }
  /** Edge options for every nginx node (trusted proxies in front of it, sizing, limits). */
  nginx?: Pick<NginxOptions, 'trustedProxies' | 'workerConnections' | 'limits'>
  /** Watch analytics: the first app instance listens on a UDP port every node's edge logs HLS segments to. */
  analytics?: boolean
}

/**
 * freePort() releases a port before nginx or the app binds it, so on a busy machine another
 * process can take it in between; a start that fails to bind is retried with fresh ports.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(opts)
    } catch (err) {
      const msg = String((err as Error).message)
      if (attempt >= 3 || !/in use|EADDRINUSE|bind\(\)/i.test(msg)) throw err
    }
  }
}

async function startStackOnce(opts: StackOptions): Promise<Stack> {
  const nodeIds = opts.nodeIds ?? ['e2e']
  const notifyUpdateS = opts.notifyUpdateS ?? 30
  const nodePorts = await Promise.all(
    nodeIds.map(async (id) => ({
      id,
      rtmp: await freePort(),
      http: await freePort(),
      control: await freePort(),
      internal: await freePort(),
      https: opts.tls ? await freePort() : undefined,
      rtmps: opts.tls ? await freePort() : undefined,
    })),
  )
  const appPorts = await Promise.all(Array.from({ length: opts.instances ?? 1 }, () => freePort()))
  const analyticsPort = opts.analytics ? await freePort() : undefined
  const runDir = mkdtempSync(join(tmpdir(), 'live-e2e-'))
  // Recordings, videos and thumbnails: one directory the app and every node share.
  const mediaDir = join(runDir, 'media')
  const env = testEnv({
    MEDIA_DIR: mediaDir,
    ...(analyticsPort && { ANALYTICS_LOG_PORT: String(analyticsPort) }),
    INGEST_NODES: nodePorts.map((n) => `${n.id}=http://127.0.0.1:${n.control}`).join(','),
    HTTP_PORT: String(nodePorts[0]!.http),
    RTMP_PORT: String(nodePorts[0]!.rtmp),
    PUBLIC_URL: `http://127.0.0.1:${nodePorts[0]!.http}`,
    NOTIFY_UPDATE_S: String(notifyUpdateS),
    RECONCILE_INTERVAL_S: '1',
    ...(opts.tls && {
      PUBLIC_URL: `https://127.0.0.1:${nodePorts[0]!.https}`,
      RTMPS_PORT: String(nodePorts[0]!.rtmps),
    }),
    ...opts.env,
  })
  const config = loadConfig(env)

  let logs = ''
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += chunk.toString()
      done()
    },
  })
  const log = createLogger({ level: 'debug', destination: sink })
  const nodes: IngestNode[] = []
  const nginxOptions: NginxOptions[] = []
  const apps: AppInstance[] = []
  const { deps, close } = await buildDeps(config, createLogger({ level: 'silent' }))

  // One UDP listener per host: only the first instance takes the analytics port.
  const listens = (port: number) => port === appPorts[0]
  const inProcess = (port: number): AppInstance => {
    let running: Running | undefined
    return {
      port,
      start: async () => {
        const own = listens(port) ? config : { ...config, ANALYTICS_LOG_PORT: 0 }
        running = await startServer(own, { log, port })
      },
      kill: async () => {
        await running?.shutdown()
        running = undefined
      },
      pid: () => process.pid,
    }
  }
  const child = (port: number): AppInstance => {
    let proc: ReturnType<typeof spawn> | undefined
    return {
      port,
      pid: () => proc?.pid,
      start: async () => {
        proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
          env: {
            ...process.env,
            ...env,
            APP_PORT: String(port),
            APP_HOST: '127.0.0.1',
            LOG_LEVEL: 'debug',
            ...(!listens(port) && { ANALYTICS_LOG_PORT: '0' }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        proc.stdout?.on('data', (c: Buffer) => sink.write(c))
        proc.stderr?.on('data', (c: Buffer) => sink.write(c))
        const exited = new Promise((r) => proc?.once('exit', r))
        await waitUntil(
          `app on ${port}`,
          async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok === true,
          20_000,
          exited,
        )
      },
      kill: async (signal = 'SIGTERM') => {
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
        const exited = new Promise((r) => proc?.once('exit', r))
        proc.kill(signal)
        await exited
      },
    }
  }

  const stop = async () => {
    await Promise.all(nodes.map((n) => n.nginx.stop()))
    await Promise.all(apps.map((a) => a.kill()))
    await close()
    rmSync(runDir, { recursive: true, force: true })
  }
  try {
    for (const port of appPorts) {
      const app = opts.childApps ? child(port) : inProcess(port)
      apps.push(app)
      await app.start()
    }
    for (const n of nodePorts) {
      const nginxOpts: NginxOptions = {
        runDir: join(runDir, n.id),
        nodeId: n.id,
        hookSecret: config.HOOK_SECRET,
        rtmpPort: n.rtmp,
        internalRtmpPort: n.internal,
        httpPort: n.http,
        controlPort: n.control,
        appUpstreams: appPorts.map((p) => `127.0.0.1:${p}`),
        notifyUpdateTimeoutS: notifyUpdateS,
        ...(analyticsPort && { analyticsLog: `127.0.0.1:${analyticsPort}` }),
        mediaDir,
        ...(opts.tls && {
          httpsPort: n.https,
          rtmpsPort: n.rtmps,
          tlsCertFile: opts.tls.certFile,
          tlsKeyFile: opts.tls.keyFile,
        }),
        ...opts.nginx,
      }
      nginxOptions.push(nginxOpts)
      const nginx = await startNginx(nginxOpts)
      nodes.push({
        id: n.id,
        nginx,
        http: `http://127.0.0.1:${n.http}`,
        rtmp: `rtmp://127.0.0.1:${n.rtmp}/live`,
        ...(opts.tls && {
          https: `https://127.0.0.1:${n.https}`,
          rtmps: `rtmps://127.0.0.1:${n.rtmps}/live`,
        }),
      })
    }
  } catch (err) {
    await stop()
    throw err
  }
  const first = nodes[0]!
  return {
    deps,
    apps,
    nodes,
    http: first.http,
    rtmp: first.rtmp,
    get nginx() {
      return first.nginx
    },
    nodeId: first.id,
    restartNginx: async (index = 0) => {
      const node = nodes[index]!
      await node.nginx.stop() // reaps workers a SIGKILLed master left behind
      node.nginx = await startNginx(nginxOptions[index]!)
    },
    appLogs: () => logs,
    mediaDir,
    nginxFiles: () => collectFiles(runDir),
    stop,
  }
}
