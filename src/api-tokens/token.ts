/**
 * @module api-tokens/token — the personal access token format: `lvp_` + 32 random bytes, base64url.
 * The prefix lets secret scanners (GitHub, gitleaks) recognise a leaked token; the rest is the secret.
 */
import { randomBytes } from 'node:crypto'
import { sha256Hex } from '../lib/secrets.js'

export const TOKEN_PREFIX = 'lvp_'
const TOKEN_RE = /^lvp_[A-Za-z0-9_-]{43}$/

export type GeneratedToken = { token: string; tokenHash: string; preview: string }

export function generateApiToken(): GeneratedToken {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
  return { token, tokenHash: hashApiToken(token), preview: `${TOKEN_PREFIX}…${token.slice(-4)}` }
}

/**
 * sha256, not argon2: the token carries 256 random bits, so there is no dictionary to guess from
 * and a fast hash is exactly as safe as a slow one — while a slow hash on every API request would
 * make each call cost ~50 ms of CPU. (Passwords are different: low entropy, slow hash.)
 */
export function hashApiToken(token: string): string {
  return sha256Hex(token)
}

export function looksLikeApiToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX)
}

export function isWellFormedApiToken(value: string): boolean {
  return TOKEN_RE.test(value)
}
