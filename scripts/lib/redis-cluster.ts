/**
 * @module redis-cluster — a real Redis Cluster on loopback: `masters` cluster-enabled
 * redis-servers, each with `replicasPerMaster` replicas, joined by `redis-cli --cluster create`.
 * Nodes are started and stopped by PID; nothing outside the test's own temp directory is touched.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, waitUntil } from './proc.js'
import { type RedisHandle, startRedis } from './redis.js'

const run = promisify(execFile)

export type ClusterNodeHandle = { port: number; redis: RedisHandle }

export type RedisClusterHandle = {
  nodes: ClusterNodeHandle[]
  /** `127.0.0.1:p1,127.0.0.1:p2,…` — the REDIS_CLUSTER_NODES value. */
  spec: string
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>
  /** Runs redis-cli against one node. */
  cli(port: number, ...args: string[]): Promise<string>
  /** SIGKILLs one node (a crash: no failover handshake). */
  kill(port: number): Promise<void>
  /** Waits until every live node reports cluster_state:ok and a live master serves `key`; its port. */
  waitForFailover(key: string, timeoutMs?: number): Promise<number>
  stop(): Promise<void>
}

export async function startRedisCluster(opts: {
  masters?: number
  replicasPerMaster?: number
  /** How long a node may be unreachable before it is failed over (ms). */
  nodeTimeoutMs?: number
}): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3
  const replicas = opts.replicasPerMaster ?? 1
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
  const nodes: ClusterNodeHandle[] = []
  const cli = async (port: number, ...args: string[]) =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })).stdout
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.redis.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort()
      const nodeDir = join(dir, String(port))
      const redis = await startRedis({
        dir: nodeDir,
        port,
        logFile: join(nodeDir, 'redis.log'),
        persist: false,
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(opts.nodeTimeoutMs ?? 1000),
          // Replicas take their first full copy at once instead of after the 5 s default pause.
          '--repl-diskless-sync-delay',
          '0',
        ],
      })
      nodes.push({ port, redis })
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    )
    await waitUntil(
      'redis cluster ok',
      async () => {
        for (const n of nodes) {
          const info = await cli(n.port, 'CLUSTER', 'INFO').catch(() => '')
          if (!info.includes('cluster_state:ok')) return false
        }
        // Every replica is known to the cluster and has finished its first sync: a replica
        // that never synced cannot be promoted when its master dies.
        const out = await cli(nodes[0]!.port, 'CLUSTER', 'NODES')
        if (out.split('\n').filter((l) => l.includes('slave')).length !== masters * replicas) return false
        for (const n of nodes) {
          const repl = await cli(n.port, 'INFO', 'replication').catch(() => '')
          if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) return false
        }
        return true
      },
      30_000,
    )
  } catch (err) {
    await stop()
    throw err
  }

  const dead = new Set<number>()
  const anyLive = () => nodes.find((n) => !dead.has(n.port))!.port

  /** Port of the live master that serves `key`'s slot, per a live node's view; null if none does. */
  const servingMaster = async (key: string, viewFrom = anyLive()) => {
    const slot = Number((await cli(viewFrom, 'CLUSTER', 'KEYSLOT', key)).trim())
    for (const line of (await cli(viewFrom, 'CLUSTER', 'NODES')).split('\n')) {
      const f = line.split(' ')
      if (!f[2]?.includes('master') || f[2].includes('fail')) continue
      for (const range of f.slice(8)) {
        const [a, b = a] = range.split('-').map(Number)
        if (slot >= a! && slot <= b!) return Number(f[1]!.split('@')[0]!.split(':')[1])
      }
    }
    return null
  }

  return {
    nodes,
    spec: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async masterOf(key) {
      const port = await servingMaster(key)
      if (port === null) throw new Error(`no master serves ${key}`)
      return port
    },
    cli,
    async kill(port) {
      dead.add(port)
      const node = nodes.find((n) => n.port === port)!
      process.kill(node.redis.pid, 'SIGKILL')
      await node.redis.exited
    },
    async waitForFailover(key, timeoutMs = 30_000) {
      let heir = 0
      await waitUntil(
        'redis cluster failover',
        async () => {
          for (const n of nodes) {
            if (dead.has(n.port)) continue
            const info = await cli(n.port, 'CLUSTER', 'INFO').catch(() => '')
            if (!info.includes('cluster_state:ok')) return false
          }
          const port = await servingMaster(key).catch(() => null)
          if (port === null || dead.has(port)) return false
          heir = port
          return true
        },
        timeoutMs,
      )
      return heir
    },
    stop,
  }
}
