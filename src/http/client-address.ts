/**
 * @module http/client-address — the one place the client's address is decided, for every use
 * (rate limits, audit rows, session lists, viewer identities, WebSocket caps).
 *
 * The client is the right-most untrusted hop: start at the TCP peer and walk `X-Forwarded-For`
 * from its right end, skipping hops listed in TRUSTED_PROXIES. Only a trusted hop's header is
 * read at all, so a header a client wrote is believed by nobody: a client talking to the app
 * directly is judged by its socket, and whatever it put in front of a trusted proxy's own entry
 * is never reached, because that entry (the proxy's view of its peer) is untrusted and ends the
 * walk. `X-Real-IP` is never read: nginx computes it, but one header is enough to trust.
 */

import { isIP } from 'node:net'
import type { Context } from 'hono'
import { createIpAllowlist } from '../lib/ip-allowlist.js'

/** What is recorded when no address can be determined (app.request() without a socket). */
export const UNKNOWN_ADDRESS = 'unknown'

export type ClientAddress = (peer: string | undefined, forwardedFor: string | undefined) => string

/** `::ffff:1.2.3.4` (a dual-stack socket's IPv4 peer) → `1.2.3.4`; an invalid entry → undefined. */
export function normalizeAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  let a = raw.trim()
  // RFC 7239-style brackets and a zone id are not addresses we key limits by.
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1)
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7)
  const family = isIP(a)
  if (family === 4) return a
  if (family === 6 && !a.includes('%')) return a.toLowerCase()
  return undefined
}

export function createClientAddress(trustedProxies: readonly string[]): ClientAddress {
  const trusted = createIpAllowlist([...trustedProxies])
  return (peerRaw, forwardedFor) => {
    const peer = normalizeAddress(peerRaw)
    if (!peer) return UNKNOWN_ADDRESS
    if (!trusted(peer) || !forwardedFor) return peer
    const hops = forwardedFor.split(',')
    let client = peer
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i])
      // A trusted proxy wrote every entry we have read so far; an unparseable one means the
      // chain is broken here, so the last hop we could verify is as far as anyone can tell.
      if (!hop) return client
      client = hop
      if (!trusted(hop)) return hop
    }
    // Every hop is a trusted proxy: the farthest one is the best that is known.
    return client
  }
}

/** The TCP peer as @hono/node-server sees it, or undefined (app.request() in tests has none). */
export function peerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}
