/**
 * @module accounts/password-policy — what a new password must not be: one of the 10,000 most
 * common breached passwords (data/common-passwords.txt), or built from the account's own name.
 * Length (8–128) is in schemas.ts. No composition rules and no expiry (NIST 800-63B, ASVS 6.2.5/6.2.10).
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FieldError } from '../http/errors.js'

/** From src/accounts/ and from dist/src/accounts/ alike. */
const CANDIDATES = ['../../data/common-passwords.txt', '../../../data/common-passwords.txt']

let common: Set<string> | undefined

function commonPasswords(): Set<string> {
  if (common) return common
  const file = CANDIDATES.map((p) => fileURLToPath(new URL(p, import.meta.url))).find((p) => existsSync(p))
  // Failing loudly beats silently accepting "password123" because the list went missing.
  if (!file) throw new Error('data/common-passwords.txt not found')
  common = new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  )
  return common
}

/** Case-insensitive: "Password1" is as guessable as "password1". */
export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(password.toLowerCase())
}

export const COMMON_PASSWORD_MESSAGE = 'is too common: it appears in lists of breached passwords'

/**
 * Context-specific words (ASVS 6.2.11): the password may not contain the username or the email's
 * local part (when 4+ characters), nor the product's own name.
 */
const PRODUCT_WORDS = ['livestream', 'live control']

export function contextProblem(password: string, ctx: { username?: string; email?: string }): string | null {
  const p = password.toLowerCase()
  const local = ctx.email?.split('@')[0]
  for (const word of [ctx.username, local]) {
    if (word && word.length >= 4 && p.includes(word.toLowerCase()))
      return 'must not contain your username or email address'
  }
  if (PRODUCT_WORDS.some((w) => p.includes(w))) return 'must not contain the name of this site'
  return null
}

/** Every reason `password` is refused for this account, as field errors on `field`. */
export function passwordProblems(
  password: string,
  ctx: { username?: string; email?: string },
  field = 'password',
): FieldError[] {
  const errors: FieldError[] = []
  if (isCommonPassword(password)) errors.push({ field, message: COMMON_PASSWORD_MESSAGE })
  const c = contextProblem(password, ctx)
  if (c) errors.push({ field, message: c })
  return errors
}
