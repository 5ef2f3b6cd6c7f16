/**
 * @module accounts/limits — the anti-automation policy of the auth endpoints (ASVS 6.1.1, 6.3.1).
 *
 * Login failures are limited three ways:
 *  - per account and client IP: exponential backoff after 5 failures in a row (15 s doubling to
 *    15 min) — one attacker guessing one password slows down fast, while the owner on another
 *    network is not locked out by them;
 *  - per account over all IPs: at most 100 failures per hour — caps distributed guessing;
 *  - per IP over all accounts: at most 30 failures per 10 minutes — caps password spraying.
 * Accounts are keyed by a hash of the normalised email whether or not the account exists, so a
 * limit never tells an attacker which addresses are registered.
 */
import type { Deps } from '../deps.js'
import { RateLimitedError } from '../http/errors.js'
import { sha256Hex } from '../lib/secrets.js'
import { type BackoffPolicy, createRateLimiter, enforce, type Limit } from '../rate-limit/limiter.js'

const MIN = 60_000
const HOUR = 60 * MIN

export const LOGIN_BACKOFF: BackoffPolicy = {
  name: 'login',
  freeFailures: 5,
  baseMs: 15_000,
  maxMs: 15 * MIN,
  forgetAfterMs: HOUR,
}

export const LIMITS = {
  loginFailuresPerAccount: { name: 'login-fail-acct', max: 100, windowMs: HOUR },
  loginFailuresPerIp: { name: 'login-fail-ip', max: 30, windowMs: 10 * MIN },
  registerPerIp: { name: 'register-ip', max: 10, windowMs: HOUR },
  availabilityPerIp: { name: 'availability-ip', max: 60, windowMs: MIN },
  /** Mail-sending endpoints: protect inboxes and our sender reputation. */
  resendShort: { name: 'resend-verify-1m', max: 1, windowMs: MIN },
  resendLong: { name: 'resend-verify-1d', max: 5, windowMs: 24 * HOUR },
  forgotPerIp: { name: 'forgot-ip', max: 10, windowMs: HOUR },
  forgotPerEmail: { name: 'forgot-email', max: 3, windowMs: HOUR },
  passwordChangeFailures: { name: 'pw-change-fail', max: 10, windowMs: HOUR },
} satisfies Record<string, Limit>

type LimitDeps = Pick<Deps, 'redis' | 'keys' | 'now'>

/** Never put an address in a Redis key. */
export const emailKey = (email: string) => sha256Hex(email).slice(0, 32)

export type LoginGuard = {
  /** Counts the failure everywhere; returns true when it started a lockout (audit it). */
  failed(): Promise<boolean>
  succeeded(): Promise<void>
}

/**
 * Admits a login attempt or throws RateLimitedError. The attempt holds a slot in the account and
 * IP windows while the password is checked (so concurrent guesses cannot overshoot the caps) and
 * gives it back when the password was right.
 */
export async function guardLogin(deps: LimitDeps, email: string, ip: string): Promise<LoginGuard> {
  const rl = createRateLimiter(deps)
  const acct = emailKey(email)
  const pair = `${acct}:${ip}`
  const lockedMs = await rl.lockedFor(LOGIN_BACKOFF, pair)
  if (lockedMs > 0) throw new RateLimitedError(lockedMs / 1000, 'too many failed logins, try again later')
  const perIp = await enforce(rl, LIMITS.loginFailuresPerIp, ip)
  const perAccount = await rl.consume(LIMITS.loginFailuresPerAccount, acct)
  if (!perAccount.ok) {
    await perIp.refund()
    throw new RateLimitedError(
      perAccount.retryAfterMs / 1000,
      'too many failed logins for this account, try again later',
    )
  }
  return {
    async failed() {
      const { lockMs } = await rl.fail(LOGIN_BACKOFF, pair)
      return lockMs > 0 || perAccount.remaining === 0
    },
    async succeeded() {
      await Promise.all([perIp.refund(), perAccount.refund(), rl.succeed(LOGIN_BACKOFF, pair)])
    },
  }
}

/** Wrong current passwords on password change: 10 an hour per user; a right one is not counted. */
export async function guardPasswordCheck(
  deps: LimitDeps,
  userId: string,
): Promise<{ succeeded(): Promise<void> }> {
  const admitted = await enforce(createRateLimiter(deps), LIMITS.passwordChangeFailures, userId)
  return { succeeded: () => admitted.refund() }
}

export async function limitOrThrow(deps: LimitDeps, limit: Limit, id: string): Promise<void> {
  await enforce(createRateLimiter(deps), limit, id)
}

/** For silent limits (forgot password: the answer must stay 202 either way). */
export async function withinLimit(deps: LimitDeps, limit: Limit, id: string): Promise<boolean> {
  return (await createRateLimiter(deps).consume(limit, id)).ok
}
