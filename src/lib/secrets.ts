/** @module lib/secrets — random identifiers and secrets, hashing, constant-time comparison. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** Lower-case letters and digits without look-alikes (Lucia's alphabet): safe in URLs, RTMP paths and by ear. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'

/** `length` characters of 5 bits each from the CSPRNG (32-letter alphabet, so no modulo bias). */
export function randomId(length: number): string {
  return idFromBytes(randomBytes(length), length)
}

/** The same encoding over bytes from elsewhere (a KDF): one character per byte, 5 bits each. */
export function idFromBytes(bytes: Uint8Array, length: number): string {
  if (bytes.length < length) throw new RangeError('not enough bytes')
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! & 31]
  return out
}

export const ID_ALPHABET_RE = '[abcdefghijkmnpqrstuvwxyz23456789]'

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** Compares two hex digests without leaking where they differ. */
export function hashesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex')
  const bb = Buffer.from(b, 'hex')
  return ab.length === bb.length && ab.length > 0 && timingSafeEqual(ab, bb)
}

export function compareSecret(given: string, expected: string): boolean {
  // Hash both sides first so lengths match and timingSafeEqual never throws.
  return hashesEqual(sha256Hex(given), sha256Hex(expected))
}
