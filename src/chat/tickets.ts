/**
 * @module chat/tickets — single-use WebSocket tickets. Browsers cannot put an Authorization
 * header on a WebSocket, so a signed-in client trades its access token for a short-lived opaque
 * ticket (POST /api/v1/chat/tickets) and passes it as `?ticket=`. Only the ticket's SHA-256 is
 * stored, and GETDEL makes the first use the only one, on whichever instance it lands.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Deps } from '../deps.js'

export type TicketClaims = { userId: string; sid: string }

const TICKET_RE = /^[A-Za-z0-9_-]{43}$/

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('base64url')

export async function issueTicket(deps: Pick<Deps, 'redis' | 'keys' | 'config'>, claims: TicketClaims) {
  const ticket = randomBytes(32).toString('base64url')
  const ttlS = deps.config.CHAT_TICKET_TTL_S
  await deps.redis.set(deps.keys.chatTicket(hashOf(ticket)), JSON.stringify(claims), 'PX', ttlS * 1000)
  return { ticket, expiresIn: ttlS }
}

/** The ticket's claims, or null when it is malformed, unknown, expired or already used. */
export async function redeemTicket(
  deps: Pick<Deps, 'redis' | 'keys'>,
  ticket: string,
): Promise<TicketClaims | null> {
  if (!TICKET_RE.test(ticket)) return null
  const raw = await deps.redis.getdel(deps.keys.chatTicket(hashOf(ticket)))
  if (!raw) return null
  let claims: Partial<TicketClaims> | null
  try {
    claims = JSON.parse(raw) as Partial<TicketClaims> | null
  } catch {
    return null // not ours: refuse like an unknown ticket, never crash the upgrade
  }
  return typeof claims?.userId === 'string' && typeof claims.sid === 'string'
    ? (claims as TicketClaims)
    : null
}
