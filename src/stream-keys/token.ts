/**
 * @module stream-keys/token — the stream key format: `live_<id>_<secret>`.
 * The id (60 bits) finds the row; the secret (160 bits) is only ever stored as sha256.
 * Both use a lower-case, URL-safe alphabet because the key travels in the RTMP URL.
 */
import { ID_ALPHABET_RE, randomId, sha256Hex } from '../lib/secrets.js'

const ID_LEN = 12
const SECRET_LEN = 32
const KEY_RE = new RegExp(`^live_(${ID_ALPHABET_RE}{${ID_LEN}})_(${ID_ALPHABET_RE}{${SECRET_LEN}})$`)

export type GeneratedKey = { id: string; key: string; secretHash: string; preview: string }

export function generateStreamKey(): GeneratedKey {
  const id = randomId(ID_LEN)
  const secret = randomId(SECRET_LEN)
  return { id, key: `live_${id}_${secret}`, secretHash: sha256Hex(secret), preview: previewOf(id, secret) }
}

/** Enough to recognise a key in a list, not enough to use it (4 of 32 secret characters). */
export function previewOf(id: string, secret: string): string {
  return `live_${id}_…${secret.slice(-4)}`
}

/** Parses a presented key; anything that is not exactly the format is rejected before any lookup. */
export function parseStreamKey(value: string): { id: string; secret: string } | null {
  const m = KEY_RE.exec(value)
  return m ? { id: m[1]!, secret: m[2]! } : null
}
