/** @module http/middleware/security-headers — headers every response carries. */
import { secureHeaders } from 'hono/secure-headers'

/**
 * Where pages may connect (fetch, XHR, WebSocket): our own origins and nothing else, so injected
 * script cannot ship data to a socket of its choosing. 'self' alone is not enough for WebSockets:
 * CSP 3 lets it match ws:/wss: on the same host, but older browsers (Safari before 15.4) do not,
 * so each origin is also listed in its ws(s) form.
 */
export function connectSources(origins: readonly string[]): string[] {
  const out = new Set<string>(["'self'"])
  for (const o of origins) {
    const url = new URL(o)
    out.add(url.origin)
    out.add(`${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`)
  }
  return [...out]
}

export const securityHeaders = (opts: {
  https: boolean
  publicUrl: string
  allowedOrigins: readonly string[]
}) =>
  secureHeaders({
    strictTransportSecurity: opts.https ? 'max-age=31536000; includeSubDomains' : false,
    xFrameOptions: 'DENY',
    referrerPolicy: 'strict-origin-when-cross-origin',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      mediaSrc: ["'self'", 'blob:'],
      connectSrc: connectSources([opts.publicUrl, ...opts.allowedOrigins]),
      workerSrc: ["'self'", 'blob:'],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
    },
  })
