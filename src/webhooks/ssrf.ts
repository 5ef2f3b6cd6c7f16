/**
 * @module webhooks/ssrf — which webhook targets the app may call. A webhook URL is chosen by a
 * user and called by our servers, so it must not reach inside our network: only http(s), no
 * credentials in the URL, and only global unicast addresses — no loopback, private (RFC 1918,
 * unique-local), link-local (cloud metadata 169.254.169.254), CGNAT, multicast, reserved or
 * IPv4-embedding IPv6 ranges — unless WEBHOOK_ALLOW_PRIVATE (development, tests).
 *
 * The check runs twice: when the URL is saved (a clear error for the user) and inside the HTTP
 * request's own `lookup` at connect time, which connects to exactly the address it checked. A DNS
 * name that answers a public address when saved and 127.0.0.1 later (DNS rebinding) is refused
 * at that second check and never connected to.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { AppError } from '../http/errors.js'

export type ResolvedAddress = { address: string; family: number }
/** Every address a host name resolves to (injectable so tests can play a rebinding DNS server). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

export class UrlNotAllowedError extends AppError {
  constructor(detail: string) {
    super('URL_NOT_ALLOWED', detail)
  }
}

/** Global unicast only; IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 it carries. */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false
  return ipaddr.process(ip).range() === 'unicast'
}

/** The URL's form: http(s), a host, no user:password (it would be sent and logged along). */
export function checkUrlShape(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UrlNotAllowedError('not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlNotAllowedError('only http and https URLs can receive webhooks')
  }
  if (url.username || url.password) throw new UrlNotAllowedError('credentials in the URL are not allowed')
  if (!url.hostname) throw new UrlNotAllowedError('the URL has no host')
  return url
}

/** The host without IPv6 brackets, as net.connect and DNS want it. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

/**
 * Resolves the host and refuses it unless every address is public (one private answer among
 * public ones would let a round-robin reach inside). Returns the addresses.
 */
export async function checkHost(
  host: string,
  opts: { resolve: Resolver; allowPrivate: boolean },
): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[]
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }]
  else {
    try {
      addresses = await opts.resolve(host)
    } catch {
      throw new UrlNotAllowedError(`the host ${host} does not resolve`)
    }
    if (addresses.length === 0) throw new UrlNotAllowedError(`the host ${host} does not resolve`)
  }
  if (!opts.allowPrivate) {
    const bad = addresses.find((a) => !isPublicAddress(a.address))
    if (bad) {
      const kind = ipaddr.isValid(bad.address) ? ipaddr.process(bad.address).range() : 'invalid'
      const what = bad.address === host ? host : `${host} resolves to ${bad.address}, which`
      throw new UrlNotAllowedError(`${what} is a ${kind} address; webhooks only go to public addresses`)
    }
  }
  return addresses
}

/** The full check when a URL is saved: shape, then DNS. */
export async function checkWebhookUrl(
  raw: string,
  opts: { resolve: Resolver; allowPrivate: boolean },
): Promise<URL> {
  const url = checkUrlShape(raw)
  await checkHost(bareHost(url), opts)
  return url
}

/**
 * A `lookup` for http.request: resolves, checks, and hands net.connect only checked addresses.
 * (An IP literal never reaches a lookup function: the sender checks those itself.)
 */
export function guardedLookup(opts: { resolve: Resolver; allowPrivate: boolean }): LookupFunction {
  return (hostname, options, callback) => {
    checkHost(hostname, opts).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0
        const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses
        if (usable.length === 0) {
          callback(
            Object.assign(new Error(`no IPv${wanted} address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            0,
          )
        } else if (options.all) callback(null, usable)
        else callback(null, usable[0]!.address, usable[0]!.family)
      },
      (err: Error) => callback(Object.assign(err, { code: 'EADDRNOTALLOWED' }), '', 0),
    )
  }
}
