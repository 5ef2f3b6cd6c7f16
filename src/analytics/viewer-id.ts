/**
 * @module analytics/viewer-id — who a viewer is, without keeping who they are. A viewer is a salted
 * hash of (address, user agent), or of our page's viewer cookie when the request carries one. The
 * salt is random per UTC day and shared by every instance through Redis; once a day's salt expires
 * (3 days), nobody — us included — can link that day's ids back to an address.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'

const DAY_MS = 86_400_000
const SALT_TTL_S = 3 * 86_400

/** The UTC day of a moment, `yyyy-mm-dd`: salts rotate at UTC midnight, whatever the server's zone. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * A viewer id: 96 bits of SHA-256 (collisions negligible at any audience size). `c…` ids come from
 * the page's cookie, `a…` from address + user agent; the prefix says where a view was watched.
 */
export function viewerId(
  salt: string,
  hit: { addr: string; userAgent: string; cookie: string | null },
): string {
  const h = createHash('sha256').update(salt)
  if (hit.cookie) return `c${h.update('\0c\0').update(hit.cookie).digest('base64url').slice(0, 16)}`
  return `a${h.update('\0a\0').update(hit.addr).update('\0').update(hit.userAgent).digest('base64url').slice(0, 16)}`
}

export const isPageViewer = (id: string) => id.startsWith('c')

export type Salts = {
  /** The salt of `ms`'s UTC day, if loaded (today's and tomorrow's are kept loaded by refresh()). */
  get(ms: number): string | undefined
  /** Loads (creating if first) the salts of the days around now. */
  refresh(): Promise<void>
}

/**
 * Salts from Redis: the first instance to need a day's salt creates it (SET NX), every other one
 * reads that one, so all instances give a viewer the same id on the same day.
 */
export function createSalts(deps: { redis: Redis; keys: Keys; now: () => number }): Salts {
  const cache = new Map<string, string>()
  const load = async (day: string) => {
    const key = deps.keys.analyticsSalt(day)
    await deps.redis.set(key, randomBytes(32).toString('base64url'), 'EX', SALT_TTL_S, 'NX')
    const salt = await deps.redis.get(key)
    if (!salt) throw new Error(`analytics: salt for ${day} vanished`)
    cache.set(day, salt)
  }
  return {
    get: (ms) => cache.get(utcDay(ms)),
    async refresh() {
      const now = deps.now()
      // Yesterday too: a line sent just before midnight may arrive just after it.
      const days = [now - DAY_MS, now, now + DAY_MS].map(utcDay)
      await Promise.all(days.filter((d) => !cache.has(d)).map(load))
      for (const d of cache.keys()) if (!days.includes(d)) cache.delete(d)
    },
  }
}
