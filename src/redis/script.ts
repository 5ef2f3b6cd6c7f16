/**
 * @module redis/script — a Lua script called by its SHA1 (EVALSHA), falling back to EVAL when the
 * server does not have it cached yet (first call, restart, SCRIPT FLUSH). Hooks and WebSocket
 * paths call these on every event, so the script body is not resent each time.
 */
import { createHash } from 'node:crypto'
import type { Redis } from './client.js'

export type Script = (keys: string[], args: (string | number)[]) => Promise<unknown>

/** SHA1 per script body, computed once however often a script is bound to a connection. */
const shas = new Map<string, string>()

export function createScript(redis: Redis, lua: string): Script {
  const sha = shas.get(lua) ?? createHash('sha1').update(lua).digest('hex')
  shas.set(lua, sha)
  return async (keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err
      return redis.eval(lua, keys.length, ...keys, ...args)
    }
  }
}
