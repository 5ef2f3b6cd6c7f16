/**
 * @module chat/admission — who may open one more WebSocket: at most WS_MAX_PER_IP per client
 * address across ALL instances, and WS_MAX_CONNECTIONS on this instance.
 *
 * The per-address count lives in Redis (`ws:ip:{<addr>}`, a sorted set: member = connection id,
 * score = expiry ms), shaped like presence: every instance re-adds its own live sockets on the
 * presence heartbeat, so a crashed instance's entries age out within one TTL and never lock an
 * address out for good. Admission is one Lua script (expire, count, add), so concurrent
 * handshakes from one address cannot overshoot. Since every viewer entry is a socket, an address
 * can add at most its cap to any channel's viewer count.
 */
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createScript } from '../redis/script.js'

/** KEYS: zset · ARGV: now, expiry, max, member, keyTtlMs → {1, n} admitted, {0, n} full. */
const ADMIT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then return {0, n} end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {1, n + 1}
`

export type Admission =
  | { ok: true }
  | { ok: false; reason: 'address'; retryAfterS: number }
  | { ok: false; reason: 'instance' }

export interface SocketAdmission {
  /** Reserves a slot for `connId` from `addr`; release it when the socket (or handshake) ends. */
  admit(addr: string, connId: string): Promise<Admission>
  /** Idempotent. */
  release(connId: string): void
  /** Re-adds this instance's sockets with a fresh expiry (the presence heartbeat calls it). */
  refresh(): Promise<void>
  /** Sockets (and handshakes in progress) this instance holds. */
  readonly size: number
}

const CHUNK = 1000

export function createSocketAdmission(opts: {
  redis: Redis
  keys: Keys
  maxPerAddress: number
  maxConnections: number
  ttlMs: number
  now: () => number
  onError?: (err: unknown) => void
}): SocketAdmission {
  const { redis, keys, ttlMs, now } = opts
  const admitScript = createScript(redis, ADMIT)
  const held = new Map<string, string>() // connId → addr
  // A refused address is told to come back once a heartbeat could have aged out a dead
  // instance's entries; a live neighbour's sockets free slots only when they close.
  const retryAfterS = Math.max(1, Math.ceil(ttlMs / 3000))

  return {
    get size() {
      return held.size
    },
    async admit(addr, connId) {
      if (held.size >= opts.maxConnections) return { ok: false, reason: 'instance' }
      // Counted before the await so that a burst of handshakes cannot all pass the check above.
      held.set(connId, addr)
      try {
        const t = now()
        const [ok] = (await admitScript(
          [keys.socketsOfAddress(addr)],
          [t, t + ttlMs, opts.maxPerAddress, connId, ttlMs * 2],
        )) as [number, number]
        if (ok === 1) return { ok: true }
      } catch (err) {
        held.delete(connId)
        throw err
      }
      held.delete(connId)
      return { ok: false, reason: 'address', retryAfterS }
    },
    release(connId) {
      const addr = held.get(connId)
      if (addr === undefined) return
      held.delete(connId)
      redis.zrem(keys.socketsOfAddress(addr), connId).catch((err) => opts.onError?.(err))
    },
    async refresh() {
      if (held.size === 0) return
      const byAddr = new Map<string, string[]>()
      for (const [id, addr] of held) {
        const ids = byAddr.get(addr)
        if (ids) ids.push(id)
        else byAddr.set(addr, [id])
      }
      const t = now()
      // Each address is its own slot on a Cluster: a pipeline per address, sent at once.
      await Promise.all(
        [...byAddr].map(([addr, ids]) => {
          const key = keys.socketsOfAddress(addr)
          const p = redis.pipeline()
          for (let i = 0; i < ids.length; i += CHUNK) {
            const args: (string | number)[] = []
            for (const id of ids.slice(i, i + CHUNK)) args.push(t + ttlMs, id)
            p.zadd(key, ...args)
          }
          p.zremrangebyscore(key, '-inf', t)
          p.pexpire(key, ttlMs * 2)
          return p.exec()
        }),
      )
    },
  }
}
